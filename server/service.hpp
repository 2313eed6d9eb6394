// The clinic service's requests and answers, without any network: a request
// (method, path, query, body) in, a response (status, JSON body) out. The
// HTTP layer (http.cpp) only moves bytes to and from this, so every answer
// the API gives is tested here without a socket, and the same answers are
// served whatever HTTP library carries them.
//
// It plans with one rule set, loaded once and shared by every request
// (the program is immutable); a store, when given, records plans and
// clinicians' decisions, one append at a time.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/ruleset.hpp"

namespace iptplan::server {

struct request {
  std::string method;  // GET, POST, ...
  std::string path;    // without the query
  std::map<std::string, std::string> query;
  std::string content_type;
  std::string body;
};

struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class service {
 public:
  // `store`: where plans are recorded (an SQLite file); empty: recording
  // is refused.
  service(rule_set rs, std::vector<rule_set_file> files, std::string store);

  response handle(const request& r);

  const rule_set& rules() const { return rs_; }

  // --require-approved: once the rule set's review date has passed (it
  // can pass while the server runs), plans with the current rules are
  // refused (503, api.review-overdue) until the rule set is reviewed,
  // approved again and the server restarted. Without it, the first plan
  // of each day past the date logs a warning.
  void require_current_review(bool on) { require_current_review_ = on; }

 private:
  rule_set rs_;
  std::vector<rule_set_file> files_;
  std::string store_;
  std::string vocabulary_json_;  // built once
  std::mutex store_mutex_;       // one append at a time
  bool require_current_review_ = false;
  std::mutex warned_mutex_;
  std::string warned_on_;  // the day the overdue review was last logged

  // Refused (or logged) when the rule set's review date has passed; see
  // require_current_review.
  std::optional<response> review_overdue();

  response vocabulary() const;
  response plan(const request& r);
  response why(const request& r);
  response why_recorded(std::int64_t id, const std::string& item);
  // `recorded`: the findings are a stored plan's: unknown keys read as
  // warnings (as replay reads them), and findings that no longer read are
  // a conflict (409), not a bad request.
  response explain(const rule_set& rs, const std::string& findings, bool json_findings,
                   const std::string& item, bool recorded = false) const;
  response findings(const request& r) const;
  response asset(const std::string& path) const;
  response get_plan(std::int64_t id);
  response review(std::int64_t id, const request& r);

  // CDS Hooks 2.0 (cds_hooks.cpp).
  response cds_discovery() const;
  response cds_call(const request& r);
  response cds_feedback(const request& r);
  // What a card (or one of its suggestions) stands for, for feedback: the
  // plan record and the item. Kept for the last kMaxCards cards.
  struct card_ref {
    std::int64_t record = 0;
    std::string item, by;
    std::string of;  // a suggestion's card (its item); "" for a card
  };
  static constexpr std::size_t kMaxCards = 100000;
  std::mutex cards_mutex_;
  // The rule set of the last snapshot a recorded plan was explained with:
  // loading one costs more than explaining.
  std::mutex snapshot_mutex_;
  std::string snapshot_sha_;
  std::shared_ptr<const rule_set> snapshot_rules_;
  // The rule set kept for snapshot `sha`, or nullptr.
  std::shared_ptr<const rule_set> cached_snapshot(const std::string& sha);
  std::unordered_map<std::string, card_ref> cards_;
  std::deque<std::string> card_order_;
  void remember_card(const std::string& uuid, card_ref ref);
  std::optional<card_ref> find_card(const std::string& uuid, const card_ref* card);
};

// The hook iptplan's CDS service answers, and the service's id.
inline constexpr const char* kCdsHook = "ipt-inventory";
inline constexpr const char* kCdsServiceId = "iptplan";

// Whether `path` is one of the web page's files: served to anyone who can
// connect (they hold no data), without the bearer token the API needs.
bool is_public_asset(const std::string& method, const std::string& path);

// A JSON error response: {"errors": [{"code", "message"}]}.
response error_response(int status, const std::string& code, const std::string& message);

}  // namespace iptplan::server

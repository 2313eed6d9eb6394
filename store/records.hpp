// The bodies of records: what a plan record and a review record hold, as
// canonical JSON, and the summary of clinicians' decisions per rule.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/store.hpp"

namespace iptplan::store {

struct plan_facts {
  std::string program_version;
  std::string rule_set_name, rule_set_version, rule_set_sha256;
  // The snapshot's key: the hash of every file stored, approval.toml
  // included (the rule set's hash leaves it out).
  std::string snapshot;
  std::map<std::string, std::string> rule_hashes;  // rule id -> sha256 of its text
  std::string findings;                            // the findings file's bytes
  std::string findings_sha256;
  std::string plan_json;                           // the plan as `plan --format json` writes it
  std::string client_id;                           // pseudonymous, as in the plan
};
std::string plan_body(const plan_facts& p);
// The string at a JSON pointer of `j` ("/provenance/findings/sha256"), or ""
// when there is none or it is not a string: a record or plan file of the
// wrong shape is read as missing parts, never as an exception.
std::string string_at(const nlohmann::json& j, const char* pointer);
// Reads a plan record's body back; throws store_error if it is not one.
plan_facts read_plan_body(const std::string& body);
// The same from a body already parsed.
plan_facts read_plan_body(const nlohmann::json& body);

// What `audit list` shows of a plan record, read with simdjson (a list of
// 10,000 plans parsed some 2 GB of JSON with nlohmann): none when the body
// is not a plan record.
struct plan_heading {
  std::string client_id, rule_set_name, rule_set_version, rule_set_sha256;
  std::size_t items = 0;  // distinct item ids, provisional ones included
  // The rule set's status when the plan was made: approved (by whom, on
  // which day), draft or retired; "" when the plan does not say.
  std::string status, approved_by, approved_on;
};
std::optional<plan_heading> read_plan_heading(const std::string& body);

struct decision {
  std::string item;    // full item id: role_dispute[partner]
  std::string action;  // accept | reject | edit
  std::string reason;  // for reject and edit
  std::string text;    // edit: the clinician's text
  std::string original_text;
  std::vector<std::pair<std::string, std::string>> rules;  // rule id, sha256 behind the item
};
struct review_facts {
  std::int64_t plan_id = 0;
  std::string plan_hash;  // the plan record's hash
  std::vector<decision> decisions;
};

// The reviews of plan `plan_id`, in record order, read without any plan's
// body (plan_store::scan_kind), each checked with record_problem (one whose
// body cannot be read may be a review of it, and is checked too): none,
// with `problem` saying why, when one does not verify. What `audit show`
// and `GET /api/plans/ID` list with a plan.
struct plan_review {
  record rec;
  review_facts facts;
};
std::optional<std::vector<plan_review>> reviews_of(plan_store& s, std::int64_t plan_id, std::string& problem);
std::string review_body(const review_facts& r);
review_facts read_review_body(const std::string& body);

// For each rule, how its items fared in clinicians' reviews.
struct rule_overrides {
  std::string rule;
  int accepted = 0, edited = 0, rejected = 0;
  std::vector<std::string> reasons;  // "rejected: ...", "edited: ...", in record order
  // The same, as data: each edit or rejection that gave a reason.
  struct reasoned {
    std::string action, item;  // action: edit | reject
    std::int64_t plan = 0;
    std::string by, date, reason;
    std::int64_t record = 0;   // the review record that holds the decision
    std::string rule_sha256;   // the text of the rule it was about
  };
  std::vector<reasoned> reasoned_decisions;
  std::vector<std::string> hashes;   // the rule texts (sha256) the decisions were about
};
// From the records created at or after `since` (ISO 8601 prefix; "" = all);
// a later review of the same plan item replaces an earlier one.
std::vector<rule_overrides> overrides(const std::vector<record>& records, const std::string& since);

}  // namespace iptplan::store

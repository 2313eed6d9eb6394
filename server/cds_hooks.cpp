// CDS Hooks 2.0: an EHR asks for decision support with the client's
// findings in the hook's context; iptplan answers with one card per flag and
// challenge of the draft plan, and records what the clinician did with each
// card (feedback) as decisions on the recorded plan.
//
// The hook is iptplan's own, `ipt-inventory` (no hook of the standard
// catalogue carries an inventory): context.findings holds the findings as a
// JSON object (as a .json findings file) or a TOML text. The patient's id,
// when the EHR sends one, is neither stored nor logged.
#include <openssl/evp.h>

#include <cctype>
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "engine/render/json_writer.hpp"
#include "engine/render/render.hpp"
#include "server/internal.hpp"
#include "store/recording.hpp"
#include "store/plan_compare.hpp"
#include "store/records.hpp"

namespace iptplan::server {

using nlohmann::json;
using namespace detail;

namespace detail {

constexpr std::size_t kMaxSummary = 139;  // CDS Hooks 2.0: "<140-character"

// A card's uuid, the same for the same plan and item. For a recorded plan
// (record > 0) it is a version-8 UUID whose first 48 bits are the record's
// id, so that feedback finds its plan in the store however long ago, and
// after a restart: the rest is the hash of the plan's record hash and the
// item, checked against the recorded plan.
std::string card_uuid(const std::string& name, std::int64_t record) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(name.data(), name.size(), d, &n, EVP_sha256(), nullptr);
  if (record > 0) {
    for (int i = 0; i < 6; ++i) d[i] = static_cast<unsigned char>((record >> (8 * (5 - i))) & 0xff);
    d[6] = static_cast<unsigned char>((d[6] & 0x0f) | 0x80);
  } else {
    d[6] = static_cast<unsigned char>((d[6] & 0x0f) | 0x50);
  }
  d[8] = static_cast<unsigned char>((d[8] & 0x3f) | 0x80);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += hex[d[i] >> 4];
    out += hex[d[i] & 15];
  }
  return out;
}

// At most kMaxSummary characters (code points), cut at a whole one.
std::string summary_of(const std::string& text) {
  std::size_t points = 0;
  for (unsigned char c : text) points += (c & 0xc0) != 0x80;
  if (points <= kMaxSummary) return text;
  // The first kMaxSummary - 1 code points, and the ellipsis.
  std::size_t count = 0, i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xc0) == 0x80) continue;
    if (count == kMaxSummary - 1) break;
    ++count;
  }
  return text.substr(0, i) + "\u2026";
}

}  // namespace detail

namespace {

const char* kOverrideSystem = "urn:iptplan:override-reason";

// The reasons a clinician can give for not following a card.
const json& override_reasons() {
  static const json reasons = json::array({
      {{"code", "not-applicable"}, {"system", kOverrideSystem}, {"display", "Does not fit this client"}},
      {{"code", "already-addressed"}, {"system", kOverrideSystem}, {"display", "Already addressed"}},
      {{"code", "client-declines"}, {"system", kOverrideSystem}, {"display", "The client declines"}},
      {{"code", "clinical-judgement"}, {"system", kOverrideSystem}, {"display", "Clinical judgement"}},
  });
  return reasons;
}


// "2026-11-28T14:05:00Z", "2026-11-28T14:05:00.123+01:00": an ISO 8601
// instant with a date, a time and a zone.
bool is_instant(const std::string& s) {
  auto digits = [&](std::size_t at, std::size_t n) {
    if (at + n > s.size()) return false;
    for (std::size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
  };
  if (s.size() > 40 || !digits(0, 4) || s[4] != '-' || !digits(5, 2) || s[7] != '-' || !digits(8, 2) ||
      s.size() < 20 || s[10] != 'T' || !digits(11, 2) || s[13] != ':' || !digits(14, 2) || s[16] != ':' ||
      !digits(17, 2)) {
    return false;
  }
  // A real moment of the calendar: month 1-12, a day the month has, an hour
  // 0-23, minutes 0-59, seconds 0-60 (a leap second).
  auto num = [&](std::size_t at, std::size_t n) { return std::stoi(s.substr(at, n)); };
  int year = num(0, 4), month = num(5, 2), day = num(8, 2);
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month < 1 || month > 12 || day < 1 || day > days[month - 1] + (month == 2 && leap ? 1 : 0) ||
      num(11, 2) > 23 || num(14, 2) > 59 || num(17, 2) > 60) {
    return false;
  }
  std::size_t at = 19;
  if (at < s.size() && s[at] == '.') {
    std::size_t n = 0;
    while (digits(at + 1 + n, 1)) ++n;
    if (n == 0) return false;
    at += 1 + n;
  }
  if (at < s.size() && s[at] == 'Z') return at + 1 == s.size();
  return at + 6 == s.size() && (s[at] == '+' || s[at] == '-') && digits(at + 1, 2) && s[at + 3] == ':' &&
         digits(at + 4, 2) && num(at + 1, 2) <= 23 && num(at + 4, 2) <= 59;
}

// The record id a version-8 card uuid carries (0 for any other text).
std::int64_t record_of_uuid(const std::string& uuid) {
  if (uuid.size() != 36) return 0;
  std::string hex;
  for (std::size_t i = 0; i < uuid.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (uuid[i] == '-')) return 0;
    if (!dash) {
      if (!std::isxdigit(static_cast<unsigned char>(uuid[i]))) return 0;
      hex += static_cast<char>(std::tolower(static_cast<unsigned char>(uuid[i])));
    }
  }
  if (hex[12] != '8') return 0;
  return static_cast<std::int64_t>(std::stoll(hex.substr(0, 12), nullptr, 16));
}

std::string indicator_of(const plan_item& it) {
  if (it.kind == item_kind::flag && !it.provisional) {
    if (it.severity == "critical") return "critical";
    if (it.severity == "warning") return "warning";
  }
  return "info";
}

// A condition's source text on one line: its line breaks and indentation
// are layout, which a card's markdown would otherwise show as escapes.
std::string one_line(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// The why, in markdown: each proposing rule's reason, the conditions that
// held with the values seen, and what would confirm a provisional item.
std::string detail_of(const plan_item& it) {
  std::string out;
  if (it.provisional) out += "**To confirm** (proposed on partial findings).\n\n";
  out += "**Why**\n\n";
  for (const auto& r : it.because) {
    out += "- Rule `" + r.rule.id + "` (" + markdown_escape(r.rule.file) + ":" + std::to_string(r.rule.line) + ")";
    if (!r.element.empty()) out += " for " + markdown_escape(r.element);
    out += ": " + markdown_escape(printable(r.because.empty() ? r.rule.title : r.because)) + "\n";
    for (std::size_t i = 0; i < r.evidence.size(); ++i) {
      // The top level only: a group (an `or` inside the `and`) is shown by
      // its source text, which holds its parts, with the values they saw.
      const auto& e = r.evidence[i];
      if (e.result != "true" || e.depth > 0) continue;
      out += "  - " + markdown_escape(printable(one_line(e.condition)));
      std::string seen;
      for (std::size_t j = i; j < r.evidence.size() && (j == i || r.evidence[j].depth > e.depth); ++j) {
        for (const auto& [path, value] : r.evidence[j].values) {
          seen += (seen.empty() ? "" : ", ") + markdown_escape(path) + " = " + markdown_escape(printable(value));
        }
      }
      if (!seen.empty()) out += " (" + seen + ")";
      out += "\n";
    }
    if (!r.rule.source.empty()) out += "  - Source: " + markdown_escape(printable(r.rule.source)) + "\n";
  }
  if (!it.to_confirm.empty()) {
    out += "\n**Would confirm or rule it out:** ";
    for (std::size_t i = 0; i < it.to_confirm.size(); ++i) out += (i ? ", " : "") + markdown_escape(it.to_confirm[i]);
    out += "\n";
  }
  out += "\n*A draft for the clinician's review, not a decision.*";
  return out;
}

std::string source_label(const plan_item& it) {
  std::string label = "iptplan";
  if (!it.because.empty()) {
    const auto& r = it.because.front().rule;
    label += ": rule " + r.id + " (" + r.file + ":" + std::to_string(r.line) + ")";
    if (!r.source.empty()) label += "; " + printable(r.source);
    if (it.because.size() > 1) label += "; and " + std::to_string(it.because.size() - 1) + " more";
  }
  return label;
}

}  // namespace

void service::remember_card(const std::string& uuid, card_ref ref) {
  std::lock_guard<std::mutex> lock(cards_mutex_);
  if (cards_.insert_or_assign(uuid, std::move(ref)).second) card_order_.push_back(uuid);
  while (card_order_.size() > kMaxCards) {
    cards_.erase(card_order_.front());
    card_order_.pop_front();
  }
}

// A card (or, with `card` given, one of its suggestions) by its uuid: from
// the cards given lately, or else from the store, where the uuid names the
// plan's record and is checked against every item of the recorded plan.
std::optional<service::card_ref> service::find_card(const std::string& given, const card_ref* card) {
  std::string uuid = given;  // uuids compare without regard to case
  for (auto& c : uuid) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  {
    std::lock_guard<std::mutex> lock(cards_mutex_);
    if (auto it = cards_.find(uuid); it != cards_.end()) {
      // A suggestion is accepted with its own card only, never another's
      // (nor a card taken for a suggestion, or the other way round).
      const card_ref& ref = it->second;
      bool fits = card ? ref.record == card->record && ref.of == card->item : ref.of.empty();
      return fits ? std::optional<card_ref>(ref) : std::nullopt;
    }
  }
  std::int64_t id = record_of_uuid(uuid);
  if (id <= 0 || store_.empty()) return std::nullopt;
  std::optional<store::record> rec;
  {
    std::lock_guard<std::mutex> lock(store_mutex_);
    rec = store::open_store(store_, false)->get(id);  // a store_error is the caller's 503
  }
  if (!rec || rec->kind != "plan") return std::nullopt;
  auto f = store::read_plan_body(rec->body);
  auto items = store::items_of(json::parse(f.plan_json, nullptr, false));
  for (const auto& item : items.order) {
    // A suggestion only among the card's own: the solutions and goals for it.
    if (card) {
      const json& it = items.by_id.at(item);
      const json* for_ = it.contains("for") ? &it["for"] : nullptr;
      bool of_card = item == card->item ||  // a goal's card suggests the goal itself
                     (for_ && for_->is_array() && std::find(for_->begin(), for_->end(), json(card->item)) != for_->end());
      if (!of_card) continue;
    }
    std::string name = card ? rec->hash + "\n" + card->item + "\n" + item : rec->hash + "\n" + item;
    if (card_uuid(name, id) == uuid) {
      card_ref ref{id, item, rec->by, card ? card->item : std::string()};
      remember_card(uuid, ref);
      return ref;
    }
  }
  return std::nullopt;
}

response service::cds_discovery() const {
  json svc = {{"hook", kCdsHook},
              {"id", kCdsServiceId},
              {"title", "iptplan: draft IPT treatment plan"},
              {"description",
               "Flags (risk first) and challenges of a draft Interpersonal Psychotherapy plan from the "
               "client's interpersonal inventory, each with its reasons, and solutions and goals as "
               "suggestions. context.findings: the findings as a JSON object or a TOML text (docs/api.md)."},
              {"usageRequirements", "Findings as in docs/findings.md of rule set " + rs_.info.name + " " +
                                        rs_.info.version + "; no identifying data."}};
  return json_response(200, {{"services", json::array({svc})}});
}

response service::cds_call(const request& r) {
  auto parsed = jsonout::parse_strictly(r.body);
  auto bad = [](const std::string& message) { return error_response(400, "cds.request", message); };
  if (!parsed || !parsed->is_object()) {
    return bad("the body must be a CDS Hooks request: a JSON object, each key once");
  }
  const json& body = *parsed;
  if (!body.contains("hook") || !body["hook"].is_string() || body["hook"] != kCdsHook) {
    return bad(std::string("'hook' must be \"") + kCdsHook + "\"");
  }
  if (!body.contains("hookInstance") || !body["hookInstance"].is_string()) return bad("'hookInstance' is required");
  if (!body.contains("context") || !body["context"].is_object()) return bad("'context' must be an object");
  const json& ctx = body["context"];
  if (!ctx.contains("findings")) return bad("'context.findings' is required: the client's findings");
  std::string by = "cds-hooks";
  if (ctx.contains("userId")) {
    if (!ctx["userId"].is_string()) return bad("'context.userId' must be a text");
    by = ctx["userId"].get<std::string>();
    if (auto problem = store::author_problem(by); !problem.empty()) {
      return bad("'context.userId' cannot name the record's author: " + problem);
    }
  }
  // The patient, only as the subject of the FHIR Goals the cards propose
  // (a Goal must have one): never stored or logged.
  std::string patient;
  if (ctx.contains("patientId")) {
    if (!ctx["patientId"].is_string()) return bad("'context.patientId' must be a text");
    patient = ctx["patientId"].get<std::string>();
    bool id_like = !patient.empty() && patient.size() <= 64;
    for (char c : patient) {
      id_like = id_like && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.');
    }
    if (!id_like) return bad("'context.patientId' must be a FHIR id (letters, digits, '-' and '.', at most 64)");
  }
  std::string findings;
  bool as_json = false;
  if (ctx["findings"].is_object()) {
    findings = ctx["findings"].dump();
    as_json = true;
  } else if (ctx["findings"].is_string()) {
    findings = ctx["findings"].get<std::string>();
  } else {
    return bad("'context.findings' must be an object (JSON findings) or a text (TOML findings)");
  }
  auto pr = plan_findings(rs_, findings, as_json);
  if (!pr.p) {
    // Positions are in the findings read, not in the request body: an
    // object is read from its own re-serialised copy, whose lines and
    // columns point nowhere in the body (the message names the finding);
    // a TOML text's are its own lines.
    for (auto& d : pr.diags) {
      d.file = as_json ? "context.findings" : "context.findings (TOML text)";
      if (as_json) d.line = d.column = 0;
      d.source_line.clear();
    }
    return diagnostics_response(400, pr.diags);
  }
  const iptplan::plan& p = *pr.p;

  // With a store, the plan behind the cards is recorded: feedback on them
  // becomes decisions on it, and an auditor sees what was shown.
  std::int64_t record = 0;
  std::string plan_key = p.prov.rule_set_sha256 + "\n" + p.prov.findings_sha256;
  if (!store_.empty()) {
    try {
      std::lock_guard<std::mutex> lock(store_mutex_);
      auto s = store::open_store(store_, false);  // created at start: never a new chain
      auto rec = store::record_plan(*s, by, rs_, files_, p, findings);
      record = rec.id;
      plan_key = rec.hash;
      spdlog::info("recorded plan {} for a CDS Hooks request", rec.id);
    } catch (const store::store_error& e) {
      spdlog::error("the store failed: {}", printable(e.what()));
      return error_response(503, "api.store", "the plan could not be recorded: the store failed (see the server's log)");
    }
  }

  // Flags, then the first steps (the safety plan: a goal for the plan as
  // a whole, which no flag's suggestions would carry), challenges, then
  // the other goals and solutions for the plan as a whole (the schedule
  // among them): every item of the plan reaches the EHR on some card.
  std::vector<const plan_item*> shown;
  // A goal or solution is on a card of its own when no card carries it: it
  // is for the plan as a whole, or for challenges not in the plan (a
  // response target for a depression challenge a severer one replaced).
  std::set<std::string> carded;
  for (const auto* part : {&p.flags, &p.challenges, &p.provisional}) {
    for (const auto& it : *part) {
      if (it.kind == item_kind::flag || it.kind == item_kind::challenge) carded.insert(it.full_id());
    }
  }
  auto plan_wide = [&](const plan_item& it) {
    return (it.kind == item_kind::goal || it.kind == item_kind::solution) &&
           std::none_of(it.for_.begin(), it.for_.end(), [&](const std::string& f) { return carded.count(f) > 0; });
  };
  for (const auto& it : p.flags) shown.push_back(&it);
  for (const auto& it : p.provisional) {
    if (it.kind == item_kind::flag) shown.push_back(&it);
  }
  for (const auto* part : {&p.goals, &p.solutions}) {
    for (const auto& it : *part) {
      if (plan_wide(it) && is_first_step(it)) shown.push_back(&it);
    }
  }
  for (const auto& it : p.challenges) shown.push_back(&it);
  for (const auto& it : p.provisional) {
    if (it.kind == item_kind::challenge) shown.push_back(&it);
  }
  for (const auto* part : {&p.goals, &p.solutions}) {
    for (const auto& it : *part) {
      if (plan_wide(it) && !is_first_step(it)) shown.push_back(&it);
    }
  }
  for (const auto& it : p.provisional) {
    if (plan_wide(it)) shown.push_back(&it);
  }
  // A FHIR Goal needs its subject: without a patient, a goal is suggested
  // without a resource to create (one without a subject is not valid R4).
  auto goal_action = [&](const plan_item& g) {
    if (patient.empty()) return json::array();
    json resource = {{"resourceType", "Goal"},
                     {"lifecycleStatus", "proposed"},
                     {"description", {{"text", printable(g.text)}}},
                     {"subject", {{"reference", "Patient/" + patient}}}};
    return json::array({{{"type", "create"}, {"description", "Propose the goal: " + printable(g.text)}, {"resource", resource}}});
  };
  auto prefix_of = [](const plan_item& it) {
    return std::string(it.kind == item_kind::goal ? "Goal: " : it.kind == item_kind::solution ? "Solution: " : "");
  };
  json cards = json::array();
  for (const plan_item* it : shown) {
    std::string id = it->full_id();
    std::string uuid = card_uuid(plan_key + "\n" + id, record);
    json card = {{"uuid", uuid},
                 {"summary", summary_of((it->provisional ? "To confirm: " : "") + prefix_of(*it) + printable(it->text))},
                 {"indicator", indicator_of(*it)},
                 {"detail", detail_of(*it)},
                 {"source", {{"label", source_label(*it)},
                             {"topic", {{"system", "urn:iptplan:item"}, {"code", it->id},
                                        {"display", summary_of(prefix_of(*it) + printable(it->text))}}}}},
                 {"overrideReasons", override_reasons()}};
    if (record) remember_card(uuid, {record, id, by, ""});
    json suggestions = json::array();
    // A goal's own card (a goal for the plan as a whole) proposes it as a
    // FHIR Goal: its one suggestion is the goal itself.
    if (it->kind == item_kind::goal) {
      std::string suuid = card_uuid(plan_key + "\n" + id + "\n" + id, record);
      json own = {{"label", summary_of("Goal: " + printable(it->text))}, {"uuid", suuid}, {"isRecommended", false}};
      if (json a = goal_action(*it); !a.empty()) own["actions"] = std::move(a);
      suggestions.push_back(std::move(own));
      if (record) remember_card(suuid, {record, id, by, id});
    }
    for (const auto* part : {&p.solutions, &p.goals, &p.provisional}) {
      for (const auto& s : *part) {
        if (s.kind != item_kind::solution && s.kind != item_kind::goal) continue;
        if (std::find(s.for_.begin(), s.for_.end(), id) == s.for_.end()) continue;
        std::string sid = s.full_id();
        std::string suuid = card_uuid(plan_key + "\n" + id + "\n" + sid, record);
        json sug = {{"label", summary_of((s.kind == item_kind::goal ? "Goal: " : "Solution: ") + printable(s.text))},
                    {"uuid", suuid},
                    {"isRecommended", false}};
        if (json a = s.kind == item_kind::goal ? goal_action(s) : json::array(); !a.empty()) sug["actions"] = std::move(a);
        suggestions.push_back(std::move(sug));
        if (record) remember_card(suuid, {record, sid, by, id});
      }
    }
    if (!suggestions.empty()) {
      card["suggestions"] = std::move(suggestions);
      card["selectionBehavior"] = "any";
    }
    cards.push_back(std::move(card));
  }
  return json_response(200, {{"cards", cards}});
}

response service::cds_feedback(const request& r) {
  if (store_.empty()) {
    return error_response(409, "api.no-store", "this server keeps no store: feedback is recorded only with --store");
  }
  auto parsed = jsonout::parse_strictly(r.body);
  auto bad = [](const std::string& message) { return error_response(400, "cds.feedback", message); };
  if (!parsed || !parsed->is_object() || !parsed->contains("feedback") || !(*parsed)["feedback"].is_array()) {
    return bad("the body must be {\"feedback\": [...]}");
  }
  // Every entry is checked before anything is recorded.
  struct pending {
    std::int64_t record;
    std::string by;
    store::review_request req;
  };
  const json& body = *parsed;
  for (const auto& [key, v] : body.items()) {
    if (key != "feedback") return bad("the body holds '" + printable(key.substr(0, 40)) + "'; it holds only 'feedback'");
  }
  std::vector<pending> reviews;
  // Each card once in one body: accepted and overridden both would record
  // two decisions that contradict each other.
  std::set<std::string> cards_seen;
  try {
    for (const auto& f : body["feedback"]) {
      if (!f.is_object() || !f.contains("card") || !f["card"].is_string() || !f.contains("outcome") ||
          !f["outcome"].is_string()) {
        return bad("each feedback entry needs 'card' (a card's uuid) and 'outcome' (accepted or overridden)");
      }
      // CDS Hooks 2.0: when the outcome happened, an ISO 8601 instant
      // (checked, not stored: the review record has its own time).
      if (!f.contains("outcomeTimestamp") || !f["outcomeTimestamp"].is_string() ||
          !is_instant(f["outcomeTimestamp"].get<std::string>())) {
        return bad("each feedback entry needs 'outcomeTimestamp', when the outcome happened, as an ISO 8601 "
                   "instant (2026-11-28T14:05:00Z)");
      }
      auto found = find_card(f["card"].get<std::string>(), nullptr);
      if (!found) {
        return error_response(404, "cds.unknown-card", "no card with that uuid was given by this server");
      }
      if (!cards_seen.insert(f["card"].get<std::string>()).second) {
        return bad("a card has two feedback entries in one body; give one outcome a card");
      }
      card_ref card = *found;
      pending pd{card.record, card.by, {}};
      std::string outcome = f["outcome"].get<std::string>();
      if (outcome == "accepted") {
        pd.req.accept.push_back(card.item);
        if (f.contains("acceptedSuggestions")) {
          if (!f["acceptedSuggestions"].is_array()) return bad("'acceptedSuggestions' must be a list of {\"id\"}");
          for (const auto& s : f["acceptedSuggestions"]) {
            if (!s.is_object() || !s.contains("id") || !s["id"].is_string()) {
              return bad("'acceptedSuggestions' must be a list of {\"id\"}");
            }
            auto sug = find_card(s["id"].get<std::string>(), &card);
            if (!sug || sug->record != card.record) {
              return error_response(404, "cds.unknown-card", "an accepted suggestion is not one of this card's");
            }
            if (std::find(pd.req.accept.begin(), pd.req.accept.end(), sug->item) == pd.req.accept.end()) {
              pd.req.accept.push_back(sug->item);
            }
          }
        }
      } else if (outcome == "overridden") {
        if (f.contains("acceptedSuggestions")) {
          return bad("an overridden card has no accepted suggestions: its outcome is accepted, or it has none");
        }
        pd.req.reject.push_back(card.item);
        std::string reason;
        if (f.contains("overrideReason")) {
          if (!f["overrideReason"].is_object()) return bad("'overrideReason' must be an object");
          const json& o = f["overrideReason"];
          if (o.contains("reason")) {
            // One of the card's overrideReasons, by its code; the reason
            // recorded is the card's own wording, never text sent in its
            // place.
            const json& c = o["reason"];
            const json* chosen = nullptr;
            if (c.is_object() && c.contains("code") && c["code"].is_string()) {
              for (const auto& r : override_reasons()) {
                if (r["code"] == c["code"] && (!c.contains("system") || c["system"] == r["system"])) chosen = &r;
              }
            }
            if (!chosen) {
              return bad("'overrideReason.reason' must be one of the card's overrideReasons (a code: "
                         "not-applicable, already-addressed, client-declines or clinical-judgement)");
            }
            reason = (*chosen)["display"].get<std::string>();
          }
          if (o.contains("userComment") && o["userComment"].is_string()) {
            std::string comment = o["userComment"].get<std::string>();
            // A comment alone says where the decision came from: "x" typed
            // in an EHR is recorded as such, never as a reason on its own.
            if (!comment.empty()) reason += (reason.empty() ? "overridden in the EHR: " : ": ") + comment;
          }
        }
        if (reason.empty()) reason = "overridden in the EHR (no reason given)";
        if (auto problem = store::text_problem(reason, 2000); !problem.empty()) return bad("the override reason " + problem);
        pd.req.reason = reason;
      } else {
        return bad("'outcome' must be accepted or overridden");
      }
      reviews.push_back(std::move(pd));
    }
  } catch (const store::store_error& e) {
    spdlog::error("the store failed: {}", printable(e.what()));
    return error_response(503, "api.store", "the feedback could not be checked: the store failed (see the server's log)");
  }
  try {
    std::lock_guard<std::mutex> lock(store_mutex_);
    auto s = store::open_store(store_, false);
    std::vector<std::pair<store::review_facts, const pending*>> built;
    for (const auto& pd : reviews) {
      auto rec = s->get(pd.record);
      if (!rec || rec->kind != "plan") return error_response(404, "cds.unknown-card", "the card's plan is not in the store");
      store::review_facts rv;
      std::vector<std::string> errors;
      if (!store::make_review(*rec, pd.req, rv, errors)) return bad(errors.front());
      built.push_back({std::move(rv), &pd});
    }
    for (const auto& [rv, pd] : built) {
      auto out = s->append("review", store::now_utc(), pd->by, store::review_body(rv));
      spdlog::info("recorded review {} of plan {} from CDS Hooks feedback", out.id, pd->record);
    }
  } catch (const store::store_error& e) {
    spdlog::error("the store failed: {}", printable(e.what()));
    return error_response(503, "api.store", "the feedback could not be recorded: the store failed (see the server's log)");
  }
  return json_response(200, json::object());
}

}  // namespace iptplan::server

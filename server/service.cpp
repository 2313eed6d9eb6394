#include "server/service.hpp"
#include "server/internal.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "engine/findings_text.hpp"
#include "engine/evaluator.hpp"
#include "engine/findings.hpp"
#include "engine/plan.hpp"
#include "engine/render/json_writer.hpp"
#include "engine/render/render.hpp"
#include "fhir/fhir.hpp"
#include "store/plan_compare.hpp"
#include "store/recording.hpp"
#include "store/store.hpp"
#include "store/records.hpp"

namespace iptplan::server {

using nlohmann::json;

namespace detail {

constexpr std::size_t kMaxNameLength = 100;

json finding_json(const finding_decl& d) {
  json j;
  j["path"] = d.path;
  j["type"] = to_string(d.type);
  if (!d.question.empty()) j["question"] = d.question;
  if (!d.component.empty()) j["component"] = d.component;
  if (d.min) j["min"] = *d.min;
  if (d.max) j["max"] = *d.max;
  if (!d.values.empty()) j["values"] = d.values;
  if (!d.labels.empty()) {
    json labels = json::object();
    for (const auto& [value, label] : d.labels) labels[value] = label;
    j["labels"] = std::move(labels);
  }
  if (d.type == finding_type::list) j["of"] = to_string(d.element);
  if (!d.pattern.empty()) j["pattern"] = d.pattern;
  if (!d.key.empty()) j["key"] = d.key;
  if (!d.asked_if.empty()) j["asked_if"] = {{"finding", d.asked_if}, {"values", d.asked_if_values}};
  if (!d.skipped_value.empty()) j["skipped_value"] = d.skipped_value;
  if (!d.asked_after.empty()) j["asked_after"] = d.asked_after;
  if (!d.asked_unless.empty()) j["asked_unless"] = d.asked_unless;
  if (!d.refers_to.empty()) j["refers_to"] = d.refers_to;
  if (!d.at_most.empty()) j["at_most"] = d.at_most;
  if (!d.at_most_unless.empty()) {
    j["at_most_unless"] = d.at_most_unless;
    j["at_most_unless_values"] = d.at_most_unless_values;
  }
  if (d.clinician) j["asked_of"] = "clinician";
  j["expected"] = d.expectation();
  if (d.type == finding_type::table_list) {
    json fields = json::array();
    for (const auto* f : vocabulary::in_file_order(d.fields)) fields.push_back(finding_json(*f));
    j["fields"] = std::move(fields);
  }
  return j;
}

response json_response(int status, const json& j) {
  response r;
  r.status = status;
  r.body = jsonout::dump(j);
  return r;
}

response diagnostics_response(int status, const std::vector<diagnostic>& given) {
  // In the CLI's order: by place in the findings.
  std::vector<diagnostic> diags = given;
  sort_diagnostics(diags);
  // As the CLI: the first 50 of each in full, the rest counted, so an
  // answer's size never follows the number of mistakes in a body.
  constexpr std::size_t kListed = 50;
  json errors = json::array(), warnings = json::array();
  std::size_t more_errors = 0, more_warnings = 0;
  for (const auto& d : diags) {
    more_errors += d.more_errors;
    more_warnings += d.more_warnings;
    json& list = d.level == severity::error ? errors : warnings;
    if (list.size() >= kListed) {
      ++(d.level == severity::error ? more_errors : more_warnings);
      continue;
    }
    diagnostic shown = d;
    shown.source_line.clear();  // never a line of the findings
    shown.more_errors = shown.more_warnings = 0;
    list.push_back(jsonout::to_json(shown));
  }
  json out = {{"errors", errors}, {"warnings", warnings}};
  if (more_errors + more_warnings > 0) out["not_listed"] = {{"errors", more_errors}, {"warnings", more_warnings}};
  return json_response(status, out);
}

// A name for the record (`by`): as the CLI's --by.
std::string name_problem(const std::string& by) {
  if (by.empty()) return "'by' is required: who makes this record";
  if (auto bad = store::author_problem(by); !bad.empty()) return "'by': " + bad;
  return "";
}


bool is_json(const std::string& content_type) {
  std::string t = content_type;
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t.rfind("application/json", 0) == 0 || t.rfind("application/fhir+json", 0) == 0;
}

planned_request plan_findings(const rule_set& rs, const std::string& body, bool json_body, bool allow_unknown) {
  planned_request out;
  findings_options options = kRequestOptions;
  options.allow_unknown = allow_unknown;
  if (json_body) {
    out.client = fhir::read_json_findings(*rs.prog, kBodyName, body, options, out.diags);
  } else {
    out.client = read_findings(*rs.prog, kBodyName, body, options, out.diags);
  }
  if (!out.client) return out;
  out.ev = evaluate(*rs.prog, *out.client, true);
  out.p = build_plan(rs, *out.client, out.ev, findings_sha256(body));
  add_findings_diagnostics(*out.p, out.diags);
  return out;
}

std::optional<std::int64_t> parse_id(const std::string& s) {
  // One URL a plan: "01" is not plan 1.
  if (s.empty() || s.size() > 18 || s[0] == '0') return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < 1) return std::nullopt;
  return v;
}

}  // namespace detail

using namespace detail;

response error_response(int status, const std::string& code, const std::string& message) {
  return json_response(status, {{"errors", json::array({{{"code", code}, {"message", message}}})},
                                {"warnings", json::array()}});
}

service::service(rule_set rs, std::vector<rule_set_file> files, std::string store)
    : rs_(std::move(rs)), files_(std::move(files)), store_(std::move(store)) {
  // Created now, so that reading it never meets a store that is not there
  // (throws store_error when it cannot be).
  if (!store_.empty()) store::open_store(store_, true);
  json findings = json::array();
  for (const auto* d : rs_.prog->vocab->in_file_order()) findings.push_back(finding_json(*d));
  vocabulary_json_ = jsonout::dump({{"rule_set",
                                     {{"name", rs_.info.name},
                                      {"version", rs_.info.version},
                                      {"sha256", rs_.sha256},
                                      {"status", rs_.status}}},
                                    {"findings", std::move(findings)}});
}

std::optional<response> service::review_overdue() {
  const std::string& due = rs_.info.review_date;
  if (due.empty()) return std::nullopt;
  const std::string today = today_utc();
  if (due >= today) return std::nullopt;
  if (require_current_review_) {
    return error_response(503, "api.review-overdue",
                          "the rule set's review date " + due +
                              " has passed: this server (--require-approved) plans only with a rule set whose review "
                              "is not overdue; review it, set the next review date, approve it and restart the server");
  }
  std::lock_guard<std::mutex> lock(warned_mutex_);
  if (warned_on_ != today) {
    warned_on_ = today;
    spdlog::warn("the rule set's review date {} has passed: a clinical lead should review it", due);
  }
  return std::nullopt;
}

response service::handle(const request& r) {
  const std::string& p = r.path;
  // Every route that plans with the current rules (not a recorded plan's).
  const bool plans_now = r.method == "POST" && (p == "/api/plan" || p == "/api/why" ||
                                                p == std::string("/cds-services/") + kCdsServiceId);
  if (plans_now) {
    if (auto refused = review_overdue()) return *refused;
  }
  // A query parameter the endpoint does not take is refused, never
  // ignored: a misspelt `recrod=1` would otherwise plan without recording.
  if (!is_public_asset(r.method, p)) {
    std::vector<std::string> takes;
    if (p == "/api/plan") takes = {"record", "by", "format"};
    else if (p == "/api/why") takes = {"item", "plan"};
    for (const auto& [k, v] : r.query) {
      if (std::find(takes.begin(), takes.end(), k) != takes.end()) continue;
      std::string near = nearest_name(k, takes);
      std::string list;
      for (std::size_t i = 0; i < takes.size(); ++i) list += (i ? ", " : "") + takes[i];
      return error_response(400, "api.request",
                            "this endpoint takes no query parameter " +
                                quoted_if_name(k, "(not shown: it does not look like a parameter's name)") +
                                (takes.empty() ? std::string(": it takes none") : "; it takes " + list) +
                                (near.empty() ? "" : " (did you mean '" + near + "'?)"));
    }
  }
  auto only = [&](const char* method) -> std::optional<response> {
    if (r.method == method) return std::nullopt;
    response res = error_response(405, "api.method", r.method + " is not allowed on " + p + "; use " + method);
    res.headers.push_back({"Allow", method});
    return res;
  };
  if (p == "/api/vocabulary") {
    if (auto bad = only("GET")) return *bad;
    return vocabulary();
  }
  if (p == "/api/plan") {
    if (auto bad = only("POST")) return *bad;
    return plan(r);
  }
  if (p == "/api/findings") {
    if (auto bad = only("POST")) return *bad;
    return findings(r);
  }
  if (is_public_asset("GET", p)) {
    if (auto bad = only("GET")) return *bad;
    return asset(p);
  }
  if (p == "/api/why") {
    // GET explains an item of a recorded plan; POST one of the findings sent.
    if (r.method != "GET" && r.method != "POST") {
      response res = error_response(405, "api.method", r.method + " is not allowed on " + p + "; use GET or POST");
      res.headers.push_back({"Allow", "GET, POST"});
      return res;
    }
    return why(r);
  }
  if (p == "/cds-services") {
    if (auto bad = only("GET")) return *bad;
    return cds_discovery();
  }
  if (p == std::string("/cds-services/") + kCdsServiceId) {
    if (auto bad = only("POST")) return *bad;
    return cds_call(r);
  }
  if (p == std::string("/cds-services/") + kCdsServiceId + "/feedback") {
    if (auto bad = only("POST")) return *bad;
    return cds_feedback(r);
  }
  const std::string prefix = "/api/plans/";
  if (p.rfind(prefix, 0) == 0) {
    std::string rest = p.substr(prefix.size());
    bool is_review = false;
    if (rest.size() > 7 && rest.compare(rest.size() - 7, 7, "/review") == 0) {
      rest.resize(rest.size() - 7);
      is_review = true;
    }
    auto id = parse_id(rest);
    if (!id) return error_response(404, "api.not-found", "no such plan: a plan id is a whole number from 1");
    if (is_review) {
      if (auto bad = only("POST")) return *bad;
      return review(*id, r);
    }
    if (auto bad = only("GET")) return *bad;
    return get_plan(*id);
  }
  return error_response(404, "api.not-found", "no such endpoint; see docs/api.md");
}

response service::vocabulary() const {
  response res;
  res.body = vocabulary_json_;
  return res;
}

response service::plan(const request& r) {
  auto record = r.query.find("record");
  bool recording = false;
  if (record != r.query.end()) {
    if (record->second == "1" || record->second == "true") recording = true;
    else if (record->second != "0" && record->second != "false") {
      return error_response(400, "api.record", "record is 1 or true (record the plan), or 0 or false");
    }
  }
  if (record == r.query.end() && r.query.count("by")) {
    return error_response(400, "api.by", "'by' names who records a plan: it goes with record=1");
  }
  std::string by;
  if (recording) {
    if (store_.empty()) {
      return error_response(409, "api.no-store", "this server keeps no store: start it with --store to record plans");
    }
    auto b = r.query.find("by");
    by = b == r.query.end() ? "" : b->second;
    if (auto problem = name_problem(by); !problem.empty()) return error_response(400, "api.by", problem);
  }
  auto pr = plan_findings(rs_, r.body, is_json(r.content_type));
  if (!pr.p) return diagnostics_response(400, pr.diags);
  auto format = r.query.find("format");
  if (format != r.query.end() && format->second != "json") {
    if (recording) return error_response(400, "api.format", "a recorded plan is answered as JSON");
    response res;
    if (format->second == "markdown") {
      res.content_type = "text/markdown; charset=utf-8";
      res.body = render_markdown(*pr.p);
    } else if (format->second == "text") {
      res.content_type = "text/plain; charset=utf-8";
      res.body = render_text(*pr.p);
    } else {
      return error_response(400, "api.format", "format is json, markdown or text");
    }
    return res;
  }
  std::string plan_json = render_json(*pr.p);
  if (!recording) {
    response res;
    res.body = std::move(plan_json);
    return res;
  }
  try {
    std::lock_guard<std::mutex> lock(store_mutex_);
    // Created at start: a store moved or deleted since is an error (503),
    // never a new chain that starts again at record 1.
    auto s = store::open_store(store_, false);
    auto rec = store::record_plan(*s, by, rs_, files_, *pr.p, r.body);
    spdlog::info("recorded plan {} (hash {})", rec.id, rec.hash);
    response res = json_response(201, {{"record", rec.id}, {"hash", rec.hash}, {"plan", json::parse(plan_json)}});
    res.headers.push_back({"Location", "/api/plans/" + std::to_string(rec.id)});
    return res;
  } catch (const store::store_error& e) {
    spdlog::error("the store failed: {}", printable(e.what()));
    return error_response(503, "api.store", "the plan could not be recorded: the store failed (see the server's log)");
  }
}

// The page's files, embedded at build time from web/ (server/CMakeLists.txt).
std::vector<rule_set_file> web_asset_files();

namespace {

// The page may run its own script and style and talk to this server only.
const char* kPagePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

}  // namespace

bool is_public_asset(const std::string& method, const std::string& path) {
  return method == "GET" && (path == "/" || path == "/index.html" || path == "/app.js" || path == "/app.css" ||
                             path == "/favicon.svg");
}

response service::asset(const std::string& path) const {
  static const std::vector<rule_set_file> files = web_asset_files();
  std::string base = path == "/" ? "index.html" : path.substr(1);
  for (const auto& f : files) {
    if (f.base != base) continue;
    response res;
    res.body = f.text;
    res.content_type = base.ends_with(".html") ? "text/html; charset=utf-8"
                       : base.ends_with(".js")  ? "text/javascript; charset=utf-8"
                       : base.ends_with(".svg") ? "image/svg+xml"
                                                : "text/css; charset=utf-8";
    res.headers.push_back({"Content-Security-Policy", kPagePolicy});
    return res;
  }
  return error_response(404, "api.not-found", "no such file");
}

response service::findings(const request& r) const {
  std::vector<diagnostic> diags;
  std::optional<client_data> c = is_json(r.content_type)
                                     ? fhir::read_json_findings(*rs_.prog, kBodyName, r.body, kRequestOptions, diags)
                                     : read_findings(*rs_.prog, kBodyName, r.body, kRequestOptions, diags);
  if (!c) return diagnostics_response(400, diags);
  json out = fhir::findings_json(*rs_.prog, *c);
  json warnings = json::array();
  for (auto d : diags) {
    d.source_line.clear();
    warnings.push_back(jsonout::to_json(d));
  }
  return json_response(200, {{"findings", out}, {"warnings", warnings}});
}

response service::why(const request& r) {
  auto q = r.query.find("item");
  if (q == r.query.end() || q->second.empty()) {
    return error_response(400, "api.item", "'item' is required: the item (or derived fact) to explain");
  }
  if (r.method == "POST") return explain(rs_, r.body, is_json(r.content_type), q->second);
  auto plan_id = r.query.find("plan");
  if (plan_id == r.query.end()) {
    return error_response(400, "api.plan",
                          "'plan' is required with GET: the id of a recorded plan (or POST the findings)");
  }
  auto id = parse_id(plan_id->second);
  if (!id) return error_response(400, "api.plan", "'plan' is a plan id, a whole number from 1");
  return why_recorded(*id, q->second);
}

// An item of a recorded plan, explained by replaying its recorded findings
// with the rule set it was planned with (its snapshot in the store), as
// `iptplan verify` replays it: the reasons of then, not of today's rules.
response service::why_recorded(std::int64_t id, const std::string& item) {
  if (store_.empty()) return error_response(404, "api.no-store", "this server keeps no store");
  store::plan_facts facts;
  std::optional<std::vector<store::snapshot_file>> snap;
  try {
    std::lock_guard<std::mutex> lock(store_mutex_);
    auto s = store::open_store(store_, false);
    auto rec = s->get(id);
    if (!rec || rec->kind != "plan") return error_response(404, "api.not-found", "no plan record " + std::to_string(id));
    if (store::record_hash(*rec) != rec->hash) {
      return error_response(409, "api.not-verified",
                            "plan record " + std::to_string(id) +
                                " does not verify (its contents do not match its hash): it is not explained; "
                                "run 'iptplan audit verify'");
    }
    facts = store::read_plan_body(rec->body);
    if (facts.rule_set_sha256 != rs_.sha256 && !cached_snapshot(facts.snapshot)) snap = s->snapshot(facts.snapshot);
  } catch (const store::store_error& e) {
    spdlog::error("the store failed: {}", printable(e.what()));
    return error_response(503, "api.store", "the store could not be read (see the server's log)");
  }
  const bool json_findings = findings_are_json("", facts.findings);
  if (facts.rule_set_sha256 == rs_.sha256) return explain(rs_, facts.findings, json_findings, item, true);
  std::shared_ptr<const rule_set> then = cached_snapshot(facts.snapshot);
  if (!then) {
    if (!snap || store::snapshot_hash(*snap) != facts.snapshot) {
      return error_response(409, "api.no-snapshot",
                            "the rule set plan " + std::to_string(id) +
                                " was made with is missing from the store or damaged: it cannot be explained");
    }
    std::vector<rule_set_file> files;
    for (auto& x : *snap) files.push_back({x.base, x.base, std::move(x.text)});
    std::vector<diagnostic> diags;
    auto loaded = load_rule_set(std::move(files), "the recorded rule set", diags);
    if (!loaded) {
      return error_response(409, "api.no-snapshot",
                            "the rule set plan " + std::to_string(id) +
                                " was made with no longer loads: it cannot be explained");
    }
    then = std::make_shared<const rule_set>(std::move(*loaded));
    std::lock_guard<std::mutex> lock(snapshot_mutex_);
    snapshot_sha_ = facts.snapshot;
    snapshot_rules_ = then;
  }
  return explain(*then, facts.findings, json_findings, item, true);
}

std::shared_ptr<const rule_set> service::cached_snapshot(const std::string& sha) {
  std::lock_guard<std::mutex> lock(snapshot_mutex_);
  return snapshot_sha_ == sha ? snapshot_rules_ : nullptr;
}

response service::explain(const rule_set& rs, const std::string& findings, bool json_findings,
                          const std::string& item, bool recorded) const {
  bool fact = rs.prog->fact_index(item) >= 0;
  auto did_you_mean = [](const unknown_query& q) {
    return q.message + (q.suggestion.empty() ? "" : "; did you mean '" + q.suggestion + "'?");
  };
  // A finding of the inventory, as `iptplan why FINDING` answers it.
  const bool finding = !fact && is_finding_query(*rs.prog, item) && rs.prog->rules_proposing(item).empty();
  if (!finding) {
    if (auto unknown = unknown_item(rs, item)) return error_response(404, "api.unknown-item", did_you_mean(*unknown));
  }
  // A recorded plan's findings read unknown keys as warnings, as `iptplan
  // verify` replays them (one recorded with --allow-unknown is explained
  // too); a request's are read strictly.
  auto pr = plan_findings(rs, findings, json_findings, recorded);
  if (!pr.p && recorded) {
    // Findings the recorded rule set no longer reads (a damaged snapshot).
    return error_response(409, "api.replay",
                          "the plan's recorded findings do not read as findings of its rule set: it cannot be "
                          "explained here (iptplan verify ID replays it)");
  }
  if (!pr.p) return diagnostics_response(400, pr.diags);
  response res;
  if (finding) {
    res.body = render_why_finding(*rs.prog, *pr.client, *pr.p, item, true);
    return res;
  }
  if (auto unknown = unknown_key(rs, *pr.client, item)) return error_response(404, "api.unknown-item", did_you_mean(*unknown));
  if (fact) {
    auto fe = explain_fact(rs, *pr.client, pr.ev, item);
    res.body = fe->holds ? render_why_fact_json(item, *fe)
                         : render_why_not_json(rs, *pr.client, pr.ev, *pr.p, item);
    return res;
  }
  auto found = pr.p->find_all(item);
  res.body = found.empty() ? render_why_not_json(rs, *pr.client, pr.ev, *pr.p, item) : render_why_json(item, found);
  return res;
}

response service::get_plan(std::int64_t id) {
  if (store_.empty()) return error_response(404, "api.no-store", "this server keeps no store");
  try {
    std::lock_guard<std::mutex> lock(store_mutex_);
    auto s = store::open_store(store_, false);
    auto rec = s->get(id);
    if (!rec || rec->kind != "plan") return error_response(404, "api.not-found", "no plan record " + std::to_string(id));
    // Every record read verifies, as `iptplan audit show` checks them: the
    // plan (with the records on either side) and each review of it.
    auto not_verified = [](const std::string& why) {
      return error_response(409, "api.not-verified", why + ": it is not shown; run 'iptplan audit verify'");
    };
    if (auto why = store::record_problem(*s, *rec); !why.empty()) return not_verified(why);
    auto facts = store::read_plan_body(rec->body);
    json reviews = json::array();
    // The reviews of this plan, in record order (the reviews alone are
    // read, not every later plan's body), each verified.
    std::string problem;
    auto found = store::reviews_of(*s, id, problem);
    if (!found) return not_verified(problem);
    for (const auto& [x, rv] : *found) {
      json decisions = json::array();
      for (const auto& d : rv.decisions) {
        json dj = {{"item", d.item}, {"action", d.action}};
        if (!d.reason.empty()) dj["reason"] = d.reason;
        if (!d.text.empty()) dj["text"] = d.text;
        decisions.push_back(std::move(dj));
      }
      reviews.push_back({{"record", x.id}, {"created", x.created}, {"by", x.by}, {"decisions", decisions}});
    }
    return json_response(200, {{"record", rec->id},
                               {"created", rec->created},
                               {"by", rec->by},
                               {"hash", rec->hash},
                               {"rule_set", {{"name", facts.rule_set_name},
                                             {"version", facts.rule_set_version},
                                             {"sha256", facts.rule_set_sha256}}},
                               {"plan", json::parse(facts.plan_json)},
                               {"reviews", reviews}});
  } catch (const store::store_error& e) {
    spdlog::error("the store failed: {}", printable(e.what()));
    return error_response(503, "api.store", "the store could not be read (see the server's log)");
  }
}

response service::review(std::int64_t id, const request& r) {
  if (store_.empty()) return error_response(404, "api.no-store", "this server keeps no store");
  auto parsed_body = jsonout::parse_strictly(r.body);
  if (!parsed_body || !parsed_body->is_object()) {
    return error_response(400, "api.json",
                          "the body must be a JSON object, each key once: {\"by\", \"accept\", \"reject\", \"edit\", \"reason\"}");
  }
  const json& body = *parsed_body;
  store::review_request req;
  std::string by;
  std::string problem;
  auto strings = [&](const char* key, std::vector<std::string>& into) {
    if (!body.contains(key)) return;
    const auto& v = body[key];
    if (!v.is_array()) {
      problem = std::string("'") + key + "' must be a list of item ids";
      return;
    }
    for (const auto& x : v) {
      if (!x.is_string()) {
        problem = std::string("'") + key + "' must be a list of item ids";
        return;
      }
      into.push_back(x.get<std::string>());
    }
  };
  for (const auto& [k, v] : body.items()) {
    if (k != "by" && k != "accept" && k != "reject" && k != "edit" && k != "reason") {
      // A key that does not look like one of these names is not repeated:
      // it may be free text (a name).
      static const std::vector<std::string> keys = {"by", "accept", "reject", "edit", "reason"};
      std::string near = nearest_name(k, keys);
      problem = "unknown key " + quoted_if_name(k, "(not shown: it does not look like a key's name)") +
                "; expected by, accept, reject, edit, reason" + (near.empty() ? "" : " (did you mean '" + near + "'?)");
    }
  }
  if (body.contains("by")) {
    if (body["by"].is_string()) by = body["by"].get<std::string>();
    else problem = "'by' must be a text";
  }
  if (body.contains("reason")) {
    if (body["reason"].is_string()) req.reason = body["reason"].get<std::string>();
    else problem = "'reason' must be a text";
  }
  strings("accept", req.accept);
  strings("reject", req.reject);
  if (body.contains("edit")) {
    const auto& e = body["edit"];
    if (!e.is_array()) problem = "'edit' must be a list of {\"item\", \"text\"}";
    else {
      for (const auto& x : e) {
        if (!x.is_object() || x.size() != 2 || !x.contains("item") || !x.contains("text") || !x["item"].is_string() ||
            !x["text"].is_string()) {
          problem = "'edit' must be a list of {\"item\", \"text\"}";
          break;
        }
        req.edit.push_back({x["item"].get<std::string>(), x["text"].get<std::string>()});
      }
    }
  }
  if (problem.empty()) problem = name_problem(by);
  if (problem.empty()) problem = store::review_request_problem(req);
  if (!problem.empty()) return error_response(400, "api.review", problem);
  try {
    std::lock_guard<std::mutex> lock(store_mutex_);
    auto s = store::open_store(store_, false);
    auto rec = s->get(id);
    if (!rec || rec->kind != "plan") return error_response(404, "api.not-found", "no plan record " + std::to_string(id));
    store::review_facts rv;
    std::vector<std::string> errors;
    if (!store::make_review(*rec, req, rv, errors)) {
      // As every list of problems: the first 50, the rest counted.
      constexpr std::size_t kListed = 50;
      json list = json::array();
      for (std::size_t i = 0; i < errors.size() && i < kListed; ++i) {
        list.push_back({{"code", "api.unknown-item"}, {"message", errors[i]}});
      }
      json out = {{"errors", list}, {"warnings", json::array()}};
      if (errors.size() > kListed) out["not_listed"] = {{"errors", errors.size() - kListed}, {"warnings", 0}};
      return json_response(400, out);
    }
    auto out = s->append("review", store::now_utc(), by, store::review_body(rv));
    spdlog::info("recorded review {} of plan {}", out.id, id);
    return json_response(201, {{"record", out.id}, {"hash", out.hash}, {"plan", id}});
  } catch (const store::store_error& e) {
    spdlog::error("the store failed: {}", printable(e.what()));
    return error_response(503, "api.store", "the review could not be recorded: the store failed (see the server's log)");
  }
}

}  // namespace iptplan::server

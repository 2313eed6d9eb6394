#include "cli/store_commands.hpp"

#include "engine/findings_text.hpp"
#include "store/plan_compare.hpp"
#include "store/recording.hpp"

#include <pwd.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "engine/render/render.hpp"
#include "engine/toml_util.hpp"
#include "grammar/diagnostic.hpp"
#include "store/records.hpp"
#include "store/store.hpp"

namespace iptplan::cli {

using nlohmann::json;
using store::change_lines;
using store::compare_plans;
using store::items_of;
using store::text_of;

namespace {

// "approved by NAME on DATE", "draft (not approved)" or "retired", as the
// plan recorded it (the rule set's approval is checked when planning).
std::string approval_line(const json& plan) {
  const json* rs = nullptr;
  if (plan.is_object() && plan.contains("provenance") && plan["provenance"].is_object() &&
      plan["provenance"].contains("rule_set") && plan["provenance"]["rule_set"].is_object()) {
    rs = &plan["provenance"]["rule_set"];
  }
  if (!rs) return "not recorded";
  std::string status = rs->value("status", std::string());
  if (status == "approved" && rs->contains("approved") && (*rs)["approved"].is_object()) {
    const json& a = (*rs)["approved"];
    return "approved by " + printable(a.value("by", std::string())) + " on " + printable(a.value("date", std::string()));
  }
  if (status == "draft") return "draft (not approved)";
  return status.empty() ? "not recorded" : printable(status);
}

std::string rule_list(const std::vector<std::pair<std::string, std::string>>& rules) {
  std::string out;
  for (const auto& [id, sha] : rules) {
    out += (out.empty() ? "" : ", ") + printable(id);
    if (!sha.empty()) out += " (" + printable(sha.substr(0, 12)) + ")";
  }
  return out.empty() ? "(no rule recorded)" : out;
}

std::string decided(const std::string& action) {
  if (action == "accept") return "accepted";
  if (action == "reject") return "rejected";
  if (action == "edit") return "edited";
  return printable(action);
}

// What follows a decision's item in every listing: an edit's new text, the
// reason.
std::string decision_detail(const store::decision& d) {
  std::string out;
  if (d.action == "edit") out += ": \"" + printable(d.text) + "\"";
  if (!d.reason.empty()) out += "; reason: " + printable(d.reason);
  return out;
}

}  // namespace
namespace st = iptplan::store;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// A store as messages name it: a URL without its user and password.
std::string shown(const std::string& location) {
  // Control characters in a file name are shown escaped, never sent raw to
  // the terminal.
  auto scheme = location.find("://");
  if (scheme == std::string::npos) return printable(location);
  auto at = location.find('@', scheme + 3);
  auto slash = location.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return printable(location);
  return printable(location.substr(0, scheme + 3) + location.substr(at + 1));
}

std::string config_path() {
  if (auto p = env("IPTPLAN_CONFIG"); !p.empty()) return p;
  if (auto x = env("XDG_CONFIG_HOME"); !x.empty()) return x + "/iptplan/config.toml";
  if (auto h = env("HOME"); !h.empty()) return h + "/.config/iptplan/config.toml";
  return "";
}

// Opens the store, or says why not (and returns null).
std::unique_ptr<st::plan_store> open(const std::string& location, bool create, std::ostream& err) {
  if (location.empty()) {
    err << "iptplan: error: no store: give --store FILE, set IPTPLAN_STORE, or set [store] path in "
        << (config_path().empty() ? "the configuration file" : printable(config_path())) << "\n";
    return nullptr;
  }
  try {
    return st::open_store(location, create);
  } catch (const st::store_error& e) {
    err << "iptplan: error: " << printable(e.what()) << "\n";
    return nullptr;
  }
}

// Opens the store at `location` and runs `body` on it; a store that cannot
// be opened or read is reported, exit status 1.
template <class F>
int with_store(const std::string& location, std::ostream& err, F&& body) {
  auto s = open(location, false, err);
  if (!s) return kInputError;
  try {
    return body(*s);
  } catch (const st::store_error& e) {
    err << "iptplan: error: " << printable(e.what()) << "\n";
    return kInputError;
  }
}

// Decisions are summed, and added, only on a store whose chain verifies.
bool chain_intact(st::plan_store& s, const std::string& location, std::ostream& err) {
  auto v = st::verify(s);
  if (v.first_bad == 0) return true;
  err << "iptplan: error: " << shown(location) << ": " << v.problem
      << "; nothing is read from or added to a store that does not verify (see 'iptplan audit verify')\n";
  return false;
}

// A command that reads one plan checks the records it reads, in constant
// time (st::record_problem: the record, the ones on either side, its body);
// the whole chain is audit verify's, run on a schedule.
void not_intact(const std::string& why, const std::string& location, std::ostream& err) {
  err << "iptplan: error: " << shown(location) << ": " << why
      << "; nothing is read from or added to a record that does not verify (see 'iptplan audit verify')\n";
}

bool record_intact(st::plan_store& s, const st::record& r, const std::string& location, std::ostream& err) {
  auto why = st::record_problem(s, r);
  if (why.empty()) return true;
  not_intact(why, location, err);
  return false;
}

// The decisions recorded on plan `id`, in the order made, each with its
// review record; each review read is checked (none when one fails, said).
std::optional<std::vector<std::pair<st::record, st::decision>>> decisions_on(st::plan_store& s, std::int64_t id,
                                                                              const std::string& location,
                                                                              std::ostream& err) {
  std::string problem;
  auto reviews = st::reviews_of(s, id, problem);
  if (!reviews) {
    not_intact(problem, location, err);
    return std::nullopt;
  }
  std::vector<std::pair<st::record, st::decision>> out;
  for (const auto& rv : *reviews) {
    for (const auto& d : rv.facts.decisions) out.push_back({rv.rec, d});
  }
  return out;
}

std::string short_hash(const std::string& h) { return h.substr(0, 12); }

// A plan that cannot be replayed at all, and why: exit status 1.
int not_replayed(const std::string& what, const std::string& why, const std::string& fmt, std::ostream& out) {
  if (fmt == "json") {
    out << json{{"what", what}, {"identical", false}, {"problem", why}}.dump(2) << "\n";
  } else {
    out << what << ": not replayed: " << why << "\n";
  }
  return kInputError;
}

// A plan made before comments were left out of the findings hash carries
// the hash of the findings' bytes as they were: that is still the same
// findings, and a replay of it carries the hash it recorded.
void keep_earlier_findings_hash(plan& p, const std::string& recorded, const std::string& findings) {
  if (recorded != p.prov.findings_sha256 && recorded == sha256_hex(findings)) p.prov.findings_sha256 = recorded;
}

// Replays findings against a rule set and compares with a recorded plan.
int replay(const std::string& what, const rule_set& rs, const std::string& findings,
           const std::string& recorded_json, const std::string& recorded_program, const std::string& fmt,
           std::ostream& out, std::ostream& err) {
  json was = json::parse(recorded_json, nullptr, false);
  // Unknown keys read as warnings: a recorded plan either had none or was
  // made with --allow-unknown (strictly they would have stopped it), and
  // the comparison below shows any difference, its warnings included.
  auto pl = plan_text(rs, "the recorded findings", findings, true, err);
  if (!pl) {
    err << "iptplan: error: " << what << ": the findings could not be planned again\n";
    return kInputError;
  }
  if (!was.is_discarded()) {
    keep_earlier_findings_hash(pl->p, st::string_at(was, "/provenance/findings/sha256"), findings);
  }
  std::string now = render_json(pl->p);
  json fresh = json::parse(now);
  bool identical = now == recorded_json;
  std::vector<std::string> diffs;
  json changes = json::array(), other_parts = json::array();
  if (!identical) {
    if (!was.is_discarded()) {
      auto c = compare_plans(was, fresh);
      changes = st::changes_json(c);
      other_parts = c.other_parts;
      diffs = change_lines(c);
    } else {
      diffs = {"  the recorded plan is not JSON"};
    }
    // The same content in other bytes: its layout, or a key given twice
    // (the JSON reader keeps the last). Never "DIFFERENT" with no reason.
    if (diffs.empty()) {
      diffs.push_back("  the recorded file's bytes differ from the replay's, but not in its items or parts: in "
                      "what the comparison does not list (the explanations, an item's findings to confirm), or in "
                      "its layout (re-laid out, a key given twice)");
    }
  }
  std::string program = program_version();
  if (fmt == "json") {
    json j = {{"what", what},
              {"identical", identical},
              {"differences", diffs},
              {"changes", changes},
              {"other_parts", other_parts},
              {"rule_set", {{"name", rs.info.name}, {"version", rs.info.version}, {"sha256", rs.sha256}}},
              {"findings_sha256", pl->p.prov.findings_sha256},
              {"program", {{"recorded", recorded_program}, {"replayed", program}}}};
    out << j.dump(2) << "\n";
  } else {
    out << what << ": " << (identical ? "identical" : "DIFFERENT") << "\n"
        << "  replayed the findings (sha256 " << short_hash(pl->p.prov.findings_sha256)
        << ") with the rule set " << rs.info.name << " " << rs.info.version << " (sha256 "
        << short_hash(rs.sha256) << ") on iptplan " << program;
    if (!recorded_program.empty()) {
      out << (recorded_program == program ? " (the version that made it)"
                                          : " (it was made by iptplan " + recorded_program + ")");
    }
    out << "\n";
    for (const auto& d : diffs) out << "  " << d << "\n";
  }
  return identical ? kOk : kInputError;
}

std::string plan_summary(const st::record& r) {
  auto f = st::read_plan_heading(r.body);
  if (!f) return "(unreadable)";
  std::string status = f->status == "approved" ? "approved by " + f->approved_by + " on " + f->approved_on
                       : f->status.empty()     ? std::string()
                                               : f->status;
  return "client " + (f->client_id.empty() ? std::string("(no id)") : f->client_id) + ", " + f->rule_set_name + " " +
         f->rule_set_version + " (" + short_hash(f->rule_set_sha256) + (status.empty() ? "" : ", " + status) + "), " +
         std::to_string(f->items) + " items";
}

// The summary's parts as data, for `audit list --format json` (a script
// should not parse the prose): a plan's client, rule set and item count, a
// review's plan and decisions.
json record_fields(const st::record& r) {
  if (r.kind == "plan") {
    auto f = st::read_plan_heading(r.body);
    if (!f) return json::object();
    json rs = {{"name", f->rule_set_name}, {"version", f->rule_set_version}, {"sha256", f->rule_set_sha256},
               {"status", f->status.empty() ? json() : json(f->status)}};
    if (f->status == "approved") rs["approved_by"] = f->approved_by, rs["approved_on"] = f->approved_on;
    return {{"client_id", f->client_id.empty() ? json() : json(f->client_id)}, {"rule_set", rs}, {"items", f->items}};
  }
  try {
    auto f = st::read_review_body(r.body);
    int acc = 0, ed = 0, rej = 0;
    for (const auto& d : f.decisions) {
      acc += d.action == "accept";
      ed += d.action == "edit";
      rej += d.action == "reject";
    }
    return {{"plan", f.plan_id}, {"accepted", acc}, {"edited", ed}, {"rejected", rej}};
  } catch (const st::store_error&) {
    return json::object();
  }
}

std::string review_summary(const st::record& r) {
  json f = record_fields(r);
  if (!f.contains("plan")) return "(unreadable)";
  return "plan " + std::to_string(f["plan"].get<std::int64_t>()) + ": " + std::to_string(f["accepted"].get<int>()) +
         " accepted, " + std::to_string(f["edited"].get<int>()) + " edited, " + std::to_string(f["rejected"].get<int>()) +
         " rejected";
}

}  // namespace

std::optional<std::string> store_location(const std::string& given, std::ostream& err, bool none_is_error) {
  if (!given.empty()) return given;
  if (auto e = env("IPTPLAN_STORE"); !e.empty()) return e;
  std::string cfg = config_path();
  auto none = [&]() -> std::optional<std::string> {
    if (!none_is_error) return std::string();
    err << "iptplan: error: no store: give --store FILE, set IPTPLAN_STORE, or set [store] path in "
        << (cfg.empty() ? std::string("the configuration file") : printable(cfg)) << "\n";
    return std::nullopt;
  };
  std::error_code ec;
  bool named = !env("IPTPLAN_CONFIG").empty();
  if (cfg.empty() || (!named && !std::filesystem::exists(cfg, ec))) return none();
  std::vector<diagnostic> diags;
  auto text = read_text_file(cfg, "config.read", diags);
  std::optional<toml::table> t;
  if (text) t = parse_toml(cfg, *text, "config.syntax", diags);
  if (!t) {
    print(err, diags);
    err << "iptplan: the configuration file " << printable(cfg) << " could not be read\n";
    return std::nullopt;
  }
  // Every key means something: a misspelt one (`[store] paht`) would leave
  // the store unset, and plans unrecorded, in silence.
  for (auto&& [k, v] : *t) {
    std::string key(k.str());
    const toml::table* section = v.as_table();
    bool bad = key != "store" || !section;
    if (!bad) {
      for (auto&& [k2, v2] : *section) {
        if (k2.str() == "path") continue;
        err << printable(cfg) << ":" << k2.source().begin.line << ":" << k2.source().begin.column << ": error: '"
            << printable(std::string(k2.str()).substr(0, 40)) << "' is not a setting of [store]; it takes path"
            << (nearest_name(std::string(k2.str()), {"path"}).empty() ? "" : " (did you mean 'path'?)")
            << " [config.unknown]\n";
        return std::nullopt;
      }
      continue;
    }
    err << printable(cfg) << ":" << k.source().begin.line << ":" << k.source().begin.column << ": error: '"
        << printable(key.substr(0, 40)) << "' is not a section of the configuration file; it has [store] with path"
        << (nearest_name(key, {"store"}).empty() ? "" : " (did you mean 'store'?)") << " [config.unknown]\n";
    return std::nullopt;
  }
  auto* node = (*t)["store"]["path"].node();
  if (!node) return none();
  auto p = node->value<std::string>();
  if (!p || p->empty()) {
    err << printable(cfg) << ":" << node->source().begin.line << ":" << node->source().begin.column
        << ": error: [store] path must be the store file's path, as a text in quotes [config.store]\n";
    return std::nullopt;
  }
  if (p->find("://") != std::string::npos) return *p;  // a server store's URL
  std::filesystem::path where(*p);
  if (where.is_relative()) where = std::filesystem::path(cfg).parent_path() / where;
  return where.lexically_normal().string();
}

std::optional<std::string> author(const std::string& given, std::ostream& err) {
  std::string who = given;
  if (who.empty()) who = env("IPTPLAN_USER");
  if (who.empty()) who = env("USER");
  if (who.empty()) who = env("LOGNAME");
  if (who.empty()) {
    if (const passwd* pw = ::getpwuid(::getuid())) who = pw->pw_name;
  }
  if (!st::author_problem(who).empty()) {
    err << "iptplan: the author's name (--by, IPTPLAN_USER) must be 1 to 200 bytes of UTF-8, with no control "
           "characters and none that reorder text on screen\n";
    return std::nullopt;
  }
  return who;
}

std::optional<std::int64_t> record_id(const std::string& text, std::ostream& err) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id < 1) {
    err << "iptplan: a record id is a whole number from 1 (as 'iptplan audit list' shows them)\n";
    return std::nullopt;
  }
  return id;
}

bool valid_date(const std::string& t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(t[static_cast<std::size_t>(i)]))) return false;
  }
  int year = std::stoi(t.substr(0, 4)), month = std::stoi(t.substr(5, 2)), day = std::stoi(t.substr(8, 2));
  if (month < 1 || month > 12 || day < 1) return false;
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= days[month - 1] + (month == 2 && leap ? 1 : 0);
}

bool record_plan(const std::string& location, const std::string& by, const rule_set& rs,
                 const std::vector<rule_set_file>& files, const planned& pl, std::ostream& err) {
  auto s = open(location, true, err);
  if (!s) return false;
  try {
    auto r = st::record_plan(*s, by, rs, files, pl.p, pl.findings);
    err << "iptplan: recorded as plan " << r.id << " in " << shown(location) << "\n";
    spdlog::info("recorded plan {} (hash {})", r.id, r.hash);
    return true;
  } catch (const st::store_error& e) {
    err << "iptplan: error: " << shown(location) << ": " << printable(e.what()) << "; the plan was not recorded\n";
    return false;
  }
}

int cmd_audit_verify(const std::string& location, const std::string& expect, const std::string& fmt,
                     std::ostream& out, std::ostream& err) {
  return with_store(location, err, [&](st::plan_store& s) {
    auto v = st::verify(s, expect);
    if (fmt == "json") {
      // The same finding as data, for a nightly job that keeps the last hash.
      bool expected_ok = expect.empty() || v.expected_found;
      bool ok = v.problem.empty() && expected_ok;
      json j = {{"store", shown(location)},
                {"verified", ok},
                {"records", v.records},
                {"snapshots", v.snapshots},
                {"unused_snapshots", v.unused_snapshots},
                {"first_bad", v.first_bad ? json(v.first_bad) : json(nullptr)},
                {"problem", v.problem.empty() ? json(nullptr) : json(v.problem)}};
      if (v.problem.empty() && !expected_ok) {
        j["problem"] = "no record has the hash " + expect + ": records were removed or rewritten since it was kept";
      }
      j["last_record"] = v.problem.empty() && v.last_id ? json({{"id", v.last_id}, {"hash", v.last_hash}})
                                                         : json(nullptr);
      if (!expect.empty()) j["expected"] = {{"hash", expect}, {"found", v.expected_found}};
      out << j.dump(2) << "\n";
      return ok ? kOk : kInputError;
    }
    if (!v.problem.empty()) {
      out << shown(location) << ": " << v.problem << "\n";
      return kInputError;
    }
    // A hash kept elsewhere that the chain no longer holds: the chain is
    // whole but not the one it was, said first and alone.
    if (!expect.empty() && !v.expected_found) {
      out << shown(location) << ": no record has the hash " << expect
          << ": records were removed or rewritten since it was kept (each of the " << v.records
          << (v.records == 1 ? " record" : " records") << " left verifies against the ones before it)\n";
      return kInputError;
    }
    out << shown(location) << ": " << v.records << (v.records == 1 ? " record" : " records") << " and "
        << v.snapshots << (v.snapshots == 1 ? " rule set snapshot" : " rule set snapshots")
        << ": every record verifies" << (expect.empty() ? "" : ", and the chain still holds the record kept") << "\n";
    if (v.last_id) {
      out << "last record: " << v.last_id << ", hash " << v.last_hash
          << " (keep it elsewhere; 'audit verify --expect HASH' later shows whether it is still in the chain)\n";
    }
    if (v.unused_snapshots) {
      out << "note: " << v.unused_snapshots << (v.unused_snapshots == 1 ? " snapshot is" : " snapshots are")
          << " used by no record: a recording was interrupted before its record was written, or the last "
             "records were removed (compare the last record's hash with the one kept elsewhere)\n";
    }
    return kOk;
  });
}

int cmd_audit_list(const std::string& location, const std::string& fmt, std::ostream& out,
                   std::ostream& err) {
  return with_store(location, err, [&](st::plan_store& s) {
    // The list says which records the chain vouches for: from the first
    // that does not verify on, what is shown may have been changed.
    auto v = st::verify(s);
    // Read a page at a time: memory holds the summaries, not every body.
    struct line {
      std::int64_t id;
      std::string created, by, kind, hash, summary;
      json fields;
    };
    std::vector<line> rs;
    for (std::int64_t from = 1;;) {
      auto page = s.scan(from, 512);
      if (page.empty()) break;
      from = page.back().id + 1;
      for (auto& r : page) {
        std::string summary = r.kind == "plan" ? plan_summary(r) : review_summary(r);
        json fields = fmt == "json" ? record_fields(r) : json();
        rs.push_back({r.id, std::move(r.created), std::move(r.by), std::move(r.kind), std::move(r.hash),
                      std::move(summary), std::move(fields)});
      }
    }
    auto vouched = [&](const line& r) { return v.first_bad == 0 || r.id < v.first_bad; };
    if (v.first_bad != 0) {
      err << "iptplan: warning: " << shown(location) << ": " << v.problem
          << "; the records from " << v.first_bad
          << " on are marked '!' (JSON: \"verified\": false): they may have been changed (see 'iptplan audit "
             "verify')\n";
    }
    if (fmt == "json") {
      json a = json::array();
      for (const auto& r : rs) {
        a.push_back({{"id", r.id},
                     {"kind", r.kind},
                     {"created", r.created},
                     {"by", r.by},
                     {"hash", r.hash},
                     {"verified", vouched(r)},
                     {"summary", r.summary}});
        for (const auto& [k, v] : r.fields.items()) a.back()[k] = v;
      }
      out << a.dump(2) << "\n";
      return v.first_bad == 0 ? kOk : kInputError;
    }
    if (rs.empty()) out << shown(location) << ": no records\n";
    for (const auto& r : rs) {
      out << (vouched(r) ? "" : "! ") << r.id << "  " << printable(r.created) << "  " << printable(r.by) << "  "
          << printable(r.kind) << "  " << printable(r.summary) << "\n";
    }
    return v.first_bad == 0 ? kOk : kInputError;
  });
}

int cmd_audit_show(const std::string& location, std::int64_t id, const std::string& fmt, std::ostream& out,
                   std::ostream& err) {
  return with_store(location, err, [&](st::plan_store& s) {
    auto r = s.get(id);
    if (!r) {
      err << "iptplan: error: " << shown(location) << " has no record " << id << "\n";
      return kInputError;
    }
    // This record, and each later review of it whose decisions are shown
    // with it: every record read verifies (the rest of the chain is audit
    // verify's).
    if (!record_intact(s, *r, location, err)) return kInputError;
    // The decisions recorded on this plan, later.
    std::vector<std::pair<st::record, st::decision>> decisions;
    if (r->kind == "plan") {
      auto on = decisions_on(s, id, location, err);
      if (!on) return kInputError;
      decisions = std::move(*on);
    }
    // The last decision on an item is the one that counts (as audit
    // overrides counts it); an earlier one says which record replaced it.
    std::map<std::string, std::int64_t> last_on;
    for (const auto& [x, d] : decisions) last_on[d.item] = x.id;
    json body = json::parse(r->body, nullptr, false);
    // The plan as an object too, beside the exact text its hash covers: an
    // auditor's script reads it without parsing a string inside JSON.
    if (body.is_object() && body.contains("plan") && body["plan"].is_object() && body["plan"].contains("json") &&
        body["plan"]["json"].is_string()) {
      auto object = json::parse(body["plan"]["json"].get<std::string>(), nullptr, false);
      if (!object.is_discarded()) body["plan"]["object"] = std::move(object);
    }
    if (fmt == "json") {
      json j = {{"id", r->id},     {"kind", r->kind},           {"created", r->created}, {"by", r->by},
                {"hash", r->hash}, {"prev_hash", r->prev_hash}, {"body", body}};
      if (r->kind == "plan") {
        json ds = json::array();
        for (const auto& [x, d] : decisions) {
          ds.push_back({{"record", x.id},
                        {"by", x.by},
                        {"created", x.created},
                        {"item", d.item},
                        {"action", d.action},
                        {"reason", d.reason},
                        {"text", d.text},
                        {"current", last_on[d.item] == x.id}});
        }
        j["decisions"] = ds;
      }
      out << j.dump(2) << "\n";
      return kOk;
    }
    out << "record " << r->id << ": " << printable(r->kind) << ", recorded " << printable(r->created) << " by "
        << printable(r->by) << "\n  hash " << printable(r->hash) << "\n  after " << printable(r->prev_hash) << "\n";
    if (r->kind == "plan") {
      auto f = st::read_plan_body(r->body);
      json p = json::parse(f.plan_json, nullptr, false);
      out << "  program: iptplan " << printable(f.program_version) << "\n  rule set: " << printable(f.rule_set_name)
          << " " << printable(f.rule_set_version) << " (sha256 " << printable(f.rule_set_sha256)
          << ")\n  rule set status when planned: " << approval_line(p) << "\n  findings: sha256 "
          << printable(f.findings_sha256) << "\n  client: " << printable(f.client_id) << "\n\nITEMS\n";
      // The decision that counts on each item, shown beside it.
      std::map<std::string, const st::decision*> current;
      for (const auto& [x, d] : decisions) {
        if (last_on[d.item] == x.id) current[d.item] = &d;
      }
      auto items = items_of(p);
      for (const auto& iid : items.order) {
        const json& it = items.by_id[iid];
        out << "  " << printable(it.value("kind", "")) << " " << printable(iid) << " ["
            << printable(it.value("status", ""));
        if (auto c = current.find(iid); c != current.end()) out << "; " << decided(c->second->action);
        out << "]: " << printable(text_of(it)) << "\n";
        out << "      proposed by: " << rule_list(st::rules_of(p, it)) << "\n";
      }
      out << "\nEXCLUDED (proposed, then removed by a rule's exclude)\n";
      bool any_excluded = false;
      if (p.contains("excluded") && p["excluded"].is_array()) {
        for (const auto& e : p["excluded"]) {
          if (!e.is_object()) continue;
          any_excluded = true;
          std::vector<std::string> by;
          if (e.contains("excluded_by") && e["excluded_by"].is_array()) {
            for (const auto& b : e["excluded_by"]) {
              if (b.is_object() && b.contains("rule") && b["rule"].is_string()) {
                std::string r = b["rule"].get<std::string>();
                if (std::find(by.begin(), by.end(), r) == by.end()) by.push_back(r);
              }
            }
          }
          std::string names;
          for (const auto& r : by) names += (names.empty() ? "" : ", ") + printable(r);
          out << "  " << printable(e.value("kind", std::string())) << " " << printable(e.value("id", std::string()))
              << ": proposed by " << rule_list(st::rules_of(p, e)) << "; removed by " << names << "\n";
        }
      }
      if (!any_excluded) out << "  (none)\n";
      out << "\nDECISIONS\n";
      if (decisions.empty()) out << "  (none recorded)\n";
      for (const auto& [x, d] : decisions) {
        out << "  " << printable(d.action) << " " << printable(d.item) << " (record " << x.id << ", "
            << printable(x.by) << ", " << printable(x.created) << ")" << decision_detail(d);
        if (last_on[d.item] != x.id) out << " [replaced by record " << last_on[d.item] << "]";
        out << "\n";
      }
    } else {
      auto f = st::read_review_body(r->body);
      out << "  review of plan " << f.plan_id << " (hash " << short_hash(f.plan_hash) << ")\n";
      for (const auto& d : f.decisions) {
        out << "  " << printable(d.action) << " " << printable(d.item) << decision_detail(d) << "\n";
        // What was decided on, as the plan gave it: its text and the rules
        // (with their hashes) behind it.
        if (!d.original_text.empty()) out << "      the item read: " << printable(d.original_text) << "\n";
        out << "      proposed by: " << rule_list(d.rules) << "\n";
      }
    }
    return kOk;
  });
}

int cmd_audit_overrides(const std::string& location, const std::string& since, const std::string& fmt,
                        std::ostream& out, std::ostream& err) {
  return with_store(location, err, [&](st::plan_store& s) {
    if (!chain_intact(s, location, err)) return kInputError;
    // The reviews alone are read (a plan's body is not needed).
    std::vector<st::record> reviews;
    for (std::int64_t from = 1;;) {
      auto page = s.scan_kind("review", from, 1024);
      if (page.empty()) break;
      from = page.back().id + 1;
      for (auto& r : page) reviews.push_back(std::move(r));
    }
    auto os = st::overrides(reviews, since);
    if (fmt == "json") {
      json a = json::array();
      for (const auto& o : os) {
        json decisions = json::array();
        for (const auto& d : o.reasoned_decisions) {
          decisions.push_back({{"action", d.action},
                               {"item", d.item},
                               {"plan", d.plan},
                               {"by", d.by},
                               {"date", d.date},
                               {"reason", d.reason},
                               {"record", d.record},
                               {"rule_sha256", d.rule_sha256}});
        }
        a.push_back({{"rule", o.rule},
                     {"accepted", o.accepted},
                     {"edited", o.edited},
                     {"rejected", o.rejected},
                     {"reasons", o.reasons},
                     {"reasoned_decisions", decisions},
                     {"rule_sha256", o.hashes}});
      }
      out << a.dump(2) << "\n";
      return kOk;
    }
    if (os.empty()) {
      out << "no decisions recorded" << (since.empty() ? "" : " since " + since) << "\n";
      return kOk;
    }
    out << "Decisions on each rule's items" << (since.empty() ? "" : " since " + since)
        << ", most overridden first (the last decision on each item of each plan counts):\n\n";
    for (const auto& o : os) {
      out << printable(o.rule) << ": " << o.accepted << " accepted, " << o.edited << " edited, " << o.rejected
          << " rejected";
      if (o.hashes.size() > 1) out << " (over " << o.hashes.size() << " versions of the rule)";
      out << "\n";
      for (const auto& why : o.reasons) out << "    " << printable(why) << "\n";
    }
    return kOk;
  });
}

int cmd_verify_record(const std::string& location, std::int64_t id, const std::string& fmt, std::ostream& out,
                      std::ostream& err) {
  return with_store(location, err, [&](st::plan_store& s) {
    auto r = s.get(id);
    if (!r || r->kind != "plan") {
      err << "iptplan: error: " << shown(location) << " has no plan record " << id
          << (r ? " (record " + std::to_string(id) + " is a " + printable(r->kind) + ": a review is checked with "
                      "its plan by 'iptplan audit verify')"
                : std::string())
          << "\n";
      return kInputError;
    }
    std::string what = "plan " + std::to_string(id);
    // A record that does not agree with itself (its hash, its findings or
    // its plan against theirs, its neighbours) is not replayed: a
    // difference found would blame the rules or the program for a change
    // made to the record.
    if (auto why = st::record_problem(s, *r); !why.empty()) {
      return not_replayed(what, why + "; run 'iptplan audit verify'", fmt, out);
    }
    auto f = st::read_plan_body(r->body);
    auto snap = s.snapshot(f.snapshot);
    if (!snap || st::snapshot_hash(*snap) != f.snapshot) {
      return not_replayed(what, "the rule set it was planned with (" + short_hash(f.rule_set_sha256) +
                                    ") is missing from the store or damaged",
                          fmt, out);
    }
    std::vector<rule_set_file> files;
    for (auto& x : *snap) files.push_back({x.base, x.base, std::move(x.text)});
    // As of the day it was planned: an approval valid then is valid in the
    // replay, whatever this machine's date.
    scoped_today as_of(r->created.substr(0, 10));
    auto rs = load_files(std::move(files), "the recorded rule set", err);
    if (!rs) return kInputError;
    try {
      return replay("plan " + std::to_string(id), *rs, f.findings, f.plan_json, f.program_version, fmt, out, err);
    } catch (const json::exception&) {
      return not_replayed(what, "its plan is not one as iptplan writes it (a part of it has the wrong shape)", fmt,
                          out);
    }
  });
}

int cmd_why_record(const std::string& location, std::int64_t id, const std::string& item, bool why_not,
                   const std::string& fmt, std::ostream& out, std::ostream& err) {
  return with_store(location, err, [&](st::plan_store& s) {
    auto r = s.get(id);
    if (!r || r->kind != "plan") {
      err << "iptplan: error: " << shown(location) << " has no plan record " << id
          << (r ? " (record " + std::to_string(id) + " is a " + printable(r->kind) + ")" : std::string()) << "\n";
      return kInputError;
    }
    if (!record_intact(s, *r, location, err)) return kInputError;
    auto f = st::read_plan_body(r->body);
    auto snap = s.snapshot(f.snapshot);
    if (!snap) {
      err << "iptplan: error: the rule set of plan " << id << " is missing from the store\n";
      return kInputError;
    }
    std::vector<rule_set_file> files;
    for (auto& x : *snap) files.push_back({x.base, x.base, std::move(x.text)});
    scoped_today as_of(r->created.substr(0, 10));  // as verify ID replays it
    auto rs = load_files(std::move(files), "the recorded rule set", err);
    if (!rs) return kInputError;
    // What is explained is the recorded plan: the same findings and rules
    // make it again, or the explanation would be of another plan.
    // Unknown keys as warnings, as replay reads them.
    auto pl = plan_text(*rs, "the recorded findings", f.findings, true, err);
    if (!pl) return kInputError;
    keep_earlier_findings_hash(pl->p, f.findings_sha256, f.findings);
    if (render_json(pl->p) != f.plan_json) {
      err << "iptplan: error: plan " << id << " does not replay identically (see 'iptplan verify " << id
          << "'): its items cannot be explained by the rules it records\n";
      return kInputError;
    }
    std::string header;
    if (fmt != "json") {
      header = "Plan " + std::to_string(id) + " as recorded " + r->created + " by " + printable(r->by) + ", with " +
               printable(rs->info.name) + " " + printable(rs->info.version) + " (sha256 " + short_hash(rs->sha256) +
               "; " + approval_line(json::parse(f.plan_json, nullptr, false)) + "):\n\n";
    }
    // The clinicians' decisions on the item, after its why: what an
    // auditor asks next (from an auditor's trial: a rejection went unsaid).
    std::string on_item;
    json on_json = json::array();
    {
      auto on = decisions_on(s, id, location, err);
      if (!on) return kInputError;
      for (const auto& [x, d] : *on) {
        if (d.item != item) continue;
        on_item += "  " + decided(d.action) + " by " + printable(x.by) + " on " + printable(x.created) + " (record " +
                   std::to_string(x.id) + ")" + decision_detail(d) + "\n";
        on_json.push_back({{"record", x.id}, {"by", x.by}, {"created", x.created}, {"action", d.action},
                           {"reason", d.reason}, {"text", d.text}});
      }
    }
    // As JSON, the answer carries the record it explains and the decisions
    // on the item (from an auditor's trial: the text said them, JSON not).
    std::ostringstream answer;
    int code = explain_item(
        *rs, item, [&]() -> std::optional<planned> { return std::move(*pl); }, why_not, fmt,
        "iptplan why-not " + shell_quoted(item) + " --record " + std::to_string(id) + " --store " + shell_quoted(location),
        fmt == "json" ? answer : out, err, header);
    if (fmt == "json") {
      json j = json::parse(answer.str(), nullptr, false);
      if (j.is_object()) {
        json plan = json::parse(f.plan_json, nullptr, false);
        j["record"] = {{"id", id},
                       {"created", r->created},
                       {"by", r->by},
                       {"hash", r->hash},
                       {"rule_set", {{"name", rs->info.name}, {"version", rs->info.version}, {"sha256", rs->sha256},
                                     {"status_when_planned", approval_line(plan)}}},
                       {"program", f.program_version},
                       {"findings_sha256", f.findings_sha256}};
        j["decisions"] = on_json;
        out << j.dump(2) << "\n";
      } else {
        out << answer.str();
      }
    }
    if (code == kOk && fmt != "json" && !why_not) {
      out << "\nClinicians' decisions on " << printable(item) << " (the last one counts):\n"
          << (on_item.empty() ? std::string("  none recorded\n") : on_item);
    }
    return code;
  });
}

int cmd_verify_file(const std::string& plan_file, const std::string& findings, const std::string& rules,
                    const std::string& fmt, std::istream& in, std::ostream& out, std::ostream& err) {
  std::vector<diagnostic> diags;
  auto recorded = read_text_file(plan_file, "verify.read", diags);
  if (!recorded) {
    print(err, diags);
    return kInputError;
  }
  json was;
  try {
    was = json::parse(*recorded);
  } catch (const json::parse_error& e) {
    // Where, never what was read there (a plan file holds a client's plan).
    std::size_t at = std::min<std::size_t>(e.byte > 0 ? e.byte - 1 : 0, recorded->size());
    std::size_t line = 1 + static_cast<std::size_t>(std::count(recorded->begin(), recorded->begin() + at, '\n'));
    std::size_t nl = recorded->rfind('\n', at == 0 ? 0 : at - 1);
    std::size_t column = at - (nl == std::string::npos || at == 0 ? 0 : nl + 1) + 1;
    err << printable(plan_file) << ":" << line << ":" << column
        << ": error: this is not valid JSON; verify takes a plan written by 'iptplan plan --format json' "
           "[verify.read]\n";
    return kInputError;
  }
  if (was.is_array()) {
    err << printable(plan_file) << ": error: this is a list of " << was.size()
        << " plans (as 'iptplan plan A B --format json' writes); verify takes one plan: write each to a file of "
           "its own (one findings file a run, with -o) [verify.read]\n";
    return kInputError;
  }
  if (!was.is_object() || !was.contains("provenance")) {
    err << printable(plan_file) << ": error: this is JSON, but not a plan: it has no 'provenance' (a plan written by "
           "'iptplan plan --format json' has) [verify.read]\n";
    return kInputError;
  }
  auto rs = load(rules, err);
  if (!rs) return kInputError;
  std::string text;
  if (findings == "-") {
    if (stdin_closed(in)) {
      err << "<stdin>: error: standard input is closed: there are no findings to read [findings.read]\n";
      return kInputError;
    }
    std::string why;
    auto read = read_input_stream(in, why);
    if (!read) {
      err << kStdinName << ": error: " << why << " [findings.read]\n";
      return kInputError;
    }
    text = std::move(*read);
    if (text.size() > kMaxInputBytes) {
      err << "iptplan: error: standard input holds more than " << kMaxInputBytes / (1024 * 1024)
          << " MiB, more than any findings file iptplan reads\n";
      return kInputError;
    }
  } else {
    auto t = read_text_file(findings, "findings.read", diags);
    if (!t) {
      print(err, diags);
      return kInputError;
    }
    text = *t;
  }
  std::string want = st::string_at(was, "/provenance/findings/sha256");
  if (want != findings_sha256(text) && want != sha256_hex(text)) {  // the latter: a plan of an earlier release
    return not_replayed(plan_file, "these are not the findings it was planned from (their hash differs)", fmt,
                        out);
  }
  std::string program = st::string_at(was, "/provenance/program/version");
  // The file as written may end with a newline; the plan's JSON is compared
  // as rendered.
  std::string recorded_json = *recorded;
  try {
    return replay(plan_file, *rs, text, recorded_json, program, fmt, out, err);
  } catch (const json::exception&) {
    // A part of the file has a type no plan gives it.
    return not_replayed(plan_file, "this is not a plan as iptplan writes it (a part of it has the wrong shape)", fmt,
                        out);
  }
}

int cmd_review(const std::string& location, std::int64_t id, const review_request& req, const std::string& by,
               std::ostream& out, std::ostream& err) {
  if (auto problem = st::review_request_problem(req); !problem.empty()) {
    err << "iptplan: " << problem << "\n";
    return kUsage;
  }
  return with_store(location, err, [&](st::plan_store& s) {
    auto r = s.get(id);
    if (!r || r->kind != "plan") {
      err << "iptplan: error: " << shown(location) << " has no plan record " << id
          << (r ? " (record " + std::to_string(id) + " is a " + printable(r->kind) + ")" : std::string()) << "\n";
      return kInputError;
    }
    // The plan decided on; the tail the review is added to is checked by
    // the append itself.
    if (!record_intact(s, *r, location, err)) return kInputError;
    st::review_facts rv;
    std::vector<std::string> errors;
    if (!st::make_review(*r, req, rv, errors)) {
      for (const auto& e : errors) err << "iptplan: error: " << e << "\n";
      return kInputError;
    }
    auto rec = s.append("review", st::now_utc(), by, st::review_body(rv));
    out << "recorded as record " << rec.id << ": review of plan " << id << " by " << printable(by) << ": "
        << review_summary(rec).substr(review_summary(rec).find(": ") + 2) << "\n";
    return kOk;
  });
}

}  // namespace iptplan::cli

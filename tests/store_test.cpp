// The plan store: recording, replay, the hash chain and what breaks it,
// crashes at any moment, clinicians' decisions and their summary per rule.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/findings_text.hpp"
#include "engine/ruleset.hpp"
#include "store/records.hpp"
#include "store/store.hpp"
#include "tests/cli_support.hpp"

extern char** environ;

namespace fs = std::filesystem;
using namespace iptplan::testing_cli;

namespace {

const std::string kSrc = IPTPLAN_SOURCE_DIR;
const std::string kJane = kSrc + "/examples/jane.toml";
const std::string kCouple = kSrc + "/examples/couple.toml";

void sql(const std::string& db, const std::string& statement) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  char* msg = nullptr;
  int rc = sqlite3_exec(h, statement.c_str(), nullptr, nullptr, &msg);
  INFO((msg ? msg : ""));
  sqlite3_free(msg);
  sqlite3_close(h);
  REQUIRE(rc == SQLITE_OK);
}

// Rewrites record `id`'s body with `edit` and recomputes its hash, as
// someone who knows the chain's formula would: only what the chain alone
// cannot see is left to find.
void rewrite_record(const std::string& db, std::int64_t id, const std::function<std::string(std::string)>& edit) {
  auto st = iptplan::store::open_store(db, false);
  auto r = st->get(id);
  REQUIRE(r);
  r->body = edit(r->body);
  r->hash = iptplan::store::record_hash(*r);
  st.reset();
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(h, "UPDATE records SET body = ?1, hash = ?2 WHERE id = ?3", -1, &q, nullptr) == SQLITE_OK);
  sqlite3_bind_text(q, 1, r->body.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(q, 2, r->hash.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(q, 3, id);
  CHECK(sqlite3_step(q) == SQLITE_DONE);
  sqlite3_finalize(q);
  sqlite3_close(h);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("record a plan, replay it identical, after a rule changes, each record replays with its own rules") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  auto rec = run({"plan", kJane, "--record", "--store", db, "--by", "dr_a"});
  REQUIRE(rec.code == 0);
  CHECK(rec.err.find("recorded as plan 1 in " + db) != std::string::npos);
  CHECK(rec.out.rfind("DRAFT TREATMENT PLAN", 0) == 0);
  auto v1 = run({"verify", "1", "--store", db});
  CHECK(v1.code == 0);
  CHECK(v1.out.rfind("plan 1: identical\n", 0) == 0);

  // A copy of the rules with one rule's text changed: a new snapshot.
  std::string rules = s.rules_copy();
  std::string alliance = slurp(rules + "/alliance.rules");
  auto at = alliance.find("Difficulty establishing a strong therapeutic relationship");
  REQUIRE(at != std::string::npos);
  alliance.replace(at, 23, "Difficulty building");
  std::ofstream(rules + "/alliance.rules", std::ios::binary) << alliance;
  REQUIRE(run({"plan", kJane, "--rules", rules, "--record", "--store", db}).code == 0);
  auto v2 = run({"verify", "2", "--store", db});
  CHECK(v2.code == 0);
  // Record 1 still replays, with the snapshot it was made with.
  v1 = run({"verify", "1", "--store", db, "--format", "json"});
  CHECK(v1.code == 0);
  auto j1 = nlohmann::json::parse(v1.out);
  CHECK(j1["identical"] == true);
  auto j2 = nlohmann::json::parse(run({"verify", "2", "--store", db, "--format", "json"}).out);
  CHECK(j1["rule_set"]["sha256"] != j2["rule_set"]["sha256"]);
  auto ok = run({"audit", "verify", "--store", db});
  CHECK(ok.code == 0);
  CHECK(ok.out.rfind(db + ": 2 records and 2 rule set snapshots: every record verifies\nlast record: 2, hash ", 0) == 0);
  // The same as data, with the last hash to keep elsewhere.
  auto okj = run({"audit", "verify", "--store", db, "--format", "json"});
  CHECK(okj.code == 0);
  auto vj = nlohmann::json::parse(okj.out);
  CHECK(vj["verified"] == true);
  CHECK(vj["records"] == 2);
  CHECK(vj["snapshots"] == 2);
  CHECK(vj["first_bad"].is_null());
  CHECK(vj["problem"].is_null());
  CHECK(vj["last_record"]["id"] == 2);
  const std::string last_hash = vj["last_record"]["hash"].get<std::string>();
  CHECK(last_hash.size() == 64);
  CHECK(ok.out.find(last_hash) != std::string::npos);
  auto kept = nlohmann::json::parse(
      run({"audit", "verify", "--store", db, "--format", "json", "--expect", last_hash.substr(0, 12)}).out);
  CHECK(kept["expected"]["found"] == true);
  auto gone = run({"audit", "verify", "--store", db, "--format", "json", "--expect", std::string(64, 'a')});
  CHECK(gone.code == 1);
  auto gj = nlohmann::json::parse(gone.out);
  CHECK(gj["verified"] == false);
  CHECK(gj["expected"]["found"] == false);
  CHECK(gj["problem"].get<std::string>().rfind("no record has the hash ", 0) == 0);

  // The stored record holds the findings (without their comments), the
  // plan, per-rule hashes and who made it.
  auto shown = nlohmann::json::parse(run({"audit", "show", "1", "--store", db, "--format", "json"}).out);
  CHECK(shown["by"] == "dr_a");
  CHECK(shown["body"]["findings"]["text"] == iptplan::without_comments(slurp(kJane)));
  CHECK(shown["body"]["findings"]["text"].get<std::string>().find('#') == std::string::npos);
  CHECK(shown["body"]["rule_set"]["rules"].contains("weak_alliance"));
  CHECK(shown["body"]["plan"]["json"] == run({"plan", kJane, "--format", "json"}).out);
  CHECK(shown["prev_hash"] == std::string(64, '0'));
}

TEST_CASE("verify of a file that is not one plan says where or what it is, never what it read") {
  scratch s;
  auto bad = s.write("bad.json", "{\"a\":\n  Mary}");
  auto r = run({"verify", bad, kJane});
  CHECK(r.code == 1);
  CHECK(r.err.find("bad.json:2:3: error: this is not valid JSON") != std::string::npos);
  CHECK(r.err.find("Mary") == std::string::npos);
  auto two = run({"plan", kJane, kCouple, "--format", "json"});
  REQUIRE(two.code == 0);
  auto list = s.write("two.json", two.out);
  auto l = run({"verify", list, kJane});
  CHECK(l.code == 1);
  CHECK(l.err.find("this is a list of 2 plans") != std::string::npos);
  auto obj = s.write("obj.json", "{\"a\": 1}");
  CHECK(run({"verify", obj, kJane}).err.find("this is JSON, but not a plan: it has no 'provenance'") !=
        std::string::npos);
}

TEST_CASE("a plan file replays against its findings and rules") {
  scratch s;
  std::string plan = (s.dir / "plan.json").string();
  REQUIRE(run({"plan", kJane, "--format", "json", "-o", plan}).code == 0);
  auto same = run({"verify", plan, kJane});
  CHECK(same.code == 0);
  CHECK(same.out.rfind(plan + ": identical\n", 0) == 0);
  auto other = run({"verify", plan, kCouple});
  CHECK(other.code == 1);
  CHECK(other.out.find("not the findings it was planned from") != std::string::npos);
  // Rules that changed: each difference, item by item.
  std::string rules = s.rules_copy();
  std::string alliance = slurp(rules + "/alliance.rules");
  alliance.replace(alliance.find("Difficulty establishing"), 23, "Difficulty building");
  std::ofstream(rules + "/alliance.rules", std::ios::binary) << alliance;
  auto changed = run({"verify", plan, kJane, "--rules", rules});
  CHECK(changed.code == 1);
  CHECK(changed.out.find(plan + ": DIFFERENT") != std::string::npos);
  CHECK(changed.out.find("~ weak_relationship: text was \"Difficulty establishing a strong therapeutic "
                         "relationship\", now \"Difficulty building a strong therapeutic relationship\"") !=
        std::string::npos);
  CHECK(changed.out.find("~ weak_relationship: proposed by weak_alliance ") != std::string::npos);
  // The same as data, item by item (from an auditor's trial: only lines
  // of text, to be parsed).
  auto j = nlohmann::json::parse(run({"verify", plan, kJane, "--rules", rules, "--format", "json"}).out);
  CHECK(j["identical"] == false);
  const nlohmann::json* weak = nullptr;
  for (const auto& c : j["changes"]) {
    if (c["id"] == "weak_relationship") weak = &c;
  }
  REQUIRE(weak);
  CHECK((*weak)["change"] == "changed");
  CHECK((*weak)["kind"] == "challenge");
  REQUIRE((*weak)["fields"].size() == 1);
  CHECK((*weak)["fields"][0]["field"] == "text");
  CHECK((*weak)["fields"][0]["was"] == "Difficulty establishing a strong therapeutic relationship");
  CHECK((*weak)["fields"][0]["now"] == "Difficulty building a strong therapeutic relationship");
  CHECK((*weak)["rules_was"][0]["id"] == "weak_alliance");
  CHECK((*weak)["rules_was"][0]["sha256"] != (*weak)["rules_now"][0]["sha256"]);
  // Where inside the part it differs, not only the part.
  CHECK(j["other_parts"] == nlohmann::json::array({"provenance.rule_set.sha256"}));
  CHECK(run({"verify", "x", "y", "z"}).code == 2);
}

TEST_CASE("a recorded plan replays as of the day it was made, whatever the machine's date") {
  // From an auditor's trial: a plan made under an approval dated that day
  // replayed DIFFERENT on a machine whose clock was earlier (the approval
  // read as dated in the future, the rule set as a draft).
  scratch s;
  std::string db = (s.dir / "s.db").string();
  std::string rules = s.rules_copy();
  const char* before = std::getenv("IPTPLAN_TODAY");
  std::string saved = before ? before : "";
  ::setenv("IPTPLAN_TODAY", "2026-11-28", 1);
  REQUIRE(run({"approve", rules, "--by", "Dr Lead"}).code == 0);
  REQUIRE(run({"plan", kJane, "--rules", rules, "--record", "--store", db}).code == 0);
  ::setenv("IPTPLAN_TODAY", "2026-11-01", 1);
  auto v = run({"verify", "1", "--store", db});
  CHECK(v.code == 0);
  CHECK(v.out.rfind("plan 1: identical\n", 0) == 0);
  CHECK(run({"why", "weak_relationship", "--record", "1", "--store", db}).code == 0);
  // An auditor reads the approval under which the plan was made.
  auto shown = run({"audit", "show", "1", "--store", db});
  CHECK(shown.out.find("\n  rule set status when planned: approved by Dr Lead on 2026-11-28\n") != std::string::npos);
  auto listed = run({"audit", "list", "--store", db}).out;
  CHECK(listed.find(", approved by Dr Lead on 2026-11-28), ") != std::string::npos);
  if (before) ::setenv("IPTPLAN_TODAY", saved.c_str(), 1);
  else ::unsetenv("IPTPLAN_TODAY");
}

TEST_CASE("a record or snapshot changed in the SQLite file makes audit verify fail, naming the record") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  for (const auto& f : {kJane, kCouple, kJane}) REQUIRE(run({"plan", f, "--record", "--store", db}).code == 0);
  REQUIRE(run({"audit", "verify", "--store", db}).code == 0);

  SECTION("one byte of a record's body") {
    sql(db, "UPDATE records SET body = replace(body, '\"client_id\":\"C-0001\"', '\"client_id\":\"C-0002\"') "
            "WHERE id = 3");
    auto r = run({"audit", "verify", "--store", db});
    CHECK(r.code == 1);
    CHECK(r.out == db + ": record 3 does not verify: its contents do not match its hash (it was changed after "
                        "it was written)\n");
    auto rj = run({"audit", "verify", "--store", db, "--format", "json"});
    CHECK(rj.code == 1);
    auto bad = nlohmann::json::parse(rj.out);
    CHECK(bad["verified"] == false);
    CHECK(bad["first_bad"] == 3);
    CHECK(bad["problem"] == "record 3 does not verify: its contents do not match its hash (it was changed after "
                            "it was written)");
    CHECK(bad["last_record"].is_null());
    // Replaying that record refuses too.
    CHECK(run({"verify", "3", "--store", db}).code == 1);
    // The list marks it, not as a record the chain vouches for (from an
    // auditor's trial: it showed the forged content with exit 0).
    auto l = run({"audit", "list", "--store", db});
    CHECK(l.code == 1);
    CHECK(l.err.find("the records from 3 on are marked '!'") != std::string::npos);
    CHECK(l.out.find("\n! 3  ") != std::string::npos);
    CHECK(l.out.rfind("1  ", 0) == 0);
    auto j = nlohmann::json::parse(run({"audit", "list", "--store", db, "--format", "json"}).out);
    REQUIRE(j.size() == 3);
    CHECK(j[0]["verified"] == true);
    CHECK(j[1]["verified"] == true);
    CHECK(j[2]["verified"] == false);
  }
  SECTION("its author, recomputing its hash does not help: the next record names the old one") {
    sql(db, "UPDATE records SET by = 'someone_else' WHERE id = 2");
    auto r = run({"audit", "verify", "--store", db});
    CHECK(r.code == 1);
    CHECK(r.out.find("record 2 does not verify") != std::string::npos);
  }
  SECTION("a record removed") {
    sql(db, "DELETE FROM records WHERE id = 2");
    auto r = run({"audit", "verify", "--store", db});
    CHECK(r.code == 1);
    CHECK(r.out.find("record 3 does not verify: record 2 before it is missing") != std::string::npos);
  }
  SECTION("a rule set snapshot") {
    sql(db, "UPDATE snapshots SET files = replace(files, 'Difficulty establishing', 'Difficulty building')");
    auto r = run({"audit", "verify", "--store", db});
    CHECK(r.code == 1);
    CHECK(r.out.find("record 1 does not verify: the rule set it was planned with") != std::string::npos);
    CHECK(run({"verify", "1", "--store", db}).code == 1);
  }
}

TEST_CASE("a recording killed with SIGKILL at random moments, 100 times, leaves a store that verifies") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  std::string bin = IPTPLAN_BINARY;
  std::mt19937 rng(20261126);
  std::uniform_int_distribution<int> delay_us(0, 60000);
  int killed = 0;
  for (int i = 0; i < 100; ++i) {
    pid_t pid = spawn_quiet({bin, "plan", kJane, "--record", "--store", db}, true);
    REQUIRE(pid > 0);
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    killed += WIFSIGNALED(status) ? 1 : 0;
  }
  INFO(killed << " of 100 runs were killed before they finished");
  CHECK(killed > 0);
  // Whatever was left, the chain verifies and the next record joins it.
  if (fs::exists(db)) CHECK(run({"audit", "verify", "--store", db}).code == 0);
  REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  auto v = run({"audit", "verify", "--store", db});
  CHECK(v.code == 0);
  CHECK(v.out.find("every record verifies") != std::string::npos);
}

TEST_CASE("review records decisions on a plan's items, audit overrides sums them per rule") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  auto r = run({"review", "1", "--store", db, "--by", "dr_a", "--accept", "weak_relationship",
                "role_dispute[partner]", "--reject", "possible_alexithymia", "--reason",
                "scored during an acute episode"});
  REQUIRE(r.code == 0);
  CHECK(r.out == "recorded as record 3: review of plan 1 by dr_a: 2 accepted, 0 edited, 1 rejected\n");
  auto e = run({"review", "2", "--store", db, "--by", "dr_b", "--edit", "assertive_communication",
                "Practise one clear request a week", "--reject", "role_dispute[partner]", "--reason",
                "the client chose the job change as focus"});
  REQUIRE(e.code == 0);

  auto o = run({"audit", "overrides", "--store", db});
  CHECK(o.code == 0);
  // Each reason says who gave it and when.
  CHECK(o.out.find("alexithymia_possible: 0 accepted, 0 edited, 1 rejected\n"
                   "    rejected (possible_alexithymia, plan 1, review record 3, by dr_a on ") != std::string::npos);
  CHECK(o.out.find("): scored during an acute episode\n") != std::string::npos);
  CHECK(o.out.find("role_dispute_detect: 1 accepted, 0 edited, 1 rejected\n") != std::string::npos);
  CHECK(o.out.find("weak_alliance: 1 accepted, 0 edited, 0 rejected\n") != std::string::npos);
  CHECK(o.out.find("assertiveness_low: 0 accepted, 1 edited, 0 rejected\n") != std::string::npos);

  auto j = nlohmann::json::parse(run({"audit", "overrides", "--store", db, "--format", "json"}).out);
  REQUIRE(j.is_array());
  CHECK(j[0]["rejected"].get<int>() + j[0]["edited"].get<int>() >= 1);
  // Each reason as data, not only as a sentence.
  bool found = false;
  for (const auto& rule : j) {
    if (rule["rule"] != "alexithymia_possible") continue;
    REQUIRE(rule["reasoned_decisions"].size() == 1);
    const auto& d0 = rule["reasoned_decisions"][0];
    CHECK(d0["action"] == "reject");
    CHECK(d0["item"] == "possible_alexithymia");
    CHECK(d0["plan"] == 1);
    CHECK(d0["by"] == "dr_a");
    CHECK(d0["date"].get<std::string>().size() == 10);
    CHECK(d0["reason"] == "scored during an acute episode");
    // The review record that holds it, and the rule text it was about.
    CHECK(d0["record"] == 3);
    CHECK(d0["rule_sha256"].get<std::string>().size() == 64);
    found = true;
  }
  CHECK(found);
  // A later decision on the same item of the same plan replaces the earlier.
  REQUIRE(run({"review", "1", "--store", db, "--accept", "possible_alexithymia"}).code == 0);
  auto o2 = run({"audit", "overrides", "--store", db});
  CHECK(o2.out.find("alexithymia_possible: 1 accepted, 0 edited, 0 rejected\n") != std::string::npos);
  // Only decisions since a date.
  CHECK(run({"audit", "overrides", "--store", db, "--since", "2999-01-01"}).out ==
        "no decisions recorded since 2999-01-01\n");
  // Decisions are tied to the rule text behind each item.
  auto shown = nlohmann::json::parse(run({"audit", "show", "3", "--store", db, "--format", "json"}).out);
  auto d = shown["body"]["decisions"][0];
  CHECK(d["item"] == "weak_relationship");
  CHECK(d["rules"][0]["id"] == "weak_alliance");
  CHECK(d["rules"][0]["sha256"].get<std::string>().size() == 64);
  // Decisions are chained like plans.
  CHECK(run({"audit", "verify", "--store", db}).out.find("5 records") != std::string::npos);
  // The plan shows its decisions.
  auto plan1 = run({"audit", "show", "1", "--store", db});
  CHECK(plan1.out.find("reject possible_alexithymia (record 3, dr_a") != std::string::npos);
  // The later acceptance (record 5) replaced that rejection: audit show
  // says which decision counts, as overrides counts it.
  CHECK(plan1.out.find("; reason: scored during an acute episode [replaced by record 5]\n") != std::string::npos);
  CHECK(plan1.out.find("accept possible_alexithymia (record 5") != std::string::npos);
  auto plan1j = nlohmann::json::parse(run({"audit", "show", "1", "--store", db, "--format", "json"}).out);
  int current = 0, replaced = 0;
  for (const auto& dd : plan1j["decisions"]) {
    if (dd["item"] != "possible_alexithymia") continue;
    (dd["current"] == true ? current : replaced) += 1;
    if (dd["current"] == true) CHECK(dd["record"] == 5);
  }
  CHECK(current == 1);
  CHECK(replaced == 1);
  // Each item names the rules that proposed it (with their hashes) and the
  // decision that counts on it; the plan's rule set was a draft.
  CHECK(plan1.out.find("\n  rule set status when planned: draft (not approved)\n") != std::string::npos);
  CHECK(plan1.out.find("flag possible_alexithymia [confirmed; accepted]: ") != std::string::npos);
  CHECK(plan1.out.find("\n      proposed by: alexithymia_possible (") != std::string::npos);
  // A review record shows what each decision was on: the item's text and
  // the rules behind it, as the plan gave them.
  auto review3 = run({"audit", "show", "3", "--store", db});
  CHECK(review3.out.find("\n      the item read: TAS-20 is in the 'possible alexithymia' range") != std::string::npos);
  CHECK(review3.out.find("\n      proposed by: alexithymia_possible (") != std::string::npos);
}

TEST_CASE("audit show lists the items the rules excluded, with the rules that proposed and removed them") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  auto o = run({"audit", "show", "1", "--store", db});
  CHECK(o.out.find("\nEXCLUDED (proposed, then removed by a rule's exclude)\n"
                   "  solution communication_analysis_affect: proposed by emotion_expression_difficulty (") !=
        std::string::npos);
  CHECK(o.out.find("); removed by dispute_work\n") != std::string::npos);
  const std::string empty = std::string(IPTPLAN_SOURCE_DIR) + "/examples/empty.toml";
  REQUIRE(run({"plan", empty, "--record", "--store", db}).code == 0);
  CHECK(run({"audit", "show", "2", "--store", db}).out.find("EXCLUDED (proposed, then removed by a rule's exclude)\n  (none)\n") !=
        std::string::npos);
}

TEST_CASE("review refuses what it cannot record faithfully") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  CHECK(run({"review", "1", "--store", db}).code == 2);  // no decision
  // An option where the items were due (from an auditor's trial: "no store").
  auto option = run({"review", "1", "--accept", "--store", db});
  CHECK(option.code == 2);
  CHECK(option.err.find("--accept takes the ids of plan items (as 'iptplan audit show ID' lists them), but '--store' "
                        "is an option: give the items right after it") != std::string::npos);
  CHECK(run({"review", "1", "--reject", "--reason", "x", "--store", db}).code == 2);
  auto no_reason = run({"review", "1", "--store", db, "--reject", "weak_relationship"});
  CHECK(no_reason.code == 2);
  CHECK(no_reason.err.find("a rejection needs a reason") != std::string::npos);
  auto twice = run({"review", "1", "--store", db, "--accept", "weak_relationship", "--reject",
                    "weak_relationship", "--reason", "x"});
  CHECK(twice.code == 2);
  auto unknown = run({"review", "1", "--store", db, "--accept", "weak_relationshp"});
  CHECK(unknown.code == 1);
  CHECK(unknown.err.find("plan 1 has no item 'weak_relationshp'; did you mean 'weak_relationship'?") !=
        std::string::npos);
  CHECK(run({"review", "9", "--store", db, "--accept", "weak_relationship"}).code == 1);
  // An item the rules excluded (from an auditor's trial: "has no item"):
  // said as such, with the rule that removed it.
  const std::string couple = std::string(IPTPLAN_SOURCE_DIR) + "/examples/couple.toml";
  auto rec2 = run({"plan", couple, "--record", "--store", db});
  REQUIRE(rec2.code == 0);
  auto excluded = run({"review", "2", "--store", db, "--accept", "dispute_role_play[partner]"});
  CHECK(excluded.code == 1);
  CHECK(excluded.err.find("plan 2 lists dispute_role_play[partner] among its excluded items (removed by rule "
                          "partner_joint_sessions): it is not part of the plan, so it cannot be accepted") !=
        std::string::npos);
  // An option's name taken for a value (from an auditor's trial: the text
  // "--reason" was recorded as the edit, for good): refused, nothing added.
  auto swallowed = run({"review", "1", "--store", db, "--edit", "weak_relationship", "--reason"});
  CHECK(swallowed.code == 2);
  CHECK(swallowed.err.find("--edit takes the item, then its new text in quotes") != std::string::npos);
  // --edit with no text at all, as the last option: said in the same words,
  // not in the option parser's ("--edit: 2 required [TEXT,TEXT] missing").
  auto no_text = run({"review", "1", "--store", db, "--edit", "weak_relationship"});
  CHECK(no_text.code == 2);
  CHECK(no_text.err.find("--edit takes the item, then its new text in quotes: --edit ITEM \"new text\"") !=
        std::string::npos);
  CHECK(no_text.err.find("required") == std::string::npos);
  CHECK(run({"review", "1", "--store", db, "--reject", "weak_relationship", "--reason", "--accept"}).code == 2);
  auto list_after = run({"audit", "list", "--store", db, "--format", "json"});
  CHECK(nlohmann::json::parse(list_after.out).size() == 2);  // the two plans
  // A reason an auditor cannot read: a letter, a single word.
  for (const char* few : {"x", "acute", "no 1", "ok ok"}) {
    auto r = run({"review", "1", "--store", db, "--reject", "weak_relationship", "--reason", few});
    CHECK(r.code == 2);
    CHECK(r.err.find("the reason is read by auditors long after: say in a few words why") != std::string::npos);
    // Not echoed: a reason may be anything typed.
    CHECK(r.err.find(std::string("'") + few + "'") == std::string::npos);
  }
  // A date in a reason or a new text stays on record for good and can
  // identify a client (from a trial: "Mary Smith (DOB 1980-01-02)").
  for (const char* dated : {"client born 1980-01-02 prefers this", "seen on 2/1/80 with her sister",
                            "moved house 02.01.1980, not now"}) {
    auto r = run({"review", "1", "--store", db, "--reject", "weak_relationship", "--reason", dated});
    CHECK(r.code == 2);
    CHECK(r.err.find("the reason holds what reads as a date") != std::string::npos);
    auto e = run({"review", "1", "--store", db, "--edit", "weak_relationship", dated, "--reason", "her own words"});
    CHECK(e.code == 2);
    CHECK(e.err.find("holds what reads as a date") != std::string::npos);
  }
  // Numbers that are not dates are text: a score, a range, a session.
  for (const char* numbers : {"PHQ-9 went 12-14 over sessions 3/12, version 1.2.3",
                              "PHQ-9 went 12-14-16 over sessions 8-12-16", "version 1.2.3, month 14/20/1980"}) {
    INFO(numbers);
    CHECK(run({"review", "1", "--store", db, "--reject", "weak_relationship", "--reason", numbers}).code == 0);
  }
  auto blank = run({"review", "1", "--store", db, "--reject", "weak_relationship", "--reason", "  \t "});
  CHECK(blank.code == 2);
  CHECK(blank.err.find("a rejection needs a reason") != std::string::npos);
  // Nothing was recorded by any of these but the three reviews without a
  // date: the two plans and them.
  CHECK(run({"audit", "verify", "--store", db}).out.find(": 5 records and") != std::string::npos);
}

TEST_CASE("where the store is: --store, IPTPLAN_STORE, or [store] path in the configuration file") {
  scratch s;
  std::string db = (s.dir / "env.db").string();
  ::setenv("IPTPLAN_STORE", db.c_str(), 1);
  ::setenv("IPTPLAN_USER", "dr_env", 1);
  auto r = run({"plan", kJane, "--record"});
  ::unsetenv("IPTPLAN_STORE");
  ::unsetenv("IPTPLAN_USER");
  REQUIRE(r.code == 0);
  CHECK(fs::exists(db));
  CHECK(run({"audit", "list", "--store", db}).out.find("dr_env  plan  client C-0001") != std::string::npos);
  // Two rule sets of the same name and version are told apart by their hash.
  auto listed = run({"audit", "list", "--store", db}).out;
  auto built_in = nlohmann::json::parse(run({"plan", kJane, "--format", "json"}).out)["provenance"]["rule_set"]["sha256"];
  CHECK(listed.find("iptplan-default 0.2.0 (" + built_in.get<std::string>().substr(0, 12) + ", draft), ") !=
        std::string::npos);

  std::string cfg_db = (s.dir / "cfg.db").string();
  std::string cfg = s.write("config.toml", "[store]\npath = \"" + cfg_db + "\"\n");
  ::setenv("IPTPLAN_CONFIG", cfg.c_str(), 1);
  auto c = run({"plan", kJane, "--record"});
  auto l = run({"audit", "list"});
  ::unsetenv("IPTPLAN_CONFIG");
  CHECK(c.code == 0);
  CHECK(fs::exists(cfg_db));
  CHECK(l.out.rfind("1  ", 0) == 0);

  // A relative path in the configuration file is relative to its folder.
  std::string rel_cfg = s.write("etc/config.toml", "[store]\npath = \"../rel.db\"\n");
  ::setenv("IPTPLAN_CONFIG", rel_cfg.c_str(), 1);
  CHECK(run({"plan", kJane, "--record"}).code == 0);
  ::unsetenv("IPTPLAN_CONFIG");
  CHECK(fs::exists(s.dir / "rel.db"));

  // A misspelt setting or section is an error at its place, never a store
  // left unset in silence.
  for (const auto& [text, want] : std::vector<std::pair<std::string, std::string>>{
           {"[store]\npaht = \"x.db\"\n", ":2:1: error: 'paht' is not a setting of [store]; it takes path (did you "
                                          "mean 'path'?) [config.unknown]"},
           {"[stor]\npath = \"x.db\"\n", ":1:2: error: 'stor' is not a section of the configuration file; it has "
                                         "[store] with path (did you mean 'store'?) [config.unknown]"}}) {
    std::string bad_cfg = s.write("bad.toml", text);
    ::setenv("IPTPLAN_CONFIG", bad_cfg.c_str(), 1);
    auto bad = run({"plan", kJane, "--record"});
    ::unsetenv("IPTPLAN_CONFIG");
    CHECK(bad.code != 0);
    CHECK(bad.out.empty());
    CHECK(bad.err.find(bad_cfg + want) != std::string::npos);
  }

  // A configuration path with an escape sequence in it (from the
  // environment) is shown escaped on every line that names it.
  {
    ::setenv("IPTPLAN_CONFIG", "c\x1b]0;T\x07", 1);
    auto bad = run({"audit", "list"});
    ::unsetenv("IPTPLAN_CONFIG");
    CHECK(bad.code != 0);
    CHECK(bad.err.find('\x1b') == std::string::npos);
    CHECK(bad.err.find("the configuration file c\\x1b]0;T\\x07 could not be read") != std::string::npos);
  }

  // No store anywhere: a usage error naming the file to set, and no plan
  // shown or recorded silently.
  std::string empty_cfg = s.write("empty.toml", "# nothing\n");
  ::setenv("IPTPLAN_CONFIG", empty_cfg.c_str(), 1);
  auto none = run({"plan", kJane, "--record"});
  auto none_audit = run({"audit", "list"});
  ::unsetenv("IPTPLAN_CONFIG");
  CHECK(none.code == 2);
  CHECK(none.out.empty());
  CHECK(none.err.find("no store: give --store FILE, set IPTPLAN_STORE, or set [store] path in " + empty_cfg) !=
        std::string::npos);
  CHECK(none_audit.code == 2);

  // A configuration file that is missing, malformed or wrong is an error,
  // not silently ignored.
  for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
           {"missing.toml", ""}, {"broken.toml", "[store\npath = 1\n"}, {"number.toml", "[store]\npath = 42\n"}}) {
    INFO(name);
    std::string path = (s.dir / name).string();
    if (!text.empty()) s.write(name, text);
    ::setenv("IPTPLAN_CONFIG", path.c_str(), 1);
    auto r = run({"plan", kJane, "--record"});
    ::unsetenv("IPTPLAN_CONFIG");
    CHECK(r.code == 2);
    CHECK(r.err.find(path) != std::string::npos);
  }
}

TEST_CASE("a file that is not a store is refused and left as it was, a new store is private") {
  scratch s;
  std::string notes = s.write("notes.toml", "[client]\nid = \"C-1\"\n");
  auto r = run({"plan", kJane, "--record", "--store", notes});
  CHECK(r.code == 2);  // a TOML file is never written over
  CHECK(slurp(notes) == "[client]\nid = \"C-1\"\n");
  CHECK(run({"audit", "verify", "--store", (s.dir / "missing.db").string()}).code == 1);
  CHECK_FALSE(fs::exists(s.dir / "missing.db"));
  std::string db = (s.dir / "new.db").string();
  REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  CHECK((fs::status(db).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  // A plan with an error is not recorded.
  std::string bad = s.write("bad.toml", "[phq9]\ntotal = 99\n");
  CHECK(run({"plan", bad, "--record", "--store", db}).code == 1);
  CHECK(run({"audit", "verify", "--store", db}).out.find(": 1 record and") != std::string::npos);
}

TEST_CASE("store commands check their arguments before opening the store") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  for (auto args : std::vector<std::vector<std::string>>{
           {"verify", "99999999999999999999", "--store", db},
           {"audit", "show", "99999999999999999999", "--store", db},
           {"audit", "show", "0", "--store", db},
           {"audit", "show", "1x", "--store", db},
           {"audit", "overrides", "--since", "26-11-2026", "--store", db},
           {"audit", "overrides", "--since", "2026-13-45", "--store", db},
           {"review", "1", "--accept", "weak_relationship", "--reason", "kept", "--store", db},
           {"review", "1", "--accept", "weak_relationship", "--by", "", "--store", db},
           {"review", "1", "--accept", "weak_relationship", "--by", "dr\x1b[2J", "--store", db},
           // Names and texts that show nothing (a hostile trial): a
           // zero-width space, a byte-order mark, no-break spaces.
           {"review", "1", "--accept", "weak_relationship", "--by", "\xe2\x80\x8b", "--store", db},
           {"plan", kJane, "--record", "--by", "\xef\xbb\xbf \xc2\xa0", "--store", db},
           {"review", "1", "--edit", "weak_relationship", "   ", "--by", "dr_a", "--store", db},
           {"review", "1", "--reject", "weak_relationship", "--reason", "\xe2\x80\x8b\n", "--by", "dr_a", "--store", db},
           // Fillers that show nothing: Hangul filler U+3164, the blank
           // Braille pattern U+2800, a tag character U+E0020.
           {"review", "1", "--accept", "weak_relationship", "--by", "\xe3\x85\xa4", "--store", db},
           {"review", "1", "--reject", "weak_relationship", "--reason", "\xe3\x85\xa4\xe2\xa0\x80\xf3\xa0\x80\xa0",
            "--by", "dr_a", "--store", db},
           {"plan", kJane, "--record", "--by", "a\nb", "--store", db}}) {
    INFO(args[0] << " " << args[1] << " " << args[2]);
    auto r = run(args);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
  }
  CHECK(run({"audit", "verify", "--store", db}).out.find(": 1 record and") != std::string::npos);
  CHECK(run({"audit", "overrides", "--since", "2026-01-31", "--store", db}).code == 0);
}

TEST_CASE("findings with keys the vocabulary does not know are never recorded, even with --allow-unknown") {
  // From an auditor's trial: an ignored key holding a name and an address
  // was kept word for word in the append-only store.
  scratch s;
  std::string db = (s.dir / "s.db").string();
  std::string jane = slurp(kJane);
  auto f = s.write("unknown.toml", jane + "\n[client_extra]\nnom = \"Mary Smith, 12 Elm Road\"\n");
  auto r = run({"plan", f, "--allow-unknown", "--record", "--store", db, "--by", "dr_a"});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("keys that are not in the vocabulary are never recorded") != std::string::npos);
  CHECK(r.err.find("[plan.record]") != std::string::npos);
  CHECK(r.err.find("nothing was recorded") != std::string::npos);
  CHECK(r.err.find("Elm Road") == std::string::npos);
  if (fs::exists(db)) CHECK(slurp(db).find("Elm Road") == std::string::npos);
  // Without --record the plan is made, with the warning.
  auto p = run({"plan", f, "--allow-unknown"});
  CHECK(p.code == 0);
  // Two files, one with an unknown key: neither is recorded.
  auto two = run({"plan", kJane, f, "--allow-unknown", "--record", "--store", db, "--by", "dr_a"});
  CHECK(two.code == 1);
  if (fs::exists(db)) CHECK(run({"audit", "list", "--store", db}).out.find("plan 1") == std::string::npos);
}

TEST_CASE("nothing is recorded when the plan cannot be delivered to -o") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  std::string target = s.write("target.txt", "old\n");
  fs::create_symlink(target, s.dir / "link.txt");
  CHECK(run({"plan", kJane, "--record", "--store", db, "-o", (s.dir / "nodir" / "x.md").string()}).code == 1);
  CHECK(run({"plan", kJane, "--record", "--store", db, "-o", (s.dir / "link.txt").string()}).code == 1);
  CHECK_FALSE(fs::exists(db));
}

TEST_CASE("review and overrides refuse a store that does not verify, show refuses a changed record") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  REQUIRE(run({"review", "1", "--store", db, "--reject", "possible_alexithymia", "--reason", "acute episode"}).code == 0);
  sql(db, "UPDATE records SET body = replace(body, 'acute', 'other') WHERE id = 2");
  auto o = run({"audit", "overrides", "--store", db});
  CHECK(o.code == 1);
  CHECK(o.err.find("record 2 does not verify") != std::string::npos);
  CHECK(o.out.find("other") == std::string::npos);
  CHECK(run({"review", "1", "--store", db, "--accept", "weak_relationship"}).code == 1);
  auto show = run({"audit", "show", "2", "--store", db});
  CHECK(show.code == 1);
  CHECK(show.out.find("other") == std::string::npos);
  // The plan itself is intact, but its decisions come from the changed
  // record: showing the plan is refused too.
  auto plan = run({"audit", "show", "1", "--store", db});
  CHECK(plan.code == 1);
  CHECK(plan.err.find("record 2 does not verify") != std::string::npos);
  CHECK(plan.out.find("other") == std::string::npos);
  sql(db, "SELECT 1");
  // Nothing was appended to the broken chain.
  auto list = run({"audit", "list", "--store", db, "--format", "json"});
  CHECK(nlohmann::json::parse(list.out).size() == 2);
}

TEST_CASE("show, review and why --record check the records they read, in constant time, and audit verify the rest") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  for (int i = 0; i < 4; ++i) REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  REQUIRE(run({"review", "1", "--store", db, "--accept", "weak_relationship"}).code == 0);  // record 5
  REQUIRE(run({"review", "3", "--store", db, "--accept", "weak_relationship"}).code == 0);  // record 6
  // Plan 2 changed: plan 4, two records away, is read and reviewed as
  // before; audit verify names record 2.
  sql(db, "UPDATE records SET by = 'someone else' WHERE id = 2");
  CHECK(run({"audit", "show", "4", "--store", db}).code == 0);
  CHECK(run({"why", "weak_relationship", "--record", "4", "--store", db}).code == 0);
  auto verify = run({"audit", "verify", "--store", db});
  CHECK(verify.code == 1);
  CHECK(verify.out.find("record 2 does not verify") != std::string::npos);
  // Plan 2 itself, and plan 3, which names it, are refused; plan 1, which
  // record 2 still names, is intact and shown.
  CHECK(run({"audit", "show", "1", "--store", db}).code == 0);
  for (const char* id : {"2", "3"}) {
    auto show = run({"audit", "show", id, "--store", db});
    CHECK(show.code == 1);
    CHECK(show.err.find("record 2 does not verify") != std::string::npos);
    CHECK(show.err.find("nothing is read from or added to a record that does not verify") != std::string::npos);
  }
  auto why = run({"why", "weak_relationship", "--record", "2", "--store", db});
  CHECK(why.code == 1);
  CHECK(why.out.empty());
  auto review = run({"review", "2", "--store", db, "--accept", "weak_relationship"});
  CHECK(review.code == 1);
  CHECK(review.err.find("record 2 does not verify") != std::string::npos);
  // A changed review of a plan stops showing that plan (its decisions are
  // shown with it), not another plan.
  std::string db2 = (s.dir / "s2.db").string();
  for (int i = 0; i < 2; ++i) REQUIRE(run({"plan", kJane, "--record", "--store", db2}).code == 0);
  REQUIRE(run({"review", "1", "--store", db2, "--accept", "weak_relationship"}).code == 0);  // record 3
  sql(db2, "UPDATE records SET by = 'someone else' WHERE id = 3");
  auto first = run({"audit", "show", "1", "--store", db2});
  CHECK(first.code == 1);
  CHECK(first.err.find("record 3 does not verify") != std::string::npos);
  CHECK(first.out.find("someone else") == std::string::npos);
  CHECK(run({"audit", "show", "2", "--store", db2}).code == 0);
}

TEST_CASE("plan --record adds nothing to a store whose tail does not verify, and prints no plan") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  auto fresh = [&] {
    fs::remove(db);
    for (int i = 0; i < 3; ++i) REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  };
  auto refused = [&](const std::string& why) {
    auto r = run({"plan", kJane, "--record", "--store", db});
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(r.err.find(": the store does not verify: " + why) != std::string::npos);
    CHECK(r.err.find("nothing is added to a store that does not verify (see 'iptplan audit verify'); the plan was "
                     "not recorded") != std::string::npos);
  };
  fresh();
  sql(db, "DELETE FROM records WHERE id = 2");
  refused("it holds 2 records but the last is numbered 3 (records were removed or inserted)");
  fresh();
  sql(db, "UPDATE records SET by = 'someone else' WHERE id = 3");
  refused("record 3 was changed after it was written");
  fresh();
  sql(db, "UPDATE records SET by = 'someone else' WHERE id = 2");
  refused("record 2 was changed after it was written");
  fresh();
  sql(db, "UPDATE snapshots SET files = replace(files, 'rule ', 'rulz ')");
  refused("its snapshot of this rule set (");
  // A review is refused on the same grounds (review verifies the whole chain).
  CHECK(run({"review", "1", "--store", db, "--accept", "weak_relationship"}).code == 1);
  fresh();
  sql(db, "DELETE FROM records WHERE id = 3");  // the last one: the count still matches
  CHECK(run({"plan", kJane, "--record", "--store", db}).code == 0);  // 'audit verify --expect' finds this
}

TEST_CASE("no comment of a findings file reaches the store, and comments change no plan or hash") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  // Jane's file with a comment on its first line, as a clinician might
  // write one, and another at the end of a line.
  std::string jane = slurp(kJane);
  std::string text = jane;
  text.insert(jane.find('\n'), "  # Client: Mary Smith, NHS 123 456 7890");
  text.insert(text.find("[client]") + 8, " # seen by Dr Jones # twice");
  auto named = s.write("named.toml", text);
  auto r = run({"plan", named, "--record", "--store", db, "--format", "json"});
  REQUIRE(r.code == 0);
  auto plain = run({"plan", kJane, "--format", "json"});
  CHECK(r.out == plain.out);  // the same plan, findings hash and all
  auto shown = run({"audit", "show", "1", "--store", db, "--format", "json"});
  REQUIRE(shown.code == 0);
  CHECK(shown.out.find("Mary") == std::string::npos);
  CHECK(shown.out.find("123 456") == std::string::npos);
  CHECK(shown.out.find("Jones") == std::string::npos);
  CHECK(slurp(db).find("Mary Smith") == std::string::npos);
  CHECK(run({"audit", "verify", "--store", db}).code == 0);
  auto replay = run({"verify", "1", "--store", db});
  CHECK(replay.code == 0);
  CHECK(replay.out.find("identical") != std::string::npos);
  // A plan file verifies against the findings file with its comments.
  auto plan_file = s.write("plan.json", r.out);
  CHECK(run({"verify", plan_file, named}).code == 0);
}

TEST_CASE("findings with an unknown key are refused by --record, even past the plan's cap on listed diagnostics") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  std::string findings = s.write("f.toml", slurp(kJane) + "\n[extra]\nfoo = 1\n");
  CHECK(run({"plan", findings, "--record", "--store", db, "--by", "dr_a"}).code == 1);  // strict: an error
  CHECK(run({"plan", findings, "--allow-unknown", "--record", "--store", db, "--by", "dr_a"}).code == 1);
  // An unknown-key warning past the plan's cap on listed diagnostics (60
  // rows without a label warn first) is refused all the same.
  std::string many = slurp(kJane);
  for (int i = 0; i < 60; ++i) many += "\n[[relationships]]\nrole = \"friend\"\n";
  many += "\n[zzz]\nfoo = 1\n";
  std::string crowded = s.write("crowded.toml", many);
  auto r = run({"plan", crowded, "--allow-unknown", "--record", "--store", db, "--by", "dr_a"});
  CHECK(r.code == 1);
  CHECK(r.err.find("[plan.record]") != std::string::npos);
  // A plan file made with --allow-unknown still verifies against its
  // findings, which are read the same way.
  auto made = run({"plan", findings, "--allow-unknown", "--format", "json"});
  REQUIRE(made.code == 0);
  auto plan_file = s.write("plan.json", made.out);
  CHECK(run({"verify", plan_file, findings}).code == 0);
  // A plan made strictly is recorded and replays.
  REQUIRE(run({"plan", kJane, "--record", "--store", db, "--by", "dr_a"}).code == 0);
  CHECK(run({"verify", "1", "--store", db}).code == 0);
  CHECK(run({"why", "weak_relationship", "--record", "1", "--store", db}).code == 0);
}

TEST_CASE("why and why-not --record explain a recorded plan with the rules it was made with") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  std::string rules = s.rules_copy();
  REQUIRE(run({"plan", kJane, "--rules", rules, "--record", "--store", db, "--by", "dr_a"}).code == 0);
  // The rules change after the plan was made: today's words differ.
  std::string alliance = slurp(rules + "/alliance.rules");
  auto at = alliance.find("Alliance as the clinician rates it");
  REQUIRE(at != std::string::npos);
  alliance.replace(at, 8, "Bond");
  std::ofstream(rules + "/alliance.rules", std::ios::binary) << alliance;
  auto why = run({"why", "weak_relationship", "--record", "1", "--store", db});
  CHECK(why.code == 0);
  CHECK(why.out.rfind("Plan 1 as recorded ", 0) == 0);
  CHECK(why.out.find(" by dr_a, with iptplan-default 0.2.0 (sha256 ") != std::string::npos);
  CHECK(why.out.find("; draft (not approved)):\n") != std::string::npos);
  CHECK(why.out.find("because: Alliance as the clinician rates it") != std::string::npos);
  // The clinicians' decisions on the item come after its why.
  CHECK(why.out.find("\nClinicians' decisions on weak_relationship (the last one counts):\n  none recorded\n") !=
        std::string::npos);
  REQUIRE(run({"review", "1", "--store", db, "--reject", "weak_relationship", "--reason", "the alliance is fine",
               "--by", "dr_b"})
              .code == 0);
  auto decided = run({"why", "weak_relationship", "--record", "1", "--store", db});
  CHECK(decided.out.find("\n  rejected by dr_b on ") != std::string::npos);
  // The same as data: the record explained and the decisions on the item
  // (from an auditor's trial: JSON had neither).
  auto dj = nlohmann::json::parse(run({"why", "weak_relationship", "--record", "1", "--store", db, "--format", "json"}).out);
  CHECK(dj["record"]["id"] == 1);
  CHECK(dj["record"]["by"] == "dr_a");
  CHECK(dj["record"]["rule_set"]["name"] == "iptplan-default");
  CHECK(dj["record"]["rule_set"]["status_when_planned"] == "draft (not approved)");
  CHECK(dj["record"]["findings_sha256"].get<std::string>().size() == 64);
  REQUIRE(dj["decisions"].size() == 1);
  CHECK(dj["decisions"][0]["action"] == "reject");
  CHECK(dj["decisions"][0]["by"] == "dr_b");
  CHECK(dj["decisions"][0]["reason"] == "the alliance is fine");
  CHECK(dj["in_plan"] == true);
  // audit list and show as data, not prose to parse.
  auto list = nlohmann::json::parse(run({"audit", "list", "--store", db, "--format", "json"}).out);
  CHECK(list[0]["client_id"] == "C-0001");
  CHECK(list[0]["rule_set"]["status"] == "draft");
  CHECK(list[0]["items"].get<int>() > 10);
  CHECK(list[1]["plan"] == 1);
  CHECK(list[1]["rejected"] == 1);
  auto shown = nlohmann::json::parse(run({"audit", "show", "1", "--store", db, "--format", "json"}).out);
  CHECK(shown["body"]["plan"]["object"] == nlohmann::json::parse(shown["body"]["plan"]["json"].get<std::string>()));
  CHECK(decided.out.find("; reason: the alliance is fine\n") != std::string::npos);
  CHECK(run({"why", "weak_relationship", kJane, "--rules", rules}).out.find("because: Bond as the clinician") !=
        std::string::npos);
  // A derived fact, why-not, and JSON (no header then).
  CHECK(run({"why", "risk.level", "--record", "1", "--store", db}).out.find("risk.level") != std::string::npos);
  auto not_in = run({"why-not", "severe_suicide_risk", "--record", "1", "--store", db});
  CHECK(not_in.code == 0);
  CHECK(not_in.out.find("severe_suicide_risk is not in the plan.") != std::string::npos);
  auto j = run({"why", "weak_relationship", "--record", "1", "--store", db, "--format", "json"});
  CHECK(j.code == 0);
  CHECK(nlohmann::json::parse(j.out).is_object());
  auto absent = run({"why", "severe_suicide_risk", "--record", "1", "--store", db});
  CHECK(absent.code == 1);
  CHECK(absent.out.find("Run: iptplan why-not severe_suicide_risk --record 1 --store " + db) != std::string::npos);
  // A name no rule knows is refused before anything is written to stdout.
  auto unknown = run({"why", "weak_relationshp", "--record", "1", "--store", db});
  CHECK(unknown.code == 2);
  CHECK(unknown.out.empty());
  CHECK(unknown.err.find("did you mean 'weak_relationship'?") != std::string::npos);
  // Arguments: FINDINGS or --record, not both; a review record is no plan.
  CHECK(run({"why", "weak_relationship", kJane, "--record", "1", "--store", db}).code == 2);
  CHECK(run({"why", "weak_relationship"}).code == 2);
  CHECK(run({"why", "weak_relationship", kJane, "--store", db}).code == 2);
  REQUIRE(run({"review", "1", "--store", db, "--accept", "weak_relationship"}).code == 0);
  auto review = run({"why", "weak_relationship", "--record", "2", "--store", db});
  CHECK(review.code == 1);
  CHECK(review.err.find("has no plan record 2 (record 2 is a review)") != std::string::npos);
  auto verify_review = run({"verify", "2", "--store", db});
  CHECK(verify_review.code == 1);
  CHECK(verify_review.err.find("has no plan record 2 (record 2 is a review: a review is checked with its plan by "
                               "'iptplan audit verify')") != std::string::npos);
  // Nothing is read from a store that does not verify.
  sql(db, "UPDATE records SET by = 'x' WHERE id = 1");
  auto broken = run({"why", "weak_relationship", "--record", "1", "--store", db});
  CHECK(broken.code == 1);
  CHECK(broken.out.empty());
  CHECK(broken.err.find("record 1 does not verify") != std::string::npos);
}

TEST_CASE("a store with no file name is refused, never a temporary database that keeps nothing") {
  scratch s;
  auto here = fs::current_path();
  fs::current_path(s.dir);
  auto r = run({"plan", kJane, "--record", "--store", "sqlite:", "--by", "t"});
  fs::current_path(here);
  CHECK(r.code != 0);
  CHECK(r.out.find("recorded") == std::string::npos);
  CHECK(r.err.find("no store file named (give its path, e.g. sqlite:plans.db)") != std::string::npos);
  CHECK(fs::is_empty(s.dir));
}

TEST_CASE("plan -o never writes over a plan store, whatever the format") {
  scratch s;
  std::string store = (s.dir / "y3.db").string();
  REQUIRE(run({"plan", kJane, "--record", "--store", store, "--by", "t"}).code == 0);
  auto before = slurp(store);
  auto r = run({"plan", kJane, "-o", store});
  CHECK(r.code == 2);
  CHECK(r.err.find("is a plan store (an SQLite database); iptplan never writes over one: choose another name") !=
        std::string::npos);
  CHECK(slurp(store) == before);
  auto md = run({"plan", kJane, "--format", "markdown", "-o", store});
  CHECK(md.code != 0);
  CHECK(slurp(store) == before);
  // The store still verifies.
  CHECK(run({"audit", "verify", "--store", store}).code == 0);
}

TEST_CASE("a store path that looks like an SQLite URI is a file's name all the same") {
  scratch s;
  auto here = fs::current_path();
  fs::current_path(s.dir);
  auto r = run({"plan", kJane, "--record", "--store", "file:mem?mode=memory"});
  auto list = run({"audit", "list", "--store", "file:mem?mode=memory"});
  fs::current_path(here);
  CHECK(r.code == 0);
  CHECK(fs::is_regular_file(s.dir / "file:mem?mode=memory"));  // recorded on disk, not in memory
  CHECK(list.code == 0);
  CHECK(list.out.find("client C-0001") != std::string::npos);
}

TEST_CASE("a plan file of an earlier release, whose findings hash covers the comments too, still verifies") {
  scratch s;
  auto now = run({"plan", kJane, "--format", "json"});
  REQUIRE(now.code == 0);
  auto j = nlohmann::json::parse(now.out);
  std::string hashed = j["provenance"]["findings"]["sha256"];
  std::string raw = iptplan::sha256_hex(slurp(kJane));
  REQUIRE(hashed != raw);  // Jane's file has comments
  std::string old = now.out;
  old.replace(old.find(hashed), hashed.size(), raw);
  auto v = run({"verify", s.write("old.json", old), kJane});
  CHECK(v.code == 0);
  CHECK(v.out.find("identical") != std::string::npos);
  CHECK(v.out.find("sha256 " + raw.substr(0, 12)) != std::string::npos);
}

TEST_CASE("verify never says DIFFERENT without saying what: a part added by hand, or other bytes only") {
  scratch s;
  auto now = run({"plan", kJane, "--format", "json"});
  REQUIRE(now.code == 0);
  auto j = nlohmann::json::parse(now.out);
  j["extra_key"] = 1;
  auto extra = run({"verify", s.write("extra.json", j.dump(2)), kJane});
  CHECK(extra.code == 1);
  CHECK(extra.out.find("DIFFERENT") != std::string::npos);
  CHECK(extra.out.find("other parts that differ: extra_key (not in a plan)") != std::string::npos);
  // The same plan on one line: the same content, other bytes.
  auto flat = run({"verify", s.write("flat.json", nlohmann::json::parse(now.out).dump()), kJane});
  CHECK(flat.code == 1);
  CHECK(flat.out.find("the recorded file's bytes differ from the replay's, but not in its items or parts") !=
        std::string::npos);
}

TEST_CASE("replay that cannot run says why, as JSON too") {
  scratch s;
  std::string plan = (s.dir / "plan.json").string();
  REQUIRE(run({"plan", kJane, "--format", "json", "-o", plan}).code == 0);
  auto r = run({"verify", plan, kCouple, "--format", "json"});
  CHECK(r.code == 1);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["identical"] == false);
  CHECK(j["problem"] == "these are not the findings it was planned from (their hash differs)");
  // A plan file of the wrong shape: an answer, never an internal error.
  auto shaped = nlohmann::json::parse(slurp(plan));
  for (auto edit : std::vector<std::function<void(nlohmann::json&)>>{
           [](nlohmann::json& d) { d["provenance"] = nlohmann::json::object(); },
           [](nlohmann::json& d) { d["provenance"]["findings"] = 1; },
           [](nlohmann::json& d) { d["provenance"] = 5; },
           [](nlohmann::json& d) { d["flags"][0]["because"] = nlohmann::json::array({7}); }}) {
    auto d = shaped;
    edit(d);
    auto bad = run({"verify", s.write("bad.json", d.dump()), kJane, "--format", "json"});
    INFO(bad.err);
    CHECK(bad.code == 1);
    CHECK(bad.err.find("internal error") == std::string::npos);
    CHECK(nlohmann::json::parse(bad.out)["identical"] == false);
  }
}

TEST_CASE("audit verify names the record whose hash the next one no longer names, and notes unused snapshots") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  for (int i = 0; i < 3; ++i) REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  auto before = run({"audit", "verify", "--store", db});
  REQUIRE(before.code == 0);
  auto at = before.out.find("last record: 3, hash ");
  REQUIRE(at != std::string::npos);
  const std::string kept = before.out.substr(at + 21, 64);
  CHECK(run({"audit", "verify", "--store", db, "--expect", kept}).code == 0);
  CHECK(run({"audit", "verify", "--store", db, "--expect", kept.substr(0, 12)}).code == 0);
  std::string upper = kept;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(run({"audit", "verify", "--store", db, "--expect", upper}).code == 0);
  CHECK(run({"audit", "verify", "--store", db, "--expect", "abc"}).code == 2);
  sql(db, "DELETE FROM records WHERE id = 3");
  auto ok = run({"audit", "verify", "--store", db});
  CHECK(ok.code == 0);  // the last record removed: only a hash kept elsewhere shows it
  auto gone = run({"audit", "verify", "--store", db, "--expect", kept});
  CHECK(gone.code == 1);
  CHECK(gone.out.find("no record has the hash " + kept + ": records were removed or rewritten") != std::string::npos);
  sql(db, "DELETE FROM records");
  auto none = run({"audit", "verify", "--store", db});
  CHECK(none.code == 0);
  CHECK(none.out.find("note: 1 snapshot is used by no record") != std::string::npos);
  for (int i = 0; i < 3; ++i) REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  sql(db, "UPDATE records SET by = 'x', hash = 'recomputed' WHERE id = 2");
  auto bad = run({"audit", "verify", "--store", db});
  CHECK(bad.code == 1);
  CHECK(bad.out.find("record 2 does not verify") != std::string::npos);
}

TEST_CASE("audit verify finds a last record rewritten with its hash recomputed when it disagrees with itself") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  auto fresh = [&] {
    fs::remove(db);
    REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
    REQUIRE(run({"review", "1", "--store", db, "--reject", "possible_alexithymia", "--reason", "acute episode"}).code == 0);
    REQUIRE(run({"plan", kCouple, "--record", "--store", db}).code == 0);
    REQUIRE(run({"audit", "verify", "--store", db}).code == 0);
  };
  auto fails = [&](const std::string& why) {
    auto v = run({"audit", "verify", "--store", db});
    INFO(v.out);
    CHECK(v.code == 1);
    CHECK(v.out.find(why) != std::string::npos);
    return v;
  };
  auto replace = [](std::string from, std::string to) {
    return [from, to](std::string body) {
      auto at = body.find(from);
      REQUIRE(at != std::string::npos);
      return body.replace(at, from.size(), to);
    };
  };
  // The findings changed (PHQ-9 of the couple's client), hash recomputed.
  fresh();
  rewrite_record(db, 3, replace("total = ", "total = 2"));
  fails("record 3 does not verify: its findings do not match their recorded hash");
  auto replayed = run({"verify", "3", "--store", db});
  CHECK(replayed.code == 1);
  // The plan changed.
  fresh();
  rewrite_record(db, 3, replace("\\\"flags\\\": [", "\\\"flags\\\":  ["));
  fails("record 3 does not verify: its plan does not match its recorded hash");
  // Not replayed either (from an auditor's trial: verify said DIFFERENT,
  // blaming the rules or the program for a change made to the record).
  auto changed_plan = run({"verify", "3", "--store", db});
  CHECK(changed_plan.code == 1);
  CHECK(changed_plan.out.find("plan 3: not replayed: record 3 does not verify: its plan does not match its recorded "
                              "hash") != std::string::npos);
  CHECK(changed_plan.out.find("DIFFERENT") == std::string::npos);
  // A record replays with its own rule set: --rules does not go with an id.
  auto with_rules = run({"verify", "1", "--store", db, "--rules", "/nonexistent"});
  CHECK(with_rules.code == 2);
  CHECK(with_rules.err.find("--rules does not go with a record id") != std::string::npos);
  // A review rewritten before the last record: the next one names its old
  // hash. As the last record: a decision on an item its plan does not
  // hold, or a review of a plan that is not there.
  fresh();
  rewrite_record(db, 2, replace("acute", "other"));
  // From an auditor's trial: the record rewritten is named, not the next
  // one (whose own hash still holds), and audit list marks it.
  fails("record 2 does not verify: record 3, written after it, names another hash for it: it was changed after "
        "record 3 was written (its own hash recomputed), or another record was put in its place");
  CHECK(run({"audit", "show", "1", "--store", db}).out.find("other") == std::string::npos);
  {
    auto listed = run({"audit", "list", "--store", db});
    CHECK(listed.code == 1);
    CHECK(listed.out.find("\n! 2 ") != std::string::npos);
    CHECK(listed.out.rfind("1 ", 0) == 0);  // the record before it is not marked
    auto shown = run({"audit", "show", "2", "--store", db});
    CHECK(shown.code == 1);
    CHECK(shown.err.find("record 2 does not verify: record 3, written after it, names another hash for it") !=
          std::string::npos);
  }
  // A plan and a review of it, the review the last record, rewritten.
  auto review_rewritten = [&](const std::string& from, const std::string& to, const std::string& why) {
    fs::remove(db);
    REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
    REQUIRE(run({"review", "1", "--store", db, "--reject", "possible_alexithymia", "--reason", "acute episode"}).code == 0);
    rewrite_record(db, 2, replace(from, to));
    fails("record 2 does not verify: " + why);
  };
  review_rewritten("possible_alexithymia", "no_such_item", "it decides an item that plan 1 does not hold");
  // A decision made to blame another rule, or to quote another text (from
  // an auditor's trial: audit overrides then blamed the wrong rule).
  review_rewritten("\"id\":\"alexithymia_possible\"", "\"id\":\"weak_alliance\"",
                   "its decision on possible_alexithymia names rules that plan 1 does not give");
  review_rewritten("\"original_text\":\"", "\"original_text\":\"x",
                   "its decision on possible_alexithymia quotes a text that plan 1 does not give");
  review_rewritten("\"id\":1}", "\"id\":7}",
                   "it reviews plan 7, which is not an earlier plan record with the hash it names");
}

TEST_CASE("a plan rewritten with every hash after it recomputed is named by the review that names its old hash") {
  // From an auditor's trial: plan record 2's author was changed and the
  // chain recomputed from it on; verify blamed the honest review (record
  // 4), audit list left record 2 unmarked, and a review of the forged plan
  // was accepted.
  scratch s;
  std::string db = (s.dir / "s.db").string();
  REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  REQUIRE(run({"plan", kCouple, "--record", "--store", db}).code == 0);
  REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  REQUIRE(run({"review", "2", "--store", db, "--accept", "clinical_depression"}).code == 0);
  {
    auto st = iptplan::store::open_store(db, false);
    std::vector<iptplan::store::record> rs;
    for (std::int64_t id = 2; id <= 4; ++id) rs.push_back(*st->get(id));
    st.reset();
    rs[0].by = "dr_z";
    std::string prev = iptplan::store::open_store(db, false)->get(1)->hash;
    for (auto& r : rs) {
      r.prev_hash = prev;
      r.hash = iptplan::store::record_hash(r);
      prev = r.hash;
      sql(db, "UPDATE records SET by = '" + r.by + "', prev_hash = '" + r.prev_hash + "', hash = '" + r.hash +
                  "' WHERE id = " + std::to_string(r.id));
    }
  }
  const std::string why = "record 2 does not verify: record 4, a review written after it, names it by another hash: "
                          "it was changed after record 4 was written (its hash and those after it recomputed), or "
                          "record 4 names a hash the plan never had";
  auto v = run({"audit", "verify", "--store", db});
  CHECK(v.code == 1);
  CHECK((v.out + v.err).find(why) != std::string::npos);
  auto listed = run({"audit", "list", "--store", db});
  CHECK(listed.out.find("\n! 2 ") != std::string::npos);
  CHECK(listed.out.rfind("1 ", 0) == 0);
  // Read on its own, the plan is refused as well: no replay, no review.
  auto replay = run({"verify", "2", "--store", db});
  CHECK(replay.code == 1);
  CHECK(replay.out.find("names it by another hash") != std::string::npos);
  auto review = run({"review", "2", "--store", db, "--accept", "clinical_depression"});
  CHECK(review.code == 1);
  CHECK(iptplan::store::open_store(db, false)->get(5) == std::nullopt);
}

TEST_CASE("review suggests the items an id without its key, or in other capitals, could mean") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  auto base = run({"review", "1", "--store", db, "--accept", "role_dispute"});
  CHECK(base.code == 1);
  CHECK(base.err.find("did you mean 'role_dispute[partner]'?") != std::string::npos);
  auto caps = run({"review", "1", "--store", db, "--accept", "ROLE_DISPUTE[partner]"});
  CHECK(caps.err.find("did you mean 'role_dispute[partner]'?") != std::string::npos);
}

TEST_CASE("the store is never a findings file, a file of the rule set, the plan's -o file or the end of a dangling link") {
  scratch s;
  std::string findings = s.write("client.toml", slurp(kJane));
  std::string empty = s.write("empty.toml", "");
  std::string rules = s.rules_copy();
  auto refused = [](const result& r, const std::string& why) {
    CHECK(r.code == 2);
    CHECK(r.err.find(why) != std::string::npos);
  };
  refused(run({"plan", findings, "--record", "--store", findings, "--by", "a"}), "is one of the findings files");
  refused(run({"plan", empty, "--record", "--store", "sqlite:" + empty, "--by", "a"}), "is one of the findings files");
  CHECK(fs::file_size(empty) == 0);
  refused(run({"plan", findings, "--rules", rules, "--record", "--store", rules + "/x.db", "--by", "a"}),
          "is inside the rule set folder");
  CHECK_FALSE(fs::exists(rules + "/x.db"));
  std::string out = (s.dir / "plan.db").string();
  refused(run({"plan", findings, "-o", out, "--record", "--store", out, "--by", "a"}),
          "is the file -o writes the plan to");
  // By any spelling, before either exists.
  refused(run({"plan", findings, "-o", out, "--record", "--store", (s.dir / "." / "sub" / ".." / "plan.db").string(),
               "--by", "a"}),
          "is the file -o writes the plan to");
  CHECK_FALSE(fs::exists(out));
  // A link to a store that is not there is not followed to make one.
  std::string target = (s.dir / "moved.db").string(), link = (s.dir / "link.db").string();
  fs::create_symlink(target, link);
  auto dangling = run({"plan", findings, "--record", "--store", link, "--by", "a"});
  CHECK(dangling.code == 1);
  CHECK(dangling.err.find("a symbolic link to a file that does not exist") != std::string::npos);
  CHECK_FALSE(fs::exists(target));
  // A link to a store that is there is followed.
  REQUIRE(run({"plan", findings, "--record", "--store", target, "--by", "a"}).code == 0);
  CHECK(run({"plan", findings, "--record", "--store", link, "--by", "a"}).code == 0);
  CHECK(run({"audit", "verify", "--store", target}).code == 0);
}

TEST_CASE("an empty file given as the store becomes a private store, an SQLite file of another program is refused") {
  scratch s;
  std::string empty = s.write("empty.db", "");
  fs::permissions(empty, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                             fs::perms::others_read);
  // A command that only reads leaves an empty file as it is.
  for (const auto& args : std::vector<std::vector<std::string>>{{"audit", "verify", "--store", empty},
                                                               {"audit", "list", "--store", empty},
                                                               {"review", "1", "--accept", "x", "--store", empty}}) {
    INFO(args[0] << " " << args[1]);
    auto r = run(args);
    CHECK(r.code == 1);
    CHECK(r.err.find("no such store: the file is empty") != std::string::npos);
    CHECK(fs::file_size(empty) == 0);
  }
  REQUIRE(run({"plan", kJane, "--record", "--store", empty}).code == 0);
  CHECK((fs::status(empty).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  std::string other = (s.dir / "other.db").string();
  sql(other, "CREATE TABLE t (x)");
  std::string before = slurp(other);
  for (const auto& args : std::vector<std::vector<std::string>>{{"audit", "list", "--store", other},
                                                               {"audit", "verify", "--store", other},
                                                               {"plan", kJane, "--record", "--store", other}}) {
    INFO(args[0] << " " << args[1]);
    auto r = run(args);
    CHECK(r.code == 1);
    CHECK(r.err.find("this is not an iptplan store") != std::string::npos);
    // Left untouched: not a byte changed, its journal mode included.
    CHECK(slurp(other) == before);
    CHECK_FALSE(fs::exists(other + "-wal"));
  }
  // A store with a trigger or a view added by hand (from a hostile trial:
  // a trigger ran at each append, copying records out and rewriting
  // others): refused, never run.
  for (const std::string& added :
       {std::string("CREATE TABLE pwn (x); CREATE TRIGGER t AFTER INSERT ON records BEGIN INSERT INTO pwn VALUES "
                    "(new.body); END;"),
        std::string("CREATE VIEW v AS SELECT * FROM records;")}) {
    INFO(added);
    std::string hooked = (s.dir / "hooked.db").string();
    fs::remove(hooked);
    REQUIRE(run({"plan", kJane, "--record", "--store", hooked}).code == 0);
    sql(hooked, added);
    for (const auto& args : std::vector<std::vector<std::string>>{{"audit", "verify", "--store", hooked},
                                                                 {"audit", "show", "1", "--store", hooked},
                                                                 {"plan", kJane, "--record", "--store", hooked}}) {
      INFO(args[0] << " " << args[1]);
      auto r = run(args);
      CHECK(r.code == 1);
      CHECK(r.err.find("the store does not verify: it holds a trigger or a view, which iptplan never makes") !=
            std::string::npos);
    }
  }
  // A file that is no database at all: refused, named, left as it was.
  std::string text = s.write("notes.db", "these are not records\n");
  for (const auto& args : std::vector<std::vector<std::string>>{{"audit", "verify", "--store", text},
                                                               {"plan", kJane, "--record", "--store", text}}) {
    auto r = run(args);
    CHECK(r.code == 1);
    CHECK(r.err.find(text + ": ") != std::string::npos);
    CHECK(r.err.find("not a database") != std::string::npos);
    CHECK(slurp(text) == "these are not records\n");
  }
}

TEST_CASE("verify of a plan file: an id holding control characters reaches the terminal escaped") {
  scratch s;
  auto plan = run({"plan", "examples/jane.toml", "--format", "json"});
  REQUIRE(plan.code == 0);
  auto j = nlohmann::json::parse(plan.out);
  bool changed = false;
  for (auto& f : j["flags"]) {
    if (f["id"] == "possible_alexithymia") {
      f["id"] = "x\x1b[31m\nFORGED";
      changed = true;
    }
  }
  REQUIRE(changed);
  auto file = s.write("plan.json", j.dump());
  auto v = run({"verify", file, "examples/jane.toml"});
  CHECK(v.code == 1);
  CHECK(v.out.find('\x1b') == std::string::npos);
  CHECK(v.out.find("\nFORGED") == std::string::npos);
  CHECK(v.out.find("x\\x1b[31m\\x0aFORGED") != std::string::npos);
}

TEST_CASE("audit overrides --since takes only a date of the calendar") {
  scratch s;
  auto db = (s.dir / "s.db").string();
  for (const char* bad : {"2026-02-30", "2026-04-31", "2025-02-29", "2026-13-01", "2026-00-10", ""}) {
    auto r = run({"audit", "overrides", "--since", bad, "--store", db});
    CHECK(r.code == 2);
    CHECK(r.err.find("--since takes a date as YYYY-MM-DD") != std::string::npos);
  }
  auto leap = run({"audit", "overrides", "--since", "2024-02-29", "--store", db});
  CHECK(leap.err.find("--since takes a date") == std::string::npos);
}

namespace {

// Runs the program as user and group 65534 (nobody), its output captured:
// {exit status, stdout + stderr}. Needs root; {-1, ""} otherwise.
std::pair<int, std::string> run_as_nobody(const std::vector<std::string>& args) {
  if (::geteuid() != 0) return {-1, ""};
  int out[2];
  REQUIRE(::pipe(out) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    ::close(out[0]);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(126);
    std::vector<char*> argv;
    std::string bin = IPTPLAN_BINARY;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

}  // namespace

TEST_CASE("a store this process may only read (another user's, in a folder it cannot write) is audited, never written") {
  // From a hostile trial: audit verify of a store readable but not
  // writable said "attempt to write a readonly database" (auditors read
  // archived stores).
  if (::geteuid() != 0) {
    WARN("not run: needs root to run the program as another user");
    return;
  }
  char tmpl[] = "/tmp/iptplan-ro-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const fs::path dir = tmpl;
  struct cleanup {
    fs::path d;
    ~cleanup() {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  } clean{dir};
  const std::string db = (dir / "s.db").string();
  REQUIRE(run({"plan", kJane, "--record", "--store", db, "--by", "c1"}).code == 0);
  REQUIRE(run({"plan", kJane, "--record", "--store", db, "--by", "c1"}).code == 0);
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(db, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  auto [code, text] = run_as_nobody({"audit", "verify", "--store", db});
  INFO(text);
  CHECK(code == 0);
  CHECK(text.find("2 records and 1 rule set snapshot: every record verifies") != std::string::npos);
  auto list = run_as_nobody({"audit", "list", "--store", db});
  CHECK(list.first == 0);
  auto replay = run_as_nobody({"verify", "2", "--store", db});
  INFO(replay.second);
  CHECK(replay.first == 0);
  CHECK(replay.second.find("plan 2: identical") != std::string::npos);
  // Recording is refused, and nothing is written.
  auto before = fs::file_size(db);
  auto review = run_as_nobody({"review", "1", "--accept", "weak_relationship", "--by", "x", "--store", db});
  CHECK(review.first == 1);
  CHECK(review.second.find("readonly database") != std::string::npos);
  CHECK(fs::file_size(db) == before);
  CHECK_FALSE(fs::exists(db + "-wal"));
  // Its owner records into it as before.
  CHECK(run({"plan", kJane, "--record", "--store", db, "--by", "c1"}).code == 0);
  CHECK(run({"audit", "verify", "--store", db}).code == 0);
}

TEST_CASE("a store named with a '/' at its end is refused, never written under another name") {
  // From a hostile trial: "s.db/" recorded into s.db, and then no reading
  // command found it.
  scratch s;
  auto db = (s.dir / "s.db").string();
  auto r = run({"plan", kJane, "--record", "--store", db + "/"});
  CHECK(r.code == 1);
  CHECK(r.err.find("s.db/: a store is a file; give its name without the '/' at the end") != std::string::npos);
  CHECK_FALSE(fs::exists(db));
  REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  auto v = run({"audit", "verify", "--store", db + "/"});
  CHECK(v.code == 1);
  CHECK(v.err.find("a store is a file") != std::string::npos);
}

TEST_CASE("verify of a plan file with a huge id or text shows each cut short, never a line of its size") {
  // From a hostile trial: a flag id of 100,000 characters was printed
  // whole, and an edited text verbatim.
  scratch s;
  auto plan = nlohmann::json::parse(run({"plan", kJane, "--format", "json"}).out);
  REQUIRE(!plan["challenges"].empty());
  plan["challenges"][0]["id"] = std::string(100000, 'x');
  plan["challenges"][1]["text"] = std::string(5000, 'y');
  auto file = s.write("p.json", plan.dump());
  auto r = run({"verify", file, kJane});
  CHECK(r.code == 1);
  std::istringstream lines(r.out);
  std::size_t longest = 0;
  for (std::string line; std::getline(lines, line);) longest = std::max(longest, line.size());
  CHECK(longest < 2000);
  CHECK(r.out.find("... (100000 bytes)") != std::string::npos);
  CHECK(r.out.find("... (5002 bytes)") != std::string::npos);  // the text as JSON, in its quotes
}

TEST_CASE("a store named in libpq's keyword form is a PostgreSQL store, whatever keyword comes first") {
  // From a review: only some of libpq's keywords were known, so
  // "sslcrl=... password=..." was taken for an SQLite file of that name,
  // created, and its name (with the password) shown.
  scratch s;
  auto here = fs::current_path();
  fs::current_path(s.dir);
  auto r = run({"audit", "list", "--store", "sslcrl=/x password=s3cret host=/nonexistent dbname=x"});
  auto rec = run({"plan", kJane, "--record", "--store",
                  "keepalives_idle=5 password=s3cret host=/nonexistent"});
  bool made = false;
  for (const auto& e : fs::directory_iterator(s.dir)) made = made || e.path().filename().string().find("s3cret") != std::string::npos;
  fs::current_path(here);
  CHECK(r.code == 1);
  CHECK(r.err.find("the PostgreSQL store cannot be reached") != std::string::npos);
  CHECK(r.err.find("s3cret") == std::string::npos);
  CHECK(rec.code == 1);
  CHECK(rec.err.find("s3cret") == std::string::npos);
  CHECK_FALSE(made);
}

TEST_CASE("audit verify names a record backdated, given a time of another form or an author the store refuses") {
  // From an auditor's trial: each rewritten with the chain recomputed, all
  // verified.
  auto tamper = [](const std::string& db, std::int64_t id, const std::string& column, const std::string& value) {
    auto st = iptplan::store::open_store(db, false);
    std::vector<iptplan::store::record> rs;
    for (std::int64_t k = id; st->get(k); ++k) rs.push_back(*st->get(k));
    std::string prev = id > 1 ? st->get(id - 1)->hash : std::string(64, '0');
    st.reset();
    if (column == "created") rs[0].created = value;
    if (column == "by") rs[0].by = value;
    for (auto& r : rs) {
      r.prev_hash = prev;
      r.hash = iptplan::store::record_hash(r);
      prev = r.hash;
      sqlite3* h = nullptr;
      REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
      sqlite3_stmt* q = nullptr;
      REQUIRE(sqlite3_prepare_v2(h, "UPDATE records SET created = ?1, by = ?2, prev_hash = ?3, hash = ?4 WHERE id = ?5",
                                 -1, &q, nullptr) == SQLITE_OK);
      sqlite3_bind_text(q, 1, r.created.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(q, 2, r.by.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(q, 3, r.prev_hash.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(q, 4, r.hash.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(q, 5, r.id);
      CHECK(sqlite3_step(q) == SQLITE_DONE);
      sqlite3_finalize(q);
      sqlite3_close(h);
    }
  };
  scratch s;
  std::string db = (s.dir / "s.db").string();
  REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  REQUIRE(run({"review", "1", "--store", db, "--accept", "clinical_depression"}).code == 0);
  REQUIRE(run({"audit", "verify", "--store", db}).code == 0);
  const std::string copy = (s.dir / "t.db").string();
  auto fresh = [&] {
    fs::copy_file(db, copy, fs::copy_options::overwrite_existing);
    return copy;
  };
  SECTION("a review dated a year before the plan it reviews") {
    tamper(fresh(), 2, "created", "2025-01-01T00:00:00Z");
    auto v = run({"audit", "verify", "--store", copy});
    CHECK(v.code == 1);
    CHECK(v.out.find("record 2 does not verify: it is dated more than an hour before record 1, which it follows") !=
          std::string::npos);
  }
  SECTION("a time that is not one the store writes") {
    tamper(fresh(), 2, "created", "yesterday");
    auto v = run({"audit", "verify", "--store", copy});
    CHECK(v.code == 1);
    CHECK(v.out.find("record 2 does not verify: its time is not one the store writes") != std::string::npos);
  }
  SECTION("an author with a control character") {
    tamper(fresh(), 1, "by", "dr\x1b[2Ka");
    auto v = run({"audit", "verify", "--store", copy});
    CHECK(v.code == 1);
    CHECK(v.out.find("record 1 does not verify: its author's name holds") != std::string::npos);
  }
  SECTION("nothing reads a record or adds to a store that verify refuses (from a trial: each went on)") {
    tamper(fresh(), 2, "by", "  ");
    const std::string why = "record 2 does not verify: its author's name is empty";
    auto review = run({"review", "1", "--store", copy, "--accept", "clinical_depression"});
    CHECK(review.code == 1);
    CHECK(review.err.find(why) != std::string::npos);
    auto plan = run({"plan", kJane, "--record", "--store", copy});
    CHECK(plan.code == 1);
    CHECK(plan.err.find(why) != std::string::npos);
    CHECK(plan.err.find("nothing is added to a store that does not verify") != std::string::npos);
    auto show = run({"audit", "show", "2", "--store", copy});
    CHECK(show.code == 1);
    CHECK(show.err.find(why) != std::string::npos);
    // The plan it reviews is read with its reviews: refused too.
    CHECK(run({"audit", "show", "1", "--store", copy}).code == 1);
    auto st = iptplan::store::open_store(copy, false);
    CHECK_FALSE(st->get(3).has_value());  // nothing was added
  }
  SECTION("a machine whose clock is over an hour slow records nothing, saying so, and the store still verifies") {
    // Record 2 dated two hours ahead (another machine's clock): this
    // machine's record would come over an hour before it, and verify
    // would refuse it and every later append with it (from a review).
    tamper(fresh(), 2, "created", "2099-01-01T00:00:00Z");
    REQUIRE(run({"audit", "verify", "--store", copy}).code == 0);
    auto plan = run({"plan", kJane, "--record", "--store", copy});
    CHECK(plan.code == 1);
    CHECK(plan.err.find("this machine's clock reads ") != std::string::npos);
    CHECK(plan.err.find(", more than an hour before the last record of the store (2, 2099-01-01T00:00:00Z): set the "
                        "clock right and record again; nothing was recorded") != std::string::npos);
    CHECK(run({"audit", "verify", "--store", copy}).code == 0);
  }
  SECTION("a record backdated after the last one: no record is added after it") {
    tamper(fresh(), 2, "created", "2025-01-01T00:00:00Z");
    auto plan = run({"plan", kJane, "--record", "--store", copy});
    CHECK(plan.code == 1);
    CHECK(plan.err.find("record 2 does not verify: it is dated more than an hour before record 1") !=
          std::string::npos);
  }
}

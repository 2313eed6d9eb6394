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
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

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
  CHECK(ok.out == db + ": 2 records and 2 rule set snapshots: every record verifies\n");

  // The stored record holds the findings bytes, the plan, per-rule hashes
  // and who made it.
  auto shown = nlohmann::json::parse(run({"audit", "show", "1", "--store", db, "--format", "json"}).out);
  CHECK(shown["by"] == "dr_a");
  CHECK(shown["body"]["findings"]["text"] == slurp(kJane));
  CHECK(shown["body"]["rule_set"]["rules"].contains("weak_alliance"));
  CHECK(shown["body"]["plan"]["json"] == run({"plan", kJane, "--format", "json"}).out);
  CHECK(shown["prev_hash"] == std::string(64, '0'));
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
  CHECK(run({"verify", "x", "y", "z"}).code == 2);
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
    // Replaying that record refuses too.
    CHECK(run({"verify", "3", "--store", db}).code == 1);
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
    std::vector<std::string> args{bin, "plan", kJane, "--record", "--store", db};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
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
  CHECK(o.out.find("alexithymia_possible: 0 accepted, 0 edited, 1 rejected\n"
                   "    rejected (possible_alexithymia, plan 1): scored during an acute episode\n") !=
        std::string::npos);
  CHECK(o.out.find("role_dispute_detect: 1 accepted, 0 edited, 1 rejected\n") != std::string::npos);
  CHECK(o.out.find("weak_alliance: 1 accepted, 0 edited, 0 rejected\n") != std::string::npos);
  CHECK(o.out.find("assertiveness_low: 0 accepted, 1 edited, 0 rejected\n") != std::string::npos);

  auto j = nlohmann::json::parse(run({"audit", "overrides", "--store", db, "--format", "json"}).out);
  REQUIRE(j.is_array());
  CHECK(j[0]["rejected"].get<int>() + j[0]["edited"].get<int>() >= 1);
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
}

TEST_CASE("review refuses what it cannot record faithfully") {
  scratch s;
  std::string db = (s.dir / "s.db").string();
  REQUIRE(run({"plan", kJane, "--record", "--store", db}).code == 0);
  CHECK(run({"review", "1", "--store", db}).code == 2);  // no decision
  auto no_reason = run({"review", "1", "--store", db, "--reject", "weak_relationship"});
  CHECK(no_reason.code == 2);
  CHECK(no_reason.err.find("a rejection needs --reason") != std::string::npos);
  auto twice = run({"review", "1", "--store", db, "--accept", "weak_relationship", "--reject",
                    "weak_relationship", "--reason", "x"});
  CHECK(twice.code == 2);
  auto unknown = run({"review", "1", "--store", db, "--accept", "weak_relationshp"});
  CHECK(unknown.code == 1);
  CHECK(unknown.err.find("plan 1 has no item 'weak_relationshp'; did you mean 'weak_relationship'?") !=
        std::string::npos);
  CHECK(run({"review", "9", "--store", db, "--accept", "weak_relationship"}).code == 1);
  // Nothing was recorded by any of these.
  CHECK(run({"audit", "verify", "--store", db}).out.find(": 1 record and") != std::string::npos);
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

  std::string cfg_db = (s.dir / "cfg.db").string();
  std::string cfg = s.write("config.toml", "[store]\npath = \"" + cfg_db + "\"\n");
  ::setenv("IPTPLAN_CONFIG", cfg.c_str(), 1);
  auto c = run({"plan", kJane, "--record"});
  auto l = run({"audit", "list"});
  ::unsetenv("IPTPLAN_CONFIG");
  CHECK(c.code == 0);
  CHECK(fs::exists(cfg_db));
  CHECK(l.out.rfind("1  ", 0) == 0);

  // No store anywhere: a usage error, and no plan recorded silently.
  ::setenv("IPTPLAN_CONFIG", (s.dir / "none.toml").string().c_str(), 1);
  auto none = run({"plan", kJane, "--record"});
  ::unsetenv("IPTPLAN_CONFIG");
  CHECK(none.code == 2);
  CHECK(none.err.find("--record needs a store") != std::string::npos);
}

TEST_CASE("a file that is not a store is refused and left as it was, a new store is private") {
  scratch s;
  std::string notes = s.write("notes.toml", "[client]\nid = \"C-1\"\n");
  auto r = run({"plan", kJane, "--record", "--store", notes});
  CHECK(r.code == 1);
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

// The clinic service: every answer of the JSON API without a socket
// (server::service), then the HTTP layer on a real socket (headers, token,
// limits, hostile clients), then `iptplan serve` as a process (options,
// SIGTERM draining a request in flight).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "cli_support.hpp"
#include "jwt_support.hpp"
#include "engine/ruleset.hpp"
#include "server/http.hpp"
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "server/internal.hpp"
#include "server/service.hpp"
#include "store/recording.hpp"
#include "store/store.hpp"

using namespace iptplan;
using namespace iptplan::testing_cli;
using nlohmann::json;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string example(const std::string& name) {
  return slurp(std::string(IPTPLAN_SOURCE_DIR) + "/examples/" + name);
}

// The built-in rule set behind a service; `store`: an SQLite file or "".
server::service make_service(const std::string& store = "") {
  std::vector<diagnostic> diags;
  auto files = builtin_rule_files();
  auto rs = load_rule_set(files, "built-in", diags);
  REQUIRE(rs.has_value());
  return server::service(std::move(*rs), std::move(files), store);
}

server::response call(server::service& s, const std::string& method, const std::string& path,
                      const std::string& body = "", const std::string& type = "",
                      std::map<std::string, std::string> query = {}) {
  server::request r;
  r.method = method;
  r.path = path;
  r.body = body;
  r.content_type = type;
  r.query = std::move(query);
  return s.handle(r);
}

json parsed(const server::response& r) {
  json j = json::parse(r.body, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

std::string first_error_code(const server::response& r) {
  auto j = parsed(r);
  REQUIRE(j.contains("errors"));
  REQUIRE_FALSE(j["errors"].empty());
  return j["errors"][0]["code"].get<std::string>();
}

// A service recording into a fresh store, removed at the end of the test.
struct stored {
  scratch sc;
  std::string db = (sc.dir / "store.db").string();
  server::service s = make_service(db);
};

}  // namespace

// ---------------------------------------------------------------------------
// The API, without a socket

TEST_CASE("api: the vocabulary lists every finding with its question, type, range or values and skip logic") {
  auto s = make_service();
  auto r = call(s, "GET", "/api/vocabulary");
  REQUIRE(r.status == 200);
  auto j = parsed(r);
  std::vector<diagnostic> diags;
  auto rs = load_rule_set(builtin_rule_files(), "built-in", diags);
  REQUIRE(j["findings"].size() == rs->prog->vocab->findings().size());
  CHECK(j["rule_set"]["sha256"] == rs->sha256);
  // In vocabulary.toml's order, the interview's, not by name (from a web
  // trial: the risk section began with the baby, a person's row with
  // change_wished): the client's id first, Q1 before Q2, a person's label
  // and role first.
  CHECK(j["findings"][0]["path"] == "client.id");
  std::vector<std::string> paths;
  for (const auto& f : j["findings"]) paths.push_back(f["path"]);
  auto place = [&](const std::string& p) { return std::find(paths.begin(), paths.end(), p) - paths.begin(); };
  CHECK(place("risk.cssrs.q1") < place("risk.cssrs.q2"));
  CHECK(place("risk.cssrs.q6") < place("perinatal.harm_infant_thoughts"));
  for (const auto& f : j["findings"]) {
    if (f["path"] != "relationships") continue;
    CHECK(f["fields"][0]["path"] == "label");
    CHECK(f["fields"][1]["path"] == "role");
  }
  bool skip_logic = false, ranged = false, choices = false, rows = false;
  for (const auto& f : j["findings"]) {
    CHECK(f.contains("path"));
    CHECK(f.contains("type"));
    CHECK(f.contains("expected"));
    if (f.contains("asked_if")) {
      skip_logic = true;
      CHECK(f["asked_if"].contains("finding"));
      CHECK(f["asked_if"].contains("values"));
    }
    if (f.contains("min") && f.contains("max")) ranged = true;
    if (f["type"] == "enum") choices = choices || !f["values"].empty();
    if (f["path"] == "client.age_band") CHECK(f["labels"]["12_17"] == "12-17");
    // Who answers: the clinician's own rating is marked, a client's question not.
    if (f["path"] == "alliance.strength") CHECK(f["asked_of"] == "clinician");
    if (f["path"] == "risk.cssrs.q1") CHECK_FALSE(f.contains("asked_of"));
    if (f["type"] == "table_list") rows = rows || !f["fields"].empty();
  }
  CHECK(skip_logic);
  CHECK(ranged);
  CHECK(choices);
  CHECK(rows);
}

TEST_CASE("api: POST /api/plan gives the plan JSON of the CLI, byte for byte, for every example") {
  auto s = make_service();
  for (const auto& name : {"jane.toml", "adolescent_high_risk.toml", "adolescent_ipta.toml"}) {
    INFO(name);
    auto r = call(s, "POST", "/api/plan", example(name), "application/toml");
    REQUIRE(r.status == 200);
    auto cli = run({"plan", std::string("examples/") + name, "--format", "json"});
    CHECK(r.body == cli.out);
  }
  // With no content type, TOML too.
  CHECK(call(s, "POST", "/api/plan", example("jane.toml")).body == run({"plan", "examples/jane.toml", "--format", "json"}).out);
}

TEST_CASE("api: findings as JSON give the same items as the same findings in TOML") {
  auto s = make_service();
  auto toml = parsed(call(s, "POST", "/api/plan", "[phq9]\ntotal = 19\nitem9 = 0\n[alliance]\nstrength = \"weak\"\n"));
  auto js = parsed(call(s, "POST", "/api/plan", R"({"phq9": {"total": 19, "item9": 0}, "alliance": {"strength": "weak"}})",
                        "application/json"));
  auto ids = [](const json& p) {
    std::vector<std::string> out;
    for (const auto* part : {"flags", "challenges", "solutions", "goals"}) {
      for (const auto& it : p[part]) out.push_back(it["id"].get<std::string>());
    }
    return out;
  };
  CHECK_FALSE(ids(toml).empty());
  CHECK(ids(toml) == ids(js));
}

TEST_CASE("api: bad findings get 400 with the CLI's diagnostics, never the value sent") {
  auto s = make_service();
  SECTION("a wrong type") {
    auto r = call(s, "POST", "/api/plan", "alliance.strength = \"Mary Smith\"\n");
    CHECK(r.status == 400);
    auto j = parsed(r);
    REQUIRE(j["errors"].size() == 1);
    CHECK(j["errors"][0]["code"] == "findings.value");
    CHECK(j["errors"][0]["file"] == "request body");
    CHECK(j["errors"][0]["line"] == 1);
    CHECK(r.body.find("Mary Smith") == std::string::npos);
  }
  SECTION("malformed JSON") {
    auto r = call(s, "POST", "/api/plan", "{\"phq9\": {", "application/json");
    CHECK(r.status == 400);
    CHECK(first_error_code(r) == "findings.syntax");
  }
  SECTION("malformed TOML") {
    auto r = call(s, "POST", "/api/plan", "[phq9\n");
    CHECK(r.status == 400);
    CHECK(first_error_code(r) == "findings.syntax");
  }
  SECTION("an unknown finding") {
    auto r = call(s, "POST", "/api/plan", "phq9.totl = 3\n");
    CHECK(r.status == 400);
    CHECK(first_error_code(r) == "findings.unknown");
  }
  SECTION("an identifying key") {
    auto r = call(s, "POST", "/api/plan", "name = \"Mary Smith\"\n");
    CHECK(r.status == 400);
    CHECK(r.body.find("Mary Smith") == std::string::npos);
  }
  SECTION("several errors: in the CLI's order, by line, with its notes") {
    const std::string body =
        "[client]\nage_band = \"18_64\"\n[phq9]\ntotal = 99\n[phq-9]\nitem9 = 0\n[alliance]\nstrength = \"mega\"\n";
    auto r = call(s, "POST", "/api/plan", body);
    CHECK(r.status == 400);
    auto j = parsed(r);
    REQUIRE(j["errors"].size() == 3);
    CHECK(j["errors"][0]["line"] == 4);
    CHECK(j["errors"][1]["line"] == 6);
    CHECK(j["errors"][1]["notes"][0] == "did you mean 'phq9.item9'?");
    CHECK(j["errors"][2]["line"] == 8);
    scratch sc;
    auto cli = run({"plan", sc.write("bad.toml", body)});
    CHECK(cli.err.find(":4:9: error:") < cli.err.find(":6:1: error:"));
    CHECK(cli.err.find(":6:1: error:") < cli.err.find(":8:12: error:"));
  }
  SECTION("20,000 unknown keys: the first 50 errors, the rest counted, an answer of bounded size") {
    std::string body;
    for (int i = 0; i < 20000; ++i) body += "k" + std::to_string(i) + " = 1\n";
    auto r = call(s, "POST", "/api/plan", body);
    CHECK(r.status == 400);
    auto j = parsed(r);
    CHECK(j["errors"].size() == 50);
    CHECK(j["not_listed"]["errors"] == 19950);
    CHECK(j["not_listed"]["warnings"] == 0);
    CHECK(r.body.size() < 100000);
  }
}

TEST_CASE("api: with --require-approved, a review date that passes while the server runs refuses new plans") {
  // The day is read at each request: the tests' fixed day moved on.
  struct today_guard {
    std::string was = std::getenv("IPTPLAN_TODAY") ? std::getenv("IPTPLAN_TODAY") : "";
    ~today_guard() {
      if (was.empty()) ::unsetenv("IPTPLAN_TODAY");
      else ::setenv("IPTPLAN_TODAY", was.c_str(), 1);
    }
  } guard;
  auto s = make_service();
  REQUIRE(s.rules().info.review_date == "2027-05-01");
  auto jane = example("jane.toml");
  json cds = {{"hook", "ipt-inventory"}, {"hookInstance", "h-1"}, {"context", {{"findings", jane}}}};
  auto refused = [&](server::service& svc) {
    std::vector<int> codes;
    codes.push_back(call(svc, "POST", "/api/plan", jane, "application/toml").status);
    codes.push_back(call(svc, "POST", "/api/why", jane, "application/toml", {{"item", "safety_plan"}}).status);
    codes.push_back(call(svc, "POST", "/cds-services/iptplan", cds.dump(), "application/json").status);
    return codes;
  };
  s.require_current_review(true);
  ::setenv("IPTPLAN_TODAY", "2027-05-01", 1);  // the review date itself: not yet overdue
  CHECK(call(s, "POST", "/api/plan", jane, "application/toml").status == 200);
  ::setenv("IPTPLAN_TODAY", "2027-05-02", 1);
  CHECK(refused(s) == std::vector<int>{503, 503, 503});
  auto r = call(s, "POST", "/api/plan", jane, "application/toml");
  CHECK(first_error_code(r) == "api.review-overdue");
  CHECK(r.body.find("2027-05-01") != std::string::npos);
  // What reads the record, not today's rules, still answers.
  CHECK(call(s, "GET", "/api/vocabulary").status == 200);
  // Without --require-approved, plans go on (the server logs a warning).
  auto lenient = make_service();
  CHECK(refused(lenient) == std::vector<int>{200, 200, 200});
}

TEST_CASE("api: unknown paths are 404, wrong methods 405 with Allow") {
  auto s = make_service();
  CHECK(call(s, "GET", "/api/nothing").status == 404);
  CHECK(call(s, "GET", "/index.htm").status == 404);
  auto r = call(s, "GET", "/api/plan");
  CHECK(r.status == 405);
  CHECK(first_error_code(r) == "api.method");
  bool allow = false;
  for (const auto& [k, v] : r.headers) allow = allow || (k == "Allow" && v == "POST");
  CHECK(allow);
  CHECK(call(s, "POST", "/api/vocabulary").status == 405);
  CHECK(call(s, "DELETE", "/api/plans/1").status == 405);
  for (const auto& bad : {"/api/plans/0", "/api/plans/-1", "/api/plans/abc", "/api/plans/", "/api/plans/1x",
                          "/api/plans/99999999999999999999", "/api/plans/01", "/api/plans/001/review"}) {
    INFO(bad);
    CHECK(call(s, "GET", bad).status == 404);
  }
}

TEST_CASE("api: why explains an item, a keyed item and a derived fact, and why-not one not in the plan") {
  auto s = make_service();
  auto jane = example("jane.toml");
  auto r = call(s, "POST", "/api/why", jane, "", {{"item", "role_dispute"}});
  REQUIRE(r.status == 200);
  auto j = parsed(r);
  CHECK(r.body.find("role_dispute[partner]") != std::string::npos);
  CHECK(call(s, "POST", "/api/why", jane, "", {{"item", "risk.level"}}).status == 200);
  CHECK(call(s, "POST", "/api/why", jane, "", {}).status == 400);
  auto unknown = call(s, "POST", "/api/why", jane, "", {{"item", "no_such_item"}});
  CHECK(unknown.status == 404);
  CHECK(first_error_code(unknown) == "api.unknown-item");
  // A misspelt item or key: 404, with the id likely meant.
  auto typo = call(s, "POST", "/api/why", jane, "", {{"item", "role_dispte"}});
  CHECK(typo.status == 404);
  CHECK(typo.body.find("did you mean 'role_dispute'?") != std::string::npos);
  auto key = call(s, "POST", "/api/why", jane, "", {{"item", "role_dispute[mothr]"}});
  CHECK(key.status == 404);
  CHECK(first_error_code(key) == "api.unknown-item");
  CHECK(key.body.find("no entry of relationships in this findings file is named 'mothr', so nothing is proposed for "
                      "it; did you mean 'role_dispute[mother]'?") != std::string::npos);
  CHECK(call(s, "POST", "/api/why", jane, "", {{"item", "role_dispute[friend]"}}).status == 200);
  // A finding, as `iptplan why FINDING` answers it; a misspelt one is
  // offered the finding meant.
  auto found = call(s, "POST", "/api/why", jane, "", {{"item", "phq9.total"}});
  REQUIRE(found.status == 200);
  CHECK(parsed(found)["finding"]["recorded"] == true);
  CHECK(parsed(found)["finding"]["value"] == "14");
  auto near = call(s, "POST", "/api/why", jane, "", {{"item", "perinatl.status"}});
  CHECK(near.status == 404);
  CHECK(near.body.find("did you mean 'perinatal.status'?") != std::string::npos);
  CHECK(call(s, "POST", "/api/why", "phq9.total = 99\n", "", {{"item", "role_dispute"}}).status == 400);
  auto put = call(s, "PUT", "/api/why", jane, "", {{"item", "role_dispute"}});
  CHECK(put.status == 405);
  bool allow = false;
  for (const auto& [k, v] : put.headers) allow = allow || (k == "Allow" && v == "GET, POST");
  CHECK(allow);
}

TEST_CASE("api: GET /api/why explains an item of a recorded plan with the rules it was planned with") {
  stored st_;
  auto& s = st_.s;
  auto jane = example("jane.toml");
  auto why_get = [](server::service& svc, const std::string& plan, const std::string& item) {
    return call(svc, "GET", "/api/why", "", "", {{"plan", plan}, {"item", item}});
  };
  CHECK(first_error_code(why_get(s, "1", "role_dispute")) == "api.not-found");  // nothing recorded yet
  REQUIRE(call(s, "POST", "/api/plan", jane, "", {{"record", "1"}, {"by", "clinician 7"}}).status == 201);
  // The same explanation as for the findings sent: an item, a keyed item, a
  // derived fact, and why-not for an item the plan does not hold.
  for (const std::string item : {"role_dispute", "role_dispute[partner]", "risk.level", "grief"}) {
    INFO(item);
    auto got = why_get(s, "1", item);
    REQUIRE(got.status == 200);
    CHECK(got.body == call(s, "POST", "/api/why", jane, "", {{"item", item}}).body);
  }
  // A plan recorded from JSON findings is read back as JSON.
  auto as_json = parsed(call(s, "POST", "/api/findings", jane, "application/toml"))["findings"];
  REQUIRE(call(s, "POST", "/api/plan", as_json.dump(), "application/json", {{"record", "1"}, {"by", "x"}}).status == 201);
  CHECK(why_get(s, "2", "role_dispute").body == why_get(s, "1", "role_dispute").body);

  CHECK(first_error_code(call(s, "GET", "/api/why", "", "", {{"item", "role_dispute"}})) == "api.plan");
  CHECK(first_error_code(why_get(s, "one", "role_dispute")) == "api.plan");
  CHECK(first_error_code(why_get(s, "0", "role_dispute")) == "api.plan");
  CHECK(first_error_code(why_get(s, "99", "role_dispute")) == "api.not-found");
  CHECK(first_error_code(why_get(s, "1", "no_such_item")) == "api.unknown-item");
  CHECK(first_error_code(call(s, "GET", "/api/why", "", "", {{"plan", "1"}})) == "api.item");
  auto no_store = make_service();
  CHECK(first_error_code(call(no_store, "GET", "/api/why", "", "", {{"plan", "1"}, {"item", "grief"}})) ==
        "api.no-store");

  SECTION("after the rules change, the recorded rule set explains it") {
    auto files = builtin_rule_files();
    bool changed = false;
    for (auto& f : files) {
      if (f.base == "process.rules") {
        changed = true;
        f.text += "\nrule later_rule \"Added later\"\n  source \"test\"\nwhen phq9.total >= 0\nthen\n"
                  "  challenge later_item \"A challenge added after the plan was made\"\nend\n";
      }
    }
    REQUIRE(changed);
    std::vector<diagnostic> diags;
    auto rs = load_rule_set(files, "changed", diags);
    for (const auto& d : diags) INFO(format(d));
    REQUIRE(rs);
    server::service today(std::move(*rs), std::move(files), st_.db);
    // Today's rules propose it; the rules the plan was made with did not.
    CHECK(call(today, "POST", "/api/why", jane, "", {{"item", "later_item"}}).status == 200);
    CHECK(first_error_code(why_get(today, "1", "later_item")) == "api.unknown-item");
    CHECK(why_get(today, "1", "role_dispute").body == why_get(s, "1", "role_dispute").body);
  }
  SECTION("findings with a key the vocabulary does not know are never recorded, so never explained") {
    scratch sc;
    auto file = sc.write("extra.toml", jane + "\n[extra]\nnote = 1\n");
    auto rec = run({"plan", file, "--allow-unknown", "--record", "--store", st_.db, "--by", "x"});
    CHECK(rec.code == 1);
    CHECK(why_get(s, "3", "role_dispute").status == 404);
  }
  SECTION("a record that does not verify is not explained") {
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open(st_.db.c_str(), &h) == SQLITE_OK);
    CHECK(sqlite3_exec(h, "UPDATE records SET by = 'someone else' WHERE id = 1", nullptr, nullptr, nullptr) ==
          SQLITE_OK);
    sqlite3_close(h);
    auto r = why_get(s, "1", "role_dispute");
    CHECK(r.status == 409);
    CHECK(first_error_code(r) == "api.not-verified");
    // Nor shown: GET /api/plans/1 checks it as `iptplan audit show` does.
    auto shown = call(s, "GET", "/api/plans/1", "", "");
    CHECK(shown.status == 409);
    CHECK(first_error_code(shown) == "api.not-verified");
    CHECK(shown.body.find("someone else") == std::string::npos);
  }
}

TEST_CASE("api: record a plan, read it back, review it, and the store's chain verifies") {
  stored st_;
  auto& s = st_.s;
  const std::string& db = st_.db;
  auto jane = example("jane.toml");
  SECTION("recording needs who records") {
    CHECK(call(s, "POST", "/api/plan", jane, "", {{"record", "1"}}).status == 400);
    CHECK(call(s, "POST", "/api/plan", jane, "", {{"record", "1"}, {"by", "a\x1b[31mb"}}).status == 400);
    CHECK(call(s, "POST", "/api/plan", jane, "", {{"record", "1"}, {"by", std::string(201, 'x')}}).status == 400);
    // 200 characters, not bytes (from an auditor's trial): 150 'é' is a
    // name of 150 characters, 300 bytes; 201 of them is too long.
    std::string accented;
    for (int i = 0; i < 150; ++i) accented += "\xc3\xa9";
    CHECK(store::author_problem(accented).empty());
    for (int i = 150; i < 201; ++i) accented += "\xc3\xa9";
    CHECK(store::author_problem(accented) == "the author's name is longer than 200 characters");
    CHECK(call(s, "POST", "/api/plan", jane, "", {{"record", "1"}, {"by", accented}}).status == 400);
    CHECK(call(s, "POST", "/api/plan", jane, "", {{"record", "1"}, {"by", "   "}}).status == 400);
    // A right-to-left override, a C1 control, bytes that are not UTF-8.
    for (const std::string by : {"Dr \xe2\x80\xae" "eeL", "a\xc2\x9b", "\xff\xfe"}) {
      CHECK(call(s, "POST", "/api/plan", jane, "", {{"record", "1"}, {"by", by}}).status == 400);
    }
    // record is 1 or 0, nothing else.
    CHECK(call(s, "POST", "/api/plan", jane, "", {{"record", "maybe"}, {"by", "x"}}).status == 400);
    CHECK(call(s, "POST", "/api/plan", jane, "", {{"record", ""}, {"by", "x"}}).status == 400);
    CHECK(call(s, "POST", "/api/plan", jane, "", {{"record", "false"}, {"by", "x"}}).status == 200);
    CHECK(call(s, "GET", "/api/plans/1").status == 404);
  }
  SECTION("the whole flow") {
    auto rec = call(s, "POST", "/api/plan", jane, "", {{"record", "1"}, {"by", "clinician 7"}});
    REQUIRE(rec.status == 201);
    auto rj = parsed(rec);
    CHECK(rj["record"] == 1);
    CHECK(rj["plan"] == json::parse(run({"plan", "examples/jane.toml", "--format", "json"}).out));
    bool location = false;
    for (const auto& [k, v] : rec.headers) location = location || (k == "Location" && v == "/api/plans/1");
    CHECK(location);

    auto got = parsed(call(s, "GET", "/api/plans/1"));
    CHECK(got["by"] == "clinician 7");
    CHECK(got["hash"] == rj["hash"]);
    CHECK(got["plan"] == rj["plan"]);
    CHECK(got["reviews"].empty());

    // Decisions: accepted, rejected with a reason, edited.
    json review = {{"by", "clinician 7"},
                   {"accept", {"weak_relationship"}},
                   {"reject", {"emotion_expression"}},
                   {"edit", {{{"item", "role_dispute[partner]"}, {"text", "Work on the dispute with her partner"}}}},
                   {"reason", "discussed with the client"}};
    auto rv = call(s, "POST", "/api/plans/1/review", review.dump(), "application/json");
    REQUIRE(rv.status == 201);
    CHECK(parsed(rv)["record"] == 2);
    got = parsed(call(s, "GET", "/api/plans/1"));
    REQUIRE(got["reviews"].size() == 1);
    CHECK(got["reviews"][0]["decisions"].size() == 3);
    // The CLI reads the same store: the decisions count per rule.
    auto overrides = run({"audit", "overrides", "--store", db, "--format", "json"});
    CHECK(overrides.code == 0);
    CHECK(overrides.out.find("discussed with the client") != std::string::npos);
    auto st = store::open_store(db, false);
    auto v = store::verify(*st);
    CHECK(v.problem.empty());
    CHECK(v.records == 2);

    // Reviews that are refused record nothing.
    auto bad = [&](const json& body, int status, const std::string& code) {
      INFO(body.dump());
      auto r = call(s, "POST", "/api/plans/1/review", body.dump(), "application/json");
      CHECK(r.status == status);
      CHECK(first_error_code(r) == code);
    };
    bad({{"by", "x"}, {"accept", {"role_dispute"}}}, 400, "api.unknown-item");
    bad({{"by", "x"}, {"reject", {"weak_relationship"}}}, 400, "api.review");
    bad({{"by", "x"}}, 400, "api.review");
    bad({{"accept", {"weak_relationship"}}}, 400, "api.review");
    bad({{"by", "x"}, {"accept", "weak_relationship"}}, 400, "api.review");
    bad({{"by", "x"}, {"accept", {1}}}, 400, "api.review");
    bad({{"by", "x"}, {"edit", {{{"item", "weak_relationship"}}}}}, 400, "api.review");
    bad({{"by", "x"}, {"accept", {"weak_relationship"}}, {"extra", 1}}, 400, "api.review");
    bad({{"by", "x"}, {"accept", {"weak_relationship", "weak_relationship"}}}, 400, "api.review");
    bad({{"by", "x"}, {"edit", {{{"item", "weak_relationship"}, {"text", "t"}, {"extra", 1}}}}}, 400, "api.review");
    // An unknown key that may be free text is not repeated (a hostile
    // trial: a name and an escape sequence came back in the message).
    {
      auto named = call(s, "POST", "/api/plans/1/review",
                        json({{"by", "x"}, {"Mary Smith \x1b[2J lives at 4 Elm St", 1}}).dump(), "application/json");
      CHECK(named.status == 400);
      CHECK(named.body.find("Mary") == std::string::npos);
      CHECK(named.body.find("unknown key (not shown: it does not look like a key's name)") != std::string::npos);
      auto typo = call(s, "POST", "/api/plans/1/review", json({{"by", "x"}, {"acept", {"weak_relationship"}}}).dump(),
                       "application/json");
      CHECK(typo.body.find("unknown key 'acept'; expected by, accept, reject, edit, reason (did you mean 'accept'?)") !=
            std::string::npos);
    }
    // Many unknown items: the first 50, the rest counted; an id that does
    // not look like one is not repeated.
    std::vector<std::string> many{"Mary Smith"};
    for (int i = 0; i < 59; ++i) many.push_back("no_item_" + std::to_string(i));
    auto lots = call(s, "POST", "/api/plans/1/review", json({{"by", "x"}, {"accept", many}}).dump(), "application/json");
    CHECK(lots.status == 400);
    auto lj = json::parse(lots.body);
    CHECK(lj["errors"].size() == 50);
    CHECK(lj["not_listed"]["errors"] == 10);
    CHECK(lots.body.find("Mary") == std::string::npos);
    CHECK(lots.body.find("plan 1 has no item of that name") != std::string::npos);
    CHECK(call(s, "POST", "/api/plans/1/review", "not json", "application/json").status == 400);
    CHECK(call(s, "POST", "/api/plans/1/review", "[1]", "application/json").status == 400);
    CHECK(call(s, "POST", "/api/plans/7/review", json({{"by", "x"}, {"accept", {"a"}}}).dump()).status == 404);
    CHECK(call(s, "GET", "/api/plans/2").status == 404);  // a review, not a plan
    CHECK(store::verify(*store::open_store(db, false)).records == 2);
  }
}

TEST_CASE("api: without a store, recording and reading plans are refused") {
  auto s = make_service();
  auto r = call(s, "POST", "/api/plan", example("jane.toml"), "", {{"record", "1"}, {"by", "x"}});
  CHECK(r.status == 409);
  CHECK(first_error_code(r) == "api.no-store");
  CHECK(call(s, "GET", "/api/plans/1").status == 404);
  // record=0 plans without recording.
  CHECK(call(s, "POST", "/api/plan", example("jane.toml"), "", {{"record", "0"}}).status == 200);
}

TEST_CASE("api: a query parameter the endpoint does not take is refused, never ignored") {
  // From a trial: POST /api/plan?recrod=1 planned without recording, and
  // answered 200 as if all were well.
  auto s = make_service();
  auto typo = call(s, "POST", "/api/plan", example("jane.toml"), "", {{"recrod", "1"}});
  CHECK(typo.status == 400);
  CHECK(first_error_code(typo) == "api.request");
  CHECK(typo.body.find("this endpoint takes no query parameter 'recrod'; it takes record, by, format (did you mean "
                       "'record'?)") != std::string::npos);
  CHECK(call(s, "POST", "/api/plan", example("jane.toml"), "", {{"fromat", "markdown"}}).status == 400);
  CHECK(call(s, "POST", "/api/plan", example("jane.toml"), "", {{"format", "markdown"}}).status == 200);
  // 'by' without record=1 records nothing: said.
  auto by = call(s, "POST", "/api/plan", example("jane.toml"), "", {{"by", "x"}});
  CHECK(by.status == 400);
  CHECK(first_error_code(by) == "api.by");
  CHECK(call(s, "GET", "/api/vocabulary", "", "", {{"x", "1"}}).status == 400);
  auto named = call(s, "GET", "/api/vocabulary", "", "", {{"Mary Smith", "1"}});
  CHECK(named.status == 400);
  CHECK(named.body.find("Mary") == std::string::npos);
  auto why = call(s, "POST", "/api/why", example("jane.toml"), "", {{"item", "weak_relationship"}, {"format", "x"}});
  CHECK(why.status == 400);
  CHECK(why.body.find("it takes item, plan") != std::string::npos);
  // The page's files take any (a cache-busting ?v=2 does no harm).
  CHECK(call(s, "GET", "/", "", "", {{"v", "2"}}).status == 200);
}

TEST_CASE("api: the page's files are served with a policy that allows only their own script and style") {
  auto s = make_service();
  for (const auto& [path, type] : std::vector<std::pair<std::string, std::string>>{
           {"/", "text/html"}, {"/index.html", "text/html"}, {"/app.js", "text/javascript"}, {"/app.css", "text/css"},
           {"/favicon.svg", "image/svg+xml"}}) {
    INFO(path);
    auto r = call(s, "GET", path);
    CHECK(r.status == 200);
    CHECK(r.content_type.rfind(type, 0) == 0);
    bool policy = false;
    for (const auto& [k, v] : r.headers) {
      policy = policy || (k == "Content-Security-Policy" && v.find("script-src 'self'") != std::string::npos &&
                          v.find("connect-src 'self'") != std::string::npos && v.find("unsafe") == std::string::npos);
    }
    CHECK(policy);
    CHECK(server::is_public_asset("GET", path));
    CHECK_FALSE(server::is_public_asset("POST", path));
  }
  CHECK(call(s, "POST", "/").status == 405);
  CHECK_FALSE(server::is_public_asset("GET", "/api/vocabulary"));
  // The page loads nothing from elsewhere.
  auto html = call(s, "GET", "/").body;
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
}

TEST_CASE("api: POST /api/findings reads a findings file and gives it back as JSON, checked") {
  auto s = make_service();
  auto r = call(s, "POST", "/api/findings", example("jane.toml"), "application/toml");
  REQUIRE(r.status == 200);
  auto f = parsed(r)["findings"];
  CHECK(f["phq9"]["total"] == 14);
  CHECK(f["alliance"]["strength"] == "weak");
  CHECK(f["client"]["presenting"] == json({"depression", "anxiety"}));
  REQUIRE(f["relationships"].size() == 4);
  CHECK(f["relationships"][0]["label"] == "partner");
  CHECK(f["relationships"][0]["expectations_reciprocal"] == false);
  CHECK(f["iip32"]["cold"] == 1.25);
  // The JSON it gives plans as the TOML it came from.
  auto from_toml = parsed(call(s, "POST", "/api/plan", example("jane.toml")));
  auto from_json = parsed(call(s, "POST", "/api/plan", f.dump(), "application/json"));
  from_toml.erase("provenance");
  from_json.erase("provenance");
  CHECK(from_toml == from_json);
  CHECK(call(s, "POST", "/api/findings", "phq9.total = 30\n").status == 400);
  CHECK(call(s, "GET", "/api/findings").status == 405);
}

TEST_CASE("api: the plan as markdown or text, for printing and download") {
  auto s = make_service();
  auto md = call(s, "POST", "/api/plan", example("jane.toml"), "", {{"format", "markdown"}});
  CHECK(md.status == 200);
  CHECK(md.content_type.rfind("text/markdown", 0) == 0);
  CHECK(md.body == run({"plan", "examples/jane.toml", "--format", "markdown"}).out);
  auto text = call(s, "POST", "/api/plan", example("jane.toml"), "", {{"format", "text"}});
  CHECK(text.status == 200);
  CHECK(text.body == run({"plan", "examples/jane.toml"}).out);
  CHECK(call(s, "POST", "/api/plan", example("jane.toml"), "", {{"format", "pdf"}}).status == 400);
}

// ---------------------------------------------------------------------------
// Over HTTP

namespace {

// A server on a free port of 127.0.0.1, stopped at the end of the test.
struct running {
  server::service svc;
  std::function<void()> stop;
  int port = 0;
  std::thread thread;
  std::ostringstream err;
  int code = -1;
  explicit running(server::http_options o = {}, std::string store = "") : svc(make_service(store)) {
    o.port = 0;
    std::promise<void> ready;
    thread = std::thread([&, o] {
      code = server::serve(svc, o, err, [&](int p, std::function<void()> s) {
        port = p;
        stop = std::move(s);
        ready.set_value();
      });
    });
    ready.get_future().wait();
  }
  ~running() {
    if (stop) stop();
    thread.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(10, 0);
    return c;
  }
};

// Sends raw bytes on a new connection and returns what comes back before the
// server closes it (or `wait` passes).
std::string raw(int port, const std::string& bytes, int wait_ms = 3000) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  timeval tv{wait_ms / 1000, (wait_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

void check_headers(const httplib::Result& res) {
  REQUIRE(res);
  CHECK(res->get_header_value("Content-Security-Policy").find("default-src 'none'") != std::string::npos);
  CHECK(res->get_header_value("X-Content-Type-Options") == "nosniff");
  CHECK(res->get_header_value("Cache-Control") == "no-store");
  CHECK_FALSE(res->get_header_value("X-Request-Id").empty());
  for (const auto& [k, v] : res->headers) CHECK(k.rfind("Access-Control-", 0) != 0);
}

}  // namespace

TEST_CASE("http: every response, errors included, has the security headers, a request id and no CORS") {
  running srv;
  auto c = srv.client();
  auto ok = c.Get("/api/vocabulary");
  check_headers(ok);
  CHECK(ok->status == 200);
  auto missing = c.Get("/nowhere");
  check_headers(missing);
  CHECK(missing->status == 404);
  httplib::Headers origin = {{"Origin", "https://evil.example"}};
  auto preflight = c.Options("/api/plan", origin);
  check_headers(preflight);
  CHECK(preflight->status == 403);
  auto foreign = c.Post("/api/plan", origin, example("jane.toml"), "application/toml");
  check_headers(foreign);
  CHECK(foreign->status == 403);
  httplib::Headers own = {{"Origin", "http://127.0.0.1:" + std::to_string(srv.port)}};
  auto plan = c.Post("/api/plan", own, example("jane.toml"), "application/toml");
  check_headers(plan);
  CHECK(plan->status == 200);
  CHECK(plan->body == run({"plan", "examples/jane.toml", "--format", "json"}).out);
  CHECK(c.Get("/api/vocabulary")->get_header_value("X-Request-Id") != ok->get_header_value("X-Request-Id"));
}

TEST_CASE("http: 64 clients connecting at once are all answered, none dropped") {
  running srv;  // the default pool
  const std::string body = example("jane.toml");
  const std::string want = run({"plan", "examples/jane.toml", "--format", "json"}).out;
  std::atomic<int> answered{0}, wrong{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 64; ++i) {
    clients.emplace_back([&] {
      auto c = srv.client();
      for (int k = 0; k < 3; ++k) {
        auto r = c.Post("/api/plan", body, "application/toml");
        if (r && r->status == 200 && r->body == want) ++answered;
        else ++wrong;
      }
    });
  }
  for (auto& t : clients) t.join();
  CHECK(wrong == 0);
  CHECK(answered == 64 * 3);
}

TEST_CASE("http: a request's line and headers are bounded (431), every request of a connection, and nothing is kept") {
  running srv;
  const std::string host = "Host: 127.0.0.1:" + std::to_string(srv.port) + "\r\n";
  // 1 MB of headers: refused once 32 KiB have come without their end.
  std::string flood = "GET /api/vocabulary HTTP/1.1\r\n" + host;
  for (int i = 0; i < 1000; ++i) flood += "X-Filler: " + std::string(1000, 'a') + "\r\n";
  flood += "\r\n";
  // The log says what was sent: 431, not httplib's 400.
  auto log = std::make_shared<std::ostringstream>();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*log, true);
  auto logger = spdlog::default_logger();
  logger->sinks().push_back(sink);
  auto refused = raw(srv.port, flood);
  logger->sinks().pop_back();
  CHECK(log->str().find(" -> 431") != std::string::npos);
  CHECK(log->str().find(" -> 400") == std::string::npos);
  CHECK(refused.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0) == 0);
  CHECK(refused.find("api.headers") != std::string::npos);
  CHECK(refused.find("Content-Security-Policy: default-src 'none'") != std::string::npos);
  CHECK(refused.find("HTTP/1.1 400") == std::string::npos);  // one answer only
  // A bare LF pair, which httplib does not take for the headers' end, does
  // not end the count either.
  auto lf = raw(srv.port, "GET /api/vocabulary HTTP/1.1\r\n" + host + "Y: z\n\n" + flood.substr(flood.find("X-Filler")));
  CHECK(lf.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0) == 0);
  // A request line past the bound is answered 431 too, not dropped.
  auto line = raw(srv.port, "GET /" + std::string(40000, 'a') + " HTTP/1.1\r\n" + host + "\r\n");
  CHECK(line.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0) == 0);
  // Headers up to the bound are served, and a token does not come first: a
  // flood is refused before any handler, authenticated or not.
  std::string big = "GET /api/vocabulary HTTP/1.1\r\n" + host;
  for (int i = 0; i < 4; ++i) big += "X-Big: " + std::string(5000, 'b') + "\r\n";
  big += "\r\n";
  CHECK(raw(srv.port, big).rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  // One request a connection: a second request on it, however large, is
  // never read (its headers would not have been bounded).
  auto two = raw(srv.port, "GET /api/vocabulary HTTP/1.1\r\n" + host + "\r\n" + flood);
  CHECK(two.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(two.find("Connection: close") != std::string::npos);
  CHECK(two.find("HTTP/1.1 431") == std::string::npos);
  // The server still serves.
  auto c = srv.client();
  auto r = c.Get("/api/vocabulary");
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE("serve: a second server cannot take a port already served") {
  running srv;
  auto r = run({"serve", "--listen", "127.0.0.1:" + std::to_string(srv.port)});
  CHECK(r.code == 1);
  CHECK(r.err.find("cannot listen on 127.0.0.1:" + std::to_string(srv.port)) != std::string::npos);
  CHECK(srv.client().Get("/api/vocabulary")->status == 200);
}

TEST_CASE("http: a bearer token, when set, is required on every request") {
  server::http_options o;
  o.token = "0123456789abcdef0123456789abcdef";
  running srv(o);
  auto c = srv.client();
  auto none = c.Get("/api/vocabulary");
  REQUIRE(none);
  CHECK(none->status == 401);
  CHECK(none->get_header_value("WWW-Authenticate") == "Bearer");
  check_headers(none);
  for (const std::string wrong : {"Bearer 0123456789abcdef0123456789abcdeX", "Bearer ", "Basic abc",
                                  "Bearer 0123456789abcdef0123456789abcdef0", "Bearer  0123456789abcdef0123456789abcdef",
                                  "0123456789abcdef0123456789abcdef"}) {
    INFO(wrong);
    auto r = c.Get("/api/vocabulary", {{"Authorization", wrong}});
    REQUIRE(r);
    CHECK(r->status == 401);
  }
  // The page's files hold no data: a browser loads them, then the page asks
  // for the token and sends it with every API call.
  auto page = c.Get("/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(c.Get("/app.js")->status == 200);
  CHECK(c.Post("/", "x", "text/plain")->status == 401);
  auto good = c.Get("/api/vocabulary", {{"Authorization", "Bearer " + o.token}});
  // The scheme's name is not case-sensitive.
  CHECK(c.Get("/api/vocabulary", {{"Authorization", "bearer " + o.token}})->status == 200);
  // With a token, any Host name: the token is what keeps others out.
  CHECK(c.Get("/api/vocabulary", {{"Authorization", "Bearer " + o.token}, {"Host", "clinic.example:8080"}})->status == 200);
  REQUIRE(good);
  CHECK(good->status == 200);
  CHECK(server::token_matches("Bearer " + o.token, o.token));
  CHECK_FALSE(server::token_matches("Bearer " + o.token, ""));
}

TEST_CASE("http: 50 bad requests each get a clear 4xx, and the server keeps serving") {
  server::http_options o;
  o.max_body = 64 * 1024;
  o.timeout_seconds = 1;
  running srv(o);
  auto c = srv.client();
  int answered = 0;
  auto expect_4xx = [&](const httplib::Result& r, const std::string& what) {
    INFO(what);
    REQUIRE(r);
    CHECK(r->status >= 400);
    CHECK(r->status < 500);
    CHECK_FALSE(json::parse(r->body, nullptr, false).is_discarded());
    ++answered;
  };
  const std::vector<std::string> bad_json = {
      "{", "[]", "null", "1", "\"x\"", "{\"phq9\": []}", "{\"phq9\": {\"total\": \"x\"}}",
      "{\"phq9\": {\"total\": 1e400}}", "{\"phq9\": {\"total\": -1}}", "{\"phq9\": {\"total\": 28}}",
      "{\"phq9\": {\"total\": 3, \"total\": 4}}", "{\"a\": {\"b\": {\"c\": {\"d\": 1}}}}",
      std::string("{\"x\": \"\xff\xfe\"}"), "{\"relationships\": 3}", "{\"relationships\": [1, 2]}",
      "{\"alliance\": {\"strength\": true}}", std::string(1000, '['), "{\"client\": {\"name\": \"A B\"}}"};
  for (const auto& b : bad_json) expect_4xx(c.Post("/api/plan", b, "application/json"), b.substr(0, 40));
  const std::vector<std::string> bad_toml = {
      "[", "[phq9\n", "phq9.total = ", "phq9.total = 1\nphq9.total = 2\n", "\x01\x02\x03", "a = \"\n",
      "phq9.total = 3.5\n", "alliance.strength = \"strongest\"\n", "[[phq9]]\n", "x = 1\n"};
  for (const auto& b : bad_toml) expect_4xx(c.Post("/api/plan", b, "application/toml"), b.substr(0, 40));
  expect_4xx(c.Post("/api/plan", std::string(200 * 1024, 'a'), "application/toml"), "a body over the limit");
  expect_4xx(c.Get("/api/plan"), "GET on POST");
  expect_4xx(c.Delete("/api/vocabulary"), "DELETE");
  expect_4xx(c.Put("/api/plan", "x", "text/plain"), "PUT");
  expect_4xx(c.Get("/api/plans/1"), "no store");
  expect_4xx(c.Post("/api/plan?record=1&by=x", example("jane.toml"), "application/toml"), "record, no store");
  expect_4xx(c.Post("/api/why", example("jane.toml"), "application/toml"), "why without item");
  expect_4xx(c.Post("/api/why?item=nothing_at_all", example("jane.toml"), "application/toml"), "why, unknown");
  expect_4xx(c.Get("/../../etc/passwd"), "path traversal");
  expect_4xx(c.Get("/api/plans/%00"), "NUL");
  expect_4xx(c.Post("/api/plans/1/review", "{}", "application/json"), "review without store");
  while (answered < 45) expect_4xx(c.Get("/api/vocabulary/" + std::to_string(answered)), "unknown path");
  // Below HTTP: garbage, a request line too long, a lying Content-Length, a
  // client that stops sending (timed out, not waited on forever).
  auto garbage = raw(srv.port, "\x16\x03\x01\x02\x00garbage\r\n\r\n");
  CHECK((garbage.empty() || garbage.rfind("HTTP/1.1 4", 0) == 0));
  auto long_line = raw(srv.port, "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK((long_line.empty() || long_line.rfind("HTTP/1.1 4", 0) == 0));
  const std::string host = "Host: 127.0.0.1:" + std::to_string(srv.port) + "\r\n";
  auto lying = raw(srv.port, "POST /api/plan HTTP/1.1\r\n" + host +
                                 "Content-Type: application/toml\r\nContent-Length: 99999999999\r\n\r\nabc");
  CHECK(lying.rfind("HTTP/1.1 413", 0) == 0);
  // Past what a 64-bit number holds: too large too, not malformed.
  auto huge = raw(srv.port, "POST /api/plan HTTP/1.1\r\n" + host + "Content-Type: application/toml\r\nContent-Length: " +
                                std::string(40, '9') + "\r\n\r\nabc");
  CHECK(huge.rfind("HTTP/1.1 413", 0) == 0);
  CHECK(huge.find("api.too-large") != std::string::npos);
  auto negative = raw(srv.port, "POST /api/plan HTTP/1.1\r\n" + host + "Content-Type: application/toml\r\nContent-Length: -5\r\n\r\nabc");
  CHECK((negative.empty() || negative.rfind("HTTP/1.1 4", 0) == 0));
  // A Content-Length that is not one whole number, or two of them: refused,
  // so a proxy in front and the service never read different requests.
  auto junk_length = raw(srv.port, "POST /api/plan HTTP/1.1\r\n" + host +
                                       "Content-Type: application/json\r\nContent-Length: 2abc\r\n\r\n{}");
  CHECK(junk_length.rfind("HTTP/1.1 400", 0) == 0);
  auto two_lengths = raw(srv.port, "POST /api/plan HTTP/1.1\r\n" + host +
                                       "Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}xyz");
  CHECK(two_lengths.rfind("HTTP/1.1 400", 0) == 0);
  answered += 2;
  // A header line without a colon, with a NUL, or folded onto the line
  // before: httplib drops such a line; refused, so a proxy in front and the
  // service never read different headers (a hostile trial).
  for (const std::string& bad : {std::string("X-Note without a colon\r\n"), std::string("X-A: b\0c\r\n", 10),
                                std::string("X-A: b\r\n  folded\r\n")}) {
    auto r = raw(srv.port, "GET /api/vocabulary HTTP/1.1\r\n" + host + bad + "\r\n");
    INFO(r.substr(0, 200));
    CHECK(r.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(r.find("a header line has no colon") != std::string::npos);
    ++answered;
  }
  CHECK(raw(srv.port, "GET /api/vocabulary HTTP/1.1\r\n" + host + "X-A: b\r\n\r\n").rfind("HTTP/1.1 200", 0) == 0);
  ++answered;
  // A request line too malformed to be routed: still a request id and the
  // security headers (a hostile trial: neither, and an empty id logged).
  auto malformed = raw(srv.port, "GET /x\r\n\r\n");
  CHECK(malformed.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(malformed.find("\r\nX-Request-Id: ") != std::string::npos);
  CHECK(malformed.find("\r\nContent-Security-Policy: ") != std::string::npos);
  std::thread slow([&] {
    raw(srv.port, "POST /api/plan HTTP/1.1\r\n" + host + "Content-Type: application/toml\r\nContent-Length: 100\r\n\r\nabc", 5000);
  });
  answered += 5;
  // While the slow client holds its connection, others are answered.
  auto after = c.Get("/api/vocabulary");
  REQUIRE(after);
  CHECK(after->status == 200);
  slow.join();
  auto still = c.Post("/api/plan", example("jane.toml"), "application/toml");
  REQUIRE(still);
  CHECK(still->status == 200);
  CHECK(answered >= 50);
}

TEST_CASE("http: a header read as one value and given twice is refused, whichever of the two is good") {
  running srv;
  const std::string good = "Host: 127.0.0.1:" + std::to_string(srv.port) + "\r\n";
  const std::string body = "Content-Length: 2\r\n\r\n{}";
  struct twice {
    std::string name, headers;
  };
  for (const auto& t : std::vector<twice>{
           {"Host", good + "Host: evil.example\r\n"},
           {"Origin", good + "Origin: http://127.0.0.1:" + std::to_string(srv.port) + "\r\nOrigin: http://evil.example\r\n"},
           {"Content-Encoding", good + "Content-Encoding: identity\r\nContent-Encoding: gzip\r\n"},
           {"Content-Type", good + "Content-Type: application/json\r\nContent-Type: text/html\r\n"}}) {
    INFO(t.name);
    std::string type = t.name == "Content-Type" ? "" : "Content-Type: application/json\r\n";
    auto r = raw(srv.port, "POST /api/plan HTTP/1.1\r\n" + t.headers + type + body);
    CHECK(r.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(r.find("the header " + t.name + " is given more than once") != std::string::npos);
  }
  // Once each: answered.
  auto once = raw(srv.port, "POST /api/plan HTTP/1.1\r\n" + good + "Content-Type: application/json\r\n" + body);
  CHECK(once.rfind("HTTP/1.1 200", 0) == 0);
  // A space before the colon (from a service trial: "Host : evil" and
  // "Content-Length : 50" were ignored, and answered 200).
  for (const std::string& extra : {std::string("Host : evil.example\r\n"), std::string("Content-Length : 50\r\n")}) {
    INFO(extra);
    auto r = raw(srv.port, "POST /api/plan HTTP/1.1\r\n" + good + extra + "Content-Type: application/json\r\n" + body);
    CHECK(r.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(r.find("a header name holds a space") != std::string::npos);
  }
  // A query parameter given twice: which one counts would depend on who
  // reads it (record=1&record=0 recorded).
  for (const std::string& q : {std::string("record=1&record=0&by=x"), std::string("format=markdown&format=json")}) {
    INFO(q);
    auto r = raw(srv.port, "POST /api/plan?" + q + " HTTP/1.1\r\n" + good + "Content-Type: application/json\r\n" + body);
    CHECK(r.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(r.find("more than once") != std::string::npos);
  }
  // A raw '=' in a value, a ';' or a piece with no name: httplib read
  // record=0=1 as record=1 (recorded), by=alice=bob as bob, and
  // format=text;format=json as json. Refused whole; percent-encoded, fine.
  for (const std::string& q : {std::string("record=0=1&by=x"), std::string("record=1&by=alice=bob"),
                               std::string("format=text;format=json"), std::string("=mary_smith")}) {
    INFO(q);
    auto r = raw(srv.port, "POST /api/plan?" + q + " HTTP/1.1\r\n" + good + "Content-Type: application/json\r\n" + body);
    CHECK(r.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(r.find("the query must be name=value pairs joined by '&'") != std::string::npos);
    CHECK(r.find("mary") == std::string::npos);
  }
  auto ok = raw(srv.port, "POST /api/plan?format=json&x=a%3Db HTTP/1.1\r\n" + good + "Content-Type: application/json\r\n" + body);
  CHECK(ok.find("the query must be") == std::string::npos);
}

TEST_CASE("http: a client that trickles its request a byte at a time is cut off, and others are answered") {
  // Each read waits at most the read timeout (1 s here), and the whole
  // request must arrive within 3 of them: a byte every 300 ms keeps every
  // read short, but not the request, which would take 30 s to send.
  server::http_options o;
  o.timeout_seconds = 1;
  running srv(o);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(srv.port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  std::string head = "POST /api/plan HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(srv.port) +
                     "\r\nContent-Type: application/toml\r\nContent-Length: 100\r\n\r\n";
  REQUIRE(::send(fd, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size()));
  int sent = 0;
  bool closed = false;
  std::string answer;
  while (sent < 100 && !closed) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // Whatever the server has sent (an answer, or the end of the stream)
    // means it has stopped reading this request.
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) {
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) answer.append(buf, static_cast<std::size_t>(n));
      closed = true;
      break;
    }
    if (::send(fd, "a", 1, MSG_NOSIGNAL) != 1) {
      closed = true;
      break;
    }
    ++sent;
  }
  ::close(fd);
  INFO("bytes of the body sent before the server stopped reading: " << sent);
  CHECK(closed);
  CHECK(sent < 100);
  CHECK((answer.empty() || answer.rfind("HTTP/1.1 4", 0) == 0));
  // The service goes on answering.
  auto after = srv.client().Get("/api/vocabulary");
  REQUIRE(after);
  CHECK(after->status == 200);
}

TEST_CASE("http: what another site's page, DNS rebinding or an unmeasurable body could send is refused") {
  running srv;
  auto c = srv.client();
  auto jane = example("jane.toml");
  auto status = [&](const httplib::Result& r) { return r ? r->status : -1; };
  // Another site's page: its Origin, or Sec-Fetch-Site.
  CHECK(status(c.Post("/api/plan", {{"Origin", "http://evil.example"}}, jane, "application/toml")) == 403);
  CHECK(status(c.Post("/api/plan", {{"Sec-Fetch-Site", "cross-site"}}, jane, "application/toml")) == 403);
  // DNS rebinding: a name of another site that resolves here.
  CHECK(status(c.Get("/api/vocabulary", {{"Host", "rebind.evil.example:" + std::to_string(srv.port)}})) == 403);
  CHECK(status(c.Get("/api/vocabulary", {{"Host", "localhost:" + std::to_string(srv.port)}})) == 200);
  // Types a form can send without asking (text/plain, form encoding) are
  // refused, so a page can never post without a preflight.
  for (const std::string type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""}) {
    INFO(type);
    CHECK(status(c.Post("/api/plan", jane, type)) == 415);
  }
  CHECK(status(c.Post("/api/plan", jane, "Application/TOML; charset=utf-8")) == 200);
  CHECK(status(c.Post("/api/plan", R"({"phq9": {"total": 3}})", "Application/JSON")) == 200);
  // This server's own origin, also as a TLS proxy in front of it shows it.
  const std::string self = "127.0.0.1:" + std::to_string(srv.port);
  CHECK(status(c.Post("/api/plan", {{"Origin", "http://" + self}}, jane, "application/toml")) == 200);
  CHECK(status(c.Post("/api/plan", {{"Origin", "https://" + self}}, jane, "application/toml")) == 200);
  // Bodies the size limit cannot see.
  CHECK(status(c.Post("/api/plan", {{"Content-Encoding", "gzip"}}, jane, "application/toml")) == 415);
  const std::string host = "Host: 127.0.0.1:" + std::to_string(srv.port) + "\r\n";
  auto chunked = raw(srv.port, "POST /api/plan HTTP/1.1\r\n" + host +
                                   "Content-Type: application/toml\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  CHECK(chunked.rfind("HTTP/1.1 411", 0) == 0);
  auto unframed = raw(srv.port, "POST /api/plan HTTP/1.1\r\n" + host + "Content-Type: application/toml\r\nConnection: close\r\n\r\nabc");
  CHECK(unframed.rfind("HTTP/1.1 411", 0) == 0);
  // A Range header neither cuts nor multiplies an answer.
  auto ranged = c.Get("/api/vocabulary", {{"Range", "bytes=0-10,0-10,0-10"}});
  REQUIRE(ranged);
  CHECK(ranged->status == 200);
  CHECK(ranged->body == c.Get("/api/vocabulary")->body);
}

TEST_CASE("api: a key given twice in a JSON body is refused, never the last one winning") {
  stored st_;
  auto& s = st_.s;
  auto twice = R"({"hook": "ipt-inventory", "hookInstance": "x",
                   "context": {"findings": {"phq9": {"item9": 2, "item9": 0}}}})";
  auto r = call(s, "POST", "/cds-services/iptplan", twice, "application/json");
  CHECK(r.status == 400);
  CHECK(first_error_code(r) == "cds.request");
  REQUIRE(call(s, "POST", "/api/plan", example("jane.toml"), "", {{"record", "1"}, {"by", "x"}}).status == 201);
  auto review = call(s, "POST", "/api/plans/1/review",
                     R"({"by": "x", "accept": ["weak_relationship"], "by": "y"})", "application/json");
  CHECK(review.status == 400);
  CHECK(first_error_code(review) == "api.json");
  // At most 500 decisions at once.
  json many = {{"by", "x"}, {"accept", json::array()}};
  for (int i = 0; i < 501; ++i) many["accept"].push_back("item" + std::to_string(i));
  CHECK(call(s, "POST", "/api/plans/1/review", many.dump(), "application/json").status == 400);
  // A reason holding a control character that rewrites a terminal line.
  json esc = {{"by", "x"}, {"reject", {"weak_relationship"}}, {"reason", "fine\x1b[2K"}};
  auto refused = call(s, "POST", "/api/plans/1/review", esc.dump(), "application/json");
  CHECK(refused.status == 400);
  CHECK(parsed(refused)["errors"][0]["message"] == "the reason holds a control character");
}

TEST_CASE("http: loopback means an address of this machine, never a name that looks like one") {
  CHECK(server::is_loopback("127.0.0.1"));
  CHECK(server::is_loopback("127.1.2.3"));
  CHECK(server::is_loopback("::1"));
  CHECK(server::is_loopback("[::1]"));
  CHECK(server::is_loopback("localhost"));
  CHECK(server::is_loopback("::ffff:127.0.0.1"));
  CHECK_FALSE(server::is_loopback("127.corp.example"));
  CHECK_FALSE(server::is_loopback("0.0.0.0"));
  CHECK_FALSE(server::is_loopback("::"));
  CHECK_FALSE(server::is_loopback("10.0.0.1"));
  CHECK_FALSE(server::is_loopback("128.0.0.1"));
  CHECK_FALSE(server::is_loopback(""));
}

// ---------------------------------------------------------------------------
// `iptplan serve` as a process

TEST_CASE("serve: refuses another machine's address without a token, and tokens that are weak or exposed") {
  scratch sc;
  auto r = run({"serve", "--listen", "0.0.0.0:0"});
  CHECK(r.code == 2);
  CHECK(r.err.find("--token-file") != std::string::npos);
  CHECK(run({"serve", "--listen", "nonsense"}).code == 2);
  CHECK(run({"serve", "--listen", "127.0.0.1:99999"}).code == 2);
  auto exposed = sc.write("token", "0123456789abcdef0123456789abcdef\n");
  ::chmod(exposed.c_str(), 0644);
  r = run({"serve", "--listen", "0.0.0.0:0", "--token-file", exposed});
  CHECK(r.code == 2);
  CHECK(r.err.find("chmod 600") != std::string::npos);
  auto weak = sc.write("weak", "short\n");
  ::chmod(weak.c_str(), 0600);
  r = run({"serve", "--token-file", weak});
  CHECK(r.code == 2);
  CHECK(r.err.find("shorter than 16") != std::string::npos);
  // A token no header could carry.
  auto unsendable = sc.write("esc", "0123456789abcdef\x1b[31m0123456789\n");
  ::chmod(unsendable.c_str(), 0600);
  r = run({"serve", "--token-file", unsendable});
  CHECK(r.code == 2);
  CHECK(r.err.find("the token holds a space or a control character, which no HTTP header can carry") !=
        std::string::npos);
  CHECK(r.err.find("\x1b") == std::string::npos);
  CHECK(run({"serve", "--token-file", (sc.dir / "absent").string()}).code == 2);
  // A PostgreSQL store that cannot be reached: said, and the password never.
  r = run({"serve", "--store", "postgresql://clinic:secret@127.0.0.1:1/x?connect_timeout=2"});
  CHECK(r.code == 1);
  CHECK(r.err.find("cannot be reached") != std::string::npos);
  CHECK(r.err.find("secret") == std::string::npos);
  CHECK(run({"serve", "--rules", (sc.dir / "no-such-rules").string()}).code == 1);
  // Without --store, the store the command line records into: here one
  // that cannot be reached, which stops the service as --store would.
  ::setenv("IPTPLAN_STORE", "postgresql://clinic:secret@127.0.0.1:1/x?connect_timeout=2", 1);
  r = run({"serve"});
  ::unsetenv("IPTPLAN_STORE");
  CHECK(r.code == 1);
  CHECK(r.err.find("cannot be reached") != std::string::npos);
  CHECK(r.err.find("secret") == std::string::npos);
  // A CDS trust file that cannot be used.
  r = run({"serve", "--cds-trust", (sc.dir / "absent.json").string()});
  CHECK(r.code == 2);
  r = run({"serve", "--cds-trust", sc.write("trust.json", "{\"clients\": []}")});
  CHECK(r.code == 2);
  CHECK(r.err.find("'audience'") != std::string::npos);
}

TEST_CASE("serve: SIGTERM finishes the request in flight, then the process exits 0") {
  int err_pipe[2];
  REQUIRE(::pipe(err_pipe) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(err_pipe[1], 2);
    ::close(err_pipe[0]);
    ::execl(IPTPLAN_BINARY, IPTPLAN_BINARY, "serve", "--listen", "127.0.0.1:0", "--log-level", "info",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(err_pipe[1]);
  // Read stderr until the line that names the port.
  std::string text;
  int port = 0;
  char buf[512];
  while (port == 0) {
    ssize_t n = ::read(err_pipe[0], buf, sizeof buf);
    REQUIRE(n > 0);
    text.append(buf, static_cast<std::size_t>(n));
    auto at = text.find("http://127.0.0.1:");
    if (at != std::string::npos && text.find('/', at + 17) != std::string::npos) {
      port = std::stoi(text.substr(at + 17));
    }
  }
  // A request whose body is half sent when the signal arrives.
  std::string body = example("jane.toml");
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  std::string head = "POST /api/plan HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                     "\r\nConnection: close\r\nContent-Type: application/toml\r\n"
                     "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  std::string first = head + body.substr(0, body.size() / 2);
  REQUIRE(::send(fd, first.data(), first.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(first.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  REQUIRE(::kill(pid, SIGTERM) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::string rest = body.substr(body.size() / 2);
  REQUIRE(::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(rest.size()));
  std::string answer;
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(answer.find("\"challenges\"") != std::string::npos);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // The log names requests by id, never what they carried.
  for (ssize_t n; (n = ::read(err_pipe[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  ::close(err_pipe[0]);
  CHECK(text.find("POST /api/plan -> 200") != std::string::npos);
  CHECK(text.find("finishing the requests in flight") != std::string::npos);
  CHECK(text.find("Jane") == std::string::npos);
}

// ---------------------------------------------------------------------------
// CDS Hooks 2.0

namespace {

json hook_request(const json& findings, const std::string& user = "Practitioner/7") {
  return {{"hook", "ipt-inventory"},
          {"hookInstance", "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"},
          {"context", {{"userId", user}, {"patientId", "1288992"}, {"findings", findings}}}};
}

}  // namespace

TEST_CASE("cds-hooks: discovery names the service, its hook and what context it needs") {
  auto s = make_service();
  auto r = call(s, "GET", "/cds-services");
  REQUIRE(r.status == 200);
  auto j = parsed(r);
  REQUIRE(j["services"].size() == 1);
  CHECK(j["services"][0]["id"] == "iptplan");
  CHECK(j["services"][0]["hook"] == "ipt-inventory");
  CHECK(j["services"][0]["description"].get<std::string>().find("context.findings") != std::string::npos);
  CHECK(call(s, "POST", "/cds-services").status == 405);
}

TEST_CASE("cds-hooks: one card per flag and challenge, risk first, each with its why, source and suggestions") {
  stored st_;
  auto& s = st_.s;
  const std::string& db = st_.db;
  auto jane = example("jane.toml");
  auto r = call(s, "POST", "/cds-services/iptplan", hook_request(jane).dump(), "application/json");
  REQUIRE(r.status == 200);
  auto cards = parsed(r)["cards"];
  auto plan = parsed(call(s, "POST", "/api/plan", jane));
  // Every item on some card: flags and challenges, and the goals and
  // solutions for the plan as a whole (the safety plan, the schedule),
  // which no flag's or challenge's suggestions carry, on cards of their own.
  std::size_t provisional_cards = 0, plan_wide = 0;
  std::set<std::string> carded;
  for (const auto* part : {&plan["flags"], &plan["challenges"], &plan["provisional"]}) {
    for (const auto& it : *part) {
      if (it["kind"] == "flag" || it["kind"] == "challenge") carded.insert(it["id"].get<std::string>());
    }
  }
  auto wide = [&](const nlohmann::json& it) {
    if (it["kind"] != "goal" && it["kind"] != "solution") return false;
    for (const auto& f : it["for"]) {
      if (carded.count(f.get<std::string>())) return false;
    }
    return true;
  };
  for (const auto& it : plan["provisional"]) {
    provisional_cards += it["kind"] == "flag" || it["kind"] == "challenge" || wide(it);
  }
  for (const auto* part : {&plan["goals"], &plan["solutions"]}) {
    for (const auto& it : *part) plan_wide += wide(it);
  }
  REQUIRE(plan_wide > 0);
  REQUIRE(cards.size() == plan["flags"].size() + plan["challenges"].size() + provisional_cards + plan_wide);
  std::set<std::string> uuids;
  for (std::size_t i = 0; i < cards.size(); ++i) {
    const auto& c = cards[i];
    INFO(c.dump());
    uuids.insert(c["uuid"].get<std::string>());
    // Fewer than 140 characters (CDS Hooks: "<140") (code points: the summary is UTF-8).
    std::string summary = c["summary"];
    std::size_t points = 0;
    for (unsigned char ch : summary) points += (ch & 0xc0) != 0x80;
    CHECK(points < 140);
    CHECK((c["indicator"] == "info" || c["indicator"] == "warning" || c["indicator"] == "critical"));
    CHECK(c["detail"].get<std::string>().find("**Why**") != std::string::npos);
    CHECK(c["source"]["label"].get<std::string>().find("rule ") != std::string::npos);
    CHECK(c["overrideReasons"].size() == 4);
    if (c.contains("suggestions")) CHECK(c["selectionBehavior"] == "any");
    // The patient id only as the subject of a proposed FHIR Goal (which
    // must have one): never in a summary, detail or label.
    CHECK(c["summary"].get<std::string>().find("1288992") == std::string::npos);
    CHECK(c["detail"].get<std::string>().find("1288992") == std::string::npos);
    // A condition's text is on one line: no line break shown as an escape.
    CHECK(c["detail"].get<std::string>().find("\\x0a") == std::string::npos);
    for (const auto& sg : c.value("suggestions", json::array())) {
      for (const auto& a : sg.value("actions", json::array())) {
        CHECK(a["resource"]["subject"]["reference"] == "Patient/1288992");
      }
    }
  }
  // The safety plan (a first step, for no flag) is on a card of its own,
  // right after the flags, which proposes it as a FHIR Goal.
  auto high = parsed(call(s, "POST", "/cds-services/iptplan", hook_request(example("risk_high.toml")).dump(),
                          "application/json"))["cards"];
  std::size_t flags_seen = 0;
  bool safety_plan_card = false;
  for (const auto& c : high) {
    if (c["source"]["topic"]["code"] != "safety_plan") {
      flags_seen += !safety_plan_card && c["detail"].get<std::string>().find("**Why**") != std::string::npos &&
                    c["summary"].get<std::string>().rfind("Goal: ", 0) != 0;
      continue;
    }
    safety_plan_card = true;
    REQUIRE(c["suggestions"].size() == 1);
    CHECK(c["suggestions"][0]["actions"][0]["resource"]["resourceType"] == "Goal");
    CHECK(c["suggestions"][0]["actions"][0]["resource"]["subject"]["reference"] == "Patient/1288992");
    CHECK(c["summary"].get<std::string>().rfind("Goal: ", 0) == 0);
    // The whole condition of the high-tier rule, its opening parentheses
    // included, on one line.
  }
  CHECK(safety_plan_card);
  CHECK(flags_seen == parsed(call(s, "POST", "/api/plan", example("risk_high.toml")))["flags"].size());
  // Without a patient, a goal is suggested with no Goal to create: one
  // without its subject is not valid FHIR R4 (from an integrator's trial).
  json anonymous = hook_request(example("risk_high.toml"));
  anonymous["context"].erase("patientId");
  auto no_patient = parsed(call(s, "POST", "/cds-services/iptplan", anonymous.dump(), "application/json"))["cards"];
  bool goal_suggested = false;
  for (const auto& c : no_patient) {
    for (const auto& sug : c.value("suggestions", json::array())) {
      goal_suggested = goal_suggested || sug["label"].get<std::string>().rfind("Goal: ", 0) == 0;
      CHECK_FALSE(sug.contains("actions"));
    }
  }
  CHECK(goal_suggested);
  CHECK(high[0]["detail"].get<std::string>().find("((risk.cssrs.q4 == true or risk.cssrs.q5 == true) and not "
                                                  "(risk.cssrs.q2 == false") != std::string::npos);
  // A goal for a challenge not in the plan (a response target for the
  // depression challenge a severer one replaced) is on a card of its own,
  // not lost (from a review).
  auto severe_plan = parsed(call(s, "POST", "/api/plan", example("severe_depression.toml")));
  auto severe = parsed(call(s, "POST", "/cds-services/iptplan", hook_request(example("severe_depression.toml")).dump(),
                            "application/json"))["cards"];
  std::set<std::string> on_cards;
  for (const auto& c : severe) {
    on_cards.insert(c["source"]["topic"]["code"].get<std::string>());
    for (const auto& sg : c.value("suggestions", json::array())) on_cards.insert(sg["label"].get<std::string>());
  }
  for (const auto* part : {&severe_plan["goals"], &severe_plan["solutions"]}) {
    for (const auto& it : *part) {
      bool found = on_cards.count(it["base_id"].get<std::string>()) > 0;
      for (const auto& l : on_cards) found = found || l.find(it["text"].get<std::string>().substr(0, 40)) != std::string::npos;
      INFO(it["id"]);
      CHECK(found);
    }
  }
  CHECK(uuids.size() == cards.size());
  // Flags come first: the first card is the plan's first flag.
  REQUIRE_FALSE(plan["flags"].empty());
  CHECK(cards[0]["source"]["topic"]["code"] == plan["flags"][0]["base_id"]);
  // The role dispute's card suggests the solutions and goals for it.
  bool dispute = false;
  for (const auto& c : cards) {
    if (c["source"]["topic"]["code"] != "role_dispute") continue;
    dispute = true;
    REQUIRE(c.contains("suggestions"));
    bool goal = false;
    for (const auto& sg : c["suggestions"]) {
      if (sg.contains("actions")) goal = goal || sg["actions"][0]["resource"]["resourceType"] == "Goal";
    }
    CHECK(goal);
  }
  CHECK(dispute);
  // The plan behind the cards is recorded, by the EHR user; never the patient id.
  auto st = store::open_store(db, false);
  auto rec = st->get(1);
  REQUIRE(rec);
  CHECK(rec->by == "Practitioner/7");
  CHECK(rec->body.find("1288992") == std::string::npos);
  // The same findings as a JSON object give the same cards (by item).
  auto as_json = parsed(call(s, "POST", "/cds-services/iptplan",
                             hook_request(json::parse(R"({"phq9": {"total": 19, "item9": 0}})")).dump(),
                             "application/json"));
  CHECK_FALSE(as_json["cards"].empty());
}

TEST_CASE("cds-hooks: a summary has fewer than 140 characters, cut at a whole one, at its boundary") {
  using server::detail::summary_of;
  std::string t139(139, 'a'), t140(140, 'a');
  CHECK(summary_of(t139) == t139);
  CHECK(summary_of(t140) == std::string(138, 'a') + "\u2026");
  // Code points, not bytes: 139 'é' (278 bytes) stay whole.
  std::string e139;
  for (int i = 0; i < 139; ++i) e139 += "\u00e9";
  CHECK(summary_of(e139) == e139);
  std::string e140 = e139 + "\u00e9";
  std::string cut;
  for (int i = 0; i < 138; ++i) cut += "\u00e9";
  CHECK(summary_of(e140) == cut + "\u2026");
}

TEST_CASE("cds-hooks: a critical flag gives a critical card") {
  auto s = make_service();
  auto r = call(s, "POST", "/cds-services/iptplan",
                hook_request(example("adolescent_high_risk.toml")).dump(), "application/json");
  REQUIRE(r.status == 200);
  auto cards = parsed(r)["cards"];
  REQUIRE_FALSE(cards.empty());
  CHECK(cards[0]["indicator"] == "critical");
}

TEST_CASE("cds-hooks: malformed requests get 400 with a reason") {
  auto s = make_service();
  auto code = [&](const std::string& body) {
    auto r = call(s, "POST", "/cds-services/iptplan", body, "application/json");
    CHECK(r.status == 400);
    return first_error_code(r);
  };
  CHECK(code("not json") == "cds.request");
  CHECK(code("[]") == "cds.request");
  json req = hook_request(example("jane.toml"));
  json wrong_hook = req;
  wrong_hook["hook"] = "patient-view";
  CHECK(code(wrong_hook.dump()) == "cds.request");
  json no_instance = req;
  no_instance.erase("hookInstance");
  CHECK(code(no_instance.dump()) == "cds.request");
  json no_findings = req;
  no_findings["context"].erase("findings");
  CHECK(code(no_findings.dump()) == "cds.request");
  json number = req;
  number["context"]["findings"] = 3;
  CHECK(code(number.dump()) == "cds.request");
  json bad_user = req;
  bad_user["context"]["userId"] = "a\nb";
  CHECK(code(bad_user.dump()) == "cds.request");
  CHECK(code(hook_request("phq9.total = 99\n").dump()) == "findings.range");
  // Where: a TOML text by its own lines; an object by the finding's name
  // alone (its re-serialised copy's lines point nowhere in the body).
  auto toml_err = parsed(call(s, "POST", "/cds-services/iptplan", hook_request("a_b = 1\nphq9.total = 99\n").dump(),
                              "application/json"))["errors"];
  bool found = false;
  for (const auto& e : toml_err) {
    if (e["code"] != "findings.range") continue;
    found = true;
    CHECK(e["file"] == "context.findings (TOML text)");
    CHECK(e["line"] == 2);
  }
  CHECK(found);
  json object = req;
  object["context"]["findings"] = {{"phq9", {{"total", 99}}}};
  auto obj_err = parsed(call(s, "POST", "/cds-services/iptplan", object.dump(2), "application/json"))["errors"];
  REQUIRE_FALSE(obj_err.empty());
  CHECK(obj_err[0]["code"] == "findings.range");
  CHECK(obj_err[0]["file"] == "context.findings");
  CHECK((obj_err[0]["line"].is_null() || obj_err[0]["line"] == 0));
  CHECK(obj_err[0]["message"].get<std::string>().find("'phq9.total'") != std::string::npos);
}

TEST_CASE("cds-hooks: feedback records accepted and overridden cards as decisions on the recorded plan") {
  stored st_;
  auto& s = st_.s;
  const std::string& db = st_.db;
  auto cards = parsed(call(s, "POST", "/cds-services/iptplan", hook_request(example("jane.toml")).dump(),
                           "application/json"))["cards"];
  REQUIRE(cards.size() >= 2);
  json with_suggestion;  // a challenge's card (a plan-wide goal's suggests only itself)
  for (const auto& c : cards) {
    const std::string summary = c["summary"];
    if (c.contains("suggestions") && summary.rfind("Goal: ", 0) != 0) with_suggestion = c;
  }
  REQUIRE_FALSE(with_suggestion.is_null());
  json overridden = cards[0];
  json fb = {{"feedback",
              {{{"card", overridden["uuid"]},
                {"outcome", "overridden"},
                {"overrideReason", {{"reason", overridden["overrideReasons"][1]}, {"userComment", "seen last week"}}},
                {"outcomeTimestamp", "2026-11-26T10:00:00Z"}},
               {{"card", with_suggestion["uuid"]},
                {"outcome", "accepted"},
                {"acceptedSuggestions", {{{"id", with_suggestion["suggestions"][0]["uuid"]}}}},
                {"outcomeTimestamp", "2026-11-26T10:00:00Z"}}}}};
  auto r = call(s, "POST", "/cds-services/iptplan/feedback", fb.dump(), "application/json");
  REQUIRE(r.status == 200);
  auto got = parsed(call(s, "GET", "/api/plans/1"));
  REQUIRE(got["reviews"].size() == 2);
  auto first = got["reviews"][0]["decisions"][0];
  CHECK(first["action"] == "reject");
  CHECK(first["reason"] == "Already addressed: seen last week");
  // A comment alone, however short, is recorded as coming from the EHR.
  json comment_only = {{"feedback",
                        {{{"card", overridden["uuid"]},
                          {"outcome", "overridden"},
                          {"overrideReason", {{"userComment", "x"}}},
                          {"outcomeTimestamp", "2026-11-26T10:00:00Z"}}}}};
  REQUIRE(call(s, "POST", "/cds-services/iptplan/feedback", comment_only.dump(), "application/json").status == 200);
  auto with_comment = parsed(call(s, "GET", "/api/plans/1"));
  REQUIRE(with_comment["reviews"].size() == 3);
  CHECK(with_comment["reviews"][2]["decisions"][0]["reason"] == "overridden in the EHR: x");
  auto second = got["reviews"][1]["decisions"];
  REQUIRE(second.size() == 2);
  CHECK(second[0]["action"] == "accept");
  CHECK(second[1]["action"] == "accept");
  CHECK(store::verify(*store::open_store(db, false)).problem.empty());
  // Refused feedback records nothing.
  auto refused = [&](const json& body, int status) {
    INFO(body.dump());
    CHECK(call(s, "POST", "/cds-services/iptplan/feedback", body.dump(), "application/json").status == status);
  };
  const json when = "2026-11-26T10:00:00Z";
  refused({{"feedback", {{{"card", "00000000-0000-5000-8000-000000000000"}, {"outcome", "accepted"},
                          {"outcomeTimestamp", when}}}}},
          404);
  refused({{"feedback", {{{"card", overridden["uuid"]}, {"outcome", "ignored"}, {"outcomeTimestamp", when}}}}}, 400);
  refused({{"feedback", {{{"card", overridden["uuid"]}}}}}, 400);
  refused({{"feedback", 3}}, 400);
  refused({{"feedback", {{{"card", overridden["uuid"]}, {"outcome", "accepted"}, {"outcomeTimestamp", when},
                           {"acceptedSuggestions", {{{"id", "nope"}}}}}}}}, 404);
  // From an integrator's trial: one card both accepted and overridden in
  // one body recorded two contradicting decisions; an overridden card's
  // accepted suggestions were dropped unsaid; a key beside 'feedback' was
  // taken.
  refused({{"feedback", {{{"card", overridden["uuid"]}, {"outcome", "accepted"}, {"outcomeTimestamp", when}},
                         {{"card", overridden["uuid"]}, {"outcome", "overridden"}, {"outcomeTimestamp", when}}}}},
          400);
  refused({{"feedback", {{{"card", with_suggestion["uuid"]}, {"outcome", "overridden"}, {"outcomeTimestamp", when},
                           {"acceptedSuggestions", {{{"id", with_suggestion["suggestions"][0]["uuid"]}}}}}}}},
          400);
  refused({{"feedback", {{{"card", overridden["uuid"]}, {"outcome", "accepted"}, {"outcomeTimestamp", when}}}},
           {"x", 1}},
          400);
  // outcomeTimestamp is required (CDS Hooks 2.0), as an ISO 8601 instant.
  for (const json& t : {json(), json("yesterday"), json("2026-11-26"), json("2026-11-26T10:00:00"), json(3),
                        json("2026-11-26T10:00:00+0100"), json("2026-13-45T99:00:00Z"), json("2026-02-29T10:00:00Z"),
                        json("2026-11-26T24:00:00Z"), json("2026-11-26T10:60:00Z"), json("2026-11-26T10:00:00+25:00")}) {
    json entry = {{"card", overridden["uuid"]}, {"outcome", "accepted"}};
    if (!t.is_null()) entry["outcomeTimestamp"] = t;
    refused({{"feedback", {entry}}}, 400);
  }
  // An override reason is one of the card's, by its code; other text sent
  // in its place is never recorded.
  refused({{"feedback", {{{"card", overridden["uuid"]}, {"outcome", "overridden"}, {"outcomeTimestamp", when},
                           {"overrideReason", {{"reason", {{"code", "made-up"}, {"display", "Mary Smith"}}}}}}}}},
          400);
  refused({{"feedback", {{{"card", overridden["uuid"]}, {"outcome", "overridden"}, {"outcomeTimestamp", when},
                           {"overrideReason", "no"}}}}},
          400);
  // A suggestion of another card (known to this server) is not this card's.
  json other_card;
  for (const auto& c : cards) {
    if (c.contains("suggestions") && c["uuid"] != with_suggestion["uuid"]) other_card = c;
  }
  if (!other_card.is_null()) {
    refused({{"feedback", {{{"card", other_card["uuid"]}, {"outcome", "accepted"}, {"outcomeTimestamp", when},
                             {"acceptedSuggestions", {{{"id", with_suggestion["suggestions"][0]["uuid"]}}}}}}}},
            404);
  }
  // Nor is a card itself a suggestion, or a suggestion a card.
  refused({{"feedback", {{{"card", with_suggestion["suggestions"][0]["uuid"]}, {"outcome", "accepted"},
                           {"outcomeTimestamp", when}}}}},
          404);
  // The card's own wording is recorded, whatever display came with the code.
  json relabelled = {{"feedback",
                      {{{"card", overridden["uuid"]},
                        {"outcome", "overridden"},
                        {"outcomeTimestamp", "2026-11-26T10:00:00.5+01:00"},
                        {"overrideReason", {{"reason", {{"code", "client-declines"}, {"display", "Mary Smith"}}}}}}}}};
  REQUIRE(call(s, "POST", "/cds-services/iptplan/feedback", relabelled.dump(), "application/json").status == 200);
  auto again = parsed(call(s, "GET", "/api/plans/1"));
  REQUIRE(again["reviews"].size() == 4);
  CHECK(again["reviews"][3]["decisions"][0]["reason"] == "The client declines");
  CHECK(again.dump().find("Mary") == std::string::npos);
  CHECK(call(s, "POST", "/cds-services/iptplan/feedback", "nope", "application/json").status == 400);
  CHECK(store::verify(*store::open_store(db, false)).records == 5);
  // Without a store there is nothing to record feedback against.
  auto bare = make_service();
  CHECK(call(bare, "POST", "/cds-services/iptplan/feedback", fb.dump(), "application/json").status == 409);
}

TEST_CASE("cds-hooks: feedback on a card given before a restart finds its plan in the store") {
  stored st_;
  auto cards = parsed(call(st_.s, "POST", "/cds-services/iptplan", hook_request(example("jane.toml")).dump(),
                           "application/json"))["cards"];
  json with_suggestion;  // a challenge's card (a plan-wide goal's suggests only itself)
  for (const auto& c : cards) {
    const std::string summary = c["summary"];
    if (c.contains("suggestions") && summary.rfind("Goal: ", 0) != 0) with_suggestion = c;
  }
  REQUIRE_FALSE(with_suggestion.is_null());
  // The uuid carries the plan's record (version 8, record 1 in its first 48 bits).
  std::string uuid = with_suggestion["uuid"];
  CHECK(uuid.substr(0, 13) == "00000000-0001");
  CHECK(uuid[14] == '8');
  // A new service on the same store has never seen the card.
  auto restarted = make_service(st_.db);
  json fb = {{"feedback",
              {{{"card", uuid},
                {"outcome", "accepted"},
                {"outcomeTimestamp", "2026-11-27T09:30:00Z"},
                {"acceptedSuggestions", {{{"id", with_suggestion["suggestions"][0]["uuid"]}}}}}}}};
  auto r = call(restarted, "POST", "/cds-services/iptplan/feedback", fb.dump(), "application/json");
  REQUIRE(r.status == 200);
  auto got = parsed(call(restarted, "GET", "/api/plans/1"));
  REQUIRE(got["reviews"].size() == 1);
  CHECK(got["reviews"][0]["decisions"].size() == 2);
  // A uuid naming the record but no item of it, or a suggestion of another card: refused.
  std::string forged = uuid.substr(0, 24) + (uuid[24] == '0' ? "1" : "0") + uuid.substr(25);
  auto other = make_service(st_.db);
  CHECK(call(other, "POST", "/cds-services/iptplan/feedback",
             json({{"feedback", {{{"card", forged}, {"outcome", "accepted"}, {"outcomeTimestamp", "2026-11-27T09:30:00Z"}}}}})
                 .dump(),
             "application/json")
            .status == 404);
  json foreign = {{"feedback",
                   {{{"card", cards[0]["uuid"]},
                     {"outcome", "accepted"},
                     {"outcomeTimestamp", "2026-11-27T09:30:00Z"},
                     {"acceptedSuggestions", {{{"id", with_suggestion["suggestions"][0]["uuid"]}}}}}}}};
  if (cards[0]["uuid"] != with_suggestion["uuid"]) {
    CHECK(call(other, "POST", "/cds-services/iptplan/feedback", foreign.dump(), "application/json").status == 404);
  }
  // A suggestion id made the server's way (card_uuid) for an item that is
  // not one of the card's suggestions (a plan-wide goal) is refused, and an uppercase
  // uuid is the same uuid.
  auto rec = parsed(call(other, "GET", "/api/plans/1"));
  std::string hash = rec["hash"];
  auto v8 = [](const std::string& name, std::int64_t record) { return server::detail::card_uuid(name, record); };
  std::string card_item = with_suggestion["source"]["topic"]["code"];
  std::string card_id;
  for (const auto& c : rec["plan"]["challenges"]) {
    if (v8(hash + "\n" + c["id"].get<std::string>(), 1) == uuid) card_id = c["id"];
  }
  REQUIRE_FALSE(card_id.empty());
  CHECK(card_id.rfind(card_item, 0) == 0);
  std::string upper = uuid;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  auto third = make_service(st_.db);
  json forged_suggestion = {{"feedback",
                             {{{"card", upper},
                               {"outcome", "accepted"},
                               {"outcomeTimestamp", "2026-11-27T09:30:00Z"},
                               {"acceptedSuggestions", {{{"id", v8(hash + "\n" + card_id + "\n" + "risk_rescreen", 1)}}}}}}}};
  CHECK(call(third, "POST", "/cds-services/iptplan/feedback", forged_suggestion.dump(), "application/json").status ==
        404);
  CHECK(store::verify(*store::open_store(st_.db, false)).records == 2);
  json upper_ok = {{"feedback", {{{"card", upper}, {"outcome", "overridden"}, {"outcomeTimestamp", "2026-11-27T09:30:00Z"}}}}};
  CHECK(call(third, "POST", "/cds-services/iptplan/feedback", upper_ok.dump(), "application/json").status == 200);
  CHECK(store::verify(*store::open_store(st_.db, false)).records == 3);
}

TEST_CASE("http: with trusted CDS clients, CDS Hooks calls need a client's signed token, once") {
  test_support::cds_client_key key("ES384", "ehr-1");
  json file = {{"audience", "https://cds.clinic.example"},
               {"clients", json::array({{{"iss", "https://ehr.clinic.example"}, {"jwks", {{"keys", {key.jwk()}}}}}})}};
  std::string problem;
  auto trust = server::cds_trust::parse(file.dump(), problem);
  REQUIRE(trust);
  server::http_options o;
  o.cds = std::make_shared<server::cds_trust>(std::move(*trust));
  running srv(o);
  auto c = srv.client();
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  auto token_for = [&](const std::string& path, const std::string& jti) {
    return key.token({{"iss", "https://ehr.clinic.example"},
                      {"aud", "https://cds.clinic.example" + path},
                      {"iat", now},
                      {"exp", now + 120},
                      {"jti", jti}});
  };
  auto none = c.Get("/cds-services");
  REQUIRE(none);
  CHECK(none->status == 401);
  CHECK(none->get_header_value("WWW-Authenticate").find("invalid_token") != std::string::npos);
  CHECK(json::parse(none->body)["errors"][0]["code"] == "api.jwt");
  httplib::Headers h = {{"Authorization", "Bearer " + token_for("/cds-services", "a")}};
  auto ok = c.Get("/cds-services", h);
  REQUIRE(ok);
  CHECK(ok->status == 200);
  // A request refused for another reason does not use up its token.
  httplib::Headers h2 = {{"Authorization", "Bearer " + token_for("/cds-services", "z")},
                         {"Origin", "https://elsewhere.example"}};
  auto cross = c.Get("/cds-services", h2);
  REQUIRE(cross);
  CHECK(cross->status == 403);
  h2.erase("Origin");
  auto after = c.Get("/cds-services", h2);
  REQUIRE(after);
  CHECK(after->status == 200);
  auto again = c.Get("/cds-services", h);  // the same token, replayed
  REQUIRE(again);
  CHECK(again->status == 401);
  CHECK(again->body.find("used before") != std::string::npos);
  // A token for discovery does not call the service.
  json call_body = hook_request(example("jane.toml"));
  auto wrong = c.Post("/cds-services/iptplan", {{"Authorization", "Bearer " + token_for("/cds-services", "b")}},
                      call_body.dump(), "application/json");
  REQUIRE(wrong);
  CHECK(wrong->status == 401);
  auto cards = c.Post("/cds-services/iptplan",
                      {{"Authorization", "Bearer " + token_for("/cds-services/iptplan", "c")}}, call_body.dump(),
                      "application/json");
  REQUIRE(cards);
  CHECK(cards->status == 200);
  CHECK(json::parse(cards->body)["cards"].size() > 0);
  // The rest of the API is as without CDS clients (no bearer token set).
  auto plan = c.Post("/api/plan", example("jane.toml"), "application/toml");
  REQUIRE(plan);
  CHECK(plan->status == 200);
}

TEST_CASE("api: a store moved or deleted while the server runs is an error, never a new chain from record 1") {
  // From a hostile trial: the file moved away, the next recorded plan made
  // a new store numbered from 1, ids reused and nothing said.
  stored st;
  auto jane = example("jane.toml");
  REQUIRE(call(st.s, "POST", "/api/plan", jane, "", {{"record", "1"}, {"by", "clinician 7"}}).status == 201);
  std::filesystem::rename(st.db, st.db + ".moved");
  auto r = call(st.s, "POST", "/api/plan", jane, "", {{"record", "1"}, {"by", "clinician 7"}});
  CHECK(r.status == 503);
  CHECK(first_error_code(r) == "api.store");
  json cds = {{"hook", "ipt-inventory"}, {"hookInstance", "h-1"}, {"context", {{"findings", jane}}}};
  auto c = call(st.s, "POST", "/cds-services/iptplan", cds.dump(), "application/json");
  CHECK(c.status == 503);
  CHECK_FALSE(std::filesystem::exists(st.db));
  // Put back, it is recorded into again, the chain unbroken.
  std::filesystem::rename(st.db + ".moved", st.db);
  auto again = call(st.s, "POST", "/api/plan", jane, "", {{"record", "1"}, {"by", "clinician 7"}});
  CHECK(again.status == 201);
  CHECK(parsed(again)["record"] == 2);
}

TEST_CASE("api: docs/openapi.json declares every key the vocabulary endpoint sends") {
  // From an integrator's trial: seven keys the service sends were missing
  // from the schema.
  auto s = make_service();
  auto j = parsed(call(s, "GET", "/api/vocabulary"));
  auto spec = json::parse(slurp(std::string(IPTPLAN_SOURCE_DIR) + "/docs/openapi.json"));
  const auto& props = spec["components"]["schemas"]["VocabularyFinding"]["properties"];
  std::set<std::string> missing;
  std::function<void(const json&)> walk = [&](const json& f) {
    for (const auto& [k, v] : f.items()) {
      if (!props.contains(k)) missing.insert(k);
      if (k == "fields") {
        for (const auto& x : v) walk(x);
      }
    }
  };
  for (const auto& f : j["findings"]) walk(f);
  std::string names;
  for (const auto& k : missing) names += k + " ";
  INFO(names);
  CHECK(missing.empty());
}

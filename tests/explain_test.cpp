// Explanations as data: `why` and `why-not` for derived facts, their exit
// codes, and the JSON of why, why-not, check and test.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli_support.hpp"

namespace fs = std::filesystem;
using namespace iptplan::testing_cli;
using nlohmann::json;

namespace {
const std::string kJane = std::string(IPTPLAN_SOURCE_DIR) + "/examples/jane.toml";
const std::string kEmpty = std::string(IPTPLAN_SOURCE_DIR) + "/examples/empty.toml";
}  // namespace

TEST_CASE("why explains a derived fact the plan lists, down to the findings") {
  auto r = run({"why", "risk.level", kJane});
  CHECK(r.code == 0);
  CHECK(r.out.rfind("risk.level = none\n  derived fact risk.level = none\n"
                    "    rule risk_screen_negative \"C-SSRS screener negative\" (safety.rules:",
                    0) == 0);
  CHECK(r.out.find("[yes] risk.cssrs.q1 == false   with risk.cssrs.q1 = false") != std::string::npos);

  auto j = json::parse(run({"why", "risk.level", kJane, "--format", "json"}).out);
  CHECK(j["query"] == "risk.level");
  CHECK(j["holds"] == true);
  CHECK(j["fact"]["value"] == "none");
  CHECK(j["fact"]["status"] == "confirmed");
  std::string ref = j["fact"]["concluded_by"][0]["ref"];
  CHECK(j["explanations"][ref]["rule"]["id"] == "risk_screen_negative");
  CHECK(j["explanations"][ref]["rule"]["sha256"].get<std::string>().size() == 64);
}

TEST_CASE("why on an undecided fact says what would decide it, exit 1, why-not lists each rule") {
  auto r = run({"why", "risk.level", kEmpty});
  CHECK(r.code == 1);
  CHECK(r.out.rfind("risk.level is undecided:", 0) == 0);
  CHECK(r.out.find("would be decided by: phq9.item9, risk.cssrs.q1") != std::string::npos);
  auto n = run({"why-not", "risk.level", kEmpty});
  CHECK(n.code == 0);
  CHECK(n.out.rfind("risk.level is undecided for this client.\n\nRules that could conclude risk.level:\n", 0) == 0);
  CHECK(n.out.find("rule risk_level_low \"Suicide risk tier: low\"") != std::string::npos);
  // Lists of findings read as lists (from a trial: names ran together).
  CHECK(n.out.find("=> undecided: would be decided by risk.cssrs.q2, risk.cssrs.q6\n") != std::string::npos);
  auto nj = json::parse(run({"why-not", "risk.level", kEmpty, "--format", "json"}).out);
  CHECK(nj["kind"] == "fact");
  bool low = false;
  for (const auto& e : nj["rules"]) {
    if (e["rule"] == "risk_level_low") {
      low = true;
      CHECK(e["outcome"] == "undecided");
      CHECK_FALSE(e["missing"].empty());
      CHECK(nj["explanations"].contains(e["explanation"]["ref"].get<std::string>()));
    }
  }
  CHECK(low);
}

TEST_CASE("why exits 1 for an item not in the plan or only to confirm, 0 for one in it, 2 for a name nothing proposes") {
  CHECK(run({"why", "weak_relationship", kJane}).code == 0);
  auto missing = run({"why", "low_social_support", kJane});
  CHECK(missing.code == 1);
  CHECK(missing.out.rfind("low_social_support is not in the plan.\nRun: iptplan why-not low_social_support ", 0) == 0);
  // The command to paste is quoted for the shell, whatever the path holds.
  scratch s;
  std::ifstream jane(kJane);
  auto odd = s.write("x$(touch PWNED);id.toml", std::string(std::istreambuf_iterator<char>(jane), {}));
  auto q = run({"why", "role_dispute[friend]", odd});
  CHECK(q.code == 1);
  CHECK(q.out.find("Run: iptplan why-not 'role_dispute[friend]' '" + odd + "'\nto see why.\n") != std::string::npos);
  auto mj = run({"why", "low_social_support", kJane, "--format", "json"});
  CHECK(mj.code == 1);
  CHECK(json::parse(mj.out)["in_plan"] == false);
  CHECK(json::parse(mj.out)["status"] == "absent");
  // An item only to confirm is not in the plan yet: its explanation, exit 1.
  const std::string partial = std::string(IPTPLAN_SOURCE_DIR) + "/examples/first_interview_partial_dispute.toml";
  auto prov = run({"why", "role_dispute[partner]", partial});
  CHECK(prov.code == 1);
  CHECK(prov.out.rfind("role_dispute[partner] is not yet in the plan: it is proposed provisionally, as a challenge to "
                       "confirm: ",
                       0) == 0);
  auto pj = run({"why", "role_dispute[partner]", partial, "--format", "json"});
  CHECK(pj.code == 1);
  CHECK(json::parse(pj.out)["in_plan"] == false);
  CHECK(json::parse(pj.out)["status"] == "provisional");
  CHECK(json::parse(pj.out)["items"].size() == 1);
  auto typo = run({"why", "risk.levle", kJane});
  CHECK(typo.code == 2);
  CHECK(typo.err.find("did you mean 'risk.level'?") != std::string::npos);
  // A key that names nobody in the file (a misspelt label): exit 2, with the
  // id meant, for why and why-not, in text and JSON; no plan printed.
  for (const char* cmd : {"why", "why-not"}) {
    auto key = run({cmd, "role_dispute[mothr]", kJane});
    CHECK(key.code == 2);
    CHECK(key.out.empty());
    CHECK(key.err == "iptplan: error: no entry of relationships in this findings file is named 'mothr', so nothing is "
                     "proposed for it; did you mean 'role_dispute[mother]'?\n");
    auto kj = run({cmd, "role_dispute[mothr]", kJane, "--format", "json"});
    CHECK(kj.code == 2);
    CHECK(json::parse(kj.out)["suggestion"] == "role_dispute[mother]");
  }
  // Not an id at all: exit 2, said as such, for why and why-not.
  for (const char* bad : {"[partner]", "role_dispute[", "role_dispute[]", "role_dispute[partner]x",
                          "role_dispute[[partner]]", "role dispute"}) {
    for (const char* cmd : {"why", "why-not"}) {
      INFO(cmd << " " << bad);
      auto r = run({cmd, bad, kJane});
      CHECK(r.code == 2);
      CHECK(r.out.empty());
      CHECK(r.err == "iptplan: error: not an item id: write the id, or the id and one key in brackets (role_dispute, "
                     "role_dispute[partner], risk.level)\n");
    }
  }
  CHECK(run({"why", "role_dispute[partner]", kJane}).code == 0);
  // A key that is no role word is not repeated.
  auto named = run({"why-not", "role_dispute[Mary Smith]", kJane});
  CHECK(named.code == 2);
  CHECK(named.err.find("is named like that, so nothing is proposed for it") != std::string::npos);
  CHECK(named.err.find("Mary") == std::string::npos);
}

TEST_CASE("why-not: a derived fact is explained in full only where it stopped the rule, else named in a line") {
  const std::string couple = std::string(IPTPLAN_SOURCE_DIR) + "/examples/couple.toml";
  auto r = run({"why-not", "no_problem_area", couple});
  REQUIRE(r.code == 0);
  // problem_area.grief fed a condition that held: one line, not its tree.
  CHECK(r.out.find("    derived fact problem_area.grief = false (not what stopped the rule; 'iptplan why "
                   "problem_area.grief' explains it)\n") != std::string::npos);
  CHECK(r.out.find("rule grief_detect") == std::string::npos);
  // problem_area.role_dispute is what stopped it: explained down to the findings.
  CHECK(r.out.find("    derived fact problem_area.role_dispute = true\n      rule role_dispute_detect") !=
        std::string::npos);
  // `why` keeps every tree whole.
  auto why = run({"why", "problem_area.proposed", couple});
  CHECK(why.out.find("not what stopped the rule") == std::string::npos);
}

TEST_CASE("why and why-not as JSON: items with their explanation trees, each rule's outcome") {
  auto j = json::parse(run({"why", "role_dispute", kJane, "--format", "json"}).out);
  CHECK(j["in_plan"] == true);
  CHECK(j["status"] == "confirmed");
  REQUIRE(j["items"].size() == 1);
  CHECK(j["items"][0]["id"] == "role_dispute[partner]");
  std::string ref = j["items"][0]["because"][0]["ref"];
  CHECK(j["explanations"][ref]["rule"]["id"] == "role_dispute_detect");
  CHECK(j["explanations"][ref]["element"] == "relationships[partner]");

  auto n = json::parse(run({"why-not", "low_social_support", kJane, "--format", "json"}).out);
  CHECK(n["kind"] == "item");
  REQUIRE(n["rules"].size() >= 1);
  CHECK(n["rules"][0]["rule"] == "social_support_low");
  CHECK(n["rules"][0]["outcome"] == "not_fired");
  CHECK(n["rules"][0]["proposes"] == "low_social_support");
}

TEST_CASE("check --format json: diagnostics as objects, and the rule set's counts") {
  auto ok = run({"check", "--format", "json"});
  CHECK(ok.code == 0);
  auto j = json::parse(ok.out);
  CHECK(j["ok"] == true);
  CHECK(j["rules"].get<int>() > 90);
  CHECK(j["diagnostics"].empty());

  scratch s;
  auto rules = s.rules_copy();
  std::string path = rules + "/alliance.rules";
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.replace(text.find("alliance.strength == \"weak\""), 17, "alliance.strenght");
  std::ofstream(path) << text;
  auto bad = run({"check", rules, "--format", "json"});
  CHECK(bad.code == 1);
  auto b = json::parse(bad.out);
  CHECK(b["ok"] == false);
  REQUIRE(b["diagnostics"].size() == 1);
  const auto& d = b["diagnostics"][0];
  CHECK(d["severity"] == "error");
  CHECK(d["code"] == "check.unknown-path");
  CHECK(d["file"] == path);
  CHECK(d["line"] == 15);
  CHECK(d["column"] == 3);
  CHECK(d["message"] == "unknown finding 'alliance.strenght'");
  CHECK(d["notes"][0] == "did you mean 'alliance.strength'?");
  CHECK(bad.err.empty());
}

TEST_CASE("test --format json: each case, its report when it fails, and coverage per rule") {
  auto ok = run({"test", "--format", "json"});
  CHECK(ok.code == 0);
  auto j = json::parse(ok.out);
  CHECK(j["ok"] == true);
  CHECK(j["failed"] == 0);
  CHECK(j["passed"].get<int>() == static_cast<int>(j["cases"].size()));
  CHECK(j["coverage"]["fired"] == j["coverage"]["rules"]);
  CHECK(j["coverage"]["by_rule"][0].contains("fired"));

  scratch s;
  auto rules = s.rules_copy();
  // A case that expects what the plan does not hold.
  s.write("rules/tests/zz_wrong.toml",
          "description = \"wrong on purpose\"\nfindings = \"clients/jane.toml\"\n[expect]\nchallenges = [\"low_social_support\"]\n");
  auto bad = run({"test", rules, "--format", "json"});
  CHECK(bad.code == 1);
  auto b = json::parse(bad.out);
  CHECK(b["ok"] == false);
  CHECK(b["failed"] == 1);
  bool found = false;
  for (const auto& c : b["cases"]) {
    if (c["name"] != "zz_wrong") continue;
    found = true;
    CHECK(c["passed"] == false);
    CHECK(c["report"].get<std::string>().find("low_social_support") != std::string::npos);
  }
  CHECK(found);
  CHECK(run({"test", rules, "--format", "json", "--min-coverage", "100"}).code == 1);
}

TEST_CASE("why on a fact that is false says so, exit 1, and why-not JSON names what each rule concludes") {
  auto r = run({"why", "risk.elevated", kJane});
  CHECK(r.code == 1);
  CHECK(r.out == "risk.elevated is false: no rule concluding it fired (see 'why-not risk.elevated').\n");
  auto n = json::parse(run({"why-not", "risk.elevated", kJane, "--format", "json"}).out);
  CHECK(n["kind"] == "fact");
  REQUIRE_FALSE(n["rules"].empty());
  for (const auto& e : n["rules"]) {
    if (e["outcome"] == "not_fired") {
      CHECK(e["concludes"] == "risk.elevated");
      CHECK(e["explanation"]["status"] == "not_fired");
      CHECK(n["explanations"][e["explanation"]["ref"].get<std::string>()]["status"] == "not_fired");
    }
  }
}

TEST_CASE("why with --format json on a name nothing proposes writes JSON too, exit 2") {
  auto r = run({"why", "weak_relationshp", kJane, "--format", "json"});
  CHECK(r.code == 2);
  auto j = json::parse(r.out);
  CHECK(j["suggestion"] == "weak_relationship");
  auto t = run({"test", "/nonexistent-rules", "--format", "json"});
  CHECK(t.code == 1);
  auto tj = json::parse(t.out);
  CHECK(tj["passed"] == 0);
  CHECK(tj["failed"] == 0);
  CHECK(tj["ok"] == false);
}

TEST_CASE("why on a derived fact: the findings as the skip logic asks them, an undecided fact not 'missing'") {
  const std::string root = std::string(IPTPLAN_SOURCE_DIR) + "/examples/";
  auto r = run({"why", "risk.level", root + "risk_not_recorded.toml"});
  INFO(r.out);
  CHECK(r.out.find("would be decided by: phq9.item9, risk.cssrs.q1, risk.cssrs.q2, risk.cssrs.q6") !=
        std::string::npos);
  // Q3-Q5 wait for a yes to Q2, the 3-month question for a yes to Q6.
  CHECK(r.out.find("risk.cssrs.q3") == std::string::npos);
  CHECK(r.out.find("risk.cssrs.q6_past3m") == std::string::npos);
  auto j = json::parse(run({"why", "risk.level", root + "risk_not_recorded.toml", "--format", "json"}).out);
  for (const auto& m : j["fact"]["missing"]) CHECK(m.get<std::string>().find("risk.cssrs.q3") == std::string::npos);
  // A condition reading a derived fact with only a provisional value.
  auto p = run({"why", "focus.person", root + "first_interview_partial_dispute.toml"});
  CHECK(p.out.find("with problem_area.proposed = not yet decided") != std::string::npos);
  CHECK(p.out.find("problem_area.proposed = missing") == std::string::npos);
}

TEST_CASE("why-not: an undecided rule waits on the findings as the skip logic asks them") {
  const std::string root = std::string(IPTPLAN_SOURCE_DIR) + "/examples/";
  auto r = run({"why-not", "safety_plan", root + "risk_not_recorded.toml"});
  INFO(r.out);
  CHECK(r.out.find("would be decided by risk.cssrs.q2") != std::string::npos);
  CHECK(r.out.find("would be decided by perinatal.status") != std::string::npos);
  for (const std::string gated : {"risk.cssrs.q3", "risk.cssrs.q4", "risk.cssrs.q5", "perinatal.harm_infant_thoughts"}) {
    CHECK(r.out.find("decided by " + gated) == std::string::npos);
    CHECK(r.out.find(" " + gated + "\n") == std::string::npos);
  }
  auto j = json::parse(run({"why-not", "safety_plan", root + "risk_not_recorded.toml", "--format", "json"}).out);
  for (const auto& rule : j["rules"]) {
    for (const auto& m : rule.value("missing", json::array())) CHECK(m.get<std::string>().find("risk.cssrs.q4") == std::string::npos);
  }
}

TEST_CASE("why on a fact with only a provisional value explains it and exits 1, as for an item to confirm") {
  scratch s;
  auto f = s.write("q1.toml", "[client]\nage_band = \"18_64\"\n[risk.cssrs]\nq1 = true\nq2 = false\n");
  auto r = run({"why", "risk.level", f});
  CHECK(r.code == 1);
  CHECK(r.out.rfind("risk.level = low (provisional", 0) == 0);
  CHECK(r.out.find("to confirm: risk.cssrs.q6") != std::string::npos);
  auto j = run({"why", "risk.level", f, "--format", "json"});
  CHECK(j.code == 1);
  auto parsed = json::parse(j.out);
  CHECK(parsed["holds"] == true);
  CHECK(parsed["fact"]["status"] == "provisional");
}

TEST_CASE("why-not names the rules that fired and remove an item, above the rules still undecided that could propose it") {
  // From a clinician's trial: harm from a partner, no focus decided yet.
  // The role-play of the partner dispute waits on the focus, but the harm
  // rules have already removed it whatever the focus turns out to be.
  scratch s;
  auto f = s.write("harm.toml",
                   "[risk]\nharmed_by_others = true\nharmed_by = [\"partner\"]\n"
                   "[[relationships]]\nlabel = \"partner\"\nrole = \"partner\"\nconflict = \"overt\"\n"
                   "expectations_reciprocal = false\n"
                   "[[relationships]]\nlabel = \"friend\"\nrole = \"friend\"\n");
  auto r = run({"why-not", "dispute_role_play[partner]", f});
  CHECK(r.code == 0);
  auto removers = r.out.find("Rules that fired and remove dispute_role_play for partner, whatever the rules below decide:");
  auto proposers = r.out.find("Rules that could propose dispute_role_play:");
  REQUIRE(removers != std::string::npos);
  REQUIRE(proposers != std::string::npos);
  CHECK(removers < proposers);
  auto harm = r.out.find("rule harm_by_others");
  auto partner = r.out.find("rule harmed_partner_dispute");
  CHECK((harm > removers && harm < proposers));
  CHECK((partner > removers && partner < proposers));
  CHECK(r.out.find("=> fired; it excludes dispute_role_play[partner]") != std::string::npos);
  // The friend's role-play is removed by the rule for every key, not by
  // the partner's set-aside.
  auto friend_r = run({"why-not", "dispute_role_play[friend]", f});
  CHECK(friend_r.out.find("rule harm_by_others") != std::string::npos);
  CHECK(friend_r.out.find("rule harmed_partner_dispute") == std::string::npos);

  auto j = json::parse(run({"why-not", "dispute_role_play[partner]", f, "--format", "json"}).out);
  REQUIRE(j["removed_by"].size() == 2);
  std::set<std::string> ids;
  for (const auto& x : j["removed_by"]) {
    ids.insert(x["rule"].get<std::string>());
    CHECK(x["excludes"] == "dispute_role_play[partner]");
    std::string ref = x["explanation"]["ref"];
    CHECK(j["explanations"].contains(ref));
  }
  CHECK(ids == std::set<std::string>{"harm_by_others", "harmed_partner_dispute"});
  // Nothing removes it for a client with no harm reported.
  auto none = json::parse(run({"why-not", "dispute_role_play[partner]", kJane, "--format", "json"}).out);
  CHECK(none["removed_by"].empty());
}

// The clinical lead's workbench: approving a rule set, and what plans do
// with a draft, an approved, a retired or an overdue rule set.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli_support.hpp"

namespace fs = std::filesystem;
using namespace iptplan::testing_cli;
using nlohmann::json;

namespace {
const std::string kJane = std::string(IPTPLAN_SOURCE_DIR) + "/examples/jane.toml";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void replace_in(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = slurp(path);
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  std::ofstream(path, std::ios::binary) << text;
}

std::string rule_set_line(const std::string& plan_text) {
  auto at = plan_text.find("Rule set: ");
  return plan_text.substr(at, plan_text.find('\n', at) - at);
}
}  // namespace

TEST_CASE("approve: the plan says approved while the files are as approved, draft after any change") {
  scratch s;
  auto rules = s.rules_copy();
  auto before = run({"plan", kJane, "--rules", rules});
  CHECK(rule_set_line(before.out) == "Rule set: iptplan-default 0.2.0 (draft)");

  auto a = run({"approve", rules, "--by", "Dr Lead"});
  REQUIRE(a.code == 0);
  CHECK(a.out.find("approved by Dr Lead on ") != std::string::npos);
  CHECK(slurp(rules + "/approval.toml").find("by = \"Dr Lead\"") != std::string::npos);
  auto after = run({"plan", kJane, "--rules", rules});
  CHECK(rule_set_line(after.out).rfind("Rule set: iptplan-default 0.2.0 (approved by Dr Lead on 20", 0) == 0);
  auto j = json::parse(run({"plan", kJane, "--rules", rules, "--format", "json"}).out);
  CHECK(j["provenance"]["rule_set"]["status"] == "approved");
  CHECK(j["provenance"]["rule_set"]["approved"]["by"] == "Dr Lead");
  // The approval file is not part of the rule set's hash.
  CHECK(j["provenance"]["rule_set"]["sha256"] ==
        json::parse(before.out.empty() ? "{}" : run({"plan", kJane, "--format", "json"}).out)["provenance"]
                                                                                            ["rule_set"]["sha256"]);
  CHECK(run({"plan", kJane, "--rules", rules, "--require-approved"}).code == 0);
  CHECK(run({"approve", rules, "--by", "Dr Lead"}).out.find("already approved") != std::string::npos);

  // One byte changed in any rule file: a draft again, visibly.
  replace_in(rules + "/alliance.rules", "Weak therapeutic alliance", "Weak therapeutic alliancE");
  auto changed = run({"plan", kJane, "--rules", rules});
  CHECK(rule_set_line(changed.out) == "Rule set: iptplan-default 0.2.0 (draft)");
  auto check = run({"check", rules});
  CHECK(check.out.find("(draft: changed since approved on ") != std::string::npos);
  auto strict = run({"plan", kJane, "--rules", rules, "--require-approved"});
  CHECK(strict.code == 1);
  CHECK(strict.out.empty());
  CHECK(strict.err.find("--require-approved plans only with a rule set approved as it is") != std::string::npos);
  // Approved again as it is now: a second entry, the first kept.
  REQUIRE(run({"approve", rules, "--by", "Dr Second"}).code == 0);
  std::string file = slurp(rules + "/approval.toml");
  CHECK(file.find("Dr Lead") != std::string::npos);
  CHECK(file.find("Dr Second") != std::string::npos);
  CHECK(run({"plan", kJane, "--rules", rules, "--require-approved"}).code == 0);
}

TEST_CASE("the word approved typed in ruleset.toml is not an approval") {
  scratch s;
  auto rules = s.rules_copy();
  replace_in(rules + "/ruleset.toml", "status = \"draft\"", "status = \"approved\"");
  auto r = run({"plan", kJane, "--rules", rules});
  CHECK(r.code == 0);
  CHECK(rule_set_line(r.out) == "Rule set: iptplan-default 0.2.0 (draft)");
  CHECK(r.err.find("no approval is recorded: the rule set is a draft [ruleset.approval]") != std::string::npos);
  CHECK(run({"plan", kJane, "--rules", rules, "--require-approved"}).code == 1);
}

TEST_CASE("a retired rule set refuses to plan, a review date in the past warns on every plan") {
  scratch s;
  auto rules = s.rules_copy();
  replace_in(rules + "/ruleset.toml", "status = \"draft\"", "status = \"retired\"");
  auto r = run({"plan", kJane, "--rules", rules});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("is retired (status in ruleset.toml): it may not be used to plan") != std::string::npos);
  CHECK(run({"why", "weak_relationship", kJane, "--rules", rules}).code == 1);
  CHECK(run({"approve", rules, "--by", "Dr Lead"}).code == 1);
  CHECK(run({"check", rules}).code == 0);  // it can still be read and checked

  replace_in(rules + "/ruleset.toml", "status = \"retired\"", "status = \"draft\"");
  replace_in(rules + "/ruleset.toml", "review_date = 2027-05-01", "review_date = 2020-01-01");
  auto overdue = run({"plan", kJane, "--rules", rules});
  CHECK(overdue.code == 0);
  CHECK(overdue.err.find("the rule set's review date 2020-01-01 has passed") != std::string::npos);
  CHECK(run({"plan", kJane}).err.find("review date") == std::string::npos);
}

TEST_CASE("approve refuses a rule set whose test cases fail, and a malformed approval file is an error") {
  scratch s;
  auto rules = s.rules_copy();
  s.write("rules/tests/zz_wrong.toml",
          "description = \"wrong\"\nfindings = \"clients/jane.toml\"\n[expect]\nchallenges = [\"low_social_support\"]\n");
  auto r = run({"approve", rules, "--by", "Dr Lead"});
  CHECK(r.code == 1);
  CHECK(r.err.find("do not all pass") != std::string::npos);
  CHECK_FALSE(fs::exists(rules + "/approval.toml"));
  CHECK(run({"approve", rules}).code == 2);  // --by is required
  fs::remove(rules + "/tests/zz_wrong.toml");
  s.write("rules/approval.toml", "[[approvals]]\nsha256 = \"short\"\nby = \"x\"\ndate = 2026-01-01\n");
  auto bad = run({"check", rules});
  CHECK(bad.code == 1);
  CHECK(bad.err.find("[ruleset.approval]") != std::string::npos);
}

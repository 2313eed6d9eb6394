// The clinical lead's workbench: approving a rule set, and what plans do
// with a draft, an approved, a retired or an overdue rule set.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "grammar/diagnostic.hpp"
#include "tests/cli_support.hpp"

namespace fs = std::filesystem;
using namespace iptplan::testing_cli;
using nlohmann::json;
using iptplan::suggester;
using iptplan::with_thousands;

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
  CHECK(run({"batch", kJane, "--rules", rules, "--require-approved"}).code == 0);
  CHECK(run({"approve", rules, "--by", "Dr Lead"}).out.find("already approved") != std::string::npos);

  // One byte changed in any rule file: a draft again, visibly.
  replace_in(rules + "/alliance.rules", "Weak therapeutic alliance", "Weak therapeutic alliancE");
  auto changed = run({"plan", kJane, "--rules", rules});
  CHECK(rule_set_line(changed.out) == "Rule set: iptplan-default 0.2.0 (draft)");
  // Said on every plan, at the approval's entry.
  CHECK(changed.code == 0);
  CHECK(changed.err.find("/approval.toml:6:1: warning: the rule set changed since it was approved (by Dr Lead on 20") !=
        std::string::npos);
  CHECK(changed.err.find("): it is a draft until it is approved again [ruleset.approval]") != std::string::npos);
  // The files that changed are named (the approval keeps each file's hash):
  // a lead without git has no approved version to diff against.
  CHECK(changed.err.find("note: since the approval, changed: alliance.rules\n") != std::string::npos);
  std::ofstream(rules + "/extra.rules") << "# nothing yet\n";
  fs::remove(rules + "/sources.toml");
  auto more = run({"check", rules});
  CHECK(more.err.find("note: since the approval, changed: alliance.rules; added: extra.rules; removed: sources.toml\n") !=
        std::string::npos);
  fs::remove(rules + "/extra.rules");
  fs::copy_file(std::string(IPTPLAN_SOURCE_DIR) + "/rules/sources.toml", rules + "/sources.toml");
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

TEST_CASE("approve covers the test cases: a case or a client file changed, added or removed makes a draft") {
  scratch s;
  auto rules = s.rules_copy();
  REQUIRE(run({"approve", rules, "--by", "Dr Lead"}).code == 0);
  CHECK(slurp(rules + "/approval.toml").find("tests_sha256 = \"") != std::string::npos);
  auto approved = [&] {
    return rule_set_line(run({"plan", kJane, "--rules", rules}).out).find("(approved by Dr Lead") !=
           std::string::npos;
  };
  REQUIRE(approved());
  // A test case's expectation edited: the plans are the same, but what was
  // approved is not.
  std::string jane_case = rules + "/tests/jane.toml";
  std::string original = slurp(jane_case);
  std::ofstream(jane_case, std::ios::binary) << original << "\n# edited\n";
  CHECK_FALSE(approved());
  auto check = run({"check", rules});
  CHECK(check.out.find("(draft: test cases changed since approved on ") != std::string::npos);
  CHECK(run({"plan", kJane, "--rules", rules, "--require-approved"}).code == 1);
  std::ofstream(jane_case, std::ios::binary) << original;
  CHECK(approved());
  // A findings file a case names, one byte changed.
  auto client = rules + "/tests/clients/grief_two_deaths.toml";
  std::string findings = slurp(client);
  std::ofstream(client, std::ios::binary) << findings << " ";
  CHECK_FALSE(approved());
  std::ofstream(client, std::ios::binary) << findings;
  CHECK(approved());
  // A case added, then removed.
  std::ofstream(rules + "/tests/extra.toml", std::ios::binary) << original;
  CHECK_FALSE(approved());
  fs::remove(rules + "/tests/extra.toml");
  CHECK(approved());
}

TEST_CASE("a rule set's name, version and approver are plain text: control characters never reach the terminal") {
  scratch s;
  auto rules = s.rules_copy();
  // An escape sequence that sets the terminal's title, a bell, a
  // right-to-left override and a line break that would forge a line.
  replace_in(rules + "/ruleset.toml", "name = \"iptplan-default\"",
             "name = \"evil\\u001b]0;title\\u0007\\u202e\\nforged\"");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"check", rules}, std::vector<std::string>{"plan", kJane, "--rules", rules},
        std::vector<std::string>{"approve", rules, "--by", "Dr Lead"}}) {
    auto r = run(args);
    INFO(args[0]);
    CHECK(r.code != 0);
    CHECK(r.err.find("'name' must be one line of plain text: no control characters, line breaks or marks that "
                     "reorder text [ruleset.manifest]") != std::string::npos);
    for (const std::string& bad : {std::string("\x1b"), std::string("\x07"), std::string("\xe2\x80\xae")}) {
      CHECK(r.out.find(bad) == std::string::npos);
      CHECK(r.err.find(bad) == std::string::npos);
    }
    CHECK(r.out.find("\nforged") == std::string::npos);
  }
  // A hand-edited approver with such characters is no approval.
  auto clean = s.rules_copy("rules2");
  std::string sha = json::parse(run({"check", clean, "--format", "json"}).out)["sha256"];
  s.write("rules2/approval.toml",
          "[[approvals]]\nsha256 = \"" + sha + "\"\nby = \"Dr\\u001b[31m \\u202eLead\\nfake line\"\ndate = 2026-01-01\n");
  auto p = run({"plan", kJane, "--rules", clean});
  CHECK(p.code == 0);
  CHECK(rule_set_line(p.out) == "Rule set: iptplan-default 0.2.0 (draft)");
  CHECK(p.err.find("names its approver with control characters or marks that reorder text") != std::string::npos);
  CHECK(p.err.find("/approval.toml:3:6: warning: the last approval in approval.toml names its approver") !=
        std::string::npos);  // at the key at fault
  CHECK(p.err.find("changed since it was approved") == std::string::npos);  // no approval to have changed
  CHECK(p.out.find("fake line") == std::string::npos);
  CHECK(p.err.find("\x1b") == std::string::npos);
  // A file hash that is not one is no approval either, said at the hash.
  s.write("rules2/approval.toml", "[[approvals]]\nsha256 = \"" + sha +
                                      "\"\nby = \"Dr Lead\"\ndate = 2026-01-01\n[approvals.files]\n\"a.rules\" = \"xyz\"\n");
  auto h = run({"plan", kJane, "--rules", clean});
  CHECK(rule_set_line(h.out) == "Rule set: iptplan-default 0.2.0 (draft)");
  CHECK(h.err.find("/approval.toml:6:13: warning: the last approval in approval.toml has a file hash that is not 64 "
                   "hex digits ('a.rules')") != std::string::npos);
  // Letters beyond ASCII are plain text: a name and an approver with accents.
  auto accents = s.rules_copy("rules3");
  replace_in(accents + "/ruleset.toml", "name = \"iptplan-default\"", "name = \"iptplan-d\u00e9faut\"");
  REQUIRE(run({"check", accents}).code == 0);
  auto ok = run({"approve", accents, "--by", "Jos\u00e9 N\u00fa\u00f1ez"});
  CHECK(ok.code == 0);
  auto planned = run({"plan", kJane, "--rules", accents, "--require-approved"});
  CHECK(planned.code == 0);
  CHECK(planned.out.find("approved by Jos\u00e9 N\u00fa\u00f1ez") != std::string::npos);
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
  auto batch = run({"batch", kJane, "--rules", rules, "--require-approved"});
  CHECK(batch.code == 1);
  CHECK(batch.out.empty());
  CHECK(batch.err.find("--require-approved plans only with a rule set approved as it is") != std::string::npos);
  CHECK(run({"batch", kJane, "--rules", rules}).code == 0);
  // serve refuses to start with it (it would otherwise listen: not run here)
  auto serve = run({"serve", "--rules", rules, "--require-approved", "--listen", "127.0.0.1:0"});
  CHECK(serve.code == 1);
  CHECK(serve.err.find("--require-approved plans only with a rule set approved as it is") != std::string::npos);
}

TEST_CASE("a retired rule set refuses to plan, a review date in the past warns on every plan") {
  scratch s;
  auto rules = s.rules_copy();
  replace_in(rules + "/ruleset.toml", "status = \"draft\"", "status = \"retired\"");
  auto r = run({"plan", kJane, "--rules", rules});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("/ruleset.toml:") != std::string::npos);  // where the status is written
  CHECK(r.err.find(": error: the rule set iptplan-default 0.2.0 is retired (its status in ruleset.toml): it may not "
                   "be used to plan [ruleset.retired]") != std::string::npos);
  CHECK(run({"why", "weak_relationship", kJane, "--rules", rules}).code == 1);
  // batch too: no line written, the same error.
  auto batch = run({"batch", kJane, "--rules", rules});
  CHECK(batch.code == 1);
  CHECK(batch.out.empty());
  CHECK(batch.err.find("is retired (its status in ruleset.toml)") != std::string::npos);
  CHECK(run({"approve", rules, "--by", "Dr Lead"}).code == 1);
  CHECK(run({"check", rules}).code == 0);  // it can still be read and checked

  replace_in(rules + "/ruleset.toml", "status = \"retired\"", "status = \"draft\"");
  replace_in(rules + "/ruleset.toml", "review_date = 2027-05-01", "review_date = 2020-01-01");
  auto overdue = run({"plan", kJane, "--rules", rules});
  CHECK(overdue.code == 0);
  CHECK(overdue.err.find("the rule set's review date 2020-01-01 has passed") != std::string::npos);
  CHECK(overdue.err.find("/ruleset.toml:") != std::string::npos);
  auto overdue_batch = run({"batch", kJane, "--rules", rules});
  CHECK(overdue_batch.code == 0);
  CHECK(overdue_batch.err.find("the rule set's review date 2020-01-01 has passed") != std::string::npos);
  // check says so too, as a warning with its place
  auto checked = run({"check", rules});
  CHECK(checked.code == 0);
  CHECK(checked.err.find("warning: the rule set's review date 2020-01-01 has passed") != std::string::npos);
  CHECK(checked.err.find("[ruleset.review-date]") != std::string::npos);
  auto approve_late = run({"approve", rules, "--by", "Dr Lead"});
  CHECK(approve_late.code == 1);
  CHECK(approve_late.err.find("is not approved: its review date has passed") != std::string::npos);
  CHECK_FALSE(fs::exists(rules + "/approval.toml"));
  auto checked_json = nlohmann::json::parse(run({"check", rules, "--format", "json"}).out);
  CHECK(checked_json["warnings"] == 1);
  CHECK(checked_json["diagnostics"][0]["code"] == "ruleset.review-date");
  CHECK(checked_json["diagnostics"][0]["line"].get<int>() > 0);
  CHECK(run({"plan", kJane}).err.find("review date") == std::string::npos);
}

TEST_CASE("the review date is checked against today, which IPTPLAN_TODAY fixes for tests") {
  // ctest runs every test as of 2026-11-27; the built-in rule set's review
  // date (2027-05-01) is still to come then, and passed the day after it.
  const char* before = std::getenv("IPTPLAN_TODAY");
  std::string saved = before ? before : "";
  ::setenv("IPTPLAN_TODAY", "2027-05-01", 1);
  CHECK(run({"plan", kJane}).err.find("review date") == std::string::npos);
  ::setenv("IPTPLAN_TODAY", "2027-05-02", 1);
  auto late = run({"plan", kJane});
  CHECK(late.code == 0);
  CHECK(late.err.find("the rule set's review date 2027-05-01 has passed") != std::string::npos);
  ::setenv("IPTPLAN_TODAY", "not a date", 1);  // refused, never silently the clock
  CHECK(run({"plan", kJane}).code == 2);
  ::setenv("IPTPLAN_TODAY", "", 1);  // set empty, as `IPTPLAN_TODAY= iptplan ...`: unset, the clock
  CHECK(run({"plan", kJane}).code == 0);
  if (before) ::setenv("IPTPLAN_TODAY", saved.c_str(), 1);
  else ::unsetenv("IPTPLAN_TODAY");
}

TEST_CASE("lint: a mistyped citation is named at the id, with a suggestion, and approve refuses it") {
  // From a lead's trial: "M1O", "m99", "M10a" and "domian M99" passed lint
  // and approval; an auditor could not resolve them.
  scratch s;
  auto rules = s.rules_copy();
  replace_in(rules + "/support.rules", "  source \"domain M10, I14\"", "  source \"domain M1O, i14\"");
  replace_in(rules + "/support.rules", "  source \"domain I11, I14, M10\"", "  source \"domian M10\"");
  auto r = run({"lint", rules});
  CHECK(r.code == 1);
  CHECK(r.err.find("support.rules:11:18: warning: rule 'social_support_low' cites the fact 'M1O', which sources.toml "
                   "does not list [lint.unknown-source]") != std::string::npos);
  CHECK(r.err.find("support.rules:11:23: warning: rule 'social_support_low' cites the fact 'i14', which sources.toml "
                   "does not list [lint.unknown-source]\n      source \"domain M1O, i14\"\n                          ^\n"
                   "    note: did you mean 'I14'?") != std::string::npos);
  CHECK(r.err.find("support.rules:38:11: warning: rule 'support_no_confidant' cites 'domian', which is not the word "
                   "'domain' that clinical facts are cited after [lint.unknown-source]") != std::string::npos);
  CHECK(r.err.find("did you mean 'domain'?") != std::string::npos);
  auto a = run({"approve", rules, "--by", "Dr Lead"});
  CHECK(a.code == 1);
  CHECK(a.err.find("error: rule 'social_support_low' cites the fact 'M1O'") != std::string::npos);
  CHECK(a.err.find("is not approved: 3 citations name a clinical fact that sources.toml does not list (above)") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(rules + "/approval.toml"));
  // The default rules cite only listed facts.
  CHECK(run({"lint", std::string(IPTPLAN_SOURCE_DIR) + "/rules"}).code == 0);
}

TEST_CASE("approve refuses a rule set where a rule outside the safety rules can remove a safety item") {
  scratch s;
  auto rules = s.rules_copy();
  // Every test case still passes: only lint sees it.
  std::ofstream(fs::path(rules) / "alliance.rules", std::ios::app)
      << "\nrule long_course_no_plan \"Long course\"\n  source \"domain I2\"\nwhen\n"
         "  alliance.strength == \"strong\" and therapy.sessions_planned == 23\nthen\n  exclude safety_plan\nend\n";
  // Every command that loads it says so (from a lead's trial: check, test
  // and plan were silent), as a warning.
  auto tested = run({"test", rules});
  REQUIRE(tested.code == 0);
  CHECK(tested.err.find("[lint.safety-exclude]") != std::string::npos);
  auto checked = run({"check", rules});
  CHECK(checked.code == 0);
  CHECK(checked.err.find("warning: rule 'long_course_no_plan' excludes 'safety_plan'") != std::string::npos);
  auto planned = run({"plan", kJane, "--rules", rules});
  CHECK(planned.code == 0);
  CHECK(planned.err.find("[lint.safety-exclude]") != std::string::npos);
  auto r = run({"approve", rules, "--by", "Dr Lead"});
  CHECK(r.code == 1);
  CHECK(r.err.find("alliance.rules:") != std::string::npos);
  CHECK(r.err.find("error:") != std::string::npos);
  CHECK(r.err.find("[lint.safety-exclude]") != std::string::npos);
  CHECK(r.err.find("is not approved: 1 rule can remove a safety item (above): outside the safety rules of safety.rules, or with "
                   "no safety item in its place") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(rules + "/approval.toml"));
  // With the reason given in the rule, it may be approved.
  std::string text;
  {
    std::ifstream in(fs::path(rules) / "alliance.rules");
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto at = text.find("rule long_course_no_plan");
  text.insert(at, "# lint: allow lint.safety-exclude because the test of approval needs one\n");
  std::ofstream(fs::path(rules) / "alliance.rules") << text;
  // Allowed, but seen at work in no test case (from a lead's trial: "ok"
  // and a rule no case fires were approved): refused, naming the rule.
  auto untried = run({"approve", rules, "--by", "Dr Lead"});
  CHECK(untried.code == 1);
  CHECK(untried.err.find("a safety rule (or a rule allowed to remove a safety item) fires in no test case") !=
        std::string::npos);
  CHECK(untried.err.find(": long_course_no_plan\n") != std::string::npos);
  CHECK_FALSE(fs::exists(rules + "/approval.toml"));
  // Fired by a case, but one where it removes nothing (from a lead's trial:
  // approved on low-risk cases, it then dropped the safety plan from a
  // high-risk plan): still refused, until a case shows the item removed.
  s.write("rules/tests/zz_long_course_low.toml",
          "description = \"a long course with a strong alliance, no risk: the rule fires, removing nothing\"\n"
          "[absent]\nflags = [\"severe_suicide_risk\"]\n"
          "[findings]\nalliance.strength = \"strong\"\ntherapy.sessions_planned = 23\n");
  auto unshown = run({"approve", rules, "--by", "Dr Lead"});
  CHECK(unshown.code == 1);
  CHECK(unshown.err.find("a rule allowed to remove a safety item is shown removing it by no test case") !=
        std::string::npos);
  CHECK(unshown.err.find(": rule long_course_no_plan removes safety_plan\n") != std::string::npos);
  CHECK_FALSE(fs::exists(rules + "/approval.toml"));
  s.write("rules/tests/zz_long_course.toml",
          "description = \"a long course with a strong alliance: the allowed exclusion at work\"\n"
          "[expect]\nexcluded = [\"safety_plan\"]\n"
          "[findings]\nalliance.strength = \"strong\"\ntherapy.sessions_planned = 23\nrisk.cssrs.q1 = true\n");
  auto approved = run({"approve", rules, "--by", "Dr Lead"});
  INFO(approved.err);
  CHECK(approved.code == 0);
  // The approver is shown each allowed exception and its reason.
  CHECK(approved.err.find("alliance.rules:" ) != std::string::npos);
  CHECK(approved.err.find(": note: rule 'long_course_no_plan' may remove a safety item (outside the safety rules, or "
                          "with nothing in its place), allowed ('# lint: allow lint.safety-exclude') because: the test "
                          "of approval needs one\n") !=
        std::string::npos);
}

TEST_CASE("approve refuses an approval.toml it cannot add to, and writes nothing") {
  scratch s;
  auto rules = s.rules_copy();
  for (const std::string& broken : {std::string("garbage [[[\n"), std::string("note = \"\"\"\nopen string\n")}) {
    std::ofstream(fs::path(rules) / "approval.toml", std::ios::trunc) << broken;
    auto r = run({"approve", rules, "--by", "Dr Lead"});
    CHECK(r.code == 1);
    CHECK(r.err.find("cannot take a new approval") != std::string::npos);
    std::ifstream in(fs::path(rules) / "approval.toml");
    CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == broken);
  }
}

TEST_CASE("an approval holds until the review date: past it, --require-approved refuses to plan") {
  scratch s;
  auto rules = s.rules_copy();
  REQUIRE(run({"approve", rules, "--by", "Dr Lead"}).code == 0);
  CHECK(run({"plan", kJane, "--rules", rules, "--require-approved"}).code == 0);
  const char* before = std::getenv("IPTPLAN_TODAY");
  std::string saved = before ? before : "";
  ::setenv("IPTPLAN_TODAY", "2027-05-02", 1);  // the day after the review date
  auto strict = run({"plan", kJane, "--rules", rules, "--require-approved"});
  auto batch = run({"batch", kJane, "--rules", rules, "--require-approved"});
  auto lenient = run({"plan", kJane, "--rules", rules});
  if (before) ::setenv("IPTPLAN_TODAY", saved.c_str(), 1);
  else ::unsetenv("IPTPLAN_TODAY");
  CHECK(strict.code == 1);
  CHECK(strict.out.empty());
  CHECK(strict.err.find("error: the rule set's review date 2027-05-01 has passed") != std::string::npos);
  CHECK(strict.err.find("--require-approved plans only with a rule set whose review is not overdue") !=
        std::string::npos);
  CHECK(batch.code == 1);
  CHECK(batch.out.empty());
  CHECK(lenient.code == 0);  // without it, a warning
  CHECK(lenient.err.find("warning: the rule set's review date 2027-05-01 has passed") != std::string::npos);
}

TEST_CASE("approve past the review date refuses, even a rule set approved as it is, and check shows the review overdue") {
  // From a clinical lead's trial: approving again after the review date
  // said "already approved as it is", exit 0, while --require-approved
  // refused to plan with it.
  scratch s;
  auto rules = s.rules_copy();
  REQUIRE(run({"approve", rules, "--by", "Dr Lead"}).code == 0);
  CHECK(run({"approve", rules, "--by", "Dr Lead"}).out.find("is already approved as it is") != std::string::npos);
  const char* before = std::getenv("IPTPLAN_TODAY");
  std::string saved = before ? before : "";
  ::setenv("IPTPLAN_TODAY", "2027-05-02", 1);  // the day after the review date
  auto again = run({"approve", rules, "--by", "Dr Lead"});
  auto check = run({"check", rules});
  if (before) ::setenv("IPTPLAN_TODAY", saved.c_str(), 1);
  else ::unsetenv("IPTPLAN_TODAY");
  CHECK(again.code == 1);
  CHECK(again.out.find("already approved") == std::string::npos);
  CHECK(again.err.find("is not approved: its review date has passed") != std::string::npos);
  CHECK(check.out.find(", review overdue since 2027-05-01") != std::string::npos);
}

TEST_CASE("a safety rule of safety.rules that removes a safety item with nothing in its place is lint.safety-exclude") {
  // From a lead's trial: a 'safety' rule that drops the safety plan when
  // the alliance is strong passed check, lint and approve.
  scratch s;
  auto rules = s.rules_copy();
  std::ofstream(fs::path(rules) / "safety.rules", std::ios::app)
      << "\nrule strong_alliance_no_plan \"x\"\n  priority 100\n  tags safety\n  source \"domain P5\"\n"
         "when\n  alliance.strength == \"strong\" and phq9.item9 <= 1\nthen\n  exclude safety_plan\n"
         "  exclude structured_suicide_assessment\nend\n";
  auto l = run({"lint", rules});
  CHECK(l.code == 1);
  CHECK(l.err.find("rule 'strong_alliance_no_plan' excludes 'safety_plan', which the safety rule '") !=
        std::string::npos);
  CHECK(l.err.find("and proposes nothing in its place: the client is left with less safety and no step instead "
                   "[lint.safety-exclude]") != std::string::npos);
  CHECK(l.err.find("rule 'strong_alliance_no_plan' excludes 'structured_suicide_assessment'") != std::string::npos);
  auto r = run({"approve", rules, "--by", "Dr Lead"});
  CHECK(r.code == 1);
  CHECK_FALSE(fs::exists(rules + "/approval.toml"));
  // The default rules' own replacements (a higher tier for a lower one, a
  // trusted adult for a parent who may harm) are no finding.
  CHECK(run({"lint", s.rules_copy("clean")}).code == 0);
}

TEST_CASE("a safety rule replaces a safety item only with one of its kind, and a flag only with one as severe") {
  // From a lead's trial: the same rule with an info flag in the safety
  // plan's place passed lint and approve.
  scratch s;
  auto rules = s.rules_copy();
  std::ofstream(fs::path(rules) / "safety.rules", std::ios::app)
      << "\nrule strong_alliance_skip_plan \"x\"\n  priority 100\n  tags safety\n  source \"domain S3\"\n"
         "when\n  alliance.strength == \"strong\"\nthen\n  exclude safety_plan\n"
         "  flag info alliance_holds \"A verbal check-in replaces the written safety plan.\"\nend\n"
         "\nrule severe_downgraded \"y\"\n  priority 100\n  tags safety\n  source \"domain S3\"\n"
         "when\n  alliance.strength == \"weak\"\nthen\n  exclude severe_suicide_risk\n"
         "  flag warning severe_but_watched \"Watch.\"\nend\n"
         "\nrule warning_for_warning \"z\"\n  priority 100\n  tags safety\n  source \"domain S3\"\n"
         "when\n  alliance.strength == \"moderate\"\nthen\n  exclude low_suicide_risk\n"
         "  flag warning low_watched \"Watch.\"\nend\n";
  auto l = run({"lint", rules});
  CHECK(l.code == 1);
  CHECK(l.err.find("rule 'strong_alliance_skip_plan' excludes 'safety_plan', which the safety rule '") !=
        std::string::npos);
  CHECK(l.err.find("and proposes no goal in its place: the client is left without that step [lint.safety-exclude]") !=
        std::string::npos);
  CHECK(l.err.find("rule 'severe_downgraded' excludes 'severe_suicide_risk', which the safety rule '") !=
        std::string::npos);
  CHECK(l.err.find("and proposes no flag as severe in its place: the client's risk would be shown as lower "
                   "[lint.safety-exclude]") != std::string::npos);
  // A warning for a warning is a replacement, as a higher tier's is.
  CHECK(l.err.find("'warning_for_warning'") == std::string::npos);
  auto r = run({"approve", rules, "--by", "Dr Lead"});
  CHECK(r.code == 1);
  CHECK_FALSE(fs::exists(rules + "/approval.toml"));
}

TEST_CASE("only the safety rules of safety.rules may remove a safety item: a tag or priority elsewhere is no licence") {
  scratch s;
  auto rules = s.rules_copy();
  std::ofstream(fs::path(rules) / "alliance.rules", std::ios::app)
      << "\nrule weak_alliance_no_plan \"x\"\n  priority 60\n  tags alliance, safety\n  source \"domain I2\"\n"
         "when\n  alliance.strength == \"weak\" and therapy.sessions_planned >= 40\nthen\n  exclude safety_plan\nend\n";
  auto l = run({"lint", rules});
  CHECK(l.code == 1);
  CHECK(l.err.find("rule 'weak_alliance_no_plan' excludes 'safety_plan', which the safety rule '") !=
        std::string::npos);
  CHECK(l.err.find("a safety rule outside safety.rules could remove a safety item [lint.safety-exclude]") !=
        std::string::npos);
  auto r = run({"approve", rules, "--by", "Dr Lead"});
  CHECK(r.code == 1);
  CHECK(r.err.find("is not approved: 1 rule can remove a safety item (above): outside the safety rules of safety.rules, or with "
                   "no safety item in its place") !=
        std::string::npos);
  // The default rules' own exclusions, all in safety.rules, pass.
  CHECK(run({"lint", std::string(IPTPLAN_SOURCE_DIR) + "/rules"}).code == 0);
}

TEST_CASE("IPTPLAN_TODAY that is no date is refused, never ignored nor written into an approval") {
  // From two trials: 2026-02-30 was written into approval.toml as a date
  // (invalid TOML: the approval broken at once), and 'garbage' was ignored.
  scratch s;
  auto rules = s.rules_copy();
  const char* before = std::getenv("IPTPLAN_TODAY");
  std::string saved = before ? before : "";
  std::vector<int> codes;
  std::string errs;
  for (const char* bad : {"2026-02-30", "garbage", "2028-1-5", "0000-01-01", "2026-13-01"}) {
    ::setenv("IPTPLAN_TODAY", bad, 1);
    auto r = run({"approve", rules, "--by", "Dr Lead"});
    codes.push_back(r.code);
    errs += r.err;
    codes.push_back(run({"plan", kJane}).code);
  }
  ::setenv("IPTPLAN_TODAY", "2028-02-29", 1);  // a leap day is a day
  auto leap = run({"plan", kJane});
  if (before) ::setenv("IPTPLAN_TODAY", saved.c_str(), 1);
  else ::unsetenv("IPTPLAN_TODAY");
  for (int c : codes) CHECK(c == 2);
  CHECK(errs.find("IPTPLAN_TODAY is set, but not to a date") != std::string::npos);
  CHECK_FALSE(fs::exists(fs::path(rules) / "approval.toml"));
  CHECK(leap.code == 0);
}

TEST_CASE("approve refuses a safety rule that no test case fires, naming it") {
  scratch s;
  auto rules = s.rules_copy();
  std::ofstream(fs::path(rules) / "safety.rules", std::ios::app)
      << "\nrule extreme_tier \"x\"\n  priority 100\n  tags safety\n  source \"domain S3\"\n"
         "when\n  risk.level == \"extreme\"\nthen\n  flag critical extreme_risk \"Extreme risk\"\nend\n";
  REQUIRE(run({"test", rules}).code == 0);
  auto r = run({"approve", rules, "--by", "Dr Lead"});
  CHECK(r.code == 1);
  CHECK(r.err.find("is not approved: a safety rule (or a rule allowed to remove a safety item) fires in no test case") !=
        std::string::npos);
  CHECK(r.err.find("  safety.rules:") != std::string::npos);
  CHECK(r.err.find(": extreme_tier\n") != std::string::npos);
  CHECK_FALSE(fs::exists(rules + "/approval.toml"));
}

TEST_CASE("approve refuses a rule set whose test cases fail, and a malformed approval file leaves a draft") {
  scratch s;
  auto rules = s.rules_copy();
  s.write("rules/tests/zz_wrong.toml",
          "description = \"wrong\"\nfindings = \"clients/jane.toml\"\n[expect]\nchallenges = [\"low_social_support\"]\n");
  auto r = run({"approve", rules, "--by", "Dr Lead"});
  CHECK(r.code == 1);
  CHECK(r.err.find("do not all pass") != std::string::npos);
  CHECK(r.err.find(". Failing:\n  ") != std::string::npos);  // by name
  CHECK(r.err.find("zz_wrong.toml\n") != std::string::npos);
  CHECK_FALSE(fs::exists(rules + "/approval.toml"));
  CHECK(run({"approve", rules}).code == 2);  // --by is required
  fs::remove(rules + "/tests/zz_wrong.toml");
  CHECK(run({"approve", rules, "--by", "  "}).code == 2);  // a blank name
  // A broken approval makes the rule set a draft, with a warning; it stops nothing.
  for (const char* text : {"[[approvals]]\nsha256 = \"short\"\nby = \"x\"\ndate = 2026-01-01\n",
                           "[[approvals\n", "[[approvals]]\nsha256 = \"\"\nby = \"x\"\ndate = 2099-01-01\n"}) {
    INFO(text);
    s.write("rules/approval.toml", text);
    auto bad = run({"plan", kJane, "--rules", rules});
    CHECK(bad.code == 0);
    CHECK(bad.err.find("[ruleset.approval]") != std::string::npos);
    CHECK(rule_set_line(bad.out) == "Rule set: iptplan-default 0.2.0 (draft)");
  }
  // A future date is not an approval; a hash in capitals is the same hash.
  std::string sha = json::parse(run({"check", rules, "--format", "json"}).out)["sha256"];
  std::string upper = sha;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  s.write("rules/approval.toml", "[[approvals]]\nsha256 = \"" + sha + "\"\nby = \"x\"\ndate = 2099-01-01\n");
  CHECK(run({"plan", kJane, "--rules", rules, "--require-approved"}).code == 1);
  s.write("rules/approval.toml", "[[approvals]]\nsha256 = \"" + upper + "\"\nby = \"x\"\ndate = 2026-01-01\n");
  CHECK(run({"plan", kJane, "--rules", rules, "--require-approved"}).code == 0);
}

namespace {
// The items of a plan's JSON as comparable text: id, kind, text, status,
// priority, severity and the rules behind each.
std::map<std::string, std::string> item_view(const json& plan) {
  std::map<std::string, std::string> out;
  for (const char* group : {"flags", "challenges", "solutions", "goals", "provisional"}) {
    for (const auto& it : plan[group]) {
      std::string rules;
      for (const auto& b : it["because"]) {
        rules += b["rule"].get<std::string>() + ":" + plan["explanations"][b["ref"].get<std::string>()].value("because", "") + ",";
      }
      out[it["id"]] = it.value("kind", "") + "|" + it.value("text", "") + "|" + it.value("status", "") + "|" +
                      std::to_string(it.value("priority", 0)) + "|" + it.value("severity", "") + "|" + rules;
    }
  }
  return out;
}
}  // namespace

TEST_CASE("diff: a case file's name with an escape sequence or a line break is shown escaped, in text and markdown") {
  // From a hostile trial: the name reached the terminal raw (a line break
  // forged "0 of 220 cases change").
  scratch s;
  auto rules = s.rules_copy();
  fs::copy_file(rules + "/tests/clients/couple.toml", rules + "/tests/clients/x\x1b]0;T\x07\nno rule differs.toml");
  replace_in(rules + "/ruleset.toml", "type = \"number\", value = 3.0", "type = \"number\", value = 4.0");
  for (const char* format : {"text", "markdown"}) {
    INFO(format);
    auto r = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, "--format", format});
    REQUIRE(r.code == 0);
    CHECK(r.out.find('\x1b') == std::string::npos);
    CHECK(r.out.find('\x07') == std::string::npos);
    CHECK(r.out.find("\nno rule differs") == std::string::npos);
    // Escaped for the terminal, and in markdown for markdown too.
    if (std::string(format) == "text") {
      CHECK(r.out.find("x\\x1b]0;T\\x07\\x0ano rule differs.toml") != std::string::npos);
    } else {
      CHECK(r.out.find("x\\\\x1b\\]0;T\\\\x07\\\\x0ano rule differs.toml") != std::string::npos);
    }
  }
}

TEST_CASE("diff --summary: the change item by item with its number of cases, and by_item in JSON") {
  // From a lead's trial: one parameter changed gave 154,574 characters of
  // markdown, past what a review comment holds.
  scratch s;
  auto rules = s.rules_copy();
  replace_in(rules + "/ruleset.toml", "response_by_session = { type = \"integer\", value = 8,",
             "response_by_session = { type = \"integer\", value = 10,");
  auto full = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, "--format", "json"});
  REQUIRE(full.code == 0);
  auto j = json::parse(full.out);
  // by_item agrees with the cases: each row's count is the number of cases
  // holding that change of that item.
  REQUIRE_FALSE(j["by_item"].empty());
  std::size_t phq9_cases = 0;
  for (const auto& c : j["cases"]) {
    for (const auto& i : c["items"]) {
      if (i["id"] == "phq9_response" && i["change"] == "changed" &&
          i["fields"] == json::array({"text", "due_session"})) {
        ++phq9_cases;
      }
    }
  }
  REQUIRE(phq9_cases > 10);
  bool row = false;
  for (const auto& r : j["by_item"]) {
    if (r["id"] == "phq9_response" && r["change"] == "changed" && r["fields"] == "text, due_session") {
      row = true;
      CHECK(r["cases"].size() == phq9_cases);
    }
  }
  CHECK(row);
  for (const char* format : {"text", "markdown"}) {
    INFO(format);
    auto sum = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, "--format", format, "--summary"});
    auto all = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, "--format", format});
    CHECK(sum.code == 0);
    CHECK(sum.out.size() * 10 < all.out.size());
    CHECK(sum.out.find("response_by_session: 8 -> 10") != std::string::npos);
    CHECK(sum.out.find("goal phq9_response (text, due_session changed): " + std::to_string(phq9_cases) + " cases (") !=
          std::string::npos);
    CHECK(sum.out.find("why (old)") == std::string::npos);
  }
}

TEST_CASE("diff lists exactly the cases whose plans a threshold change changes, with each item") {
  scratch s;
  auto rules = s.rules_copy();
  replace_in(rules + "/ruleset.toml", "type = \"number\", value = 3.0", "type = \"number\", value = 4.0");
  auto r = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, "--format", "json"});
  REQUIRE(r.code == 0);
  auto j = json::parse(r.out);
  std::set<std::string> reported;
  for (const auto& c : j["cases"]) {
    std::string name = c["findings"];
    if (c["changed"] == true && name.rfind("clients/", 0) == 0) reported.insert(name);
  }
  // The same cases, found independently: plan each client with both.
  std::set<std::string> expected;
  int cases = 0;
  for (const auto& e : fs::directory_iterator(rules + "/tests/clients")) {
    ++cases;
    auto a = run({"plan", e.path().string(), "--format", "json"});
    auto b = run({"plan", e.path().string(), "--format", "json", "--rules", rules});
    if (item_view(json::parse(a.out)) != item_view(json::parse(b.out))) {
      expected.insert("clients/" + e.path().filename().string());
    }
  }
  // Every client, and every test case whose findings are written inline.
  CHECK(j["summary"]["cases"].get<int>() > cases);
  CHECK_FALSE(expected.empty());
  CHECK(reported == expected);
  // Each change carries the item on both sides and why.
  for (const auto& c : j["cases"]) {
    for (const auto& i : c["items"]) {
      if (i["change"] == "added") {
        CHECK(i["why_now"].get<std::string>().find("rule ") == 0);
        CHECK(i["was"].is_null());
      }
      if (i["change"] == "changed") {
        CHECK_FALSE(i["why_was"].get<std::string>().empty());
        CHECK_FALSE(i["why_now"].get<std::string>().empty());
      }
    }
  }
  auto text = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules});
  CHECK(text.out.find(" of " + std::to_string(j["summary"]["cases"].get<int>()) + " cases change") !=
        std::string::npos);
  // The JSON summary counts as the text one does.
  const auto& sum = j["summary"];
  CHECK(sum["changed"].get<std::size_t>() >= expected.size());  // clients, and inline cases
  CHECK(sum["unplannable"] == 0);
  CHECK(text.out.find(std::to_string(sum["changed"].get<int>()) + " of " + std::to_string(sum["cases"].get<int>()) +
                      " cases change: " + std::to_string(sum["items_added"].get<int>()) +
                      (sum["items_added"] == 1 ? " item added, " : " items added, ") +
                      std::to_string(sum["items_removed"].get<int>()) + " removed, " +
                      std::to_string(sum["items_changed"].get<int>()) + " changed") != std::string::npos);
  CHECK(text.out.find("  + challenge low_social_support: Low social support: little support felt, or no one to "
                      "confide in\n      why (new): rule social_support_low (support.rules:") != std::string::npos);
  auto md = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, "--format", "markdown"});
  CHECK(md.out.rfind("## Impact of the rule change\n", 0) == 0);
  CHECK(md.out.find("\n### clients/") != std::string::npos);
  // The same rules: nothing changes.
  auto same = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", "built-in"});
  CHECK(same.out.find("\n0 of " + std::to_string(j["summary"]["cases"].get<int>()) + " cases change") !=
        std::string::npos);
}

TEST_CASE("diff names what changed in the rule set first: rules added, removed and changed, parameters, files") {
  scratch s;
  auto rules = s.rules_copy();
  replace_in(rules + "/ruleset.toml", "type = \"number\", value = 3.0", "type = \"number\", value = 4.0");
  replace_in(rules + "/support.rules", "MSPSS mean {support.mspss.mean}", "MSPSS mean score {support.mspss.mean}");
  replace_in(rules + "/safety.rules", "rule risk_wish_dead_safety_plan \"", "rule risk_wish_dead_plan \"");
  auto r = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, kJane, "--format", "json"});
  REQUIRE(r.code == 0);
  auto j = json::parse(r.out);
  const auto& set = j["rule_set"];
  std::set<std::string> seen;
  for (const auto& x : set["rules"]) seen.insert(x["change"].get<std::string>() + " " + x["id"].get<std::string>());
  CHECK(seen == std::set<std::string>{"added risk_wish_dead_plan", "removed risk_wish_dead_safety_plan",
                                      "changed social_support_low"});
  REQUIRE(set["parameters"].size() == 1);
  CHECK(set["parameters"][0] == json{{"name", "mspss_low"}, {"was", "3"}, {"now", "4"}});
  CHECK(set["files"] == json::array({"ruleset.toml", "safety.rules", "support.rules"}));
  auto text = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, kJane});
  CHECK(text.out.find("\nrule set:\n") != std::string::npos);
  CHECK(text.out.find("  + rule risk_wish_dead_plan (safety.rules:") != std::string::npos);
  CHECK(text.out.find("  - rule risk_wish_dead_safety_plan (was safety.rules:") != std::string::npos);
  CHECK(text.out.find("  ~ rule social_support_low (support.rules:") != std::string::npos);
  CHECK(text.out.find("  ~ parameter mspss_low: 3 -> 4\n") != std::string::npos);
  CHECK(text.out.find("  ~ file ruleset.toml differs\n") != std::string::npos);
  // What changed, line by line: in a changed rule, and in a settings file
  // (from a lead's trial: only "differs" was said).
  CHECK(text.out.find("\n      -   \"MSPSS mean {support.mspss.mean}: under") != std::string::npos);
  CHECK(text.out.find("\n      +   \"MSPSS mean score {support.mspss.mean}: under") != std::string::npos);
  CHECK(text.out.find("type = \"number\", value = 3.0") < text.out.find("type = \"number\", value = 4.0"));
  // An added rule's whole text, and a removed one's (from a lead's trial:
  // only its title was shown).
  CHECK(text.out.find("  + rule risk_wish_dead_plan (safety.rules:") <
        text.out.find("\n      + rule risk_wish_dead_plan \""));
  CHECK(text.out.find("\n      - rule risk_wish_dead_safety_plan \"") != std::string::npos);
  CHECK(set["rules"].size() == 3);
  for (const auto& x : set["rules"]) {
    if (x["id"] == "social_support_low") CHECK(x["lines"].size() == 2);
    if (x["id"] == "risk_wish_dead_plan") {
      REQUIRE(x["lines"].size() > 5);
      CHECK(x["lines"][0].get<std::string>().rfind("+ rule risk_wish_dead_plan \"", 0) == 0);
      CHECK(x["lines"].back() == "+ end");
    }
  }
  CHECK(set["file_lines"]["ruleset.toml"].size() == 2);
  // The rule-set section comes before the cases.
  CHECK(text.out.find("rule set:") < text.out.find(kJane));
  auto md = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, kJane, "--format", "markdown"});
  CHECK(md.out.find("\n### Rule set\n\n- **added** rule risk_wish_dead_plan") != std::string::npos);
  CHECK(md.out.find("- **parameter** mspss_low: 3 -> 4\n") != std::string::npos);
  CHECK(md.out.find("\n  ```diff\n  -   \"MSPSS mean {support.mspss.mean}: under") != std::string::npos);
  auto same = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", "built-in", kJane});
  CHECK(same.out.find("rule set: no rule, parameter or other file differs") != std::string::npos);
}

TEST_CASE("diff: a rule that excludes a safety item is said so, and a safety item gone names the rule that excludes it") {
  // From a lead's trial: "- flag structured_suicide_assessment" with only
  // its old reason, nothing about the rule that now removes it.
  scratch s;
  auto rules = s.rules_copy("new");
  std::ofstream(fs::path(rules) / "alliance.rules", std::ios::app)
      << "\nrule skip_assessment \"x\"\n  source \"domain I2\"\nwhen\n  phq9.item9 >= 1\nthen\n"
         "  exclude structured_suicide_assessment\nend\n";
  const std::string client = std::string(IPTPLAN_SOURCE_DIR) + "/examples/item9_positive_cssrs_negative.toml";
  auto r = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, client});
  CHECK(r.code == 0);
  CHECK(r.out.find("  + rule skip_assessment (alliance.rules:") != std::string::npos);
  CHECK(r.out.find("      excludes safety items: structured_suicide_assessment\n") != std::string::npos);
  CHECK(r.out.find("  - safety flag structured_suicide_assessment: ") != std::string::npos);
  CHECK(r.out.find("      now: still proposed, but excluded by rule skip_assessment\n") != std::string::npos);
  auto j = json::parse(run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, client, "--format", "json"}).out);
  bool said = false;
  for (const auto& x : j["rule_set"]["rules"]) {
    if (x["id"] == "skip_assessment") said = x["safety_excludes"] == json::array({"structured_suicide_assessment"});
  }
  CHECK(said);
  bool named = false;
  for (const auto& c : j["cases"]) {
    for (const auto& i : c["items"]) {
      if (i["id"] == "structured_suicide_assessment") named = i["excluded_by_now"] == json::array({"skip_assessment"});
    }
  }
  CHECK(named);
}

TEST_CASE("diff: a rule moved to another file, and a rule file whose comments changed, are named") {
  scratch s;
  auto rules = s.rules_copy();
  // Move weak_alliance's text out of alliance.rules into a file of its own.
  std::string alliance;
  {
    std::ifstream in(rules + "/alliance.rules");
    alliance.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto from = alliance.find("rule weak_alliance ");
  REQUIRE(from != std::string::npos);
  auto to = alliance.find("\nend\n", from) + 5;
  std::ofstream(rules + "/moved.rules") << alliance.substr(from, to - from);
  alliance.erase(from, to - from);
  std::ofstream(rules + "/alliance.rules") << alliance;
  replace_in(rules + "/support.rules", "rule social_support_low", "# a comment\nrule social_support_low");
  auto r = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, kJane, "--format", "json"});
  REQUIRE(r.code == 0);
  auto j = json::parse(r.out);
  REQUIRE(j["rule_set"]["rules"].size() == 1);
  CHECK(j["rule_set"]["rules"][0]["change"] == "moved");
  CHECK(j["rule_set"]["rules"][0]["id"] == "weak_alliance");
  CHECK(j["rule_set"]["rules"][0]["now_at"].get<std::string>().rfind("moved.rules:", 0) == 0);
  CHECK(j["rule_set"]["files"] == json::array({"alliance.rules", "moved.rules (added)", "support.rules"}));
  auto text = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, kJane});
  CHECK(text.out.find("  > rule weak_alliance (moved.rules:") != std::string::npos);
  // The comment itself is shown (a '# lint: allow ... because' marker is
  // no part of a rule's text), and only comments of a rule file.
  CHECK(text.out.find("  ~ file support.rules differs\n      + # a comment\n") != std::string::npos);
  CHECK(j["rule_set"]["file_lines"]["support.rules"] == json::array({"+ # a comment"}));
  CHECK_FALSE(j["rule_set"]["file_lines"].contains("alliance.rules"));
  // A comment among many changed rule lines is still shown (from a review:
  // past 40 changed lines, the marker was cut off).
  std::string safety = slurp(rules + "/safety.rules");
  for (std::size_t at = 0; (at = safety.find("  priority 100\n", at)) != std::string::npos; at += 14) {
    safety.replace(at, 15, "  priority 99\n");
  }
  safety += "\n# lint: allow lint.safety-exclude because the lead decided so\n";
  std::ofstream(rules + "/safety.rules", std::ios::binary) << safety;
  auto many = json::parse(run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, kJane, "--format", "json"}).out);
  CHECK(many["rule_set"]["file_lines"]["safety.rules"] ==
        json::array({"+ # lint: allow lint.safety-exclude because the lead decided so"}));
}

TEST_CASE("diff: a changed item shows only the reasons that differ, and names those both sides give") {
  scratch s;
  auto rules = s.rules_copy();
  replace_in(rules + "/safety.rules", "rule risk_wish_dead_safety_plan \"", "rule risk_wish_dead_plan \"");
  auto text = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules,
                   std::string(IPTPLAN_SOURCE_DIR) + "/rules/tests/clients/adolescent_high_risk.toml"});
  REQUIRE(text.code == 0);
  auto at = text.out.find("~ goal safety_plan (rules changed)\n");
  REQUIRE(at != std::string::npos);
  auto block = text.out.substr(at, text.out.find("\n\n", at) - at);
  CHECK(block.find("why (old): rule risk_wish_dead_safety_plan (safety.rules:") != std::string::npos);
  CHECK(block.find("why (new): rule risk_wish_dead_plan (safety.rules:") != std::string::npos);
  // The adolescent rule's reason is the same on both sides: named once.
  CHECK(block.find("unchanged on both sides: ") != std::string::npos);
  CHECK(block.find("rule risk_adolescent_parent (safety.rules:") != std::string::npos);
  CHECK(block.find("Any suicidal thought or self-harm in a young person") == std::string::npos);
}

TEST_CASE("diff: a reworded reason is a change, shown with the why on both sides") {
  scratch s;
  auto rules = s.rules_copy();
  replace_in(rules + "/support.rules", "MSPSS mean {support.mspss.mean}", "MSPSS mean score {support.mspss.mean}");
  auto r = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, "--format", "json"});
  REQUIRE(r.code == 0);
  auto j = json::parse(r.out);
  int changed = 0;
  for (const auto& c : j["cases"]) {
    for (const auto& i : c["items"]) {
      ++changed;
      CHECK(i["change"] == "changed");
      CHECK(i["fields"] == json::array({"reasons"}));
      CHECK(i["why_now"].get<std::string>().find("MSPSS mean score") != std::string::npos);
      CHECK(i["why_was"].get<std::string>().find("MSPSS mean score") == std::string::npos);
    }
  }
  CHECK(changed > 0);
  auto md = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, "--format", "markdown"});
  CHECK(md.out.find("- **changed** challenge low_social_support (reasons changed)") != std::string::npos);
  CHECK(md.out.find("\n- - ") == std::string::npos);
  CHECK(md.out.find("\n- ~ ") == std::string::npos);
}

TEST_CASE("diff: a goal given another date is a change, with both dates") {
  scratch s;
  auto rules = s.rules_copy();
  replace_in(rules + "/emotion.rules", "goal feelings_named for emotion_expression by session 6",
             "goal feelings_named for emotion_expression by session 7");
  auto r = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, kJane, "--format", "json"});
  REQUIRE(r.code == 0);
  auto j = json::parse(r.out);
  REQUIRE(j["cases"].size() == 1);
  bool seen = false;
  for (const auto& i : j["cases"][0]["items"]) {
    if (i["id"] != "feelings_named") continue;
    seen = true;
    CHECK(i["change"] == "changed");
    CHECK(i["fields"] == json::array({"due_session"}));
  }
  CHECK(seen);
  auto text = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, kJane});
  CHECK(text.out.find("due_session: 6 -> 7") != std::string::npos);
}

TEST_CASE("diff takes a git revision as OLD, and findings files as cases") {
  scratch s;
  auto rules = s.rules_copy();
  auto here = fs::current_path();
  fs::current_path(s.dir);
  auto git = [](const std::string& args) {
    return std::system(("git -c user.name=t -c user.email=t@t " + args + " > /dev/null 2>&1").c_str());
  };
  REQUIRE(git("init -q .") == 0);
  REQUIRE(git("add rules") == 0);
  REQUIRE(git("commit -q -m rules") == 0);
  replace_in(rules + "/ruleset.toml", "type = \"number\", value = 3.0", "type = \"number\", value = 4.0");
  auto r = run({"diff", "HEAD:rules", "rules", "--format", "json"});
  auto bad = run({"diff", "HEAD~5:rules", "rules"});
  auto no_path = run({"diff", "HEAD:rulez", "rules"});
  // A blob over the file limit in the revision is refused as a file would
  // be, not read whole.
  std::ofstream(s.dir / "rules" / "big.rules") << "# " << std::string(17u << 20, 'a') << "\n";
  REQUIRE(git("add rules") == 0);
  REQUIRE(git("commit -q -m big") == 0);
  fs::remove(s.dir / "rules" / "big.rules");
  auto big = run({"diff", "HEAD:rules", "rules"});
  fs::current_path(here);
  CHECK(big.code == 1);
  CHECK(big.err.find("big.rules of HEAD:rules is larger than 16 MiB, the largest file iptplan reads") !=
        std::string::npos);
  REQUIRE(r.code == 0);
  auto j = json::parse(r.out);
  CHECK(j["old"]["label"] == "HEAD:rules");
  CHECK(j["summary"]["changed"].get<int>() > 0);
  CHECK(bad.code == 1);
  // Which half is wrong: the revision, or the path in it.
  CHECK(bad.err.find("HEAD~5:rules is not a folder, and git knows no revision 'HEAD~5' here") != std::string::npos);
  CHECK(no_path.code == 1);
  CHECK(no_path.err.find("HEAD:rulez is not a folder, and the revision 'HEAD' has no folder 'rulez'") !=
        std::string::npos);

  auto one = run({"diff", "built-in", rules, kJane, "--format", "json"});
  auto oj = json::parse(one.out);
  REQUIRE(oj["cases"].size() == 1);
  CHECK(oj["cases"][0]["findings"] == kJane);
}

TEST_CASE("diff of git revisions reads a rule file whose name holds non-ASCII letters") {
  scratch s;
  auto rules = s.rules_copy();
  auto here = fs::current_path();
  fs::current_path(s.dir);
  auto git = [](const std::string& args) {
    return std::system(("git -c user.name=t -c user.email=t@t " + args + " > /dev/null 2>&1").c_str());
  };
  REQUIRE(git("init -q .") == 0);
  REQUIRE(git("add rules") == 0);
  REQUIRE(git("commit -q -m rules") == 0);
  std::ofstream(s.dir / "rules" / "s\xc3\xa9" "curit\xc3\xa9.rules")
      << "rule extra_check \"x\"\n  source \"domain M9\"\nwhen\n  phq9.total > 1\nthen\n"
         "  flag info extra_flag \"Extra\"\nbecause\n  \"x\"\nend\n";
  REQUIRE(git("add rules") == 0);
  REQUIRE(git("commit -q -m extra") == 0);
  auto r = run({"diff", "HEAD~1:rules", "HEAD:rules", kJane, "--format", "json"});
  fs::current_path(here);
  REQUIRE(r.code == 0);
  auto j = json::parse(r.out);
  CHECK(j["old"]["sha256"] != j["new"]["sha256"]);
  REQUIRE(j["rule_set"]["rules"].size() == 1);
  CHECK(j["rule_set"]["rules"][0]["id"] == "extra_check");
  CHECK(j["rule_set"]["rules"][0]["change"] == "added");
  CHECK(j["summary"]["items_added"] == 1);
}

TEST_CASE("diff of git revisions: a symbolic link or a folder named like a rule file is an error, as in a folder") {
  // From a hostile trial: a link's blob (the name it points to) was parsed
  // as rule text, and a subtree named x.rules was skipped without a word.
  scratch s;
  auto rules = s.rules_copy();
  auto here = fs::current_path();
  fs::current_path(s.dir);
  auto git = [](const std::string& args) {
    return std::system(("git -c user.name=t -c user.email=t@t " + args + " > /dev/null 2>&1").c_str());
  };
  REQUIRE(git("init -q .") == 0);
  REQUIRE(git("add rules") == 0);
  REQUIRE(git("commit -q -m rules") == 0);
  fs::create_symlink("/etc/passwd", s.dir / "rules" / "linked.rules");
  REQUIRE(git("add rules") == 0);
  REQUIRE(git("commit -q -m link") == 0);
  auto link = run({"diff", "HEAD:rules", "HEAD~1:rules"});
  fs::remove(s.dir / "rules" / "linked.rules");
  fs::create_directories(s.dir / "rules" / "more.rules");
  std::ofstream(s.dir / "rules" / "more.rules" / "a.rules") << "# nothing\n";
  REQUIRE(git("add -A rules") == 0);
  REQUIRE(git("commit -q -m folder") == 0);
  auto folder = run({"diff", "HEAD:rules", "HEAD~2:rules"});
  auto index = run({"diff", ":rules", "HEAD:rules"});
  auto file = run({"diff", "HEAD:rules/safety.rules", "HEAD~2:rules"});
  fs::current_path(here);
  CHECK(link.code == 1);
  CHECK(link.err.find("linked.rules of HEAD:rules: a symbolic link in the revision") != std::string::npos);
  CHECK(link.err.find("parse") == std::string::npos);
  CHECK(folder.code == 1);
  CHECK(folder.err.find("more.rules of HEAD:rules: a folder named like a rule file") != std::string::npos);
  CHECK(index.code == 1);
  CHECK(index.err.find(":rules is not a folder, and names no revision before the ':'") != std::string::npos);
  CHECK(file.code == 1);
  CHECK(file.err.find("'rules/safety.rules' in the revision 'HEAD' is a file; give the rule set's folder") !=
        std::string::npos);
}

TEST_CASE("diff of git revisions: a rule file in a subfolder, or with a control character in its name, is an error") {
  // From a hostile trial: both were read (or skipped) without a word, so a
  // reviewer saw a rule set the folder loader refuses.
  scratch s;
  auto rules = s.rules_copy();
  auto here = fs::current_path();
  fs::current_path(s.dir);
  auto git = [](const std::string& args) {
    return std::system(("git -c user.name=t -c user.email=t@t " + args + " > /dev/null 2>&1").c_str());
  };
  const std::string rule = "rule xs \"x\"\n  source \"domain M9\"\nwhen\n  phq9.total > 1\nthen\n"
                           "  flag critical zz \"Z\"\nbecause\n  \"x\"\nend\n";
  REQUIRE(git("init -q .") == 0);
  REQUIRE(git("add rules") == 0);
  REQUIRE(git("commit -q -m rules") == 0);
  fs::create_directories(s.dir / "rules" / "sub");
  std::ofstream(s.dir / "rules" / "sub" / "s.rules") << rule;
  REQUIRE(git("add -A rules") == 0);
  REQUIRE(git("commit -q -m sub") == 0);
  auto sub = run({"diff", "HEAD~1:rules", "HEAD:rules", kJane});
  fs::remove_all(s.dir / "rules" / "sub");
  std::ofstream(s.dir / "rules" / "n\x1b[31m.rules") << rule;
  REQUIRE(git("add -A rules") == 0);
  REQUIRE(git("commit -q -m control") == 0);
  auto control = run({"diff", "HEAD~2:rules", "HEAD:rules", kJane});
  fs::current_path(here);
  CHECK(sub.code == 1);
  CHECK(sub.err.find("sub/s.rules of HEAD:rules: a rule file in a folder of the rule set is not read") !=
        std::string::npos);
  CHECK(control.code == 1);
  CHECK(control.err.find("n\\x1b[31m.rules of HEAD:rules: a rule file's name holds a control character") !=
        std::string::npos);
  CHECK(control.err.find('\x1b') == std::string::npos);
}

TEST_CASE("lint: the default rules have no findings") {
  auto r = run({"lint"});
  CHECK(r.code == 0);
  CHECK(r.out == "built-in rule set: no lint findings\n");
  auto j = json::parse(run({"lint", std::string(IPTPLAN_SOURCE_DIR) + "/rules", "--format", "json"}).out);
  CHECK(j["ok"] == true);
  CHECK(j["diagnostics"].empty());
}

TEST_CASE("lint: a marker that allows nothing (a misspelt code, no reason) is a finding, not silence") {
  scratch s;
  auto rules = s.rules_copy();
  std::string path = rules + "/support.rules";
  std::string text;
  {
    std::ifstream in(path);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto at = text.find("rule social_support_low");
  REQUIRE(at != std::string::npos);
  text.insert(at, "# lint: allow lint.safty-exclude because reviewed\n# lint: allow lint.shadowed\n"
                  "# lint: allow lint.shadowed because a reason\n");
  std::ofstream(path, std::ios::trunc) << text;
  auto r = run({"lint", rules});
  CHECK(r.code == 1);
  CHECK(r.err.find("support.rules:8:3: warning: this marker allows nothing: 'lint.safty-exclude' is no lint code; did "
                   "you mean 'lint.safety-exclude'? [lint.allow-marker]") != std::string::npos);
  CHECK(r.err.find("support.rules:9:3: warning: this marker allows nothing: it gives no reason (write '# lint: allow "
                   "lint.shadowed because ...', the reason in your words) [lint.allow-marker]") != std::string::npos);
  CHECK(r.err.find("support.rules:10:") == std::string::npos);  // a marker with its reason is fine
  CHECK(r.err.find("2 lint findings") != std::string::npos);
}

TEST_CASE("lint: a safety rule waiting on a value no rule concludes can never fire") {
  scratch s;
  auto rules = s.rules_copy();
  s.write("rules/zz_reach.rules", R"(rule extreme_risk "Unreachable"
  priority 100
  tags safety
  source "domain S3"
when
  risk.level == "extreme"
then
  flag critical zz_extreme "x"
end

rule any_of_them
  source "domain S3"
when
  risk.level in {"extreme", "unheard"} and phq9.total >= 10
then
  challenge zz_any "x"
end

rule reachable
  source "domain S3"
when
  risk.level in {"extreme", "high"}
then
  challenge zz_ok "x"
end
)");
  auto r = run({"lint", rules});
  CHECK(r.code == 1);
  CHECK(r.err.find("zz_reach.rules:6:3: warning: the condition can never be true: no rule concludes 'risk.level' "
                   "with that value [lint.never-true]") != std::string::npos);
  CHECK(r.err.find("the rules conclude 'risk.level' as \"high\", \"low\", \"moderate\", \"none\"") !=
        std::string::npos);
  CHECK(r.err.find("'extreme_risk' is a safety rule") != std::string::npos);
  CHECK(r.err.find("zz_reach.rules:14:3: warning: the condition can never be true: no rule concludes 'risk.level' "
                   "with any of these values") != std::string::npos);
  CHECK(r.err.find("zz_reach.rules:22:") == std::string::npos);
  CHECK(r.err.find("2 lint findings") != std::string::npos);
}

TEST_CASE("lint: each check, on a rule set that triggers it") {
  scratch s;
  auto rules = s.rules_copy();
  s.write("rules/zz_lint.rules", R"(rule never_phq
  source "domain M6"
when phq9.total > 30
then
  challenge zz_a "x"
end

rule never_band
  source "domain M6"
when phq9.total > 20 and phq9.total < 10
then
  challenge zz_b "x"
end

rule never_enum
when alliance.strength == "weak" and alliance.strength == "strong"
then
  challenge zz_c "x"
end

rule always_phq
when phq9.total >= 0
then
  challenge zz_d "x"
end

rule always_param
when support.mspss.mean <= param.mspss_low + 10
then
  challenge zz_e "x"
end

rule hides_safety
when therapy.setting == "group"
then
  exclude safety_plan
end

rule cites_unknown
  source "domain Z99, M6"
when phq9.total >= 10
then
  challenge zz_f "x"
end

# lint: allow lint.never-true because this rule documents an impossible case on purpose
rule allowed_never
when phq9.total > 30
then
  challenge zz_g "x"
end

rule misspelt_fact
when phq9.total >= 20
then
  conclude risk.elevatd
end
)");
  replace_in(rules + "/ruleset.toml",
             "mspss_low = { type = \"number\", value = 3.0, min = 1, max = 7, unit = \"MSPSS mean\" }",
             "mspss_low = 3.0");
  auto r = run({"lint", rules, "--format", "json"});
  CHECK(r.code == 1);
  auto j = json::parse(r.out);
  CHECK(j["ok"] == false);
  std::multiset<std::string> codes;
  std::map<std::string, std::vector<int>> lines;
  for (const auto& d : j["diagnostics"]) {
    codes.insert(d["code"].get<std::string>());
    lines[d["code"]].push_back(d["line"].get<int>());
    CHECK(d["severity"] == "warning");
  }
  CHECK(codes.count("lint.never-true") == 3);  // never_phq, never_band, never_enum; not allowed_never
  CHECK(codes.count("lint.always-true") == 1);  // always_phq (param.mspss_low + 10 is not a constant)
  CHECK(codes.count("lint.safety-exclude") == 1);
  CHECK(codes.count("lint.unknown-source") == 1);
  CHECK(codes.count("lint.parameter-undeclared") == 1);
  CHECK(codes.count("lint.fact-unread") == 1);
  CHECK(lines["lint.fact-unread"] == std::vector<int>{56});
  CHECK(lines["lint.never-true"] == std::vector<int>{3, 10, 16});
  // At the 'exclude' and the 'source' themselves, not the rule's start.
  CHECK(lines["lint.safety-exclude"] == std::vector<int>{36});
  CHECK(lines["lint.unknown-source"] == std::vector<int>{40});

  auto text = run({"lint", rules});
  CHECK(text.err.find("zz_lint.rules:3:6: warning: the condition can never be true: 'phq9.total' cannot satisfy "
                      "'phq9.total > 30' as it is ") != std::string::npos);
  CHECK(text.err.find("rule 'hides_safety' excludes 'safety_plan', which the safety rule") != std::string::npos);
  CHECK(text.err.find("zz_lint.rules:36:3: warning: rule 'hides_safety' excludes") != std::string::npos);
  CHECK(text.err.find("zz_lint.rules:40:18: warning: rule 'cites_unknown' cites") != std::string::npos);
  // A contradiction names the comparison it contradicts, with its line.
  CHECK(text.err.find("zz_lint.rules:10:26: warning: the condition can never be true: 'phq9.total' cannot satisfy "
                      "'phq9.total < 10' together with 'phq9.total > 20' (line 10)") != std::string::npos);
  CHECK(text.err.find("cites the fact 'Z99'") != std::string::npos);
  CHECK(text.err.find("zz_lint.rules:56:3: warning: rule 'misspelt_fact' concludes 'risk.elevatd', which no rule "
                      "reads; did you mean 'risk.elevated'? [lint.fact-unread]") != std::string::npos);
  CHECK(text.err.find("8 lint findings") != std::string::npos);
  // Each once: lint loads the folder without the warnings it reports itself.
  CHECK(text.err.find("[lint.fact-unread]") == text.err.rfind("[lint.fact-unread]"));
  // check (and every command that loads the folder) warns of the two that
  // cost a client most: a safety item removable, a misspelt conclude.
  auto checked = run({"check", rules});
  CHECK(checked.code == 0);
  CHECK(checked.err.find("zz_lint.rules:56:3: warning: rule 'misspelt_fact' concludes 'risk.elevatd'") !=
        std::string::npos);
  CHECK(checked.err.find("zz_lint.rules:36:3: warning: rule 'hides_safety' excludes") != std::string::npos);
  CHECK(checked.err.find("never be true") == std::string::npos);  // the rest is lint's
}

TEST_CASE("lint: a text finding or field with no pattern could hold a name") {
  scratch s;
  auto rules = s.rules_copy();
  {
    std::ofstream v(fs::path(rules) / "vocabulary.toml", std::ios::app);
    v << "\n[people]\ntype = \"table_list\"\nkey = \"label\"\n\n[people.fields.label]\ntype = \"string\"\n"
         "\n[people.fields.kin]\ntype = \"string\"\npattern = \"[a-z]+\"\n\n[note]\ntype = \"string\"\n";
  }
  auto r = run({"lint", rules});
  CHECK(r.code == 1);
  CHECK(r.err.find("warning: 'people.label' takes any text (no 'pattern'): it could hold a name or other identifying "
                   "text [lint.free-text]") != std::string::npos);
  CHECK(r.err.find("warning: 'note' takes any text") != std::string::npos);
  CHECK(r.err.find("'people.kin'") == std::string::npos);  // a pattern: not free
  CHECK(r.err.find("/vocabulary.toml:") != std::string::npos);
  CHECK(r.err.find("2 lint findings") != std::string::npos);
  // The default vocabulary has none.
  CHECK(run({"lint", std::string(IPTPLAN_SOURCE_DIR) + "/rules"}).code == 0);
}

TEST_CASE("lint: rules citing facts with no sources.toml, and parameters checked against their declared range") {
  scratch s;
  auto rules = s.rules_copy();
  fs::remove(rules + "/sources.toml");
  auto r = run({"lint", rules});
  CHECK(r.code == 1);
  CHECK(r.err.find("[lint.no-sources]") != std::string::npos);
  CHECK(r.err.find("1 lint finding\n") != std::string::npos);

  replace_in(rules + "/ruleset.toml", "value = 3.0, min = 1, max = 7", "value = 300, min = 1, max = 7");
  auto bad = run({"check", rules});
  CHECK(bad.code == 1);
  CHECK(bad.err.find("parameter 'mspss_low' is outside its declared range (1 to 7, MSPSS mean) "
                     "[ruleset.parameter]") != std::string::npos);
}

TEST_CASE("session_finding names a number finding of the vocabulary") {
  scratch s;
  auto rules = s.rules_copy();
  replace_in(rules + "/ruleset.toml", "session_finding = \"therapy.session_number\"",
             "session_finding = \"therapy.sesion_number\"");
  auto typo = run({"check", rules});
  CHECK(typo.code == 1);
  CHECK(typo.err.find("ruleset.toml:12:19: error: session_finding names no finding of the vocabulary "
                      "[ruleset.manifest]") != std::string::npos);
  CHECK(typo.err.find("did you mean \"therapy.session_number\"?") != std::string::npos);
  replace_in(rules + "/ruleset.toml", "\"therapy.sesion_number\"", "\"alliance.strength\"");
  auto kind = run({"check", rules});
  CHECK(kind.code == 1);
  CHECK(kind.err.find("session_finding must name a number finding (the session this is) [ruleset.manifest]") !=
        std::string::npos);
  // Empty is not "none": it is an error too.
  replace_in(rules + "/ruleset.toml", "\"alliance.strength\"", "\"\"");
  auto empty = run({"check", rules});
  CHECK(empty.code == 1);
  CHECK(empty.err.find("ruleset.toml:12:19: error: session_finding is empty: name the number finding that says "
                       "which session this is, or leave the key out") != std::string::npos);
  CHECK(empty.err.find("session_finding = \"\"") != std::string::npos);  // the line, quoted
  // Without it, no goal is ever shown as passed.
  replace_in(rules + "/ruleset.toml", "session_finding = \"\"", "");
  CHECK(run({"check", rules}).code == 0);
}

TEST_CASE("nan and inf are refused as a parameter's value or bound, and as a vocabulary range") {
  for (const char* bad : {"nan", "inf", "-inf"}) {
    INFO(bad);
    scratch s;
    auto rules = s.rules_copy();
    replace_in(rules + "/ruleset.toml", "mspss_low = { type = \"number\", value = 3.0,",
               std::string("mspss_low = { type = \"number\", value = ") + bad + ",");
    auto v = run({"check", rules});
    CHECK(v.code == 1);
    CHECK(v.err.find("parameter 'mspss_low' must be a finite number, not nan or inf [ruleset.parameter]") !=
          std::string::npos);
    replace_in(rules + "/ruleset.toml", std::string("value = ") + bad + ",", "value = 3.0,");
    replace_in(rules + "/ruleset.toml", "value = 3.0, min = 1,", std::string("value = 3.0, min = ") + bad + ",");
    auto m = run({"check", rules});
    CHECK(m.code == 1);
    CHECK(m.err.find("'min' of parameter 'mspss_low' must be a number (not nan or inf)") != std::string::npos);
    replace_in(rules + "/ruleset.toml", std::string("value = 3.0, min = ") + bad + ",", "value = 3.0, min = 1,");
    REQUIRE(run({"check", rules}).code == 0);
    replace_in(rules + "/vocabulary.toml", "[support.mspss.mean]\ntype = \"number\"\nmin = 1.0",
               std::string("[support.mspss.mean]\ntype = \"number\"\nmin = ") + bad);
    auto voc = run({"check", rules});
    CHECK(voc.code == 1);
    CHECK(voc.err.find("'min' of 'support.mspss.mean' must be a number (not nan or inf)") != std::string::npos);
  }
}

TEST_CASE("a parameter's value is of its declared type") {
  scratch s;
  auto rules = s.rules_copy();
  CHECK(run({"check", rules}).code == 0);
  // 2.5 people: not a whole number.
  replace_in(rules + "/ruleset.toml", "inventory_min_people = { type = \"integer\", value = 3,",
             "inventory_min_people = { type = \"integer\", value = 2.5,");
  auto frac = run({"check", rules});
  CHECK(frac.code == 1);
  CHECK(frac.err.find("ruleset.toml:37:") != std::string::npos);
  CHECK(frac.err.find("parameter 'inventory_min_people' is declared as an integer (a whole number), and its value "
                      "is not one [ruleset.parameter]") != std::string::npos);
  // 3.0 is a whole number.
  replace_in(rules + "/ruleset.toml", "value = 2.5,", "value = 3.0,");
  CHECK(run({"check", rules}).code == 0);
  // A text where a number is declared; a type that does not exist.
  replace_in(rules + "/ruleset.toml", "mspss_low = { type = \"number\", value = 3.0,",
             "mspss_low = { type = \"number\", value = \"3\",");
  auto text = run({"check", rules});
  CHECK(text.code == 1);
  CHECK(text.err.find("parameter 'mspss_low' is declared as a number, and its value is not one") != std::string::npos);
  replace_in(rules + "/ruleset.toml", "mspss_low = { type = \"number\", value = \"3\",",
             "mspss_low = { type = \"decimal\", value = 3.0,");
  auto unknown = run({"check", rules});
  CHECK(unknown.code == 1);
  CHECK(unknown.err.find("the type of parameter 'mspss_low' must be \"integer\", \"number\", \"boolean\" or \"text\"") !=
        std::string::npos);
  // Declared without a type: a lint finding, with the declaration to write.
  replace_in(rules + "/ruleset.toml", "mspss_low = { type = \"decimal\", value = 3.0,", "mspss_low = { value = 3.0,");
  auto lint = run({"lint", rules});
  CHECK(lint.code == 1);
  CHECK(lint.err.find("parameter 'mspss_low' is declared without its type [lint.parameter-undeclared]") !=
        std::string::npos);
  CHECK(lint.err.find("declare it: mspss_low = { type = \"integer\", value = 3, min = ...") != std::string::npos);
}

TEST_CASE("test FILE runs one case of a rule set alone, with the rule set it belongs to") {
  scratch s;
  auto rules = s.rules_copy();
  auto one = run({"test", rules + "/tests/jane.toml"});
  CHECK(one.code == 0);
  CHECK(one.out == "PASS  jane\n1 passed, 0 failed\n");
  // A failing case fails alone, and the others are not run.
  replace_in(rules + "/tests/jane.toml", "solutions = [\"joint_partner_sessions\"", "solutions = [\"active_listening\"");
  auto failing = run({"test", rules + "/tests/jane.toml"});
  CHECK(failing.code == 1);
  CHECK(failing.out.find("FAIL  jane") != std::string::npos);
  CHECK(failing.out.find("0 passed, 1 failed") != std::string::npos);
  // A case outside a rule set's tests/ folder: where it belongs.
  std::ofstream(s.dir / "loose.toml") << "description = \"x\"\n[findings]\nclient.id = \"T-1\"\n";
  auto loose = run({"test", (s.dir / "loose.toml").string()});
  CHECK(loose.code == 1);
  CHECK(loose.err.find("error: a test case runs with its rule set: put it in DIR/tests/") != std::string::npos);
}

TEST_CASE("a test case's findings in JSON are read as JSON, as plan reads them") {
  scratch s;
  auto rules = s.rules_copy();
  s.write("rules/tests/clients/q.json",
          "{\"client\": {\"id\": \"T-9\", \"age_band\": \"18_64\"}, \"risk\": {\"cssrs\": {\"q1\": true, "
          "\"q2\": false}}}\n");
  s.write("rules/tests/zz_json.toml",
          "description = \"json findings\"\nfindings = \"clients/q.json\"\n[expect]\nflags = [\"low_suicide_risk\"]\n");
  auto r = run({"test", rules + "/tests/zz_json.toml"});
  CHECK(r.code == 0);
  CHECK(r.out == "PASS  zz_json\n1 passed, 0 failed\n");
}

TEST_CASE("diff: an item whose text alone changed gives its reasons once, unchanged on both sides") {
  // From a clinical lead's trial: the same reason was printed twice, as
  // 'why (old)' and 'why (new)'.
  scratch s;
  auto rules = s.rules_copy("new");
  std::string path = rules + "/alliance.rules";
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto at = text.find("Active listening");
  REQUIRE(at != std::string::npos);
  text.replace(at, 6, "Attentive");
  std::ofstream(path) << text;
  auto r = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules});
  CHECK(r.out.find("~ solution active_listening (text changed)") != std::string::npos);
  CHECK(r.out.find("why (unchanged on both sides): rule weak_alliance (alliance.rules:") != std::string::npos);
  CHECK(r.out.find("why (old)") == std::string::npos);
  CHECK(r.out.find("why (new)") == std::string::npos);
}

TEST_CASE("test --coverage: conditions never both true and false, choices no case records, an annotated file") {
  scratch s;
  auto rules = s.rules_copy();
  // One case only: Jane.
  for (const auto& e : fs::directory_iterator(rules + "/tests")) {
    if (e.is_regular_file() && e.path().filename() != "jane.toml") fs::remove(e.path());
  }
  auto r = run({"test", rules, "--coverage"});
  CHECK(r.code == 0);
  CHECK(r.out.find("weak_alliance (" + rules + "/alliance.rules:15): 'alliance.strength == \"weak\"' never false") !=
        std::string::npos);
  CHECK(r.out.find("\n  alliance.strength: moderate strong\n") != std::string::npos);
  // A condition written over several lines is listed on one, without
  // escaped line breaks (from a clinical lead's trial: '\x0a' in the report).
  CHECK(r.out.find("'any(f in life_events: f.type == \"death\" and f.person == r.label and "
                   "f.months_before_onset <= param.life_event_window_months)'") != std::string::npos);
  CHECK(r.out.find("\\x0a") == std::string::npos);

  auto j = json::parse(run({"test", rules, "--coverage", "--format", "json"}).out);
  bool found = false;
  for (const auto& c : j["coverage"]["conditions"]) {
    if (c["rule"] == "weak_alliance" && c["condition"] == "alliance.strength == \"weak\"") {
      found = true;
      CHECK(c["true"] == 1);
      CHECK(c["false"] == 0);
      CHECK(c["file"] == "alliance.rules");
      CHECK(c["line"] == 15);
    }
  }
  CHECK(found);
  CHECK(j["coverage"]["unused_choices"]["alliance.strength"] == json::array({"moderate", "strong"}));

  auto a = run({"test", rules, "--annotate", "alliance.rules"});
  CHECK(a.out.find("\nF1 N0 U0                | rule weak_alliance \"Weak therapeutic alliance\"\n") !=
        std::string::npos);
  CHECK(a.out.find("\nT1 N0 U0 !              |   alliance.strength == \"weak\"\n") != std::string::npos);
  CHECK(run({"test", rules, "--annotate", "nosuch.rules"}).code == 2);
  CHECK(run({"test", rules, "--annotate", rules + "/alliance.rules"}).out.find("\nT1 N0 U0 !") != std::string::npos);
  CHECK(run({"test", rules, "--annotate", "alliance.rules", "--format", "json"}).code == 2);
}

TEST_CASE("lint: a goal whose text gives a date it does not carry, or another one") {
  scratch s;
  auto rules = s.rules_copy();
  s.write("rules/zz_dates.rules", R"(rule zz_dates
when phq9.total >= 10
then
  goal zz_undated "By session {param.response_by_session}, something done."
  goal zz_other by session 6 "Something else, by session 8."
  goal zz_agreeing by session param.focus_by_session "By session {param.focus_by_session}, a third."
  goal zz_free "At every session, a fourth."
end
)");
  auto r = run({"lint", rules, "--format", "json"});
  auto j = json::parse(r.out);
  std::vector<std::string> messages;
  for (const auto& d : j["diagnostics"]) {
    if (d["code"] == "lint.goal-date") messages.push_back(d["message"]);
  }
  CHECK(messages == std::vector<std::string>{
                        "goal 'zz_undated' says 'by session param.response_by_session' in its text, but has no 'by "
                        "session': plans cannot order it by date or say when it has passed",
                        "goal 'zz_other' is dated 'by session 6', but its text says 'by session 8'"});
  // The default rules date every goal their texts date, or say why not.
  auto clean = run({"lint", std::string(IPTPLAN_SOURCE_DIR) + "/rules"});
  CHECK(clean.out.find("lint.goal-date") == std::string::npos);
}

TEST_CASE("lint: a shadowed rule is found however many conditions it has, and however many rules share its item") {
  scratch s;
  auto rules = s.rules_copy();
  // 14 conditions (past the subset lookup) and 3 (within it), each shadowed
  // by a rule with one of them; 90 rules proposing the same item besides.
  std::string text = "rule one_cond\nwhen phq9.total >= 1\nthen\n  flag info zz_same \"x\"\nend\n\n";
  std::string many = "phq9.total >= 1";
  for (int i = 2; i <= 14; ++i) many += " and gad7.total >= " + std::to_string(i);
  text += "rule many_conds\nwhen " + many + "\nthen\n  flag info zz_same \"x\"\nend\n\n";
  text += "rule three_conds\nwhen gad7.total >= 20 and phq9.total >= 1 and phq9.item9 >= 1\nthen\n"
          "  flag info zz_same \"x\"\nend\n\n";
  for (int i = 0; i < 90; ++i) {
    text += "rule other_" + std::to_string(i) + "\nwhen gad7.total >= " + std::to_string(i % 21) +
            " and phq9.item9 == " + std::to_string(i % 4) + "\nthen\n  flag info zz_same \"x\"\nend\n\n";
  }
  s.write("rules/zz_many.rules", text);
  auto r = run({"lint", rules});
  CHECK(r.err.find("every item of rule 'many_conds' is also proposed by rule 'one_cond'") != std::string::npos);
  CHECK(r.err.find("every item of rule 'three_conds' is also proposed by rule 'one_cond'") != std::string::npos);
  CHECK(r.err.find("every item of rule 'one_cond' is also proposed") == std::string::npos);
  // Two rules with the same conditions (other_0 and other_84): one report.
  int named = 0;
  for (const char* id : {"other_0", "other_84"}) {
    named += r.err.find("every item of rule '" + std::string(id) + "' is also proposed by rule 'other_") !=
             std::string::npos;
  }
  CHECK(named == 1);
}

TEST_CASE("lint: thousands of unread facts and orphan solutions: the first reported, then a note that lint stopped comparing") {
  scratch s;
  s.write("big/ruleset.toml", "name = \"big\"\nversion = \"1\"\n");
  s.write("big/vocabulary.toml",
          "[a.n]\ntype = \"int\"\nmin = 0\nmax = 1000000\nquestion = \"n\"\n[a.b]\ntype = \"bool\"\nquestion = \"b\"\n");
  // 3,000 facts no rule reads, each one letter from a fact that one does
  // (fact.dI for fact.eI); 1,000 challenges raised when a.n == I, each
  // with 1,000 solutions that can never apply with it.
  std::string text;
  constexpr int kFacts = 3000, kOrphans = 1000;
  for (int i = 0; i < kFacts; ++i) {
    std::string n = std::to_string(i);
    text += "rule f" + n + "\nwhen a.b\nthen\n  conclude fact.d" + n + "\nend\n\n";
    text += "rule g" + n + "\nwhen a.b\nthen\n  conclude fact.e" + n + "\nend\n\n";
    text += "rule h" + n + "\nwhen fact.e" + n + "\nthen\n  flag info zz_h \"x\"\nend\n\n";
  }
  for (int i = 0; i < kOrphans; ++i) {
    std::string n = std::to_string(i);
    text += "rule c" + n + "\nwhen a.n == " + n + "\nthen\n  challenge ch \"C\"\nend\n\n";
    text += "rule s" + n + "\nwhen a.n == " + std::to_string(i + 5000) + "\nthen\n  solution s" + n +
            " for ch \"S\"\nend\n\n";
  }
  s.write("big/x.rules", text);
  auto r = run({"lint", (s.dir / "big").string(), "--format", "json"});
  CHECK(r.code == 1);
  auto j = json::parse(r.out);
  int unread = 0, orphans = 0;
  std::vector<std::string> notes;
  for (const auto& d : j["diagnostics"]) {
    if (d["severity"] == "note") {
      notes.push_back(d["code"].get<std::string>() + ": " + d["message"].get<std::string>());
      continue;
    }
    unread += d["code"] == "lint.fact-unread";
    orphans += d["code"] == "lint.orphan-solution";
  }
  // The first ones are reported; the rest are counted in one note each.
  CHECK(unread > 100);
  CHECK(unread < kFacts);
  CHECK(orphans > 100);
  CHECK(orphans < kOrphans);
  REQUIRE(notes.size() == 2);
  std::sort(notes.begin(), notes.end());
  CHECK(notes[0] == "lint.fact-unread: " + with_thousands(static_cast<std::size_t>(kFacts - unread)) +
                        " derived facts that no rule reads, from here on, were not compared with the facts the rules "
                        "read: the rule set has more than lint compares, so a misspelt 'conclude' among them goes "
                        "unreported");
  CHECK(notes[1] == "lint.orphan-solution: " + with_thousands(static_cast<std::size_t>(kOrphans - orphans)) +
                        " solutions and goals, from here on, were not compared with the rules raising their "
                        "challenge: the rule set has more than lint compares, so one that can never apply among "
                        "them goes unreported");
}

TEST_CASE("lint: a fact no rule reads is suggested one the rules read, never another unread one") {
  scratch s;
  s.write("two/ruleset.toml", "name = \"two\"\nversion = \"1\"\n");
  s.write("two/vocabulary.toml", "[a.b]\ntype = \"bool\"\nquestion = \"b\"\n");
  s.write("two/x.rules",
          "rule one\nwhen a.b\nthen\n  conclude fact.alpha1\nend\n\n"
          "rule two\nwhen a.b\nthen\n  conclude fact.alpha2\nend\n");
  auto r = run({"lint", (s.dir / "two").string()});
  CHECK(r.err.find("[lint.fact-unread]") == std::string::npos);
  s.write("two/y.rules", "rule three\nwhen fact.alpha2\nthen\n  flag info zz \"x\"\nend\n");
  auto r2 = run({"lint", (s.dir / "two").string()});
  CHECK(r2.err.find("rule 'one' concludes 'fact.alpha1', which no rule reads; did you mean 'fact.alpha2'?") !=
        std::string::npos);
}

TEST_CASE("suggester: suggests while its budget lasts, then counts the names it did not look at") {
  std::vector<std::string> names = {"risk.elevated", "risk.acute", "phq9.total"};
  suggester sg(7);
  CHECK(sg.open());
  CHECK(sg.nearest("risk.elevatd", names) == "risk.elevated");  // 3 candidates: 3 spent
  CHECK(sg.nearest("phq9.totl", names) == "phq9.total");        // 6 spent
  CHECK(sg.open());
  CHECK(sg.nearest("risk.acut", names) == "risk.acute");  // 9 spent: past the budget
  CHECK_FALSE(sg.open());
  CHECK(sg.nearest("risk.acut", names).empty());
  CHECK(sg.nearest("phq9.totl", names).empty());
  CHECK(sg.unanswered() == 2);
  CHECK(with_thousands(0) == "0");
  CHECK(with_thousands(999) == "999");
  CHECK(with_thousands(1000) == "1,000");
  CHECK(with_thousands(9990) == "9,990");
  CHECK(with_thousands(1234567) == "1,234,567");
}

TEST_CASE("lint: shadowed rules, orphan solutions, fields named as written, reasons required, partial declarations") {
  scratch s;
  auto rules = s.rules_copy();
  s.write("rules/zz_more.rules", R"(rule broad
when phq9.total >= 10
then
  challenge zz_low "x"
end

rule narrow
when phq9.total >= 10 and gad7.total >= 10
then
  challenge zz_low "x"
end

rule raiser
when phq9.total >= 20
then
  challenge zz_hard "x"
end

rule helper
when phq9.total < 5
then
  solution zz_help for zz_hard "x"
end

rule closeness
for each r in relationships
when r.closeness >= 1
then
  challenge zz_close "x"
end

# lint: allow lint.never-true
rule no_reason
when phq9.total > 30
then
  challenge zz_nr "x"
end
)");
  replace_in(rules + "/ruleset.toml",
             "mspss_low = { type = \"number\", value = 3.0, min = 1, max = 7, unit = \"MSPSS mean\" }",
             "mspss_low = { type = \"number\", value = 3.0, min = 1 }");
  auto r = run({"lint", rules});
  CHECK(r.code == 1);
  CHECK(r.err.find("every item of rule 'narrow' is also proposed by rule 'broad'") != std::string::npos);
  CHECK(r.err.find("[lint.shadowed]") != std::string::npos);
  CHECK(r.err.find("rule 'helper' proposes 'zz_help' for the challenge 'zz_hard', but no rule raising that "
                   "challenge can fire together with it") != std::string::npos);
  CHECK(r.err.find("'r.closeness >= 1' holds for every value 'r.closeness' can have") != std::string::npos);
  CHECK(r.err.find("write 'r.closeness is known'") != std::string::npos);
  CHECK(r.err.find("zz_more.rules:34:6: warning: the condition can never be true") != std::string::npos);
  CHECK(r.err.find("parameter 'mspss_low' is declared without its max, unit") != std::string::npos);

  replace_in(rules + "/ruleset.toml", "mspss_low = { type = \"number\", value = 3.0, min = 1 }",
             "mspss_low = { type = \"number\", value = 3.0, min = 7, max = 1, unit = \"x\" }");
  auto minmax = run({"check", rules});
  CHECK(minmax.code == 1);
  CHECK(minmax.err.find("declared with min larger than max") != std::string::npos);
}

TEST_CASE("diff: a client file that is a link to nothing, a pipe, or a link out of the rule set is an error") {
  namespace fs = std::filesystem;
  scratch s;
  auto rules = s.rules_copy();
  auto clients = fs::path(rules) / "tests" / "clients";
  SECTION("a link to nothing") {
    fs::create_symlink(clients / "nowhere.toml", clients / "dangling.toml");
    auto r = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules});
    CHECK(r.code == 1);
    CHECK(r.err.find("dangling.toml: error: is a link to nothing [test.findings]") != std::string::npos);
  }
  SECTION("a pipe") {
    REQUIRE(::mkfifo((clients / "pipe.toml").c_str(), 0600) == 0);
    auto r = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules});
    CHECK(r.code == 1);
    CHECK(r.err.find("pipe.toml: error: is not a regular file (a folder, pipe or device) [test.findings]") !=
          std::string::npos);
  }
  SECTION("a link out of the folder") {
    auto outside = s.write("outside.toml", "[phq9]\ntotal = 3\n");
    fs::create_symlink(outside, clients / "out.toml");
    auto r = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules});
    CHECK(r.code == 1);
    CHECK(r.err.find("out.toml: error: is a link that leads outside the rule set folder") != std::string::npos);
  }
}

TEST_CASE("diff gives a reason once per case: items one rule proposes together name it 'as for ... above'") {
  // From a lead's trial: a threshold change printed the same two long
  // reasons under a challenge, its solution and its goal, case after case.
  scratch s;
  auto rules = s.rules_copy();
  replace_in(rules + "/ruleset.toml", "mspss_low = { type = \"number\", value = 3.0",
             "mspss_low = { type = \"number\", value = 4.0");
  auto r = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("      why (old and new): as for the challenge low_social_support above\n") != std::string::npos);
  CHECK(r.out.find("      why (new): as for the challenge low_social_support above\n") != std::string::npos);
  // Within one case, a reason's words appear once.
  auto at = r.out.find("clients/adolescent_high_risk.toml\n");
  REQUIRE(at != std::string::npos);
  auto block = r.out.substr(at, r.out.find("\n\n", at) - at);
  const std::string reason = "under 4 is the low band";
  CHECK(block.find(reason) != std::string::npos);
  CHECK(block.find(reason, block.find(reason) + 1) == std::string::npos);
}

TEST_CASE("diff --format markdown escapes rule and item texts as the markdown plan does") {
  scratch s;
  auto rules = s.rules_copy();
  std::ofstream(fs::path(rules) / "extra.rules")
      << "rule tagged \"T <script>alert(1)</script>\"\n  source \"[click](javascript:alert(1)) <img src=x>\"\n"
         "when\n  phq9.total >= 0\nthen\n  flag info tagged_flag \"<b>hi</b> ``` fence\"\n"
         "because \"</details><script>\"\nend\n";
  auto md = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, kJane, "--format", "markdown"});
  CHECK(md.code == 0);
  // The rule's lines are in a block whose fence no line of it can close
  // (inside it, nothing is rendered); outside it, every text is escaped.
  auto open = md.out.find("  ````diff\n");
  REQUIRE(open != std::string::npos);
  auto close = md.out.find("\n  ````\n", open + 1);
  REQUIRE(close != std::string::npos);
  std::string rendered = md.out.substr(0, open) + md.out.substr(close);
  CHECK(rendered.find("<script>") == std::string::npos);
  CHECK(rendered.find("<b>") == std::string::npos);
  CHECK(rendered.find("</details>") == std::string::npos);
  CHECK(rendered.find("\\<b\\>hi\\</b\\>") != std::string::npos);
  // Text output is unchanged: printable, not escaped for markdown.
  auto text = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", rules, kJane});
  CHECK(text.out.find("<b>hi</b>") != std::string::npos);
}

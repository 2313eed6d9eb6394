// The command line's contract: exit codes (0 success, 1 rule or findings
// errors, 2 usage errors), help on every subcommand, error messages that name
// the place, and -o never leaving a partial file.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <fstream>
#include <sstream>

#include "cli/commands.hpp"
#include "tests/cli_support.hpp"

namespace fs = std::filesystem;
using namespace iptplan::testing_cli;


TEST_CASE("the suite's transcript gets every command's messages, and its commands log at debug level") {
  // What leak_check.sh searches, the last test of the suite.
  REQUIRE_FALSE(transcript_path().empty());
  REQUIRE(transcript_installed);
  auto r = run({"plan", "examples/no-such-client-file.toml"});
  CHECK(r.code != 0);
  std::ifstream in(transcript_path(), std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.find("no-such-client-file.toml") != std::string::npos);
  CHECK(text.find("[debug]") != std::string::npos);
}

TEST_CASE("help is available on every subcommand and exits 0") {
  for (auto args : std::vector<std::vector<std::string>>{
           {"--help"}, {"plan", "--help"}, {"check", "--help"}, {"why", "--help"}, {"why-not", "--help"}}) {
    INFO(args.front() << " " << args.back());
    auto r = run(args);
    CHECK(r.code == 0);
    CHECK(r.out.find("Usage") != std::string::npos);
  }
}

TEST_CASE("IPTPLAN_LOG_LEVEL that names no level is said on stderr, not ignored in silence, and never stops a plan") {
  const char* was = std::getenv("IPTPLAN_LOG_LEVEL");
  const std::string before = was ? was : "";
  ::setenv("IPTPLAN_LOG_LEVEL", "verbose-please", 1);
  auto r = run({"plan", "examples/jane.toml"});
  ::unsetenv("IPTPLAN_LOG_LEVEL");
  CHECK(r.code == 0);
  CHECK(r.err.find("iptplan: warning: IPTPLAN_LOG_LEVEL is not a level (trace, debug, info, warn, error, off); "
                   "using the default") != std::string::npos);
  CHECK(r.err.find("verbose-please") == std::string::npos);
  ::setenv("IPTPLAN_LOG_LEVEL", "warn", 1);
  auto ok = run({"plan", "examples/jane.toml"});
  ::unsetenv("IPTPLAN_LOG_LEVEL");
  CHECK(ok.err.find("IPTPLAN_LOG_LEVEL") == std::string::npos);
  if (was) ::setenv("IPTPLAN_LOG_LEVEL", before.c_str(), 1);
}

TEST_CASE("an empty option value or argument is a usage error, never taken as not given") {
  // From a hostile trial: --rules '' planned with the built-in rules,
  // --token-file '' served without a token, --store '' recorded into the
  // default store, check '' checked the built-in rules and exited 0.
  struct empty_case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const auto& [args, message] : std::vector<empty_case>{
           {{"plan", "examples/jane.toml", "--rules", ""}, "iptplan: --rules is given an empty value"},
           {{"serve", "--token-file", ""}, "iptplan: --token-file is given an empty value"},
           {{"plan", "examples/jane.toml", "--record", "--store", ""}, "iptplan: --store is given an empty value"},
           {{"audit", "list", "--store", " "}, "iptplan: --store is given an empty value"},
           {{"test", "rules", "--coverage", "--annotate", ""}, "iptplan: --annotate is given an empty value"},
           {{"check", ""}, "iptplan: an argument of 'check' is empty"},
           {{"batch", ""}, "iptplan: an argument of 'batch' is empty"},
           {{"fmt", "--check", ""}, "iptplan: an argument of 'fmt' is empty"},
           {{"why", "", "examples/jane.toml"}, "iptplan: an argument of 'why' is empty"}}) {
    auto r = run(args);
    INFO(args.size() << " " << args[0] << ": " << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.rfind(message, 0) == 0);
    CHECK(r.out.empty());
  }
  auto listed = run({"audit", "list", "--store", ""});
  CHECK(listed.err.find("Run 'iptplan audit list --help' for usage.") != std::string::npos);
}

TEST_CASE("the default vocabulary suggests the choice for words a clinician types (open, every day, postnatal, beginning)") {
  // From a clinician's trial: the question itself says "overt (open
  // arguments)", yet "open" got no suggestion.
  scratch s;
  auto r = run({"plan", s.write("words.toml", "[[relationships]]\nlabel = \"mum\"\nrole = \"parent\"\n"
                                              "conflict = \"open\"\ncontact = \"every day\"\n[perinatal]\n"
                                              "status = \"postnatal\"\n[therapy]\nphase = \"beginning\"\n")});
  CHECK(r.code == 1);
  for (const char* meant : {"overt", "daily", "postpartum", "initial"}) {
    CHECK(r.err.find(std::string("note: did you mean \"") + meant + "\"?") != std::string::npos);
  }
  // The word typed is not repeated (a value may be free text about a person).
  CHECK(r.err.find("postnatal") == std::string::npos);
  CHECK(r.err.find("every day") == std::string::npos);
}

TEST_CASE("ask next: questions about people deciding as much come innermost ring first, each person's together") {
  scratch s;
  auto f = s.write("ring.toml",
                   "[client]\nage_band = \"18_64\"\n"
                   "[[relationships]]\nlabel = \"neighbour\"\nrole = \"other\"\ncloseness = 3\n"
                   "[[relationships]]\nlabel = \"brother\"\nrole = \"sibling\"\n"
                   "[[relationships]]\nlabel = \"son\"\nrole = \"child\"\ncloseness = 1\n"
                   "[[relationships]]\nlabel = \"aunt\"\nrole = \"other\"\ncloseness = 2\n");
  auto r = run({"plan", f, "--format", "json"});
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(r.out);
  std::vector<std::string> people;
  for (const auto& a : j["ask_next"]) {
    std::string finding = a["finding"];
    if (finding.rfind("relationships[", 0) != 0 || finding.find("].conflict") == std::string::npos) continue;
    people.push_back(finding.substr(14, finding.find(']') - 14));
  }
  // Ring 1, 2, 3, then the one with no ring recorded.
  CHECK(people == std::vector<std::string>{"son", "aunt", "neighbour", "brother"});
}

TEST_CASE("a text and a markdown plan open with a summary: flags, the rule set's summary facts, counts, what to ask") {
  scratch s;
  auto f = s.write("q1.toml", "[client]\nage_band = \"18_64\"\n[risk.cssrs]\nq1 = true\nq2 = false\n");
  auto text = run({"plan", f});
  REQUIRE(text.code == 0);
  auto at = text.out.find("\nSUMMARY\n");
  REQUIRE(at != std::string::npos);
  CHECK(at < text.out.find("\nFLAGS\n"));
  auto summary = text.out.substr(at, text.out.find("\nFLAGS\n") - at);
  INFO(summary);
  CHECK(summary.find("  Flags: ") != std::string::npos);
  // The first flag by its first sentences, up to the one that says what
  // to do (a first sentence under 100 characters is followed by the next).
  CHECK(summary.find("first: A wish to be dead or suicidal thoughts on the C-SSRS screener: the low tier at "
                     "least. Carry out a structured suicide risk assessment now (with any screen question still "
                     "open, listed under 'ask next'), and monitor at every session.\n") != std::string::npos);
  CHECK(summary.find("  Suicide-risk tier (lowest the answers imply): low (provisional: missing answers could "
                     "change it)\n") != std::string::npos);
  // A summary fact's words for "none" as the rule set gives them; the
  // person in a dispute focus is shown while it may still be one.
  CHECK(summary.find("  Agreed focus: not yet agreed\n  Proposed focus (while none is agreed): not yet known\n"
                     "  Person in a role-dispute focus: not yet known\n") != std::string::npos);
  // With grief the focus, no line for the person in a dispute.
  auto grief = run({"plan", "examples/grief_recent_loss.toml"});
  REQUIRE(grief.code == 0);
  CHECK(grief.out.find("  Proposed focus (while none is agreed): grief\n") != std::string::npos);
  CHECK(grief.out.find("Person in a role-dispute focus") == std::string::npos);
  CHECK(summary.find("  Plan: ") != std::string::npos);
  CHECK(summary.find("  Ask next: risk.cssrs.q6, ") != std::string::npos);
  // One screen: a few lines, whatever the plan.
  CHECK(std::count(summary.begin(), summary.end(), '\n') <= 12);
  auto md = run({"plan", f, "--format", "markdown"});
  CHECK(md.out.find("## Summary\n\n- **Flags**: ") != std::string::npos);
  CHECK(md.out.find("- **Suicide-risk tier (lowest the answers imply)**: low (provisional: missing answers could "
                    "change it)\n") != std::string::npos);
}

TEST_CASE("the version flag prints the program's version") {
  auto r = run({"--version"});
  CHECK(r.code == 0);
  CHECK(r.out.rfind("iptplan ", 0) == 0);
}

TEST_CASE("usage errors exit 2") {
  CHECK(run({}).code == 2);
  CHECK(run({}).err.find("a subcommand is required") != std::string::npos);
  CHECK(run({"frobnicate"}).code == 2);
  CHECK(run({"plan"}).code == 2);
  CHECK(run({"plan", "examples/jane.toml", "--format", "pdf"}).code == 2);
  auto empty_o = run({"plan", "examples/jane.toml", "-o", ""});
  CHECK(empty_o.code == 2);
  CHECK(empty_o.out.empty());
  CHECK(empty_o.err.find("an empty file name") != std::string::npos);
  CHECK(run({"why", "weak_relationship"}).code == 2);
  auto r = run({"why", "weak_relationshp", "examples/jane.toml"});
  CHECK(r.code == 2);
  CHECK(r.err.find("did you mean 'weak_relationship'?") != std::string::npos);
}

TEST_CASE("the built-in rule set checks clean from any folder") {
  auto r = run({"check"});
  CHECK(r.code == 0);
  CHECK(r.out.find("no errors") != std::string::npos);
  CHECK(r.err.empty());  // no warnings either, house style included
  auto folder = run({"check", "rules"});
  CHECK(folder.code == 0);
  CHECK(folder.err.empty());
}

TEST_CASE("plan prints a draft for Jane") {
  auto r = run({"plan", "examples/jane.toml"});
  REQUIRE(r.code == 0);
  CHECK(r.out.rfind("DRAFT TREATMENT PLAN", 0) == 0);
  CHECK(r.out.find("[weak_relationship]") != std::string::npos);
  CHECK(r.out.find("[emotion_expression]") != std::string::npos);
  CHECK(r.out.find("[assertive_communication]") != std::string::npos);
  CHECK(r.out.find("[role_dispute[partner]]") != std::string::npos);
  CHECK(r.err.empty());
}

TEST_CASE("bad findings files exit 1 and name the place") {
  scratch s;
  SECTION("a file that does not exist") {
    auto r = run({"plan", (s.dir / "nope.toml").string()});
    CHECK(r.code == 1);
    CHECK(r.err.find("no such file") != std::string::npos);
  }
  SECTION("a folder") {
    auto r = run({"plan", s.dir.string()});
    CHECK(r.code == 1);
    CHECK(r.err.find("folder") != std::string::npos);
  }
  SECTION("malformed TOML") {
    auto f = s.write("bad.toml", "[client\nid = 1\n");
    auto r = run({"plan", f});
    CHECK(r.code == 1);
    CHECK(r.err.find(f + ":1:") != std::string::npos);
  }
  SECTION("a value out of range, with file, line and column") {
    auto f = s.write("range.toml", "[phq9]\ntotal = 4747\n");
    auto r = run({"plan", f});
    CHECK(r.code == 1);
    CHECK(r.err.find(f + ":2:9: error: 'phq9.total' is outside its range") != std::string::npos);
    // Neither the value nor the line is quoted.
    CHECK(r.err.find("4747") == std::string::npos);
  }
  SECTION("binary garbage") {
    auto f = s.write("garbage.toml", std::string("\x00\xff\xfe\x01garbage\x80", 12));
    auto r = run({"plan", f});
    CHECK(r.code == 1);
    CHECK(r.err.find(f) != std::string::npos);
  }
  SECTION("an unknown key is an error, and a warning with --allow-unknown") {
    auto f = s.write("unknown.toml", "[alliance]\nstrenght = \"Mary Smith\"\n");
    auto r = run({"plan", f});
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(r.err.find(f + ":2:1: error: 'alliance.strenght' is not in the vocabulary") != std::string::npos);
    CHECK(r.err.find("did you mean 'alliance.strength'?") != std::string::npos);
    CHECK(r.err.find("Mary") == std::string::npos);
    auto w = run({"plan", "--allow-unknown", f});
    CHECK(w.code == 0);
    CHECK(w.err.find("warning: 'alliance.strenght' is not in the vocabulary and is ignored") != std::string::npos);
    CHECK(w.err.find("Mary") == std::string::npos);
    CHECK(run({"plan", "--strict", f}).code == 1);
    // --strict is kept for old scripts and changes nothing.
    CHECK(run({"plan", "--allow-unknown", "--strict", f}).code == 0);
    CHECK(w.err.find("--allow-unknown reads the file") == std::string::npos);
    CHECK(run({"why", "low_suicide_risk", f}).code == 1);
    CHECK(run({"why-not", "low_suicide_risk", "--allow-unknown", f}).code == 0);
  }
  SECTION("a misspelt section heading hides no safety finding: [phq-9] is an error") {
    auto f = s.write("heading.toml", "[phq-9]\nitem9 = 2\n");
    auto r = run({"plan", f});
    CHECK(r.code == 1);
    CHECK(r.err.find(f + ":2:1: error: 'phq-9.item9' is not in the vocabulary [findings.unknown]") !=
          std::string::npos);
    CHECK(r.err.find("did you mean 'phq9.item9'?") != std::string::npos);
  }
  SECTION("keys in capitals get the finding in lower case; another instrument's name is no suggestion") {
    // A risk answer written [Risk.CSSRS] Q1 was offered --allow-unknown only,
    // which drops it; epds.total was offered gad7.total, another instrument.
    auto f = s.write("caps.toml", "[Risk.CSSRS]\nQ1 = true\n[epds]\ntotal = 14\n");
    auto r = run({"plan", f});
    CHECK(r.code == 1);
    CHECK(r.err.find(f + ":2:1: error: a key (not shown: it does not look like a finding's name) is not in the "
                         "vocabulary [findings.unknown]\n    note: did you mean 'risk.cssrs.q1'?") != std::string::npos);
    CHECK(r.err.find(f + ":4:1: error: 'epds.total' is not in the vocabulary [findings.unknown]\n    note: "
                         "--allow-unknown reads the file without it") != std::string::npos);
    CHECK(r.err.find("gad7") == std::string::npos);
    // A label in capitals: the form in words, not a regular expression.
    auto d = s.write("daughter.toml", "[[relationships]]\nlabel = \"Daughter\"\nrole = \"child\"\n");
    auto dr = run({"plan", d});
    CHECK(dr.code == 1);
    CHECK(dr.err.find("'relationships[1].label' does not have the form the vocabulary asks for: lower-case words "
                      "joined by underscores, one of them a relationship word such as mother, partner, friend, "
                      "neighbour or manager (friend_school, sister_older); never a name") != std::string::npos);
    CHECK(dr.err.find("Daughter") == std::string::npos);
    // Two letters swapped in one part are still a typo of it.
    auto t = s.write("swap.toml", "[phq9]\ntoatl = 3\n");
    CHECK(run({"plan", t}).err.find("did you mean 'phq9.total'?") != std::string::npos);
  }
  SECTION("answers that contradict each other, with their places") {
    auto f = s.write("skip.toml", "[risk.cssrs]\nq1 = true\nq2 = false\nq3 = true\n");
    auto r = run({"plan", f});
    CHECK(r.code == 1);
    CHECK(r.err.find(f + ":4:1: error: 'risk.cssrs.q3' is recorded, but it is asked only when "
                         "'risk.cssrs.q2' is true, and the answer to 'risk.cssrs.q2' (line 3) is false "
                         "[findings.skip-logic]") !=
          std::string::npos);
    // A yes to a risk question is never offered as the answer to drop
    // (from a trial: a clinician told to "leave Q4 out" to get a plan).
    CHECK(r.err.find("note: 'risk.cssrs.q3' is a positive answer to a risk question: do not leave it out to get a "
                     "plan. Ask both questions again with the client before they leave and record what they say; "
                     "until then, act on it (the assessment and safety steps it calls for)") != std::string::npos);
    // Someone named as causing harm, though the gate says no one does:
    // the same (from a review).
    auto harm = s.write("harm.toml", "[risk]\nharmed_by_others = false\nharmed_by = [\"partner\"]\n");
    auto rh = run({"plan", harm});
    CHECK(rh.code == 1);
    CHECK(rh.err.find("note: 'risk.harmed_by' is a positive answer to a risk question: do not leave it out") !=
          std::string::npos);
    CHECK(r.err.find("leave 'risk.cssrs.q3' out if it was not asked") == std::string::npos);
    auto no = s.write("skip_no.toml", "[risk.cssrs]\nq1 = true\nq2 = false\nq4 = false\n");
    auto rn = run({"plan", no});
    CHECK(rn.code == 1);
    CHECK(rn.err.find("note: one of the two answers is wrong: correct it, or leave 'risk.cssrs.q4' out if it was not "
                      "asked") != std::string::npos);
    auto g = s.write("item9.toml", "[phq9]\ntotal = 2\nitem9 = 3\n");
    auto q = run({"plan", g});
    CHECK(q.code == 1);
    CHECK(q.err.find(g + ":3:1: error: 'phq9.item9' is more than 'phq9.total' (line 2), which "
                         "includes it [findings.contradiction]") != std::string::npos);
    // Perinatal status is asked of ages 12-64, but "none" holds at any age.
    auto older = s.write("older.toml", "[client]\nage_band = \"65_89\"\n[perinatal]\nstatus = \"none\"\n");
    CHECK(run({"plan", older}).code == 0);
    auto older_pregnant =
        s.write("older_pregnant.toml", "[client]\nage_band = \"65_89\"\n[perinatal]\nstatus = \"pregnant\"\n");
    CHECK(run({"plan", older_pregnant}).err.find("[findings.skip-logic]") != std::string::npos);
    // At the boundary: item 9 equal to the total is consistent.
    auto h = s.write("item9_equal.toml", "[phq9]\ntotal = 3\nitem9 = 3\n");
    CHECK(run({"plan", h}).code == 0);
    // A session past the contracted course: possible only in maintenance.
    auto k = s.write("overrun.toml", "[therapy]\nsessions_planned = 12\nsession_number = 13\nphase = \"middle\"\n");
    auto o = run({"plan", k});
    CHECK(o.code == 1);
    CHECK(o.out.empty());
    CHECK(o.err.find(k + ":3:1: error: 'therapy.session_number' is more than 'therapy.sessions_planned' (line 2), "
                         "which is possible only when 'therapy.phase' is maintenance; 'therapy.phase' (line 4) is "
                         "middle [findings.contradiction]") != std::string::npos);
    auto m = s.write("maintenance.toml",
                     "[therapy]\nsessions_planned = 12\nsession_number = 13\nphase = \"maintenance\"\n");
    CHECK(run({"plan", m}).code == 0);
    auto e = s.write("last.toml", "[therapy]\nsessions_planned = 12\nsession_number = 12\nphase = \"termination\"\n");
    CHECK(run({"plan", e}).code == 0);
  }
}

namespace {
// Every "ref" anywhere in `j`, collected into `out`.
void collect_refs(const nlohmann::json& j, std::vector<std::string>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "ref" && it.value().is_string()) out.push_back(it.value().get<std::string>());
      collect_refs(it.value(), out);
    }
  } else if (j.is_array()) {
    for (const auto& x : j) collect_refs(x, out);
  }
}
}  // namespace

TEST_CASE("JSON plans share explanation trees: every reference resolves, each tree is written once") {
  for (const char* ex : {"examples/group.toml", "examples/jane.toml", "examples/first_interview_partial_dispute.toml"}) {
    INFO(ex);
    auto r = run({"plan", ex, "--format", "json"});
    REQUIRE(r.code == 0);
    auto j = nlohmann::json::parse(r.out);
    std::vector<std::string> refs;
    collect_refs(j, refs);
    CHECK_FALSE(refs.empty());
    for (const auto& key : refs) {
      INFO(key);
      REQUIRE(j["explanations"].contains(key));
      CHECK(j["explanations"][key].contains("evidence"));
    }
    // No tree is written without being referred to.
    std::set<std::string> used(refs.begin(), refs.end());
    CHECK(used.size() == j["explanations"].size());
  }
}

TEST_CASE("ask next: whose death it was before the grief questions it spares, when their scores tie") {
  scratch s;
  auto f = s.write("widow.toml",
                   "[client]\nid = \"X-1\"\nage_band = \"65_89\"\n[therapy]\nphase = \"initial\"\n"
                   "[[relationships]]\nlabel = \"husband\"\nrole = \"partner\"\ndeceased = true\n"
                   "[[relationships]]\nlabel = \"daughter\"\nrole = \"child\"\nconflict = \"none\"\n"
                   "[[life_events]]\ntype = \"death\"\nmonths_before_onset = 14\n");
  auto r = run({"plan", f, "--format", "json"});
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(r.out);
  auto place = [&](const std::string& finding) {
    for (std::size_t i = 0; i < j["ask_next"].size(); ++i) {
      if (j["ask_next"][i]["finding"] == finding) return static_cast<int>(i);
    }
    return -1;
  };
  int person = place("life_events[1].person"), grief = place("life_events[1].grief_ongoing");
  REQUIRE(person >= 0);
  REQUIRE(grief >= 0);
  CHECK(j["ask_next"][person]["score"] == j["ask_next"][grief]["score"]);
  CHECK(person < grief);
  CHECK(person < place("relationships[husband].grief_ongoing"));
  CHECK(person < place("relationships[husband].changed_near_onset"));
}

TEST_CASE("risk first: the suicide-risk tier leads the warnings, before open safety questions and disputes set aside") {
  // From a clinician's trial: a wish to be dead, harm reported from a
  // partner, a perinatal client whose infant-harm question is still open,
  // in a couple setting. The critical flags lead; among the warnings the
  // suicide-risk tier comes before the rest.
  scratch s;
  auto f = s.write("risk_order.toml",
                   "[client]\nid = \"X-1\"\nage_band = \"18_64\"\n[perinatal]\nstatus = \"postpartum\"\n"
                   "[therapy]\nsetting = \"couple\"\n"
                   "[risk]\nharmed_by_others = true\nharmed_by = [\"partner\"]\n"
                   "[risk.cssrs]\nq1 = true\nq2 = false\n"
                   "[[relationships]]\nlabel = \"partner\"\nrole = \"partner\"\nconflict = \"overt\"\n");
  auto r = run({"plan", f, "--format", "json"});
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(r.out);
  std::vector<std::string> ids, severities;
  for (const auto& fl : j["flags"]) {
    ids.push_back(fl["base_id"]);
    severities.push_back(fl["severity"]);
  }
  auto place = [&](const std::string& id) {
    auto it = std::find(ids.begin(), ids.end(), id);
    return it == ids.end() ? -1 : static_cast<int>(it - ids.begin());
  };
  int low = place("low_suicide_risk");
  REQUIRE(low >= 0);
  REQUIRE(place("partner_dispute_set_aside") >= 0);
  REQUIRE(place("infant_harm_question_open") >= 0);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (severities[i] == "critical") CHECK(static_cast<int>(i) < low);
    if (severities[i] == "warning" && ids[i] != "low_suicide_risk") CHECK(static_cast<int>(i) > low);
  }
}

TEST_CASE("a word typed for a role or a kind of change gets the choice it means, in any case, never taken as it") {
  scratch s;
  auto f = s.write("typed.toml",
                   "[[relationships]]\nlabel = \"husband\"\nrole = \"Spouse\"\n"
                   "[[life_events]]\ntype = \"divorce\"\n");
  auto r = run({"plan", f});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("typed.toml:3:8: error: 'relationships[1].role' is not one of its choices: expected one of partner, "
                   "former_partner, parent, child, infant, sibling, friend, coworker, other [findings.value]\n"
                   "    note: did you mean \"partner\"?\n") != std::string::npos);
  CHECK(r.err.find("note: did you mean \"relationship_end\" (end of a relationship)?\n") != std::string::npos);
  CHECK(r.err.find("Spouse") == std::string::npos);
}

TEST_CASE("a death whose person is a misspelt label exits 1 with did-you-mean, never parts the event from the person") {
  scratch s;
  auto f = s.write("widow.toml",
                   "[client]\nid = \"X-1\"\nage_band = \"65_89\"\n"
                   "[[relationships]]\nlabel = \"husband\"\nrole = \"partner\"\ndeceased = true\n"
                   "[[life_events]]\ntype = \"death\"\nmonths_before_onset = 18\nperson = \"husbnd\"\n");
  auto r = run({"plan", f});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("widow.toml:11:10: error: 'life_events[1].person' names a label that no entry of 'relationships' "
                   "has [findings.reference]\n") != std::string::npos);
  CHECK(r.err.find("husbnd") == std::string::npos);
  CHECK(r.err.find("note: did you mean 'husband'?") != std::string::npos);
}

TEST_CASE("plan: a reason given above is referred to, each reference its own sentence") {
  auto r = run({"plan", "rules/tests/clients/first_interview_teen_mother.toml"});
  REQUIRE(r.code == 0);
  // The safety plan, proposed by two rules whose reasons were both given above.
  CHECK(r.out.find("why: as for [parent_safety_involvement] above (rule risk_adolescent_parent, safety.rules:") !=
        std::string::npos);
  CHECK(r.out.find("). As for [recent_self_harm] above (rule self_harm_recent, safety.rules:") != std::string::npos);
  CHECK(r.out.find(". as for [") == std::string::npos);
}

TEST_CASE("plan of an empty record asks the C-SSRS gate questions first, never Q3-Q5") {
  auto r = run({"plan", "examples/empty.toml", "--format", "json"});
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["ask_next"].size() >= 3);
  // In the screener's own order, as a clinician asks them.
  std::vector<std::string> first3;
  for (int i = 0; i < 3; ++i) first3.push_back(j["ask_next"][i]["finding"].get<std::string>());
  CHECK(first3 == std::vector<std::string>{"risk.cssrs.q1", "risk.cssrs.q2", "risk.cssrs.q6"});
  // Then the rest of a risk assessment: the screeners with follow-ups of
  // their own (self-harm, then violence, whose follow-up asks who it is),
  // then in the vocabulary's order: the age band, the PHQ-9 (its total
  // decides whether a missing screen is critical), PHQ-9 item 9.
  std::vector<std::string> first8;
  for (int i = 0; i < 8; ++i) first8.push_back(j["ask_next"][i]["finding"].get<std::string>());
  CHECK(first8 == std::vector<std::string>{"risk.cssrs.q1", "risk.cssrs.q2", "risk.cssrs.q6", "risk.self_harm.ever",
                                           "risk.harmed_by_others", "client.age_band", "phq9.total", "phq9.item9"});
  for (const auto& a : j["ask_next"]) {
    auto f = a["finding"].get<std::string>();
    CHECK(f != "risk.cssrs.q3");
    CHECK(f != "risk.cssrs.q4");
    CHECK(f != "risk.cssrs.q5");
    CHECK(f != "risk.cssrs.q6_past3m");
  }
  // The client's questions, then what the clinician records; in each part,
  // safety findings first, whatever the scores, in the order of a risk
  // assessment (the screeners, then the vocabulary's order); among the
  // others, scores never rise down the list.
  auto questionnaire = [](const std::string& f) { return f.rfind("risk.cssrs.", 0) == 0; };
  bool any_clinician = false;
  for (std::size_t i = 1; i < j["ask_next"].size(); ++i) {
    const auto& a = j["ask_next"][i - 1];
    const auto& b = j["ask_next"][i];
    CHECK((a["asked_of"] == "client" || b["asked_of"] == "clinician"));
    any_clinician = any_clinician || b["asked_of"] == "clinician";
    if (a["asked_of"] != b["asked_of"]) continue;
    CHECK(a["safety"].get<bool>() >= b["safety"].get<bool>());
    if (questionnaire(a["finding"]) || questionnaire(b["finding"])) continue;
    if (a["safety"] == b["safety"] && !a["safety"].get<bool>()) {
      // In each part, whether IPT fits (priority 90 and above: the
      // diagnoses the scope flag asks for before the contract) first, then
      // by score.
      bool fit_a = a["top_priority"].get<int>() >= 90, fit_b = b["top_priority"].get<int>() >= 90;
      if (a["asked_of"] == "clinician") {
        // What the clinician records: the rules tagged scope (the diagnoses),
        // not any rule of priority 90 (an alliance rating).
        fit_a = a["scope"].get<bool>();
        fit_b = b["scope"].get<bool>();
      }
      CHECK(fit_a >= fit_b);
      if (fit_a == fit_b) CHECK(a["score"].get<double>() >= b["score"].get<double>());
    }
  }
  CHECK(any_clinician);
  CHECK(j["ask_next"][0]["asked_of"] == "client");
  // After a yes to Q1 and Q2: Q3, Q4, Q5, then Q6, in that order.
  scratch s;
  auto yes = run({"plan", s.write("q12.toml", "[risk.cssrs]\nq1 = true\nq2 = true\n"), "--format", "json"});
  auto y = nlohmann::json::parse(yes.out);
  std::vector<std::string> screener;
  for (const auto& a : y["ask_next"]) {
    if (questionnaire(a["finding"])) screener.push_back(a["finding"]);
  }
  CHECK(screener == std::vector<std::string>{"risk.cssrs.q3", "risk.cssrs.q4", "risk.cssrs.q5", "risk.cssrs.q6"});
  CHECK(y["ask_next"][0]["finding"] == "risk.cssrs.q3");
  // The screener is asked in one go: nothing comes between its questions.
  std::vector<std::string> first4;
  for (int i = 0; i < 4; ++i) first4.push_back(y["ask_next"][i]["finding"].get<std::string>());
  CHECK(first4 == std::vector<std::string>{"risk.cssrs.q3", "risk.cssrs.q4", "risk.cssrs.q5", "risk.cssrs.q6"});
  auto text = run({"plan", "examples/empty.toml"});
  CHECK(text.out.find("ASK NEXT (the 10 of ") != std::string::npos);
}

TEST_CASE("a reason is given once: a later item with the same reason refers to the first, text and markdown") {
  auto count = [](const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
  };
  // alexithymia_possible raises a flag and a goal for one reason.
  const std::string reason = "TAS-20 total 58: 52-60 is possible alexithymia";
  auto text = run({"plan", "examples/jane.toml"});
  REQUIRE(text.code == 0);
  CHECK(count(text.out, reason) == 1);
  CHECK(text.out.find("why: as for [possible_alexithymia] above (rule alexithymia_possible, emotion.rules:") !=
        std::string::npos);
  auto md = run({"plan", "examples/jane.toml", "--format", "markdown"});
  REQUIRE(md.code == 0);
  CHECK(count(md.out, reason) == 1);
  // By its kind and first words: the markdown plan shows no item ids.
  CHECK(md.out.find("Why: as for the flag *TAS-20 is in the 'possible alexithymia' range: keep it in\u2026* above") !=
        std::string::npos);
  CHECK(md.out.find("as for `") == std::string::npos);
  // The JSON plan keeps every item's own reasons.
  auto js = run({"plan", "examples/jane.toml", "--format", "json"});
  CHECK(js.out.find("as for") == std::string::npos);
}

TEST_CASE("plan -o writes the plan, and writes nothing on error") {
  scratch s;
  auto out = (s.dir / "plan.md").string();
  auto r = run({"plan", "examples/jane.toml", "--format", "markdown", "-o", out});
  REQUIRE(r.code == 0);
  CHECK(fs::file_size(out) > 0);
  auto bad = s.write("bad.toml", "[phq9]\ntotal = \"high\"\n");
  auto out2 = (s.dir / "plan2.md").string();
  auto r2 = run({"plan", "examples/jane.toml", bad, "-o", out2});
  CHECK(r2.code == 1);
  CHECK_FALSE(fs::exists(out2));
  for (const auto& e : fs::directory_iterator(s.dir)) {
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
  }
}

TEST_CASE("a broken rule set exits 1 with compiler-style errors") {
  scratch s;
  auto dir = s.rules_copy();
  SECTION("a syntax error") {
    s.write("rules/extra.rules", "rule broken \"x\"\nwhen phq9.total >= 10\n  challenge c \"x\"\nend\n");
    auto r = run({"check", dir});
    CHECK(r.code == 1);
    CHECK(r.err.find("extra.rules:3:3: error: expected 'then' but found 'challenge'") != std::string::npos);
    CHECK(r.err.find("  challenge c \"x\"\n      ^") != std::string::npos);
    CHECK(run({"plan", "examples/jane.toml", "--rules", dir}).code == 1);
  }
  SECTION("an unknown finding, with a suggestion") {
    s.write("rules/extra.rules", "rule broken\nwhen phq9.totl >= 10\nthen challenge c \"x\"\nend\n");
    auto r = run({"check", dir});
    CHECK(r.code == 1);
    CHECK(r.err.find("extra.rules:2:6: error: unknown finding 'phq9.totl'") != std::string::npos);
    CHECK(r.err.find("did you mean 'phq9.total'?") != std::string::npos);
  }
  SECTION("a folder that does not exist, or a file") {
    CHECK(run({"check", (s.dir / "nope").string()}).code == 1);
    CHECK(run({"check", "examples/jane.toml"}).code == 1);
  }
}

TEST_CASE("why and why-not answer from the files and values") {
  auto r = run({"why", "role_dispute[partner]", "examples/jane.toml"});
  CHECK(r.code == 0);
  CHECK(r.out.find("role_dispute[partner] is in the plan as a challenge") != std::string::npos);
  CHECK(r.out.find("relationships[partner].conflict = covert") != std::string::npos);
  auto n = run({"why-not", "low_social_support", "examples/jane.toml"});
  CHECK(n.code == 0);
  CHECK(n.out.find("is not in the plan") != std::string::npos);
  CHECK(n.out.find("[no]") != std::string::npos);
}

namespace {

// A small rule set with test cases, for `iptplan test`.
std::string small_rule_set(const scratch& s) {
  s.write("rs/ruleset.toml", "name = \"small\"\nversion = \"1\"\n[parameters]\n# Local choice.\nhigh = 10\n");
  s.write("rs/vocabulary.toml",
          "[score]\ntype = \"int\"\nmin = 0\nmax = 27\nquestion = \"What is the score?\"\n"
          "[mood]\ntype = \"enum\"\nvalues = [\"low\", \"ok\"]\n"
          "[unused]\ntype = \"bool\"\n");
  s.write("rs/a.rules",
          "rule high_score \"High\"\n  source \"test\"\nwhen score >= param.high\nthen\n"
          "  challenge high \"Score {score}\"\nbecause \"Score {score} of at least {param.high}.\"\nend\n"
          "rule low_mood \"Low\"\n  source \"test\"\nwhen mood == \"low\"\nthen\n"
          "  challenge low \"Low mood\"\nbecause \"Mood {mood}.\"\nend\n");
  s.write("rs/tests/pass.toml",
          "description = \"a high score\"\n[findings]\nscore = 12\n[expect]\nchallenges = [\"high\"]\n"
          "to_assess = [\"mood\"]\n"
          "[absent]\nchallenges = [\"low\"]\n");
  return (s.dir / "rs").string();
}

}  // namespace

TEST_CASE("iptplan test runs the cases and reports each difference with why or why-not") {
  scratch s;
  auto dir = small_rule_set(s);
  SECTION("all pass") {
    auto r = run({"test", dir});
    CHECK(r.code == 0);
    CHECK(r.out == "PASS  pass\n1 passed, 0 failed\n");
  }
  SECTION("a failing case shows what was expected, what the plan held, and why") {
    s.write("rs/tests/fail.toml",
            "findings = \"../case.toml\"\n[expect]\nchallenges = [\"low\"]\n[absent]\nchallenges = [\"high\"]\n");
    s.write("rs/case.toml", "score = 20\nmood = \"ok\"\n");
    auto r = run({"test", dir});
    CHECK(r.code == 1);
    CHECK(r.out.find("FAIL  fail") != std::string::npos);
    CHECK(r.out.find("expected challenge low; the plan holds high") != std::string::npos);
    CHECK(r.out.find("[no]  mood == \"low\"   with mood = ok") != std::string::npos);
    CHECK(r.out.find("expected no challenge high, but the plan holds it") != std::string::npos);
    CHECK(r.out.find("[yes] score >= param.high   with score = 20, param.high = 10") != std::string::npos);
    CHECK(r.out.find("1 passed, 1 failed\n") != std::string::npos);
  }
  SECTION("a misspelt id fails rather than passing as absent") {
    s.write("rs/tests/typo.toml", "[findings]\nscore = 1\n[absent]\nchallenges = [\"hihg\"]\n");
    auto r = run({"test", dir});
    CHECK(r.code == 1);
    CHECK(r.out.find("names 'hihg', which no rule proposes; did you mean 'high'?") != std::string::npos);
  }
  SECTION("an invalid case file is an error naming the place") {
    s.write("rs/tests/bad.toml", "[findings]\nscore = 1\n[expect]\nchalenges = [\"high\"]\n");
    auto r = run({"test", dir});
    CHECK(r.code == 1);
    CHECK(r.err.find("bad.toml:4:13: error: 'expect.chalenges' is not a list a test can check") != std::string::npos);
    CHECK(r.err.find("did you mean 'challenges'?") != std::string::npos);
  }
  SECTION("coverage: rules fired and left false, findings no rule reads, and a minimum") {
    auto r = run({"test", dir, "--coverage"});
    CHECK(r.code == 0);
    CHECK(r.out.find("Coverage: 1 of 2 rules fired in some case (50.0%)") != std::string::npos);
    CHECK(r.out.find("low_mood (" ) != std::string::npos);
    CHECK(r.out.find("<- never fired") != std::string::npos);
    CHECK(r.out.find("Findings no rule reads (1):\n  unused\n") != std::string::npos);
    auto strict = run({"test", dir, "--min-coverage", "100"});
    CHECK(strict.code == 1);
    CHECK(strict.out.find("below the required 100%") != std::string::npos);
  }
}

TEST_CASE("rules concluding different values for one fact fail the plan, naming both rules") {
  scratch s;
  s.write("rs/ruleset.toml", "name = \"c\"\nversion = \"1\"\n");
  s.write("rs/vocabulary.toml", "[score]\ntype = \"int\"\nmin = 0\nmax = 27\n");
  s.write("rs/a.rules",
          "rule hi \"Hi\"\nwhen score >= 5\nthen\n  conclude level = \"high\"\n  challenge c \"{level}\"\nend\n"
          "rule lo \"Lo\"\nwhen score < 20\nthen\n  conclude level = \"low\"\nend\n");
  auto f = s.write("f.toml", "score = 10\n");
  auto dir = (s.dir / "rs").string();
  auto r = run({"plan", f, "--rules", dir});
  CHECK(r.code == 1);
  // The rule file by its own name: no folder reaches a plan or its messages.
  CHECK(r.err.find("rules 'hi' (a.rules:1) and 'lo' conclude different values for 'level'") !=
        std::string::npos);
  CHECK(r.err.find(dir) == std::string::npos);
  CHECK(r.out.find(dir) == std::string::npos);
  CHECK(r.err.find("[plan.conflict]") != std::string::npos);
  auto json = run({"plan", f, "--rules", dir, "--format", "json"});
  CHECK(json.out.find(dir) == std::string::npos);
  CHECK(json.out.find("\"file\": \"a.rules\"") != std::string::npos);
  CHECK(r.out.find("DRAFT TREATMENT PLAN") != std::string::npos);  // still readable
  auto out = (s.dir / "plan.txt").string();
  CHECK(run({"plan", f, "--rules", dir, "-o", out}).code == 1);
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("plan refuses to write over one of its findings files") {
  scratch s;
  auto f = s.write("j.toml", "[phq9]\ntotal = 12\n");
  auto r = run({"plan", f, "-o", f});
  CHECK(r.code == 2);
  CHECK(r.err.find("is one of the findings files") != std::string::npos);
  std::ifstream in(f);
  std::string first;
  std::getline(in, first);
  CHECK(first == "[phq9]");
}

TEST_CASE("an unknown escape in a text names the escapes there are") {
  scratch s;
  auto dir = s.rules_copy();
  s.write("rules/extra.rules", "rule esc \"x \\t y\"\nwhen phq9.total >= 10\nthen\n  challenge c \"x\"\nend\n");
  auto r = run({"check", dir});
  CHECK(r.code == 1);
  CHECK(r.err.find("extra.rules:1:14: error: expected an escape: \\\" for a quote, \\\\ for a backslash or \\n for a new line but found 't'") !=
        std::string::npos);
}

TEST_CASE("every condition an explanation shows is the whole source text: never empty, its parentheses balanced") {
  // From a review: an `and` group's text ended at 0 (empty in 12 places of
  // one example's plan), and a condition whose first operand is in
  // parentheses lost its '(' (shown "a or b) and c").
  std::size_t seen = 0;
  for (const auto& e : fs::directory_iterator("examples")) {
    if (e.path().extension() != ".toml") continue;
    auto r = run({"plan", e.path().string(), "--format", "json"});
    if (r.code != 0) continue;
    std::vector<const nlohmann::json*> todo{};
    auto j = nlohmann::json::parse(r.out);
    todo.push_back(&j);
    while (!todo.empty()) {
      const auto* n = todo.back();
      todo.pop_back();
      if (n->is_object()) {
        for (auto it = n->begin(); it != n->end(); ++it) {
          if (it.key() == "condition" && it->is_string()) {
            const std::string c = *it;
            INFO(e.path().string() << ": " << c);
            ++seen;
            CHECK_FALSE(c.empty());
            int depth = 0;
            bool never_negative = true;
            for (char ch : c) {
              depth += ch == '(' ? 1 : ch == ')' ? -1 : 0;
              never_negative = never_negative && depth >= 0;
            }
            CHECK(depth == 0);
            CHECK(never_negative);
          }
          todo.push_back(&*it);
        }
      } else if (n->is_array()) {
        for (const auto& x : *n) todo.push_back(&x);
      }
    }
  }
  CHECK(seen > 1000);
}

TEST_CASE("summary: items to confirm that wait only on what the clinician records are said so") {
  // From clinicians' trials: a grief focus stayed provisional for want of
  // the session number alone, which read as doubt about the grief.
  scratch s;
  const std::string widow =
      "[client]\nage_band = \"65_89\"\n[phq9]\ntotal = 16\nitem9 = 0\n[risk.cssrs]\nq1 = false\nq2 = false\n"
      "[[relationships]]\nlabel = \"husband\"\nrole = \"partner\"\ndeceased = true\ngrief_ongoing = true\n"
      "[[life_events]]\ntype = \"death\"\nmonths_before_onset = 6\nperson = \"husband\"\n";
  auto f = s.write("widow.toml", widow);
  auto r = run({"plan", f});
  REQUIRE(r.code == 0);
  auto at = r.out.find("  Waiting only on the clinician: ");
  REQUIRE(at != std::string::npos);
  std::string line = r.out.substr(at, r.out.find('\n', at) - at);
  CHECK(line.find(": record ") != std::string::npos);
  CHECK(line.find(" to confirm") != std::string::npos);
  CHECK(line.find(" to settle ") != std::string::npos);
  CHECK(line.find("therapy.session_number") != std::string::npos);
  // Recorded, the grief focus and its work are confirmed; what still waits
  // (the course's length, for dated targets) is named instead.
  auto g = s.write("widow_session1.toml", "[therapy]\nsession_number = 1\nphase = \"initial\"\n" + widow);
  auto done = run({"plan", g});
  CHECK(done.out.find("  Proposed focus (while none is agreed): grief\n") != std::string::npos);
  auto at2 = done.out.find("  Waiting only on the clinician: ");
  REQUIRE(at2 != std::string::npos);
  CHECK(done.out.substr(at2, done.out.find('\n', at2) - at2).find("therapy.session_number") == std::string::npos);
}

TEST_CASE("ask next: a begun C-SSRS is finished before a follow-up another answer opened") {
  // From a clinician's trial: postpartum with Q1 yes, the question on
  // harming the baby came before Q2, which sets the tier; it now comes
  // right after the C-SSRS, before the screens not yet begun.
  scratch s;
  auto f = s.write("postpartum.toml", "[client]\nage_band = \"18_64\"\n[perinatal]\nstatus = \"postpartum\"\n"
                                      "[risk.cssrs]\nq1 = true\n");
  auto j = nlohmann::json::parse(run({"plan", f, "--format", "json"}).out);
  std::vector<std::string> order;
  for (const auto& a : j["ask_next"]) order.push_back(a["finding"]);
  REQUIRE(order.size() > 4);
  CHECK(order[0] == "risk.cssrs.q2");
  CHECK(order[1] == "risk.cssrs.q6");
  CHECK(order[2] == "perinatal.harm_infant_thoughts");
  CHECK(order[3] == "risk.self_harm.ever");
  // Nothing of the C-SSRS on file: the opened follow-up comes first, as an
  // interview follows up an answer at once.
  auto g = s.write("postpartum_only.toml", "[client]\nage_band = \"18_64\"\n[perinatal]\nstatus = \"postpartum\"\n");
  auto k = nlohmann::json::parse(run({"plan", g, "--format", "json"}).out);
  CHECK(k["ask_next"][0]["finding"] == "perinatal.harm_infant_thoughts");
}

TEST_CASE("why on a finding: what is on file, its question, and what the plan waits on it for") {
  // From a clinician's trial: a plan said the work "waits on"
  // perinatal.status, and `why perinatal.status` was a usage error.
  const std::string partial = "examples/first_interview_partial_dispute.toml";
  auto open = run({"why", "relationships[partner].expectations_reciprocal", partial});
  CHECK(open.code == 0);
  CHECK(open.out.rfind("relationships[partner].expectations_reciprocal is a finding of the inventory, not an item of "
                       "the plan: not recorded yet.\n  Question: Do the client and this person broadly agree on what "
                       "each expects of the other?\n  The plan waits on it: ask next ",
                       0) == 0);
  CHECK(open.out.find("the challenges role dispute (partner)") != std::string::npos);
  // Its place is the plan's own.
  auto plan = nlohmann::json::parse(run({"plan", partial, "--format", "json"}).out);
  std::size_t place = 0;
  for (std::size_t i = 0; i < plan["to_assess"].size(); ++i) {
    if (plan["to_assess"][i]["finding"] == "relationships[partner].expectations_reciprocal") place = i + 1;
  }
  REQUIRE(place > 0);
  CHECK(open.out.find("ask next " + std::to_string(place) + " of ") != std::string::npos);
  auto js = nlohmann::json::parse(run({"why-not", "relationships[partner].expectations_reciprocal", partial, "--format", "json"}).out);
  CHECK(js["finding"]["recorded"] == false);
  CHECK(js["finding"]["waited_on"]["list"] == "ask_next");
  CHECK(js["finding"]["waited_on"]["place"] == place);
  // Recorded: the value and where the file holds it; nothing waits on it.
  auto rec = run({"why", "phq9.total", "examples/jane.toml"});
  CHECK(rec.code == 0);
  CHECK(rec.out.rfind("phq9.total is a finding of the inventory, not an item of the plan: recorded, 14 "
                      "(examples/jane.toml:67).\n",
                      0) == 0);
  CHECK(rec.out.find("waits on it") == std::string::npos);
  // An entry the inventory does not have.
  auto none = run({"why", "relationships[uncle].conflict", "examples/jane.toml"});
  CHECK(none.code == 0);
  CHECK(none.out.find("the inventory has no entry 'uncle'") != std::string::npos);
  // A name that is neither a finding nor an item is still a usage error,
  // with the finding meant.
  auto typo = run({"why", "perinatl.status", "examples/jane.toml"});
  CHECK(typo.code == 2);
  CHECK(typo.err.find("did you mean 'perinatal.status'?") != std::string::npos);
}

TEST_CASE("why lists every item an id names, one per key") {
  scratch s;
  std::ifstream in("examples/jane.toml");
  std::stringstream text;
  text << in.rdbuf();
  std::string jane = text.str();
  // The mother becomes a second, overt dispute.
  auto at = jane.find("label = \"mother\"");
  REQUIRE(at != std::string::npos);
  auto conflict = jane.find("conflict = \"none\"", at);
  jane.replace(conflict, 17, "conflict = \"overt\"");
  auto recip = jane.find("expectations_reciprocal = true", at);
  jane.replace(recip, 30, "expectations_reciprocal = false");
  auto f = s.write("two.toml", jane);
  auto r = run({"why", "role_dispute", f});
  CHECK(r.code == 0);
  CHECK(r.out.find("role_dispute[mother] is in the plan as a challenge") != std::string::npos);
  CHECK(r.out.find("role_dispute[partner] is in the plan as a challenge") != std::string::npos);
  auto n = run({"why-not", "role_dispute[friend]", f});
  CHECK(n.out.find("=> did not fire") != std::string::npos);
  CHECK(n.out.find("was excluded") == std::string::npos);
}

TEST_CASE("one mistake gives one error: no cascade into the rules that depend on it") {
  scratch s;
  auto dir = s.rules_copy();
  SECTION("a syntax error in a rule that concludes facts others read") {
    std::ifstream in(dir + "/safety.rules");
    std::stringstream text;
    text << in.rdbuf();
    std::string rules = text.str();
    auto at = rules.find("rule risk_cssrs_high");
    auto then = rules.find("\nthen\n", at);
    rules.replace(then, 6, "\nthan\n");
    s.write("rules/safety.rules", rules);
    auto r = run({"check", dir});
    CHECK(r.code == 1);
    CHECK(r.err.find("error: expected 'then' but found 'than'") != std::string::npos);
    CHECK(r.err.find("1 error\n") != std::string::npos);
  }
  SECTION("a for each over a misspelt list") {
    s.write("rules/extra.rules",
            "rule extra \"x\"\n  source \"t\"\nfor each r in relationship\nwhen r.conflict == \"overt\" and r.confidant\n"
            "then\n  challenge c \"{r.label}\"\nbecause \"b\"\nend\n");
    auto r = run({"check", dir});
    CHECK(r.code == 1);
    CHECK(r.err.find("unknown list 'relationship'") != std::string::npos);
    CHECK(r.err.find("1 error\n") != std::string::npos);
  }
}

TEST_CASE("a misspelt keyword gets a suggestion, and its rule's parameters are not called unused") {
  scratch s;
  auto dir = s.rules_copy();
  std::ifstream in(dir + "/alliance.rules");
  std::stringstream text;
  text << in.rdbuf();
  std::string rules = text.str();
  auto at = rules.find("  challenge weak_relationship");
  REQUIRE(at != std::string::npos);
  rules.replace(at, 11, "  chalenge");
  s.write("rules/alliance.rules", rules);
  auto r = run({"check", dir});
  CHECK(r.code == 1);
  CHECK(r.err.find("but found 'chalenge' [parse.expected]") != std::string::npos);
  CHECK(r.err.find("note: did you mean 'challenge'?") != std::string::npos);
  CHECK(r.err.find("check.unused-parameter") == std::string::npos);
  CHECK(r.err.find("1 error\n") != std::string::npos);
}

// ---------------------------------------------------------------------------
// Hostile files: each of these crashed, hung or lost a file before.

TEST_CASE("hostile: only regular files are read, a pipe or device is an error, never a hang") {
  scratch s;
  auto fifo = (s.dir / "client.toml").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto r = run({"plan", fifo});
  CHECK(r.code == 1);
  CHECK(r.err.find(fifo + ": error: this is not a regular file") != std::string::npos);
  auto z = run({"plan", "/dev/zero"});
  CHECK(z.code == 1);
  CHECK(z.err.find("/dev/zero: error: this is not a regular file") != std::string::npos);
  auto link = (s.dir / "gone.toml").string();
  fs::create_symlink(s.dir / "nowhere.toml", link);
  auto l = run({"plan", link});
  CHECK(l.code == 1);
  CHECK(l.err.find("a link to a file that does not exist") != std::string::npos);
}

TEST_CASE("hostile: a file over the size limit is refused with its size") {
  scratch s;
  auto big = s.write("big.toml", std::string(17u * 1024 * 1024, '#'));
  auto r = run({"plan", big});
  CHECK(r.code == 1);
  CHECK(r.err.find(big + ": error: this file is 17825792 bytes; iptplan reads files of at most 16 MiB "
                         "(16777216 bytes)") != std::string::npos);
  // A few bytes over is over, and says so.
  auto just = s.write("just.toml", std::string(16u * 1024 * 1024 + 1, '#'));
  auto j = run({"plan", just});
  CHECK(j.code == 1);
  CHECK(j.err.find("this file is 16777217 bytes") != std::string::npos);
}

TEST_CASE("hostile: a rule file that is a dangling link, a pipe or a folder is an error, not skipped") {
  scratch s;
  auto rules = s.rules_copy();
  SECTION("dangling link") {
    fs::create_symlink(fs::path(rules) / "missing-target", fs::path(rules) / "extra.rules");
    auto r = run({"check", rules});
    CHECK(r.code == 1);
    CHECK(r.err.find("extra.rules: error: this is a link to a file that does not exist") != std::string::npos);
  }
  SECTION("pipe") {
    REQUIRE(::mkfifo((fs::path(rules) / "extra.rules").c_str(), 0600) == 0);
    auto r = run({"plan", "--rules", rules, "examples/jane.toml"});
    CHECK(r.code == 1);
    CHECK(r.err.find("extra.rules: error: this is not a regular file") != std::string::npos);
  }
  SECTION("folder") {
    fs::create_directories(fs::path(rules) / "extra.rules");
    auto r = run({"check", rules});
    CHECK(r.code == 1);
    CHECK(r.err.find("extra.rules: error: this is a folder, not a file") != std::string::npos);
  }
  SECTION("a name ending in .RULES") {
    std::ofstream(fs::path(rules) / "extra.RULES") << "rule x\nwhen phq9.total > 1\nthen\n  flag info x \"x\"\nend\n";
    auto r = run({"check", rules});
    CHECK(r.code == 1);
    CHECK(r.err.find("extra.RULES: error: a rule file's name ends in '.rules', in lower case; rename it to be read") !=
          std::string::npos);
  }
  SECTION("a rule file whose name holds a line break") {
    // From a hostile trial: plans name a rule's file beside its line, and
    // a line break in the name forged a line of the plan.
    std::ofstream(fs::path(rules) / "n\n  [CRITICAL] Forged  [x]\n.rules")
        << "rule x\nwhen phq9.total > 1\nthen\n  flag critical x \"x\"\nend\n";
    auto r = run({"check", rules});
    CHECK(r.code == 1);
    CHECK(r.err.find("n\\x0a  [CRITICAL] Forged  [x]\\x0a.rules: error: a rule file's name holds a control character") !=
          std::string::npos);
    auto p = run({"plan", "examples/jane.toml", "--rules", rules});
    CHECK(p.code != 0);
    CHECK(p.out.empty());
  }
  SECTION("a test case whose name ends in .TOML") {
    std::ofstream(fs::path(rules) / "tests" / "x.TOML") << "[expect]\nflags = [\"nope\"]\n[findings]\nphq9.total = 14\n";
    auto r = run({"test", rules});
    CHECK(r.code == 1);
    CHECK(r.err.find("x.TOML: error: a test case's name ends in '.toml', in lower case; rename it to be read") !=
          std::string::npos);
  }
  SECTION("a test case in a folder of tests/ is said, not skipped; findings files there are left alone") {
    // From a hostile trial: tests/sub/case.toml with a failing [expect] was
    // never run, and `test` said all passed.
    fs::create_directories(fs::path(rules) / "tests" / "sub");
    std::ofstream(fs::path(rules) / "tests" / "sub" / "case.toml") << "[expect]\nflags = [\"nope\"]\n[findings]\nphq9.total = 14\n";
    std::ofstream(fs::path(rules) / "tests" / "sub" / "client.toml") << "[phq9]\ntotal = 14\n";
    // However the table is written.
    std::ofstream(fs::path(rules) / "tests" / "sub" / "spaced.toml") << "[ expect ]\nflags = [\"nope\"]\n";
    std::ofstream(fs::path(rules) / "tests" / "sub" / "dotted.toml") << "expect.flags = [\"nope\"]\n";
    auto r = run({"test", rules});
    CHECK(r.code == 1);
    CHECK(r.err.find("case.toml: error: a test case in a folder of tests/ is not run") != std::string::npos);
    CHECK(r.err.find("spaced.toml: error: a test case in a folder of tests/ is not run") != std::string::npos);
    CHECK(r.err.find("dotted.toml: error: a test case in a folder of tests/ is not run") != std::string::npos);
    CHECK(r.err.find("client.toml") == std::string::npos);
  }
  SECTION("a rule file whose name is not valid UTF-8 is refused, not approved into an unreadable approval.toml") {
    std::ofstream(fs::path(rules) / "caf\xe9.rules") << "# nothing\n";
    auto r = run({"check", rules});
    CHECK(r.code == 1);
    CHECK(r.err.find(".rules: error: a rule file's name is not valid UTF-8 text; rename it to be read") !=
          std::string::npos);
  }
  SECTION("a rule file in a folder of the rule set") {
    // From a hostile trial: rules/extra/x.rules was left out in silence.
    fs::create_directories(fs::path(rules) / "extra");
    std::ofstream(fs::path(rules) / "extra" / "more.rules") << "rule x\nwhen phq9.total > 1\nthen\n  flag info x \"x\"\nend\n";
    std::ofstream(fs::path(rules) / "extra" / "notes.txt") << "notes\n";
    auto r = run({"check", rules});
    CHECK(r.code == 1);
    CHECK(r.err.find("extra/more.rules: error: a rule file in a folder of the rule set is not read: a rule set reads "
                     "the *.rules files at its top only; move it up beside ruleset.toml, or out of the rule set "
                     "[ruleset.read]") != std::string::npos);
    // A folder without rule files is the lead's own business.
    fs::remove(fs::path(rules) / "extra" / "more.rules");
    CHECK(run({"check", rules}).code == 0);
  }
  SECTION("more than 32 MiB of rule files in all") {
    // Three files of 11 MiB each (comments), each under the 16 MiB file limit.
    for (int i = 0; i < 3; ++i) {
      std::ofstream f(fs::path(rules) / ("big" + std::to_string(i) + ".rules"));
      std::string line = "# " + std::string(1021, 'x') + "\n";
      for (int k = 0; k < 11 * 1024; ++k) f << line;
    }
    auto r = run({"check", rules});
    CHECK(r.code == 1);
    CHECK(r.err.find("the rule set's files hold more than 32 MiB in all, the most iptplan reads") !=
          std::string::npos);
  }
}

TEST_CASE("hostile: control characters in file names and arguments reach the terminal escaped") {
  scratch s;
  auto dir = s.dir / "fd";
  fs::create_directories(dir);
  std::ofstream(dir / "\x1b]0;pwned\x07\x1b[31mx\nforged.rules") << "rule r1 \"t\"\nwhen phq9.total>1 then flag info f1 \"x\" end\n";
  for (const auto& r : {run({"fmt", "--check", dir.string()}), run({"plan", "--format", "\x1b[31m", "x"}),
                        run({"check", (s.dir / "no\x1b[2Jsuch").string()}),
                        run({"serve", "--listen", "\x1b[31m:1"})}) {
    CHECK(r.code != 0);
    CHECK(r.out.find('\x1b') == std::string::npos);
    CHECK(r.err.find('\x1b') == std::string::npos);
    CHECK(r.out.find('\x07') == std::string::npos);
  }
  auto listed = run({"fmt", "--check", dir.string()});
  CHECK(listed.out.find("\\x1b]0;pwned\\x07\\x1b[31mx\\x0aforged.rules") != std::string::npos);
}

TEST_CASE("hostile: -o never writes into the rule set, over a device or a pipe") {
  scratch s;
  auto rules = s.rules_copy();
  auto target = (fs::path(rules) / "safety.rules").string();
  std::string before;
  {
    std::ifstream in(target);
    std::ostringstream ss;
    ss << in.rdbuf();
    before = ss.str();
  }
  auto r = run({"plan", "--rules", rules, "examples/jane.toml", "-o", target});
  CHECK(r.code == 2);
  CHECK(r.err.find("is inside the rule set folder") != std::string::npos);
  std::ifstream in(target);
  std::ostringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str() == before);
  auto fresh = (fs::path(rules) / "new.md").string();
  CHECK(run({"plan", "--rules", rules, "examples/jane.toml", "-o", fresh}).code == 2);
  CHECK_FALSE(fs::exists(fresh));
  // Nor into another rule set than the one planning (from a hostile
  // trial: the default rules plan, -o names a file of a copy), nor over a
  // findings file or any other .rules or .toml.
  auto other = run({"plan", "examples/jane.toml", "-o", target});
  CHECK(other.code == 2);
  CHECK(other.err.find("is inside the rule set folder") != std::string::npos);
  auto deeper = (fs::path(rules) / "tests" / "clients" / "plan.md").string();
  CHECK(run({"plan", "examples/jane.toml", "-o", deeper}).code == 2);
  CHECK_FALSE(fs::exists(deeper));
  auto findings = s.write("client.toml", "[phq9]\ntotal = 4\n");
  auto over = run({"plan", "examples/jane.toml", "-o", findings});
  CHECK(over.code == 2);
  CHECK(over.err.find("a plan is never written over one") != std::string::npos);
  std::ifstream kept_in(findings);
  CHECK(std::string(std::istreambuf_iterator<char>(kept_in), {}) == "[phq9]\ntotal = 4\n");
  auto stray = s.write("notes.rules", "x");
  CHECK(run({"plan", "examples/jane.toml", "-o", stray}).code == 2);
  auto dev = run({"plan", "examples/jane.toml", "-o", "/dev/null"});
  CHECK(dev.code == 2);
  CHECK(dev.err.find("is not a regular file") != std::string::npos);
  auto fifo = (s.dir / "out.fifo").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(run({"plan", "examples/jane.toml", "-o", fifo}).code == 2);
  // A folder is refused as a device is: a usage error, exit 2.
  auto folder = run({"plan", "examples/jane.toml", "-o", s.dir.string()});
  CHECK(folder.code == 2);
  CHECK(folder.err.find("is a folder; give a file name") != std::string::npos);
  // Next to the rule set, not inside it, is fine.
  auto beside = (s.dir / "plan.md").string();
  CHECK(run({"plan", "--rules", rules, "examples/jane.toml", "-o", beside}).code == 0);
  CHECK(fs::exists(beside));
  // A rule-set file that is a link to a file kept outside the folder is
  // never read: a rule set is self-contained, and a file of the machine is
  // never quoted in its errors. A link inside the folder is read.
  auto kept = (s.dir / "vocabulary-kept.toml").string();
  fs::rename(fs::path(rules) / "vocabulary.toml", kept);
  std::ofstream(kept, std::ios::app) << "secret_line = 1 +\n";
  fs::create_symlink(kept, fs::path(rules) / "vocabulary.toml");
  auto linked = run({"check", rules});
  CHECK(linked.code == 1);
  CHECK(linked.err.find("vocabulary.toml: error: is a link that leads outside the rule set folder; a rule set is "
                        "self-contained: copy the file in instead [ruleset.read]") != std::string::npos);
  CHECK(linked.err.find("secret_line") == std::string::npos);
  CHECK(run({"plan", "--rules", rules, "examples/jane.toml"}).code == 1);
  fs::remove(fs::path(rules) / "vocabulary.toml");
  fs::rename(kept, fs::path(rules) / "vocabulary-real.toml");
  fs::resize_file(fs::path(rules) / "vocabulary-real.toml",
                  fs::file_size(fs::path(rules) / "vocabulary-real.toml") - std::string("secret_line = 1 +\n").size());
  fs::create_symlink("vocabulary-real.toml", fs::path(rules) / "vocabulary.toml");
  CHECK(run({"check", rules}).code == 0);
}

TEST_CASE("hostile: -o with --follow-symlinks checks the file at the end of the link too") {
  scratch s;
  auto rules = s.rules_copy();
  // A link to a findings file that is not among the ones planned: the
  // findings are kept.
  auto findings = s.write("other-client.toml", "[phq9]\ntotal = 4\n");
  auto to_findings = (s.dir / "plan.md").string();
  fs::create_symlink(findings, to_findings);
  auto r = run({"plan", "examples/jane.toml", "-o", to_findings, "--follow-symlinks"});
  CHECK(r.code == 2);
  CHECK(r.err.find("a plan is never written over one") != std::string::npos);
  std::ifstream kept(findings);
  CHECK(std::string(std::istreambuf_iterator<char>(kept), {}) == "[phq9]\ntotal = 4\n");
  // A link to a file inside a rule set, existing or not.
  auto to_rules = (s.dir / "into-rules.md").string();
  fs::create_symlink(fs::path(rules) / "notes.md", to_rules);
  auto into = run({"plan", "examples/jane.toml", "-o", to_rules, "--follow-symlinks"});
  CHECK(into.code == 2);
  CHECK(into.err.find("is inside the rule set folder") != std::string::npos);
  CHECK_FALSE(fs::exists(fs::path(rules) / "notes.md"));
  // A link to a plan elsewhere is written through.
  auto real = (s.dir / "real.md").string();
  auto to_real = (s.dir / "to-real.md").string();
  fs::create_symlink(real, to_real);
  CHECK(run({"plan", "examples/jane.toml", "-o", to_real, "--follow-symlinks"}).code == 0);
  CHECK(fs::is_regular_file(real));
  CHECK(fs::is_symlink(to_real));
}

TEST_CASE("hostile: -o never names a plan as a rule-set file, and a lone ruleset.toml does not make a rule set") {
  scratch s;
  for (const char* name : {"ruleset.toml", "vocabulary.toml", "plan.rules"}) {
    auto path = (s.dir / name).string();
    auto r = run({"plan", "examples/jane.toml", "-o", path});
    CHECK(r.code == 2);
    CHECK(r.err.find("is named as a file of a rule set") != std::string::npos);
    CHECK_FALSE(fs::exists(path));
  }
  // A ruleset.toml alone (no vocabulary, no rule file) in a folder above:
  // not a rule set, so the plan and the store may go below it.
  s.write("ruleset.toml", "name = \"stray\"\n");
  auto plan = (s.dir / "sub" / "plan.md").string();
  fs::create_directories(s.dir / "sub");
  CHECK(run({"plan", "examples/jane.toml", "-o", plan}).code == 0);
  CHECK(fs::exists(plan));
  // With a rule file beside it, it is one.
  s.write("a.rules", "");
  auto refused = run({"plan", "examples/jane.toml", "-o", (s.dir / "sub" / "plan2.md").string()});
  CHECK(refused.code == 2);
  CHECK(refused.err.find("is inside the rule set folder") != std::string::npos);
}

TEST_CASE("hostile: -o keeps JSON findings, caseloads and findings in capitals, and writes over its own JSON plans") {
  scratch s;
  const std::string findings_json = "{\"phq9\": {\"total\": 3}}\n";
  auto fj = s.write("client.json", findings_json);
  auto r = run({"plan", "examples/jane.toml", "-o", fj});
  CHECK(r.code == 2);
  CHECK(r.err.find("is a JSON file that is not a plan iptplan wrote") != std::string::npos);
  std::ifstream in(fj);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == findings_json);
  for (const char* name : {"caseload.jsonl", "up.TOML", "v.Toml"}) {
    auto f = s.write(name, "x = 1\n");
    CHECK(run({"plan", "examples/jane.toml", "-o", f}).code == 2);
  }
  CHECK(run({"plan", "examples/jane.toml", "-o", (s.dir / "x.RULES").string()}).code == 2);
  // A JSON plan written with -o is written over by the next run.
  auto plan = (s.dir / "plan.json").string();
  REQUIRE(run({"plan", "examples/jane.toml", "--format", "json", "-o", plan}).code == 0);
  CHECK(run({"plan", "examples/jane.toml", "--format", "json", "-o", plan}).code == 0);
  auto plans = (s.dir / "plans.json").string();
  REQUIRE(run({"plan", "examples/jane.toml", "examples/couple.toml", "--format", "json", "-o", plans}).code == 0);
  CHECK(run({"plan", "examples/jane.toml", "examples/couple.toml", "--format", "json", "-o", plans}).code == 0);
}

TEST_CASE("hostile: a file name with control characters is shown escaped in -o and --store messages") {
  scratch s;
  auto r = run({"plan", "examples/jane.toml", "-o", (s.dir / "no\x1b[2J" / "x.md").string()});
  CHECK(r.code != 0);
  CHECK(r.err.find('\x1b') == std::string::npos);
  CHECK(r.err.find("\\x1b[2J") != std::string::npos);
  auto db = (s.dir / "n\x1b[2J.db").string();
  auto rec = run({"plan", "examples/jane.toml", "--record", "--store", db, "--by", "a"});
  CHECK(rec.code == 0);
  CHECK(rec.err.find('\x1b') == std::string::npos);
  CHECK(rec.err.find("recorded as plan 1 in ") != std::string::npos);
}

TEST_CASE("hostile: --store never makes a database of a file with other names, and test --min-coverage nan is refused") {
  scratch s;
  auto rules = s.rules_copy();
  auto empty_rules = s.write("rules/empty2.rules", "");
  auto link = (s.dir / "h2.db").string();
  REQUIRE(::link(empty_rules.c_str(), link.c_str()) == 0);
  auto r = run({"plan", "examples/jane.toml", "--record", "--store", link, "--by", "a"});
  CHECK(r.code == 2);
  CHECK(r.err.find("is a file with other names (hard links) that is not a plan store") != std::string::npos);
  CHECK(fs::file_size(empty_rules) == 0);
  auto nan = run({"test", rules, "--min-coverage", "nan"});
  CHECK(nan.code == 2);
}

TEST_CASE("hostile: deep keys, long texts and long names give errors, never a stack overflow") {
  scratch s;
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += (i ? "." : "") + std::string("k") + std::to_string(i);
  auto r = run({"plan", s.write("deep.toml", deep + " = 1\n")});
  CHECK(r.code == 1);
  CHECK(r.err.find("this key has more than 100 dotted parts") != std::string::npos);
  auto label = run({"plan", s.write("label.toml", "[[relationships]]\nlabel = \"" + std::string(30000, 'a') +
                                                       "\"\nrole = \"partner\"\n")});
  CHECK(label.code == 1);
  CHECK(label.err.find("is 30000 bytes long; a text finding holds at most 200") != std::string::npos);
  CHECK(label.err.find("aaaaaaaaaa") == std::string::npos);
  auto rules = s.rules_copy();
  std::ofstream(fs::path(rules) / "broken.rules")
      << "rule " << std::string(30000, 'x') << " when then end\nrule b when" << std::string(100000, ' ')
      << "zz\n";
  auto c = run({"check", rules});
  CHECK(c.code == 1);
  CHECK(c.err.find("error: expected a condition but found 'then'") != std::string::npos);
  std::string vdeep = "[";
  for (int i = 0; i < 30000; ++i) vdeep += (i ? "." : "") + std::string("n") + std::to_string(i);
  std::ofstream(fs::path(rules) / "vocabulary.toml", std::ios::app) << "\n" << vdeep << "]\ntype = \"bool\"\n";
  auto v = run({"check", rules});
  CHECK(v.code == 1);
  CHECK(v.err.find("this key has more than 100 dotted parts") != std::string::npos);
}

TEST_CASE("hostile: control characters from a file never reach the terminal, and names are not echoed") {
  scratch s;
  auto f = s.write("esc.toml",
                   "[risk.cssrs]\n\"q\\u001b[31mX\" = true\n[client]\nage_band = \"Mary\\u0007\\u001b]0;x\\u0007 Smith\"\n"
                   "[[relationships]]\nlabel = \"mother\"\nrole = \"Johnny\"\n\"Anna Berg\" = true\n");
  auto r = run({"plan", f});
  CHECK(r.code == 1);
  CHECK(r.err.find('\x1b') == std::string::npos);
  CHECK(r.err.find('\x07') == std::string::npos);
  CHECK(r.err.find("esc.toml:2:1: error: a key (not shown: it does not look like a finding's name) is not "
                   "in the vocabulary") != std::string::npos);
  CHECK(r.err.find("'client.age_band' is not one of its choices") != std::string::npos);
  CHECK(r.err.find("Mary") == std::string::npos);
  CHECK(r.err.find("Smith") == std::string::npos);
  CHECK(r.err.find("Johnny") == std::string::npos);
  CHECK(r.err.find("Anna") == std::string::npos);
  // A name as a key, holding a name field or a date: refused without
  // repeating the key, in TOML and in a batch line.
  auto named = s.write("named.toml", "[client]\nid = \"C-1\"\n\"Mary Smith\" = { name = \"x\" }\n"
                                      "[\"Jane Doe\"]\nx = 1979-01-01\n");
  auto n = run({"plan", named});
  CHECK(n.code == 1);
  CHECK(n.err.find("named.toml:3:25: error: this key would hold identifying data") != std::string::npos);
  CHECK(n.err.find("named.toml:5:5: error: this key holds a date") != std::string::npos);
  CHECK(n.err.find("Mary") == std::string::npos);
  CHECK(n.err.find("Jane") == std::string::npos);
  auto b = run({"batch"}, "{\"client\":{\"id\":\"C-1\",\"Mary Smith\":{\"phone\":\"x\"}}}\n");
  CHECK(b.code == 1);
  CHECK(b.out.find("Mary") == std::string::npos);
  CHECK(b.err.find("Mary") == std::string::npos);
  // A raw escape byte inside a rule's text: refused by the checker, and
  // its message shows no raw byte either.
  auto rules = s.rules_copy();
  std::ofstream(fs::path(rules) / "extra.rules")
      << "rule bell \"Bell\"\n  source \"domain S1\"\nwhen\n  true\nthen\n  flag info bell \"ring\x07 \x1b[2J done\"\n"
         "because \"test\"\nend\n";
  auto p = run({"plan", "--rules", rules, "examples/jane.toml"});
  CHECK(p.code == 1);
  CHECK(p.out.empty());
  CHECK(p.err.find("[check.text-character]") != std::string::npos);
  CHECK(p.err.find('\x1b') == std::string::npos);
  CHECK(p.err.find('\x07') == std::string::npos);
}

TEST_CASE("hostile: a line break in a rule's text stays inside its item in every rendering") {
  scratch s;
  auto rules = s.rules_copy();
  // `\n` is a documented escape: the text goes on, indented under its item,
  // and can never start a line that reads as a flag or an item of its own.
  std::ofstream(fs::path(rules) / "extra.rules")
      << "rule forge \"Forge\"\n  source \"domain S1\"\nwhen\n  true\nthen\n"
         "  flag info forge \"one\\n[CRITICAL] two\\n- three\\n1. four\"\n"
         "because \"why one\\n  why two\"\nend\n";
  auto p = run({"plan", "--rules", rules, "examples/jane.toml"});
  CHECK(p.code == 0);
  CHECK(p.out.find("  [INFO] one\n         [CRITICAL] two\n         - three\n         1. four  [forge]\n"
                   "         why: why one\n                why two (rule forge, extra.rules:1)\n") != std::string::npos);
  CHECK(p.out.find("\n[CRITICAL]") == std::string::npos);
  auto md = run({"plan", "--rules", rules, "examples/jane.toml", "--format", "markdown"});
  CHECK(md.out.find("one  \n    \\[CRITICAL\\] two  \n    \\- three  \n    1\\. four") != std::string::npos);
  auto w = run({"why", "--rules", rules, "forge", "examples/jane.toml"});
  CHECK(w.code == 0);
  CHECK(w.out.find("flag: one\n  [CRITICAL] two\n") != std::string::npos);
  CHECK(w.out.find("because: why one\n               why two\n") != std::string::npos);
}

TEST_CASE("hostile: thousands of mistakes give the first fifty and a count, long lists are refused") {
  scratch s;
  std::string many;
  for (int i = 0; i < 100000; ++i) many += "unknown_key_" + std::to_string(i) + " = 1\n";
  auto r = run({"plan", s.write("many.toml", many)});
  CHECK(r.code == 1);
  CHECK(r.err.find("... and 99,950 more\n100000 errors\n") != std::string::npos);
  std::size_t shown = 0;
  for (std::size_t at = r.err.find("[findings.unknown]"); at != std::string::npos;
       at = r.err.find("[findings.unknown]", at + 1)) {
    ++shown;
  }
  CHECK(shown == 50);
  auto people = [&](int n) {
    std::string t;
    for (int i = 0; i < n; ++i) t += "[[relationships]]\nlabel = \"friend_" + std::to_string(i) + "\"\nrole = \"friend\"\n";
    return t;
  };
  auto at_limit = run({"plan", s.write("two_hundred.toml", people(200))});
  CHECK(at_limit.code == 0);
  auto over = run({"plan", s.write("two_hundred_one.toml", people(201))});
  CHECK(over.code == 1);
  CHECK(over.err.find("'relationships' has 201 entries; iptplan reads at most 200 [findings.size]") !=
        std::string::npos);
  auto huge = run({"plan", s.write("ten_thousand.toml", people(10000))});
  CHECK(huge.code == 1);
  CHECK(huge.err.find("has 10000 entries") != std::string::npos);
}

TEST_CASE("hostile: a test case names findings inside its rule set only, a copy of rules/ passes on its own") {
  scratch s;
  auto rules = s.rules_copy();
  // The copy carries the clients its cases name: every case passes there.
  auto ok = run({"test", rules});
  CHECK(ok.code == 0);
  CHECK(ok.out.find(" 0 failed") != std::string::npos);
  std::ofstream(fs::path(rules) / "tests" / "escape.toml")
      << "description = \"x\"\nfindings = \"../../../../../../../../etc/passwd\"\n";
  auto r = run({"test", rules});
  CHECK(r.code == 1);
  // Said once, at the 'findings' key's line and column.
  CHECK(r.err.find("escape.toml:2:12: error: the findings file '../../../../../../../../etc/passwd' is outside "
                   "the rule set folder") != std::string::npos);
  CHECK(r.err.find("cannot read the findings file") == std::string::npos);
  CHECK(r.err.find("root:") == std::string::npos);
  // An absolute path is outside too, not a file that "cannot be read".
  std::ofstream(fs::path(rules) / "tests" / "escape.toml", std::ios::trunc)
      << "description = \"x\"\nfindings = \"/etc/hostname\"\n";
  auto a = run({"test", rules});
  CHECK(a.code == 1);
  CHECK(a.err.find("escape.toml:2:12: error: the findings file '/etc/hostname' is outside the rule set folder") !=
        std::string::npos);
  // A link inside the folder that leads out of it is refused too.
  fs::create_symlink("/etc/passwd", fs::path(rules) / "tests" / "clients" / "link.toml");
  std::ofstream(fs::path(rules) / "tests" / "escape.toml", std::ios::trunc)
      << "description = \"x\"\nfindings = \"clients/link.toml\"\n";
  auto l = run({"test", rules});
  CHECK(l.code == 1);
  CHECK(l.err.find("is outside the rule set folder") != std::string::npos);
  CHECK(l.err.find("root:") == std::string::npos);
  // So is a test case that is itself a link to a file outside: from a
  // hostile trial, its lines (a secret) were quoted under a caret.
  scratch other;
  auto secret = other.write("secret.toml", "description = \"hunter2-SECRET\"\nnot_a_key = 1\n");
  fs::remove(fs::path(rules) / "tests" / "escape.toml");
  fs::create_symlink(secret, fs::path(rules) / "tests" / "linked_case.toml");
  auto linked = run({"test", rules});
  CHECK(linked.code == 1);
  CHECK(linked.err.find("linked_case.toml: error: is a link that leads outside the rule set folder") !=
        std::string::npos);
  CHECK(linked.err.find("hunter2") == std::string::npos);
  CHECK(linked.out.find("hunter2") == std::string::npos);
  fs::remove(fs::path(rules) / "tests" / "linked_case.toml");
  {
    // The tests folder itself a link to a folder elsewhere: one error,
    // naming the folder, not one for each case.
    scratch moved;
    auto rules2 = moved.rules_copy();
    fs::rename(fs::path(rules2) / "tests", moved.dir / "kept-tests");
    fs::create_symlink(moved.dir / "kept-tests", fs::path(rules2) / "tests");
    auto t = run({"test", rules2});
    CHECK(t.code == 1);
    CHECK(t.err.find("tests: error: is a link to a folder outside the rule set folder") != std::string::npos);
    CHECK(t.err.find("a test case is read only") == std::string::npos);
  }
  // A NUL in the name would cut it where the file is opened: another file
  // read, and the case passing. An error at the key instead.
  std::ofstream(fs::path(rules) / "tests" / "escape.toml", std::ios::trunc)
      << "description = \"x\"\nfindings = \"clients/jane.toml\\u0000x\"\n";
  auto nul = run({"test", rules});
  CHECK(nul.code == 1);
  CHECK(nul.err.find("escape.toml:2:12: error: the findings file's name has a control character (a NUL, a line "
                     "break); give the file's name as it is [test.findings]") != std::string::npos);
  CHECK(nul.out.find("PASS  escape") == std::string::npos);
}

TEST_CASE("hostile: a test case that is a pipe, a dangling link or a folder is an error, not skipped") {
  scratch s;
  auto rules = s.rules_copy();
  auto tests = fs::path(rules) / "tests";
  for (int kind = 0; kind < 3; ++kind) {
    INFO(kind);
    auto odd = tests / "zz_odd.toml";
    if (kind == 0) REQUIRE(mkfifo(odd.c_str(), 0600) == 0);
    if (kind == 1) fs::create_symlink(tests / "nothing_here.toml", odd);
    if (kind == 2) fs::create_directory(odd);
    auto r = run({"test", rules});
    CHECK(r.code == 1);
    CHECK(r.err.find("zz_odd.toml: error: ") != std::string::npos);
    CHECK(r.err.find("[test.read]") != std::string::npos);
    fs::remove(odd);
  }
}

TEST_CASE("test: an unknown key in a test case's findings is an error that suggests no option test lacks") {
  scratch s;
  auto rules = s.rules_copy();
  std::ofstream(fs::path(rules) / "tests" / "clients" / "typo.toml") << "[phq9]\ntotl = 12\n[zzz_unrelated]\nqqq = 1\n";
  std::ofstream(fs::path(rules) / "tests" / "typo.toml")
      << "description = \"a typo\"\nfindings = \"clients/typo.toml\"\n[expect]\nflags = []\n";
  auto r = run({"test", rules});
  CHECK(r.code == 1);
  CHECK(r.err.find("'phq9.totl' is not in the vocabulary") != std::string::npos);
  CHECK(r.err.find("did you mean 'phq9.total'?") != std::string::npos);
  CHECK(r.err.find("'zzz_unrelated.qqq' is not in the vocabulary") != std::string::npos);
  CHECK(r.err.find("--allow-unknown") == std::string::npos);
}

TEST_CASE("hostile: markdown in a rule's text is shown as written, not as formatting") {
  scratch s;
  auto rules = s.rules_copy();
  std::ofstream(fs::path(rules) / "extra.rules")
      << "rule md \"Markdown\"\n  source \"domain S1\"\nwhen\n  true\nthen\n"
         "  flag info md_text \"*bold* [link](http://x) <b>tag</b> # not a heading | cell &lt;\"\n"
         "because \"test\"\nend\n";
  auto r = run({"plan", "--rules", rules, "examples/jane.toml", "--format", "markdown"});
  CHECK(r.code == 0);
  CHECK(r.out.find("\\*bold\\* \\[link\\](http://x) \\<b\\>tag\\</b\\> \\# not a heading \\| cell \\&lt;") !=
        std::string::npos);
  CHECK(r.out.find("*bold*") == std::string::npos);
}

TEST_CASE("plan with several files writes them one after another, and an error in any writes nothing") {
  const std::string jane = "examples/jane.toml", couple = "examples/couple.toml";
  auto two = run({"plan", jane, couple, "--format", "json"});
  REQUIRE(two.code == 0);
  auto arr = nlohmann::json::parse(two.out);
  REQUIRE(arr.is_array());
  REQUIRE(arr.size() == 2);
  CHECK(arr[0] == nlohmann::json::parse(run({"plan", jane, "--format", "json"}).out));
  CHECK(arr[1] == nlohmann::json::parse(run({"plan", couple, "--format", "json"}).out));
  auto text = run({"plan", jane, couple});
  CHECK(text.out == run({"plan", jane}).out + "\n" + std::string(72, '=') + "\n\n" + run({"plan", couple}).out);

  scratch s;
  auto bad = s.write("bad.toml", "[phq9]\ntotal = 99\n");
  for (const auto& fmt : {"text", "json", "markdown"}) {
    auto r = run({"plan", jane, couple, bad, "--format", fmt});
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    auto out = (s.dir / "plans.out").string();
    auto o = run({"plan", jane, bad, "-o", out, "--format", fmt});
    CHECK(o.code == 1);
    CHECK_FALSE(fs::exists(out));
    CHECK(o.err.find("nothing was written to") != std::string::npos);
  }
  // Standard input among files is read once.
  std::ifstream in("examples/couple.toml");
  std::stringstream couple_text;
  couple_text << in.rdbuf();
  auto piped = run({"plan", jane, "-", "--format", "json"}, couple_text.str());
  CHECK(piped.code == 0);
  CHECK(nlohmann::json::parse(piped.out).size() == 2);
}

TEST_CASE("two deaths recorded only as life events: each grief challenge says which death it is") {
  scratch s;
  auto f = s.write("deaths.toml",
                   "[[relationships]]\nlabel = \"partner\"\nrole = \"partner\"\ndeceased = false\n\n"
                   "[[life_events]]\ntype = \"death\"\nmonths_before_onset = 2\n\n"
                   "[[life_events]]\ntype = \"death\"\nmonths_before_onset = 5\n");
  auto r = run({"plan", f, "--format", "json"});
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(r.out);
  std::map<std::string, std::string> grief;
  for (const auto* group : {&j["challenges"], &j["provisional"]}) {
    for (const auto& c : *group) {
      if (c["base_id"] == "grief") grief[c["id"]] = c["text"];
    }
  }
  REQUIRE(grief.size() == 2);
  CHECK(grief["grief[1]"].find("(months from the death to the onset: 2)") != std::string::npos);
  CHECK(grief["grief[2]"].find("(months from the death to the onset: 5)") != std::string::npos);
}

TEST_CASE("the default rules date their goals, and a date before this session is shown as passed") {
  // Session 8 of 16: the session-6 target of the transition has passed;
  // the targets of the final session have not. The plan review recurs: it
  // has no date of its own.
  auto r = run({"plan", "examples/strong_alliance_short_plan.toml", "--format", "json"});
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["current_session"] == 8);
  std::map<std::string, nlohmann::json> goals;
  for (const auto& g : j["goals"]) goals[g["base_id"]] = g;
  REQUIRE(goals.count("old_role_mourned"));
  CHECK(goals["old_role_mourned"]["due_session"] == 6);
  CHECK(goals["old_role_mourned"]["due_passed"] == true);
  REQUIRE(goals.count("maintenance_discussed"));
  CHECK(goals["maintenance_discussed"]["due_session"] == 16);
  CHECK(goals["maintenance_discussed"]["due_passed"] == false);
  REQUIRE(goals.count("plan_review"));
  CHECK(goals["plan_review"]["due_session"].is_null());
  auto text = run({"plan", "examples/strong_alliance_short_plan.toml"});
  CHECK(text.out.find("including feelings about the old role. (session 6 has passed)") != std::string::npos);
  // What to do about it, said once for the plan.
  const std::string note = "Note: Items marked '(session N has passed)' are dated to a session already held: record "
                           "whether each was met, and if not, set a new session for it.\n";
  CHECK(text.out.find(note) != std::string::npos);
  CHECK(text.out.find(note) == text.out.rfind(note));
  // why says the date, and that it has passed.
  auto why = run({"why", "old_role_mourned", "examples/strong_alliance_short_plan.toml"});
  CHECK(why.out.find("  due: by session 6, which has passed: record whether it was met, and if not, set a new "
                     "session\n") != std::string::npos);
  // Jane is at session 2: nothing has passed, and her emotion goals read
  // in date order (session 6 before session 8).
  auto jane = run({"plan", "examples/jane.toml"});
  CHECK(jane.out.find("has passed") == std::string::npos);
  CHECK(jane.out.find("Note: ") == std::string::npos);
  auto named = jane.out.find("By session 6, the client names the feeling");
  auto told = jane.out.find("By session 8, the client has told the partner");
  REQUIRE(named != std::string::npos);
  REQUIRE(told != std::string::npos);
  CHECK(named < told);
}

TEST_CASE("a dotted key of 100,000 parts in any TOML file is an error with its place, never a crash") {
  scratch s;
  std::string key = "a";
  for (int i = 0; i < 100000; ++i) key += ".b";
  auto f = s.write("deep.toml", key + " = 1\n");
  auto p = run({"plan", f});
  CHECK(p.code == 1);
  CHECK(p.out.empty());
  CHECK(p.err.find(f + ":1:200: error: this key has more than 100 dotted parts") != std::string::npos);
  auto b = run({"batch", f});
  CHECK(b.code == 1);
  CHECK(b.out.find("this key has more than 100 dotted parts") != std::string::npos);
  auto dir = s.rules_copy();
  {
    std::ofstream(dir + "/vocabulary.toml", std::ios::app) << "\n" << key << " = 1\n";
  }
  auto c = run({"check", dir});
  CHECK(c.code == 1);
  CHECK(c.err.find("vocabulary.toml:") != std::string::npos);
  CHECK(c.err.find("this key has more than 100 dotted parts") != std::string::npos);
}

TEST_CASE("a findings file with 20,000 unknown keys: 50 errors shown, the true count of the rest and of all") {
  scratch s;
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "k" + std::to_string(i) + " = 1\n";
  auto f = s.write("many.toml", text);
  auto r = run({"plan", f});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("... and 19,950 more\n20000 errors\n") != std::string::npos);
  auto j = run({"plan", "--format", "json", f});
  CHECK(j.code == 1);
}

TEST_CASE("test: a test case's names and values never forge a line or echo a value") {
  scratch s;
  auto dir = s.rules_copy();
  s.write("rules/tests/zz_forged.toml",
          "description = \"x\"\nfindings = \"clients/jane.toml\"\n[expect]\nflags = [\"\\u001b[31mRED\\n  PASS  fake\", \"" +
              std::string(5000, 'q') + "\"]\n");
  auto r = run({"test", dir});
  CHECK(r.code == 1);
  CHECK(r.out.find('\x1b') == std::string::npos);
  CHECK(r.out.find("\n  PASS  fake") == std::string::npos);
  CHECK(r.out.find("\\x1b[31mRED\\x0a  PASS  fake") != std::string::npos);
  CHECK(r.out.find(std::string(200, 'q')) == std::string::npos);
  CHECK(r.out.find("... (5000 bytes)") != std::string::npos);
  s.write("rules/tests/zz_forged.toml",
          "description = \"x\"\n\"Mary Smith\" = 1\n[findings]\nclient.id = \"C-0001\"\nclient.id = \"Mary Smith\"\n");
  auto v = run({"test", dir});
  CHECK(v.code == 1);
  CHECK((v.out + v.err).find("Mary") == std::string::npos);
  CHECK(v.err.find("zz_forged.toml:5:13: error: this is not valid TOML") != std::string::npos);
  s.write("rules/tests/zz_forged.toml",
          "description = \"x\"\n\"Mary Smith\" = 1\nfindings = \"clients/jane.toml\"\n");
  auto k = run({"test", dir});
  CHECK(k.code == 1);
  CHECK((k.out + k.err).find("Mary") == std::string::npos);
  CHECK(k.err.find("an unknown key; a test case has description, findings, [expect] and [absent]") !=
        std::string::npos);
}

TEST_CASE("ask next: on a tie, the answer that confirms the challenges to confirm comes before one about what might be") {
  scratch s;
  auto f = s.write("teen.toml",
                   "[client]\nage_band = \"12_17\"\n[therapy]\nphase = \"initial\"\nsession_number = 1\n"
                   "[phq9]\ntotal = 15\n[risk.self_harm]\never = true\n"
                   "[[relationships]]\nlabel = \"mother\"\nrole = \"parent\"\nconflict = \"overt\"\n"
                   "dispute_stage = \"impasse\"\n"
                   "[[relationships]]\nlabel = \"father\"\nrole = \"parent\"\ncontact = \"monthly\"\n");
  auto j = nlohmann::json::parse(run({"plan", f, "--format", "json"}).out);
  std::vector<std::string> order;
  for (const auto& a : j["to_assess"]) order.push_back(a["finding"]);
  auto at = [&](const std::string& x) { return std::find(order.begin(), order.end(), x) - order.begin(); };
  REQUIRE(at("relationships[mother].expectations_reciprocal") < static_cast<long>(order.size()));
  REQUIRE(at("relationships[father].conflict") < static_cast<long>(order.size()));
  // The same score: the mother's answer settles the dispute to confirm.
  CHECK(j["to_assess"][at("relationships[mother].expectations_reciprocal")]["score"] ==
        j["to_assess"][at("relationships[father].conflict")]["score"]);
  CHECK(at("relationships[mother].expectations_reciprocal") < at("relationships[father].conflict"));
}

TEST_CASE("ask next completes a screen the client has started, even once the highest tier is reached") {
  scratch s;
  auto f = s.write("q4.toml", "[client]\nage_band = \"18_64\"\n[risk.cssrs]\nq1 = true\nq2 = true\nq3 = true\nq4 = true\n");
  auto j = nlohmann::json::parse(run({"plan", f, "--format", "json"}).out);
  std::map<std::string, nlohmann::json> by;
  std::vector<std::string> order;
  for (const auto& a : j["to_assess"]) {
    by[a["finding"]] = a;
    order.push_back(a["finding"]);
  }
  REQUIRE(by.count("risk.cssrs.q5"));
  REQUIRE(by.count("risk.cssrs.q6"));
  CHECK(by["risk.cssrs.q5"]["completes"] == "risk.cssrs");
  CHECK(by["risk.cssrs.q5"]["safety"] == true);
  CHECK(by["risk.cssrs.q5"]["decides"].empty());
  CHECK(order[0] == "risk.cssrs.q5");  // a follow-up of Q2, first
  CHECK(order[1] == "risk.cssrs.q6");
  // The 3-month question waits for a yes to Q6.
  CHECK_FALSE(by.count("risk.cssrs.q6_past3m"));
  auto text = run({"plan", f});
  CHECK(text.out.find("  1. risk.cssrs.q5: ") != std::string::npos);
  CHECK(text.out.find("     completes the risk.cssrs screen (nothing else in this plan waits on it)\n") !=
        std::string::npos);
  // A screen not started is asked for by the rules that wait on it, as before.
  auto empty = nlohmann::json::parse(run({"plan", "examples/empty.toml", "--format", "json"}).out);
  for (const auto& a : empty["to_assess"]) {
    CHECK(a["completes"].is_null());
    CHECK(a["until_answered"].is_null());
  }
}

TEST_CASE("ask next: a follow-up the rules read the safe way while missing says what they take meanwhile") {
  // Harm reported, who it is not yet asked: the rules take a partner and a
  // parent as possibly the one (the vocabulary's until_answered), so no
  // rule waits on the answer, and the plan says what it assumes instead of
  // "nothing else waits on it".
  scratch s;
  auto f = s.write("harm.toml", "[client]\nage_band = \"18_64\"\n[risk]\nharmed_by_others = true\n");
  auto j = nlohmann::json::parse(run({"plan", f, "--format", "json"}).out);
  nlohmann::json who;
  for (const auto& a : j["to_assess"]) {
    if (a["finding"] == "risk.harmed_by") who = a;
  }
  REQUIRE(who.is_object());
  CHECK(who["decides"].empty());
  CHECK(who["safety"] == true);
  CHECK(who["until_answered"] == "a partner and a parent, carer or other family member are all taken as possibly the one causing harm");
  auto text = run({"plan", f});
  CHECK(text.out.find("     completes the risk screen (until it is answered, a partner and a parent, carer or other "
                      "family member are all taken as possibly the one causing harm)\n") != std::string::npos);
  auto md = run({"plan", f, "--format", "markdown"});
  CHECK(md.out.find("   Completes the `risk` screen (until it is answered, a partner and a parent, carer or other "
                    "family member are all taken as possibly the one causing harm)\n") != std::string::npos);
  // Answered, it is no longer asked, and the partner is no longer assumed.
  auto g = s.write("harm2.toml",
                   "[client]\nage_band = \"18_64\"\n[risk]\nharmed_by_others = true\nharmed_by = [\"parent\"]\n");
  auto k = nlohmann::json::parse(run({"plan", g, "--format", "json"}).out);
  for (const auto& a : k["to_assess"]) CHECK(a["finding"] != "risk.harmed_by");
  bool partner = false, parent = false;
  for (const auto& c : k["conclusions"]) {
    partner = partner || c["fact"] == "risk.partner_may_harm";
    parent = parent || c["fact"] == "risk.parent_may_harm";
  }
  CHECK_FALSE(partner);
  CHECK(parent);
}

TEST_CASE("test: a case with thousands of failed expectations reports 200 lines and counts the rest") {
  scratch s;
  auto dir = s.rules_copy();
  std::string names;
  for (int i = 0; i < 3000; ++i) names += (i ? ", \"x" : "\"x") + std::to_string(i) + "\"";
  s.write("rules/tests/zz_many.toml",
          "description = \"x\"\nfindings = \"clients/jane.toml\"\n[expect]\nflags = [" + names + "]\n");
  auto r = run({"test", dir});
  CHECK(r.code == 1);
  CHECK(r.out.find("  ... and ") != std::string::npos);
  CHECK(r.out.find(" more lines\n") != std::string::npos);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') < 450);
}

TEST_CASE("test: an error in a case's [findings] table names the case file's own line and column") {
  scratch s;
  auto dir = s.rules_copy();
  auto file = s.write("rules/tests/zz_inline.toml",
                      "# a case\ndescription = \"x\"\n\n[expect]\nflags = []\n\n[findings]\nclient.age_band = \"18_64\"\n"
                      "\n[[findings.relationships]]\nlabel = \"boss\"\nrole = \"colleague\"\n");
  auto r = run({"test", dir});
  CHECK(r.code == 1);
  CHECK(r.err.find(file + ":12:8: error: 'relationships[1].role' is not one of its choices") != std::string::npos);
  // Written as an inline table, it is read from a copy, named as such.
  s.write("rules/tests/zz_inline.toml",
          "description = \"x\"\nfindings = { client = { age_band = \"18_64\" }, phq9 = { totl = 3 } }\n");
  auto c = run({"test", dir});
  CHECK(c.code == 1);
  CHECK(c.err.find("zz_inline.toml [findings]:") != std::string::npos);
  CHECK(c.err.find("'phq9.totl' is not in the vocabulary") != std::string::npos);
}

TEST_CASE("a list behind a gate recorded empty while the gate holds is a contradiction: who harms, after a yes to harm") {
  // From a clinician's re-trial: harmed_by = [] after a yes was read as
  // "nobody", and nothing was set aside.
  scratch s;
  auto f = s.write("empty.toml", "[risk]\nharmed_by_others = true\nharmed_by = []\n");
  auto r = run({"plan", f});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("empty.toml:3:1: error: 'risk.harmed_by' is recorded empty, but the answer to "
                   "'risk.harmed_by_others' (line 2) is true, which this question follows up "
                   "[findings.contradiction]") != std::string::npos);
  // Left out, it is not yet asked: a plan, with the question asked next.
  auto open = s.write("open.toml", "[risk]\nharmed_by_others = true\n");
  auto o = run({"plan", open});
  CHECK(o.code == 0);
  CHECK(o.out.find("risk.harmed_by") != std::string::npos);
  // A vocabulary that puts not_empty anywhere but on a gated list is refused.
  auto rules = s.rules_copy();
  std::string voc = fs::path(rules) / "vocabulary.toml";
  std::ifstream in(voc);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  auto at = text.find("\n[phq9.total]\n");
  REQUIRE(at != std::string::npos);
  text.insert(text.find('\n', at + 1) + 1, "not_empty = true\n");
  std::ofstream(voc, std::ios::trunc) << text;
  auto bad = run({"check", rules});
  CHECK(bad.code == 1);
  CHECK(bad.err.find("'not_empty' of 'phq9.total' must be true or false, on a list finding with 'asked_if'") !=
        std::string::npos);
}

TEST_CASE("a plan past 20000 items is an error of the rule set: nothing shown, exit 1, batch lists none") {
  scratch s;
  auto dir = s.rules_copy();
  // Two rules of 100 goals each, over 101 people: 20,200 items.
  std::string rules;
  for (int r = 0; r < 2; ++r) {
    rules += "rule many_" + std::to_string(r) + " \"Many\"\n  source \"domain I11\"\nfor each p in relationships\nwhen\n"
             "  p.closeness >= 1\nthen\n";
    for (int g = 0; g < 100; ++g) rules += "  goal g" + std::to_string(r) + "_" + std::to_string(g) + " \"x\"\n";
    rules += "because \"b\"\nend\n";
  }
  std::ofstream(fs::path(dir) / "many.rules") << rules;
  std::string findings = "[client]\nage_band = \"18_64\"\n";
  auto label = [](int i) {
    std::string l = "friend_";
    for (int k = 0; k < 2; ++k, i /= 26) l += static_cast<char>('a' + i % 26);
    return l;
  };
  for (int i = 0; i < 101; ++i) findings += "[[relationships]]\nlabel = \"" + label(i) + "\"\ncloseness = 1\n";
  auto f = s.write("many.toml", findings);
  for (const char* format : {"text", "markdown", "json"}) {
    INFO(format);
    auto r = run({"plan", "--rules", dir, "--format", format, f});
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    // 20,200 and the default rules' own.
    CHECK(r.err.find("error: the rules propose 2") != std::string::npos);
    CHECK(r.err.find(" items for this client; a plan holds at most 20000, so none is shown [plan.too-large]") !=
          std::string::npos);
  }
  auto b = run({"batch", "--rules", dir, f});
  CHECK(b.code == 1);
  CHECK(b.out.find("\"items\":[]") != std::string::npos);
  CHECK(b.out.find("\"code\":\"plan.too-large\"") != std::string::npos);
  // Every other command that plans says so too (from a hostile trial:
  // why-not said the flag was not in the plan, diff counted items removed,
  // a test case's [absent] passed).
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"why-not", "--rules", dir, "severe_suicide_risk", f},
        std::vector<std::string>{"why", "--rules", dir, "g0_0[friend_aa]", f},
        std::vector<std::string>{"plan", "--rules", dir, "--record", "--store", (s.dir / "s.db").string(), f}}) {
    INFO(args[0]);
    auto r = run(args);
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(r.err.find("so none is shown [plan.too-large]") != std::string::npos);
  }
  auto d = run({"diff", std::string(IPTPLAN_SOURCE_DIR) + "/rules", dir, f});
  CHECK(d.out.find("so none is shown") != std::string::npos);
  CHECK(d.out.find("0 of 1 case changes: 0 items added, 0 removed, 0 changed; 1 case cannot be planned") !=
        std::string::npos);
  std::string tcase = "description = \"crowd\"\n[absent]\nflags = [\"severe_suicide_risk\"]\n[findings]\n"
                      "client.id = \"T-0001\"\n";
  for (int i = 0; i < 101; ++i) tcase += "[[findings.relationships]]\nlabel = \"" + label(i) + "\"\ncloseness = 1\n";
  std::ofstream(fs::path(dir) / "tests" / "crowd.toml") << tcase;
  auto t = run({"test", dir});
  CHECK(t.code == 1);
  CHECK(t.out.find("FAIL  crowd") != std::string::npos);
  CHECK(t.out.find("the plan could not be made: the rules propose") != std::string::npos);
  // Half as many people: a plan.
  std::string fewer = findings.substr(0, findings.find("[[relationships]]\nlabel = \"" + label(50) + "\""));
  auto g = s.write("fewer.toml", fewer);
  auto ok = run({"plan", "--rules", dir, "--format", "json", g});
  CHECK(ok.err.find("plan.too-large") == std::string::npos);
  CHECK_FALSE(ok.out.empty());
}

TEST_CASE("test: an id keyed by no entry of the findings fails with a suggestion, however it is listed") {
  // From a lead's trial: [absent] challenges = ["role_dispute[parnter]"]
  // passed for ever, since no plan can hold it.
  scratch s;
  auto dir = s.rules_copy();
  s.write("rules/tests/zz_keys.toml",
          "description = \"x\"\nfindings = \"clients/jane.toml\"\n[expect]\nchallenges = [\"role_dispute[partner]\"]\n"
          "to_assess = [\"relationships[partnr].conflict\"]\n[absent]\nchallenges = [\"role_dispute[parnter]\"]\n");
  auto r = run({"test", dir});
  CHECK(r.code == 1);
  CHECK(r.out.find("FAIL  zz_keys") != std::string::npos);
  CHECK(r.out.find("  [absent] challenges names 'role_dispute[parnter]', but no entry of the findings has the key "
                   "'parnter'; did you mean 'partner'?\n") != std::string::npos);
  CHECK(r.out.find("  [expect] to_assess names 'relationships[partnr].conflict', but no entry of the findings has "
                   "the key 'partnr'; did you mean 'partner'?\n") != std::string::npos);
  // The key of an entry on file is accepted, under [absent] too.
  s.write("rules/tests/zz_keys.toml",
          "description = \"x\"\nfindings = \"clients/jane.toml\"\n[absent]\nchallenges = [\"grief[partner]\"]\n");
  CHECK(run({"test", dir}).code == 0);
}

TEST_CASE("test: a flag can be expected with its severity, and another severity fails and says which") {
  scratch s;
  auto dir = s.rules_copy();
  s.write("rules/tests/zz_severity.toml",
          "description = \"x\"\nfindings = \"clients/risk_high.toml\"\n[expect]\n"
          "flags = [\"severe_suicide_risk = critical\"]\n");
  CHECK(run({"test", dir}).code == 0);
  s.write("rules/tests/zz_severity.toml",
          "description = \"x\"\nfindings = \"clients/risk_high.toml\"\n[expect]\n"
          "flags = [\"severe_suicide_risk = warning\"]\n[absent]\nflags = [\"severe_suicide_risk = critical\"]\n");
  auto r = run({"test", dir});
  CHECK(r.code == 1);
  CHECK(r.out.find("  expected flag severe_suicide_risk = warning; the plan holds severe_suicide_risk\n"
                   "      severe_suicide_risk is in the plan as critical\n") != std::string::npos);
  CHECK(r.out.find("  expected no flag severe_suicide_risk = critical, but the plan holds it\n") != std::string::npos);
  s.write("rules/tests/zz_severity.toml",
          "description = \"x\"\nfindings = \"clients/risk_high.toml\"\n[expect]\n"
          "flags = [\"severe_suicide_risk = severe\"]\n");
  auto bad = run({"test", dir});
  CHECK(bad.code == 1);
  CHECK(bad.out.find("  [expect] flags gives 'severe_suicide_risk' the severity 'severe'; a flag's severity is info, "
                     "warning or critical\n") != std::string::npos);
}

TEST_CASE("a label that is a name in lower case, or holds no word for a relationship, is refused and not echoed") {
  scratch s;
  for (const char* label : {"mary_smith", "john", "p_1", "jsmith"}) {
    INFO(label);
    auto f = s.write("name.toml", std::string("[[relationships]]\nlabel = \"") + label + "\"\nrole = \"friend\"\n");
    auto r = run({"plan", f});
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(r.err.find("name.toml:2:9: error: 'relationships[1].label' does not have the form the vocabulary asks "
                     "for: lower-case words joined by underscores, one of them a relationship word") !=
          std::string::npos);
    CHECK(r.err.find(label) == std::string::npos);
  }
  // Role words before or after others, as clinicians write them.
  for (const char* label : {"sister_older", "older_sister", "late_husband", "friend_school", "mother_in_law",
                            "former_partner", "twin_1", "loved_one", "team_member", "neighbour"}) {
    INFO(label);
    auto f = s.write("ok.toml", std::string("[[relationships]]\nlabel = \"") + label + "\"\nrole = \"friend\"\n");
    CHECK(run({"plan", f}).code == 0);
  }
  // A death's person without an inventory: the same form is asked for.
  auto e = s.write("event.toml", "[[life_events]]\ntype = \"death\"\nperson = \"john\"\n");
  auto r = run({"plan", e});
  CHECK(r.code == 1);
  CHECK(r.err.find("event.toml:3:10: error: 'life_events[1].person' does not have the form the vocabulary asks "
                   "for") != std::string::npos);
  CHECK(r.err.find("john") == std::string::npos);
}

TEST_CASE("hostile: a rule file of thousands of mistakes keeps the first and counts the rest") {
  scratch s;
  auto dir = s.rules_copy();
  std::string junk;
  for (int i = 0; i < 20000; ++i) junk += "rule\n";
  std::ofstream(fs::path(dir) / "junk.rules") << junk;
  auto r = run({"check", dir});
  CHECK(r.code == 1);
  CHECK(r.err.find("junk.rules:2:1: error: expected a name but found 'rule' [parse.expected]") != std::string::npos);
  CHECK(r.err.find("... and 19,950 more\n20000 errors\n") != std::string::npos);
}

TEST_CASE("hostile: a rule id or item id of thousands of characters is an error, not repeated") {
  scratch s;
  auto dir = s.rules_copy();
  const std::string id(20000, 'x');
  std::ofstream(fs::path(dir) / "long.rules")
      << "rule " << id << " \"Long\"\n  source \"domain I11\"\nwhen\n  phq9.total >= 0\nthen\n  flag info " << id
      << " \"x\"\nbecause \"b\"\nend\n";
  auto r = run({"check", dir});
  CHECK(r.code == 1);
  CHECK(r.err.find("long.rules:1:1: error: the rule id is 20000 characters long; it has at most 64 "
                   "[check.name-too-long]") != std::string::npos);
  CHECK(r.err.find("the item id is 20000 characters long") != std::string::npos);
  CHECK(r.err.find(id.substr(0, 200)) == std::string::npos);
  // 64 is accepted.
  std::ofstream(fs::path(dir) / "long.rules", std::ios::trunc)
      << "rule " << std::string(64, 'y') << " \"Long\"\n  source \"domain I11\"\nwhen\n  phq9.total >= 0\nthen\n"
      << "  flag info " << std::string(64, 'z') << " \"x\"\nbecause \"b\"\nend\n";
  CHECK(run({"check", dir}).err.find("check.name-too-long") == std::string::npos);
}

TEST_CASE("hostile: a rule text with an escape sequence or a reordering character is a check error") {
  scratch s;
  for (const std::string& bad : {std::string("Weak \x1b[2K bond"), std::string("Weak \xE2\x80\xAE bond"),
                                 std::string("Weak \xC2\x9B bond")}) {
    auto dir = s.rules_copy();
    std::ofstream(fs::path(dir) / "texts.rules")
        << "rule texts \"" << bad << "\"\n  source \"domain I11\"\nwhen\n  phq9.total >= 0\nthen\n  flag info texts_flag \""
        << bad << "\"\nbecause \"b\"\nend\n";
    auto r = run({"check", dir});
    CHECK(r.code == 1);
    CHECK(r.err.find("texts.rules:1:12: error: a text holds ") != std::string::npos);
    CHECK(r.err.find("[check.text-character]") != std::string::npos);
    CHECK(r.err.find("\x1b") == std::string::npos);
    fs::remove_all(dir);
  }
}

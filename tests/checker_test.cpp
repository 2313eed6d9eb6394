// Tests of the checker: every check error code, with its position, message
// and suggestions, on small in-memory rule sets; and that every problem of a
// rule set is reported at once.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/compile.hpp"
#include "engine/ruleset.hpp"
#include "grammar/diagnostic.hpp"
#include "support.hpp"

using namespace iptplan;
using namespace iptplan::test_support;

namespace {

const char* const VOCAB = R"(
[a]
type = "bool"

[b]
type = "bool"

[score]
type = "int"
min = 0
max = 27

[ratio]
type = "number"

[level]
type = "enum"
values = ["low", "medium", "high"]

[note]
type = "string"

[client.presenting]
type = "list"
of = "enum"
values = ["depression", "anxiety", "grief"]

[relationships]
type = "table_list"
key = "label"

[relationships.fields.label]
type = "string"

[relationships.fields.conflict]
type = "enum"
values = ["none", "covert", "overt"]

[relationships.fields.close]
type = "bool"
)";

struct loaded {
  std::optional<rule_set> rs;
  std::vector<diagnostic> diags;
};

// Builds an in-memory rule set; `rules` are (base name, text) of *.rules files.
loaded load_files(const std::vector<std::pair<std::string, std::string>>& rules) {
  loaded l;
  l.rs = load_rule_set(in_memory_rule_set(VOCAB, rules), "test", l.diags);
  return l;
}

loaded load(const std::string& rules) { return load_files({{"a.rules", rules}}); }

// The rule set must fail with exactly one diagnostic, of `code`.
diagnostic only_error(const loaded& l, const std::string& code) {
  INFO(all_diags(l.diags));
  CHECK_FALSE(l.rs.has_value());
  REQUIRE(l.diags.size() == 1);
  CHECK(l.diags[0].code == code);
  CHECK(l.diags[0].level == severity::error);
  CHECK(l.diags[0].file == "t/a.rules");
  return l.diags[0];
}

bool has_note(const diagnostic& d, const std::string& note) {
  return std::find(d.notes.begin(), d.notes.end(), note) != d.notes.end();
}

}  // namespace

TEST_CASE("a valid rule set loads without diagnostics") {
  auto l = load(R"(rule ok "Fine"
  priority 0
when a and score >= 3 and level in {"low", "high"} and client.presenting contains "grief"
then
  challenge c "Score {score}, level {level}"
  solution s for c "s"
  conclude done
end

rule top
  priority 100
for each r in relationships
when r.conflict == "overt" and not r.close and done
then
  goal g for c "With the {r.label}"
end
)");
  INFO(all_diags(l.diags));
  CHECK(l.diags.empty());
  REQUIRE(l.rs.has_value());
  CHECK(l.rs->prog->rules.size() == 2);
  CHECK(l.rs->info.name == "t");
}

// 1. ids --------------------------------------------------------------------

TEST_CASE("check.duplicate-rule: in one file") {
  auto l = load("rule same\nwhen a\nthen\n  challenge c \"x\"\nend\n\n"
                "rule same\nwhen b\nthen\n  challenge d \"y\"\nend\n");
  auto d = only_error(l, "check.duplicate-rule");
  CHECK(d.line == 7);
  CHECK(d.column == 1);
  CHECK(d.message == "rule id 'same' is already used at t/a.rules:1");
}

TEST_CASE("check.too-many-actions: a rule has at most 100 actions, at the boundary and past it") {
  auto rule = [](int n) {
    std::string t = "rule many\nwhen a\nthen\n";
    for (int i = 0; i < n; ++i) t += "  flag info f" + std::to_string(i) + " \"x\"\n";
    return t + "end\n";
  };
  auto ok = load(rule(100));
  INFO(all_diags(ok.diags));
  CHECK(ok.rs.has_value());
  auto d = only_error(load(rule(101)), "check.too-many-actions");
  CHECK(d.line == 104);  // the 101st action
  CHECK(d.column == 3);
  CHECK(d.message == "rule 'many' has 101 actions; a rule has at most 100");
  CHECK(has_note(d, "split it into rules with the same condition, each proposing the items that belong together"));
}

TEST_CASE("check.duplicate-rule: across files") {
  auto l = load_files({{"a.rules", "\nrule same\nwhen a\nthen\n  challenge c \"x\"\nend\n"},
                       {"b.rules", "rule other\nwhen a\nthen\n  challenge d \"x\"\nend\n\n"
                                   "rule same\nwhen b\nthen\n  challenge e \"y\"\nend\n"}});
  INFO(all_diags(l.diags));
  CHECK_FALSE(l.rs.has_value());
  auto ds = with_code(l.diags, "check.duplicate-rule");
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].file == "t/b.rules");
  CHECK(ds[0].line == 7);
  CHECK(ds[0].message == "rule id 'same' is already used at t/a.rules:2");
}

TEST_CASE("check.priority: out of 0..100 or not whole") {
  auto l = load(R"(rule high
  priority 150
when a
then
  challenge c "x"
end

rule low
  tags x
  priority -5
when a
then
  challenge d "x"
end

rule half
  priority 50.5
when a
then
  challenge e "x"
end
)");
  INFO(all_diags(l.diags));
  CHECK_FALSE(l.rs.has_value());
  auto ds = with_code(l.diags, "check.priority");
  REQUIRE(ds.size() == 3);
  REQUIRE(l.diags.size() == 3);
  sort_diagnostics(ds);
  CHECK(ds[0].line == 2);
  CHECK(ds[0].column == 3);
  CHECK(ds[0].message == "priority must be a whole number from 0 to 100 (higher comes first)");
  CHECK(ds[1].line == 10);
  CHECK(ds[1].column == 3);
  CHECK(ds[2].line == 17);
}

TEST_CASE("check.priority: 0 and 100 are allowed") {
  auto l = load("rule z\n  priority 0\nwhen a\nthen\n  challenge c \"x\"\nend\n"
                "rule h\n  priority 100\nwhen a\nthen\n  challenge d \"x\"\nend\n");
  INFO(all_diags(l.diags));
  CHECK(l.diags.empty());
  REQUIRE(l.rs.has_value());
}

// 3. names ------------------------------------------------------------------

TEST_CASE("check.unknown-path with a 'did you mean' note") {
  auto l = load("rule r\nwhen scroe > 3\nthen\n  challenge c \"x\"\nend\n");
  auto d = only_error(l, "check.unknown-path");
  CHECK(d.line == 2);
  CHECK(d.column == 6);
  CHECK(d.message == "unknown finding 'scroe'");
  REQUIRE_FALSE(d.notes.empty());
  CHECK(d.notes[0] == "did you mean 'score'?");
}

TEST_CASE("check.conclude-twice: one rule concluding one fact twice is an error at check, not a conflict at plan") {
  auto l = load("rule r\nwhen a\nthen\n  conclude x.level = 1\n  conclude x.level = 2\nend\n");
  auto d = only_error(l, "check.conclude-twice");
  CHECK(d.line == 5);
  CHECK(d.message == "rule 'r' concludes 'x.level' twice");
  REQUIRE_FALSE(d.notes.empty());
  CHECK(d.notes[0] == "the first is on line 4; a rule gives a fact one value: keep one conclude");
}

TEST_CASE("check.unknown-path: a choice written without its quotes gets them in the note") {
  // From a clinical lead's trial: `alliance.strength == weak`.
  auto l = load("rule r\nwhen level == medium\nthen\n  challenge c \"x\"\nend\n");
  auto d = only_error(l, "check.unknown-path");
  CHECK(d.message == "unknown finding 'medium'");
  REQUIRE_FALSE(d.notes.empty());
  CHECK(d.notes[0] == "did you mean \"medium\"? A choice is written in double quotes");
  // A field's choice too.
  auto f = only_error(load("rule r\nfor each p in relationships\nwhen p.conflict == overt\nthen\n  challenge c \"x\"\nend\n"),
                      "check.unknown-path");
  CHECK(f.notes[0] == "did you mean \"overt\"? A choice is written in double quotes");
}

TEST_CASE("check.unknown-path: a dotted path suggests the nearest declared path") {
  auto l = load("rule r\nwhen a and client.presentng contains \"grief\"\nthen\n  challenge c \"x\"\nend\n");
  auto d = only_error(l, "check.unknown-path");
  CHECK(d.line == 2);
  CHECK(d.column == 12);
  CHECK(d.message == "unknown finding 'client.presentng'");
  CHECK(has_note(d, "did you mean 'client.presenting'?"));
}

TEST_CASE("check.unknown-path: a name near a derived fact points at where that fact is concluded too") {
  // The misspelling may be in the conclude (risk.acut), not in the reader.
  auto l = load("rule c\nwhen a\nthen\n  conclude risk.acut\nend\n"
                "rule r\nwhen risk.acute\nthen\n  challenge x \"x\"\nend\n");
  auto d = only_error(l, "check.unknown-path");
  CHECK(d.line == 7);
  CHECK(has_note(d, "did you mean 'risk.acut'? Or is 'risk.acut' itself misspelt where it is concluded (t/a.rules:4:12)? "
                    "Correct the one that is wrong"));
}

TEST_CASE("check.unknown-path: a name with nothing near has no suggestion") {
  auto l = load("rule r\nwhen completely_unrelated_name\nthen\n  challenge c \"x\"\nend\n");
  auto d = only_error(l, "check.unknown-path");
  CHECK(d.message == "unknown finding 'completely_unrelated_name'");
  for (const auto& n : d.notes) CHECK(n.find("did you mean") == std::string::npos);
}

TEST_CASE("check.unknown-path: a field of a for-each element") {
  auto l = load("rule r\nfor each r in relationships\nwhen r.conflct == \"overt\"\nthen\n"
                "  challenge c \"x\"\nend\n");
  auto d = only_error(l, "check.unknown-path");
  CHECK(d.line == 3);
  CHECK(d.column == 6);
  CHECK(d.message == "'relationships' entries have no field 'conflct'");
  CHECK(has_note(d, "did you mean 'r.conflict'?"));
}

TEST_CASE("check.unknown-path: iterating something that is not a list") {
  auto l = load("rule r\nfor each r in relationshps\nwhen a\nthen\n  challenge c \"x\"\nend\n");
  auto d = only_error(l, "check.unknown-path");
  CHECK(d.line == 2);
  CHECK(d.column == 15);
  CHECK(d.message == "unknown list 'relationshps'");
  CHECK(has_note(d, "did you mean 'relationships'?"));
}

TEST_CASE("a derived fact may be read before (and in another file than) the rule concluding it") {
  auto l = load_files({{"a.rules", "rule reader\nwhen not later.fact\nthen\n  challenge c \"x\"\nend\n"},
                       {"z.rules", "rule writer\nwhen a\nthen\n  conclude later.fact\nend\n"}});
  INFO(all_diags(l.diags));
  CHECK(l.diags.empty());
  CHECK(l.rs.has_value());
}

// 4. types ------------------------------------------------------------------

TEST_CASE("check.type: a text compared with a number") {
  auto l = load("rule r\nwhen a and note == 3\nthen\n  challenge c \"x\"\nend\n");
  auto d = only_error(l, "check.type");
  CHECK(d.line == 2);
  CHECK(d.column == 12);
  CHECK(d.message == "cannot compare 'note' (a text) with '3' (a number)");
}

TEST_CASE("check.type: a number or true/false in quotes gets a note without them") {
  auto l = load("rule r\nwhen score > \"10\"\nthen\n  challenge c \"x\"\nend\n");
  auto d = only_error(l, "check.type");
  CHECK(d.message == "cannot compare 'score' (a number) with '\"10\"' (a text)");
  REQUIRE(d.notes.size() == 1);
  CHECK(d.notes[0] == "a number is written without quotes: 10, not \"10\"");
  auto b = only_error(load("rule r\nwhen a == \"true\"\nthen\n  challenge c \"x\"\nend\n"), "check.type");
  REQUIRE(b.notes.size() == 1);
  CHECK(b.notes[0] == "a true or false is written without quotes: true, not \"true\"");
  // A text that is no number gets no such note.
  CHECK(only_error(load("rule r\nwhen score > \"ten\"\nthen\n  challenge c \"x\"\nend\n"), "check.type").notes.empty());
}

TEST_CASE("check.type: an enum ordered with <") {
  auto l = load("rule r\nwhen\n  level < \"high\"\nthen\n  challenge c \"x\"\nend\n");
  auto d = only_error(l, "check.type");
  CHECK(d.line == 3);
  CHECK(d.column == 3);
  CHECK(d.message ==
        "'level' and '\"high\"' are texts or choices; they can be compared with == , != or in, not ordered");
  REQUIRE_FALSE(d.notes.empty());
}

TEST_CASE("check.type: 'and' on a number") {
  auto l = load("rule r\nwhen a and score\nthen\n  challenge c \"x\"\nend\n");
  auto d = only_error(l, "check.type");
  CHECK(d.line == 2);
  CHECK(d.column == 12);
  CHECK(d.message == "'and' needs true or false, but 'score' is a number");
  CHECK(has_note(d, "compare it with a number, for example: score >= 10"));
}

TEST_CASE("check.type: 'when' on an enum suggests a comparison") {
  auto l = load("rule r\nwhen level\nthen\n  challenge c \"x\"\nend\n");
  auto d = only_error(l, "check.type");
  CHECK(d.line == 2);
  CHECK(d.column == 6);
  CHECK(d.message == "'when' needs true or false, but 'level' is a choice from a fixed list");
  CHECK(has_note(d, "compare it with a value, for example: level == \"low\""));
}

TEST_CASE("check.type: 'contains' on something that is not a list") {
  auto l = load("rule r\nwhen level contains \"low\"\nthen\n  challenge c \"x\"\nend\n");
  auto d = only_error(l, "check.type");
  CHECK(d.line == 2);
  CHECK(d.column == 6);
  CHECK(d.message ==
        "'contains' needs a list on its left, but 'level' is a choice from a fixed list");
  CHECK(has_note(d, "to compare a single value, use == or in"));
}

TEST_CASE("check.type: arithmetic on a boolean, 'not' on a number") {
  auto l = load("rule r\nwhen score + a > 1\nthen\n  challenge c \"x\"\nend\n"
                "rule s\nwhen not score\nthen\n  challenge d \"x\"\nend\n");
  INFO(all_diags(l.diags));
  CHECK_FALSE(l.rs.has_value());
  auto ds = with_code(l.diags, "check.type");
  REQUIRE(ds.size() == 2);
  sort_diagnostics(ds);
  CHECK(ds[0].line == 2);
  CHECK(ds[0].column == 14);
  CHECK(ds[0].message == "arithmetic needs numbers, but 'a' is true or false");
  CHECK(ds[1].line == 7);
  CHECK(ds[1].column == 10);
  CHECK(ds[1].message == "'not' needs true or false, but 'score' is a number");
}

TEST_CASE("check.enum-value with a 'did you mean' note") {
  auto l = load("rule r\nwhen level == \"hihg\"\nthen\n  challenge c \"x\"\nend\n");
  auto d = only_error(l, "check.enum-value");
  CHECK(d.line == 2);
  CHECK(d.column == 15);
  CHECK(d.message == "'level' has no value \"hihg\"; its values are low, medium, high");
  REQUIRE(d.notes.size() == 1);
  CHECK(d.notes[0] == "did you mean \"high\"?");
}

TEST_CASE("check.enum-value in every position a value of an enum appears") {
  auto l = load(R"(rule lhs
when "meduim" != level
then
  challenge c "x"
end
rule set
when level in {"low", "hgh"}
then
  challenge d "x"
end
rule list
when client.presenting contains "depresion"
then
  challenge e "x"
end
rule field
for each r in relationships
when r.conflict == "overtt"
then
  challenge f "x"
end
)");
  INFO(all_diags(l.diags));
  CHECK_FALSE(l.rs.has_value());
  auto ds = with_code(l.diags, "check.enum-value");
  REQUIRE(ds.size() == 4);
  REQUIRE(l.diags.size() == 4);
  sort_diagnostics(ds);
  CHECK(ds[0].line == 2);
  CHECK(ds[0].column == 6);
  CHECK(has_note(ds[0], "did you mean \"medium\"?"));
  CHECK(ds[1].line == 7);
  CHECK(ds[1].column == 23);
  CHECK(has_note(ds[1], "did you mean \"high\"?"));
  CHECK(ds[2].line == 12);
  CHECK(has_note(ds[2], "did you mean \"depression\"?"));
  CHECK(ds[3].line == 18);
  CHECK(has_note(ds[3], "did you mean \"overt\"?"));
}

// 5. templates --------------------------------------------------------------

TEST_CASE("check.template: an unknown path in 'because'") {
  auto l = load("rule r\nwhen a\nthen\n  challenge c \"x\"\nbecause \"Score {scroe}\"\nend\n");
  auto d = only_error(l, "check.template");
  CHECK(d.line == 5);
  CHECK(d.column == 17);
  CHECK(d.message == "the text names unknown finding 'scroe'");
  CHECK(has_note(d, "did you mean 'score'?"));
}

TEST_CASE("check.template: a path in the second piece of a text, after escapes, points at the path") {
  auto l = load("rule r\nwhen a\nthen\n  challenge c\n    \"A \\\"quoted\\\" \"  # note\n    \"then {scroe}\"\nend\n");
  auto d = only_error(l, "check.template");
  CHECK(d.line == 6);
  CHECK(d.column == 12);
}

TEST_CASE("check.template: an unclosed brace in an item text") {
  auto l = load("rule r\nwhen a\nthen\n  challenge c \"Score {score\"\nend\n");
  auto d = only_error(l, "check.template");
  CHECK(d.line == 4);
  CHECK(d.column == 22);
  CHECK(d.message == "'{' is not closed; write '{{' for a brace");
}

TEST_CASE("check.template: a lone closing brace and a brace around a non-path") {
  auto l = load("rule r\nwhen a\nthen\n  challenge c \"x } y\"\n  goal g \"{not a path}\"\nend\n");
  INFO(all_diags(l.diags));
  auto ds = with_code(l.diags, "check.template");
  REQUIRE(ds.size() == 2);
  sort_diagnostics(ds);
  CHECK(ds[0].line == 4);
  CHECK(ds[0].message == "a lone '}' in a text; write '}}' for a brace");
  CHECK(ds[1].line == 5);
  CHECK(ds[1].message == "'{not a path}' is not a finding path; write '{{' for a literal brace");
}

TEST_CASE("templates: doubled braces are literal, known paths and element fields are fine") {
  auto l = load(R"(rule r
for each r in relationships
when r.close
then
  challenge c "{{literal}} {r.label} {score} {level}"
because "{{x}} {r.conflict}"
end
)");
  INFO(all_diags(l.diags));
  CHECK(l.diags.empty());
  CHECK(l.rs.has_value());
}

// 6. items ------------------------------------------------------------------

TEST_CASE("check.unknown-item: a solution for a challenge no rule raises") {
  auto l = load("rule r\nwhen a\nthen\n  challenge c \"x\"\n  solution x for nosuch \"y\"\nend\n");
  auto d = only_error(l, "check.unknown-item");
  CHECK(d.line == 5);
  CHECK(d.column == 3);
  CHECK(d.message == "'x' is for challenge 'nosuch', which no rule raises");
}

TEST_CASE("check.unknown-item: a goal for a misspelt challenge gets a suggestion") {
  auto l = load("rule r\nwhen a\nthen\n  challenge weak_alliance \"x\"\n"
                "  goal g for weak_aliance \"y\"\nend\n");
  auto d = only_error(l, "check.unknown-item");
  CHECK(d.line == 5);
  CHECK(d.message == "'g' is for challenge 'weak_aliance', which no rule raises");
  CHECK(has_note(d, "did you mean 'weak_alliance'?"));
}

TEST_CASE("check.unknown-item: 'for' naming a goal or a flag says what it is, and what 'for' takes") {
  auto l = load("rule a_goal\nwhen a\nthen\n  goal disagreement_raised \"x\"\nend\n\n"
                "rule sol\nwhen a\nthen\n  challenge c \"y\"\n  solution s for disagreement_raised \"z\"\nend\n");
  auto d = only_error(l, "check.unknown-item");
  CHECK(d.message == "'s' is for challenge 'disagreement_raised', which is a goal (rule 'a_goal'), not a challenge");
  CHECK(has_note(d, "'for' names the challenge this solution answers: every solution answers one"));
}

TEST_CASE("check.unknown-item: a solution for a goal (not a challenge)") {
  auto l = load("rule r\nwhen a\nthen\n  goal g \"x\"\n  solution s for g \"y\"\nend\n");
  auto d = only_error(l, "check.unknown-item");
  CHECK(d.line == 5);
}

TEST_CASE("check.unknown-item: excluding an item no rule proposes") {
  auto l = load("rule r\nwhen a\nthen\n  challenge c \"x\"\nend\n"
                "rule s\nwhen b\nthen\n  exclude nosuch\nend\n");
  auto d = only_error(l, "check.unknown-item");
  CHECK(d.line == 9);
  CHECK(d.column == 3);
  CHECK(d.message == "'exclude nosuch' names an item that no rule proposes");
}

TEST_CASE("'for' and 'exclude' may name items raised by rules in other files") {
  auto l = load_files({{"a.rules", "rule r\nwhen a\nthen\n  solution s for c \"y\"\n  exclude g\nend\n"},
                       {"b.rules", "rule t\nwhen b\nthen\n  challenge c \"x\"\n  goal g \"z\"\nend\n"}});
  INFO(all_diags(l.diags));
  CHECK(l.diags.empty());
  CHECK(l.rs.has_value());
}

// 2. facts ------------------------------------------------------------------

TEST_CASE("check.conclude-finding: a rule cannot conclude a finding") {
  auto l = load("rule r\nwhen a\nthen\n  conclude score = 3\nend\n");
  auto d = only_error(l, "check.conclude-finding");
  CHECK(d.line == 4);
  CHECK(d.column == 12);
  CHECK(d.message == "'score' is a finding of the vocabulary; a rule cannot conclude it");
  CHECK(has_note(d, "derived facts need their own names, for example 'score_derived'"));
}

TEST_CASE("check.conclude-type: one fact concluded with values of different kinds") {
  auto l = load("rule one\nwhen a\nthen\n  conclude risk = \"high\"\nend\n"
                "rule two\nwhen b\nthen\n  conclude risk = 3\nend\n");
  INFO(all_diags(l.diags));
  CHECK_FALSE(l.rs.has_value());
  auto ds = with_code(l.diags, "check.conclude-type");
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].line == 9);
  CHECK(ds[0].message.find("'one'") != std::string::npos);
  CHECK(ds[0].message.find("'two'") != std::string::npos);
}

TEST_CASE("check.type: a derived fact concluded as a text cannot be compared with a number") {
  auto l = load("rule set_risk\nwhen a\nthen\n  conclude risk = \"high\"\nend\n"
                "rule read_risk\nwhen risk > 3\nthen\n  challenge c \"x\"\nend\n");
  auto d = only_error(l, "check.type");
  CHECK(d.line == 7);
  CHECK(d.column == 6);
  CHECK(d.message == "cannot compare 'risk' (a text) with '3' (a number)");
}

// 7. strata -----------------------------------------------------------------

TEST_CASE("check.cycle: two rules each reading 'not' of the other's fact") {
  auto l = load(R"(rule p_rule
when not q_fact
then
  conclude p_fact
end

rule q_rule
when not p_fact
then
  conclude q_fact
end
)");
  auto d = only_error(l, "check.cycle");
  CHECK(d.line == 1);
  CHECK(d.message.find("'p_rule'") != std::string::npos);
  CHECK(d.message.find("'q_rule'") != std::string::npos);
  CHECK(d.notes.size() == 2);
}

TEST_CASE("check.cycle: through 'is missing' and through 'count'") {
  SECTION("is missing") {
    auto l = load("rule p\nwhen q_fact is missing\nthen\n  conclude p_fact\nend\n"
                  "rule q\nwhen p_fact\nthen\n  conclude q_fact\nend\n");
    auto d = only_error(l, "check.cycle");
    CHECK(d.message.find("'p'") != std::string::npos);
    CHECK(d.message.find("'q'") != std::string::npos);
  }
  SECTION("count") {
    auto l = load("rule p\nwhen count(r in relationships: q_fact) > 0\nthen\n  conclude p_fact\nend\n"
                  "rule q\nwhen p_fact\nthen\n  conclude q_fact\nend\n");
    auto d = only_error(l, "check.cycle");
    CHECK(d.message.find("'p'") != std::string::npos);
    CHECK(d.message.find("'q'") != std::string::npos);
  }
}

TEST_CASE("check.cycle: a rule negating its own conclusion") {
  auto l = load("rule selfish\nwhen not me\nthen\n  conclude me\nend\n");
  auto d = only_error(l, "check.cycle");
  CHECK(d.message.find("'selfish'") != std::string::npos);
}

TEST_CASE("check.cycle: comparing a derived fact with false is a negation too") {
  // `q_fact == false` means `not q_fact`; a cycle through it has no order
  // either, whichever side of the comparison the fact is on.
  SECTION("facts on the right") {
    auto l = load("rule p_rule\nwhen false == q_fact\nthen\n  conclude p_fact\nend\n\n"
                  "rule q_rule\nwhen false == p_fact\nthen\n  conclude q_fact\nend\n");
    auto d = only_error(l, "check.cycle");
    CHECK(d.message.find("'p_rule'") != std::string::npos);
    CHECK(d.message.find("'q_rule'") != std::string::npos);
  }
  SECTION("facts on the left") {
    auto l = load("rule p_rule\nwhen q_fact == false\nthen\n  conclude p_fact\nend\n\n"
                  "rule q_rule\nwhen p_fact == false\nthen\n  conclude q_fact\nend\n");
    auto d = only_error(l, "check.cycle");
    CHECK(d.message.find("'p_rule'") != std::string::npos);
    CHECK(d.message.find("'q_rule'") != std::string::npos);
  }
  SECTION("'!= true' on the left") {
    auto l = load("rule selfish\nwhen me != true\nthen\n  conclude me\nend\n");
    auto d = only_error(l, "check.cycle");
    CHECK(d.message.find("'selfish'") != std::string::npos);
  }
}

TEST_CASE("positive recursion (no 'not') is not an error") {
  auto l = load(R"(rule p_rule
when a or q_fact
then
  conclude p_fact
end

rule q_rule
when p_fact and b
then
  conclude q_fact
end
)");
  INFO(all_diags(l.diags));
  CHECK(l.diags.empty());
  REQUIRE(l.rs.has_value());
  // The two rules share one recursive stratum.
  const auto& p = *l.rs->prog;
  bool shared = false;
  for (std::size_t s = 0; s < p.strata.size(); ++s) {
    if (p.strata[s].size() == 2) shared = p.recursive[s];
  }
  CHECK(shared);
}

TEST_CASE("a chain through 'not' without a cycle is fine") {
  auto l = load("rule one\nwhen a\nthen\n  conclude f1\nend\n"
                "rule two\nwhen not f1\nthen\n  conclude f2\nend\n"
                "rule three\nwhen not f2 and f1 is known\nthen\n  challenge c \"x\"\nend\n");
  INFO(all_diags(l.diags));
  CHECK(l.diags.empty());
  CHECK(l.rs.has_value());
}

// All at once ----------------------------------------------------------------

TEST_CASE("every problem of a rule set is reported at once") {
  auto l = load_files({{"a.rules", R"(rule dup
when scroe > 3
then
  challenge c "x"
end

rule typed
  priority 500
when note == 3
then
  solution s for nosuch "y"
because "{levl}"
end
)"},
                       {"b.rules", R"(rule dup
when level == "hgh"
then
  conclude a
end

rule broken
when a
  challenge d "x"
end
)"}});
  INFO(all_diags(l.diags));
  CHECK_FALSE(l.rs.has_value());
  for (const char* code :
       {"check.unknown-path", "check.priority", "check.type", "check.unknown-item",
        "check.template", "check.duplicate-rule", "check.enum-value", "check.conclude-finding",
        "parse.expected"}) {
    INFO("code " << code);
    CHECK(with_code(l.diags, code).size() == 1);
  }
  CHECK(l.diags.size() == 9);
}

TEST_CASE("a message quoting a long text from the file keeps its start and says its length, and apostrophes are no quotes") {
  diagnostic d;
  d.code = "check.type";
  d.file = "a.rules";
  d.line = 6;
  d.column = 3;
  d.message = "cannot compare 'phq9.total' (a number) with '\"" + std::string(5000, 'x') + "\"' (a text)";
  auto shown = format(d);
  CHECK(shown.size() < 300);
  CHECK(shown.find("with '\"" + std::string(39, 'x') + "... (5002 bytes)' (a text) [check.type]") != std::string::npos);
  // A long message with apostrophes and short quotes is left whole.
  diagnostic e;
  e.message = "the client's answer to 'q1' and the client's answer to 'q2' disagree with the clinician's rating of "
              "the client's mood, which is what the rule's condition reads: " + std::string(100, 'y');
  CHECK(format(e).find(e.message) != std::string::npos);
}

TEST_CASE("check.nesting: calculations nested in each other's operands are bounded in total, not only per chain") {
  // Each chain may have 1,000 operators; nested as operands, they add up
  // (the comparison counts as one), and the passes after the checker walk
  // that depth. 2,000 in all is accepted, 2,001 refused with where, and no
  // stack follows a file's nesting (70 nested chains of 1,000 once
  // overflowed it).
  auto chain = [](const std::string& first, int ops) {
    std::string e = "(" + first;
    for (int i = 0; i < ops; ++i) e += "*1";
    return e + ")";
  };
  auto rule = [](const std::string& cond) {
    return "rule n \"N\"\nwhen\n  score > " + cond + "\nthen\n  flag info f \"F\"\nbecause \"b\"\nend\n";
  };
  auto ok = load(rule(chain(chain(chain("score", 1000), 998), 1)));
  INFO(all_diags(ok.diags));
  CHECK(ok.rs.has_value());
  auto deep = load(rule(chain(chain(chain("score", 1000), 999), 1)));
  auto d = only_error(deep, "check.nesting");
  CHECK(d.message ==
        "this calculation is nested too deeply: more than 2000 operators from the top of the condition to its deepest "
        "value; split it into simpler rules or derived facts");
  CHECK(d.line == 3);
  std::string seventy = "1";
  for (int i = 0; i < 70; ++i) seventy = chain(seventy, 1000);
  auto crash = load(rule(seventy));
  CHECK_FALSE(crash.rs.has_value());
  CHECK_FALSE(with_code(crash.diags, "check.nesting").empty());
}

TEST_CASE("check.nesting: three variables in play at once are accepted, a fourth is refused with why") {
  auto rule = [](const std::string& cond) {
    return "rule n \"N\"\nfor each p in relationships\nwhen\n  " + cond + "\nthen\n  flag info f \"F\"\nbecause \"b\"\nend\n";
  };
  auto three = load(rule("any(q in relationships: any(s in relationships: s.label == p.label))"));
  INFO(all_diags(three.diags));
  CHECK(three.rs.has_value());
  auto four = load(rule("any(q in relationships: any(s in relationships: any(t in relationships: t.label == p.label)))"));
  auto d = only_error(four, "check.nesting");
  CHECK(d.message ==
        "quantifiers are nested too deeply: at most 3 variables may be in play at once, counting the 'for each' variable");
  CHECK_FALSE(d.notes.empty());
  // Side by side, as many as needed.
  auto side = load(rule("any(q in relationships: q.close) and any(s in relationships: s.close) and "
                        "any(t in relationships: t.close) and any(u in relationships: u.close)"));
  CHECK(side.rs.has_value());
}

// Tests of the rule-language parser: what parses into which tree (checked
// through the canonical printer), and what every kind of syntax error
// reports (code, message, line and column), including the depth guard and
// recovery after an error.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/ruleset.hpp"
#include "grammar/ast_printer.hpp"
#include "grammar/diagnostic.hpp"
#include "grammar/parse.hpp"
#include "grammar/source.hpp"
#include "support.hpp"

using namespace iptplan;
using namespace iptplan::test_support;

namespace {

const char* const VOCAB = R"(
[a]
type = "bool"

[b]
type = "bool"
)";

// Builds an in-memory rule set from one rule file.
std::optional<rule_set> load(const std::string& rules, std::vector<diagnostic>& diags) {
  return load_rule_set(in_memory_rule_set(VOCAB, {{"a.rules", rules}}), "test", diags);
}

parse_result parse(const std::string& text, parse_options options = {}) {
  source_file src("t.rules", text);
  return parse_rule_file(src, options);
}

// The condition of a one-rule file `rule r when <cond> then challenge c "x" end`.
std::string condition_of(const std::string& cond) {
  auto r = parse("rule r\nwhen " + cond + "\nthen\n  challenge c \"x\"\nend\n");
  INFO("condition: " << cond << "\n" << all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.file.rules.size() == 1);
  return ast::to_string(r.file.rules[0].condition);
}

// Parses text that must fail with exactly one diagnostic.
diagnostic one_error(const std::string& text) {
  auto r = parse(text);
  INFO(text << "\n--- diagnostics:\n" << all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].level == severity::error);
  CHECK(r.diagnostics[0].file == "t.rules");
  return r.diagnostics[0];
}

}  // namespace

// ---------------------------------------------------------------------------
// What parses

TEST_CASE("a goal dated 'by session', with or without 'for'") {
  auto r = parse("rule r\nwhen a\nthen\n  goal g for c by session param.x \"x\"\n"
                 "  goal h by session (n + 1) / 2 \"y\"\n  goal k \"z\"\nend\n");
  INFO(all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.empty());
  const auto& acts = r.file.rules.at(0).actions;
  REQUIRE(acts.size() == 3);
  CHECK(acts[0].target == "c");
  REQUIRE(acts[0].due.has_value());
  CHECK(ast::to_string(*acts[0].due) == "param.x");
  CHECK(acts[0].text.value == "x");
  CHECK(acts[1].target.empty());
  REQUIRE(acts[1].due.has_value());
  CHECK(acts[1].text.value == "y");
  CHECK_FALSE(acts[2].due.has_value());
  // The date is required after 'by session', and 'session' after 'by'.
  auto none = one_error("rule r\nwhen a\nthen\n  goal g by session \"x\"\nend\n");
  CHECK(none.message == "expected a session number but found a quoted text");
  CHECK(none.line == 4);
  CHECK(none.column == 21);
  auto word = one_error("rule r\nwhen a\nthen\n  goal g by 4 \"x\"\nend\n");
  CHECK(word.message == "expected 'session' but found '4'");
  CHECK(word.line == 4);
  CHECK(word.column == 13);
  // The date missing at the end of a line: reported where the line ends.
  auto eol = one_error("rule r\nwhen a\nthen\n  goal g by session\n    \"x\"\nend\n");
  CHECK(eol.message == "expected a session number here, but the line ends (what follows is a quoted text, on line 5)");
  CHECK(eol.line == 4);
  CHECK(eol.column == 20);
  auto plural = one_error("rule r\nwhen a\nthen\n  goal g by sessions 4 \"x\"\nend\n");
  CHECK(plural.message == "expected 'session' but found 'sessions'");
  CHECK(plural.notes == std::vector<std::string>{"did you mean 'session'?"});
}

TEST_CASE("a text in adjacent pieces is one text: titles, sources, actions and because") {
  auto r = parse("rule r \"A \" \"title\"\n  source \"domain \"\n    \"I6\"\nwhen a\nthen\n"
                 "  challenge c\n    \"one \"  # a comment between pieces\n    \"two\"\n"
                 "  goal g for c \"x\" \"y\"\nbecause \"b\" \"c\"\nend\n");
  INFO(all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.empty());
  const auto& rule = r.file.rules.at(0);
  CHECK(rule.title->value == "A title");
  CHECK(rule.meta.at(0).text == "domain I6");
  CHECK(rule.actions.at(0).text.value == "one two");
  CHECK(rule.actions.at(1).text.value == "xy");
  CHECK(rule.because->value == "bc");
}

TEST_CASE("a value in a condition is one piece: two quoted values without a comma are an error") {
  auto d = one_error("rule r\nwhen x in {\"a\" \"b\"}\nthen\n  challenge c \"x\"\nend\n");
  CHECK(d.line == 2);
  CHECK(d.column == 16);
  CHECK(d.message.find("',' or '}'") != std::string::npos);
  one_error("rule r\nwhen x == \"a\" \"b\"\nthen\n  challenge c \"x\"\nend\n");
}

TEST_CASE("the specification's example rule parses with title, priority, tags and source") {
  const std::string text = R"(# '#' starts a comment that runs to the end of the line.

rule weak_alliance "Weak therapeutic alliance"
  priority 90                          # 0..100, higher first; default 50
  tags relationship, alliance
  source "IPT guide, Common challenges: challenge 1"
when
  alliance.strength <= 2
then
  challenge weak_relationship
    "Difficulty establishing a strong therapeutic relationship"
  solution active_listening for weak_relationship
    "Use active listening, empathy and a non-judgmental attitude"
  goal strong_alliance for weak_relationship
    "A working alliance the client rates 4 of 5 or higher by session 4"
because
  "Alliance is rated {alliance.strength} of 5. The relationship is the vehicle of change in IPT."
end
)";
  auto r = parse(text);
  INFO(all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.file.rules.size() == 1);
  const auto& rule = r.file.rules[0];
  CHECK(rule.id == "weak_alliance");
  REQUIRE(rule.title.has_value());
  CHECK(rule.title->value == "Weak therapeutic alliance");
  REQUIRE(rule.meta.size() == 3);
  CHECK(rule.meta[0].kind == ast::meta_kind::priority);
  CHECK(rule.meta[0].number == 90);
  CHECK(rule.meta[1].kind == ast::meta_kind::tags);
  CHECK(rule.meta[1].words == std::vector<std::string>{"relationship", "alliance"});
  CHECK(rule.meta[2].kind == ast::meta_kind::source);
  CHECK(rule.meta[2].text == "IPT guide, Common challenges: challenge 1");
  CHECK_FALSE(rule.each.has_value());
  CHECK(ast::to_string(rule) ==
        "rule weak_alliance \"Weak therapeutic alliance\" priority=90 tags=relationship,alliance"
        " source=\"IPT guide, Common challenges: challenge 1\"\n"
        "  when (<= alliance.strength 2)\n"
        "  challenge weak_relationship \"Difficulty establishing a strong therapeutic relationship\"\n"
        "  solution active_listening for weak_relationship \"Use active listening, empathy and a "
        "non-judgmental attitude\"\n"
        "  goal strong_alliance for weak_relationship \"A working alliance the client rates 4 of 5 "
        "or higher by session 4\"\n"
        "  because \"Alliance is rated {alliance.strength} of 5. The relationship is the vehicle of "
        "change in IPT.\"");
}

TEST_CASE("metadata may come in any order and a rule needs none of it") {
  auto r = parse(R"(
rule bare
when a
then
  challenge c "x"
end

rule reordered "Title"
  source "s"
  tags one
  priority 7
when a
then
  challenge c "x"
end
)");
  INFO(all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.file.rules.size() == 2);
  CHECK(ast::to_string(r.file.rules[0]) == "rule bare\n  when a\n  challenge c \"x\"");
  CHECK_FALSE(r.file.rules[0].title.has_value());
  CHECK_FALSE(r.file.rules[0].because.has_value());
  CHECK(ast::to_string(r.file.rules[1]) ==
        "rule reordered \"Title\" source=\"s\" tags=one priority=7\n  when a\n  challenge c \"x\"");
}

TEST_CASE("every action kind parses") {
  auto r = parse(R"(rule all_actions
when a
then
  challenge ch "challenge text"
  solution so for ch "solution text"
  goal g1 for ch "goal for a challenge"
  goal g2 "goal for the plan"
  flag info f1 "info flag"
  flag warning f2 "warning flag"
  flag critical f3 "critical flag"
  conclude derived.fact
  conclude risk.level = "high"
  conclude total = score + 2 * 3
  exclude other_item
end
)");
  INFO(all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.file.rules.size() == 1);
  const auto& acts = r.file.rules[0].actions;
  REQUIRE(acts.size() == 11);

  CHECK(acts[0].kind == ast::action_kind::challenge);
  CHECK(acts[0].id == "ch");
  CHECK(acts[0].text.value == "challenge text");

  CHECK(acts[1].kind == ast::action_kind::solution);
  CHECK(acts[1].id == "so");
  CHECK(acts[1].target == "ch");
  CHECK(acts[1].text.value == "solution text");

  CHECK(acts[2].kind == ast::action_kind::goal);
  CHECK(acts[2].target == "ch");
  CHECK(acts[3].kind == ast::action_kind::goal);
  CHECK(acts[3].id == "g2");
  CHECK(acts[3].target.empty());
  CHECK(acts[3].text.value == "goal for the plan");

  CHECK(acts[4].kind == ast::action_kind::flag);
  CHECK(acts[4].severity == "info");
  CHECK(acts[5].severity == "warning");
  CHECK(acts[6].severity == "critical");
  CHECK(acts[6].id == "f3");
  CHECK(acts[6].text.value == "critical flag");

  CHECK(acts[7].kind == ast::action_kind::conclude);
  CHECK(ast::to_string(acts[7].fact) == "derived.fact");
  CHECK_FALSE(acts[7].value.has_value());
  CHECK(acts[8].kind == ast::action_kind::conclude);
  REQUIRE(acts[8].value.has_value());
  CHECK(ast::to_string(*acts[8].value) == "\"high\"");
  REQUIRE(acts[9].value.has_value());
  CHECK(ast::to_string(*acts[9].value) == "(+ score (* 2 3))");

  CHECK(acts[10].kind == ast::action_kind::exclude);
  CHECK(acts[10].id == "other_item");

  CHECK(ast::to_string(r.file.rules[0]) ==
        "rule all_actions\n"
        "  when a\n"
        "  challenge ch \"challenge text\"\n"
        "  solution so for ch \"solution text\"\n"
        "  goal g1 for ch \"goal for a challenge\"\n"
        "  goal g2 \"goal for the plan\"\n"
        "  flag info f1 \"info flag\"\n"
        "  flag warning f2 \"warning flag\"\n"
        "  flag critical f3 \"critical flag\"\n"
        "  conclude derived.fact\n"
        "  conclude risk.level = \"high\"\n"
        "  conclude total = (+ score (* 2 3))\n"
        "  exclude other_item");
}

TEST_CASE("a for-each rule parses with its variable and list") {
  auto r = parse(R"(
rule role_dispute "Role dispute with a significant other"
  priority 80
for each r in relationships
when
  r.conflict == "overt" and not r.expectations_reciprocal
then
  conclude problem_area.role_dispute
  challenge role_dispute "Non-reciprocal expectations with the client's {r.label}"
  solution communication_analysis for role_dispute
    "Communication analysis of recent disputes with the {r.label}"
because "{r.label} ({r.role}): overt conflict, expectations not reciprocal."
end
)");
  INFO(all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.file.rules.size() == 1);
  const auto& rule = r.file.rules[0];
  REQUIRE(rule.each.has_value());
  CHECK(rule.each->var == "r");
  CHECK(ast::to_string(rule.each->list) == "relationships");
  CHECK(ast::to_string(rule.condition) ==
        "(and (== r.conflict \"overt\") (not r.expectations_reciprocal))");
  REQUIRE(rule.because.has_value());
  CHECK(rule.because->value == "{r.label} ({r.role}): overt conflict, expectations not reciprocal.");
  CHECK(ast::to_string(rule).find(" each r in relationships\n") != std::string::npos);
}

TEST_CASE("comments are skipped everywhere, but not inside quoted texts") {
  auto r = parse(R"(# leading comment
   # indented comment
rule c1 "Title # not a comment" # after the title
  priority 10 # after the priority
  # between metadata
when # after when
  a # after a path
  and # after and
  b
then # after then
  challenge x "text # kept" # after an action
because "because # kept" # after because
end # after end
# trailing comment without a newline)");
  INFO(all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.file.rules.size() == 1);
  const auto& rule = r.file.rules[0];
  REQUIRE(rule.title.has_value());
  CHECK(rule.title->value == "Title # not a comment");
  CHECK(ast::to_string(rule.condition) == "(and a b)");
  REQUIRE(rule.actions.size() == 1);
  CHECK(rule.actions[0].text.value == "text # kept");
  REQUIRE(rule.because.has_value());
  CHECK(rule.because->value == "because # kept");
}

TEST_CASE("escapes in quoted texts") {
  auto r = parse("rule e \"say \\\"hi\\\" \\\\ back\\nslash\"\nwhen a\nthen\n  challenge c \"x\"\nend\n");
  INFO(all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.file.rules.size() == 1);
  REQUIRE(r.file.rules[0].title.has_value());
  CHECK(r.file.rules[0].title->value == "say \"hi\" \\ back\nslash");
}

TEST_CASE("operator precedence, loosest first: or, and, not, comparison, + -, * /, unary minus") {
  auto [cond, tree] = GENERATE(table<std::string, std::string>({
      {"a or b and not c == 1", "(or a (and b (not (== c 1))))"},
      {"not a == b", "(not (== a b))"},
      {"not a and b", "(and (not a) b)"},
      {"not not a", "(not (not a))"},
      {"a and b or c and d", "(or (and a b) (and c d))"},
      {"a or b or c", "(or (or a b) c)"},
      {"a and b and c", "(and (and a b) c)"},
      {"(a or b) and c", "(and (or a b) c)"},
      {"((a or (b)) and ((c)))", "(and (or a b) c)"},
      {"not (a or b)", "(not (or a b))"},
      {"a + b * c - d / e > 2", "(> (- (+ a (* b c)) (/ d e)) 2)"},
      {"a - b - c == 0", "(== (- (- a b) c) 0)"},
      {"a * (b + c) >= 2.5", "(>= (* a (+ b c)) 2.5)"},
      {"-a * b < 3", "(< (* (neg a) b) 3)"},
      {"- -3 != a", "(!= (neg (neg 3)) a)"},
      {"a - -1 <= 2", "(<= (- a (neg 1)) 2)"},
      {"-(a + b) > 0", "(> (neg (+ a b)) 0)"},
      {"x.y == \"text\"", "(== x.y \"text\")"},
      {"a == true or b != false", "(or (== a true) (!= b false))"},
      {"a < 1 or a > 2", "(or (< a 1) (> a 2))"},
      {"setting in {\"couple\", \"group\"}", "(in setting {\"couple\" \"group\"})"},
      {"n in {1, 2.5, true}", "(in n {1 2.5 true})"},
      {"not setting in {\"couple\"} and b", "(and (not (in setting {\"couple\"})) b)"},
      {"xs contains \"depression\"", "(contains xs \"depression\")"},
      {"xs contains 2 + 1", "(contains xs (+ 2 1))"},
      {"a.b is known", "(is-known a.b)"},
      {"a.b is missing or a.b == 1", "(or (is-missing a.b) (== a.b 1))"},
      {"not a is missing", "(not (is-missing a))"},
      {"any(r in relationships: r.conflict == \"overt\")",
       "(any r relationships (== r.conflict \"overt\"))"},
      {"all(r in relationships: r.close and not r.x)", "(all r relationships (and r.close (not r.x)))"},
      {"count(r in relationships: r.close) >= 2", "(>= (count r relationships r.close) 2)"},
      {"any(p in client.presenting: p == \"grief\") or a",
       "(or (any p client.presenting (== p \"grief\")) a)"},
      {"any(r in rs: any(s in ss: r.x == s.y))", "(any r rs (any s ss (== r.x s.y)))"},
      {"count(r in rs: true) + 1 > a * 2", "(> (+ (count r rs true) 1) (* a 2))"},
  }));
  INFO("condition: " << cond);
  CHECK(condition_of(cond) == tree);
}

TEST_CASE("keywords are never prefixes of identifiers") {
  auto [cond, tree] = GENERATE(table<std::string, std::string>({
      {"notify", "notify"},
      {"not notify", "(not notify)"},
      {"iffy and order", "(and iffy order)"},
      {"notify and iffy or order", "(or (and notify iffy) order)"},
      {"android or oracle", "(or android oracle)"},
      {"island is known", "(is-known island)"},
      {"known_x is missing", "(is-missing known_x)"},
      {"missing_x == 1", "(== missing_x 1)"},
      {"inside in {1}", "(in inside {1})"},
      {"contains_x contains 1", "(contains contains_x 1)"},
      {"counter > 1 and anything and allowed", "(and (and (> counter 1) anything) allowed)"},
      {"truex == falsey", "(== truex falsey)"},
      {"rules.end_date == then_x", "(== rules.end_date then_x)"},
      {"whenever and because_x", "(and whenever because_x)"},
      {"each_x == for_x", "(== each_x for_x)"},
  }));
  INFO("condition: " << cond);
  CHECK(condition_of(cond) == tree);
}

TEST_CASE("rule ids, item ids and tags may start with a keyword") {
  auto r = parse(R"(rule rule_one "t"
  tags when_x, end_y
when endpoint
then
  challenge challenge_x "t"
  goal goal_y for challenge_x "t"
  conclude conclude_z
  exclude exclude_w
end
)");
  INFO(all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.file.rules.size() == 1);
  CHECK(ast::to_string(r.file.rules[0]) ==
        "rule rule_one \"t\" tags=when_x,end_y\n"
        "  when endpoint\n"
        "  challenge challenge_x \"t\"\n"
        "  goal goal_y for challenge_x \"t\"\n"
        "  conclude conclude_z\n"
        "  exclude exclude_w");
}

TEST_CASE("syntax nodes carry the byte offsets of their source text") {
  const std::string text = "# header\nrule one\nwhen a and b\nthen\n  challenge c \"x\"\nend\n\n"
                           "rule two\nwhen\n  score >= 3\nthen\n  exclude c\nend\n";
  source_file src("t.rules", text);
  auto r = parse_rule_file(src);
  INFO(all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.file.rules.size() == 2);
  const auto& one = r.file.rules[0];
  const auto& two = r.file.rules[1];
  CHECK(src.locate(one.begin).line == 2);
  CHECK(src.locate(one.begin).column == 1);
  CHECK(src.slice(one.condition.begin, one.condition.end) == "a and b");
  CHECK(src.locate(two.begin).line == 8);
  CHECK(src.slice(two.condition.begin, two.condition.end) == "score >= 3");
  CHECK(src.locate(two.condition.begin).line == 10);
  CHECK(src.locate(two.condition.begin).column == 3);
  REQUIRE(one.actions.size() == 1);
  CHECK(src.locate(one.actions[0].begin).line == 5);
  CHECK(src.locate(one.actions[0].begin).column == 3);
}

TEST_CASE("an empty file, or one with only comments and blank lines, has no rules and no errors") {
  auto text = GENERATE(as<std::string>{}, "", "\n\n   \n\t\n", "# just a comment",
                       "# one\n\n  # two\n", "\r\n\r\n");
  auto r = parse(text);
  INFO(all_diags(r.diagnostics));
  CHECK(r.diagnostics.empty());
  CHECK(r.file.rules.empty());
}

TEST_CASE("Windows line ends parse") {
  auto r = parse("rule w\r\nwhen a\r\nthen\r\n  challenge c \"x\"\r\nend\r\n");
  INFO(all_diags(r.diagnostics));
  CHECK(r.diagnostics.empty());
  CHECK(r.file.rules.size() == 1);
}

// ---------------------------------------------------------------------------
// Errors

TEST_CASE("a missing 'then' names what was expected and what was found") {
  auto d = one_error("rule r1\nwhen a\n  challenge c \"x\"\nend\n");
  CHECK(d.code == "parse.expected");
  CHECK(d.message == "expected 'then' but found 'challenge'");
  CHECK(d.line == 3);
  CHECK(d.column == 3);
  CHECK(d.source_line == "  challenge c \"x\"");
}

TEST_CASE("a missing 'end' at the end of the file") {
  auto d = one_error("rule r1\nwhen a\nthen\n  challenge c \"x\"\n");
  CHECK(d.code == "parse.expected");
  CHECK(d.message.rfind("expected ", 0) == 0);
  CHECK(d.message.find("'end'") != std::string::npos);
  CHECK(d.message.find("but found the end of the file") != std::string::npos);
  CHECK(d.line == 5);
  CHECK(d.column == 1);
}

TEST_CASE("a missing 'end' before the next rule is reported there, and the next rule still parses") {
  auto r = parse(
      "rule r1\nwhen a\nthen\n  challenge c \"x\"\n\n"
      "rule r2\nwhen b\nthen\n  challenge d \"y\"\nend\n");
  INFO(all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.size() == 1);
  const auto& d = r.diagnostics[0];
  CHECK(d.code == "parse.expected");
  CHECK(d.message.find("'end'") != std::string::npos);
  CHECK(d.message.find("but found 'rule'") != std::string::npos);
  CHECK(d.line == 6);
  CHECK(d.column == 1);
  // One mistake must not hide the rule after it.
  REQUIRE(r.file.rules.size() == 1);
  CHECK(r.file.rules[0].id == "r2");
}

TEST_CASE("an unterminated string points at the end of its line") {
  auto d = one_error("rule r1\nwhen a\nthen\n  challenge c \"abc\nend\n");
  CHECK(d.code == "parse.expected");
  CHECK(d.message == "expected a closing '\"' before the end of the line but found the end of the line");
  CHECK(std::find(d.notes.begin(), d.notes.end(),
                  "end the text with '\"' on this line; a longer text goes on in another quoted part on the next "
                  "line (\"first part \" then \"second part\")") != d.notes.end());
  CHECK(d.line == 4);
  CHECK(d.column == 19);
}

TEST_CASE("an unterminated title at the end of the file") {
  auto d = one_error("rule r1 \"Title");
  CHECK(d.code == "parse.expected");
  CHECK(d.message == "expected a closing '\"' before the end of the line but found the end of the file");
  CHECK(d.line == 1);
  CHECK(d.column == 15);
}

TEST_CASE("a missing 'when' mentions the metadata that may come before it") {
  auto d = one_error("rule r1 \"t\"\n  priority 5\n  a == 1\nthen\n  challenge c \"x\"\nend\n");
  CHECK(d.code == "parse.expected");
  CHECK(d.message ==
        "expected 'when' (or metadata: priority, tags, source; or 'for each') but found 'a'");
  CHECK(d.line == 3);
  CHECK(d.column == 3);
}

TEST_CASE("an unknown action word lists the actions") {
  auto d = one_error("rule r1\nwhen a\nthen\n  propose c \"x\"\nend\n");
  CHECK(d.code == "parse.expected");
  CHECK(d.message ==
        "expected an action (challenge, solution, goal, flag, conclude, exclude) but found 'propose'");
  CHECK(d.line == 4);
  CHECK(d.column == 3);
}

TEST_CASE("an unknown action word after a good action still lists the actions") {
  auto d = one_error("rule r1\nwhen a\nthen\n  challenge c \"x\"\n  propose d \"y\"\nend\n");
  CHECK(d.code == "parse.expected");
  CHECK(d.line == 5);
  CHECK(d.column == 3);
  // After an action, another action, 'because' or 'end' may follow.
  CHECK(d.message ==
        "expected an action (challenge, solution, goal, flag, conclude, exclude), 'because' or 'end' "
        "but found 'propose'");
}

TEST_CASE("a bad flag severity") {
  auto d = one_error("rule r1\nwhen a\nthen\n  flag urgent f \"x\"\nend\n");
  CHECK(d.code == "parse.expected");
  CHECK(d.message == "expected info, warning or critical but found 'urgent'");
  CHECK(d.line == 4);
  CHECK(d.column == 8);
  // A misspelt severity: the one meant (from a lead's trial).
  auto typo = one_error("rule r1\nwhen a\nthen\n  flag warnng f \"x\"\nend\n");
  CHECK(typo.message == "expected info, warning or critical but found 'warnng'");
  REQUIRE(typo.notes.size() == 1);
  CHECK(typo.notes[0] == "did you mean 'warning'?");
}

TEST_CASE("a solution without 'for'") {
  auto d = one_error("rule r1\nwhen a\nthen\n  challenge c \"x\"\n  solution s \"y\"\nend\n");
  CHECK(d.code == "parse.expected");
  CHECK(d.message ==
        "expected 'for' and the challenge it answers (solution ID for CHALLENGE \"text\") but found a quoted text");
  CHECK(d.line == 5);
  CHECK(d.column == 14);
}

TEST_CASE("a missing rule id") {
  auto d = one_error("rule \"Title only\"\nwhen a\nthen\n  challenge c \"x\"\nend\n");
  CHECK(d.code == "parse.expected");
  CHECK(d.message == "expected a name but found a quoted text");
  CHECK(d.line == 1);
  CHECK(d.column == 6);
}

TEST_CASE("stray text at top level") {
  auto r = parse("hello world\n\nrule ok\nwhen a\nthen\n  challenge c \"x\"\nend\n");
  INFO(all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.size() == 1);
  const auto& d = r.diagnostics[0];
  CHECK(d.code == "parse.expected");
  CHECK(d.message == "expected 'rule' but found 'hello'");
  CHECK(d.line == 1);
  CHECK(d.column == 1);
  REQUIRE(r.file.rules.size() == 1);
  CHECK(r.file.rules[0].id == "ok");
}

TEST_CASE("stray text between two rules") {
  auto r = parse(
      "rule one\nwhen a\nthen\n  challenge c \"x\"\nend\n  = 3\n"
      "rule two\nwhen b\nthen\n  challenge d \"y\"\nend\n");
  INFO(all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].message == "expected 'rule' but found '='");
  CHECK(r.diagnostics[0].line == 6);
  CHECK(r.diagnostics[0].column == 3);
  REQUIRE(r.file.rules.size() == 2);
  CHECK(r.file.rules[0].id == "one");
  CHECK(r.file.rules[1].id == "two");
}

TEST_CASE("a reserved word cannot be used as a name") {
  SECTION("as a rule id") {
    auto d = one_error("rule not \"t\"\nwhen a\nthen\n  challenge c \"x\"\nend\n");
    CHECK(d.code == "parse.expected");
    CHECK(d.message == "expected a name but found 'not'");
    CHECK(d.line == 1);
    CHECK(d.column == 6);
  }
  SECTION("as an item id") {
    auto d = one_error("rule r\nwhen a\nthen\n  challenge end \"x\"\nend\n");
    CHECK(d.message == "expected a name but found 'end'");
    CHECK(d.line == 4);
    CHECK(d.column == 13);
  }
  SECTION("as a part of a path") {
    auto d = one_error("rule r\nwhen a.when == 1\nthen\n  challenge c \"x\"\nend\n");
    CHECK(d.message == "expected a name but found 'when'");
    CHECK(d.line == 2);
    CHECK(d.column == 8);
  }
  SECTION("as a for-each variable") {
    auto d = one_error("rule r\nfor each in in rs\nwhen a\nthen\n  challenge c \"x\"\nend\n");
    CHECK(d.message == "expected a name but found 'in'");
    CHECK(d.line == 2);
    CHECK(d.column == 10);
  }
}

TEST_CASE("a comparison without its right-hand side") {
  // At the end of a line: the error is where the line ends, which is where
  // the value is missing, and names what the next line starts with.
  auto d = one_error("rule r\nwhen a ==  # the threshold?\nthen\n  challenge c \"x\"\nend\n");
  CHECK(d.code == "parse.expected");
  CHECK(d.message == "expected a value here, but the line ends (what follows is 'then', on line 3)");
  CHECK(d.line == 2);
  CHECK(d.column == 10);
  // Blank and comment lines between: the line named is the one with 'then'.
  auto gap = one_error("rule r\nwhen a ==\n\n  # to do\nthen\n  challenge c \"x\"\nend\n");
  CHECK(gap.message == "expected a value here, but the line ends (what follows is 'then', on line 5)");
  CHECK(gap.line == 2);
  // A condition continued on the next line with 'and' or 'or': the value
  // is missing where the first line ends.
  auto joined = one_error("rule r\nwhen a >=\n  and b\nthen\n  challenge c \"x\"\nend\n");
  CHECK(joined.message == "expected a value here, but the line ends (what follows is 'and', on line 3)");
  CHECK(joined.line == 2);
  CHECK(joined.column == 10);
  auto either = one_error("rule r\nwhen a < \n  or b\nthen\n  challenge c \"x\"\nend\n");
  CHECK(either.message == "expected a value here, but the line ends (what follows is 'or', on line 3)");
  CHECK(either.line == 2);
  CHECK(either.column == 9);
  // A malformed value on the next line is reported where it is.
  auto quoted = one_error("rule r\nwhen a ==\n  'weak'\nthen\n  challenge c \"x\"\nend\n");
  CHECK(quoted.message.rfind("expected a value but found", 0) == 0);
  CHECK(quoted.line == 3);
  CHECK(quoted.column == 3);
  // On the same line: at what stands there instead.
  auto same = one_error("rule r\nwhen a == then\n  challenge c \"x\"\nend\n");
  CHECK(same.message == "expected a value but found 'then'");
  CHECK(same.line == 2);
  CHECK(same.column == 11);
}

TEST_CASE("operators of other languages and a misspelt 'and' get a did-you-mean") {
  auto has = [](const diagnostic& d, const std::string& note) {
    return std::find(d.notes.begin(), d.notes.end(), note) != d.notes.end();
  };
  auto eq = one_error("rule r\nwhen phq9.total = 10\nthen\n  challenge c \"x\"\nend\n");
  CHECK(eq.message == "expected 'then' but found '='");
  CHECK(has(eq, "did you mean '=='? A comparison is written with two equals signs"));
  // The signs of 'at most' and 'at least' swapped (from a lead's trial:
  // told to write '==').
  auto le = one_error("rule r\nwhen support.mspss.mean =< 3\nthen\n  challenge c \"x\"\nend\n");
  CHECK(has(le, "did you mean '<='? 'at most' is written '<=', the '=' second"));
  CHECK_FALSE(has(le, "did you mean '=='? A comparison is written with two equals signs"));
  auto ge = one_error("rule r\nwhen support.mspss.mean => 3\nthen\n  challenge c \"x\"\nend\n");
  CHECK(has(ge, "did you mean '>='? 'at least' is written '>=', the '=' second"));
  auto amp = one_error("rule r\nwhen a && b\nthen\n  challenge c \"x\"\nend\n");
  CHECK(has(amp, "did you mean 'and'?"));
  auto bar = one_error("rule r\nwhen a || b\nthen\n  challenge c \"x\"\nend\n");
  CHECK(has(bar, "did you mean 'or'?"));
  auto adn = one_error("rule r\nwhen a adn b\nthen\n  challenge c \"x\"\nend\n");
  CHECK(adn.message == "expected 'then' but found 'adn'");
  CHECK(has(adn, "did you mean 'and'?"));
}

TEST_CASE("'for' misplaced in an action: 'for each' after an item, the id after 'for', two challenges") {
  auto has = [](const diagnostic& d, const std::string& note) {
    INFO(d.message);
    return std::find(d.notes.begin(), d.notes.end(), note) != d.notes.end();
  };
  auto each = one_error("rule r\nwhen a\nthen\n  solution s for each p in people \"x\"\nend\n");
  CHECK(each.message == "expected a name but found 'each'");
  CHECK(has(each, "'for each' goes before 'when', on a line of its own (for each r in relationships); after a "
                  "solution or goal, 'for' names the challenge it answers"));
  auto order = one_error("rule r\nwhen a\nthen\n  solution for c s \"x\"\nend\n");
  CHECK(order.message == "expected a name but found 'for'");
  CHECK(has(order, "the item's id comes first: solution ID for CHALLENGE \"text\""));
  auto goal = one_error("rule r\nwhen a\nthen\n  goal for c s \"x\"\nend\n");
  CHECK(has(goal, "the item's id comes first: goal ID for CHALLENGE \"text\""));
  auto two = one_error("rule r\nwhen a\nthen\n  solution s for c, d \"x\"\nend\n");
  CHECK(two.message == "expected a quoted text but found ','");
  CHECK(has(two, "an item answers one challenge: write one for each challenge, each with its own id"));
  // A comma elsewhere gets no such note.
  auto other = one_error("rule r\nwhen a\nthen\n  challenge c, \"x\"\nend\n");
  CHECK_FALSE(has(other, "an item answers one challenge: write one for each challenge, each with its own id"));
}

TEST_CASE("an unclosed parenthesis and an unclosed set") {
  SECTION("parenthesis") {
    auto d = one_error("rule r\nwhen (a and b\nthen\n  challenge c \"x\"\nend\n");
    CHECK(d.message == "expected ')' but found 'then'");
    CHECK(d.line == 3);
    CHECK(d.column == 1);
    // Where the bracket left open is, past closed ones, texts and comments.
    REQUIRE_FALSE(d.notes.empty());
    CHECK(d.notes[0] == "the '(' opened on line 2, column 6 is not closed");
    auto inner = one_error("rule r \"a (b\"  # (c\nwhen (a and\n  (b or c)\nthen\n  challenge c \"x\"\nend\n");
    REQUIRE_FALSE(inner.notes.empty());
    CHECK(inner.notes[0] == "the '(' opened on line 2, column 6 is not closed");
  }
  SECTION("the end of the file inside a rule") {
    auto d = one_error("rule ok\nwhen a\nthen\n  challenge c \"x\"\nend\n\nrule r\nwhen a\nthen\n  challenge d \"x\"\n");
    CHECK(d.line == 11);
    CHECK(std::find(d.notes.begin(), d.notes.end(), "the rule that starts on line 7 has no 'end'") != d.notes.end());
  }
  SECTION("set") {
    auto d = one_error("rule r\nwhen x in {\"a\" \"b\"}\nthen\n  challenge c \"x\"\nend\n");
    CHECK(d.message == "expected ',' or '}' but found a quoted text");
    CHECK(d.line == 2);
    CHECK(d.column == 16);
    // A comma with nothing after it: the item is what is missing, at the '}'.
    auto trailing = one_error("rule r\nwhen x in {\"a\", }\nthen\n  challenge c \"x\"\nend\n");
    CHECK(trailing.message == "expected a number, a quoted text, true or false but found '}'");
    CHECK(trailing.line == 2);
    CHECK(trailing.column == 17);
  }
}

TEST_CASE("nesting up to the limit is accepted, one level more is parse.too-deep") {
  parse_options opts;
  opts.max_depth = 5;
  auto text = [](int parens) {
    return "rule r\nwhen " + std::string(static_cast<std::size_t>(parens), '(') + "a" +
           std::string(static_cast<std::size_t>(parens), ')') + "\nthen\n  challenge c \"x\"\nend\n";
  };
  auto ok = parse(text(5), opts);
  INFO(all_diags(ok.diagnostics));
  CHECK(ok.diagnostics.empty());
  CHECK(ok.file.rules.size() == 1);
  auto deep = parse(text(6), opts);
  REQUIRE(deep.diagnostics.size() == 1);
  CHECK(deep.diagnostics[0].code == "parse.too-deep");
  CHECK(deep.diagnostics[0].message ==
        "the condition is nested more than 5 levels deep; split it into simpler rules");
  CHECK(deep.diagnostics[0].line == 2);
  CHECK(deep.file.rules.empty());
}

TEST_CASE("100,000 nested parentheses are parse.too-deep, not a crash") {
  const std::size_t n = 100000;
  std::string text = "rule deep\nwhen " + std::string(n, '(') + "a" + std::string(n, ')') +
                     "\nthen\n  challenge c \"x\"\nend\n\nrule after\nwhen b\nthen\n  challenge d \"y\"\nend\n";
  auto r = parse(text);
  REQUIRE(r.diagnostics.size() == 1);
  const auto& d = r.diagnostics[0];
  CHECK(d.code == "parse.too-deep");
  CHECK(d.message ==
        "the condition is nested more than 100 levels deep; split it into simpler rules");
  CHECK(d.line == 2);
  // It points into the parentheses, just past the 100th.
  CHECK(d.column > 6 + 100);
  CHECK(d.column <= 6 + 102);
  // The rule after it still parses.
  REQUIRE(r.file.rules.size() == 1);
  CHECK(r.file.rules[0].id == "after");
}

TEST_CASE("100,000 'not not ...' are parse.too-deep, not a crash") {
  std::string nots;
  for (int i = 0; i < 100000; ++i) nots += "not ";
  auto r = parse("rule deep\nwhen " + nots + "a\nthen\n  challenge c \"x\"\nend\n");
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].code == "parse.too-deep");
  CHECK(r.diagnostics[0].line == 2);
  CHECK(r.file.rules.empty());
}

TEST_CASE("100,000 unary minus signs are parse.too-deep, not a crash") {
  std::string minus;
  for (int i = 0; i < 100000; ++i) minus += "- ";
  auto r = parse("rule deep\nwhen " + minus + "a > 1\nthen\n  challenge c \"x\"\nend\n");
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].code == "parse.too-deep");
  CHECK(r.diagnostics[0].line == 2);
}

TEST_CASE("deeply nested quantifiers are parse.too-deep, not a crash") {
  std::string cond;
  for (int i = 0; i < 20000; ++i) cond += "any(x in xs: ";
  cond += "a";
  cond += std::string(20000, ')');
  auto r = parse("rule deep\nwhen " + cond + "\nthen\n  challenge c \"x\"\nend\n");
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].code == "parse.too-deep");
}

TEST_CASE("invalid UTF-8 is parse.encoding at the first bad byte") {
  SECTION("a lone continuation byte") {
    auto d = one_error("rule r1 \"caf\xA9\"\nwhen a\nthen\n  challenge c \"x\"\nend\n");
    CHECK(d.code == "parse.encoding");
    CHECK(d.message == "this file is not valid UTF-8 text; save it as UTF-8");
    CHECK(d.line == 1);
    CHECK(d.column == 13);
  }
  SECTION("a Latin-1 byte after valid multi-byte text, on a later line") {
    auto d = one_error("# caf\xC3\xA9\nrule r1\nwhen a\nthen\n  challenge c \"na\xEFve\"\nend\n");
    CHECK(d.code == "parse.encoding");
    CHECK(d.line == 5);
    CHECK(d.column == 18);
  }
  SECTION("a truncated sequence at the end of the file") {
    auto d = one_error("rule r1\n# \xE2\x82");
    CHECK(d.code == "parse.encoding");
    CHECK(d.line == 2);
    CHECK(d.column == 3);
  }
  SECTION("an overlong encoding") {
    auto d = one_error("# \xC0\xAF\n");
    CHECK(d.code == "parse.encoding");
    CHECK(d.line == 1);
    CHECK(d.column == 3);
  }
}

TEST_CASE("binary garbage is an error, not a crash") {
  SECTION("random bytes") {
    std::mt19937 gen(12345);
    for (int round = 0; round < 50; ++round) {
      std::string text;
      for (int i = 0; i < 2000; ++i) text += static_cast<char>(gen() & 0xFF);
      auto r = parse(text);
      CHECK_FALSE(r.diagnostics.empty());
      CHECK(has_errors(r.diagnostics));
    }
  }
  SECTION("valid UTF-8 made of control characters, NULs and punctuation") {
    std::mt19937 gen(777);
    const std::string alphabet = std::string("\x00\x01\x02\x07\x1b\x7f(){}\"#=<>!-+*/,.:_ \n\t", 27) +
                                 "rule when then end not and or";
    for (int round = 0; round < 200; ++round) {
      std::string text;
      for (int i = 0; i < 300; ++i) text += alphabet[gen() % alphabet.size()];
      auto r = parse(text);
      // Whatever it holds, parsing ends; an error is reported unless every
      // rule in it parsed.
      for (const auto& d : r.diagnostics) {
        CHECK(d.line >= 1);
        CHECK(d.column >= 1);
      }
    }
  }
  SECTION("a NUL byte at top level") {
    auto d = one_error(std::string("\0\x01garbage", 9));
    CHECK(d.code == "parse.expected");
    CHECK(d.message == "expected 'rule' but found a control character");
    CHECK(d.line == 1);
    CHECK(d.column == 1);
  }
}

TEST_CASE("every syntax error names what was expected in words: no C++ type name, whatever token is dropped or replaced") {
  // From a clinical lead's trial: 'x is not known' printed a mangled Spirit
  // type as what was expected. Each token of a rule using every construct
  // is dropped, then replaced by a stray word, and by a stray symbol.
  const std::string good = R"rules(rule r "Title"
  priority 70
  tags a_tag, other
  source "domain I7"
for each p in people
when
  (a == true or not b) and a is known and p.age >= 3 + 2 * 1
  and p.role in {"x", "y"} and count(q in people: q.age > -1) >= 1
  and p.labels contains "z" and a is provisional
provisional when a is missing
then
  challenge c "text {p.role}"
  solution s for c "text"
  goal g for c by session 6 "text"
  flag warning f "text"
  conclude fact.x = 1
  exclude other_item
because
  "why"
end
)rules";
  std::vector<std::pair<std::size_t, std::size_t>> tokens;  // offset, length
  for (std::size_t i = 0; i < good.size();) {
    if (std::isspace(static_cast<unsigned char>(good[i]))) {
      ++i;
      continue;
    }
    std::size_t j = i;
    if (good[i] == '"') {
      j = good.find('"', i + 1) + 1;
    } else if (std::isalnum(static_cast<unsigned char>(good[i])) || good[i] == '_') {
      while (j < good.size() && (std::isalnum(static_cast<unsigned char>(good[j])) || good[j] == '_' || good[j] == '.')) ++j;
    } else {
      j = i + 1;
    }
    tokens.emplace_back(i, j - i);
    i = j;
  }
  REQUIRE(tokens.size() > 100);
  REQUIRE_FALSE(has_errors(parse(good).diagnostics));
  std::size_t broken = 0;
  for (const auto& [at, len] : tokens) {
    for (const std::string& with : {std::string(), std::string("zork"), std::string("%")}) {
      std::string text = good;
      text.replace(at, len, with);
      auto r = parse(text);
      for (const auto& d : r.diagnostics) {
        INFO(text.substr(0, at) << "<<here>>");
        INFO(d.message);
        CHECK(d.message.find("boost") == std::string::npos);
        CHECK(d.message.find("something else") == std::string::npos);
        CHECK(d.message.find("N5") == std::string::npos);
        for (const auto& n : d.notes) CHECK(n.find("boost") == std::string::npos);
      }
      broken += has_errors(r.diagnostics) ? 1 : 0;
    }
  }
  CHECK(broken > tokens.size());  // most changes break the rule, as they should
}

TEST_CASE("'x is not known' says what may follow 'is' and how to write it") {
  auto d = one_error("rule r\nwhen\n  a is not known\nthen\n  flag info f \"t\"\nbecause \"w\"\nend\n");
  CHECK(d.message == "expected 'known', 'missing' or 'provisional' but found 'not'");
  CHECK(d.line == 3);
  CHECK(d.column == 8);
  REQUIRE(d.notes.size() == 1);
  CHECK(d.notes[0] == "for a finding that is not on file write 'x is missing' (or 'not (x is known)')");
  // 'is not missing' is pointed at 'is known', never at its opposite.
  auto not_missing = one_error("rule r\nwhen\n  a is not missing\nthen\n  flag info f \"t\"\nbecause \"w\"\nend\n");
  REQUIRE(not_missing.notes.size() == 1);
  CHECK(not_missing.notes[0] == "for a finding that is on file write 'x is known' (or 'not (x is missing)')");
  auto not_prov = one_error("rule r\nwhen\n  a is not provisional\nthen\n  flag info f \"t\"\nbecause \"w\"\nend\n");
  REQUIRE(not_prov.notes.size() == 1);
  CHECK(not_prov.notes[0] == "write 'not (x is provisional)'");
  auto typo = one_error("rule r\nwhen\n  a is kown\nthen\n  flag info f \"t\"\nbecause \"w\"\nend\n");
  REQUIRE(typo.notes.size() == 1);
  CHECK(typo.notes[0] == "did you mean 'known'?");
}

TEST_CASE("a rule without its 'end' before the next rule: the note names the rule that has none") {
  auto r = parse("rule first\nwhen\n  a\nthen\n  flag info f \"t\"\nbecause \"w\"\n\nrule second\nwhen\n  b\nthen\n"
                 "  flag info g \"t\"\nbecause \"w\"\nend\n");
  REQUIRE(has_errors(r.diagnostics));
  const auto& d = r.diagnostics.front();
  CHECK(d.message == "expected 'end' but found 'rule'");
  CHECK(d.line == 8);
  REQUIRE_FALSE(d.notes.empty());
  CHECK(d.notes.back() == "the rule that starts on line 1 has no 'end'");
}

TEST_CASE("after errors the parser resumes at the next rule: two broken rules, two errors, a good rule") {
  auto r = parse(R"(rule bad1
when a
  challenge c "x"
end

rule bad2 "t"
when b ==
then
  challenge d "y"
end

rule good
when c
then
  challenge e "z"
end
)");
  INFO(all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.size() == 2);
  CHECK(r.diagnostics[0].message == "expected 'then' but found 'challenge'");
  CHECK(r.diagnostics[0].line == 3);
  CHECK(r.diagnostics[0].column == 3);
  CHECK(r.diagnostics[1].message.rfind("expected a value here, but the line ends", 0) == 0);
  CHECK(r.diagnostics[1].line == 7);
  CHECK(r.diagnostics[1].column == 10);
  REQUIRE(r.file.rules.size() == 1);
  CHECK(r.file.rules[0].id == "good");
  CHECK(ast::to_string(r.file.rules[0].condition) == "c");
}

TEST_CASE("recovery: broken rules between good ones") {
  auto r = parse(R"(rule first
when a
then
  challenge c "x"
end
rule broken1
when a and
then
  challenge c "x"
end
  rule second
  when b
  then
    challenge d "y"
  end
rule broken2 priority
when a
then
  challenge c "x"
end
rule third
when c
then
  exclude d
end
)");
  INFO(all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.size() == 2);
  CHECK(r.diagnostics[0].line == 7);
  CHECK(r.diagnostics[0].message.rfind("expected a condition here, but the line ends", 0) == 0);
  CHECK(r.diagnostics[1].line == 17);
  CHECK(r.diagnostics[1].message == "expected a number but found 'when'");
  REQUIRE(r.file.rules.size() == 3);
  CHECK(r.file.rules[0].id == "first");
  CHECK(r.file.rules[1].id == "second");
  CHECK(r.file.rules[2].id == "third");
}

// ---------------------------------------------------------------------------
// Rendering of diagnostics

TEST_CASE("format: location, level, message and code, then the source line and a caret") {
  auto d = one_error("rule r1\nwhen a\n  challenge c \"x\"\nend\n");
  CHECK(format(d) ==
        "t.rules:3:3: error: expected 'then' but found 'challenge' [parse.expected]\n"
        "      challenge c \"x\"\n"
        "      ^\n");
}

TEST_CASE("format: the column counts code points, so the caret sits under the character") {
  auto d = one_error("rule r1 \"caf\xC3\xA9\" priority x\nwhen a\nthen\n  challenge c \"x\"\nend\n");
  CHECK(d.message == "expected a number but found 'x'");
  CHECK(d.line == 1);
  CHECK(d.column == 25);
  CHECK(format(d) ==
        "t.rules:1:25: error: expected a number but found 'x' [parse.expected]\n"
        "    rule r1 \"caf\xC3\xA9\" priority x\n" +
            std::string(4 + 24, ' ') + "^\n");
}

TEST_CASE("source: line and column by code points across index blocks, and back") {
  // A line of 20,000 characters, every third one two bytes long, then a
  // short line: columns past the index's 4,096-byte blocks.
  std::string line;
  for (int i = 0; i < 20000; ++i) line += (i % 3 == 0) ? "\xC3\xA9" : "a";
  source_file src("t", "x\n" + line + "\nend\n");
  std::uint32_t start = 2;
  std::uint32_t offset = start;
  for (int col = 1; col <= 20000; ++col) {
    if (col % 997 == 1 || col == 20000) {
      auto loc = src.locate(offset);
      CHECK(loc.line == 2);
      CHECK(loc.column == col);
      CHECK(src.offset_of(2, col) == offset);
    }
    offset += ((col - 1) % 3 == 0) ? 2 : 1;
  }
  CHECK(src.locate(offset + 1).line == 3);
  CHECK(src.locate(offset + 1).column == 1);
  CHECK(src.offset_of(2, 20001) == offset);  // the line's end
  CHECK(src.offset_of(2, 50000) == offset);  // past it: the line's end too
  CHECK(src.offset_of(3, 2) == offset + 2);
  CHECK(src.offset_of(9, 1) == src.text().size());
}

TEST_CASE("format: a diagnostic on a long line keeps only the window it shows") {
  std::string line(100000, 'a');
  line[70000] = 'X';
  source_file src("t", "first\n" + line + "\n");
  auto d = make_diagnostic(src, 6 + 70000, severity::error, "x.y", "here");
  CHECK(d.line == 2);
  CHECK(d.column == 70001);
  CHECK(d.source_line.size() == 120);  // not the whole line
  std::string shown = format(d);
  std::vector<std::string> lines;
  for (std::size_t at = 0, nl; (nl = shown.find('\n', at)) != std::string::npos; at = nl + 1) {
    lines.push_back(shown.substr(at, nl - at));
  }
  REQUIRE(lines.size() == 3);
  const std::string& text_line = lines[1];
  auto caret = lines[2].find('^');
  REQUIRE(caret != std::string::npos);
  CHECK(text_line[caret] == 'X');  // the caret under the character
  // Cut on both sides, and marked so: never read as the line's start.
  CHECK(text_line.rfind("    ...a", 0) == 0);
  CHECK(text_line.size() >= 3);
  CHECK(text_line.compare(text_line.size() - 3, 3, "...") == 0);
}

TEST_CASE("format: a line that fits is shown whole, from its start, whatever the column") {
  // From a lead's trial: an unclosed quote at column 85 of an 85-character
  // line showed '     conflict_avoidance "Avoids...', 'rule' cut off.
  std::string line = "rule conflict_avoidance \"Avoids conflict with someone close, and says so quite often";
  REQUIRE(line.size() < 120);
  source_file src("t", line + "\n");
  auto d = make_diagnostic(src, static_cast<std::uint32_t>(line.size()), severity::error, "x.y", "here");
  std::string shown = format(d);
  CHECK(shown.find("\n    " + line + "\n") != std::string::npos);
  CHECK(shown.find("...") == std::string::npos);
  CHECK(shown.find("\n    " + std::string(line.size(), ' ') + "^\n") != std::string::npos);
}

TEST_CASE("format: a tab before the column is kept in the caret line") {
  auto d = one_error("rule r1\nwhen a\n\tchallenge c \"x\"\nend\n");
  CHECK(d.line == 3);
  CHECK(d.column == 2);
  CHECK(format(d) ==
        "t.rules:3:2: error: expected 'then' but found 'challenge' [parse.expected]\n"
        "    \tchallenge c \"x\"\n"
        "    \t^\n");
}

TEST_CASE("format: notes follow the caret, and a diagnostic without a line has no caret") {
  diagnostic d;
  d.level = severity::warning;
  d.code = "x.y";
  d.file = "f.toml";
  d.message = "something";
  d.notes = {"did you mean 'z'?"};
  CHECK(format(d) == "f.toml: warning: something [x.y]\n    note: did you mean 'z'?\n");
}

TEST_CASE("a rule set reports parse errors under the rule file's display name") {
  std::vector<diagnostic> diags;
  auto rs = load("rule r1\nwhen a\n  challenge c \"x\"\nend\n", diags);
  CHECK_FALSE(rs);
  REQUIRE_FALSE(diags.empty());
  bool found = false;
  for (const auto& d : diags) {
    if (d.code == "parse.expected") {
      found = true;
      CHECK(d.file == "t/a.rules");
      CHECK(d.line == 3);
      CHECK(d.column == 3);
    }
  }
  CHECK(found);
}

TEST_CASE("a rule using every construct parses and loads into a rule set") {
  std::vector<diagnostic> diags;
  auto rs = load(R"(rule everything "All of it"
  priority 60
  tags x, y
  source "here"
when
  (a or not b) and a is known and (b is missing) == false
then
  challenge ch "c {a}"
  solution so for ch "s"
  goal g for ch "g"
  goal g2 "g2"
  flag warning fl "f"
  conclude done
  conclude how = "much"
because "because {b}"
end

rule remover
when done
then
  exclude g2
end
)",
                 diags);
  INFO(all_diags(diags));
  CHECK_FALSE(has_errors(diags));
  REQUIRE(rs);
  CHECK(rs->prog->rules.size() == 2);
}

TEST_CASE("'provisional when' parses after the condition, and 'is provisional' as a test") {
  auto r = parse(
      "rule r\nwhen a and b\nprovisional when a or x.y is provisional\nthen\n  challenge c \"x\"\nend\n");
  INFO(all_diags(r.diagnostics));
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.file.rules.size() == 1);
  REQUIRE(r.file.rules[0].provisional.has_value());
  CHECK(ast::to_string(r.file.rules[0]) ==
        "rule r\n  when (and a b)\n  provisional when (or a (is-provisional x.y))\n  challenge c \"x\"");
  auto plain = parse("rule r\nwhen a\nthen\n  challenge c \"x\"\nend\n");
  REQUIRE(plain.file.rules.size() == 1);
  CHECK_FALSE(plain.file.rules[0].provisional.has_value());
}

TEST_CASE("'provisional' is a reserved word, and needs 'when' and a condition") {
  auto word = parse("rule provisional\nwhen a\nthen\n  challenge c \"x\"\nend\n");
  REQUIRE_FALSE(word.diagnostics.empty());
  CHECK(word.diagnostics[0].code == "parse.expected");
  auto no_when = parse("rule r\nwhen a\nprovisional a\nthen\n  challenge c \"x\"\nend\n");
  REQUIRE_FALSE(no_when.diagnostics.empty());
  CHECK(no_when.diagnostics[0].message == "expected 'when' but found 'a'");
  CHECK(no_when.diagnostics[0].line == 3);
  CHECK(no_when.diagnostics[0].column == 13);
  auto misspelt = parse("rule r\nwhen a\nprovisonal when b\nthen\n  challenge c \"x\"\nend\n");
  REQUIRE_FALSE(misspelt.diagnostics.empty());
  CHECK(misspelt.diagnostics[0].message == "expected 'then' but found 'provisonal'");
  CHECK(misspelt.diagnostics[0].notes == std::vector<std::string>{"did you mean 'provisional'?"});
  auto no_cond = parse("rule r\nwhen a\nprovisional when\nthen\n  challenge c \"x\"\nend\n");
  REQUIRE_FALSE(no_cond.diagnostics.empty());
  CHECK(no_cond.diagnostics[0].line == 3);
  CHECK(no_cond.diagnostics[0].message ==
        "expected a condition here, but the line ends (what follows is 'then', on line 4)");
}

TEST_CASE("printable: bidirectional controls are escaped, other characters kept") {
  // RIGHT-TO-LEFT OVERRIDE would show "exe.txt" as "txt.exe"-like text.
  CHECK(printable("a\xE2\x80\xAE" "b") == "a\\xe2\\x80\\xaeb");
  CHECK(printable("\xE2\x81\xA6x\xE2\x81\xA9") == "\\xe2\\x81\\xa6x\\xe2\\x81\\xa9");
  CHECK(printable("\xE2\x80\x8F\xD8\x9C") == "\\xe2\\x80\\x8f\\xd8\\x9c");
  // Line and paragraph separators, zero-width and invisible characters,
  // and a byte-order mark inside a text.
  CHECK(printable("a\xE2\x80\xA8" "b\xE2\x80\xA9") == "a\\xe2\\x80\\xa8b\\xe2\\x80\\xa9");
  CHECK(printable("M\xE2\x80\x8B" "ary") == "M\\xe2\\x80\\x8bary");
  CHECK(printable("x\xE2\x81\xA0y\xEF\xBB\xBFz") == "x\\xe2\\x81\\xa0y\\xef\\xbb\\xbfz");
  // Neighbours that are not controls stay: an en dash, a right quote, an
  // Arabic letter, an ellipsis and a per-mille sign.
  CHECK(printable("\xE2\x80\x93 \xE2\x80\x99 \xD8\xA8") == "\xE2\x80\x93 \xE2\x80\x99 \xD8\xA8");
  CHECK(printable("\xE2\x80\xA6 \xE2\x80\xB0") == "\xE2\x80\xA6 \xE2\x80\xB0");
}

TEST_CASE("format: control characters are escaped, and the caret still points at the column") {
  diagnostic d;
  d.file = "f\x1b.rules";
  d.line = 1;
  d.column = 4;
  d.message = "bad \x1b[31m thing\nforged: error";
  d.source_line = "a\x07" "b c";
  d.notes = {"note \x9b"};
  std::string out = format(d);
  CHECK(out.find('\x1b') == std::string::npos);
  CHECK(out.find('\x07') == std::string::npos);
  CHECK(out.find("f\\x1b.rules:1:4: error: bad \\x1b[31m thing\\x0aforged: error") == 0);
  // "a\x07b c": column 4 is 'c' (a, BEL, b, space... counted in code points).
  CHECK(out.find("    a\\x07b c\n          ^\n") != std::string::npos);
  CHECK(printable("keep\nlines\tand tabs", true) == "keep\nlines\tand tabs");
  CHECK(printable("one line\n") == "one line\\x0a");
  CHECK(printable("c1 \xc2\x9b here") == "c1 \\xc2\\x9b here");
  CHECK(printable("caf\xc3\xa9") == "caf\xc3\xa9");
  // Bytes that are not UTF-8 (binary garbage) are escaped too.
  CHECK(printable("a\xff" "b\xc3") == "a\\xff" "b\\xc3");
}

TEST_CASE("quotes of other kinds, a decimal comma and a missing 'and' between two lines get a hint") {
  auto has = [](const diagnostic& d, const std::string& note) {
    INFO(d.message);
    return std::find(d.notes.begin(), d.notes.end(), note) != d.notes.end();
  };
  // From a lead's trial: each of these said only what was expected.
  auto single = one_error("rule r\nwhen a == 'weak'\nthen\n  challenge c \"x\"\nend\n");
  CHECK(has(single, "texts and choices are written in straight double quotes: \"weak\", not 'weak'"));
  auto curly = one_error("rule r\nwhen a == \xE2\x80\x9Cweak\xE2\x80\x9D\nthen\n  challenge c \"x\"\nend\n");
  CHECK(has(curly, "curly quotes (as a word processor types them) are not quotes here: write straight double "
                   "quotes, \"weak\""));
  auto item = one_error("rule r\nwhen a\nthen\n  challenge c \xE2\x80\x9Cx\xE2\x80\x9D\nend\n");
  CHECK(has(item, "curly quotes (as a word processor types them) are not quotes here: write straight double "
                  "quotes, \"weak\""));
  auto comma = one_error("rule r\nwhen score < 3,5\nthen\n  challenge c \"x\"\nend\n");
  CHECK(comma.message == "expected 'then' but found ','");
  CHECK(has(comma, "a number with decimals is written with a point: 3.5, not 3,5"));
  // A comma that is no decimal gets no such note.
  auto list = one_error("rule r\nwhen score < 3, b\nthen\n  challenge c \"x\"\nend\n");
  CHECK_FALSE(has(list, "a number with decimals is written with a point: 3.5, not 3,5"));
  const std::string joined = "two conditions are joined by 'and' or 'or': is one missing at the end of the line "
                             "before, or at the start of this one?";
  auto two = one_error("rule r\nwhen\n  a == true\n  b == true\nthen\n  challenge c \"x\"\nend\n");
  CHECK(two.message == "expected 'then' but found 'b'");
  CHECK(two.line == 4);
  CHECK(has(two, joined));
  auto group = one_error("rule r\nwhen\n  a == true\n  (b == true)\nthen\n  challenge c \"x\"\nend\n");
  CHECK(has(group, joined));
  // A misspelt keyword on its own line is that, not a missing 'and'.
  auto thn = one_error("rule r\nwhen\n  a == true\nthn\n  challenge c \"x\"\nend\n");
  CHECK(has(thn, "did you mean 'then'?"));
  CHECK_FALSE(has(thn, joined));
  auto action = one_error("rule r\nwhen\n  a == true\n  challenge c \"x\"\nend\n");
  CHECK_FALSE(has(action, joined));
  // On the same line, a word after a condition is not a line of its own.
  auto inline_word = one_error("rule r\nwhen a == true b\nthen\n  challenge c \"x\"\nend\n");
  CHECK_FALSE(has(inline_word, joined));
}

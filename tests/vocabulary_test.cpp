// Tests of the rule set's own files: vocabulary.toml declarations and
// ruleset.toml (metadata and parameters). Every mistake is an error with its
// place; nothing is silently ignored.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/evaluator.hpp"
#include "engine/findings.hpp"
#include "engine/plan.hpp"
#include "engine/ruleset.hpp"
#include "support.hpp"

using namespace iptplan;
using namespace iptplan::test_support;

namespace {

const char* const kRule = "rule r \"R\"\nwhen a\nthen\n  challenge c \"x\"\nend\n";

struct loaded {
  std::optional<rule_set> rs;
  std::vector<diagnostic> diags;
};

loaded load(const std::string& vocab, const std::string& manifest = "name = \"t\"\nversion = \"1\"\n",
            const std::string& rules = kRule) {
  auto files = in_memory_rule_set(vocab, {{"a.rules", rules}});
  files[0].text = manifest;
  loaded l;
  l.rs = load_rule_set(files, "test", l.diags);
  return l;
}

const diagnostic* first(const loaded& l, const std::string& code) {
  for (const auto& d : l.diags) {
    if (d.code == code) return &d;
  }
  return nullptr;
}

const std::string kA = "[a]\ntype = \"bool\"\n";

}  // namespace

TEST_CASE("vocabulary: a misspelt key of a declaration is an error, with a suggestion") {
  auto l = load(kA + "[score]\ntype = \"int\"\nmin = 0\nmaxx = 27\n");
  INFO(all_diags(l.diags));
  CHECK_FALSE(l.rs);
  const auto* d = first(l, "vocabulary.invalid");
  REQUIRE(d);
  CHECK(d->line == 6);
  CHECK(d->message == "'maxx' is not a key of a finding declaration ('score')");
  REQUIRE(d->notes.size() == 1);
  CHECK(d->notes[0] == "did you mean 'max'?");
}

TEST_CASE("vocabulary: min above max, values on a number, a value listed twice, a reserved word") {
  SECTION("min above max") {
    auto l = load(kA + "[score]\ntype = \"int\"\nmin = 9\nmax = 1\n");
    REQUIRE(first(l, "vocabulary.invalid"));
    CHECK(first(l, "vocabulary.invalid")->message == "'min' of 'score' is greater than its 'max'");
  }
  SECTION("values on an int") {
    auto l = load(kA + "[score]\ntype = \"int\"\nvalues = [\"x\"]\n");
    REQUIRE(first(l, "vocabulary.invalid"));
    CHECK(first(l, "vocabulary.invalid")->message == "'score' is not an enum, so it takes no 'values'");
  }
  SECTION("a value listed twice") {
    auto l = load(kA + "[level]\ntype = \"enum\"\nvalues = [\"low\", \"high\", \"low\"]\n");
    REQUIRE(first(l, "vocabulary.invalid"));
    CHECK(first(l, "vocabulary.invalid")->message == "'level' lists the value \"low\" twice");
  }
  SECTION("a reserved word no rule could name") {
    auto l = load(kA + "[alliance.goal]\ntype = \"int\"\n");
    REQUIRE(first(l, "vocabulary.invalid"));
    CHECK(first(l, "vocabulary.invalid")->message ==
          "'alliance.goal' uses the reserved word 'goal', which rules cannot name; rename it");
  }
  SECTION("a broken pattern") {
    auto l = load(kA + "[id]\ntype = \"string\"\npattern = \"[A-\"\n");
    REQUIRE(first(l, "vocabulary.invalid"));
    CHECK(first(l, "vocabulary.invalid")->message ==
          "'pattern' of 'id' is not a valid regular expression (RE2 syntax: no back-references or look-around)");
    auto back = load(kA + "[id]\ntype = \"string\"\npattern = \"(a)\\\\1\"\n");
    REQUIRE(first(back, "vocabulary.invalid"));
  }
  SECTION("pattern_words without a pattern, or not a text") {
    for (const std::string& decl : {std::string("pattern_words = \"letters\"\n"),
                                    std::string("pattern = \"[a-z]+\"\npattern_words = 3\n")}) {
      INFO(decl);
      auto l = load(kA + "[id]\ntype = \"string\"\n" + decl);
      REQUIRE(first(l, "vocabulary.invalid"));
      CHECK(first(l, "vocabulary.invalid")->message ==
            "'pattern_words' of 'id' must be a quoted text of at most 200 characters, beside a 'pattern' it puts in "
            "words");
    }
  }
}

TEST_CASE("vocabulary: a pattern that backtracks without end elsewhere is matched in linear time") {
  // (a*)*b against 199 a's: exponential for a backtracking matcher.
  auto l = load(kA + "[client.id]\ntype = \"string\"\npattern = \"(a*)*b\"\n");
  REQUIRE(l.rs.has_value());
  std::vector<diagnostic> d;
  auto c = read_findings(*l.rs->prog, "f.toml", "[client]\nid = \"" + std::string(199, 'a') + "\"\n", {}, d);
  CHECK_FALSE(c.has_value());
  REQUIRE(d.size() == 1);
  CHECK(d[0].code == "findings.value");
  std::vector<diagnostic> ok;
  CHECK(read_findings(*l.rs->prog, "f.toml", "[client]\nid = \"" + std::string(199, 'a') + "b\"\n", {}, ok));
}

TEST_CASE("vocabulary: a string finding's pattern is enforced, without quoting the value") {
  auto l = load(kA + "[client.id]\ntype = \"string\"\npattern = \"C-[0-9]+\"\nquestion = \"A pseudonymous id.\"\n");
  REQUIRE(l.rs);
  std::vector<diagnostic> diags;
  CHECK(read_findings(*l.rs->prog, "f.toml", "[client]\nid = \"C-12\"\n", {}, diags));
  CHECK(diags.empty());
  CHECK_FALSE(read_findings(*l.rs->prog, "f.toml", "[client]\nid = \"Mary Smith\"\n", {}, diags));
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].code == "findings.value");
  CHECK(diags[0].line == 2);
  CHECK(diags[0].message == "'client.id' does not have the form the vocabulary asks for (pattern C-[0-9]+)");
  CHECK(format(diags[0]).find("Mary") == std::string::npos);
}

TEST_CASE("findings: control characters are refused, a group given a value is a type error") {
  auto l = load(kA + "[note]\ntype = \"string\"\n[phq9.total]\ntype = \"int\"\n");
  REQUIRE(l.rs);
  std::vector<diagnostic> diags;
  CHECK_FALSE(read_findings(*l.rs->prog, "f.toml", "note = \"a\\nb\"\n", {}, diags));
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].message == "'note' contains a line break or another control character");
  diags.clear();
  CHECK_FALSE(read_findings(*l.rs->prog, "f.toml", "phq9 = 14\n", {}, diags));
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].code == "findings.type");
  CHECK(diags[0].message == "'phq9' is a group of findings, not a value: write [phq9] and under it total");
}

TEST_CASE("ruleset.toml: unknown keys and an unknown status are errors") {
  auto l = load(kA, "name = \"t\"\nversion = \"1\"\nreveiw_date = 2027-01-01\nstatus = \"drafft\"\n");
  INFO(all_diags(l.diags));
  CHECK_FALSE(l.rs);
  REQUIRE(with_code(l.diags, "ruleset.manifest").size() == 2);
  auto ds = with_code(l.diags, "ruleset.manifest");
  std::sort(ds.begin(), ds.end(), [](const diagnostic& x, const diagnostic& y) { return x.line < y.line; });
  CHECK(ds[0].message == "'reveiw_date' is not a key of ruleset.toml");
  CHECK(ds[0].notes.at(0) == "did you mean 'review_date'?");
  CHECK(ds[1].message == "status must be \"draft\", \"approved\" or \"retired\"");
}

TEST_CASE("ruleset.toml: a review date is written YYYY-MM-DD, as a date or a text") {
  for (const std::string ok : {"review_date = 2027-05-01\n", "review_date = \"2027-05-01\"\n"}) {
    auto l = load(kA, "name = \"t\"\nversion = \"1\"\n" + ok);
    INFO(ok << all_diags(l.diags));
    REQUIRE(l.rs);
    CHECK(l.rs->info.review_date == "2027-05-01");
  }
  for (const std::string bad : {"review_date = \"2026-5-1\"\n", "review_date = \"2026-13-01\"\n",
                                "review_date = \"soon\"\n", "review_date = \"2026-05-00\"\n",
                                "review_date = \"\"\n"}) {
    auto l = load(kA, "name = \"t\"\nversion = \"1\"\n" + bad);
    INFO(bad);
    CHECK_FALSE(l.rs);
    auto ds = with_code(l.diags, "ruleset.manifest");
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].message == "review_date must be a date written YYYY-MM-DD (2027-05-01)");
    CHECK(ds[0].line == 3);
  }
}

TEST_CASE("ruleset.toml: a name, version or status written as an empty text is an error, never taken as left out") {
  struct bad_case {
    std::string manifest, message;
  };
  for (const auto& [manifest, message] : std::vector<bad_case>{
           {"name = \"\"\nversion = \"1\"\n", "'name' must not be empty"},
           {"name = \"t\"\nversion = \"  \"\n", "'version' must not be empty"},
           {"name = \"t\"\nversion = \"1\"\nstatus = \"\"\n", "status must be \"draft\", \"approved\" or \"retired\""}}) {
    auto l = load(kA, manifest);
    INFO(manifest);
    CHECK_FALSE(l.rs);
    auto ds = with_code(l.diags, "ruleset.manifest");
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].message == message);
    CHECK(ds[0].line > 0);
  }
}

TEST_CASE("ruleset.toml: summary lists derived facts the rules conclude, at most 8, in quotes") {
  const std::string rules = "rule r \"R\"\nwhen a\nthen\n  conclude x.fact\n  challenge c \"C\"\nend\n";
  auto ok = load(kA, "name = \"t\"\nversion = \"1\"\nsummary = [\"x.fact\"]\n", rules);
  INFO(all_diags(ok.diags));
  REQUIRE(ok.rs);
  CHECK(ok.rs->info.summary == std::vector<std::string>{"x.fact"});
  CHECK(ok.rs->info.summary_labels == std::vector<std::string>{"x.fact"});
  auto labelled = load(kA, "name = \"t\"\nversion = \"1\"\nsummary = [{ fact = \"x.fact\", label = \"The X\" }]\n", rules);
  REQUIRE(labelled.rs);
  CHECK(labelled.rs->info.summary_labels == std::vector<std::string>{"The X"});
  CHECK(labelled.rs->info.summary_none == std::vector<std::string>{""});
  CHECK(labelled.rs->info.summary_hide_none == std::vector<bool>{false});
  auto worded = load(kA,
                     "name = \"t\"\nversion = \"1\"\nsummary = [{ fact = \"x.fact\", label = \"The X\", none = "
                     "\"not yet agreed\", hide_none = true }]\n",
                     rules);
  INFO(all_diags(worded.diags));
  REQUIRE(worded.rs);
  CHECK(worded.rs->info.summary_none == std::vector<std::string>{"not yet agreed"});
  CHECK(worded.rs->info.summary_hide_none == std::vector<bool>{true});
  auto unknown = load(kA, "name = \"t\"\nversion = \"1\"\nsummary = [\"x.fakt\"]\n", rules);
  CHECK_FALSE(unknown.rs);
  auto ds = with_code(unknown.diags, "ruleset.manifest");
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].message == "summary names 'x.fakt', which no rule concludes: it lists derived facts");
  CHECK(ds[0].line == 3);
  REQUIRE(ds[0].notes.size() == 1);
  CHECK(ds[0].notes[0] == "did you mean \"x.fact\"?");
  for (const std::string bad : {"summary = \"x.fact\"\n", "summary = [1]\n", "summary = [\"\"]\n",
                                "summary = [{ fact = \"x.fact\" }]\n", "summary = [{ fact = \"x.fact\", label = \"L\", x = 1 }]\n",
                                "summary = [{ fact = \"x.fact\", label = \"L\", none = \"\" }]\n",
                                "summary = [{ fact = \"x.fact\", label = \"L\", none = 1 }]\n",
                                "summary = [{ fact = \"x.fact\", label = \"L\", hide_none = \"yes\" }]\n",
                                "summary = [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\"]\n"}) {
    auto l = load(kA, "name = \"t\"\nversion = \"1\"\n" + bad, rules);
    INFO(bad);
    CHECK_FALSE(l.rs);
    auto b = with_code(l.diags, "ruleset.manifest");
    REQUIRE(b.size() == 1);
    CHECK(b[0].message.find("'summary' must be a list of at most 8 derived facts, each in quotes or as") == 0);
  }
}

TEST_CASE("parameters: read as param.x, checked, and never concluded") {
  const std::string manifest = "name = \"t\"\nversion = \"1\"\n[parameters]\nhigh = 10\nmode = \"individul\"\nspare = 1\n";
  const std::string vocab = kA + "[score]\ntype = \"int\"\n[setting]\ntype = \"enum\"\nvalues = [\"individual\", \"group\"]\n";
  SECTION("a text parameter compared with an enum must be one of its values") {
    auto l = load(vocab, manifest, "rule r \"R\"\nwhen score >= param.high and setting == param.mode\nthen\n  challenge c \"x\"\nend\n");
    const auto* d = first(l, "check.enum-value");
    REQUIRE(d);
    CHECK(d->column == 41);
    CHECK(d->notes.at(0) == "did you mean \"individual\"?");
    CHECK(d->notes.at(1) == "the value comes from param.mode in t/ruleset.toml:5");
    const auto* unused = first(l, "check.unused-parameter");
    REQUIRE(unused);
    CHECK(unused->line == 6);
    CHECK(unused->source_line == "spare = 1");
  }
  SECTION("an unknown parameter, with a suggestion") {
    auto l = load(vocab, manifest, "rule r \"R\"\nwhen score >= param.hihg\nthen\n  challenge c \"x\"\nend\n");
    const auto* d = first(l, "check.unknown-path");
    REQUIRE(d);
    CHECK(d->message == "unknown parameter 'param.hihg'");
    CHECK(d->notes.at(0) ==
          "did you mean 'param.high'? Or, if the rules have it right, correct 'high' in the [parameters] table of "
          "ruleset.toml");
  }
  SECTION("a parameter misspelt in ruleset.toml: its warning names the one the rules read") {
    // From a lead's trial: only the rules were told to change.
    auto l = load(vocab, manifest, "rule r \"R\"\nwhen score >= param.spare_x\nthen\n  challenge c \"x\"\nend\n");
    const diagnostic* unused = nullptr;
    for (const auto& d : l.diags) {
      if (d.message == "parameter 'spare' is set but no rule reads param.spare") unused = &d;
    }
    REQUIRE(unused);
    CHECK(unused->code == "check.unused-parameter");
    REQUIRE_FALSE(unused->notes.empty());
    CHECK(unused->notes.back() ==
          "did you mean 'spare_x'? The rules read param.spare_x, which ruleset.toml does not set");
  }
  SECTION("a rule cannot conclude a parameter") {
    auto l = load(vocab, manifest, "rule r \"R\"\nwhen a\nthen\n  conclude param.high = 3\nend\n");
    REQUIRE(first(l, "check.conclude-finding"));
  }
  SECTION("a broken ruleset.toml is reported alone, not as every parameter unknown") {
    auto l = load(vocab, "name = \"t\"\nversion = \"1\"\n[parameters\nhigh = 10\n",
                  "rule r \"R\"\nwhen score >= param.high\nthen\n  challenge c \"x\"\nend\n");
    CHECK(l.diags.size() == 1);
    CHECK(first(l, "ruleset.syntax"));
  }
}

TEST_CASE("items: one id names one kind of item, proposed once per rule, metadata given once") {
  SECTION("an id used for two kinds") {
    auto l = load(kA, "name = \"t\"\nversion = \"1\"\n",
                  "rule r \"R\"\nwhen a\nthen\n  challenge c \"x\"\n  goal c \"y\"\nend\n");
    const auto* d = first(l, "check.item-kind");
    REQUIRE(d);
    CHECK(d->line == 5);
    CHECK(d->message == "'c' is a goal here but a challenge in rule 'r'; an id names one kind of item");
  }
  SECTION("the same item twice in a rule") {
    auto l = load(kA, "name = \"t\"\nversion = \"1\"\n",
                  "rule r \"R\"\nwhen a\nthen\n  challenge c \"x\"\n  challenge c \"y\"\nend\n");
    REQUIRE(first(l, "check.duplicate-item"));
  }
  SECTION("priority given twice") {
    auto l = load(kA, "name = \"t\"\nversion = \"1\"\n",
                  "rule r \"R\"\n  priority 90\n  priority 10\nwhen a\nthen\n  challenge c \"x\"\nend\n");
    const auto* d = first(l, "check.duplicate-metadata");
    REQUIRE(d);
    CHECK(d->line == 3);
  }
}

TEST_CASE("vocabulary: synonyms suggest a choice for a word typed, must name its values, and are never taken") {
  SECTION("a synonym naming no value, one that is a value, one on a number") {
    auto l = load(kA + "[role]\ntype = \"enum\"\nvalues = [\"partner\", \"parent\"]\n"
                       "synonyms = { spouse = \"partnr\" }\n");
    CHECK_FALSE(l.rs);
    const auto* d = first(l, "vocabulary.invalid");
    REQUIRE(d);
    CHECK(d->line == 6);
    CHECK(d->message == "the synonym 'spouse' of 'role' must name one of its values, in quotes");
    REQUIRE(d->notes.size() == 1);
    CHECK(d->notes[0] == "did you mean 'partner'?");
    auto self = load(kA + "[role]\ntype = \"enum\"\nvalues = [\"partner\", \"parent\"]\n"
                          "synonyms = { parent = \"partner\" }\n");
    REQUIRE(first(self, "vocabulary.invalid"));
    CHECK(first(self, "vocabulary.invalid")->message ==
          "'parent' is a value of 'role' itself, so it cannot be a synonym");
    auto n = load(kA + "[score]\ntype = \"int\"\nsynonyms = { x = \"y\" }\n");
    REQUIRE(first(n, "vocabulary.invalid"));
    CHECK(first(n, "vocabulary.invalid")->message == "'score' is not a choice (enum), so it takes no 'synonyms'");
  }
}

TEST_CASE("vocabulary: labels word enum values in plan texts, and must name its values") {
  SECTION("a label of a value that is not one") {
    auto l = load(kA + "[stage]\ntype = \"enum\"\nvalues = [\"renegotiation\", \"impasse\"]\n"
                       "labels = { renegotiaton = \"still negotiating\" }\n");
    CHECK_FALSE(l.rs);
    const auto* d = first(l, "vocabulary.invalid");
    REQUIRE(d);
    CHECK(d->line == 6);
    CHECK(d->column == 12);  // under the value, not its wording
    CHECK(d->message == "'labels' of 'stage' words 'renegotiaton', which is not one of its values");
    REQUIRE(d->notes.size() == 1);
    CHECK(d->notes[0] == "did you mean 'renegotiation'?");
  }
  SECTION("labels on a number, and an empty label") {
    auto n = load(kA + "[score]\ntype = \"int\"\nlabels = { x = \"y\" }\n");
    REQUIRE(first(n, "vocabulary.invalid"));
    CHECK(first(n, "vocabulary.invalid")->message == "'score' is not a choice (enum), so it takes no 'labels'");
    auto e = load(kA + "[level]\ntype = \"enum\"\nvalues = [\"low\"]\nlabels = { low = \"\" }\n");
    REQUIRE(first(e, "vocabulary.invalid"));
    CHECK(first(e, "vocabulary.invalid")->message ==
          "the label of 'low' in 'level' must be a quoted text of 1 to 120 characters");
    auto blank = load(kA + "[level]\ntype = \"enum\"\nvalues = [\"low\"]\nlabels = { low = \"   \" }\n");
    REQUIRE(first(blank, "vocabulary.invalid"));
  }
  SECTION("a text shows the label, for a finding and a list element's field; the data keeps the value") {
    auto l = load(kA +
                      "[level]\ntype = \"enum\"\nvalues = [\"very_low\", \"high\"]\nlabels = { very_low = \"very low\" }\n"
                      "[events]\ntype = \"table_list\"\n[events.fields.kind]\ntype = \"enum\"\n"
                      "values = [\"job\", \"move\"]\nlabels = { job = \"job change\" }\n",
                  "name = \"t\"\nversion = \"1\"\n",
                  "rule r \"R\"\nwhen level is known\nthen\n  challenge c \"Level {level}\"\nend\n"
                  "rule e \"E\"\nfor each x in events\nwhen x.kind is known\nthen\n  challenge k \"A {x.kind}\"\nend\n");
    INFO(all_diags(l.diags));
    REQUIRE(l.rs);
    std::vector<diagnostic> diags;
    auto c = read_findings(*l.rs->prog, "f.toml",
                           "level = \"very_low\"\n[[events]]\nkind = \"job\"\n[[events]]\nkind = \"move\"\n", {}, diags);
    REQUIRE(c);
    auto ev = evaluate(*l.rs->prog, *c, true);
    auto p = build_plan(*l.rs, *c, ev, "sha");
    std::vector<std::string> texts;
    for (const auto& ch : p.challenges) texts.push_back(ch.text);
    std::sort(texts.begin(), texts.end());
    CHECK(texts == std::vector<std::string>{"A job change", "A move", "Level very low"});
    // The evidence an auditor reads keeps the recorded value.
    bool raw = false;
    for (const auto& ch : p.challenges) {
      for (const auto& r : ch.because) {
        for (const auto& e : r.evidence) {
          for (const auto& [path, v] : e.values) raw = raw || v == "very_low";
        }
      }
    }
    CHECK(raw);
  }
  SECTION("a list shows each value's label, a derived fact the label of its own group's finding") {
    auto l = load(kA +
                      "[concerns]\ntype = \"list\"\nof = \"enum\"\nvalues = [\"low_mood\", \"worry\"]\n"
                      "labels = { low_mood = \"low mood\" }\n"
                      "[focus.agreed]\ntype = \"enum\"\nvalues = [\"low_mood\", \"worry\"]\nlabels = { low_mood = \"low mood\" }\n",
                  "name = \"t\"\nversion = \"1\"\n",
                  "rule r \"R\"\nwhen concerns is known\nthen\n  conclude focus.area = \"low_mood\"\n"
                  "  conclude other.area = \"low_mood\"\n"
                  "  challenge c \"Concerns: {concerns}\"\nend\n"
                  "rule s \"S\"\nwhen focus.area is known\nthen\n"
                  "  challenge d \"Area: {focus.area}; elsewhere: {other.area}\"\nend\n");
    INFO(all_diags(l.diags));
    REQUIRE(l.rs);
    std::vector<diagnostic> diags;
    auto c = read_findings(*l.rs->prog, "f.toml", "concerns = [\"worry\", \"low_mood\"]\n", {}, diags);
    REQUIRE(c);
    auto ev = evaluate(*l.rs->prog, *c, true);
    auto p = build_plan(*l.rs, *c, ev, "sha");
    std::vector<std::string> texts;
    for (const auto& ch : p.challenges) texts.push_back(ch.text);
    std::sort(texts.begin(), texts.end());
    // A fact of the finding's group takes its wording; a fact of another
    // group keeps the value (it may mean something else there).
    CHECK(texts == std::vector<std::string>{"Area: low mood; elsewhere: low_mood", "Concerns: worry, low mood"});
  }
}

TEST_CASE("vocabulary.text-character: a text of the vocabulary is one line of plain characters") {
  // From a hostile trial: a label with line breaks forged a FLAGS line in a
  // text plan, and ESC and U+202E reached the JSON plan; rule texts were
  // already refused such characters (check.text-character).
  const std::string e = "[e]\ntype = \"enum\"\nvalues = [\"x\", \"y\"]\n";
  for (const std::string& bad :
       {e + "labels = { x = \"ex\\u001b[2J\" }\n", e + "labels = { x = \"ex\\n\\nFLAGS\" }\n",
        e + "question = \"Which one?\\u202e\"\n", e + "synonyms = { \"z\\u0007\" = \"x\" }\n",
        std::string("[e]\ntype = \"enum\"\nvalues = [\"x\", \"y\\u0085\"]\n"), std::string("[s]\ntype = \"string\"\npattern = \"[a-z]+\"\n"
                                                          "pattern_words = \"lower case\\tletters\"\n"),
        std::string("[l]\ntype = \"table_list\"\n[l.fields.f]\ntype = \"bool\"\nquestion = \"ok?\\u2066\"\n")}) {
    INFO(bad);
    auto l = load(kA + bad);
    CHECK_FALSE(l.rs);
    const auto* d = first(l, "vocabulary.text-character");
    REQUIRE(d);
    CHECK(d->message.find("holds a ") != std::string::npos);
    CHECK(d->message.find("which would reach plans, messages and other systems' screens as it is") !=
          std::string::npos);
    CHECK(d->line > 1);
  }
  // A line break is named as one, a reordering character as one.
  auto br = load(kA + e + "labels = { x = \"ex\\nwhy\" }\n");
  REQUIRE(first(br, "vocabulary.text-character"));
  CHECK(first(br, "vocabulary.text-character")->message ==
        "a text of 'e' holds a line break, which would reach plans, messages and other systems' screens as it is");
  auto bidi = load(kA + e + "question = \"Which one?\\u202e\"\n");
  REQUIRE(first(bidi, "vocabulary.text-character"));
  CHECK(first(bidi, "vocabulary.text-character")->message.find("a character that reorders text on screen") !=
        std::string::npos);
  // Accented letters, dashes and quotes are text.
  auto fine = load(kA + e + "question = \"Caf\\u00e9 \\u2014 \\u201cwhich\\u201d one?\"\n");
  INFO(all_diags(fine.diags));
  CHECK(fine.rs);
}

TEST_CASE("vocabulary.name: a finding's name is one rules can write, never repeated when it is not") {
  for (const std::string& bad : {std::string("[\"x\\u001bq\"]\ntype = \"bool\"\n"),
                                 std::string("[\"Mary Smith\"]\ntype = \"bool\"\n"),
                                 std::string("[g.\"9lives\"]\ntype = \"bool\"\n"),
                                 std::string("[l]\ntype = \"table_list\"\n[l.fields.\"a b\"]\ntype = \"bool\"\n")}) {
    INFO(bad);
    auto l = load(kA + bad);
    CHECK_FALSE(l.rs);
    const auto* d = first(l, "vocabulary.name");
    REQUIRE(d);
    CHECK(d->message.find("this one is not (it is not repeated here)") != std::string::npos);
    CHECK(d->message.find("Mary") == std::string::npos);
  }
  auto ok = load(kA + "[g.Item_2]\ntype = \"bool\"\n");
  INFO(all_diags(ok.diags));
  CHECK(ok.rs);
}

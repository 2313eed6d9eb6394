// Tests of reading a client's findings file against the vocabulary: types,
// ranges, enum values, unknown and identifying keys, TOML and encoding
// errors, lists of tables, and the empty file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "engine/evaluator.hpp"
#include "engine/findings.hpp"
#include "engine/findings_text.hpp"
#include "engine/ruleset.hpp"
#include "grammar/diagnostic.hpp"
#include "support.hpp"

using namespace iptplan;
using namespace iptplan::test_support;

namespace {

const char* const VOCAB = R"(
[a]
type = "bool"

[score]
type = "int"
min = 0
max = 27

[ratio]
type = "number"
min = 0
max = 1

[level]
type = "enum"
values = ["low", "medium", "high"]

[note]
type = "string"

[client.id]
type = "string"

[client.presenting]
type = "list"
of = "enum"
values = ["depression", "anxiety", "grief"]

[client.scores]
type = "list"
of = "int"
min = 0
max = 10

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

[people]
type = "table_list"

[people.fields.role]
type = "string"

[events]
type = "table_list"

[events.fields.person]
type = "string"
refers_to = "relationships"
pattern = "[a-z_]+"
)";

const char* const RULES = "rule r\nwhen a\nthen\n  challenge c \"x\"\nend\n";

// The in-memory rule set every test reads findings against.
const rule_set& rules() {
  static const std::optional<rule_set> rs = [] {
    std::vector<diagnostic> diags;
    auto r = load_rule_set(in_memory_rule_set(VOCAB, {{"a.rules", RULES}}), "test", diags);
    if (!diags.empty()) FAIL(all_diags(diags));
    return r;
  }();
  REQUIRE(rs.has_value());
  return *rs;
}

struct read_result {
  std::optional<client_data> client;
  std::vector<diagnostic> diags;
};

read_result read(const std::string& text, bool strict = false) {
  read_result r;
  findings_options opts;
  opts.allow_unknown = !strict;
  r.client = read_findings(*rules().prog, "f.toml", text, opts, r.diags);
  return r;
}

// Reading must fail with exactly one error diagnostic, of `code`.
diagnostic only_error(const read_result& r, const std::string& code) {
  INFO(all_diags(r.diags));
  CHECK_FALSE(r.client.has_value());
  REQUIRE(r.diags.size() == 1);
  CHECK(r.diags[0].code == code);
  CHECK(r.diags[0].level == severity::error);
  CHECK(r.diags[0].file == "f.toml");
  return r.diags[0];
}

const value& slot(const client_data& c, const std::string& path) {
  int i = rules().prog->vocab->index_of(path);
  REQUIRE(i >= 0);
  return c.slots[static_cast<std::size_t>(i)];
}

}  // namespace

TEST_CASE("a valid findings file is read into slots, with the line of each finding") {
  auto r = read(R"(a = true
score = 12
ratio = 0.25
level = "high"
note = "free text"

[client]
id = "C-0001"
presenting = ["depression", "grief"]
scores = [1, 10]

[[relationships]]
label = "mother"
conflict = "overt"
close = true
)");
  INFO(all_diags(r.diags));
  CHECK(r.diags.empty());
  REQUIRE(r.client.has_value());
  const auto& c = *r.client;
  const auto& p = *rules().prog;
  CHECK(c.file == "f.toml");
  CHECK(slot(c, "a").is_true());
  CHECK(slot(c, "score").kind == vkind::number);
  CHECK(slot(c, "score").n == 12);
  CHECK(slot(c, "ratio").n == 0.25);
  CHECK(show_value(p, c, slot(c, "level")) == "high");
  CHECK(show_value(p, c, slot(c, "note")) == "free text");
  CHECK(show_value(p, c, slot(c, "client.id")) == "C-0001");
  CHECK(show_value(p, c, slot(c, "client.presenting")) == "[depression, grief]");
  CHECK(show_value(p, c, slot(c, "client.scores")) == "[1, 10]");
  CHECK(show_value(p, c, slot(c, "relationships")) == "1 entry");
  CHECK(c.lines[static_cast<std::size_t>(p.vocab->index_of("score"))] == 2);
  CHECK(c.lines[static_cast<std::size_t>(p.vocab->index_of("client.presenting"))] == 9);
  CHECK(element_label(p, c, p.vocab->index_of("relationships"), 0) == "relationships[mother]");
}

TEST_CASE("a whole number is accepted for a number finding") {
  auto r = read("ratio = 1\n");
  INFO(all_diags(r.diags));
  CHECK(r.diags.empty());
  REQUIRE(r.client.has_value());
  CHECK(slot(*r.client, "ratio").n == 1);
}

TEST_CASE("an empty findings file is fine: every finding missing") {
  auto text = GENERATE(as<std::string>{}, "", "\n\n", "# only a comment\n");
  auto r = read(text);
  INFO(all_diags(r.diags));
  CHECK(r.diags.empty());
  REQUIRE(r.client.has_value());
  for (const auto& v : r.client->slots) CHECK(v.is_unknown());
}

// ---------------------------------------------------------------------------
// Types and ranges

TEST_CASE("findings.type: a value of the wrong type names the finding and what was expected") {
  auto [text, line, column, message] = GENERATE(table<std::string, int, int, std::string>({
      {"a = true\nscore = \"high\"\n", 2, 9, "'score' must be a whole number from 0 to 27"},
      {"score = 2.5\n", 1, 9, "'score' must be a whole number from 0 to 27"},
      {"ratio = \"0.5\"\n", 1, 9, "'ratio' must be a number from 0 to 1"},
      {"a = \"yes\"\n", 1, 5, "'a' must be true or false"},
      {"a = 1\n", 1, 5, "'a' must be true or false"},
      {"note = 3\n", 1, 8, "'note' must be a quoted text"},
      {"level = 2\n", 1, 9, "'level' must be one of low, medium, high"},
      {"[client]\npresenting = \"grief\"\n", 2, 14,
       "'client.presenting' must be a list of values from depression, anxiety, grief"},
      {"[client]\nscores = [1, \"two\"]\n", 2, 14, "'client.scores[2]' must be a whole number from 0 to 10"},
      {"relationships = 3\n", 1, 17, "'relationships' must be a list of tables ([[relationships]])"},
      {"[[relationships]]\nlabel = \"mother\"\nclose = \"yes\"\n", 3, 9,
       "'relationships[1].close' must be true or false"},
  }));
  INFO(text);
  auto d = only_error(read(text), "findings.type");
  CHECK(d.line == line);
  CHECK(d.column == column);
  CHECK(d.message == message);
}

TEST_CASE("findings.type: a number or yes/no in quotes is said to be text, without repeating it") {
  auto [text, note] = GENERATE(table<std::string, std::string>({
      {"score = \"17\"\n", "it is written in quotes, so it reads as text: write the number without quotes"},
      {"ratio = \"0.5\"\n", "it is written in quotes, so it reads as text: write the number without quotes"},
      {"a = \"true\"\n", "it is written in quotes, so it reads as text: write true or false without quotes"},
      {"a = \"yes\"\n", ""},
      {"score = \"high\"\n", ""},
      {"score = \"-\"\n", ""},
  }));
  INFO(text);
  auto d = only_error(read(text), "findings.type");
  CHECK(d.notes == (note.empty() ? std::vector<std::string>{} : std::vector<std::string>{note}));
  CHECK(format(d).find("17") == std::string::npos);
}

TEST_CASE("findings.range: a value outside the vocabulary's range") {
  auto [text, line, column, message] = GENERATE(table<std::string, int, int, std::string>({
      {"score = 99\n", 1, 9, "'score' is outside its range: expected a whole number from 0 to 27"},
      {"a = true\n\nscore = -1\n", 3, 9,
       "'score' is outside its range: expected a whole number from 0 to 27"},
      {"ratio = 1.5\n", 1, 9, "'ratio' is outside its range: expected a number from 0 to 1"},
      {"[client]\nscores = [3, 11]\n", 2, 14,
       "'client.scores[2]' is outside its range: expected a whole number from 0 to 10"},
  }));
  INFO(text);
  auto d = only_error(read(text), "findings.range");
  CHECK(d.line == line);
  CHECK(d.column == column);
  CHECK(d.message == message);
}

TEST_CASE("findings.range: nan and inf are never in range") {
  auto text = GENERATE(as<std::string>{}, "ratio = nan\n", "ratio = inf\n", "ratio = -inf\n");
  INFO(text);
  auto d = only_error(read(text), "findings.range");
  CHECK(d.line == 1);
}

TEST_CASE("findings.value: an enum value that is not allowed, with a 'did you mean' note") {
  SECTION("a single enum") {
    auto d = only_error(read("a = true\nlevel = \"hihg\"\n"), "findings.value");
    CHECK(d.line == 2);
    CHECK(d.column == 9);
    CHECK(d.message ==
          "'level' is not one of its choices: expected one of low, medium, high");
    REQUIRE(d.notes.size() == 1);
    CHECK(d.notes[0] == "did you mean \"high\"?");
  }
  SECTION("an element of a list of enums") {
    auto d = only_error(read("[client]\npresenting = [\"grief\", \"depresion\"]\n"), "findings.value");
    CHECK(d.line == 2);
    CHECK(d.column == 24);
    CHECK(d.message.rfind("'client.presenting[2]' is not one of its choices", 0) == 0);
    CHECK(d.notes == std::vector<std::string>{"did you mean \"depression\"?"});
  }
  SECTION("a field of a list of tables") {
    auto d = only_error(read("[[relationships]]\nlabel = \"mother\"\nconflict = \"overtt\"\n"),
                        "findings.value");
    CHECK(d.line == 3);
    CHECK(d.column == 12);
    CHECK(d.message ==
          "'relationships[1].conflict' is not one of its choices: expected one of none, "
          "covert, overt");
    CHECK(d.notes == std::vector<std::string>{"did you mean \"overt\"?"});
  }
  SECTION("nothing near: no suggestion") {
    auto d = only_error(read("level = \"extraordinarily\"\n"), "findings.value");
    CHECK(d.notes.empty());
  }
}

TEST_CASE("findings.value: with nothing spelt close, a choice the value means, by its first word or wording") {
  const char* vocab = R"(
[band]
type = "enum"
values = ["under12", "12_17", "18_64", "65_89"]
[kind]
type = "enum"
values = ["job", "move", "infant"]
labels = { job = "job change", infant = "baby or young child" }
)";
  std::vector<diagnostic> diags;
  auto rs = load_rule_set(in_memory_rule_set(vocab, {{"a.rules", "rule r\nwhen kind == \"job\"\nthen\n  challenge c \"x\"\nend\n"}}),
                          "test", diags);
  INFO(all_diags(diags));
  REQUIRE(rs.has_value());
  auto [text, note] = GENERATE(table<std::string, std::string>({
      {"kind = \"job_loss\"\n", "did you mean \"job\" (job change)?"},      // begins with a choice's word
      {"band = \"65_plus\"\n", "did you mean \"65_89\"?"},                  // shares its first word
      {"kind = \"Baby\"\n", "did you mean \"infant\" (baby or young child)?"},  // a word of a choice's wording
      {"kind = \"mvoe\"\n", "did you mean \"move\"?"},                      // spelt close: as before
      {"kind = \"zz\"\n", ""},                                                // nothing near, nothing meant
      {"kind = \"not_job\"\n", ""},                                           // a negation is never its opposite
      {"kind = \"no-move\"\n", ""},
      {"band = \"under_18\"\n", ""},                                          // other numbers: no band offered
      {"band = \"18-64\"\n", "did you mean \"18_64\"?"},                    // the same numbers: offered
      // A number where the choices are bands: the band that holds it, at
      // each edge.
      {"band = \"15\"\n", "did you mean \"12_17\"?"},
      {"band = \"12\"\n", "did you mean \"12_17\"?"},
      {"band = \"17\"\n", "did you mean \"12_17\"?"},
      {"band = \"11\"\n", "did you mean \"under12\"?"},
      {"band = \"89\"\n", "did you mean \"65_89\"?"},
      {"band = \"90\"\n", ""},                                             // in no band
      {"band = \"1x\"\n", ""},                                             // not a number
  }));
  INFO(text);
  std::vector<diagnostic> out;
  auto client = read_findings(*rs->prog, "f.toml", text, {}, out);
  CHECK_FALSE(client.has_value());
  REQUIRE(out.size() == 1);
  CHECK(out[0].code == "findings.value");
  CHECK(out[0].notes == (note.empty() ? std::vector<std::string>{} : std::vector<std::string>{note}));
}

// ---------------------------------------------------------------------------
// Unknown keys

TEST_CASE("findings.unknown: with allow_unknown, a warning with a suggestion, the file still reads") {
  auto r = read("a = true\nscroe = 3\n");
  INFO(all_diags(r.diags));
  REQUIRE(r.client.has_value());
  REQUIRE(r.diags.size() == 1);
  const auto& d = r.diags[0];
  CHECK(d.code == "findings.unknown");
  CHECK(d.level == severity::warning);
  CHECK(d.line == 2);
  CHECK(d.column == 1);  // at the key, not its value
  CHECK(d.message == "'scroe' is not in the vocabulary and is ignored");
  CHECK(d.notes == std::vector<std::string>{"did you mean 'score'?"});
  CHECK(slot(*r.client, "score").is_unknown());
  CHECK(slot(*r.client, "a").is_true());
}

TEST_CASE("findings.unknown: an error by default, its line not quoted") {
  auto r = read("a = true\nscroe = \"Mary Smith\"\n", true);
  auto d = only_error(r, "findings.unknown");
  CHECK(d.line == 2);
  CHECK(d.column == 1);  // at the key, not its value
  CHECK(d.message == "'scroe' is not in the vocabulary");
  CHECK(d.notes == std::vector<std::string>{"did you mean 'score'?"});
  CHECK(d.source_line.empty());
  CHECK(format(d).find("Mary") == std::string::npos);
}

TEST_CASE("findings.unknown: a top-level key written under a heading is told where it belongs") {
  auto r = read("[client]\nrelationships = []\n", true);
  auto d = only_error(r, "findings.unknown");
  CHECK(d.message == "'client.relationships' is not in the vocabulary");
  CHECK(d.notes == std::vector<std::string>{"did you mean 'relationships'?",
                                            "a key written under a [heading] belongs to that heading: write "
                                            "'relationships' above the first heading"});
  // A near miss of a nested name gets no such note.
  CHECK(only_error(read("[client]\nidd = \"C-1\"\n", true), "findings.unknown").notes.size() == 1);
}

TEST_CASE("findings.unknown: the default options make it an error") {
  findings_options defaults;
  CHECK_FALSE(defaults.allow_unknown);
}

TEST_CASE("findings.unknown: nested keys and fields of a list of tables") {
  auto r = read("[client]\nidd = \"C-1\"\n\n[[relationships]]\nlabel = \"mother\"\nconflct = \"overt\"\n");
  INFO(all_diags(r.diags));
  REQUIRE(r.client.has_value());
  REQUIRE(r.diags.size() == 2);
  sort_diagnostics(r.diags);
  CHECK(r.diags[0].code == "findings.unknown");
  CHECK(r.diags[0].line == 2);
  CHECK(r.diags[0].message == "'client.idd' is not in the vocabulary and is ignored");
  CHECK(r.diags[0].notes == std::vector<std::string>{"did you mean 'client.id'?"});
  CHECK(r.diags[1].code == "findings.unknown");
  CHECK(r.diags[1].line == 6);
  CHECK(r.diags[1].message == "'relationships[1].conflct' is not in the vocabulary and is ignored");
  CHECK(r.diags[1].notes == std::vector<std::string>{"did you mean 'conflict'?"});
}

TEST_CASE("findings.unknown: an empty table under an unknown name is an error too, with did-you-mean") {
  // `[clinet]` with nothing under it yet: silence would hide the misspelling
  // until the first finding under it went missing from the plan.
  auto d = only_error(read("[clinet]\n", true), "findings.unknown");
  CHECK(d.line == 1);
  CHECK(d.message == "'clinet' is not in the vocabulary");
  CHECK(d.notes == std::vector<std::string>{"did you mean 'client'?"});
  only_error(read("a = true\nx = {}\n", true), "findings.unknown");
  only_error(read("[x.y.z]\n", true), "findings.unknown");
  // A group the vocabulary has may be empty: nothing recorded yet.
  auto fine = read("[client]\n", true);
  INFO(all_diags(fine.diags));
  CHECK(fine.client.has_value());
  CHECK(fine.diags.empty());
  // JSON the same.
  read_result j;
  findings_options strict;
  j.client = read_findings_json(*rules().prog, "f.json", "{\"clinet\": {}}", strict, j.diags);
  CHECK_FALSE(j.client.has_value());
  REQUIRE(j.diags.size() == 1);
  CHECK(j.diags[0].code == "findings.unknown");
}

TEST_CASE("findings.syntax in JSON: line, column and what was expected, never the text read") {
  auto json_error = [](const std::string& text) {
    read_result r;
    r.client = read_findings_json(*rules().prog, "f.json", text, {}, r.diags);
    INFO(all_diags(r.diags));
    CHECK_FALSE(r.client.has_value());
    REQUIRE(r.diags.size() == 1);
    CHECK(r.diags[0].source_line.empty());
    return r.diags[0];
  };
  auto comma = json_error("{\n  \"phq9\": {\"total\": 12,}\n}\n");
  CHECK(comma.code == "findings.syntax");
  CHECK(comma.line == 2);
  CHECK(comma.column == 24);
  CHECK(comma.message == "this is not valid JSON: unexpected '}'; expected string literal");
  auto extra = json_error("{\"a\": true}\n}\n");
  CHECK(extra.line == 2);
  CHECK(extra.column == 1);
  CHECK(extra.message == "this is not valid JSON: unexpected '}'; expected end of input");
  auto unterminated = json_error("{\"client\": {\"id\": \"Mary Smith\n");
  CHECK(unterminated.line == 1);
  CHECK(format(unterminated).find("Mary") == std::string::npos);
  // A number no finding can hold is pointed at, not at the end of the text.
  auto huge = json_error("{\"phq9\":{\"total\":99999999999999999999999}}\n");
  CHECK(huge.line == 1);
  CHECK(huge.column == 18);
  CHECK(huge.message == "a number that cannot be read (too large for any finding, or malformed)");
  auto far = json_error("{\"a\": \"1e999\", \"phq9\": {\"total\": -1e999}}");
  CHECK(far.column == 34);
  auto truncated = json_error("{\"a\": ");
  CHECK(truncated.line == 1);
  CHECK(truncated.column == 7);
  // A document that is not an object: where it starts and what it is.
  auto array = json_error("\n  [\"Mary Smith\"]\n");
  CHECK(array.line == 2);
  CHECK(array.column == 3);
  CHECK(array.message == "the findings must be one JSON object ({ ... }), but this is an array");
  CHECK(format(array).find("Mary") == std::string::npos);
  CHECK(json_error("\"x\"").message == "the findings must be one JSON object ({ ... }), but this is a string");
  CHECK(json_error("7").message == "the findings must be one JSON object ({ ... }), but this is a number");
  CHECK(json_error("null").message == "the findings must be one JSON object ({ ... }), but this is null");
  CHECK(json_error("true").message == "the findings must be one JSON object ({ ... }), but this is true or false");
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "{\"a\":";
  deep += "1" + std::string(40, '}');
  auto nested = json_error(deep);
  CHECK(nested.code == "findings.nesting");
  CHECK(nested.column == 5 * 17 + 1);  // the 18th brace
  // A byte-order mark is not content, in JSON or TOML.
  read_result bom;
  bom.client = read_findings_json(*rules().prog, "f.json", "\xEF\xBB\xBF{\"a\": true}", {}, bom.diags);
  INFO(all_diags(bom.diags));
  CHECK(bom.client.has_value());
  auto toml_bom = read("\xEF\xBB\xBF" "a = true\n", true);
  INFO(all_diags(toml_bom.diags));
  CHECK(toml_bom.client.has_value());
}

TEST_CASE("JSON findings: a wrong value or an unknown key is reported at its line and column") {
  read_result r;
  std::string text =
      "{\n"
      "  \"score\": \"high\",\n"
      "  \"levle\": \"low\",\n"
      "  \"relationships\": [\n"
      "    {\"label\": \"partner\", \"conflict\": \"none\"},\n"
      "    {\"label\": \"mother\",  \"conflict\": \"loud\"}\n"
      "  ],\n"
      "  \"client\": {\"presenting\": [\"depression\", \"sorrow\"]},\n"
      "  \"ratio\": 7\n"
      "}\n";
  r.client = read_findings_json(*rules().prog, "f.json", text, {}, r.diags);
  INFO(all_diags(r.diags));
  CHECK_FALSE(r.client.has_value());
  auto find = [&](const std::string& code, const std::string& part) -> const diagnostic* {
    for (const auto& d : r.diags) {
      if (d.code == code && d.message.find(part) != std::string::npos) return &d;
    }
    return nullptr;
  };
  const diagnostic* type = find("findings.type", "'score'");
  REQUIRE(type != nullptr);
  CHECK(type->line == 2);
  CHECK(type->column == 12);  // the value
  const diagnostic* unknown = find("findings.unknown", "levle");
  REQUIRE(unknown != nullptr);
  CHECK(unknown->line == 3);
  CHECK(unknown->column == 3);  // the key
  const diagnostic* choice = find("findings.value", "conflict");
  REQUIRE(choice != nullptr);
  CHECK(choice->line == 6);
  CHECK(choice->column == 38);  // the second element's value, not the first's
  const diagnostic* listed = find("findings.value", "client.presenting");
  REQUIRE(listed != nullptr);
  CHECK(listed->line == 8);
  CHECK(listed->column == 43);
  const diagnostic* range = find("findings.range", "'ratio'");
  REQUIRE(range != nullptr);
  CHECK(range->line == 9);
  CHECK(range->column == 12);
  for (const auto& d : r.diags) CHECK(d.source_line.empty());
}

TEST_CASE("findings.test-case: a rule set's test case given as findings is one clear error") {
  auto r = read("description = \"x\"\nfindings = \"clients/a.toml\"\n[expect]\nflags = [\"f\"]\n");
  REQUIRE(r.diags.size() == 1);
  CHECK(r.diags[0].code == "findings.test-case");
  CHECK(r.diags[0].line == 1);
  CHECK_FALSE(r.client.has_value());
  auto inline_case = read("[absent]\nflags = [\"f\"]\n[findings]\na = true\n");
  REQUIRE(inline_case.diags.size() == 1);
  CHECK(inline_case.diags[0].code == "findings.test-case");
  // 'expect' alone is just an unknown key.
  auto lone = read("[expect]\nflags = [\"f\"]\n");
  REQUIRE_FALSE(lone.diags.empty());
  CHECK(lone.diags[0].code == "findings.unknown");
}

TEST_CASE("findings.unknown: nothing near, no suggestion") {
  auto r = read("completely_unrelated_key = 1\n");
  REQUIRE(r.diags.size() == 1);
  CHECK(r.diags[0].code == "findings.unknown");
  CHECK(r.diags[0].notes.empty());
  auto strict = read("completely_unrelated_key = 1\n", true);
  REQUIRE(strict.diags.size() == 1);
  CHECK(strict.diags[0].notes == std::vector<std::string>{"--allow-unknown reads the file without it"});
}

// ---------------------------------------------------------------------------
// Identifying data

TEST_CASE("findings.identifying: a name key is refused") {
  auto [text, line, column] = GENERATE(table<std::string, int, int>({
      {"name = \"Jane\"\n", 1, 8},
      {"a = true\n[client]\nname = \"Jane Doe\"\n", 3, 8},
      {"[client]\nsurname = \"Doe\"\n", 2, 11},
      {"[client]\ndate_of_birth = \"1990-01-01\"\n", 2, 17},
      {"[client]\naddress = \"1 High St\"\n", 2, 11},
      {"[[relationships]]\nlabel = \"mother\"\nname = \"Mary\"\n", 3, 8},
      {"[partner]\nfirst_name = \"Bob\"\n", 2, 14},
      // A quoted key with dots is a path: each part is checked.
      {"\"client.name\" = \"Jane Doe\"\n", 1, 17},
      {"[client]\n\"x.Date_Of_Birth\" = \"1990\"\n", 2, 21},
      {"[[relationships]]\nlabel = \"mother\"\n\"x.name\" = \"Mary\"\n", 3, 12},
      {"\"name.first\" = \"Jane\"\n", 1, 16},
  }));
  INFO(text);
  auto d = only_error(read(text), "findings.identifying");
  CHECK(d.line == line);
  CHECK(d.column == column);
  CHECK(d.message.find("identifying data") != std::string::npos);
}

TEST_CASE("JSON findings: null is 'not recorded' only for a finding the vocabulary has, never a way past the key checks") {
  // From a hostile trial: an unknown or identifying key with the value null
  // was skipped as "not recorded", and its name kept in the findings (and
  // so in the plan store).
  std::vector<diagnostic> diags;
  auto ok = read_findings_json(*rules().prog, "f.json", R"({"score": null, "relationships": [{"label": "partner", "conflict": null}]})",
                               {}, diags);
  INFO(all_diags(diags));
  CHECK(ok.has_value());
  CHECK(diags.empty());
  for (const char* text : {R"({"name": null})", R"({"Mary Smith, 12 Elm St": null})", R"({"levle": null})",
                           R"({"relationships": [{"label": "partner", "nickname": null}]})",
                           R"({"relationships": [{"label": "partner", "name": null}]})"}) {
    std::vector<diagnostic> d;
    auto c = read_findings_json(*rules().prog, "f.json", text, {}, d);
    INFO(text);
    CHECK_FALSE(c.has_value());
    REQUIRE_FALSE(d.empty());
    CHECK((d[0].code == "findings.unknown" || d[0].code == "findings.identifying"));
    CHECK(all_diags(d).find("Mary") == std::string::npos);
  }
}

TEST_CASE("findings.identifying: a dotted key in JSON (the flat form) is checked part by part") {
  findings_options opts;
  opts.allow_unknown = true;
  std::vector<diagnostic> diags;
  auto c = read_findings_json(*rules().prog, "f.json", R"({"score": 3, "x.dob": "1990"})", opts, diags);
  CHECK_FALSE(c.has_value());
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].code == "findings.identifying");
  CHECK(diags[0].source_line.empty());
}

TEST_CASE("findings.identifying: even with strict off, a name is an error, not a warning") {
  auto r = read("name = \"Jane\"\nscore = 3\n");
  CHECK_FALSE(r.client.has_value());
  REQUIRE_FALSE(r.diags.empty());
  CHECK(r.diags[0].level == severity::error);
}

TEST_CASE("findings.identifying: a TOML date or date-time is refused") {
  auto [text, line, column] = GENERATE(table<std::string, int, int>({
      {"seen = 2024-01-02\n", 1, 8},
      {"[client]\nborn = 1990-05-17\n", 2, 8},
      {"a = true\nat = 2024-01-02T10:00:00Z\n", 2, 6},
      {"at = 2024-01-02T10:00:00\n", 1, 6},
      {"score = 2024-01-02\n", 1, 9},
      {"[[relationships]]\nlabel = \"mother\"\nsince = 2001-02-03\n", 3, 9},
  }));
  INFO(text);
  auto d = only_error(read(text), "findings.identifying");
  CHECK(d.line == line);
  CHECK(d.column == column);
  CHECK(d.message.find("holds a date") != std::string::npos);
}

TEST_CASE("findings.identifying: identifying keys are recognised whatever their case") {
  auto text = GENERATE(as<std::string>{}, "Name = \"Jane\"\n", "[client]\nNAME = \"Jane\"\n",
                       "[client]\nDate_Of_Birth = \"1990-01-01\"\n");
  INFO(text);
  auto r = read(text);
  INFO(all_diags(r.diags));
  CHECK_FALSE(r.client.has_value());
  REQUIRE(r.diags.size() == 1);
  CHECK(r.diags[0].code == "findings.identifying");
}

TEST_CASE("findings.identifying: a date inside an array is still a date") {
  auto [text, line] = GENERATE(table<std::string, int>({
      {"visits = [2024-01-02, 2024-02-03]\n", 1},
      {"[[events]]\nkind = \"move\"\nwhen = 2020-06-01\n", 3},
  }));
  INFO(text);
  auto r = read(text);
  INFO(all_diags(r.diags));
  CHECK_FALSE(r.client.has_value());
  bool found = false;
  for (const auto& d : r.diags) {
    if (d.code == "findings.identifying") {
      found = true;
      CHECK(d.level == severity::error);
      CHECK(d.line == line);
    }
  }
  CHECK(found);
}

// ---------------------------------------------------------------------------
// Syntax and encoding

TEST_CASE("findings.syntax: malformed TOML, at its line, which is not quoted") {
  auto [text, line] = GENERATE(table<std::string, int>({
      {"a = true\n\nscore = = 3\n", 3},
      {"a = true\nscore = 3\nscore = 4\n", 3},
      {"[client\nid = \"x\"\n", 1},
      {"note = \"unterminated\n", 1},
      {"a = true\nthis is not toml\n", 2},
  }));
  INFO(text);
  auto d = only_error(read(text), "findings.syntax");
  CHECK(d.line == line);
  CHECK(d.column >= 1);
  CHECK(d.message.rfind("this is not valid TOML: ", 0) == 0);
  // A findings file's lines hold the client's answers: never quoted.
  CHECK(d.source_line.empty());
}

TEST_CASE("findings.syntax: what TOML expected is said (a mark or a keyword), what was read is not") {
  // From a hostile trial: every quoted part was masked, the marks of the
  // syntax with it ("expected (a value)").
  auto eq = only_error(read("a : 1\n"), "findings.syntax");
  CHECK(eq.message == "this is not valid TOML: Error while parsing key-value pair: expected '='");
  auto closing = only_error(read("[phq9]\ntotal = [1,,2]\n"), "findings.syntax");
  CHECK(closing.message.find("expected value or closing ']'") != std::string::npos);
  auto brace = only_error(read("x = {a=1\n"), "findings.syntax");
  CHECK(brace.message.find("expected key or closing '}'") != std::string::npos);
  // A value read is never shown, not even one made of marks or digits.
  auto big = only_error(read("x = 99999999999999999999\n"), "findings.syntax");
  CHECK(big.message.find("9999") == std::string::npos);
  CHECK(big.message.find("(a value)") != std::string::npos);
  auto name = only_error(read("a = 'Mary'x\n"), "findings.syntax");
  CHECK(name.message.find("Mary") == std::string::npos);
}

TEST_CASE("findings.syntax: a table opened twice, by dotted keys or a heading, says so in a note") {
  auto text = GENERATE(std::string("sub.a = true\n\n[sub]\nb = 1\n"), std::string("[sub]\na = true\n\n[sub]\nb = 1\n"));
  INFO(text);
  auto d = only_error(read(text), "findings.syntax");
  CHECK(d.line == (text[0] == 's' ? 3 : 4));
  REQUIRE(d.notes.size() == 1);
  CHECK(d.notes[0].rfind("a table is opened once: this heading names one already opened above", 0) == 0);
}

TEST_CASE("findings.syntax: a key given twice says so, in words") {
  auto d = only_error(read("[sub]\nb = 1\nb = 2\n"), "findings.syntax");
  CHECK(d.line == 3);
  CHECK(d.message == "this is not valid TOML: this key is given a second time (a key has one value in a file)");
  REQUIRE(d.notes.size() == 1);
  CHECK(d.notes[0] == "keep the one answer that is right and remove the other");
}

TEST_CASE("findings.encoding: invalid UTF-8, at the first bad byte") {
  auto d = only_error(read("a = true\nnote = \"caf\xE9\"\n"), "findings.encoding");
  CHECK(d.line == 2);
  CHECK(d.column == 12);
  CHECK(d.message == "this file is not valid UTF-8 text; save it as UTF-8");
}

TEST_CASE("valid multi-byte UTF-8 text is fine") {
  auto r = read("note = \"caf\xC3\xA9 \xE2\x80\x94 na\xC3\xAFve\"\n");
  INFO(all_diags(r.diags));
  CHECK(r.diags.empty());
  REQUIRE(r.client.has_value());
  CHECK(show_value(*rules().prog, *r.client, slot(*r.client, "note")) ==
        "caf\xC3\xA9 \xE2\x80\x94 na\xC3\xAFve");
}

// ---------------------------------------------------------------------------
// Lists of tables

TEST_CASE("findings.duplicate-key: two entries with the same key") {
  auto d = only_error(read(R"([[relationships]]
label = "mother"
conflict = "overt"

[[relationships]]
label = "father"

[[relationships]]
conflict = "none"
label = "mother"
)"),
                      "findings.duplicate-key");
  CHECK(d.line == 10);
  CHECK(d.column == 9);
  CHECK(d.message ==
        "entries 1 and 3 of 'relationships' have the same label; give each a distinct one (add a word that tells "
        "them apart, such as sister_older and sister_younger, or _2)");
  CHECK(d.message.find("mother") == std::string::npos);
}

TEST_CASE("findings.duplicate-key: an entry keyed by its place and one with that place as its key") {
  // Their items would share an id (relationships[2]): refused, naming
  // which entry has no key, in either order.
  auto r = read("[[relationships]]\nlabel = \"2\"\n\n[[relationships]]\nconflict = \"none\"\n");
  INFO(all_diags(r.diags));
  CHECK_FALSE(r.client.has_value());
  REQUIRE(r.diags.size() == 2);
  CHECK(r.diags[0].code == "findings.key");
  CHECK(r.diags[1].code == "findings.duplicate-key");
  CHECK(r.diags[1].line == 4);
  CHECK(r.diags[1].message ==
        "entry 2 of 'relationships' has no label and is keyed by its place, which entry 1 has as its label; "
        "give entry 2 its own label");
  findings_options opts;
  std::vector<diagnostic> diags;
  auto j = read_findings_json(*rules().prog, "f.json", R"({"relationships": [{"label": null}, {"label": "1"}]})",
                              opts, diags);
  CHECK_FALSE(j.has_value());
  INFO(all_diags(diags));
  REQUIRE(diags.size() == 2);
  CHECK(diags[0].code == "findings.key");
  CHECK(diags[1].code == "findings.duplicate-key");
  CHECK(diags[1].column == 47);  // at the second entry's label
  CHECK(diags[1].message ==
        "entry 1 of 'relationships' has no label and is keyed by its place, which entry 2 has as its label; "
        "give entry 1 its own label");
  // A label that differs from every place is no clash: an unlabelled
  // first entry and a second labelled "2".
  diags.clear();
  auto fine = read_findings_json(*rules().prog, "f.json", R"({"relationships": [{"label": null}, {"label": "2"}]})",
                                 opts, diags);
  CHECK(fine.has_value());
}

TEST_CASE("findings.duplicate-key: one finding given twice, as a quoted dotted key and under its heading") {
  auto d = only_error(read("\"client.id\" = \"C-1\"\n\n[client]\nid = \"C-2\"\n"), "findings.duplicate-key");
  CHECK(d.message == "'client.id' is given twice; record each finding once");
}

TEST_CASE("an entry without its key field is keyed by position, with a warning") {
  auto r = read("[[relationships]]\nlabel = \"mother\"\n\n[[relationships]]\nconflict = \"none\"\n");
  INFO(all_diags(r.diags));
  REQUIRE(r.client.has_value());
  REQUIRE(r.diags.size() == 1);
  CHECK(r.diags[0].code == "findings.key");
  CHECK(r.diags[0].level == severity::warning);
  CHECK(r.diags[0].line == 4);
  const auto& p = *rules().prog;
  int list = p.vocab->index_of("relationships");
  CHECK(element_label(p, *r.client, list, 0) == "relationships[mother]");
  CHECK(element_label(p, *r.client, list, 1) == "relationships[2]");
}

TEST_CASE("a list of tables without a declared key is keyed by position, duplicates allowed") {
  auto r = read("[[people]]\nrole = \"aunt\"\n\n[[people]]\nrole = \"aunt\"\n");
  INFO(all_diags(r.diags));
  CHECK(r.diags.empty());
  REQUIRE(r.client.has_value());
  const auto& p = *rules().prog;
  int list = p.vocab->index_of("people");
  CHECK(element_label(p, *r.client, list, 0) == "people[1]");
  CHECK(element_label(p, *r.client, list, 1) == "people[2]");
}

TEST_CASE("an empty list of tables is present, with no entries") {
  auto r = read("relationships = []\n");
  INFO(all_diags(r.diags));
  CHECK(r.diags.empty());
  REQUIRE(r.client.has_value());
  const value& v = slot(*r.client, "relationships");
  REQUIRE(v.kind == vkind::table);
  CHECK(r.client->tables[v.ref].empty());
}

// ---------------------------------------------------------------------------
// All at once

TEST_CASE("every problem of a findings file is reported at once") {
  auto r = read(R"(score = "high"
ratio = 2
level = "hihg"
scroe = 1
name = "Jane"

[[relationships]]
label = "mother"

[[relationships]]
label = "mother"
)");
  INFO(all_diags(r.diags));
  CHECK_FALSE(r.client.has_value());
  std::vector<std::string> codes;
  for (const auto& d : r.diags) codes.push_back(d.code);
  std::sort(codes.begin(), codes.end());
  CHECK(codes == std::vector<std::string>{"findings.duplicate-key", "findings.identifying",
                                          "findings.range", "findings.type", "findings.unknown",
                                          "findings.value"});
}

TEST_CASE("a bare non-ASCII character is refused before toml++ sees it, in texts and comments it is fine") {
  auto [text, line, column] = GENERATE(table<std::string, int, int>({
      {"\xc3\xa9 = 1\n", 1, 1},
      {"a = true\n[x]\n\xc3\xa9t\xc3\xa9 = 1\n", 3, 1},
      {"[\xc3\xa9]\n", 1, 2},
      {"s = \"\"\"\n\xc3\xa9\n\"\"\"\n\xc3\xa9 = 1\n", 4, 1},
  }));
  INFO(text);
  auto d = only_error(read(text), "findings.syntax");
  CHECK(d.line == line);
  CHECK(d.column == column);
  CHECK(d.message.find("outside the ASCII range") != std::string::npos);
  CHECK(d.source_line.empty());
}

TEST_CASE("non-ASCII characters inside quoted texts and comments are read as TOML allows") {
  for (const char* text : {"# caf\xc3\xa9\na = true\n", "a = true # \xc3\xa9\n", "note = \"caf\xc3\xa9\"\n",
                           "note = 'caf\xc3\xa9'\n", "note = \"\"\"\ncaf\xc3\xa9 \\\" \"\n\"\"\"\n",
                           "note = '''\ncaf\xc3\xa9 ' ''\n'''\n", "\"caf\xc3\xa9\" = 1\n"}) {
    INFO(text);
    auto r = read(text);
    for (const auto& d : r.diags) CHECK(d.code != "findings.syntax");
  }
}

TEST_CASE("a dotted key of over 100 parts is refused before the TOML parser sees it, anywhere in a key") {
  // toml++ 3.3 recurses once per part: 100,000 parts overflowed the stack.
  auto chain = [](int n) {
    std::string k = "a";
    for (int i = 1; i < n; ++i) k += ".b";
    return k;
  };
  struct row {
    std::string text;
    int column;  // of the 100th dot; 0: accepted by this guard
  };
  auto r = GENERATE_COPY(values<row>({
      {chain(100000) + " = 1\n", 200},
      {"[" + chain(100000) + "]\n", 201},
      {"[[" + chain(100000) + "]]\n", 202},
      {"x = { " + chain(100000) + " = 1 }\n", 206},
      {"x = [{ y = 1 }, { " + chain(200) + " = 1 }]\n", 218},
      {"\"q\"." + chain(100000) + " = 1\n", 202},
  }));
  auto res = read(r.text, true);
  auto d = only_error(res, "findings.syntax");
  CHECK(d.line == 1);
  CHECK(d.column == r.column);
  CHECK(d.message == "this key has more than 100 dotted parts; no finding, vocabulary entry or setting has so many");
  CHECK(d.source_line.empty());
}

TEST_CASE("the dotted-key guard counts keys only: numbers, strings and comments may hold any number of dots") {
  std::string dots(500, '.');
  std::string floats = "[";
  for (int i = 0; i < 300; ++i) floats += (i ? ", " : "") + std::string("1.5");
  floats += "]";
  for (const std::string& text :
       {"client.presenting = [\"" + dots + "\"]\n", "# " + dots + "\n", "x = " + floats + "\n",
        "x = \"\"\"\n" + dots + "\n\"\"\"\n", "x = '" + dots + "'\n", "x = [\n" + floats + ",\n" + floats + "]\n"}) {
    auto res = read(text);
    INFO(all_diags(res.diags));
    for (const auto& d : res.diags) CHECK(d.message.find("dotted parts") == std::string::npos);
  }
  // 99 dots in a key pass this guard (and meet the nesting check instead).
  auto res = read("[" + [] {
    std::string k = "a";
    for (int i = 0; i < 99; ++i) k += ".a";
    return k;
  }() + "]\nx = 1\n");
  for (const auto& d : res.diags) CHECK(d.message.find("dotted parts") == std::string::npos);
}

TEST_CASE("a file with thousands of mistakes keeps the first 1,000 and counts the rest on the last one kept") {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "k" + std::to_string(i) + " = 1\n";
  auto strict = read(text, true);
  CHECK_FALSE(strict.client.has_value());
  REQUIRE(strict.diags.size() == 1000);
  CHECK(strict.diags.back().more_errors == 4000);
  CHECK(strict.diags.back().more_warnings == 0);
  // As warnings (--allow-unknown) the file is read, and the count is of warnings.
  auto lenient = read(text);
  CHECK(lenient.client.has_value());
  REQUIRE(lenient.diags.size() == 1000);
  CHECK(lenient.diags.back().more_warnings == 4000);
  CHECK(lenient.diags.back().more_errors == 0);
}

TEST_CASE("findings without comments: comment text goes, strings and every line and column stay") {
  CHECK(without_comments("# Mary Smith, seen 3 March\n[client]\nid = \"C-1\"   # her NHS number\n") ==
        "\n[client]\nid = \"C-1\"\n");
  // A '#' inside a string of any kind is text, not a comment.
  CHECK(without_comments("a = \"x # y\" # z\n") == "a = \"x # y\"\n");
  CHECK(without_comments("a = 'x # y' # z\n") == "a = 'x # y'\n");
  CHECK(without_comments("a = \"\"\"\nx # y\n\"\"\" # z\n") == "a = \"\"\"\nx # y\n\"\"\"\n");
  CHECK(without_comments("a = '''\nx # y\n''' # z\n") == "a = '''\nx # y\n'''\n");
  // Escaped quotes do not end a basic string; a literal string has no escapes.
  CHECK(without_comments("a = \"q\\\" # still\" # gone\n") == "a = \"q\\\" # still\"\n");
  CHECK(without_comments("a = 'c:\\' # gone\n") == "a = 'c:\\'\n");
  // Quotes right before a multi-line delimiter belong to the string.
  CHECK(without_comments("a = \"\"\"x\"\"\"\"\" # gone\n") == "a = \"\"\"x\"\"\"\"\"\n");
  // A quoted key is a string too.
  CHECK(without_comments("\"k # k\" = 1 # gone\n") == "\"k # k\" = 1\n");
  // CRLF line ends are kept whole.
  CHECK(without_comments("a = 1 # x\r\nb = 2\r\n") == "a = 1\r\nb = 2\r\n");
  // JSON has no comments: unchanged, '#' in its strings and all.
  std::string json = "{\"client\": {\"id\": \"C-#1\", \"note\": \"it's\"}}";
  CHECK(without_comments(json) == json);
  // Idempotent, and the hash ignores comments only.
  std::string once = without_comments("x = 1 # a\n# b\ny = 'z' # c\n");
  CHECK(without_comments(once) == once);
  CHECK(findings_sha256("x = 1 # a\n") == findings_sha256("x = 1\n"));
  CHECK(findings_sha256("x = 1 # a\n") == findings_sha256("x = 1 # b\n"));
  CHECK(findings_sha256("x = 1\n") != findings_sha256("x = 2\n"));
  CHECK(findings_sha256("x = 1\n") == sha256_hex("x = 1\n"));
}

TEST_CASE("findings.reference: a field that refers to a list names one of its keys, once that list is recorded") {
  const std::string people = "[[relationships]]\nlabel = \"husband\"\n[[relationships]]\nlabel = \"daughter\"\n";
  // Named right: read, as a text.
  auto ok = read(people + "[[events]]\nperson = \"husband\"\n");
  INFO(all_diags(ok.diags));
  REQUIRE(ok.client.has_value());
  CHECK(ok.diags.empty());
  // Misspelt: an error at the value, with the label it was likely meant for.
  auto bad = read(people + "[[events]]\n[[events]]\nperson = \"husbnd\"\n");
  auto d = only_error(bad, "findings.reference");
  CHECK(d.line == 7);
  CHECK(d.column == 10);
  CHECK(d.message == "'events[2].person' names a label that no entry of 'relationships' has");
  CHECK(d.source_line.empty());  // never the line with the value
  REQUIRE(d.notes.size() == 2);
  CHECK(d.notes[0] == "did you mean 'husband'?");
  CHECK(d.notes[1] == "add the person to 'relationships' under their label (a word for the relationship, such as sister or friend, never a name), or leave 'person' out");
  // Nobody near: the note says to add the person, never repeating the value
  // (a name written in lower case looks like any word).
  auto far = read(people + "[[events]]\nperson = \"grandmother\"\n");
  auto f = only_error(far, "findings.reference");
  REQUIRE(f.notes.size() == 1);
  CHECK(f.notes[0] == "add the person to 'relationships' under their label (a word for the relationship, such as sister or friend, never a name), or leave 'person' out");
  CHECK(all_diags(far.diags).find("grandmother") == std::string::npos);
  // A value that is not a role word is not repeated.
  auto named = read(people + "[[events]]\nperson = \"Mary Smith\"\n");
  auto n = only_error(named, "findings.reference");
  CHECK(n.message == "'events[1].person' names a label that no entry of 'relationships' has");
  REQUIRE(n.notes.size() == 1);
  CHECK(n.notes[0] == "add the person to 'relationships' under their label (a word for the relationship, such as sister or friend, never a name), or leave 'person' out");
  CHECK(all_diags(named.diags).find("Mary") == std::string::npos);
  // A value without the field's form (a name) that a list taking any
  // label has as a key: still the wrong form, said so, never repeated.
  auto taken = read("[[relationships]]\nlabel = \"Mary Smith\"\n[[events]]\nperson = \"Mary Smith\"\n");
  auto t = only_error(taken, "findings.value");
  CHECK(t.line == 4);
  CHECK(t.message == "'events[1].person' does not have the form the vocabulary asks for (pattern [a-z_]+)");
  CHECK(all_diags(taken.diags).find("Mary") == std::string::npos);
  // The list not recorded at all: nothing to check yet.
  auto alone = read("[[events]]\nperson = \"husband\"\n");
  CHECK(alone.client.has_value());
  CHECK(alone.diags.empty());
  // The same in a JSON findings file.
  findings_options opts;
  std::vector<diagnostic> diags;
  auto j = read_findings_json(*rules().prog, "f.json",
                         R"({"relationships": [{"label": "husband"}], "events": [{"person": "husbnd"}]})", opts, diags);
  CHECK_FALSE(j.has_value());
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].code == "findings.reference");
  CHECK(diags[0].message == "'events[1].person' names a label that no entry of 'relationships' has");
}

TEST_CASE("findings.syntax: a bare word for a value says how to write yes/no answers and choices, without the word") {
  auto [text, note] = GENERATE(table<std::string, std::string>({
      {"a = yes\n", "a yes/no answer is written true or false, without quotes"},
      {"a = No\n", "a yes/no answer is written true or false, without quotes"},
      {"level = high\n",
       "write a text or a choice in double quotes (\"overt\"), a yes/no answer as true or false, a number as digits"},
      {"level = none\n",
       "write a text or a choice in double quotes (\"overt\"), a yes/no answer as true or false, a number as digits"},
      {"note = Jane\n",
       "write a text or a choice in double quotes (\"overt\"), a yes/no answer as true or false, a number as digits"},
  }));
  INFO(text);
  auto d = only_error(read(text), "findings.syntax");
  CHECK(d.line == 1);
  REQUIRE(d.notes.size() == 1);
  CHECK(d.notes[0] == note);
  CHECK(d.source_line.empty());
  CHECK(all_diags({d}).find("Jane") == std::string::npos);
}

// `iptplan fmt`: the canonical layout, comments kept, idempotence, the
// default rules kept formatted, and the command's contract.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_support.hpp"
#include "format/format.hpp"
#include "grammar/ast_printer.hpp"
#include "grammar/parse.hpp"

using namespace iptplan;
using namespace iptplan::testing_cli;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string formatted(const std::string& text, int width = 80) {
  auto r = formatter::format_rule_file(source_file("t.rules", text), {width});
  INFO(text);
  REQUIRE(r.ok());
  return r.text;
}

const fs::path kSource = IPTPLAN_SOURCE_DIR;

}  // namespace

TEST_CASE("a messy file gets the canonical text, and formatting it again changes nothing") {
  std::string messy = slurp(kSource / "tests/golden/fmt/messy.rules");
  std::string want = slurp(kSource / "tests/golden/fmt/messy.formatted.rules");
  std::string once = formatted(messy);
  CHECK(once == want);
  CHECK(formatted(once) == once);
}

TEST_CASE("every comment of the messy file is kept, in its order") {
  std::string messy = slurp(kSource / "tests/golden/fmt/messy.rules");
  std::string once = formatted(messy);
  std::vector<std::string> before, after;
  for (const std::string* text : {&messy, &once}) {
    std::istringstream in(*text);
    std::string line;
    auto& into = text == &messy ? before : after;
    while (std::getline(in, line)) {
      auto hash = line.find('#');
      // No '#' in a text of this file, so a '#' starts a comment.
      if (hash != std::string::npos) into.push_back(line.substr(hash));
    }
  }
  REQUIRE(before.size() == 10);
  CHECK(after == before);
}

TEST_CASE("the default rules are in the canonical layout") {
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(kSource / "rules")) {
    if (e.path().extension() != ".rules") continue;
    ++files;
    std::string text = slurp(e.path());
    INFO(e.path().string());
    CHECK(formatted(text) == text);
  }
  CHECK(files >= 10);
  auto r = run({"fmt", "--check", (kSource / "rules").string()});
  CHECK(r.code == 0);
  CHECK(r.out.empty());
}

TEST_CASE("a default rule file squeezed onto one line per file formats back to its layout") {
  for (const auto& e : fs::directory_iterator(kSource / "rules")) {
    if (e.path().extension() != ".rules") continue;
    // Its comments dropped (they need their lines), every line break a space.
    std::string kept, flat;
    std::istringstream in(slurp(e.path()));
    std::string line;
    while (std::getline(in, line)) {
      if (line.find_first_not_of(' ') != std::string::npos && line[line.find_first_not_of(' ')] == '#') {
        continue;
      }
      kept += line + "\n";
      flat += line + "   ";
    }
    INFO(e.path().string());
    std::string want = formatted(kept);
    CHECK(formatted(flat) == want);
    auto a = parse_rule_file(source_file("a", kept));
    auto b = parse_rule_file(source_file("b", want));
    REQUIRE(a.file.rules.size() == b.file.rules.size());
    for (std::size_t i = 0; i < a.file.rules.size(); ++i) {
      CHECK(ast::to_string(a.file.rules[i]) == ast::to_string(b.file.rules[i]));
    }
  }
}

TEST_CASE("a long condition breaks before 'and' and 'or', a broken group aligns after its parenthesis") {
  std::string text =
      "rule r\nwhen a.first_finding == 1 and (b.second_finding == 2 or c.third_finding == 3 or "
      "d.fourth == 4) then exclude x end\n";
  CHECK(formatted(text) ==
        "rule r\n"
        "when\n"
        "  a.first_finding == 1\n"
        "  and (b.second_finding == 2 or c.third_finding == 3 or d.fourth == 4)\n"
        "then\n"
        "  exclude x\n"
        "end\n");
  CHECK(formatted(text, 40) ==
        "rule r\n"
        "when\n"
        "  a.first_finding == 1\n"
        "  and (b.second_finding == 2\n"
        "       or c.third_finding == 3\n"
        "       or d.fourth == 4)\n"
        "then\n"
        "  exclude x\n"
        "end\n");
}

TEST_CASE("a condition that fits stays on one line") {
  CHECK(formatted("rule r when a == 1 and b == 2 then exclude x end") ==
        "rule r\nwhen\n  a == 1 and b == 2\nthen\n  exclude x\nend\n");
}

TEST_CASE("a quantifier's body continues aligned after its parenthesis") {
  std::string text =
      "rule r when any(r in relationships: r.conflict == \"overt\" and r.confidant == false and "
      "r.knows_about_mood == true) then exclude x end";
  CHECK(formatted(text) ==
        "rule r\nwhen\n"
        "  any(r in relationships: r.conflict == \"overt\"\n"
        "      and r.confidant == false\n"
        "      and r.knows_about_mood == true)\n"
        "then\n  exclude x\nend\n");
}

TEST_CASE("a long set fills its lines, aligned after the brace") {
  std::string text =
      "rule r when x in {\"alpha\", \"beta\", \"gamma\", \"delta\", \"epsilon\", \"zeta\", \"eta\", "
      "\"theta\", \"iota\", \"kappa\"} then exclude x end";
  CHECK(formatted(text) ==
        "rule r\nwhen\n"
        "  x in {\"alpha\", \"beta\", \"gamma\", \"delta\", \"epsilon\", \"zeta\", \"eta\", \"theta\",\n"
        "        \"iota\", \"kappa\"}\n"
        "then\n  exclude x\nend\n");
}

TEST_CASE("a long text goes below its action in pieces cut after spaces, and still reads as one text") {
  std::string text =
      "rule r when true then challenge c \"one two three four five six seven eight nine ten eleven twelve "
      "thirteen fourteen fifteen\" end";
  std::string want =
      "rule r\nwhen\n  true\nthen\n"
      "  challenge c\n"
      "    \"one two three four five six seven eight nine ten eleven twelve thirteen \"\n"
      "    \"fourteen fifteen\"\n"
      "end\n";
  CHECK(formatted(text) == want);
  auto a = parse_rule_file(source_file("a", text));
  auto b = parse_rule_file(source_file("b", want));
  REQUIRE(b.diagnostics.empty());
  CHECK(b.file.rules[0].actions[0].text.value == a.file.rules[0].actions[0].text.value);
  // A word longer than the line stands alone.
  std::string longword(100, 'w');
  CHECK(formatted("rule r when true then challenge c \"a " + longword + " b\" end") ==
        "rule r\nwhen\n  true\nthen\n  challenge c\n    \"a \"\n    \"" + longword +
            " \"\n    \"b\"\nend\n");
}

TEST_CASE("texts written in pieces that fit are joined into one") {
  CHECK(formatted("rule r \"A \"  \"title\" when true then goal g \"a\" \"b\" because \"x\" \"y\" end") ==
        "rule r \"A title\"\nwhen\n  true\nthen\n  goal g \"ab\"\nbecause \"xy\"\nend\n");
}

TEST_CASE("metadata comes in the order priority, tags, source, each on its line") {
  CHECK(formatted("rule r \"T\" source \"S\" tags b, a priority 5 when true then exclude x end") ==
        "rule r \"T\"\n  priority 5\n  tags b, a\n  source \"S\"\nwhen\n  true\nthen\n  exclude x\nend\n");
}

TEST_CASE("numbers, names and escapes are copied as written") {
  CHECK(formatted("rule r when x >= 2.50 and y == .5 then goal g \"say \\\"no\\\"\\n\" end") ==
        "rule r\nwhen\n  x >= 2.50 and y == .5\nthen\n  goal g \"say \\\"no\\\"\\n\"\nend\n");
}

TEST_CASE("comments: a comment ending a line stays there, one on its own line stays before its line") {
  std::string text =
      "# head\n\nrule r  # on the rule\n"
      "when\n  # before the condition\n  a == 1  # after it\nthen\n  exclude x\n"
      "# before end\nend\n\n# tail\n";
  CHECK(formatted(text) == text);
}

TEST_CASE("comments: a comment inside a condition keeps the condition broken at its line") {
  std::string text = "rule r\nwhen\n  a == 1  # first\n  and b == 2  # second\nthen\n  exclude x\nend\n";
  CHECK(formatted(text) == text);
}

TEST_CASE("comments: one blank line between rules, blank lines around comment blocks kept") {
  std::string text =
      "rule a when true then exclude x end\n\n\n\n# section\n\n\n# about b\nrule b when true then "
      "exclude x end\nrule c when true then exclude x end";
  CHECK(formatted(text) ==
        "rule a\nwhen\n  true\nthen\n  exclude x\nend\n\n# section\n\n# about b\nrule b\nwhen\n  "
        "true\nthen\n  exclude x\nend\n\nrule c\nwhen\n  true\nthen\n  exclude x\nend\n");
}

TEST_CASE("a file of comments only, and an empty file") {
  CHECK(formatted("# only\n# comments   \n") == "# only\n# comments\n");
  CHECK(formatted("").empty());
  CHECK(formatted("\n\n  \n").empty());
}

TEST_CASE("CRLF line ends and tabs are normalized") {
  CHECK(formatted("rule r\r\n\twhen true\r\n\tthen exclude x # c\r\nend\r\n") ==
        "rule r\nwhen\n  true\nthen\n  exclude x  # c\nend\n");
}

TEST_CASE("a file with a syntax error is not formatted, and the error says where") {
  auto r = formatter::format_rule_file(source_file("bad.rules", "rule r when a == then exclude x end"));
  CHECK_FALSE(r.ok());
  CHECK(r.text.empty());
  REQUIRE_FALSE(r.diagnostics.empty());
  CHECK(r.diagnostics[0].file == "bad.rules");
  CHECK(r.diagnostics[0].line == 1);
}

TEST_CASE("conclude with a value, for each, provisional when and a negative priority") {
  std::string text =
      "rule r priority -5 for each r in relationships when r.conflict == \"overt\" provisional when "
      "r.conflict is missing then conclude a.b = r.closeness * 2 + -1 end";
  CHECK(formatted(text) ==
        "rule r\n  priority -5\nfor each r in relationships\nwhen\n  r.conflict == \"overt\"\n"
        "provisional when\n  r.conflict is missing\nthen\n  conclude a.b = r.closeness * 2 + -1\nend\n");
}

TEST_CASE("a goal's 'by session' date stays on its line, laid out as in a condition") {
  std::string text =
      "rule r when a then goal g for c by session(therapy.sessions_planned+ -1)/2 \"By then\" "
      "goal h by session param.x \"A text long enough that it has to go below the action in pieces\" end";
  std::string once = formatted(text);
  CHECK(once ==
        "rule r\nwhen\n  a\nthen\n  goal g for c by session (therapy.sessions_planned + -1) / 2 \"By then\"\n"
        "  goal h by session param.x\n    \"A text long enough that it has to go below the action in pieces\"\nend\n");
  CHECK(formatted(once) == once);
}

TEST_CASE("a 'by session' value of any form that parses is laid out, a comparison included") {
  // Found by fuzzing: the grammar reads any expression after 'by session'
  // (the checker then says a comparison is no session number), and fmt
  // refused what it could not lay out.
  std::string text = "rule r when a then goal g by session p.a>=b or c \"Text\" end";
  std::string once = formatted(text);
  CHECK(once == "rule r\nwhen\n  a\nthen\n  goal g by session p.a >= b or c \"Text\"\nend\n");
  CHECK(formatted(once) == once);
}

// --- the command ----------------------------------------------------------

TEST_CASE("fmt --check names the files it would change, exits 1 and writes nothing") {
  scratch s;
  s.write("a.rules", "rule a when true then exclude x end\n");
  std::string good = "rule b\nwhen\n  true\nthen\n  exclude x\nend\n";
  s.write("b.rules", good);
  auto r = run({"fmt", "--check", s.dir.string()});
  CHECK(r.code == 1);
  CHECK(r.out == (s.dir / "a.rules").string() + "\n");
  CHECK(r.err.find("1 file is not in the canonical layout") != std::string::npos);
  CHECK(slurp(s.dir / "a.rules") == "rule a when true then exclude x end\n");
  auto ok = run({"fmt", "--check", (s.dir / "b.rules").string()});
  CHECK(ok.code == 0);
  CHECK(ok.out.empty());
}

TEST_CASE("fmt rewrites the files that change, names them, and keeps their permissions") {
  scratch s;
  s.write("a.rules", "rule a when true then exclude x end\n");
  s.write("notes.txt", "rule not a rule file\n");
  ::chmod((s.dir / "a.rules").c_str(), 0640);
  auto r = run({"fmt", s.dir.string()});
  CHECK(r.code == 0);
  CHECK(r.out == (s.dir / "a.rules").string() + "\n");
  CHECK(slurp(s.dir / "a.rules") == "rule a\nwhen\n  true\nthen\n  exclude x\nend\n");
  CHECK(slurp(s.dir / "notes.txt") == "rule not a rule file\n");
  struct ::stat st {};
  REQUIRE(::stat((s.dir / "a.rules").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  auto again = run({"fmt", s.dir.string()});
  CHECK(again.code == 0);
  CHECK(again.out.empty());
  for (const auto& e : fs::directory_iterator(s.dir)) {
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
  }
}

TEST_CASE("fmt of a folder does not write through a link to a file outside it, but given the file it does") {
  scratch s;
  s.write("rules/a.rules", "rule a when true then exclude x end\n");
  auto outside = s.write("elsewhere/b.rules", "rule b when true then exclude y end\n");
  fs::create_symlink(outside, s.dir / "rules" / "b.rules");
  auto r = run({"fmt", (s.dir / "rules").string()});
  CHECK(r.code == 1);
  CHECK(r.err.find("b.rules: error: a link that leads outside the folder; not formatted (give the file itself to "
                   "format it)") != std::string::npos);
  CHECK(slurp(outside) == "rule b when true then exclude y end\n");          // untouched
  CHECK(slurp(s.dir / "rules" / "a.rules") == "rule a\nwhen\n  true\nthen\n  exclude x\nend\n");  // the rest formatted
  auto direct = run({"fmt", outside});
  CHECK(direct.code == 0);
  CHECK(slurp(outside) == "rule b\nwhen\n  true\nthen\n  exclude y\nend\n");
}

TEST_CASE("fmt leaves a file with a syntax error as it is, formats the others, and exits 1") {
  scratch s;
  s.write("bad.rules", "rule a when x == then exclude x end\n");
  s.write("good.rules", "rule b when true then exclude x end\n");
  auto r = run({"fmt", s.dir.string()});
  CHECK(r.code == 1);
  CHECK(r.err.find("bad.rules:1:") != std::string::npos);
  CHECK(r.err.find("not formatted") != std::string::npos);
  CHECK(slurp(s.dir / "bad.rules") == "rule a when x == then exclude x end\n");
  CHECK(slurp(s.dir / "good.rules") == "rule b\nwhen\n  true\nthen\n  exclude x\nend\n");
}

TEST_CASE("fmt - formats standard input to standard output") {
  auto r = run({"fmt", "-"}, "rule a when true then exclude x end");
  CHECK(r.code == 0);
  CHECK(r.out == "rule a\nwhen\n  true\nthen\n  exclude x\nend\n");
  auto c = run({"fmt", "--check", "-"}, "rule a when true then exclude x end");
  CHECK(c.code == 1);
  CHECK(c.out == "<stdin>\n");
  auto bad = run({"fmt", "-"}, "rule a when");
  CHECK(bad.code == 1);
  CHECK(bad.out.empty());
  CHECK(bad.err.find("<stdin>:1:") != std::string::npos);
}

TEST_CASE("fmt refuses what is not a rule file, a missing path, and no path at all") {
  scratch s;
  s.write("vocabulary.toml", "x = 1\n");
  auto toml = run({"fmt", (s.dir / "vocabulary.toml").string()});
  CHECK(toml.code == 1);
  CHECK(toml.err.find("not a rule file") != std::string::npos);
  CHECK(slurp(s.dir / "vocabulary.toml") == "x = 1\n");
  auto missing = run({"fmt", (s.dir / "nope.rules").string()});
  CHECK(missing.code == 1);
  CHECK(missing.err.find("no such file or folder") != std::string::npos);
  auto empty_dir = run({"fmt", s.dir.string()});
  CHECK(empty_dir.code == 1);
  CHECK(empty_dir.err.find("holds no rule files") != std::string::npos);
  CHECK(run({"fmt"}).code == 2);
  CHECK(run({"fmt", "-", (s.dir / "vocabulary.toml").string()}).code == 2);
}

TEST_CASE("fmt reports a rule file that is a folder or a dangling link instead of skipping it") {
  scratch s;
  fs::create_directory(s.dir / "dir.rules");
  fs::create_symlink(s.dir / "gone", s.dir / "dangling.rules");
  s.write("ok.rules", "rule b\nwhen\n  true\nthen\n  exclude x\nend\n");
  auto r = run({"fmt", "--check", s.dir.string()});
  CHECK(r.code == 1);
  CHECK(r.err.find("dir.rules") != std::string::npos);
  CHECK(r.err.find("dangling.rules") != std::string::npos);
}

TEST_CASE("comments: one that ended a head line stays there when the text goes below it") {
  std::string text =
      "rule x  # note on x\n"
      "  \"A title long enough that it cannot stay on the line of the rule itself, no\"\n"
      "when\n  phq9.total > 27\nthen\n  goal g  # on goal\n"
      "    \"First piece of a long goal text that is long enough to need two pieces \"\n"
      "    \"second piece.\"\n"
      "because  # on because\n"
      "  \"A reason long enough that it has to go below because, as this one does, yes.\"\n"
      "end\n";
  CHECK(formatted(text) == text);
}

TEST_CASE("comments: a comment that ended the rule's line stays next to the rule, not the header") {
  auto once = formatted("# File header.\n\nrule x  # note on x\n  \"T\"\nwhen true then exclude y end\n");
  CHECK(once == "# File header.\n\n# note on x\nrule x \"T\"\nwhen\n  true\nthen\n  exclude y\nend\n");
  CHECK(formatted(once) == once);
}

TEST_CASE("fmt does not rewrite a read-only rule file") {
  scratch s;
  s.write("ro.rules", "rule a when true then exclude x end\n");
  ::chmod((s.dir / "ro.rules").c_str(), 0444);
  auto r = run({"fmt", (s.dir / "ro.rules").string()});
  CHECK(r.code == 1);
  CHECK(r.err.find("read-only") != std::string::npos);
  CHECK(slurp(s.dir / "ro.rules") == "rule a when true then exclude x end\n");
  CHECK(run({"fmt", "--check", (s.dir / "ro.rules").string()}).code == 1);
}

TEST_CASE("a rule file saved with a UTF-8 byte-order mark parses, and fmt writes it without one") {
  const std::string rule = "rule a \"A\"\n  priority 10\n  tags t\n  source \"domain P5\"\nwhen\n  phq9.total > 3\nthen\n"
                           "  flag info a \"A\"\nbecause \"b\"\nend\n";
  auto parsed = parse_rule_file(source_file("a.rules", "\xEF\xBB\xBF" + rule));
  CHECK(parsed.diagnostics.empty());
  REQUIRE(parsed.file.rules.size() == 1);
  CHECK(parsed.file.rules[0].id == "a");
  CHECK(formatted("\xEF\xBB\xBF" + rule) == formatted(rule));
  CHECK(formatted("\xEF\xBB\xBF" + rule).rfind("rule a", 0) == 0);
}

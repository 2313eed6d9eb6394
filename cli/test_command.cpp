// `iptplan test [DIR] [--coverage] [--min-coverage N]`: runs every test case
// of a rule set and, on request, reports rule coverage.
#include <cctype>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include "cli/common.hpp"
#include "engine/render/json_writer.hpp"
#include "engine/toml_util.hpp"
#include "engine/lint/lint.hpp"
#include "engine/testing.hpp"

namespace iptplan::cli {

namespace fs = std::filesystem;

namespace {

struct case_source {
  std::string name, text;
  findings_resolver resolve;
};

// "rules/tests" + "clients/a.toml" -> "rules/tests/clients/a.toml"
std::string join_normal(const std::string& dir, const std::string& relative) {
  return fs::path(dir + "/" + relative).lexically_normal().generic_string();
}


std::vector<case_source> folder_cases(const std::string& dir, std::vector<diagnostic>& diags,
                                      std::map<std::string, std::string>& refused) {
  std::vector<case_source> out;
  fs::path tests = fs::path(dir) / "tests";
  std::error_code ec;
  if (!fs::is_directory(tests, ec)) return out;
  // The tests folder itself a link to a folder elsewhere: one error for
  // the folder, not one for each of its cases.
  if (!path_inside(dir, tests.string())) {
    diagnostic d;
    d.code = "test.read";
    d.file = tests.string();
    d.message = "is a link to a folder outside the rule set folder; test cases are read only from inside it "
                "(move the folder in instead of linking it)";
    diags.push_back(std::move(d));
    return out;
  }
  std::vector<std::string> names;
  // Every *.toml is a test case, whatever it is: a pipe, a dangling link or
  // a folder so named is an error (test.read), never a case skipped.
  for (const auto& e : fs::directory_iterator(tests, ec)) {
    std::string ext = e.path().extension().string();
    if (ext == ".toml") {
      names.push_back(e.path().string());
    } else if (ext.size() == 5 && ext != ".toml" && std::equal(ext.begin(), ext.end(), ".toml", [](char a, char b) {
                 return std::tolower(static_cast<unsigned char>(a)) == b;
               })) {
      // x.TOML: not a case skipped in silence (a lead would think it ran).
      diagnostic d;
      d.code = "test.read";
      d.file = e.path().string();
      d.message = "a test case's name ends in '.toml', in lower case; rename it to be read";
      diags.push_back(std::move(d));
    } else if (e.is_directory(ec)) {
      // A case one folder down (tests/sub/x.toml, with its own [expect]) is
      // not run: said, not skipped in silence. Findings files there (the
      // clients cases name) are no cases and are left alone.
      std::error_code sub;
      std::size_t looked = 0;
      for (fs::directory_iterator it(e.path(), sub), end; !sub && it != end && looked < 1'000;
           it.increment(sub), ++looked) {
        if (it->path().extension() != ".toml" || !it->is_regular_file(sub)) continue;
        std::vector<diagnostic> ignored;
        auto text = read_text_file(it->path().string(), "test.read", ignored);
        if (!text) continue;
        // A case is a file with an `expect` table, however it is written
        // ([expect], [ expect ], expect.flags = ...).
        auto t = parse_toml(it->path().string(), *text, "test.read", ignored);
        if (!t || !t->contains("expect")) continue;
        diagnostic d;
        d.code = "test.read";
        d.file = it->path().string();
        d.message = "a test case in a folder of tests/ is not run: test cases are the *.toml files directly in "
                    "tests/ (the findings they name may be anywhere inside the rule set); move it up";
        diags.push_back(std::move(d));
      }
      ec.clear();
    }
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    // A case is read only from inside the folder: a link to a file
    // elsewhere is never read (nor quoted in an error).
    if (!path_inside(dir, name)) {
      diagnostic d;
      d.code = "test.read";
      d.file = name;
      d.message = "is a link that leads outside the rule set folder; a test case is read only from inside it "
                  "(copy the file in instead)";
      diags.push_back(std::move(d));
      continue;
    }
    auto text = read_text_file(name, "test.read", diags);
    if (!text) continue;
    std::string folder = fs::path(name).parent_path().string();
    out.push_back({name, *text, [folder, dir, name, &refused](const std::string& rel)
                                    -> std::optional<std::pair<std::string, std::string>> {
                     std::string path = join_normal(folder, rel);
                     // A test case names only findings of its own rule
                     // set, never ../../../etc/passwd nor /etc/hostname.
                     if (!rel.empty() && rel.front() == '/') {
                       refused[name] = rel;
                       return std::nullopt;
                     }
                     if (!path_inside(dir, path)) {
                       refused[name] = rel;
                       return std::nullopt;
                     }
                     std::vector<diagnostic> ignored;
                     auto t = read_text_file(path, "test.findings", ignored);
                     if (!t) return std::nullopt;
                     return std::make_pair(path, *t);
                   }});
  }
  return out;
}

std::vector<case_source> builtin_cases() {
  std::vector<case_source> out;
  auto files = std::make_shared<std::vector<rule_set_file>>(builtin_case_files());
  for (const auto& f : *files) {
    // The cases themselves: rules/tests/*.toml, not the clients they name.
    if (f.name.rfind("rules/tests/", 0) != 0 || f.name.find('/', 12) != std::string::npos) continue;
    out.push_back({f.name, f.text, [files](const std::string& rel)
                                       -> std::optional<std::pair<std::string, std::string>> {
                     std::string path = join_normal("rules/tests", rel);
                     for (const auto& g : *files) {
                       if (g.name == path) return std::make_pair(path, g.text);
                     }
                     return std::nullopt;
                   }});
  }
  return out;
}

std::string percent(int part, int whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", whole ? 100.0 * part / whole : 100.0);
  return buf;
}

}  // namespace

namespace {

// A rule file, each line prefixed with what the cases did: for a rule's
// first line how often it fired (F), was false (N) or undecided (U); for a
// condition's, how often it was true (T), false (N) or unknown (U).
bool annotate_file(const program& p, const coverage& cov, const std::string& wanted, std::ostream& out,
                   std::ostream& err) {
  std::int32_t file = -1;
  std::error_code ec;
  for (std::size_t i = 0; i < p.sources.size(); ++i) {
    bool same_file = fs::exists(wanted, ec) && fs::exists(p.sources[i].name(), ec) &&
                     fs::equivalent(wanted, p.sources[i].name(), ec);
    if (p.sources[i].name() == wanted || (i < p.source_bases.size() && p.source_bases[i] == wanted) || same_file) {
      file = static_cast<std::int32_t>(i);
    }
  }
  if (file < 0) {
    err << "iptplan: --annotate " << printable(wanted) << ": no rule file of that name in the rule set\n";
    return false;
  }
  const source_file& src = p.sources[static_cast<std::size_t>(file)];
  std::map<int, std::string> notes;
  for (std::size_t ri = 0; ri < p.rules.size(); ++ri) {
    const auto& r = p.rules[ri];
    if (r.file != file) continue;
    const auto& c = cov.rules[ri];
    notes[r.line] = "F" + std::to_string(c.fired) + " N" + std::to_string(c.false_) + " U" +
                    std::to_string(c.undecided);
  }
  for (const auto& c : cov.conditions) {
    const node& n = p.nodes[c.node];
    if (n.file != file) continue;
    int line = src.locate(n.src_begin).line;
    std::string note = "T" + std::to_string(c.true_) + " N" + std::to_string(c.false_) + " U" +
                       std::to_string(c.unknown) + (c.true_ && c.false_ ? "" : " !");
    notes[line] = notes.count(line) ? notes[line] + "; " + note : note;
  }
  out << "\n" << src.name() << ", annotated (rules: F fired, N not, U undecided; conditions: T true, N false, "
      << "U unknown; ! never both true and false):\n";
  for (int line = 1; line <= src.line_count(); ++line) {
    std::string note = notes.count(line) ? notes[line] : "";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%-24s| ", note.c_str());
    out << buf << printable(src.line_text(line)) << "\n";
  }
  return true;
}

}  // namespace

int cmd_test(const std::string& given, bool show_coverage, double min_coverage, const std::string& fmt,
             std::ostream& out, std::ostream& err, const std::string& annotate) {
  bool json = fmt == "json";
  // One case file of a rule set (DIR/tests/NAME.toml) runs that case alone,
  // with the rule set it belongs to: what a lead does while writing it.
  std::string dir = given;
  std::optional<fs::path> only;
  {
    std::error_code ec;
    fs::path p(given);
    if (!given.empty() && p.extension() == ".toml" && fs::is_regular_file(p, ec)) {
      fs::path folder = fs::absolute(p, ec).lexically_normal().parent_path();
      if (folder.filename() != "tests" || !fs::exists(folder.parent_path() / "ruleset.toml", ec)) {
        err << given << ": error: a test case runs with its rule set: put it in DIR/tests/ and run "
            << "'iptplan test DIR' (or 'iptplan test DIR/tests/" << p.filename().string() << "' for it alone)\n";
        return kInputError;
      }
      dir = (fs::path(given).parent_path() / "..").lexically_normal().string();
      if (dir.empty()) dir = "..";
      only = p;
    }
  }
  if (json && !annotate.empty()) {
    err << "iptplan: --annotate lists a rule file as text; it does not go with --format json\n";
    return kUsage;
  }
  // With JSON, every diagnostic goes into the output instead of stderr.
  std::vector<diagnostic> collected;
  std::optional<collect_diagnostics> collect;
  if (json) collect.emplace(collected);
  std::ostringstream quiet;
  auto rs = load(dir, json ? quiet : err);
  if (!rs) {
    if (json) {
      collect.reset();
      jsonout::json j = {{"rule_set", dir.empty() ? "built-in" : dir},
                         {"ok", false},
                         {"passed", 0},
                         {"failed", 0},
                         {"cases", jsonout::json::array()}};
      j["diagnostics"] = jsonout::json::array();
      for (const auto& d : collected) j["diagnostics"].push_back(jsonout::to_json(d));
      out << jsonout::dump(j);
    }
    return kInputError;
  }
  std::vector<diagnostic> diags;
  std::map<std::string, std::string> refused;  // case file -> findings path outside the folder
  auto sources = dir.empty() ? builtin_cases() : folder_cases(dir, diags, refused);
  if (only) {
    std::error_code ec;
    sources.erase(std::remove_if(sources.begin(), sources.end(),
                                 [&](const case_source& c) { return !fs::equivalent(c.name, *only, ec); }),
                  sources.end());
    diags.erase(std::remove_if(diags.begin(), diags.end(),
                               [&](const diagnostic& d) { return !fs::equivalent(d.file, *only, ec); }),
                diags.end());
  }
  print(err, diags);  // case files that could not be read
  int unreadable = static_cast<int>(std::count_if(diags.begin(), diags.end(), [](const diagnostic& d) {
    return d.level == severity::error;
  }));
  if (sources.empty() && diags.empty()) {
    std::string folder = dir.empty() ? "rules" : dir;
    while (folder.size() > 1 && folder.back() == '/') folder.pop_back();
    err << "iptplan: error: no test cases: put them in " << folder << "/tests/*.toml\n";
    return kInputError;
  }
  struct case_result {
    std::string name, file, findings, report;
    bool passed = false;
    std::vector<diagnostic> diags;
  };
  std::vector<case_result> results;
  int passed = 0, failed = unreadable;
  coverage cov(*rs->prog);
  for (const auto& src : sources) {
    std::vector<diagnostic> case_diags;
    auto tc = read_test_case(src.name, src.text, src.resolve, case_diags);
    if (!tc) {
      if (auto r = refused.find(src.name); r != refused.end()) {
        // Said at the 'findings' key, in place of "cannot read".
        for (auto& d : case_diags) {
          if (d.code != "test.findings" || d.message.rfind("cannot read the findings file", 0) != 0) continue;
          d.message = "the findings file '" + printable(r->second) +
                      "' is outside the rule set folder; a test case names findings inside it (for "
                      "example clients/<name>.toml)";
        }
      }
      print(err, case_diags);
      results.push_back({src.name, src.name, "", "the test case is invalid (see the errors above)", false, case_diags});
      ++failed;
      continue;
    }
    auto result = run_test_case(*rs, *tc, case_diags);
    std::vector<diagnostic> errors;
    for (auto& d : case_diags) {
      if (d.level == severity::error) errors.push_back(d);
    }
    print(err, errors);
    if (result.ev) cov.add(*result.ev);
    if (result.client) cov.add(*result.client);
    (result.passed ? passed : failed) += 1;
    results.push_back({tc->name, tc->file, tc->findings_name, result.report, result.passed, errors});
  }

  const auto& p = *rs->prog;
  // A rule that can never be true by design (`# lint: allow lint.never-true
  // because ...`: it holds a fact open until a finding is recorded) is
  // covered when some case leaves it undecided, the one state it has
  // besides false.
  std::vector<bool> held_open(p.rules.size());
  for (std::size_t i = 0; i < p.rules.size(); ++i) held_open[i] = lint_allowed(p, p.rules[i], "lint.never-true");
  auto covered = [&](std::size_t i) {
    return cov.rules[i].fired > 0 || (held_open[i] && cov.rules[i].undecided > 0);
  };
  int fired = 0, left_false = 0;
  for (std::size_t i = 0; i < cov.rules.size(); ++i) {
    fired += covered(i);
    left_false += cov.rules[i].false_ > 0;
  }
  int n = static_cast<int>(p.rules.size());
  bool below = min_coverage >= 0 && (n ? 100.0 * fired / n : 100.0) < min_coverage;

  if (json) {
    collect.reset();
    jsonout::json cases = jsonout::json::array();
    for (const auto& r : results) {
      jsonout::json ds = jsonout::json::array();
      for (const auto& d : r.diags) ds.push_back(jsonout::to_json(d));
      cases.push_back({{"name", r.name}, {"file", r.file}, {"findings", r.findings}, {"passed", r.passed},
                       {"report", r.passed ? "" : r.report}, {"diagnostics", ds}});
    }
    jsonout::json j = {{"rule_set", dir.empty() ? "built-in" : dir}, {"ok", failed == 0 && !below},
                       {"passed", passed}, {"failed", failed}, {"cases", cases}};
    j["diagnostics"] = jsonout::json::array();
    for (const auto& d : collected) j["diagnostics"].push_back(jsonout::to_json(d));
    jsonout::json rules = jsonout::json::array();
    for (std::size_t i = 0; i < p.rules.size(); ++i) {
      const auto& c = cov.rules[i];
      rules.push_back({{"rule", p.rules[i].id}, {"file", p.base_of(p.rules[i])}, {"line", p.rules[i].line},
                       {"fired", c.fired}, {"false", c.false_}, {"undecided", c.undecided},
                       {"held_open", static_cast<bool>(held_open[i])}, {"covered", covered(i)}});
    }
    jsonout::json conds = jsonout::json::array();
    for (const auto& c : cov.conditions) {
      const auto& r = p.rules[c.rule];
      auto at = p.sources[p.nodes[c.node].file].locate(p.nodes[c.node].src_begin);
      conds.push_back({{"rule", r.id}, {"file", p.base_of(r)}, {"line", at.line},
                       {"condition", std::string(p.text_of(p.nodes[c.node]))}, {"true", c.true_},
                       {"false", c.false_}, {"unknown", c.unknown}});
    }
    jsonout::json choices = jsonout::json::object();
    for (const auto& [path, values] : cov.unused_choices) {
      if (!values.empty()) choices[path] = values;
    }
    j["coverage"] = {{"rules", n},          {"fired", fired},         {"left_false", left_false},
                     {"by_rule", rules},    {"conditions", conds},    {"unused_choices", choices},
                     {"unread_findings", unread_findings(p)}};
    if (min_coverage >= 0) j["coverage"]["required"] = min_coverage;
    out << jsonout::dump(j);
    return failed || below ? kInputError : kOk;
  }

  for (const auto& r : results) {
    if (r.passed) {
      out << "PASS  " << printable(r.name) << "\n";
    } else if (r.findings.empty()) {
      out << "FAIL  " << printable(r.name) << ": " << printable(r.report, true) << "\n";
    } else {
      out << "FAIL  " << printable(r.name) << "  (" << printable(r.file) << ", findings " << printable(r.findings)
          << ")\n"
          << printable(r.report, true);
    }
  }
  out << passed << " passed, " << failed << " failed\n";
  if (show_coverage) {
    out << "\nRule coverage over " << (passed + failed) << " cases:\n";
    out << "  fired    false    undecided  rule (file:line)\n";
    for (std::size_t i = 0; i < p.rules.size(); ++i) {
      const auto& c = cov.rules[i];
      char line[64];
      std::snprintf(line, sizeof line, "  %-8d %-8d %-10d ", c.fired, c.false_, c.undecided);
      out << line << p.rules[i].id << " (" << p.file_of(p.rules[i]) << ":" << p.rules[i].line << ")"
          << (held_open[i] && c.fired == 0 && covered(i) ? "  (never true by design: held open, undecided in some case)"
              : c.fired == 0             ? "  <- never fired"
              : c.false_ == 0            ? "  <- never false"
                                         : "")
          << "\n";
    }
    auto unread = unread_findings(p);
    out << "\nFindings no rule reads (" << unread.size() << "):";
    if (unread.empty()) out << " none";
    for (const auto& f : unread) out << "\n  " << f;
    // Conditions no case made both true and false.
    std::vector<std::string> partial;
    for (const auto& c : cov.conditions) {
      if (c.true_ && c.false_) continue;
      const auto& r = p.rules[c.rule];
      const node& nd = p.nodes[c.node];
      auto at = p.sources[nd.file].locate(nd.src_begin);
      std::string what = !c.true_ && !c.false_ ? "never true or false" : !c.true_ ? "never true" : "never false";
      // A condition written over several lines is shown on one.
      std::string text;
      for (char ch : p.text_of(nd)) {
        bool space = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
        if (!space) text += ch;
        else if (!text.empty() && text.back() != ' ') text += ' ';
      }
      partial.push_back(r.id + " (" + p.file_of(r) + ":" + std::to_string(at.line) + "): '" + printable(text) +
                        "' " + what);
    }
    out << "\n\nConditions that no case made both true and false (" << partial.size() << " of "
        << cov.conditions.size() << "):";
    if (partial.empty()) out << " none";
    for (const auto& s : partial) out << "\n  " << s;
    std::size_t unused = 0;
    for (const auto& [path, values] : cov.unused_choices) unused += values.size();
    out << "\n\nChoices of the findings the rules read that no case records (" << unused << "):";
    if (!unused) out << " none";
    for (const auto& [path, values] : cov.unused_choices) {
      if (values.empty()) continue;
      out << "\n  " << path << ":";
      for (const auto& v : values) out << " " << v;
    }
    int held = 0;
    for (std::size_t i = 0; i < p.rules.size(); ++i) held += held_open[i] && cov.rules[i].fired == 0 && covered(i);
    out << "\n\nCoverage: " << fired << " of " << n << " rules fired in some case (" << percent(fired, n)
        << (held ? "; " + std::to_string(held) +
                       (held == 1 ? " of them is never true by design and was" : " of them are never true by design and were") +
                       " undecided instead"
                 : std::string())
        << "); " << left_false << " of " << n << " were false in some case ("
        << percent(left_false, n) << ").\n";
  }
  if (!annotate.empty() && !annotate_file(p, cov, annotate, out, err)) return kUsage;
  if (below) {
    out << "Coverage " << percent(fired, n) << " of rules fired is below the required "
        << min_coverage << "%\n";
    return kInputError;
  }
  return failed ? kInputError : kOk;
}

}  // namespace iptplan::cli

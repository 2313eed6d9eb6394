#include "fuzz/drivers.hpp"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

#include "fhir/fhir.hpp"
#include "format/format.hpp"
#include "engine/evaluator.hpp"
#include "engine/findings.hpp"
#include "engine/plan.hpp"
#include "engine/select.hpp"
#include "engine/render/render.hpp"
#include "engine/ruleset.hpp"
#include "engine/lint/lint.hpp"
#include "engine/testing.hpp"
#include "grammar/diagnostic.hpp"
#include "grammar/parse.hpp"

namespace iptplan::fuzz {

namespace {

// The formatter is attack surface too: every diagnostic is rendered.
void format_all(const std::vector<diagnostic>& ds) {
  std::string sink;
  for (const auto& d : ds) {
    sink += format(d);
    sink += format_short(d);
  }
}

const rule_set_file* builtin(const std::string& base) {
  static const std::vector<rule_set_file> files = builtin_rule_files();
  for (const auto& f : files) {
    if (f.base == base) return &f;
  }
  return nullptr;
}

// The default rule set, compiled once.
const rule_set& default_rules() {
  static const rule_set rs = [] {
    std::vector<diagnostic> diags;
    auto loaded = load_rule_set(builtin_rule_files(), "built-in", diags);
    return std::move(*loaded);
  }();
  return rs;
}

}  // namespace

void run_rules(const std::string& bytes) {
  source_file src("fuzz.rules", bytes);
  auto parsed = parse_rule_file(src, {});
  format_all(parsed.diagnostics);
  // fmt: whatever parses is formatted, keeping its meaning (format_rule_file
  // checks that by parsing its result) and settling (a second run changes
  // nothing).
  if (!has_errors(parsed.diagnostics)) {
    auto once = formatter::format_rule_file(src);
    if (!once.ok()) {
      std::fprintf(stderr, "fmt refused a file that parses: %s\n", once.diagnostics[0].message.c_str());
      std::abort();
    }
    auto twice = formatter::format_rule_file(source_file("fuzz.rules", once.text));
    if (!twice.ok() || twice.text != once.text) {
      std::fprintf(stderr, "fmt is not idempotent\n");
      std::abort();
    }
  }
  // Checked against the default vocabulary and parameters.
  std::vector<rule_set_file> files{*builtin("ruleset.toml"), *builtin("vocabulary.toml"),
                                   {"fuzz.rules", "fuzz.rules", bytes}};
  std::vector<diagnostic> diags;
  auto rs = load_rule_set(std::move(files), "fuzz", diags, true);
  format_all(diags);
}

void run_findings(const std::string& bytes) {
  const rule_set& rs = default_rules();
  std::vector<diagnostic> diags;
  // The same bytes as JSON findings (batch's JSON Lines): read, never planned
  // differently from TOML once read.
  {
    std::vector<diagnostic> jd;
    // As JSON findings, or a FHIR QuestionnaireResponse when it is one.
    if (auto client = fhir::read_json_findings(*rs.prog, "fuzz.json", bytes, {true}, jd)) {
      auto ev = evaluate(*rs.prog, *client, false);
      (void)select_items(*rs.prog, *client, ev);
    }
    format_all(jd);
  }
  for (bool allow : {false, true}) {
    diags.clear();
    auto client = read_findings(*rs.prog, "fuzz.toml", bytes, {allow}, diags);
    format_all(diags);
    if (!client) continue;
    auto ev = evaluate(*rs.prog, *client, true);
    auto fast = evaluate(*rs.prog, *client, false);
    // An oracle: the fast path (compiled instructions) decides exactly what
    // explain mode (the tree interpreter) decides.
    auto a = select_items(*rs.prog, *client, ev), b = select_items(*rs.prog, *client, fast);
    bool same = a.items.size() == b.items.size() && a.undecided.size() == b.undecided.size();
    for (std::size_t i = 0; same && i < a.items.size(); ++i) {
      same = a.items[i].full_id() == b.items[i].full_id() && a.items[i].provisional == b.items[i].provisional;
    }
    if (!same) std::abort();
    plan p = build_plan(rs, *client, ev, sha256_hex(bytes));
    std::string sink = render_text(p) + render_markdown(p) + render_json(p);
    for (const auto* group : {&p.flags, &p.challenges, &p.solutions, &p.goals, &p.provisional}) {
      if (!group->empty()) sink += render_why(group->front());
    }
    sink += render_why_not(rs, *client, ev, p, "safety_plan");
    sink += render_why_not(rs, *client, ev, p, "role_dispute[partner]");
  }
}

void run_config(const std::string& bytes) {
  std::vector<diagnostic> diags;
  vocabulary::parse("vocabulary.toml", bytes, diags);
  format_all(diags);
  diags.clear();
  // As a ruleset.toml beside the default vocabulary and one rule file.
  std::vector<rule_set_file> files{{"ruleset.toml", "ruleset.toml", bytes},
                                   *builtin("vocabulary.toml"),
                                   *builtin("safety.rules")};
  auto rs = load_rule_set(std::move(files), "fuzz", diags);
  format_all(diags);
  diags.clear();
  // As an approval.toml and a sources.toml beside the default rules, then
  // linted.
  for (const char* as : {"approval.toml", "sources.toml"}) {
    std::vector<rule_set_file> with{*builtin("ruleset.toml"), *builtin("vocabulary.toml"), *builtin("safety.rules"),
                                    {as, as, bytes}};
    auto loaded = load_rule_set(std::move(with), "fuzz", diags);
    format_all(diags);
    diags.clear();
    if (loaded) format_all(lint(*loaded));
  }
  // As a test case, run against the default rules.
  auto tc = read_test_case("case.toml", bytes, [](const std::string&) { return std::nullopt; }, diags);
  format_all(diags);
  if (tc) {
    std::vector<diagnostic> run_diags;
    auto result = run_test_case(default_rules(), *tc, run_diags);
    format_all(run_diags);
  }
}

bool run(const std::string& target, const std::string& bytes) {
  if (target == "rules") run_rules(bytes);
  else if (target == "findings") run_findings(bytes);
  else if (target == "config") run_config(bytes);
  else return false;
  return true;
}

}  // namespace iptplan::fuzz

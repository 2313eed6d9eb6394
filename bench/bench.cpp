// Benchmarks, kept apart from the tests (a test never asserts a time).
//
//   bench/iptplan_bench [ITERATIONS]
//
// 1. check: parse, check and compile a generated rule set of 10,000 rules
//    over the default vocabulary (target: under 200 ms);
// 2. evaluate: the default rule set for one already-loaded client, fast path
//    (target: under 20 microseconds);
// 3. evaluate + explain + build the plan, as `iptplan plan` does;
// 4. a circle of 8,000 and of 32,000 rules, each reading the fact the one
//    before concludes, evaluated with explanations: a yes sets the facts
//    one after another, so re-running every rule of the circle per change
//    would cost the square of its length (it took 12.8 s at 8,000).
#include <chrono>
#include <cstdio>
#include <string>

#include "engine/evaluator.hpp"
#include "engine/findings.hpp"
#include "engine/plan.hpp"
#include "engine/ruleset.hpp"

using namespace iptplan;
using clk = std::chrono::steady_clock;

namespace {

double ms_since(clk::time_point t) {
  return std::chrono::duration<double, std::milli>(clk::now() - t).count();
}

// The default ruleset.toml without its `summary` (facts the generated
// rules do not conclude); any other file as it is.
rule_set_file without_summary(rule_set_file f) {
  if (f.base != "ruleset.toml") return f;
  auto at = f.text.find("\nsummary = ");
  auto close = at == std::string::npos ? at : f.text.find("]\n", at);
  if (close != std::string::npos) f.text.erase(at + 1, close + 1 - at);
  return f;
}

// A rule set of `n` rules in 20 files, built on the default vocabulary: a
// mix of comparisons, enum tests, quantifiers, derived facts and templates.
std::vector<rule_set_file> generated(const std::vector<rule_set_file>& builtin, int n) {
  std::vector<rule_set_file> files;
  for (const auto& f : builtin) {
    if (f.base == "vocabulary.toml" || f.base == "ruleset.toml") files.push_back(without_summary(f));
  }
  const int per_file = n / 20;
  for (int f = 0; f < 20; ++f) {
    std::string text;
    for (int i = f * per_file; i < (f + 1) * per_file; ++i) {
      std::string id = std::to_string(i);
      text += "rule r" + id + " \"Generated rule " + id + "\"\n  priority " + std::to_string(i % 101) +
              "\n  source \"bench\"\n";
      if (i % 5 == 0) text += "for each r in relationships\nwhen r.conflict == \"overt\" and not r.confidant\n";
      else if (i % 5 == 1) text += "when phq9.total >= " + std::to_string(i % 28) + " and alliance.strength in {\"weak\", \"moderate\"}\n";
      else if (i % 5 == 2) text += "when any(r in relationships: r.closeness <= 2) or gad7.total > 10\n";
      else if (i % 5 == 3) text += "when fact.f" + std::to_string(i - 2) + " and communication.assertiveness == \"low\"\n";
      else text += "when count(r in relationships: r.satisfaction < 3) >= 2 and phq9.item9 is known\n";
      text += "then\n  challenge c" + id + " \"Challenge " + id + " at PHQ-9 {phq9.total}\"\n";
      text += "  solution s" + id + " for c" + id + " \"Solution " + id + "\"\n";
      if (i % 5 == 1) text += "  conclude fact.f" + id + "\n";
      text += "because \"Generated: {phq9.total}.\"\nend\n\n";
    }
    std::string name = "gen" + std::to_string(f) + ".rules";
    files.push_back({"bench/" + name, name, text});
  }
  return files;
}

// p(i) <- p(i-1), p(0) <- p(n-1) or a finding.
std::vector<rule_set_file> circle(const std::vector<rule_set_file>& builtin, int n) {
  std::vector<rule_set_file> files;
  for (const auto& f : builtin) {
    if (f.base == "vocabulary.toml" || f.base == "ruleset.toml") files.push_back(without_summary(f));
  }
  std::string text;
  for (int i = 0; i < n; ++i) {
    text += "rule c" + std::to_string(i) + " \"Circle " + std::to_string(i) + "\"\n  source \"bench\"\nwhen circle.p" +
            std::to_string((i + n - 1) % n) + (i == 0 ? " or dx.bipolar" : "") + "\nthen\n  conclude circle.p" +
            std::to_string(i) + "\nbecause \"Generated.\"\nend\n\n";
  }
  files.push_back({"bench/circle.rules", "circle.rules", text});
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = argc > 1 ? std::atoi(argv[1]) : 100000;
  auto builtin = builtin_rule_files();

  // 1. check 10,000 rules.
  auto big = generated(builtin, 10000);
  std::vector<diagnostic> diags;
  auto t0 = clk::now();
  auto big_rs = load_rule_set(big, "generated", diags);
  double check_ms = ms_since(t0);
  if (!big_rs) {
    for (const auto& d : diags) std::fputs(format(d).c_str(), stderr);
    return 1;
  }
  std::printf("check 10,000 rules:            %8.1f ms  (%zu strata)\n", check_ms,
              big_rs->prog->strata.size());

  // 2. evaluate the default rule set for Jane.
  diags.clear();
  auto rs = load_rule_set(builtin, "built-in", diags);
  const char* jane_path = IPTPLAN_SOURCE_DIR "/examples/jane.toml";
  auto text = read_text_file(jane_path, "bench", diags);
  if (!rs || !text) return 1;
  auto client = read_findings(*rs->prog, "examples/jane.toml", *text, {}, diags);
  if (!client) return 1;
  std::size_t fired = 0;
  t0 = clk::now();
  for (int i = 0; i < iterations; ++i) fired += evaluate(*rs->prog, *client, false).outcomes.size();
  double eval_us = ms_since(t0) * 1000.0 / iterations;
  std::printf("evaluate default rules (fast): %8.2f us  (%zu outcomes kept)\n", eval_us,
              fired / static_cast<std::size_t>(iterations));

  // 3. evaluate with explanations and build the plan.
  int plan_iterations = std::max(1, iterations / 20);
  t0 = clk::now();
  std::size_t items = 0;
  for (int i = 0; i < plan_iterations; ++i) {
    auto ev = evaluate(*rs->prog, *client, true);
    auto pl = build_plan(*rs, *client, ev, "");
    items += pl.challenges.size();
  }
  double plan_us = ms_since(t0) * 1000.0 / plan_iterations;
  std::printf("explain + build plan:          %8.2f us  (%zu challenges)\n", plan_us,
              items / static_cast<std::size_t>(plan_iterations));

  // 4. circles of rules.
  for (int n : {8000, 32000}) {
    diags.clear();
    auto circle_rs = load_rule_set(circle(builtin, n), "circle", diags);
    if (!circle_rs) {
      for (const auto& d : diags) std::fputs(format(d).c_str(), stderr);
      return 1;
    }
    auto yes = read_findings(*circle_rs->prog, "yes.toml", "[dx]\nbipolar = true\n", {}, diags);
    if (!yes) return 1;
    t0 = clk::now();
    auto ev = evaluate(*circle_rs->prog, *yes, true);
    double circle_ms = ms_since(t0);
    std::size_t set = 0;
    for (const auto& v : ev.facts) set += v.kind == vkind::boolean && v.b;
    std::printf("circle of %5d rules:          %8.1f ms  (%zu facts set)\n", n, circle_ms, set);
  }
  return 0;
}

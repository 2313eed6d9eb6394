// Bad input is a feature: rule files and findings files damaged at random
// (bytes deleted, inserted, swapped) must give diagnostics or plans, never
// a crash. Deterministic seeds, so a failure can be replayed; run under
// AddressSanitizer and UndefinedBehaviorSanitizer by CI.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include "fuzz/drivers.hpp"

#include "engine/evaluator.hpp"
#include "engine/findings.hpp"
#include "engine/plan.hpp"
#include "engine/render/render.hpp"
#include "engine/ruleset.hpp"

using namespace iptplan;

namespace {

const std::string kPieces[] = {"(", ")", "\"", "{", "}", "and ", "not ", "==", "<", "end\n", "when ",
                               "then\n", "rule x\n", "\n", "#", "\xff", "\xc3", "[", "]", "=", ".", "0"};

// Deletes, inserts or replaces a few spans of `text`.
std::string damage(std::string text, std::mt19937& rng) {
  std::uniform_int_distribution<int> edits(1, 4);
  for (int e = edits(rng); e > 0 && !text.empty(); --e) {
    std::uniform_int_distribution<std::size_t> at(0, text.size() - 1);
    std::size_t pos = at(rng);
    switch (rng() % 3) {
      case 0: text.erase(pos, 1 + rng() % 8); break;
      case 1: text.insert(pos, kPieces[rng() % std::size(kPieces)]); break;
      default: text[pos] = static_cast<char>(rng() % 256); break;
    }
  }
  return text;
}

}  // namespace

TEST_CASE("damaged rule files give diagnostics, never a crash") {
  auto files = builtin_rule_files();
  std::mt19937 rng(20261125);
  int refused = 0;
  for (int round = 0; round < 500; ++round) {
    auto copy = files;
    auto& victim = copy[rng() % copy.size()];
    victim.text = damage(victim.text, rng);
    std::vector<diagnostic> diags;
    auto rs = load_rule_set(copy, "damaged", diags, true);
    if (!rs) {
      ++refused;
      REQUIRE(has_errors(diags));
      for (const auto& d : diags) REQUIRE_FALSE(format(d).empty());
    }
  }
  CHECK(refused > 0);
}

TEST_CASE("damaged findings files give diagnostics or a plan, never a crash") {
  std::vector<diagnostic> diags;
  auto rs = load_rule_set(builtin_rule_files(), "built-in", diags);
  REQUIRE(rs);
  std::string jane;
  for (const auto& f : builtin_case_files()) {
    if (f.name == "examples/jane.toml") jane = f.text;
  }
  REQUIRE_FALSE(jane.empty());
  std::mt19937 rng(7);
  int planned = 0;
  for (int round = 0; round < 500; ++round) {
    std::string text = damage(jane, rng);
    std::vector<diagnostic> ds;
    auto client = read_findings(*rs->prog, "damaged.toml", text, {}, ds);
    if (!client) {
      REQUIRE(has_errors(ds));
      continue;
    }
    ++planned;
    auto ev = evaluate(*rs->prog, *client, true);
    auto pl = build_plan(*rs, *client, ev, "");
    REQUIRE_FALSE(render_json(pl).empty());
    REQUIRE_FALSE(render_markdown(pl).empty());
  }
  CHECK(planned > 0);
}

// Every input a fuzzer ever found a problem with, and the hostile files of
// the "hardened inputs" work, kept in tests/fuzz-regressions/<target>/ and
// replayed through the same drivers the fuzz targets use.
TEST_CASE("fuzz regressions replay without a crash") {
  namespace fs = std::filesystem;
  fs::path root = fs::path(IPTPLAN_SOURCE_DIR) / "tests" / "fuzz-regressions";
  std::size_t replayed = 0;
  for (const char* target : {"rules", "findings", "config"}) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root / target, ec)) {
      if (!e.is_regular_file() || e.path().filename().string().rfind("README", 0) == 0) continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      INFO(e.path().string());
      CHECK(fuzz::run(target, ss.str()));
      ++replayed;
    }
  }
  CHECK(replayed > 0);
}

namespace {

// Every fact explanation reachable from `r`, by fact.
void collect_facts(const reason& r, std::map<std::string, std::set<const fact_explanation*>>& seen) {
  for (const auto& f : r.derived) {
    if (!seen[f->fact].insert(f.get()).second) continue;
    for (const auto& inner : f->reasons) collect_facts(inner, seen);
  }
}

}  // namespace

TEST_CASE("hostile: 200 people who have died and 200 deaths: each fact explained once, a plan of linear size") {
  // Every rule reading problem_area.grief (200 reasons) shares one
  // explanation of it: copying it into each of the hundreds of items made
  // this plan 4 GB.
  std::vector<diagnostic> diags;
  auto rs = load_rule_set(read_rule_folder(std::string(IPTPLAN_SOURCE_DIR) + "/rules", diags), "rules", diags);
  REQUIRE(rs.has_value());
  std::string findings;
  for (int i = 0; i < 200; ++i) {
    findings += "[[relationships]]\nlabel = \"partner_" + std::to_string(i) + "\"\nrole = \"partner\"\ndeceased = true\n";
  }
  for (int i = 0; i < 200; ++i) findings += "[[life_events]]\ntype = \"death\"\n";
  auto client = read_findings(*rs->prog, "f.toml", findings, {}, diags);
  REQUIRE(client.has_value());
  auto ev = evaluate(*rs->prog, *client, true);
  auto pl = build_plan(*rs, *client, ev, "sha");
  std::map<std::string, std::set<const fact_explanation*>> seen;
  std::size_t items = 0;
  for (const auto* group : {&pl.flags, &pl.challenges, &pl.solutions, &pl.goals, &pl.provisional}) {
    for (const auto& it : *group) {
      ++items;
      for (const auto& r : it.because) collect_facts(r, seen);
    }
  }
  CHECK(items > 400);  // grief work for each of the 200
  REQUIRE(seen.count("problem_area.grief"));
  for (const auto& [fact, copies] : seen) {
    INFO(fact);
    CHECK(copies.size() == 1);
  }
  // The text plan grows with the people, not with their square.
  CHECK(render_text(pl).size() < 8u * 1024 * 1024);
}

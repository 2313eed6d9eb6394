// The fast path (program::code, no explanations) must decide exactly what
// explain mode (the tree interpreter) decides. Every evaluation a test makes
// in explain mode is checked against it, so a slip in either evaluator that
// changes a result fails the test that reaches it.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <tuple>
#include <vector>

#include "engine/evaluator.hpp"
#include "engine/select.hpp"

namespace iptplan::test_support {

inline std::string describe_value(const value& v) {
  return std::to_string(static_cast<int>(v.kind)) + ":" + std::to_string(v.b) + ":" +
         std::to_string(v.n) + ":" + std::to_string(v.sym) + ":" + std::to_string(v.ref);
}

// Outcomes that matter to a plan (fired or undecided), facts, provisional
// values, conflicts and the selected items, compared between both modes.
inline void check_fast_agrees(const program& p, const client_data& c, const evaluation& explained) {
  evaluation fast = evaluate(p, c, false);
  auto decided = [&](const evaluation& ev) {
    std::vector<std::tuple<std::uint32_t, std::int32_t, int, bool>> out;
    for (const auto& o : ev.outcomes) {
      if (o.result != truth::no) out.emplace_back(o.rule, o.element, static_cast<int>(o.result), o.provisional);
    }
    return out;
  };
  auto values = [&](const std::vector<value>& vs) {
    std::vector<std::string> out;
    for (const auto& v : vs) out.push_back(describe_value(v));
    return out;
  };
  auto items = [&](const evaluation& ev) {
    std::vector<std::string> out;
    for (const auto& it : select_items(p, c, ev).items) {
      out.push_back(it.full_id() + (it.provisional ? " provisional" : " confirmed"));
    }
    return out;
  };
  INFO("fast path (evaluate without explanations) against explain mode");
  CHECK(decided(fast) == decided(explained));
  CHECK(values(fast.facts) == values(explained.facts));
  CHECK(values(fast.provisional) == values(explained.provisional));
  CHECK(fast.conflicts.size() == explained.conflicts.size());
  CHECK(items(fast) == items(explained));
}

}  // namespace iptplan::test_support

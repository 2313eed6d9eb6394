// Closed quantifiers: `count(relationships where r.conflict == "open")`
// inside `for each relationships as p` reads nothing bound to p, so its value
// is the same for every p. The evaluator computes it once per rule and
// reuses it; without this a rule over n people counting over n people costs
// n squared.
//
// Variables are numbered by nesting (the rule's `for each` is 0, each
// quantifier one more than the one around it), so a quantifier binding
// variable v is closed when every element it reads is bound at v or deeper.
// Nodes are emitted after their operands, so one pass in index order sees
// every operand first.
#include <algorithm>
#include <limits>

#include "engine/compile.hpp"

namespace iptplan {

void mark_closed_quantifiers(program& p) {
  constexpr std::uint8_t kNone = std::numeric_limits<std::uint8_t>::max();
  // By node: the outermost variable it reads that is not bound inside it.
  std::vector<std::uint8_t> free(p.nodes.size(), kNone);
  p.cache_slot.assign(p.nodes.size(), -1);
  p.cache_slots = 0;
  for (std::uint32_t i = 0; i < p.nodes.size(); ++i) {
    const node& n = p.nodes[i];
    auto operand = [&](std::uint32_t k) {
      // An operand emitted later than its node would break the pass; treat
      // the node as reading the outermost variable (never cached).
      free[i] = k < i ? std::min(free[i], free[k]) : std::uint8_t{0};
    };
    switch (n.op) {
      case opcode::literal:
      case opcode::finding:
      case opcode::param:
      case opcode::fact: break;
      case opcode::field:
      case opcode::element: free[i] = n.var; break;
      case opcode::op_not:
      case opcode::neg:
      case opcode::in_set:
      case opcode::is_known:
      case opcode::is_missing:
      case opcode::is_provisional: operand(n.a); break;
      case opcode::op_and:
      case opcode::op_or:
        for (std::uint32_t c = 0; c < n.b; ++c) operand(p.children[n.a + c]);
        break;
      case opcode::eq: case opcode::ne: case opcode::lt: case opcode::le:
      case opcode::gt: case opcode::ge: case opcode::add: case opcode::sub:
      case opcode::mul: case opcode::div: case opcode::contains:
        operand(n.a);
        operand(n.b);
        break;
      case opcode::any:
      case opcode::all:
      case opcode::count:
        operand(n.b);
        if (free[i] >= n.var) {
          free[i] = kNone;
          p.cache_slot[i] = static_cast<std::int32_t>(p.cache_slots++);
        }
        break;
    }
  }
}

}  // namespace iptplan

// Lowering to the fast path's instructions (program::code, see fop). The
// tree stays the reference: every instruction means exactly what its node
// means to the tree interpreter, and a shape without an instruction of its
// own is `generic`, handed back to it.
#include "engine/compile.hpp"

#include <algorithm>

namespace iptplan {

namespace {

class lowering {
 public:
  explicit lowering(program& p) : p_(p) {}

  // Emits node `idx` and its operands; `cond` when its truth is wanted.
  void emit(std::uint32_t idx, bool cond) {
    const node& n = p_.nodes[idx];
    std::size_t at = p_.code.size();
    p_.code.push_back({});
    instr i;
    switch (n.op) {
      case opcode::op_and:
      case opcode::op_or:
        i.op = n.op == opcode::op_and ? fop::op_and : fop::op_or;
        i.b = n.b;
        // Kleene's and/or are commutative and the fast path has no side
        // effects, so operands that are one instruction go first: a false
        // one (for and) decides without evaluating the compound ones.
        for (bool simple : {true, false}) {
          for (std::uint32_t k = 0; k < n.b; ++k) {
            std::uint32_t child = p_.children[n.a + k];
            if (is_leaf(p_.nodes[child]) == simple) emit(child, true);
          }
        }
        break;
      case opcode::op_not:
        i.op = fop::op_not;
        emit(n.a, true);
        break;
      case opcode::finding:
        i.op = cond ? fop::test_slot : fop::slot;
        i.a = n.a;
        break;
      case opcode::fact:
        i.op = cond ? fop::test_fact : fop::fact;
        i.a = n.a;
        break;
      case opcode::literal:
      case opcode::param: {
        // Both are constants of the program.
        const value& v = constant(n);
        if (v.kind == vkind::number && !cond) {
          i.op = fop::number;
          i.num = v.n;
        } else {
          i.op = fop::constant;
          i.a = idx;
        }
        break;
      }
      case opcode::eq: case opcode::ne: case opcode::lt:
      case opcode::le: case opcode::gt: case opcode::ge:
        lower_comparison(n, i);
        break;
      case opcode::in_set:
        if (p_.nodes[n.a].op == opcode::finding) {
          i.op = fop::in_slot;
          i.a = p_.nodes[n.a].a;
          i.b = n.set_begin;
          i.c = n.set_end;
        } else {
          i = generic(idx);
        }
        break;
      case opcode::add: case opcode::sub: case opcode::mul: case opcode::div:
        i.op = fop::arith;
        i.cmp = n.op;
        emit(n.a, false);
        emit(n.b, false);
        break;
      case opcode::neg:
        i.op = fop::arith;
        i.cmp = n.op;
        emit(n.a, false);
        break;
      default:
        i = generic(idx);
        break;
    }
    i.size = static_cast<std::uint32_t>(p_.code.size() - at);
    p_.code[at] = i;
  }

 private:
  program& p_;

  const value& constant(const node& n) const {
    return n.op == opcode::param ? p_.params[n.a].v : n.lit;
  }
  bool is_constant(const node& n) const {
    return n.op == opcode::literal || n.op == opcode::param;
  }
  // Lowered to one instruction read inline by and/or (see evaluator::leaf).
  bool is_leaf(const node& n) const {
    auto constant_operand = [&](std::uint32_t a, std::uint32_t b) {
      const node& l = p_.nodes[a];
      const node& r = p_.nodes[b];
      return (l.op == opcode::finding && is_constant(r)) || (r.op == opcode::finding && is_constant(l));
    };
    switch (n.op) {
      case opcode::finding:
      case opcode::fact: return true;
      case opcode::in_set: return p_.nodes[n.a].op == opcode::finding;
      case opcode::eq: case opcode::ne: case opcode::lt:
      case opcode::le: case opcode::gt: case opcode::ge: return constant_operand(n.a, n.b);
      default: return false;
    }
  }
  static instr generic(std::uint32_t idx) {
    instr i;
    i.op = fop::generic;
    i.a = idx;
    return i;
  }
  // `4 < x` is `x > 4`.
  static opcode mirrored(opcode op) {
    switch (op) {
      case opcode::lt: return opcode::gt;
      case opcode::le: return opcode::ge;
      case opcode::gt: return opcode::lt;
      case opcode::ge: return opcode::le;
      default: return op;
    }
  }

  void lower_comparison(const node& n, instr& i) {
    const node* l = &p_.nodes[n.a];
    const node* r = &p_.nodes[n.b];
    opcode op = n.op;
    if (is_constant(*l) && r->op == opcode::finding) {
      std::swap(l, r);
      op = mirrored(op);
    }
    if (l->op == opcode::finding && is_constant(*r)) {
      const value& v = constant(*r);
      if (v.kind == vkind::number) {
        i.op = fop::cmp_slot_num;
        i.cmp = op;
        i.a = l->a;
        i.num = v.n;
        return;
      }
      if (v.kind == vkind::symbol && (op == opcode::eq || op == opcode::ne)) {
        i.op = fop::cmp_slot_sym;
        i.cmp = op;
        i.a = l->a;
        i.b = static_cast<std::uint32_t>(v.sym);
        return;
      }
    }
    i.op = fop::cmp;
    i.cmp = n.op;
    emit(n.a, false);
    emit(n.b, false);
  }
};

// How often a guard is expected to hold, from the vocabulary alone: the
// share of a finding's values (or of its range) it lets through.
double pass_rate(const program& p, const instr& g, bool negated) {
  auto values = [&](std::uint32_t f) {
    return static_cast<double>(std::max<std::size_t>(2, p.vocab->findings()[f].values.size()));
  };
  double rate = 0.5;
  switch (g.op) {
    case fop::cmp_slot_sym: rate = 1 / values(g.a); break;
    case fop::in_slot: rate = std::min(1.0, (g.c - g.b) / values(g.a)); break;
    case fop::cmp_slot_num: {
      const finding_decl& d = p.vocab->findings()[g.a];
      if (g.cmp == opcode::eq) rate = 0.1;
      else if (g.cmp == opcode::ne) rate = 0.9;
      else if (d.min && d.max && *d.max > *d.min) {
        double below = std::clamp((g.num - *d.min) / (*d.max - *d.min), 0.0, 1.0);
        rate = g.cmp == opcode::lt || g.cmp == opcode::le ? below : 1 - below;
      }
      break;
    }
    default: break;
  }
  if (g.cmp == opcode::ne && g.op == fop::cmp_slot_sym) rate = 1 - 1 / values(g.a);
  return negated ? 1 - rate : rate;
}

bool guard_shape(fop op) {
  return op == fop::test_slot || op == fop::test_fact || op == fop::cmp_slot_num ||
         op == fop::cmp_slot_sym || op == fop::in_slot;
}

// The two guards of the condition lowered at `pc` (see guarded_rule).
void find_guards(const program& p, guarded_rule& out) {
  double rates[2] = {2, 2};
  out.guards[0].op = out.guards[1].op = fop::constant;
  auto consider = [&](std::uint32_t at) {
    bool negated = false;
    const instr* g = &p.code[at];
    if (g->op == fop::op_not && g->size == 2) {
      negated = true;
      g = &p.code[at + 1];
      // Only yes/no leaves are negated: `not (x > 3)` is left to the rule.
      if (g->op != fop::test_slot && g->op != fop::test_fact) return;
    }
    if (!guard_shape(g->op)) return;
    double rate = pass_rate(p, *g, negated);
    // Kept ordered: the likelier to fail first.
    int slot = rate < rates[0] ? 0 : rate < rates[1] ? 1 : 2;
    if (slot == 2) return;
    if (slot == 0) {
      rates[1] = rates[0];
      out.guards[1] = out.guards[0];
      out.negated[1] = out.negated[0];
    }
    rates[slot] = rate;
    out.guards[slot] = *g;
    out.negated[slot] = negated;
  };
  const instr& root = p.code[out.code];
  if (root.op == fop::op_and) {
    std::uint32_t at = out.code + 1;
    for (std::uint32_t k = 0; k < root.b; ++k) {
      consider(at);
      at += p.code[at].size;
    }
  } else {
    consider(out.code);
  }
}

}  // namespace

void lower_to_code(program& p) {
  p.code.clear();
  lowering l(p);
  std::vector<std::uint32_t> order;
  for (const auto& stratum : p.strata) order.insert(order.end(), stratum.begin(), stratum.end());
  // Every rule is in a stratum; should one not be, it is still lowered.
  std::vector<bool> placed(p.rules.size(), false);
  for (auto ri : order) placed[ri] = true;
  for (std::uint32_t ri = 0; ri < p.rules.size(); ++ri) {
    if (!placed[ri]) order.push_back(ri);
  }
  {
    for (auto ri : order) {
      compiled_rule& r = p.rules[ri];
      r.code = static_cast<std::uint32_t>(p.code.size());
      l.emit(r.condition, true);
      if (r.support >= 0) {
        r.support_code = static_cast<std::int32_t>(p.code.size());
        l.emit(static_cast<std::uint32_t>(r.support), true);
      }
    }
  }
  p.guarded.clear();
  for (const auto& stratum : p.strata) {
    auto& g = p.guarded.emplace_back();
    g.reserve(stratum.size());
    for (auto ri : stratum) {
      const compiled_rule& r = p.rules[ri];
      guarded_rule& gr = g.emplace_back();
      gr.rule = ri;
      gr.code = r.code;
      gr.support_code = r.support_code;
      gr.each = r.each_list >= 0;
      gr.guards[0].op = gr.guards[1].op = fop::constant;
      // A `for each` rule is decided per element: it is always run.
      if (!gr.each) find_guards(p, gr);
    }
  }
}

}  // namespace iptplan

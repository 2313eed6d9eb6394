#include "engine/evaluator.hpp"

#include <algorithm>
#include <unordered_map>
#include <stdexcept>
#include <array>
#include <cmath>
#include <set>
#include <sstream>
#include <string_view>
#include <cctype>

namespace iptplan {

namespace {
// + - * / on two numbers (a divisor of 0 is the caller's to refuse).
double arithmetic(opcode op, double l, double r) {
  switch (op) {
    case opcode::add: return l + r;
    case opcode::sub: return l - r;
    case opcode::mul: return l * r;
    default: return l / r;
  }
}
}  // namespace

const char* to_string(truth t) {
  switch (t) {
    case truth::no: return "false";
    case truth::yes: return "true";
    case truth::unknown: return "unknown";
  }
  return "unknown";
}

std::string show_value(const program& p, const client_data& c, const value& v) {
  switch (v.kind) {
    case vkind::unknown: return "missing";
    case vkind::none: return "none";
    case vkind::boolean: return v.b ? "true" : "false";
    case vkind::number: return number_text(v.n);
    case vkind::symbol: return c.symbol_text(p, v.sym);
    case vkind::list: {
      std::string out = "[";
      const auto& xs = c.lists[v.ref];
      for (std::size_t i = 0; i < xs.size(); ++i) out += (i ? ", " : "") + show_value(p, c, xs[i]);
      return out + "]";
    }
    case vkind::table: {
      auto n = c.tables[v.ref].size();
      return std::to_string(n) + (n == 1 ? " entry" : " entries");
    }
  }
  return "?";
}

std::string element_key(const program& p, const client_data& c, std::int32_t list, std::int32_t e) {
  const value& v = c.slots[static_cast<std::size_t>(list)];
  if (v.kind == vkind::table) return c.tables[v.ref][static_cast<std::size_t>(e)].key;
  if (v.kind == vkind::list) return show_value(p, c, c.lists[v.ref][static_cast<std::size_t>(e)]);
  return std::to_string(e + 1);
}

std::string element_label(const program& p, const client_data& c, std::int32_t list,
                          std::int32_t e) {
  return p.vocab->findings()[static_cast<std::size_t>(list)].path + "[" +
         element_key(p, c, list, e) + "]";
}

namespace {

// The findings that would decide an unknown result, sorted, at most
// kMaxMissing of them (the first in order) and whether there are more. The
// first k of a union are among the first k of its parts, so merging capped
// sets stays exact while every set stays small: an outcome over a long list
// costs the same as one over a short list.
struct missing_set {
  std::vector<std::string> v;
  bool more = false;
};

// Keeps the first kMaxMissing of a sorted set.
void cap(missing_set& s) {
  if (s.v.size() <= kMaxMissing) return;
  s.v.resize(kMaxMissing);
  s.more = true;
}

// Sorts, removes repeats and keeps the first kMaxMissing.
void normalize(missing_set& s) {
  std::sort(s.v.begin(), s.v.end());
  s.v.erase(std::unique(s.v.begin(), s.v.end()), s.v.end());
  cap(s);
}

void merge_into(missing_set& into, const missing_set& from) {
  std::vector<std::string> out;
  std::set_union(into.v.begin(), into.v.end(), from.v.begin(), from.v.end(), std::back_inserter(out));
  into.v.swap(out);
  into.more = into.more || from.more;
  cap(into);
}

void merge_into(missing_set& into, std::string one) {
  missing_set s;
  s.v.push_back(std::move(one));
  merge_into(into, s);
}

// Appends without sorting; normalised when it grows past a few sets' worth.
void append(missing_set& into, const missing_set& from) {
  into.v.insert(into.v.end(), from.v.begin(), from.v.end());
  into.more = into.more || from.more;
  if (into.v.size() > 4 * kMaxMissing) normalize(into);
}

truth truth_of(const value& v) {
  if (v.kind == vkind::boolean) return v.b ? truth::yes : truth::no;
  return truth::unknown;
}

class evaluator {
 public:
  evaluator(const program& p, const client_data& c, bool explain)
      : p_(p), c_(c), explain_(explain) {}

  evaluation run();
  // After an evaluation: its facts in place and the rule's element bound,
  // to read values for a rule outcome (a text, a goal's date).
  void read_outcome(const evaluation& ev, const compiled_rule& r, std::int32_t element) {
    // Read in place, never copied: a plan renders a text for each item,
    // and a copy of every fact each time cost facts x items (a chain of
    // 40,000 facts took seconds).
    fv_ = &ev.facts;
    if (ev.provisional.size() == ev.facts.size()) {
      fp_ = &ev.provisional;
    } else {
      facts_prov_.assign(ev.facts.size(), value::unknown());
      fp_ = &facts_prov_;
    }
    new_epoch();
    bind(r, element);
  }
  value value_of(const evaluation& ev, const compiled_rule& r, std::int32_t element, std::uint32_t n) {
    read_outcome(ev, r, element);
    return eval(n, nullptr);
  }
  bool names_entry(const value& v) const;
  std::string render(const evaluation& ev, const compiled_rule& r, std::int32_t element,
                     const text_template& t);

 private:
  struct binding {
    std::int32_t list = -1;  // finding index
    std::uint32_t index = 0;
  };

  const program& p_;
  const client_data& c_;
  bool explain_;
  std::vector<value> facts_;
  std::vector<value> facts_prov_;  // provisional values of unknown facts
  // What conditions and texts read: the two above while evaluating, an
  // evaluation's own once it is done (read_outcome).
  const std::vector<value>* fv_ = &facts_;
  const std::vector<value>* fp_ = &facts_prov_;
  bool prov_world_ = false;        // evaluating a `provisional when` support
  // A derived fact's value; in a support, its provisional value when it has
  // no other.
  const value& fact_value(std::uint32_t f) const {
    return prov_world_ && (*fv_)[f].is_unknown() ? (*fp_)[f] : (*fv_)[f];
  }
  std::vector<missing_set> fact_missing_;
  std::array<binding, 9> env_{};
  // Closed quantifiers' values (program::cache_slot), one set for
  // conditions and one for supports, valid while `epoch` is the current
  // one: a new epoch starts with each rule and whenever facts may change.
  struct cached {
    std::uint64_t epoch = 0;
    bool with_missing = false;  // computed in explain mode, with its evidence
    value v;
    missing_set m;
    condition_evidence seen;  // the values it saw
  };
  std::array<std::vector<cached>, 2> cache_;
  std::uint64_t epoch_ = 0;
  void new_epoch() { ++epoch_; }
  // Explain mode: the values seen by the condition being evaluated.
  condition_evidence* current_ = nullptr;        // the condition being recorded
  std::vector<condition_evidence>* evidence_out_ = nullptr;  // the rule's evidence
  std::uint32_t more_evidence_ = 0;  // conditions past kMaxEvidence, not recorded
  // The nesting of and/or groups around the condition being recorded: -1
  // before the rule's root, and the connective of the innermost group.
  int ev_level_ = -1;
  opcode ev_op_ = opcode::op_and;

  // Evaluates node `idx`. With `m` (explain mode), unknown results add the
  // findings that would decide them to *m.
  value eval(std::uint32_t idx, missing_set* m);
  value eval_node(const node& n, missing_set* m);
  // The fast path: program::code from instruction `pc`, its truth or value.
  truth test(std::uint32_t pc);
  truth leaf(std::uint32_t pc);
  truth leaf_of(const instr& i);
  value val(std::uint32_t pc);
  truth compare(opcode op, const value& l, const value& r) const;
  value read_path(const node& n, missing_set* m);
  value quantify(const node& n, missing_set* m);
  value closed_quantifier(const node& n, std::int32_t slot, missing_set* m);
  void note_seen(const node& n, const value& v);
  void record_seen(std::string label, std::string shown, std::int32_t fact);
  static constexpr std::size_t kMaxValuesShown = 40;
  std::string path_label(const node& n) const;
  void run_rule(std::uint32_t ri, std::vector<outcome>& out);
  void run_fast(std::uint32_t ri, std::uint32_t code, std::int32_t support_code, std::vector<outcome>& out);
  // Runs stratum s's rules; on the fast path, only those whose guard
  // (program::guarded) is not false.
  void run_stratum(std::size_t s, std::vector<outcome>& outs);
  // Whether neither of g's guards is false (then g's rule may fire).
  bool passes_guards(const guarded_rule& g);
  // Runs the rule at position k of stratum s (as run_stratum would).
  void run_at(std::size_t s, std::size_t k, std::vector<outcome>& outs);
  // Stratum s's circle to its least fixpoint (p_.recursive[s]).
  void run_circle(std::size_t s, std::vector<outcome>& outs);
  // Where each rule's outcomes are in `outs`. Kept by the thread: a rule
  // set of 10,000 rules would otherwise allocate and clear it per client.
  static thread_local std::vector<std::pair<std::size_t, std::size_t>> ranges_;
  void decide_fact(std::size_t f, const std::vector<outcome>& outs,
                   const std::vector<std::pair<std::size_t, std::size_t>>& ranges,
                   std::vector<diagnostic>* conflicts);
  void bind(const compiled_rule& r, std::int32_t element) {
    if (r.each_list >= 0) env_[0] = {r.each_list, static_cast<std::uint32_t>(element)};
  }
};

std::string evaluator::path_label(const node& n) const {
  switch (n.op) {
    case opcode::finding: return p_.vocab->findings()[n.a].path;
    case opcode::param: return "param." + p_.params[n.a].name;
    case opcode::fact: return p_.facts[n.a].path;
    case opcode::field: {
      const auto& b = env_[n.var];
      return element_label(p_, c_, b.list, static_cast<std::int32_t>(b.index)) + "." +
             p_.vocab->findings()[static_cast<std::size_t>(b.list)].fields[n.a].path;
    }
    case opcode::element: {
      const auto& b = env_[n.var];
      return element_label(p_, c_, b.list, static_cast<std::int32_t>(b.index));
    }
    default: return std::string(p_.text_of(n));
  }
}

void evaluator::note_seen(const node& n, const value& v) {
  if (!current_ || (current_->values.size() >= kMaxValuesShown && n.op != opcode::fact)) return;
  std::string shown = show_value(p_, c_, v);
  if (n.op == opcode::finding && c_.is_implied(n.a)) shown += implied_note(p_, c_, n.a);
  record_seen(path_label(n), std::move(shown), n.op == opcode::fact ? static_cast<std::int32_t>(n.a) : -1);
}

void evaluator::record_seen(std::string label, std::string shown, std::int32_t fact) {
  // A condition over a long list shows the first values it saw, not all;
  // every derived fact it read is kept, for its explanation.
  if (current_->values.size() >= kMaxValuesShown && fact < 0) return;
  for (const auto& [l, s] : current_->values) {
    if (l == label) return;
  }
  current_->values.push_back({std::move(label), std::move(shown)});
  if (fact >= 0) current_->facts.push_back(fact);
}

value evaluator::read_path(const node& n, missing_set* m) {
  value v;
  switch (n.op) {
    case opcode::finding: v = c_.slots[n.a]; break;
    case opcode::param: v = p_.params[n.a].v; break;
    case opcode::fact: v = fact_value(n.a); break;
    case opcode::field: {
      const auto& b = env_[n.var];
      const value& list = c_.slots[static_cast<std::size_t>(b.list)];
      v = c_.tables[list.ref][b.index].fields[n.a];
      break;
    }
    case opcode::element: {
      const auto& b = env_[n.var];
      const value& list = c_.slots[static_cast<std::size_t>(b.list)];
      v = c_.lists[list.ref][b.index];
      break;
    }
    default: break;
  }
  if (m) {
    note_seen(n, v);
    if (v.is_unknown()) {
      if (n.op == opcode::fact && !fact_missing_[n.a].v.empty()) merge_into(*m, fact_missing_[n.a]);
      else merge_into(*m, path_label(n));
    }
  }
  return v;
}

value evaluator::eval(std::uint32_t idx, missing_set* m) {
  const node& n = p_.nodes[idx];
  // The fast path, and explain mode inside a condition being recorded.
  if (!m || !evidence_out_ || current_ != nullptr) return eval_node(n, m);
  if (evidence_out_->size() >= kMaxEvidence) {
    // Past the cap: evaluated, not recorded. Each condition left out is
    // counted once (a group's parts are each counted, not the group).
    const bool part = n.atom || (n.op != opcode::op_and && n.op != opcode::op_or && n.op != opcode::op_not);
    if (part) ++more_evidence_;
    std::vector<condition_evidence>* out = evidence_out_;
    if (part) evidence_out_ = nullptr;
    value v = eval_node(n, m);
    evidence_out_ = out;
    return v;
  }
  const bool connective = !n.atom && (n.op == opcode::op_and || n.op == opcode::op_or);
  if (connective) {
    // The rule's root `and`, and a group of the same connective inside
    // it, list their parts; a group of the other connective is an entry
    // of its own, its parts one level deeper. A root `or` is a group too:
    // its parts are alternatives, never conditions that all held.
    const bool same = ev_level_ < 0 ? n.op == opcode::op_and : n.op == ev_op_;
    const std::size_t at = evidence_out_->size();
    if (!same) {
      condition_evidence g;
      g.node = idx;
      g.depth = static_cast<std::uint16_t>(std::max(ev_level_, 0));
      g.group = n.op == opcode::op_or ? condition_evidence::grouping::any : condition_evidence::grouping::all;
      evidence_out_->push_back(std::move(g));
    }
    const int level = ev_level_;
    const opcode op = ev_op_;
    ev_level_ = std::max(ev_level_, 0) + (same ? 0 : 1);
    ev_op_ = n.op;
    value v = eval_node(n, m);
    ev_level_ = level;
    ev_op_ = op;
    if (!same) (*evidence_out_)[at].result = truth_of(v);
    return v;
  }
  if (n.op == opcode::op_not && !n.atom) return eval_node(n, m);
  // A condition directly under the rule's and/or (an atom, or a bare fact)
  // is one piece of evidence, with the values it sees.
  condition_evidence e;
  e.node = idx;
  e.depth = static_cast<std::uint16_t>(std::max(ev_level_, 0));
  current_ = &e;
  value v = eval_node(n, m);
  current_ = nullptr;
  e.result = truth_of(v);
  evidence_out_->push_back(std::move(e));
  return v;
}

value evaluator::eval_node(const node& n, missing_set* m) {
  switch (n.op) {
    case opcode::literal: return n.lit;
    case opcode::finding:
    case opcode::param:
    case opcode::fact:
    case opcode::field:
    case opcode::element: return read_path(n, m);
    case opcode::op_not: {
      value v = eval(n.a, m);
      return v.kind == vkind::boolean ? value::boolean(!v.b) : value::unknown();
    }
    case opcode::op_and:
    case opcode::op_or: {
      // Kleene: a deciding operand wins whatever the others are.
      bool is_and = n.op == opcode::op_and;
      truth deciding = is_and ? truth::no : truth::yes;
      bool unknown = false;
      if (!m) {
        // The fast path: no record of what is missing.
        for (std::uint32_t i = 0; i < n.b; ++i) {
          value v = eval(p_.children[n.a + i], nullptr);
          truth t = truth_of(v);
          if (t == deciding) return v;
          unknown = unknown || t == truth::unknown;
        }
        return unknown ? value::unknown() : value::boolean(is_and);
      }
      missing_set acc;
      for (std::uint32_t i = 0; i < n.b; ++i) {
        missing_set mi;
        value v = eval(p_.children[n.a + i], m ? &mi : nullptr);
        truth t = truth_of(v);
        if (t == deciding) return v;
        if (t == truth::unknown) {
          unknown = true;
          if (m) append(acc, mi);
        }
      }
      if (unknown) {
        if (m) {
          normalize(acc);
          merge_into(*m, acc);
        }
        return value::unknown();
      }
      return value::boolean(is_and);
    }
    case opcode::eq: case opcode::ne: case opcode::lt:
    case opcode::le: case opcode::gt: case opcode::ge: {
      value l = eval(n.a, m), r = eval(n.b, m);
      if (l.is_unknown() || r.is_unknown()) return value::unknown();
      bool eq = same_value(l, r);
      if (n.op == opcode::eq) return value::boolean(eq);
      if (n.op == opcode::ne) return value::boolean(!eq);
      if (l.kind != vkind::number || r.kind != vkind::number) return value::boolean(false);
      switch (n.op) {
        case opcode::lt: return value::boolean(l.n < r.n);
        case opcode::le: return value::boolean(l.n <= r.n);
        case opcode::gt: return value::boolean(l.n > r.n);
        default: return value::boolean(l.n >= r.n);
      }
    }
    case opcode::add: case opcode::sub: case opcode::mul: case opcode::div: {
      value l = eval(n.a, m), r = eval(n.b, m);
      if (l.kind != vkind::number || r.kind != vkind::number) return value::unknown();
      if (n.op == opcode::div && r.n == 0) {
        if (m) merge_into(*m, "division by zero in '" + std::string(p_.text_of(n)) + "'");
        return value::unknown();
      }
      double x = arithmetic(n.op, l.n, r.n);
      // Too large for a number (inf, or inf - inf): unknown, as a division
      // by zero, never a value a comparison or a plan could show.
      if (!std::isfinite(x)) {
        if (m) merge_into(*m, "a result too large in '" + std::string(p_.text_of(n)) + "'");
        return value::unknown();
      }
      return value::number(x);
    }
    case opcode::neg: {
      value v = eval(n.a, m);
      return v.kind == vkind::number ? value::number(-v.n) : value::unknown();
    }
    case opcode::in_set: {
      value v = eval(n.a, m);
      if (v.is_unknown()) return v;
      for (std::uint32_t i = n.set_begin; i < n.set_end; ++i) {
        if (same_value(v, p_.set_values[i])) return value::boolean(true);
      }
      return value::boolean(false);
    }
    case opcode::contains: {
      value l = eval(n.a, m), r = eval(n.b, m);
      if (l.kind != vkind::list || r.is_unknown()) return value::unknown();
      for (const auto& x : c_.lists[l.ref]) {
        if (same_value(x, r)) return value::boolean(true);
      }
      return value::boolean(false);
    }
    case opcode::is_known:
    case opcode::is_missing: {
      const node& target = p_.nodes[n.a];
      value v;
      switch (target.op) {
        case opcode::finding: v = c_.slots[target.a]; break;
        case opcode::fact: v = fact_value(target.a); break;
        default: v = read_path(target, nullptr); break;
      }
      if (m) note_seen(target, v);
      bool known = !v.is_unknown() && v.kind != vkind::none;
      // A derived fact that is still undecided: whether it is known is
      // unknown. In a `provisional when` support every fact it reads is
      // final, and one with neither a value nor a provisional value is
      // simply not known.
      if (target.op == opcode::fact && v.is_unknown() && !prov_world_) {
        if (m) merge_into(*m, fact_missing_[target.a]);
        return value::unknown();
      }
      return value::boolean(n.op == opcode::is_known ? known : !known);
    }
    case opcode::is_provisional: {
      const node& target = p_.nodes[n.a];
      bool prov = (*fv_)[target.a].is_unknown() && !(*fp_)[target.a].is_unknown();
      if (m) note_seen(target, prov ? (*fp_)[target.a] : (*fv_)[target.a]);
      return value::boolean(prov);
    }
    case opcode::any:
    case opcode::all:
    case opcode::count: {
      std::int32_t slot = p_.cache_slot[static_cast<std::size_t>(&n - p_.nodes.data())];
      return slot < 0 ? quantify(n, m) : closed_quantifier(n, slot, m);
    }
  }
  return value::unknown();
}

truth evaluator::compare(opcode op, const value& l, const value& r) const {
  if (l.is_unknown() || r.is_unknown()) return truth::unknown;
  bool eq = same_value(l, r);
  if (op == opcode::eq) return eq ? truth::yes : truth::no;
  if (op == opcode::ne) return eq ? truth::no : truth::yes;
  if (l.kind != vkind::number || r.kind != vkind::number) return truth::no;
  bool yes = false;
  switch (op) {
    case opcode::lt: yes = l.n < r.n; break;
    case opcode::le: yes = l.n <= r.n; break;
    case opcode::gt: yes = l.n > r.n; break;
    default: yes = l.n >= r.n; break;
  }
  return yes ? truth::yes : truth::no;
}

// A leaf instruction's truth, evaluated where it is read: most operands of
// and/or/not are leaves, and a call per leaf would cost more than the leaf.
[[gnu::always_inline]] inline truth evaluator::leaf(std::uint32_t pc) {
  const instr& i = p_.code[pc];
  switch (i.op) {
    case fop::test_slot:
    case fop::test_fact:
    case fop::cmp_slot_num:
    case fop::cmp_slot_sym:
    case fop::in_slot: return leaf_of(i);
    default: return test(pc);
  }
}

// A one-instruction leaf (see leaf), wherever the instruction is kept.
[[gnu::always_inline]] inline truth evaluator::leaf_of(const instr& i) {
  switch (i.op) {
    case fop::test_slot: return truth_of(c_.slots[i.a]);
    case fop::test_fact: return truth_of(fact_value(i.a));
    case fop::cmp_slot_num: {
      const value& v = c_.slots[i.a];
      if (v.is_unknown()) return truth::unknown;
      if (v.kind != vkind::number) return i.cmp == opcode::ne ? truth::yes : truth::no;
      bool yes = false;
      switch (i.cmp) {
        case opcode::eq: yes = v.n == i.num; break;
        case opcode::ne: yes = v.n != i.num; break;
        case opcode::lt: yes = v.n < i.num; break;
        case opcode::le: yes = v.n <= i.num; break;
        case opcode::gt: yes = v.n > i.num; break;
        default: yes = v.n >= i.num; break;
      }
      return yes ? truth::yes : truth::no;
    }
    case fop::cmp_slot_sym: {
      const value& v = c_.slots[i.a];
      if (v.is_unknown()) return truth::unknown;
      bool eq = v.kind == vkind::symbol && v.sym == static_cast<std::int32_t>(i.b);
      return eq == (i.cmp == opcode::eq) ? truth::yes : truth::no;
    }
    case fop::in_slot: {
      const value& v = c_.slots[i.a];
      if (v.is_unknown()) return truth::unknown;
      for (std::uint32_t k = i.b; k < i.c; ++k) {
        if (same_value(v, p_.set_values[k])) return truth::yes;
      }
      return truth::no;
    }
    default: return truth::unknown;  // not a leaf: never called so
  }
}

truth evaluator::test(std::uint32_t pc) {
  const instr& i = p_.code[pc];
  switch (i.op) {
    case fop::op_and:
    case fop::op_or: {
      // Kleene: a deciding operand wins whatever the others are.
      const truth deciding = i.op == fop::op_and ? truth::no : truth::yes;
      bool unknown = false;
      std::uint32_t at = pc + 1;
      for (std::uint32_t k = 0; k < i.b; ++k) {
        truth t = leaf(at);
        if (t == deciding) return t;
        unknown = unknown || t == truth::unknown;
        at += p_.code[at].size;
      }
      if (unknown) return truth::unknown;
      return i.op == fop::op_and ? truth::yes : truth::no;
    }
    case fop::op_not: {
      truth t = leaf(pc + 1);
      return t == truth::unknown ? t : t == truth::yes ? truth::no : truth::yes;
    }
    case fop::test_slot:
    case fop::test_fact:
    case fop::cmp_slot_num:
    case fop::cmp_slot_sym:
    case fop::in_slot: return leaf(pc);
    case fop::cmp: {
      value l = val(pc + 1);
      value r = val(pc + 1 + p_.code[pc + 1].size);
      return compare(i.cmp, l, r);
    }
    default: return truth_of(val(pc));
  }
}

value evaluator::val(std::uint32_t pc) {
  const instr& i = p_.code[pc];
  switch (i.op) {
    case fop::slot: return c_.slots[i.a];
    case fop::fact: return fact_value(i.a);
    case fop::number: return value::number(i.num);
    case fop::constant: {
      const node& n = p_.nodes[i.a];
      return n.op == opcode::param ? p_.params[n.a].v : n.lit;
    }
    case fop::arith: {
      value l = val(pc + 1);
      if (i.cmp == opcode::neg) return l.kind == vkind::number ? value::number(-l.n) : value::unknown();
      value r = val(pc + 1 + p_.code[pc + 1].size);
      if (l.kind != vkind::number || r.kind != vkind::number) return value::unknown();
      if (i.cmp == opcode::div && r.n == 0) return value::unknown();
      double x = arithmetic(i.cmp, l.n, r.n);
      return std::isfinite(x) ? value::number(x) : value::unknown();
    }
    case fop::generic: return eval(i.a, nullptr);
    default: {
      truth t = test(pc);
      return t == truth::unknown ? value::unknown() : value::boolean(t == truth::yes);
    }
  }
}

value evaluator::closed_quantifier(const node& n, std::int32_t slot, missing_set* m) {
  auto& cache = cache_[prov_world_ ? 1 : 0];
  if (cache.empty()) cache.resize(p_.cache_slots);
  cached& e = cache[static_cast<std::size_t>(slot)];
  if (e.epoch != epoch_ || (m && !e.with_missing)) {
    e.epoch = epoch_;
    e.with_missing = m != nullptr;
    e.m = {};
    e.seen = {};
    if (m) {
      // Record what it sees apart, to replay into each condition using it.
      condition_evidence* outer = current_;
      current_ = &e.seen;
      e.v = quantify(n, &e.m);
      current_ = outer;
    } else {
      e.v = quantify(n, nullptr);
    }
  }
  if (m) {
    if (current_) {
      // As note_seen would have recorded them.
      for (const auto& [label, shown] : e.seen.values) {
        std::int32_t fact = -1;
        for (auto f : e.seen.facts) fact = p_.facts[static_cast<std::size_t>(f)].path == label ? f : fact;
        record_seen(label, shown, fact);
      }
    }
    merge_into(*m, e.m);
  }
  return e.v;
}

value evaluator::quantify(const node& n, missing_set* m) {
  const value& list = c_.slots[n.a];
  if (m && current_) {
    node shown;
    shown.op = opcode::finding;
    shown.a = n.a;
    note_seen(shown, list);
  }
  if (list.kind != vkind::table && list.kind != vkind::list) {
    if (m) merge_into(*m, p_.vocab->findings()[n.a].path);
    return value::unknown();
  }
  std::size_t size = list.kind == vkind::table ? c_.tables[list.ref].size() : c_.lists[list.ref].size();
  binding saved = env_[n.var];
  bool unknown = false;
  double count = 0;
  missing_set inner;
  value result = value::boolean(n.op == opcode::all);
  for (std::size_t i = 0; i < size; ++i) {
    env_[n.var] = {static_cast<std::int32_t>(n.a), static_cast<std::uint32_t>(i)};
    missing_set mi;
    truth t = truth_of(eval(n.b, m ? &mi : nullptr));
    if (t == truth::unknown) {
      unknown = true;
      if (m) append(inner, mi);
    } else if (t == truth::yes) {
      ++count;
      if (n.op == opcode::any) { result = value::boolean(true); break; }
    } else if (n.op == opcode::all) {
      result = value::boolean(false);
      break;
    }
  }
  env_[n.var] = saved;
  bool decided = n.op == opcode::any ? result.is_true() : n.op == opcode::all ? result.is_false() : false;
  if (!decided && unknown) {
    if (m) {
      normalize(inner);
      merge_into(*m, inner);
    }
    return value::unknown();
  }
  return n.op == opcode::count ? value::number(count) : result;
}

// The fast path's common case: a rule without `for each` has one outcome,
// kept unless false. Takes the rule's code, not the rule, so that
// run_stratum need not touch the full compiled_rule.
void evaluator::run_fast(std::uint32_t ri, std::uint32_t code, std::int32_t support_code,
                         std::vector<outcome>& out) {
  new_epoch();
  truth t = test(code);
  if (t == truth::no) return;
  outcome& o = out.emplace_back();
  o.rule = ri;
  o.result = t;
  if (t == truth::unknown && support_code >= 0) {
    prov_world_ = true;
    o.provisional = test(static_cast<std::uint32_t>(support_code)) == truth::yes;
    prov_world_ = false;
  }
}

void evaluator::run_rule(std::uint32_t ri, std::vector<outcome>& out) {
  const compiled_rule& r = p_.rules[ri];
  if (!explain_ && r.each_list < 0) {
    run_fast(ri, r.code, r.support_code, out);
    return;
  }
  new_epoch();
  // An unknown condition is provisional when the support holds, read with
  // the provisional values of the facts it names.
  auto supported = [&]() {
    if (r.support < 0) return false;
    prov_world_ = true;
    bool yes = test(static_cast<std::uint32_t>(r.support_code)) == truth::yes;
    prov_world_ = false;
    return yes;
  };
  auto one = [&](std::int32_t element) {
    outcome o;
    o.rule = ri;
    o.element = element;
    if (explain_) {
      // Each top-level condition records its evidence as it is evaluated.
      missing_set m;
      std::vector<condition_evidence> ev;
      evidence_out_ = &ev;
      ev_level_ = -1;
      more_evidence_ = 0;
      o.result = truth_of(eval(r.condition, &m));
      evidence_out_ = nullptr;
      o.evidence = std::move(ev);
      o.more_evidence = more_evidence_;
      if (o.result == truth::unknown) {
        o.missing = std::move(m.v);
        o.more_missing = m.more;
        o.provisional = supported();
      }
      out.push_back(std::move(o));
    } else {
      o.result = test(r.code);
      if (o.result == truth::unknown) o.provisional = supported();
      if (o.result != truth::no) out.push_back(std::move(o));
    }
  };
  if (r.each_list < 0) {
    one(-1);
    return;
  }
  const value& list = c_.slots[static_cast<std::size_t>(r.each_list)];
  if (list.kind != vkind::table && list.kind != vkind::list) {
    outcome o;
    o.rule = ri;
    o.result = truth::unknown;
    if (explain_) o.missing = {p_.vocab->findings()[static_cast<std::size_t>(r.each_list)].path};
    out.push_back(std::move(o));
    return;
  }
  std::size_t size = list.kind == vkind::table ? c_.tables[list.ref].size() : c_.lists[list.ref].size();
  for (std::size_t i = 0; i < size; ++i) {
    env_[0] = {r.each_list, static_cast<std::uint32_t>(i)};
    one(static_cast<std::int32_t>(i));
  }
}

void evaluator::decide_fact(std::size_t f, const std::vector<outcome>& outs,
                            const std::vector<std::pair<std::size_t, std::size_t>>& ranges,
                            std::vector<diagnostic>* conflicts) {
  const fact_decl& fd = p_.facts[f];
  new_epoch();
  bool fired = false, unknown = false, conflict = false;
  bool prov_seen = false, prov_agree = true;
  value prov_val;
  missing_set value_missing;
  value val;
  std::uint32_t first_rule = 0;
  missing_set missing;
  for (std::uint32_t ri : fd.concluders) {
    const compiled_rule& r = p_.rules[ri];
    for (std::size_t k = ranges[ri].first; k < ranges[ri].second; ++k) {
      const outcome& o = outs[k];
      if (o.result == truth::unknown) {
        unknown = true;
        if (explain_) merge_into(missing, missing_set{o.missing, o.more_missing});
        if (!o.provisional) continue;
        // A provisional conclusion: its value, for supports and the plan.
        for (const auto& a : r.actions) {
          if (a.kind != ast::action_kind::conclude || a.fact != static_cast<std::int32_t>(f)) continue;
          value v = value::boolean(true);
          if (a.value_node >= 0) {
            // Computed as the support reads: a fact still unknown by its
            // provisional value (the value is provisional itself).
            bind(r, o.element);
            bool was = prov_world_;
            prov_world_ = true;
            v = eval(static_cast<std::uint32_t>(a.value_node), nullptr);
            prov_world_ = was;
          }
          if (v.is_unknown()) continue;
          if (!prov_seen) {
            prov_seen = true;
            prov_val = v;
          } else if (!same_value(prov_val, v)) {
            prov_agree = false;
          }
        }
        continue;
      }
      if (o.result != truth::yes) continue;
      for (const auto& a : r.actions) {
        if (a.kind != ast::action_kind::conclude || a.fact != static_cast<std::int32_t>(f)) continue;
        value v = value::boolean(true);
        if (a.value_node >= 0) {
          bind(r, o.element);
          // A value that cannot be computed leaves the fact unknown; keep
          // the findings that would compute it.
          missing_set mv;
          v = eval(static_cast<std::uint32_t>(a.value_node), explain_ ? &mv : nullptr);
          if (explain_ && v.is_unknown()) merge_into(value_missing, mv);
        }
        if (!fired) {
          fired = true;
          val = v;
          first_rule = ri;
        } else if (!same_value(val, v) && !conflict) {
          conflict = true;
          if (conflicts) {
            diagnostic d;
            d.level = severity::error;
            d.code = "plan.conflict";
            // The rule file's own name, not the folder it was read from: a
            // plan is the same wherever the rule set lives.
            d.file = p_.base_of(r);
            d.line = r.line;
            d.column = 1;
            quote_line(d, p_.sources[r.file]);
            d.message = "rules '" + p_.rules[first_rule].id + "' (" + p_.base_of(p_.rules[first_rule]) +
                        ":" + std::to_string(p_.rules[first_rule].line) + ") and '" + r.id +
                        "' conclude different values for '" + fd.path + "': " +
                        show_value(p_, c_, val) + " and " + show_value(p_, c_, v) +
                        "; the fact is left unknown";
            conflicts->push_back(std::move(d));
          }
        }
      }
    }
  }
  // Provisional values that disagree cancel out: no value is proposed.
  facts_prov_[f] = !fired && !conflict && prov_seen && prov_agree ? prov_val : value::unknown();
  if (conflict) {
    facts_[f] = value::unknown();
    if (explain_) fact_missing_[f] = {{"a conflict between rules concluding " + fd.path}, false};
  } else if (fired) {
    facts_[f] = val;
    if (explain_) fact_missing_[f] = val.is_unknown() ? value_missing : missing_set{};
  } else if (unknown) {
    facts_[f] = value::unknown();
    if (explain_) fact_missing_[f] = missing.v.empty() ? missing_set{{fd.path}, false} : missing;
  } else {
    facts_[f] = fd.valued ? value{vkind::none} : value::boolean(false);
    if (explain_) fact_missing_[f] = {};
  }
}

thread_local std::vector<std::pair<std::size_t, std::size_t>> evaluator::ranges_;

bool evaluator::passes_guards(const guarded_rule& g) {
  auto passes = [&](const instr& guard, bool negated) {
    if (guard.op == fop::constant) return true;
    truth t = leaf_of(guard);
    return t == truth::unknown || (t == truth::no) == negated;
  };
  return passes(g.guards[0], g.negated[0]) && passes(g.guards[1], g.negated[1]);
}

void evaluator::run_at(std::size_t s, std::size_t k, std::vector<outcome>& outs) {
  auto& ranges = ranges_;
  if (explain_ || s >= p_.guarded.size()) {
    auto ri = p_.strata[s][k];
    ranges[ri].first = outs.size();
    run_rule(ri, outs);
    ranges[ri].second = outs.size();
    return;
  }
  const guarded_rule& g = p_.guarded[s][k];
  if (!passes_guards(g)) {
    // False: no outcome, as run_rule would keep none.
    ranges[g.rule] = {0, 0};
    return;
  }
  ranges[g.rule].first = outs.size();
  if (g.each) run_rule(g.rule, outs);
  else run_fast(g.rule, g.code, g.support_code, outs);
  ranges[g.rule].second = outs.size();
}

void evaluator::run_stratum(std::size_t s, std::vector<outcome>& outs) {
  for (std::size_t k = 0; k < p_.strata[s].size(); ++k) run_at(s, k, outs);
}

// Least fixpoint: start from false and re-run until nothing changes. No
// `not` inside a circle (stratification), so every rule is monotone in the
// circle's facts (false < unknown < true, as Kleene's and/or are): each fact
// changes at most twice. Only the rules that read a fact that changed run
// again (semi-naive evaluation), so a long chain costs its length, not its
// length squared: each rule runs at most once plus twice per fact it reads
// from the circle. A rule's earlier outcomes stay in `outs` until the end,
// unread (its range points at the newest). Once settled, the stratum runs
// once more in order over the settled facts, so that its outcomes, their
// order and their explanations are those of a single pass, whatever order
// the facts settled in.
void evaluator::run_circle(std::size_t s, std::vector<outcome>& outs) {
  const auto& concluded = p_.stratum_facts[s];
  const auto& rules = p_.strata[s];
  const std::size_t start = outs.size();
  // The stratum's facts by local number, and the positions of the rules
  // of the stratum that read each (sized by the stratum, never by the
  // program: a rule set of many small circles stays linear).
  std::unordered_map<std::uint32_t, std::uint32_t> local;
  for (std::size_t i = 0; i < concluded.size(); ++i) local.emplace(concluded[i].first, static_cast<std::uint32_t>(i));
  std::vector<std::vector<std::uint32_t>> readers(concluded.size());
  for (std::size_t k = 0; k < rules.size(); ++k) {
    for (auto f : p_.rules[rules[k]].facts_read) {
      auto it = local.find(static_cast<std::uint32_t>(f));
      if (it == local.end()) continue;
      auto& rs = readers[it->second];
      if (rs.empty() || rs.back() != k) rs.push_back(static_cast<std::uint32_t>(k));
    }
  }
  for (auto [f, final] : concluded) facts_[f] = value::boolean(false);
  std::vector<std::uint32_t> pending(rules.size());
  for (std::size_t k = 0; k < rules.size(); ++k) pending[k] = static_cast<std::uint32_t>(k);
  std::vector<char> queued(rules.size(), 0), fact_queued(concluded.size(), 0);
  std::vector<std::uint32_t> to_decide;
  std::size_t changes = 0, widened = 0;
  const std::size_t max_changes = 2 * concluded.size();
  // Explain mode: a fact that stays unknown may still gain findings that
  // would decide it; its readers then run again so that theirs include
  // them. Sets only grow, within the findings, but are capped (kMaxMissing)
  // and so bounded here too: past this many, the last pass in order is all.
  const std::size_t max_widened = explain_ ? 8 * (rules.size() + concluded.size()) : 0;
  while (!pending.empty()) {
    std::sort(pending.begin(), pending.end());
    to_decide.clear();
    for (auto k : pending) {
      queued[k] = 0;
      run_at(s, k, outs);
      for (const auto& a : p_.rules[rules[k]].actions) {
        if (a.fact < 0) continue;
        auto it = local.find(static_cast<std::uint32_t>(a.fact));
        if (it != local.end() && !fact_queued[it->second]) {
          fact_queued[it->second] = 1;
          to_decide.push_back(it->second);
        }
      }
    }
    pending.clear();
    for (auto i : to_decide) {
      fact_queued[i] = 0;
      const auto f = concluded[i].first;
      value before = facts_[f];
      missing_set missing_before;
      if (explain_) missing_before = fact_missing_[f];
      decide_fact(f, outs, ranges_, nullptr);
      const value& now = facts_[f];
      if (same_value(before, now) && before.kind == now.kind) {
        const bool wider = explain_ && (fact_missing_[f].v != missing_before.v ||
                                        fact_missing_[f].more != missing_before.more);
        if (!wider || ++widened > max_widened) continue;
        for (auto k : readers[i]) {
          if (!queued[k]) {
            queued[k] = 1;
            pending.push_back(k);
          }
        }
        continue;
      }
      // Each fact changes at most twice; more would be a defect here,
      // reported, never a plan cut short.
      if (++changes > max_changes) throw std::logic_error("the derived facts of a circle of rules did not settle");
      for (auto k : readers[i]) {
        if (!queued[k]) {
          queued[k] = 1;
          pending.push_back(k);
        }
      }
    }
  }
  outs.resize(start);
  run_stratum(s, outs);
}

evaluation evaluator::run() {
  evaluation ev;
  facts_.assign(p_.facts.size(), value::unknown());
  facts_prov_.assign(p_.facts.size(), value::unknown());
  if (explain_) fact_missing_.assign(p_.facts.size(), {});
  auto& ranges = ranges_;
  // Empty for rules not yet run: a fact is decided after each stratum that
  // concludes it, before its concluders in later strata have run.
  ranges.assign(p_.rules.size(), {0, 0});
  std::vector<outcome>& outs = ev.outcomes;
  // Explain mode keeps every outcome; the fast path only fired and
  // undecided ones, usually a small share.
  outs.reserve(explain_ ? p_.rules.size() : std::min<std::size_t>(p_.rules.size(), 256));
  for (std::size_t s = 0; s < p_.strata.size(); ++s) {
    const auto& concluded = p_.stratum_facts[s];
    if (p_.recursive[s]) {
      run_circle(s, outs);
    } else {
      run_stratum(s, outs);
    }
    // A fact is final (and its conflicts reported) once every rule
    // concluding it has run.
    for (auto [f, final] : concluded) decide_fact(f, outs, ranges, final ? &ev.conflicts : nullptr);
  }
  ev.facts = std::move(facts_);  // the evaluator ends here
  ev.provisional = std::move(facts_prov_);
  if (explain_) {
    ev.fact_missing.reserve(fact_missing_.size());
    ev.more_fact_missing.reserve(fact_missing_.size());
    for (auto& fm : fact_missing_) {
      ev.fact_missing.push_back(std::move(fm.v));
      ev.more_fact_missing.push_back(fm.more);
    }
  }
  return ev;
}

// Whether a text value is the key of an entry of a keyed list in this
// client's findings (a relationship's label).
bool evaluator::names_entry(const value& v) const {
  const std::string& raw = c_.symbol_text(p_, v.sym);
  const auto& all = p_.vocab->findings();
  for (std::size_t f = 0; f < all.size(); ++f) {
    if (all[f].key.empty() || c_.slots[f].kind != vkind::table) continue;
    for (const auto& e : c_.tables[c_.slots[f].ref]) {
      if (e.key == raw) return true;
    }
  }
  return false;
}

// A placeholder in parentheses right after another that reads the same is
// left out: "{r.label} ({r.role})" for a row labelled with its role word
// reads "partner", not "partner (partner)", and "{r.label} ({r.role},
// ring 1)" reads "partner (ring 1)". Only words (a text or enum value on
// file, `words[i]`) are echoes: two numbers, two yes/no answers or two
// "not yet known" are two facts and both stay. A word followed by a
// placeholder in parentheses whose value is not yet known (`unknown[i]`)
// loses it too: a person recorded without a role reads "boyfriend", not
// "boyfriend (not yet known)". `starts` holds where each
// part of `t` begins in `out`, and its end. One echo is removed per
// placeholder pair; "{a} ({a}) ({a})" keeps the third.
std::string without_echoes(const text_template& t, const std::string& out, const std::vector<std::size_t>& starts,
                           const std::vector<bool>& words, const std::vector<bool>& unknown) {
  auto piece = [&](std::size_t i) { return std::string_view(out).substr(starts[i], starts[i + 1] - starts[i]); };
  auto same = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
  };
  const auto& parts = t.parts;
  std::string joined;
  bool echoed = false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    joined += piece(i);
    if (i + 3 >= parts.size() || parts[i].node < 0 || parts[i + 1].node >= 0 || parts[i + 1].text != " (" ||
        parts[i + 2].node < 0 || parts[i + 3].node >= 0 || !words[i] || piece(i).empty() ||
        !(unknown[i + 2] || (words[i + 2] && same(piece(i), piece(i + 2))))) {
      continue;
    }
    std::string_view after = piece(i + 3);
    if (after.rfind(")", 0) == 0) {
      joined += after.substr(1);
    } else if (after.rfind(", ", 0) == 0) {
      joined += " (";
      joined += after.substr(2);
    } else {
      continue;
    }
    echoed = true;
    i += 3;
  }
  return echoed ? joined : out;
}

std::string evaluator::render(const evaluation& ev, const compiled_rule& r, std::int32_t element,
                              const text_template& t) {
  read_outcome(ev, r, element);
  std::string out;
  std::vector<std::size_t> starts;  // where each part's text begins in `out`
  starts.reserve(t.parts.size() + 1);
  std::vector<bool> word_parts(t.parts.size(), false);  // a text or enum value on file
  std::vector<bool> unknown_parts(t.parts.size(), false);  // shown as "not yet known"
  bool cut = false;
  auto clip = [&] {
    if (out.size() <= kMaxRenderedText) return;
    std::size_t at = kMaxRenderedText;
    while (at > 0 && (static_cast<unsigned char>(out[at]) & 0xC0) == 0x80) --at;  // never inside a character
    out.resize(at);
    cut = true;
  };
  for (const auto& part : t.parts) {
    clip();
    starts.push_back(out.size());
    if (cut) continue;
    if (part.node < 0) {
      out += part.text;
      continue;
    }
    value v = eval(static_cast<std::uint32_t>(part.node), nullptr);
    const node& n = p_.nodes[static_cast<std::uint32_t>(part.node)];
    bool conflicted = v.is_unknown() && n.op == opcode::fact && !ev.fact_missing.empty() &&
                      !ev.fact_missing[n.a].empty() &&
                      ev.fact_missing[n.a].front().rfind("a conflict", 0) == 0;
    bool prov = v.is_unknown() && n.op == opcode::fact && !(*fp_)[n.a].is_unknown();
    // A question the skip logic leaves out is not "not yet known": it is
    // not asked at all.
    bool skipped = v.is_unknown() && n.op == opcode::finding && gate_of(p_, c_, n.a) == gate_state::closed;
    // In words a clinician reads: yes and no, not true and false, and an
    // enum value as the vocabulary words it (labels).
    const finding_decl* decl = nullptr;
    if (n.op == opcode::finding) decl = &p_.vocab->findings()[n.a];
    else if (n.op == opcode::field) decl = &p_.vocab->findings()[static_cast<std::size_t>(env_[n.var].list)].fields[n.a];
    // A derived fact's value takes the wording the vocabulary gives that
    // value, when it gives one.
    auto word = [&](const value& x) -> std::string {
      if (x.kind != vkind::symbol) return show_value(p_, c_, x);
      const std::string& raw = c_.symbol_text(p_, x.sym);
      // An entry's key (a role word such as mother_in_law), read from the
      // entry or from a derived fact that names it (focus.person), reads as
      // words: "mother in law". Item ids keep it as it is.
      if ((n.op == opcode::field || n.op == opcode::fact) && names_entry(x)) {
        std::string w = raw;
        std::replace(w.begin(), w.end(), '_', ' ');
        return w;
      }
      const std::string* l = decl                   ? decl->label_of(raw)
                             : n.op == opcode::fact ? p_.vocab->group_label(p_.facts[n.a].path, raw)
                                                    : nullptr;
      return l ? *l : raw;
    };
    auto words = [&](const value& x) {
      if (x.kind == vkind::boolean) return std::string(x.b ? "yes" : "no");
      if (x.kind == vkind::list) {
        // The values of a list, one after the other: "depression, life change".
        std::string out;
        for (const auto& e : c_.lists[x.ref]) out += (out.empty() ? "" : ", ") + word(e);
        return out.empty() ? std::string("none") : out;
      }
      return word(x);
    };
    // An entry without its key field (a relationship with no label) is
    // named by the key it was given, its position: never "not yet known".
    if (v.is_unknown() && n.op == opcode::field) {
      const auto& b = env_[n.var];
      const finding_decl& list = p_.vocab->findings()[static_cast<std::size_t>(b.list)];
      if (!list.key.empty() && decl && decl->path == list.key) {
        out += "entry " + element_key(p_, c_, b.list, static_cast<std::int32_t>(b.index)) + " (no " + list.key + ")";
        continue;
      }
    }
    word_parts[starts.size() - 1] = !conflicted && !prov && !skipped && v.kind == vkind::symbol;
    unknown_parts[starts.size() - 1] = !conflicted && !prov && !skipped && v.is_unknown();
    // A gate read as yes from its answered follow-up is said so, so that
    // a reader of the plan never takes it for an answer given.
    bool inferred = n.op == opcode::finding && c_.implied_as(n.a) == client_data::implied_gate;
    out += conflicted ? "(undecided: the rules conflict)"
           : prov      ? words((*fp_)[n.a]) + " (provisional)"
           : skipped   ? "not asked (skipped)"
           : v.is_unknown() ? "not yet known"
           : inferred       ? words(v) + " (not recorded: implied by the answer to its follow-up question)"
                            : words(v);
  }
  clip();
  starts.push_back(out.size());
  std::string text = without_echoes(t, out, starts, word_parts, unknown_parts);
  if (cut) text += " [text cut: longer than " + std::to_string(kMaxRenderedText) + " characters]";
  return text;
}

}  // namespace

evaluation evaluate(const program& p, const client_data& c, bool explain) {
  evaluator e(p, c, explain);
  return e.run();
}

std::string implied_note(const program& p, const client_data& c, std::size_t f) {
  const auto& all = p.vocab->findings();
  const finding_decl& d = all[f];
  if (c.implied_as(f) == client_data::implied_gate) {
    for (std::size_t j = 0; j < all.size(); ++j) {
      if (all[j].asked_if == d.path && !c.slots[j].is_unknown() && !c.is_implied(j)) {
        return " (not recorded: read as yes, since " + all[j].path + " is answered)";
      }
    }
    return " (not recorded: read as yes, since a question asked only after a yes is answered)";
  }
  int g = p.vocab->index_of(d.asked_if);
  if (g < 0) return " (not asked)";
  return " (not asked: " + d.asked_if + " is " + show_value(p, c, c.slots[static_cast<std::size_t>(g)]) + ")";
}

gate_state gate_of(const program& p, const client_data& c, std::size_t f) {
  const finding_decl& d = p.vocab->findings()[f];
  if (d.asked_if.empty()) return gate_state::open;
  int g = p.vocab->index_of(d.asked_if);
  if (g < 0) return gate_state::open;
  const value& gate = c.slots[static_cast<std::size_t>(g)];
  if (gate.is_unknown()) return gate_state::pending;
  std::string shown = show_value(p, c, gate);
  bool asks = std::find(d.asked_if_values.begin(), d.asked_if_values.end(), shown) != d.asked_if_values.end();
  return asks ? gate_state::open : gate_state::closed;
}

std::string asked_first(const program& p, const client_data& c, const std::string& m) {
  auto open = m.find('['), close = m.find("].");
  if (open == std::string::npos || close == std::string::npos || close < open) {
    // A finding asked after another (the PHQ-9 at intake after today's
    // total): while that one is missing, it is asked instead.
    const finding_decl* d = open == std::string::npos ? p.vocab->find(m) : nullptr;
    if (!d || d->asked_after.empty()) return m;
    int first = p.vocab->index_of(d->asked_after);
    if (first < 0 || !c.slots[static_cast<std::size_t>(first)].is_unknown()) return m;
    return d->asked_after;
  }
  int list = p.vocab->index_of(m.substr(0, open));
  if (list < 0) return m;
  const finding_decl& d = p.vocab->findings()[static_cast<std::size_t>(list)];
  const finding_decl* f = d.field(m.substr(close + 2));
  if (!f || (f->asked_after.empty() && f->asked_unless.empty())) return m;
  const value& v = c.slots[static_cast<std::size_t>(list)];
  if (v.kind != vkind::table) return m;
  const std::string key = m.substr(open + 1, close - open - 1);
  const auto& entries = c.tables[v.ref];
  for (std::size_t e = 0; e < entries.size(); ++e) {
    if (element_key(p, c, list, static_cast<std::int32_t>(e)) != key) continue;
    const auto& fields = entries[e].fields;
    auto missing = [&](const std::string& name) {
      int i = d.field_index(name);
      return i < 0 || static_cast<std::size_t>(i) >= fields.size() || fields[static_cast<std::size_t>(i)].is_unknown();
    };
    if (!f->asked_unless.empty() && !missing(f->asked_unless)) return "";
    if (!f->asked_after.empty() && d.field_index(f->asked_after) >= 0 && missing(f->asked_after)) {
      return m.substr(0, close + 2) + f->asked_after;
    }
    if (!f->asked_after_values.empty()) {
      // The field asked first is answered: asked on only after the answers
      // that lead here (no dispute stage after "no conflict").
      const value& first = fields[static_cast<std::size_t>(d.field_index(f->asked_after))];
      const std::string shown = show_value(p, c, first);
      const auto& vs = f->asked_after_values;
      if (std::find(vs.begin(), vs.end(), shown) == vs.end()) return "";
    }
    return m;
  }
  return m;
}

std::vector<std::string> as_asked(const program& p, const client_data& c, const std::vector<std::string>& missing,
                                  bool keep_other) {
  std::set<std::string> out;
  for (const auto& given : missing) {
    const std::string m = asked_first(p, c, given);
    if (m.empty()) continue;  // not asked here (asked_unless)
    const finding_decl* d = p.vocab->find(m.substr(0, m.find('[')));
    if (!d) {
      if (keep_other) out.insert(m);
      continue;
    }
    int f = p.vocab->index_of(d->path);
    gate_state g = f < 0 ? gate_state::open : gate_of(p, c, static_cast<std::size_t>(f));
    if (g == gate_state::open) {
      out.insert(m);
    } else if (g == gate_state::pending) {
      out.insert(d->asked_if);
    }
  }
  return {out.begin(), out.end()};
}

std::string render_template(const program& p, const client_data& c, const evaluation& ev,
                            const compiled_rule& r, std::int32_t element,
                            const text_template& t) {
  evaluator e(p, c, false);
  return e.render(ev, r, element, t);
}

value evaluate_node(const program& p, const client_data& c, const evaluation& ev,
                    const compiled_rule& r, std::int32_t element, std::uint32_t n) {
  evaluator e(p, c, false);
  return e.value_of(ev, r, element, n);
}

}  // namespace iptplan

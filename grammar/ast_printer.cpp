#include "grammar/ast_printer.hpp"

#include <boost/variant/apply_visitor.hpp>

#include <sstream>

namespace iptplan::ast {

const char* to_string(optoken op) {
  switch (op) {
    case optoken::op_or: return "or";
    case optoken::op_and: return "and";
    case optoken::op_not: return "not";
    case optoken::op_eq: return "==";
    case optoken::op_ne: return "!=";
    case optoken::op_lt: return "<";
    case optoken::op_le: return "<=";
    case optoken::op_gt: return ">";
    case optoken::op_ge: return ">=";
    case optoken::op_in: return "in";
    case optoken::op_contains: return "contains";
    case optoken::op_is_known: return "is-known";
    case optoken::op_is_missing: return "is-missing";
    case optoken::op_is_provisional: return "is-provisional";
    case optoken::op_add: return "+";
    case optoken::op_sub: return "-";
    case optoken::op_mul: return "*";
    case optoken::op_div: return "/";
    case optoken::op_neg: return "neg";
  }
  return "?";
}

std::string to_string(const path& p) {
  std::string s = p.head;
  for (const auto& t : p.tail) s += "." + t;
  return s;
}

namespace {

std::string number_text(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

struct printer {
  using result_type = std::string;
  std::string operator()(const nil&) const { return "nil"; }
  std::string operator()(const number_literal& n) const { return number_text(n.value); }
  std::string operator()(const string_literal& s) const { return "\"" + s.value + "\""; }
  std::string operator()(const bool_literal& b) const { return b.value ? "true" : "false"; }
  std::string operator()(const path& p) const { return to_string(p); }
  std::string operator()(const set_literal& s) const {
    std::string out = "{";
    for (std::size_t i = 0; i < s.items.size(); ++i) {
      if (i) out += " ";
      out += boost::apply_visitor(*this, s.items[i]);
    }
    return out + "}";
  }
  std::string operator()(const unary& u) const {
    return std::string("(") + to_string(u.op) + " " + to_string(u.rhs) + ")";
  }
  std::string operator()(const quantifier& q) const {
    const char* k = q.kind == quantifier_kind::any   ? "any"
                    : q.kind == quantifier_kind::all ? "all"
                                                     : "count";
    return std::string("(") + k + " " + q.var + " " + to_string(q.list) + " " +
           to_string(q.condition) + ")";
  }
  std::string operator()(const expression& e) const { return to_string(e); }
};

}  // namespace

std::string to_string(const operand& o) { return boost::apply_visitor(printer{}, o); }

std::string to_string(const expression& e) {
  // "(op2 (op1 first rhs1) rhs2)": the openings of every operation, last
  // first, then the first operand, then each operation's closing in order.
  // Built in one pass, so a chain of n operations costs O(n), not O(n^2).
  std::string out;
  for (auto op = e.rest.rbegin(); op != e.rest.rend(); ++op) {
    out += '(';
    out += to_string(op->op);
    out += ' ';
  }
  out += to_string(e.first);
  for (const auto& op : e.rest) {
    if (op.op != optoken::op_is_known && op.op != optoken::op_is_missing && op.op != optoken::op_is_provisional) {
      out += ' ';
      out += to_string(op.rhs);
    }
    out += ')';
  }
  return out;
}

std::string to_string(const rule& r) {
  std::string out = "rule " + r.id;
  if (r.title) out += " \"" + r.title->value + "\"";
  for (const auto& m : r.meta) {
    switch (m.kind) {
      case meta_kind::priority: out += " priority=" + number_text(m.number); break;
      case meta_kind::tags: {
        out += " tags=";
        for (std::size_t i = 0; i < m.words.size(); ++i) out += (i ? "," : "") + m.words[i];
        break;
      }
      case meta_kind::source: out += " source=\"" + m.text + "\""; break;
    }
  }
  if (r.each) out += " each " + r.each->var + " in " + to_string(r.each->list);
  out += "\n  when " + to_string(r.condition);
  if (r.provisional) out += "\n  provisional when " + to_string(r.provisional->support);
  for (const auto& a : r.actions) {
    out += "\n  ";
    switch (a.kind) {
      case action_kind::challenge: out += "challenge " + a.id + " \"" + a.text.value + "\""; break;
      case action_kind::solution:
        out += "solution " + a.id + " for " + a.target + " \"" + a.text.value + "\"";
        break;
      case action_kind::goal:
        out += "goal " + a.id + (a.target.empty() ? "" : " for " + a.target) +
               (a.due ? " by session " + to_string(*a.due) : "") + " \"" + a.text.value + "\"";
        break;
      case action_kind::flag:
        out += "flag " + a.severity + " " + a.id + " \"" + a.text.value + "\"";
        break;
      case action_kind::conclude:
        out += "conclude " + to_string(a.fact) + (a.value ? " = " + to_string(*a.value) : "");
        break;
      case action_kind::exclude: out += "exclude " + a.id; break;
    }
  }
  if (r.because) out += "\n  because \"" + r.because->value + "\"";
  return out;
}

}  // namespace iptplan::ast

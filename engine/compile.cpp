#include "engine/compile.hpp"

#include <boost/variant/apply_visitor.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "grammar/ast_printer.hpp"

namespace iptplan {

const char* to_string(item_kind k) {
  switch (k) {
    case item_kind::flag: return "flag";
    case item_kind::challenge: return "challenge";
    case item_kind::solution: return "solution";
    case item_kind::goal: return "goal";
  }
  return "?";
}

int program::fact_index(const std::string& path) const {
  auto it = std::lower_bound(facts.begin(), facts.end(), path,
                             [](const fact_decl& f, const std::string& s) { return f.path < s; });
  return it != facts.end() && it->path == path ? static_cast<int>(it - facts.begin()) : -1;
}

int program::param_index(const std::string& name) const {
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (params[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::vector<std::uint32_t> program::rules_proposing(const std::string& id) const {
  std::vector<std::uint32_t> out;
  for (std::uint32_t i = 0; i < rules.size(); ++i) {
    for (const auto& a : rules[i].actions) {
      if (a.id == id && a.kind != ast::action_kind::conclude) {
        out.push_back(i);
        break;
      }
    }
  }
  return out;
}

namespace {

// Static types of expressions, as far as the checker needs them.
enum class tk { error, any, boolean, number, text, enumeration, list, table };

struct typ {
  tk kind = tk::error;
  const finding_decl* decl = nullptr;  // enum values, list or table declaration
};

typ type_of_decl(const finding_decl& d) {
  switch (d.type) {
    case finding_type::integer:
    case finding_type::number: return {tk::number, &d};
    case finding_type::boolean: return {tk::boolean, &d};
    case finding_type::string: return {tk::text, &d};
    case finding_type::enumeration: return {tk::enumeration, &d};
    case finding_type::list: return {tk::list, &d};
    case finding_type::table_list: return {tk::table, &d};
  }
  return {};
}

const char* describe(tk k) {
  switch (k) {
    case tk::error:
    case tk::any: return "a value";
    case tk::boolean: return "true or false";
    case tk::number: return "a number";
    case tk::text: return "a text";
    case tk::enumeration: return "a choice from a fixed list";
    case tk::list: return "a list of values";
    case tk::table: return "a list of records";
  }
  return "a value";
}

struct binding {
  std::string name;
  const finding_decl* list = nullptr;  // the list or table_list iterated
  std::uint8_t var = 0;
};

struct cx {
  std::uint32_t node = 0;
  typ t;
};

class compiler {
 public:
  compiler(program& p, const std::vector<parsed_file>& files, std::vector<diagnostic>& diags,
           bool style)
      : p_(p), files_(files), diags_(diags), style_(style) {}

  void run();

 private:
  program& p_;
  const std::vector<parsed_file>& files_;
  std::vector<diagnostic>& diags_;
  bool style_ = false;

  // State while compiling one rule.
  std::uint16_t file_ = 0;
  std::vector<binding> scope_;
  std::uint8_t vars_ = 0;
  std::vector<std::pair<std::uint32_t, bool>> reads_;  // (fact, strict)
  std::vector<typ> fact_types_;
  std::vector<std::vector<std::pair<std::uint32_t, bool>>> rule_reads_;

  static constexpr int kMaxVars = 8;
  static constexpr std::size_t kMaxChain = 1000;

  void error(std::uint32_t offset, const std::string& code, const std::string& msg,
             std::vector<std::string> notes = {}, severity level = severity::error) {
    auto d = make_diagnostic(p_.sources[file_], offset, level, code, msg);
    d.notes = std::move(notes);
    diags_.push_back(std::move(d));
  }

  std::uint32_t emit(node n) {
    n.file = file_;
    p_.nodes.push_back(n);
    return static_cast<std::uint32_t>(p_.nodes.size() - 1);
  }

  std::string text(std::uint32_t n) const { return std::string(p_.text_of(p_.nodes[n])); }

  // --- expressions -------------------------------------------------------
  cx expression(const ast::expression& e, bool positive);
  cx operand(const ast::operand& o, bool positive);
  cx path(const ast::path& p, bool positive);
  cx binary(ast::optoken op, cx lhs, const ast::operation& rhs, bool positive);
  cx quantifier(const ast::quantifier& q, bool positive);
  void want_condition(const cx& c, const char* where);
  void check_comparable(ast::optoken op, const cx& l, const cx& r, std::uint32_t at);
  void check_enum_literal(const typ& t, std::uint32_t lit_node);
  text_template compile_template(const ast::string_literal& s);
  void compile_rule(const ast::rule& r, std::uint16_t file);
  void declare_facts();
  void check_items();
};

void compiler::want_condition(const cx& c, const char* where) {
  if (c.t.kind == tk::boolean || c.t.kind == tk::any || c.t.kind == tk::error) return;
  const auto& n = p_.nodes[c.node];
  std::vector<std::string> notes;
  if (c.t.kind == tk::enumeration && c.t.decl) {
    notes.push_back("compare it with a value, for example: " + text(c.node) + " == \"" +
                    c.t.decl->values.front() + "\"");
  } else if (c.t.kind == tk::number) {
    notes.push_back("compare it with a number, for example: " + text(c.node) + " >= 10");
  }
  error(n.src_begin, "check.type",
        std::string(where) + " needs true or false, but '" + text(c.node) + "' is " +
            describe(c.t.kind),
        notes);
}

void compiler::check_enum_literal(const typ& t, std::uint32_t lit_node) {
  const node& n = p_.nodes[lit_node];
  if (n.op != opcode::literal || n.lit.kind != vkind::symbol || !t.decl) return;
  bool is_enum = t.kind == tk::enumeration ||
                 (t.kind == tk::list && t.decl->element == finding_type::enumeration);
  if (!is_enum) return;
  const std::string& v = p_.symbols.text(n.lit.sym);
  const auto& vals = t.decl->values;
  if (std::find(vals.begin(), vals.end(), v) != vals.end()) return;
  std::vector<std::string> notes;
  std::string near = nearest_name(v, vals);
  if (!near.empty()) notes.push_back("did you mean \"" + near + "\"?");
  std::string all;
  for (std::size_t i = 0; i < vals.size(); ++i) all += (i ? ", " : "") + vals[i];
  error(n.src_begin, "check.enum-value",
        "'" + t.decl->path + "' has no value \"" + v + "\"; its values are " + all, notes);
}

void compiler::check_comparable(ast::optoken op, const cx& l, const cx& r, std::uint32_t at) {
  auto lk = l.t.kind, rk = r.t.kind;
  if (lk == tk::error || rk == tk::error || lk == tk::any || rk == tk::any) return;
  bool ordering = op == ast::optoken::op_lt || op == ast::optoken::op_le ||
                  op == ast::optoken::op_gt || op == ast::optoken::op_ge;
  auto textual = [](tk k) { return k == tk::text || k == tk::enumeration; };
  if (lk == tk::number && rk == tk::number) return;
  if (!ordering && lk == tk::boolean && rk == tk::boolean) return;
  if (textual(lk) && textual(rk)) {
    if (ordering) {
      error(at, "check.type",
            "'" + text(l.node) + "' and '" + text(r.node) +
                "' are texts or choices; they can be compared with == , != or in, not ordered",
            {"to compare levels, test the values you mean, for example: x in {\"low\", \"moderate\"}"});
      return;
    }
    check_enum_literal(l.t, r.node);
    check_enum_literal(r.t, l.node);
    return;
  }
  error(at, "check.type",
        "cannot compare '" + text(l.node) + "' (" + describe(lk) + ") with '" + text(r.node) +
            "' (" + describe(rk) + ")");
}

cx compiler::expression(const ast::expression& e, bool positive) {
  // Only `and` and `or` keep a bare fact read positive; a comparison,
  // arithmetic or a test needs the fact's final value.
  bool logical = !e.rest.empty() && (e.rest.front().op == ast::optoken::op_or ||
                                     e.rest.front().op == ast::optoken::op_and);
  if (logical) {
    // One n-ary node per chain: a chain of any length is evaluated by a
    // loop, not by recursion as deep as the chain is long.
    bool is_or = e.rest.front().op == ast::optoken::op_or;
    const char* what = is_or ? "'or'" : "'and'";
    std::vector<std::uint32_t> kids;
    cx first = operand(e.first, positive);
    want_condition(first, what);
    kids.push_back(first.node);
    for (const auto& op : e.rest) {
      cx r = operand(op.rhs, positive);
      want_condition(r, what);
      kids.push_back(r.node);
    }
    node n;
    n.op = is_or ? opcode::op_or : opcode::op_and;
    n.a = static_cast<std::uint32_t>(p_.children.size());
    n.b = static_cast<std::uint32_t>(kids.size());
    p_.children.insert(p_.children.end(), kids.begin(), kids.end());
    n.src_begin = p_.nodes[kids.front()].src_begin;
    n.src_end = e.rest.back().end;
    return {emit(n), {tk::boolean}};
  }
  if (e.rest.size() > kMaxChain) {
    error(e.begin, "check.nesting",
          "this calculation chains more than " + std::to_string(kMaxChain) +
              " operators; split it into simpler rules or derived facts");
    return {emit({}), {tk::error}};
  }
  cx acc = operand(e.first, positive && e.rest.empty());
  for (const auto& op : e.rest) acc = binary(op.op, acc, op, positive);
  return acc;
}

cx compiler::binary(ast::optoken op, cx lhs, const ast::operation& rhs_op, bool positive) {
  node n;
  n.src_begin = p_.nodes[lhs.node].src_begin;
  n.src_end = rhs_op.end;
  n.a = lhs.node;
  using ast::optoken;
  switch (op) {
    case optoken::op_eq: case optoken::op_ne: case optoken::op_lt:
    case optoken::op_le: case optoken::op_gt: case optoken::op_ge: {
      cx r = operand(rhs_op.rhs, false);
      check_comparable(op, lhs, r, n.src_begin);
      static const opcode map[] = {opcode::eq, opcode::ne, opcode::lt,
                                   opcode::le, opcode::gt, opcode::ge};
      n.op = map[static_cast<int>(op) - static_cast<int>(optoken::op_eq)];
      n.b = r.node;
      n.atom = true;
      return {emit(n), {tk::boolean}};
    }
    case optoken::op_in: {
      n.op = opcode::in_set;
      n.atom = true;
      n.set_begin = static_cast<std::uint32_t>(p_.set_values.size());
      const auto* set = boost::get<ast::set_literal>(&rhs_op.rhs);
      auto k = lhs.t.kind;
      if (k != tk::number && k != tk::text && k != tk::enumeration && k != tk::boolean &&
          k != tk::any && k != tk::error) {
        error(n.src_begin, "check.type",
              "'in' needs a single value on its left, but '" + text(lhs.node) + "' is " +
                  describe(k));
      }
      if (set) {
        for (const auto& item : set->items) {
          ast::operand o;
          boost::apply_visitor([&](const auto& lit) { o = lit; }, item);
          cx c = operand(o, false);
          cx shown = c;
          check_comparable(optoken::op_eq, lhs, shown, p_.nodes[c.node].src_begin);
          p_.set_values.push_back(p_.nodes[c.node].lit);
        }
      }
      n.set_end = static_cast<std::uint32_t>(p_.set_values.size());
      return {emit(n), {tk::boolean}};
    }
    case optoken::op_contains: {
      cx r = operand(rhs_op.rhs, false);
      n.op = opcode::contains;
      n.atom = true;
      n.b = r.node;
      if (lhs.t.kind != tk::list && lhs.t.kind != tk::any && lhs.t.kind != tk::error) {
        error(n.src_begin, "check.type",
              "'contains' needs a list on its left, but '" + text(lhs.node) + "' is " +
                  describe(lhs.t.kind),
              {"to compare a single value, use == or in"});
      } else if (lhs.t.kind == tk::list && lhs.t.decl) {
        check_enum_literal(lhs.t, r.node);
        bool numeric = lhs.t.decl->element == finding_type::integer ||
                       lhs.t.decl->element == finding_type::number;
        tk want = numeric ? tk::number : tk::text;
        if (r.t.kind != tk::any && r.t.kind != tk::error &&
            !(r.t.kind == want || (!numeric && r.t.kind == tk::enumeration))) {
          error(p_.nodes[r.node].src_begin, "check.type",
                "'" + text(lhs.node) + "' holds " + (numeric ? "numbers" : "texts") +
                    ", but '" + text(r.node) + "' is " + describe(r.t.kind));
        }
      }
      return {emit(n), {tk::boolean}};
    }
    case optoken::op_is_known:
    case optoken::op_is_missing: {
      auto op0 = p_.nodes[lhs.node].op;
      if (op0 != opcode::finding && op0 != opcode::fact && op0 != opcode::field &&
          lhs.t.kind != tk::error) {
        error(n.src_begin, "check.type",
              "'is known' and 'is missing' apply to a finding or a derived fact, not to '" +
                  text(lhs.node) + "'");
      }
      // Reading whether a derived fact is known needs it complete.
      if (op0 == opcode::fact && !reads_.empty()) reads_.back().second = true;
      n.op = op == optoken::op_is_known ? opcode::is_known : opcode::is_missing;
      n.atom = true;
      return {emit(n), {tk::boolean}};
    }
    case optoken::op_add: case optoken::op_sub: case optoken::op_mul: case optoken::op_div: {
      cx r = operand(rhs_op.rhs, false);
      for (const cx* c : {&lhs, &r}) {
        if (c->t.kind != tk::number && c->t.kind != tk::any && c->t.kind != tk::error) {
          error(p_.nodes[c->node].src_begin, "check.type",
                "arithmetic needs numbers, but '" + text(c->node) + "' is " + describe(c->t.kind));
        }
      }
      n.op = op == optoken::op_add   ? opcode::add
             : op == optoken::op_sub ? opcode::sub
             : op == optoken::op_mul ? opcode::mul
                                     : opcode::div;
      n.b = r.node;
      return {emit(n), {tk::number}};
    }
    default: break;
  }
  return {emit(n), {tk::error}};
}

cx compiler::path(const ast::path& ap, bool positive) {
  node n;
  n.src_begin = ap.begin;
  n.src_end = ap.end;
  std::string full = ast::to_string(ap);
  // A variable bound by `for each` or a quantifier.
  for (auto it = scope_.rbegin(); it != scope_.rend(); ++it) {
    if (it->name != ap.head) continue;
    n.var = it->var;
    if (it->list->type == finding_type::list) {
      if (!ap.tail.empty()) {
        error(ap.begin, "check.unknown-path",
              "'" + ap.head + "' is a single value of '" + it->list->path + "'; it has no fields");
        return {emit(n), {tk::error}};
      }
      n.op = opcode::element;
      finding_type et = it->list->element;
      tk k = et == finding_type::enumeration ? tk::enumeration
             : et == finding_type::string    ? tk::text
                                             : tk::number;
      return {emit(n), {k, it->list}};
    }
    if (ap.tail.size() != 1) {
      error(ap.begin, "check.unknown-path",
            "'" + ap.head + "' stands for one entry of '" + it->list->path +
                "'; name one of its fields, like " + ap.head + "." + it->list->fields.front().path);
      return {emit(n), {tk::error}};
    }
    int fi = it->list->field_index(ap.tail[0]);
    if (fi < 0) {
      std::vector<std::string> names;
      for (const auto& f : it->list->fields) names.push_back(f.path);
      std::string near = nearest_name(ap.tail[0], names);
      error(ap.begin, "check.unknown-path",
            "'" + it->list->path + "' entries have no field '" + ap.tail[0] + "'",
            near.empty() ? std::vector<std::string>{}
                         : std::vector<std::string>{"did you mean '" + ap.head + "." + near + "'?"});
      return {emit(n), {tk::error}};
    }
    n.op = opcode::field;
    n.a = static_cast<std::uint32_t>(fi);
    n.b = static_cast<std::uint32_t>(p_.vocab->index_of(it->list->path));
    return {emit(n), type_of_decl(it->list->fields[static_cast<std::size_t>(fi)])};
  }
  if (ap.head == "param" && !p_.vocab->find(full)) {
    int k = ap.tail.size() == 1 ? p_.param_index(ap.tail[0]) : -1;
    if (k < 0) {
      std::vector<std::string> names;
      for (const auto& prm : p_.params) names.push_back("param." + prm.name);
      std::string near = nearest_name(full, names);
      std::vector<std::string> notes;
      if (!near.empty()) notes.push_back("did you mean '" + near + "'?");
      notes.push_back("parameters are set in the [parameters] table of ruleset.toml");
      error(ap.begin, "check.unknown-path", "unknown parameter '" + full + "'", notes);
      return {emit(n), {tk::error}};
    }
    auto& prm = p_.params[static_cast<std::size_t>(k)];
    prm.used = true;
    n.op = opcode::param;
    n.a = static_cast<std::uint32_t>(k);
    tk kind = prm.v.kind == vkind::number    ? tk::number
              : prm.v.kind == vkind::boolean ? tk::boolean
                                             : tk::text;
    return {emit(n), {kind}};
  }
  if (int fi = p_.vocab->index_of(full); fi >= 0) {
    n.op = opcode::finding;
    n.a = static_cast<std::uint32_t>(fi);
    return {emit(n), type_of_decl(p_.vocab->findings()[static_cast<std::size_t>(fi)])};
  }
  if (int k = p_.fact_index(full); k >= 0) {
    n.op = opcode::fact;
    n.a = static_cast<std::uint32_t>(k);
    reads_.push_back({static_cast<std::uint32_t>(k), !positive || p_.facts[k].valued});
    return {emit(n), fact_types_[static_cast<std::size_t>(k)]};
  }
  std::vector<std::string> names = p_.vocab->paths();
  for (const auto& f : p_.facts) names.push_back(f.path);
  for (const auto& b : scope_) {
    if (b.list->type == finding_type::table_list) {
      for (const auto& f : b.list->fields) names.push_back(b.name + "." + f.path);
    } else {
      names.push_back(b.name);
    }
  }
  std::string near = nearest_name(full, names);
  std::vector<std::string> notes;
  if (!near.empty()) notes.push_back("did you mean '" + near + "'?");
  notes.push_back("a path names a finding of vocabulary.toml, a fact some rule concludes, "
                  "or a field of an entry bound by 'for each' or a quantifier");
  error(ap.begin, "check.unknown-path", "unknown finding '" + full + "'", notes);
  return {emit(n), {tk::error}};
}

cx compiler::quantifier(const ast::quantifier& q, bool positive) {
  node n;
  n.src_begin = q.begin;
  n.src_end = q.end;
  n.atom = true;
  n.op = q.kind == ast::quantifier_kind::any   ? opcode::any
         : q.kind == ast::quantifier_kind::all ? opcode::all
                                               : opcode::count;
  std::string list = ast::to_string(q.list);
  const finding_decl* decl = p_.vocab->find(list);
  if (!decl || (decl->type != finding_type::table_list && decl->type != finding_type::list)) {
    std::vector<std::string> lists;
    for (const auto& f : p_.vocab->findings()) {
      if (f.type == finding_type::table_list || f.type == finding_type::list) lists.push_back(f.path);
    }
    std::string near = nearest_name(list, lists);
    error(q.list.begin, "check.unknown-path",
          decl ? "'" + list + "' is not a list, so it cannot be iterated"
               : "unknown list '" + list + "'",
          near.empty() ? std::vector<std::string>{}
                       : std::vector<std::string>{"did you mean '" + near + "'?"});
    return {emit(n), {tk::error}};
  }
  if (vars_ >= kMaxVars) {
    error(q.begin, "check.nesting", "quantifiers are nested too deeply (at most 8)");
    return {emit(n), {tk::error}};
  }
  n.a = static_cast<std::uint32_t>(p_.vocab->index_of(list));
  n.var = vars_++;
  scope_.push_back({q.var, decl, n.var});
  bool inner_positive = positive && q.kind == ast::quantifier_kind::any;
  cx c = expression(q.condition, inner_positive);
  want_condition(c, "the condition of a quantifier");
  scope_.pop_back();
  --vars_;
  n.b = c.node;
  return {emit(n), {q.kind == ast::quantifier_kind::count ? tk::number : tk::boolean}};
}

cx compiler::operand(const ast::operand& o, bool positive) {
  struct visitor {
    compiler& c;
    bool positive;
    cx operator()(const ast::nil&) const { return {c.emit({}), {tk::error}}; }
    cx operator()(const ast::number_literal& x) const {
      node n;
      n.lit = value::number(x.value);
      n.src_begin = x.begin, n.src_end = x.end;
      return {c.emit(n), {tk::number}};
    }
    cx operator()(const ast::string_literal& x) const {
      node n;
      n.lit = value::symbol(c.p_.symbols.intern(x.value));
      n.src_begin = x.begin, n.src_end = x.end;
      return {c.emit(n), {tk::text}};
    }
    cx operator()(const ast::bool_literal& x) const {
      node n;
      n.lit = value::boolean(x.value);
      n.src_begin = x.begin, n.src_end = x.end;
      return {c.emit(n), {tk::boolean}};
    }
    cx operator()(const ast::path& x) const { return c.path(x, positive); }
    cx operator()(const ast::set_literal& x) const {
      c.error(x.begin, "check.type", "a set in braces can only follow 'in'");
      return {c.emit({}), {tk::error}};
    }
    cx operator()(const ast::unary& x) const {
      if (x.op == ast::optoken::op_not) {
        cx inner = c.operand(x.rhs, false);
        c.want_condition(inner, "'not'");
        node n;
        n.op = opcode::op_not;
        n.a = inner.node;
        // `not <condition>` is reported as one piece of evidence.
        auto inner_op = c.p_.nodes[inner.node].op;
        n.atom = inner_op != opcode::op_and && inner_op != opcode::op_or;
        n.src_begin = x.begin, n.src_end = x.end;
        return {c.emit(n), {tk::boolean}};
      }
      cx inner = c.operand(x.rhs, false);
      if (inner.t.kind != tk::number && inner.t.kind != tk::any && inner.t.kind != tk::error) {
        c.error(x.begin, "check.type", "'-' needs a number, but '" + c.text(inner.node) + "' is " +
                                           describe(inner.t.kind));
      }
      node n;
      n.op = opcode::neg;
      n.a = inner.node;
      n.src_begin = x.begin, n.src_end = x.end;
      return {c.emit(n), {tk::number}};
    }
    cx operator()(const ast::quantifier& x) const { return c.quantifier(x, positive); }
    cx operator()(const ast::expression& x) const {
      cx r = c.expression(x, positive);
      return r;
    }
  };
  cx r = boost::apply_visitor(visitor{*this, positive}, o);
  return r;
}

// `{path}` inserts a value; `{{` and `}}` are literal braces.
text_template compiler::compile_template(const ast::string_literal& s) {
  // Texts are rendered after evaluation, so what they read does not order
  // rules into strata.
  std::size_t reads_before = reads_.size();
  struct restore {
    std::vector<std::pair<std::uint32_t, bool>>& r;
    std::size_t n;
    ~restore() { r.resize(n); }
  } guard{reads_, reads_before};
  text_template t;
  const std::string& v = s.value;
  std::string lit;
  // The source offset of character i of the value (exact when no escapes precede it).
  auto at = [&](std::size_t i) { return static_cast<std::uint32_t>(s.begin + 1 + i); };
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '{' && i + 1 < v.size() && v[i + 1] == '{') { lit += '{'; ++i; continue; }
    if (c == '}' && i + 1 < v.size() && v[i + 1] == '}') { lit += '}'; ++i; continue; }
    if (c == '}') {
      error(at(i), "check.template", "a lone '}' in a text; write '}}' for a brace");
      continue;
    }
    if (c != '{') { lit += c; continue; }
    std::size_t close = v.find('}', i);
    if (close == std::string::npos) {
      error(at(i), "check.template", "'{' is not closed; write '{{' for a brace");
      break;
    }
    std::string name = v.substr(i + 1, close - i - 1);
    ast::path ap;
    ap.begin = at(i + 1);
    ap.end = at(close);
    std::size_t start = 0;
    bool ok = !name.empty();
    std::vector<std::string> parts;
    while (ok) {
      std::size_t dot = name.find('.', start);
      std::string part = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      ok = !part.empty() && std::all_of(part.begin(), part.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
      });
      parts.push_back(part);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (!ok) {
      error(at(i), "check.template",
            "'{" + name + "}' is not a finding path; write '{{' for a literal brace");
    } else {
      ap.head = parts[0];
      ap.tail.assign(parts.begin() + 1, parts.end());
      std::size_t before = diags_.size();
      cx c = path(ap, false);
      // Name unknown template paths as template problems.
      for (std::size_t k = before; k < diags_.size(); ++k) {
        if (diags_[k].code == "check.unknown-path") {
          diags_[k].code = "check.template";
          diags_[k].message = "the text names " + diags_[k].message;
        }
      }
      if (!lit.empty()) t.parts.push_back({std::move(lit), -1});
      lit.clear();
      t.parts.push_back({"", static_cast<std::int32_t>(c.node)});
    }
    i = close;
  }
  if (!lit.empty()) t.parts.push_back({std::move(lit), -1});
  return t;
}

void compiler::compile_rule(const ast::rule& r, std::uint16_t file) {
  file_ = file;
  scope_.clear();
  vars_ = 0;
  reads_.clear();
  compiled_rule cr;
  cr.id = r.id;
  cr.file = file;
  cr.line = p_.sources[file].locate(r.begin).line;
  if (r.title) cr.title = r.title->value;
  for (const auto& m : r.meta) {
    switch (m.kind) {
      case ast::meta_kind::priority:
        if (m.number < 0 || m.number > 100 || m.number != static_cast<int>(m.number)) {
          error(m.begin, "check.priority",
                "priority must be a whole number from 0 to 100 (higher comes first)");
        }
        cr.priority = static_cast<int>(std::clamp(m.number, 0.0, 100.0));
        break;
      case ast::meta_kind::tags: cr.tags.insert(cr.tags.end(), m.words.begin(), m.words.end()); break;
      case ast::meta_kind::source: cr.source = m.text; break;
    }
  }
  if (r.each) {
    std::string list = ast::to_string(r.each->list);
    const finding_decl* decl = p_.vocab->find(list);
    if (!decl || (decl->type != finding_type::table_list && decl->type != finding_type::list)) {
      std::vector<std::string> lists;
      for (const auto& f : p_.vocab->findings()) {
        if (f.type == finding_type::table_list || f.type == finding_type::list) lists.push_back(f.path);
      }
      std::string near = nearest_name(list, lists);
      error(r.each->list.begin, "check.unknown-path",
            decl ? "'" + list + "' is not a list, so 'for each' cannot iterate it"
                 : "unknown list '" + list + "'",
            near.empty() ? std::vector<std::string>{}
                         : std::vector<std::string>{"did you mean '" + near + "'?"});
    } else {
      cr.each_list = p_.vocab->index_of(list);
      cr.each_var = r.each->var;
      scope_.push_back({r.each->var, decl, vars_++});
    }
  }
  // House style (for `iptplan check`): every rule says what it is, what it
  // rests on and why.
  if (style_ && !r.title) {
    error(r.begin, "check.style", "rule '" + r.id + "' has no title",
          {"add a short title in quotes after the id: rule " + r.id + " \"...\""}, severity::warning);
  }
  if (style_ && cr.source.empty()) {
    error(r.begin, "check.style", "rule '" + r.id + "' has no source",
          {"cite what it rests on, e.g. source \"domain M6\""}, severity::warning);
  }
  if (style_ && !r.because) {
    error(r.begin, "check.style", "rule '" + r.id + "' has no 'because'",
          {"explain the recommendation in words a clinician would accept"}, severity::warning);
  }
  cx cond = expression(r.condition, true);
  want_condition(cond, "'when'");
  cr.condition = cond.node;
  for (const auto& a : r.actions) {
    compiled_action ca;
    ca.kind = a.kind;
    ca.id = a.id;
    ca.severity = a.severity;
    ca.target = a.target;
    if (a.kind == ast::action_kind::conclude) {
      ca.fact = p_.fact_index(ast::to_string(a.fact));
      if (a.value) {
        std::size_t before = reads_.size();
        cx v = expression(*a.value, false);
        ca.value_node = static_cast<std::int32_t>(v.node);
        (void)before;
      }
    } else if (a.kind != ast::action_kind::exclude) {
      ca.text = compile_template(a.text);
    }
    cr.actions.push_back(std::move(ca));
  }
  if (r.because) {
    cr.has_because = true;
    cr.because = compile_template(*r.because);
  }
  std::sort(reads_.begin(), reads_.end());
  for (const auto& [f, strict] : reads_) {
    if (cr.facts_read.empty() || cr.facts_read.back() != static_cast<std::int32_t>(f)) {
      cr.facts_read.push_back(static_cast<std::int32_t>(f));
    }
  }
  rule_reads_.push_back(reads_);
  p_.rules.push_back(std::move(cr));
}

// Registers every concluded path as a derived fact, before any condition is
// compiled, so that rules may read facts concluded in any file.
void compiler::declare_facts() {
  std::map<std::string, fact_decl> facts;
  for (const auto& f : files_) {
    file_ = f.index;
    for (const auto& r : f.ast.rules) {
      for (const auto& a : r.actions) {
        if (a.kind != ast::action_kind::conclude) continue;
        std::string path = ast::to_string(a.fact);
        if (p_.vocab->find(path)) {
          error(a.fact.begin, "check.conclude-finding",
                "'" + path + "' is a finding of the vocabulary; a rule cannot conclude it",
                {"derived facts need their own names, for example '" + path + "_derived'"});
          continue;
        }
        auto& fd = facts[path];
        fd.path = path;
        if (a.value) fd.valued = true;
      }
    }
  }
  for (auto& [path, fd] : facts) p_.facts.push_back(fd);
  // Types of valued facts: from the literal a rule assigns.
  fact_types_.assign(p_.facts.size(), typ{tk::boolean});
  std::vector<std::string> type_seen(p_.facts.size());
  for (const auto& f : files_) {
    file_ = f.index;
    for (const auto& r : f.ast.rules) {
      for (const auto& a : r.actions) {
        if (a.kind != ast::action_kind::conclude) continue;
        int k = p_.fact_index(ast::to_string(a.fact));
        if (k < 0) continue;
        if (!p_.facts[k].valued) continue;
        tk kind = tk::any;
        if (a.value) {
          // The parser wraps a lone literal in one expression per level.
          const ast::expression* e = &*a.value;
          const ast::operand* lone = nullptr;
          while (e && e->rest.empty()) {
            lone = &e->first;
            auto* inner = boost::get<ast::x3::forward_ast<ast::expression>>(&e->first);
            e = inner ? &inner->get() : nullptr;
          }
          if (lone && !e) {
            if (boost::get<ast::string_literal>(lone)) kind = tk::text;
            else if (boost::get<ast::number_literal>(lone)) kind = tk::number;
            else if (boost::get<ast::bool_literal>(lone)) kind = tk::boolean;
          }
        } else {
          kind = tk::boolean;
        }
        auto& ft = fact_types_[static_cast<std::size_t>(k)];
        if (ft.kind == tk::boolean && type_seen[k].empty()) {
          ft.kind = kind;
          type_seen[k] = r.id;
        } else if (kind != tk::any && ft.kind != tk::any && kind != ft.kind) {
          error(a.fact.begin, "check.conclude-type",
                "rules '" + type_seen[k] + "' and '" + r.id + "' conclude '" + p_.facts[k].path +
                    "' with values of different kinds");
        }
      }
    }
  }
}

void compiler::check_items() {
  // Which ids each kind of item is proposed under.
  std::set<std::string> challenges, any_item;
  std::map<std::string, bool> challenge_keyed;  // raised by a `for each` rule
  for (const auto& r : p_.rules) {
    for (const auto& a : r.actions) {
      if (a.kind == ast::action_kind::conclude || a.kind == ast::action_kind::exclude) continue;
      any_item.insert(a.id);
      if (a.kind == ast::action_kind::challenge) {
        challenges.insert(a.id);
        if (r.each_list >= 0) challenge_keyed[a.id] = true;
      }
    }
  }
  std::vector<std::string> challenge_names(challenges.begin(), challenges.end());
  std::vector<std::string> item_names(any_item.begin(), any_item.end());
  // Positions of actions, found again from the syntax tree.
  std::map<std::pair<std::string, std::string>, std::pair<std::uint16_t, std::uint32_t>> where;
  for (const auto& f : files_) {
    for (const auto& r : f.ast.rules) {
      for (const auto& a : r.actions) where[{r.id, a.id + "/" + a.target}] = {f.index, a.begin};
    }
  }
  for (auto& r : p_.rules) {
    for (auto& a : r.actions) {
      auto pos = where[{r.id, a.id + "/" + a.target}];
      file_ = pos.first;
      bool needs_target = a.kind == ast::action_kind::solution ||
                          (a.kind == ast::action_kind::goal && !a.target.empty());
      if (needs_target && !challenges.count(a.target)) {
        std::string near = nearest_name(a.target, challenge_names);
        error(pos.second, "check.unknown-item",
              "'" + a.id + "' is for challenge '" + a.target + "', which no rule raises",
              near.empty() ? std::vector<std::string>{}
                           : std::vector<std::string>{"did you mean '" + near + "'?"});
      }
      if (needs_target) a.target_keyed = r.each_list >= 0 && challenge_keyed[a.target];
      if (a.kind == ast::action_kind::exclude && !any_item.count(a.id)) {
        std::string near = nearest_name(a.id, item_names);
        error(pos.second, "check.unknown-item",
              "'exclude " + a.id + "' names an item that no rule proposes",
              near.empty() ? std::vector<std::string>{}
                           : std::vector<std::string>{"did you mean '" + near + "'?"});
      }
    }
  }
}

void compiler::run() {
  // 1. ids
  std::map<std::string, std::pair<std::uint16_t, std::uint32_t>> seen;
  for (const auto& f : files_) {
    for (const auto& r : f.ast.rules) {
      auto [it, fresh] = seen.emplace(r.id, std::make_pair(f.index, r.begin));
      if (!fresh) {
        file_ = f.index;
        location first = p_.sources[it->second.first].locate(it->second.second);
        error(r.begin, "check.duplicate-rule",
              "rule id '" + r.id + "' is already used at " + p_.sources[it->second.first].name() +
                  ":" + std::to_string(first.line),
              {"rule ids must be unique across all files of the rule set"});
      }
    }
  }
  // 2. facts
  declare_facts();
  // 3-5. names, types, templates: rule by rule, in id order.
  std::vector<std::pair<const ast::rule*, std::uint16_t>> order;
  for (const auto& f : files_) {
    for (const auto& r : f.ast.rules) order.push_back({&r, f.index});
  }
  std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    if (a.first->id != b.first->id) return a.first->id < b.first->id;
    return p_.sources[a.second].name() < p_.sources[b.second].name();
  });
  for (const auto& [r, file] : order) compile_rule(*r, file);
  for (std::uint32_t i = 0; i < p_.rules.size(); ++i) {
    for (const auto& a : p_.rules[i].actions) {
      if (a.kind == ast::action_kind::conclude && a.fact >= 0) {
        p_.facts[static_cast<std::size_t>(a.fact)].concluders.push_back(i);
      }
    }
  }
  for (auto& f : p_.facts) {
    f.concluders.erase(std::unique(f.concluders.begin(), f.concluders.end()), f.concluders.end());
  }
  // 6. items
  check_items();
  // 7. strata
  stratify(p_, rule_reads_, diags_);
  // A parameter no rule reads is probably misspelt somewhere.
  for (const auto& prm : p_.params) {
    if (prm.used) continue;
    diagnostic d;
    d.level = severity::warning;
    d.code = "check.unused-parameter";
    d.file = prm.file;
    d.line = prm.line;
    d.column = 1;
    d.message = "parameter '" + prm.name + "' is set but no rule reads param." + prm.name;
    diags_.push_back(std::move(d));
  }
}

}  // namespace

std::shared_ptr<const program> compile(std::shared_ptr<const vocabulary> vocab,
                                       std::vector<parameter> params,
                                       std::vector<source_file> sources,
                                       const std::vector<parsed_file>& files,
                                       std::vector<diagnostic>& diags, bool style) {
  auto p = std::make_shared<program>();
  p->vocab = std::move(vocab);
  p->sources = std::move(sources);
  p->params = std::move(params);
  std::sort(p->params.begin(), p->params.end(),
            [](const parameter& a, const parameter& b) { return a.name < b.name; });
  for (auto& prm : p->params) {
    if (prm.v.kind == vkind::symbol) prm.v.sym = p->symbols.intern(prm.text);
  }
  std::size_t before = diags.size();
  compiler c(*p, files, diags, style);
  c.run();
  std::vector<diagnostic> mine(diags.begin() + static_cast<std::ptrdiff_t>(before), diags.end());
  if (has_errors(mine)) return nullptr;
  return p;
}

}  // namespace iptplan

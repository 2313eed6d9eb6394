// Conditions: names resolved to slots, operand types checked, and each
// expression lowered to flat nodes.
#include "engine/compile/compiler.hpp"

namespace iptplan::detail {

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

std::optional<double> compiler::constant_number(std::uint32_t at, std::vector<std::uint32_t>& params,
                                                bool& by_zero) const {
  const node& n = p_.nodes[at];
  switch (n.op) {
    case opcode::literal:
      if (n.lit.kind == vkind::number) return n.lit.n;
      return std::nullopt;
    case opcode::param:
      if (p_.params[n.a].v.kind != vkind::number) return std::nullopt;
      params.push_back(n.a);
      return p_.params[n.a].v.n;
    case opcode::neg: {
      auto x = constant_number(n.a, params, by_zero);
      if (x) return -*x;
      return std::nullopt;
    }
    case opcode::add: case opcode::sub: case opcode::mul: case opcode::div: {
      auto l = constant_number(n.a, params, by_zero);
      auto r = constant_number(n.b, params, by_zero);
      if (n.op == opcode::div && r && *r == 0) by_zero = true;  // whatever is divided
      if (!l || !r) return std::nullopt;
      switch (n.op) {
        case opcode::add: return *l + *r;
        case opcode::sub: return *l - *r;
        case opcode::mul: return *l * *r;
        default:
          if (*r == 0) {
            by_zero = true;
            return std::nullopt;
          }
          return *l / *r;
      }
    }
    default: return std::nullopt;
  }
}

void compiler::check_enum_literal(const typ& t, std::uint32_t lit_node) {
  const node& n = p_.nodes[lit_node];
  // A literal text, or a text parameter: both must be among the enum's values.
  const value& v0 = n.op == opcode::param ? p_.params[n.a].v : n.lit;
  if ((n.op != opcode::literal && n.op != opcode::param) || v0.kind != vkind::symbol || !t.decl) return;
  bool is_enum = t.kind == tk::enumeration ||
                 (t.kind == tk::list && t.decl->element == finding_type::enumeration);
  if (!is_enum) return;
  const std::string& v = p_.symbols.text(v0.sym);
  const auto& vals = t.decl->values;
  if (t.decl->has_value(v)) return;
  std::vector<std::string> notes;
  std::string near = suggest_.nearest(v, vals);
  if (!near.empty()) notes.push_back("did you mean \"" + near + "\"?");
  if (n.op == opcode::param) {
    notes.push_back("the value comes from param." + p_.params[n.a].name + " in " + p_.params[n.a].file +
                    ":" + std::to_string(p_.params[n.a].line));
  }
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
  // A number or true/false written in quotes ("10"): the usual slip.
  std::vector<std::string> notes;
  for (const auto* side : {&l, &r}) {
    std::string t = text(side->node);
    if (t.size() < 3 || t.front() != '"' || t.back() != '"') continue;
    std::string inner = t.substr(1, t.size() - 2);
    bool number = inner.find_first_not_of("0123456789.-") == std::string::npos &&
                  inner.find_first_of("0123456789") != std::string::npos;
    bool boolean = inner == "true" || inner == "false";
    tk other = side == &l ? rk : lk;
    if ((number && other == tk::number) || (boolean && other == tk::boolean)) {
      notes.push_back("a " + std::string(number ? "number" : "true or false") + " is written without quotes: " +
                      inner + ", not " + t);
    }
  }
  error(at, "check.type",
        "cannot compare '" + text(l.node) + "' (" + describe(lk) + ") with '" + text(r.node) +
            "' (" + describe(rk) + ")",
        notes);
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
    // From the expression's own start: a first operand in parentheses
    // starts after its '(' (its text was shown without it).
    n.src_begin = std::min(e.begin, p_.nodes[kids.front()].src_begin);
    n.src_end = e.rest.back().end;
    return {emit(n), {tk::boolean}};
  }
  if (e.rest.size() > kMaxChain) {
    error(e.begin, "check.nesting",
          "this calculation chains more than " + std::to_string(kMaxChain) +
              " operators; split it into simpler rules or derived facts");
    return {emit({}), {tk::error}};
  }
  if (calculation_depth_ + e.rest.size() > kMaxCalculationDepth) {
    error(e.begin, "check.nesting",
          "this calculation is nested too deeply: more than " + std::to_string(kMaxCalculationDepth) +
              " operators from the top of the condition to its deepest value; split it into simpler rules "
              "or derived facts");
    return {emit({}), {tk::error}};
  }
  calculation_depth_ += e.rest.size();
  struct restore {
    std::size_t& depth;
    std::size_t by;
    ~restore() { depth -= by; }
  } undo{calculation_depth_, e.rest.size()};
  cx acc = operand(e.first, positive && e.rest.empty());
  for (const auto& op : e.rest) {
    acc = binary(op.op, acc, op);
    auto& made = p_.nodes[acc.node];
    made.src_begin = std::min(e.begin, made.src_begin);
  }
  return acc;
}

cx compiler::binary(ast::optoken op, cx lhs, const ast::operation& rhs_op) {
  node n;
  n.src_begin = p_.nodes[lhs.node].src_begin;
  n.src_end = rhs_op.end;
  n.a = lhs.node;
  using ast::optoken;
  switch (op) {
    case optoken::op_eq: case optoken::op_ne: case optoken::op_lt:
    case optoken::op_le: case optoken::op_gt: case optoken::op_ge: {
      cx r = operand(rhs_op.rhs, false);
      n.src_end = std::max(n.src_end, p_.nodes[r.node].src_end);
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
      n.src_end = std::max(n.src_end, p_.nodes[r.node].src_end);
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
    case optoken::op_is_provisional: {
      // Only a derived fact can be proposed provisionally: a finding is on
      // file or not.
      auto op0 = p_.nodes[lhs.node].op;
      if (op0 != opcode::fact && lhs.t.kind != tk::error) {
        error(n.src_begin, "check.type",
              "'is provisional' applies to a derived fact (one a rule concludes), not to '" +
                  text(lhs.node) + "'",
              {op0 == opcode::param
                   ? "a parameter is set in ruleset.toml: it is never provisional"
                   : "a finding is either recorded or missing: use 'is known' or 'is missing'"});
      }
      if (op0 == opcode::fact && !reads_.empty()) reads_.back().second = true;
      n.op = opcode::is_provisional;
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
      n.src_end = std::max(n.src_end, p_.nodes[r.node].src_end);
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
    if (!it->list) return {emit(n), {tk::error}};  // its list was already reported
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
      std::string near = suggest_.nearest(ap.tail[0], names);
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
      std::string near = suggest_.nearest(full, names);
      std::vector<std::string> notes;
      if (!near.empty()) {
        // Either name may be the misspelt one: the rules', or the one set
        // in ruleset.toml (then every rule reading it is reported here).
        notes.push_back("did you mean '" + near + "'? Or, if the rules have it right, correct '" + near.substr(6) +
                        "' in the [parameters] table of ruleset.toml");
      } else {
        notes.push_back("parameters are set in the [parameters] table of ruleset.toml");
      }
      if (ap.tail.size() == 1) unknown_params_.insert(ap.tail[0]);
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
  // The names to suggest from, only while suggestions are still looked
  // for: building them for each of 20,000 unknown names was quadratic.
  std::vector<std::string> names;
  if (suggest_.open()) {
    names = p_.vocab->paths();
    for (const auto& f : p_.facts) names.push_back(f.path);
    for (const auto& b : scope_) {
      if (!b.list) continue;
      if (b.list->type == finding_type::table_list) {
        for (const auto& f : b.list->fields) names.push_back(b.name + "." + f.path);
      } else {
        names.push_back(b.name);
      }
    }
  }
  std::string near = suggest_.nearest(full, names);
  std::vector<std::string> notes;
  // `alliance.strength == weak`: a choice written without its quotes.
  bool choice = false;
  if (full.find('.') == std::string::npos) {
    auto holds = [&](const finding_decl& d) {
      return d.has_value(full);
    };
    for (const auto& d : p_.vocab->findings()) {
      choice = choice || holds(d) || std::any_of(d.fields.begin(), d.fields.end(), holds);
    }
  }
  if (choice) {
    notes.push_back("did you mean \"" + full + "\"? A choice is written in double quotes");
  } else if (auto at = concluded_at_.find(near); !near.empty() && at != concluded_at_.end()) {
    // The name suggested is a derived fact: the misspelling may be where it
    // is concluded, not here.
    const source_file& src = p_.sources[at->second.first];
    location loc = src.locate(at->second.second);
    notes.push_back("did you mean '" + near + "'? Or is '" + near + "' itself misspelt where it is concluded (" +
                    src.name() + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column) +
                    ")? Correct the one that is wrong");
  } else if (!near.empty()) {
    notes.push_back("did you mean '" + near + "'?");
  }
  notes.push_back("a path names a finding of vocabulary.toml, a fact some rule concludes, "
                  "or a field of an entry bound by 'for each' or a quantifier");
  error(ap.begin, "check.unknown-path", "unknown finding '" + full + "'", notes);
  return {emit(n), {tk::error}};
}

const finding_decl* compiler::iterable(const ast::path& list_path, const char* who) {
  std::string list = ast::to_string(list_path);
  const finding_decl* decl = p_.vocab->find(list);
  if (decl && (decl->type == finding_type::table_list || decl->type == finding_type::list)) return decl;
  std::vector<std::string> lists;
  for (const auto& f : p_.vocab->findings()) {
    if (f.type == finding_type::table_list || f.type == finding_type::list) lists.push_back(f.path);
  }
  std::string near = suggest_.nearest(list, lists);
  error(list_path.begin, "check.unknown-path",
        decl ? "'" + list + "' is not a list, so " + who + " cannot iterate it"
             : "unknown list '" + list + "'",
        near.empty() ? std::vector<std::string>{}
                     : std::vector<std::string>{"did you mean '" + near + "'?"});
  return nullptr;
}

cx compiler::quantifier(const ast::quantifier& q, bool positive) {
  node n;
  n.src_begin = q.begin;
  n.src_end = q.end;
  n.atom = true;
  n.op = q.kind == ast::quantifier_kind::any   ? opcode::any
         : q.kind == ast::quantifier_kind::all ? opcode::all
                                               : opcode::count;
  const finding_decl* decl = iterable(q.list, "a quantifier");
  if (!decl) return {emit(n), {tk::error}};
  std::string list = decl->path;
  if (vars_ >= kMaxVars) {
    error(q.begin, "check.nesting",
          "quantifiers are nested too deeply: at most 3 variables may be in play at once, counting the 'for each' "
          "variable",
          {"each level multiplies the rule's work by the length of its list; split the rule, or conclude a derived "
           "fact in a separate rule and read it"});
    return {emit(n), {tk::error}};
  }
  n.a = static_cast<std::uint32_t>(p_.vocab->index_of(list));
  n.var = vars_++;
  if (q.var == "param") {
    error(q.begin, "check.unknown-path",
          "'param' is reserved for parameters; choose another name for the entry");
  }
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
        // `not <condition>` is one piece of evidence, whatever it negates:
        // listing the parts of a negated `and` would read as the opposite.
        n.atom = true;
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

}  // namespace iptplan::detail

// The syntax tree of a rule file: plain data, no behaviour.
//
// Every node that a diagnostic may point at derives from `tagged`, whose
// byte offsets into the source text are filled in by the parser. Offsets (not
// iterators) survive the source string being moved, and the source file keeps
// the line index that turns them into line:column.
//
// Binary operators are kept as the parser sees them, one `expression` per
// precedence level: `first` followed by `rest` (operator, operand) pairs,
// folded left by whoever walks the tree.
#pragma once

#include <boost/optional.hpp>
#include <boost/spirit/home/x3/support/ast/variant.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace iptplan::ast {

namespace x3 = boost::spirit::x3;

// Byte offsets [begin, end) of a node in its source file.
struct tagged {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

// Operators of every precedence level, loosest first.
enum class optoken : std::uint8_t {
  op_or, op_and, op_not,
  op_eq, op_ne, op_lt, op_le, op_gt, op_ge,
  op_in, op_contains, op_is_known, op_is_missing, op_is_provisional,
  op_add, op_sub, op_mul, op_div, op_neg,
};

// `3`, `2.5`
struct number_literal : tagged {
  double value = 0;
};
// `"text"`
struct string_literal : tagged {
  std::string value;
};
// `true`, `false`
struct bool_literal : tagged {
  bool value = false;
};
// `communication.assertiveness`, `r.conflict`
struct path : tagged {
  std::string head;
  std::vector<std::string> tail;
};
// `{"couple", "group"}`
struct set_literal : tagged {
  std::vector<x3::variant<number_literal, string_literal, bool_literal>> items;
};

struct unary;
struct quantifier;
struct expression;

struct nil {};

struct operand
    : x3::variant<nil, number_literal, string_literal, bool_literal, path,
                  set_literal, x3::forward_ast<unary>,
                  x3::forward_ast<quantifier>, x3::forward_ast<expression>> {
  using base_type::base_type;
  using base_type::operator=;
};

// `not x`, `-x`
struct unary : tagged {
  optoken op = optoken::op_not;
  operand rhs;
};

// One step of a left fold: `and b`, `== 3`, `in {"a"}`, `is known`.
struct operation : tagged {
  optoken op = optoken::op_and;
  operand rhs;  // nil for `is known` / `is missing`
};

// `a or b or c`, `x == 3`: one precedence level.
struct expression : tagged {
  operand first;
  std::vector<operation> rest;
};

enum class quantifier_kind : std::uint8_t { any, all, count };

// `any(r in relationships: r.conflict == "overt")`
struct quantifier : tagged {
  quantifier_kind kind = quantifier_kind::any;
  std::string var;
  ast::path list;
  expression condition;
};

enum class meta_kind : std::uint8_t { priority, tags, source };

// `priority 90`, `tags alliance, relationship`, `source "domain M1"`
struct meta_item : tagged {
  meta_kind kind = meta_kind::priority;
  double number = 0;
  std::vector<std::string> words;
  std::string text;
};

enum class action_kind : std::uint8_t {
  challenge, solution, goal, flag, conclude, exclude
};

// One action after `then`. Which fields are set depends on `kind`:
//   challenge <id> "text"
//   solution <id> for <target> "text"
//   goal <id> [for <target>] "text"
//   flag <severity> <id> "text"
//   conclude <fact> [= <value>]
//   exclude <id>
struct action : tagged {
  action_kind kind = action_kind::challenge;
  std::string severity;
  std::string id;
  std::string target;
  string_literal text;
  ast::path fact;
  boost::optional<expression> value;
  // `goal g for c by session <value> "..."`: the session the goal is due by.
  boost::optional<expression> due;
};

// `for each r in relationships`
struct for_each : tagged {
  std::string var;
  ast::path list;
};

// `provisional when r.conflict in {"covert", "overt"}`: when the rule's
// condition is unknown but this support condition holds, its items are
// proposed provisionally (to confirm).
struct provisional_clause : tagged {
  expression support;
};

// rule <id> ["title"] meta* [for each] when <cond> [provisional when <cond>]
//   then <action>+ [because "t"] end
struct rule : tagged {
  std::string id;
  boost::optional<string_literal> title;
  std::vector<meta_item> meta;
  boost::optional<for_each> each;
  expression condition;
  boost::optional<provisional_clause> provisional;
  std::vector<action> actions;
  boost::optional<string_literal> because;
};

// The contents of one `.rules` file.
struct rule_file {
  std::vector<rule> rules;
};

}  // namespace iptplan::ast

// Definition of the condition grammar, loosest precedence first:
//   or < and < not < comparison < + - < * / < unary minus < primary
#pragma once

#include "grammar/common.hpp"
#include "grammar/expression.hpp"

namespace iptplan::parser {

struct expression_class : annotate {};
struct and_class : annotate {};
struct not_class {};
struct unary_not_class : annotate {};
struct comparison_class : annotate {};
struct comparison_tail_class : annotate {};
struct operation_class : annotate {};
// Its position too: an `and` group's text ends where its last operand
// does (an unannotated one ended at 0, and its condition read empty).
struct and_operation_class : annotate {};
struct additive_class : annotate {};
struct multiplicative_class : annotate {};
struct unary_expr_class {};
struct negate_class : annotate {};
struct primary_class {};
struct quantifier_class : annotate {};
struct set_literal_class : annotate {};

struct relational_ops : x3::symbols<ast::optoken> {
  relational_ops() {
    add("==", ast::optoken::op_eq)("!=", ast::optoken::op_ne)(
        "<", ast::optoken::op_lt)("<=", ast::optoken::op_le)(
        ">", ast::optoken::op_gt)(">=", ast::optoken::op_ge);
  }
};
inline relational_ops const relational_op;

struct additive_ops : x3::symbols<ast::optoken> {
  additive_ops() { add("+", ast::optoken::op_add)("-", ast::optoken::op_sub); }
};
inline additive_ops const additive_op;

struct multiplicative_ops : x3::symbols<ast::optoken> {
  multiplicative_ops() {
    add("*", ast::optoken::op_mul)("/", ast::optoken::op_div);
  }
};
inline multiplicative_ops const multiplicative_op;

struct quantifier_kinds : x3::symbols<ast::quantifier_kind> {
  quantifier_kinds() {
    add("any", ast::quantifier_kind::any)("all", ast::quantifier_kind::all)(
        "count", ast::quantifier_kind::count);
  }
};
inline quantifier_kinds const quantifier_kind;

expression_type const expression_rule = "a condition";
x3::rule<and_class, ast::expression> const and_expr = "a condition";
x3::rule<not_class, ast::operand> const not_expr = "a condition";
x3::rule<unary_not_class, ast::unary> const unary_not = "a condition";
x3::rule<comparison_class, ast::expression> const comparison = "a condition";
x3::rule<comparison_tail_class, ast::operation> const comparison_tail =
    "a comparison";
x3::rule<additive_class, ast::expression> const additive = "a value";
x3::rule<multiplicative_class, ast::expression> const multiplicative =
    "a value";
x3::rule<unary_expr_class, ast::operand> const unary_expr = "a value";
x3::rule<negate_class, ast::unary> const negate = "a value";
x3::rule<primary_class, ast::operand> const primary =
    "a value (a number, a quoted text, true, false, a finding path or '(')";
x3::rule<quantifier_class, ast::quantifier> const quantifier =
    "any(...), all(...) or count(...)";
x3::rule<set_literal_class, ast::set_literal> const set_literal =
    "a set of values in braces, like {\"couple\", \"group\"}";
x3::rule<operation_class, ast::operation> const or_operation = "'or'";
x3::rule<and_operation_class, ast::operation> const and_operation =
    "'and'";

auto const kw_or = keyword("or", "'or'");
auto const kw_and = keyword("and", "'and'");
auto const kw_not = keyword("not", "'not'");
auto const kw_in = keyword("in", "'in'");
auto const kw_contains = keyword("contains", "'contains'");
auto const kw_is = keyword("is", "'is'");
auto const kw_known = keyword("known", "'known'");
auto const kw_missing = keyword("missing", "'missing'");
auto const kw_provisional_test = keyword("provisional", "'provisional'");
auto const close_paren = x3::rule<struct close_paren_class>{"')'"} = x3::lit(')');

// condition ::= and_expr ('or' and_expr)*
auto const expression_rule_def = and_expr >> *or_operation;
auto const or_operation_def =
    (kw_or >> x3::attr(ast::optoken::op_or)) > and_expr;

// and_expr ::= not_expr ('and' not_expr)*
auto const and_expr_def = not_expr >> *and_operation;
auto const and_operation_def =
    (kw_and >> x3::attr(ast::optoken::op_and)) > not_expr;

// not_expr ::= 'not' not_expr | comparison
auto const not_expr_def = unary_not | comparison;
auto const unary_not_def =
    (kw_not >> x3::attr(ast::optoken::op_not)) > depth[not_expr];

// comparison ::= additive [ relop additive | 'in' set | 'contains' additive
//                         | 'is' ('known' | 'missing' | 'provisional') ]
// The word after 'is', named so that an error says what may follow.
auto const is_word = x3::rule<struct is_word_class, ast::optoken>{"'known', 'missing' or 'provisional'"} =
    (kw_known >> x3::attr(ast::optoken::op_is_known)) | (kw_missing >> x3::attr(ast::optoken::op_is_missing)) |
    (kw_provisional_test >> x3::attr(ast::optoken::op_is_provisional));

auto const comparison_def = additive >> x3::repeat(0, 1)[comparison_tail];
auto const comparison_tail_def =
    (relational_op > additive) |
    ((kw_in >> x3::attr(ast::optoken::op_in)) > set_literal) |
    ((kw_contains >> x3::attr(ast::optoken::op_contains)) > additive) |
    ((kw_is > is_word) >> x3::attr(ast::nil{}));

// set ::= '{' literal (',' literal)* '}'
auto const set_item = x3::rule<struct set_item_class,
                               x3::variant<ast::number_literal, ast::string_literal,
                                           ast::bool_literal>>{
    "a number, a quoted text, true or false"} =
    number_literal | string_literal | bool_literal;
auto const close_brace =
    x3::rule<struct close_brace_class>{"',' or '}'"} = x3::lit('}');
// Named, so that an error inside the braces says what may stand there;
// after a comma an item must follow (`{"weak", }` is pointed at the '}').
auto const set_items = x3::rule<struct set_items_class, decltype(ast::set_literal::items)>{
    "a number, a quoted text, true or false"} = set_item >> *(x3::lit(',') > set_item);
auto const set_literal_def =
    x3::lit('{') > set_items > close_brace;

// additive ::= multiplicative (('+' | '-') multiplicative)*
auto const additive_def = multiplicative >> *(additive_op > multiplicative);

// multiplicative ::= unary (('*' | '/') unary)*
auto const multiplicative_def = unary_expr >> *(multiplicative_op > unary_expr);

// unary ::= '-' unary | primary
auto const unary_expr_def = negate | primary;
auto const negate_def =
    (x3::lit('-') >> x3::attr(ast::optoken::op_neg)) > depth[unary_expr];

// primary ::= number | string | boolean | quantifier | path | '(' condition ')'
auto const primary_def = number_literal | string_literal | bool_literal |
                         quantifier | path |
                         ('(' > depth[expression_rule] > close_paren);

// quantifier ::= ('any' | 'all' | 'count') '(' identifier 'in' path ':' condition ')'
auto const quantifier_def =
    x3::lexeme[quantifier_kind >> !word_char] >> x3::lit('(') > identifier >
    kw_in > path > ':' > depth[expression_rule] > close_paren;

BOOST_SPIRIT_DEFINE(expression_rule, or_operation, and_expr, and_operation,
                    not_expr, unary_not, comparison, comparison_tail, additive,
                    multiplicative, unary_expr, negate, primary, quantifier,
                    set_literal)

expression_type const& expression() { return expression_rule; }

}  // namespace iptplan::parser

// Definition of the rule grammar: header, metadata, `for each`, actions.
#pragma once

#include "grammar/common.hpp"
#include "grammar/expression.hpp"
#include "grammar/rule_grammar.hpp"

namespace iptplan::parser {

struct rule_class : annotate {};
struct meta_item_class : annotate {};
struct for_each_class : annotate {};
struct action_class : annotate {};

auto const kw_rule = keyword("rule", "'rule'");
auto const kw_when = keyword(
    "when",
    "'when' (or metadata: priority, tags, source; or 'for each')");
auto const kw_then = keyword("then", "'then'");
auto const kw_provisional = keyword("provisional", "'provisional'");
auto const kw_when_support = keyword("when", "'when'");
auto const kw_because = keyword("because", "'because'");
auto const kw_end = keyword("end", "'end'");
auto const kw_end_after_actions = keyword(
    "end",
    "an action (challenge, solution, goal, flag, conclude, exclude), "
    "'because' or 'end'");
auto const kw_for = keyword("for", "'for'");
// After a solution's id: the challenge it answers comes first, so an error
// there says so.
auto const kw_for_challenge =
    keyword("for", "'for' and the challenge it answers (solution ID for CHALLENGE \"text\")");
auto const kw_by = keyword("by", "'by'");
auto const kw_session = keyword("session", "'session'");
auto const kw_each = keyword("each", "'each'");
auto const kw_in_list = keyword("in", "'in'");
auto const kw_priority = keyword("priority", "'priority'");
auto const kw_tags = keyword("tags", "'tags'");
auto const kw_source = keyword("source", "'source'");

// number ::= ['-'] digits ['.' digits]  (a sign, so that -5 is reported
// as out of range rather than as a syntax error)
auto const signed_number = x3::rule<struct signed_number_class, double>{
    "a number"} = x3::lexeme[x3::matches[x3::lit('-')] >> unsigned_number][(
    [](auto& ctx) {
      auto& a = x3::_attr(ctx);
      double v = boost::fusion::at_c<1>(a);
      x3::_val(ctx) = boost::fusion::at_c<0>(a) ? -v : v;
    })];

rule_type const rule_rule = "'rule'";
x3::rule<meta_item_class, ast::meta_item> const meta_item = "metadata";
x3::rule<for_each_class, ast::for_each> const for_each = "'for each'";
struct provisional_class : annotate {};
x3::rule<provisional_class, ast::provisional_clause> const provisional_clause =
    "'provisional when'";
x3::rule<action_class, ast::action> const action =
    "an action (challenge, solution, goal, flag, conclude, exclude)";

// meta ::= 'priority' number | 'tags' identifier (',' identifier)*
//        | 'source' string
// Named, so that an error after 'tags' says what may follow.
auto const tag_list = x3::rule<struct tag_list_class, std::vector<std::string>>{"a tag"} = identifier % ',';

x3::rule<struct meta_item_body_class, ast::meta_item> const meta_item_body = "metadata";
auto const meta_item_body_def =
    (kw_priority > signed_number)[([](auto& ctx) {
      x3::_val(ctx).kind = ast::meta_kind::priority;
      x3::_val(ctx).number = x3::_attr(ctx);
    })] |
    (kw_tags > tag_list)[([](auto& ctx) {
      x3::_val(ctx).kind = ast::meta_kind::tags;
      x3::_val(ctx).words = std::move(x3::_attr(ctx));
    })] |
    (kw_source > quoted_text)[([](auto& ctx) {
      x3::_val(ctx).kind = ast::meta_kind::source;
      x3::_val(ctx).text = std::move(x3::_attr(ctx));
    })];

// for_each ::= 'for' 'each' identifier 'in' path
auto const for_each_def = (kw_for >> kw_each) > identifier > kw_in_list > path;

struct severity_words : x3::symbols<std::string> {
  severity_words() {
    add("info", "info")("warning", "warning")("critical", "critical");
  }
};
inline severity_words const severity_word;
auto const severity =
    x3::rule<struct severity_class, std::string>{"info, warning or critical"} =
        x3::lexeme[severity_word >> !word_char];

template <typename Kind>
auto set_kind(Kind k) {
  return [k](auto& ctx) { x3::_val(ctx).kind = k; };
}
using x3::_attr;
using x3::_val;
using boost::fusion::at_c;

// action ::= 'challenge' id string
//          | 'solution' id 'for' id string
//          | 'goal' id ['for' id] ['by' 'session' value] string
//          | 'flag' severity id string
//          | 'conclude' path ['=' condition]
//          | 'exclude' id
auto const challenge_action =
    (keyword("challenge", "'challenge'") > identifier > text_literal)[(
        [](auto& ctx) {
          auto& a = _val(ctx);
          a.kind = ast::action_kind::challenge;
          a.id = at_c<0>(_attr(ctx));
          a.text = at_c<1>(_attr(ctx));
        })];
auto const solution_action =
    (keyword("solution", "'solution'") > identifier > kw_for_challenge > identifier >
     text_literal)[([](auto& ctx) {
      auto& a = _val(ctx);
      a.kind = ast::action_kind::solution;
      a.id = at_c<0>(_attr(ctx));
      a.target = at_c<1>(_attr(ctx));
      a.text = at_c<2>(_attr(ctx));
    })];
// The date of a goal: any value but a quoted text, which is the goal's own
// text (`goal g by session "x"` misses its date).
// (A rule of its own without an attribute: one holding expression() would
// instantiate the expression grammar in this translation unit.)
auto const session_number = x3::rule<struct session_number_class>{"a session number"} = !x3::lit('"');
auto const goal_action =
    (keyword("goal", "'goal'") > identifier > -(kw_for > identifier) >
     -(kw_by > kw_session > session_number > expression()) > text_literal)[([](auto& ctx) {
      auto& a = _val(ctx);
      a.kind = ast::action_kind::goal;
      a.id = at_c<0>(_attr(ctx));
      if (at_c<1>(_attr(ctx))) a.target = *at_c<1>(_attr(ctx));
      a.due = at_c<2>(_attr(ctx));
      a.text = at_c<3>(_attr(ctx));
    })];
auto const flag_action =
    (keyword("flag", "'flag'") > severity > identifier > text_literal)[(
        [](auto& ctx) {
          auto& a = _val(ctx);
          a.kind = ast::action_kind::flag;
          a.severity = at_c<0>(_attr(ctx));
          a.id = at_c<1>(_attr(ctx));
          a.text = at_c<2>(_attr(ctx));
        })];
auto const conclude_action =
    (keyword("conclude", "'conclude'") > path >
     -(x3::lit('=') >> !x3::lit('=') > expression()))[([](auto& ctx) {
      auto& a = _val(ctx);
      a.kind = ast::action_kind::conclude;
      a.fact = at_c<0>(_attr(ctx));
      a.value = at_c<1>(_attr(ctx));
    })];
auto const exclude_action =
    (keyword("exclude", "'exclude'") > identifier)[([](auto& ctx) {
      auto& a = _val(ctx);
      a.kind = ast::action_kind::exclude;
      a.id = _attr(ctx);
    })];

x3::rule<struct action_body_class, ast::action> const action_body =
    "an action (challenge, solution, goal, flag, conclude, exclude)";
auto const action_body_def =
        challenge_action | solution_action | goal_action |
                        flag_action | conclude_action | exclude_action;

auto const rule_tail =
    x3::rule<struct rule_tail_class, boost::optional<ast::string_literal>>{
        "an action (challenge, solution, goal, flag, conclude, exclude), "
        "'because' or 'end'"} =
        (kw_because > text_literal > kw_end) | kw_end_after_actions;

x3::rule<struct actions_class, std::vector<ast::action>> const actions =
    "an action (challenge, solution, goal, flag, conclude, exclude)";
auto const actions_def = +action;

// provisional ::= 'provisional' 'when' condition
auto const provisional_clause_def =
    (kw_provisional > kw_when_support > expression())[([](auto& ctx) {
      _val(ctx).support = std::move(_attr(ctx));
    })];

auto const rule_rule_def = kw_rule > identifier > -text_literal >
                           *meta_item > -for_each > kw_when > expression() >
                           -provisional_clause > kw_then > actions > rule_tail;

// The outer rules carry no semantic action, so their positions are recorded.
auto const meta_item_def = meta_item_body;
auto const action_def = action_body;

BOOST_SPIRIT_DEFINE(rule_rule, meta_item, meta_item_body, for_each, provisional_clause,
                    action, action_body, actions)

rule_type const& rule() { return rule_rule; }

}  // namespace iptplan::parser

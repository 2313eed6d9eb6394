// Lexical building blocks shared by the expression and rule grammars:
// keywords, identifiers, literals, position tagging and the depth guard.
#pragma once

#include <boost/spirit/home/x3.hpp>

#include "grammar/ast.hpp"
#include "grammar/ast_adapted.hpp"
#include "grammar/config.hpp"

namespace iptplan::parser {

namespace ascii = x3::ascii;

// Base of every rule ID whose node carries a position: on success, the
// parse state stores the node's byte offsets.
struct annotate {
  template <typename Iterator, typename Node, typename Context>
  void on_success(Iterator const& first, Iterator const& last, Node& node,
                  Context const& context) const {
    x3::get<state_tag>(context).get().tag(node, first, last);
  }
};

// depth[p]: parses p one nesting level deeper; past parse_state::max_depth
// it fails with an expectation_failure instead of exhausting the stack.
template <typename Subject>
struct depth_directive : x3::unary_parser<Subject, depth_directive<Subject>> {
  using base_type = x3::unary_parser<Subject, depth_directive<Subject>>;
  static bool const is_pass_through_unary = true;
  constexpr explicit depth_directive(Subject const& subject)
      : base_type(subject) {}

  template <typename Iterator, typename Context, typename RContext,
            typename Attribute>
  bool parse(Iterator& first, Iterator const& last, Context const& context,
             RContext& rcontext, Attribute& attr) const {
    parse_state& state = x3::get<state_tag>(context).get();
    if (state.depth >= state.max_depth) {
      boost::throw_exception(
          x3::expectation_failure<Iterator>(first, depth_exceeded));
    }
    ++state.depth;
    struct restore {
      parse_state& s;
      ~restore() { --s.depth; }
    } guard{state};
    return this->subject.parse(first, last, context, rcontext, attr);
  }
};

}  // namespace iptplan::parser

// What a depth[p] expects is what p expects: an error names p, never the
// directive's C++ type.
namespace boost::spirit::x3 {
template <typename Subject>
struct get_info<iptplan::parser::depth_directive<Subject>> {
  using result_type = std::string;
  std::string operator()(iptplan::parser::depth_directive<Subject> const& p) const { return what(p.subject); }
};
}  // namespace boost::spirit::x3

namespace iptplan::parser {

struct depth_gen {
  template <typename Subject>
  constexpr auto operator[](Subject const& subject) const {
    return depth_directive<typename x3::extension::as_parser<Subject>::value_type>{
        x3::as_parser(subject)};
  }
};
inline constexpr depth_gen depth{};

// A character that may continue an identifier.
inline auto const word_char = ascii::alnum | x3::lit('_');

// A keyword, never a prefix of a longer word (`notify` is not `not`).
// `name` is what an error message calls it, e.g. "'then'".
inline auto keyword(char const* word, char const* name) {
  return x3::rule<struct keyword_class>{name} =
             x3::lexeme[x3::lit(word) >> !word_char];
}

// Words that cannot be identifiers.
struct reserved_words : x3::symbols<int> {
  reserved_words() {
    for (char const* w :
         {"rule", "when", "then", "because", "end", "and", "or", "not",
          "true", "false", "is", "known", "missing", "provisional", "contains", "in", "any",
          "all", "count", "for", "each", "priority", "tags", "source",
          "challenge", "solution", "goal", "flag", "conclude", "exclude"}) {
      add(w, 0);
    }
  }
};
inline reserved_words const reserved;

// identifier ::= [A-Za-z_][A-Za-z0-9_]*  (not a reserved word)
inline auto const identifier =
    x3::rule<struct identifier_class, std::string>{"a name"} =
        x3::raw[x3::lexeme[!(reserved >> !word_char) >>
                           (ascii::alpha | '_') >> *word_char]];

// Numbers: digits with an optional fraction; no exponent, inf or nan.
struct plain_number_policies : x3::ureal_policies<double> {
  template <typename It, typename Attr>
  static bool parse_nan(It&, It const&, Attr&) { return false; }
  template <typename It, typename Attr>
  static bool parse_inf(It&, It const&, Attr&) { return false; }
  template <typename It>
  static bool parse_exp(It&, It const&) { return false; }
};
inline x3::real_parser<double, plain_number_policies> const unsigned_number{};

// escape ::= '"' | '\\' | 'n'   (after a backslash)
inline auto const escape =
    x3::rule<struct escape_class, char>{"an escape: \\\" for a quote, \\\\ for a backslash or \\n for a new line"} =
        x3::char_('"') | x3::char_('\\') | (x3::lit('n') >> x3::attr('\n'));

inline auto const close_quote =
    x3::rule<struct close_quote_class>{
        "a closing '\"' before the end of the line"} = x3::lit('"');

// quoted ::= '"' (escape | any character but '"', '\' or newline)* '"'
inline auto const quoted =
    x3::rule<struct quoted_class, std::string>{"a quoted text"} =
        x3::lexeme['"' >> *(('\\' > escape) |
                            ~x3::char_("\"\\\n")) >
                   close_quote];

// text ::= quoted+   The texts of titles, sources, actions and `because`:
// adjacent pieces are one text, so a long text can run over several lines
// ("Ask about " "the partner" is "Ask about the partner"). A value in a
// condition is one piece: there, {"a" "b"} is a missing comma, not "ab".
inline auto const quoted_text =
    x3::rule<struct quoted_text_class, std::string>{"a quoted text"} =
        quoted[([](auto& ctx) { x3::_val(ctx) = std::move(x3::_attr(ctx)); })] >>
        *quoted[([](auto& ctx) { x3::_val(ctx) += x3::_attr(ctx); })];

struct number_literal_class : annotate {};
struct string_literal_class : annotate {};
struct bool_literal_class : annotate {};
struct path_class : annotate {};

// number ::= digits ['.' digits]
inline auto const number_literal =
    x3::rule<number_literal_class, ast::number_literal>{"a number"} =
        unsigned_number;

// string ::= quoted
inline auto const string_literal =
    x3::rule<string_literal_class, ast::string_literal>{"a quoted text"} =
        quoted;

// A text: one or more adjacent quoted pieces.
inline auto const text_literal =
    x3::rule<string_literal_class, ast::string_literal>{"a quoted text"} =
        quoted_text;

// boolean ::= 'true' | 'false'
inline auto const bool_literal =
    x3::rule<bool_literal_class, ast::bool_literal>{"true or false"} =
        x3::rule<struct bool_value_class, bool>{"true or false"} =
            (keyword("true", "'true'") >> x3::attr(true)) |
            (keyword("false", "'false'") >> x3::attr(false));

// path ::= identifier ('.' identifier)*
inline auto const path =
    x3::rule<path_class, ast::path>{"a finding path"} =
        x3::lexeme[identifier >> *('.' > identifier)];

}  // namespace iptplan::parser

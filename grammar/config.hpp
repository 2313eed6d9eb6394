// The parser's fixed types: iterator, skipper, parse state and the one
// context type that every grammar translation unit is instantiated with.
// A call site that builds a different context fails to link, so this file
// is the only place these types are spelled out.
#pragma once

#include <boost/spirit/home/x3.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>

#include "grammar/ast.hpp"

namespace iptplan::parser {

namespace x3 = boost::spirit::x3;

using iterator_type = std::string::const_iterator;

// Whitespace and `#` comments to the end of the line. It never matches
// empty input (a skipper that can would loop forever).
inline auto const skipper =
    x3::ascii::space | x3::lexeme['#' >> *(x3::char_ - x3::eol)];
using skipper_type = std::remove_const_t<decltype(skipper)>;

// Mutable state shared by every rule during one parse: the start of the
// text (to turn iterators into offsets) and the nesting depth bound.
struct parse_state {
  iterator_type base;
  int depth = 0;
  int max_depth = 100;

  // Records byte offsets on nodes that carry them; called on rule success.
  template <typename Node>
  void tag(Node& node, iterator_type first, iterator_type last) const {
    if constexpr (std::is_base_of_v<ast::tagged, Node>) {
      node.begin = static_cast<std::uint32_t>(first - base);
      node.end = static_cast<std::uint32_t>(last - base);
    }
  }
};

struct state_tag;

using context_type =
    x3::context<state_tag, std::reference_wrapper<parse_state>,
                x3::phrase_parse_context<skipper_type>::type>;

// The `which()` text of the expectation failure thrown when nesting is
// deeper than parse_state::max_depth.
inline constexpr char const* depth_exceeded = "@depth";

}  // namespace iptplan::parser

// The condition grammar: declared here, defined in expression_def.hpp and
// instantiated once in expression.cpp.
#pragma once

#include <boost/spirit/home/x3.hpp>

#include "grammar/ast.hpp"
#include "grammar/config.hpp"

namespace iptplan::parser {

struct expression_class;
using expression_type = x3::rule<expression_class, ast::expression>;
BOOST_SPIRIT_DECLARE(expression_type)

// The top of the condition grammar (an `or` chain).
expression_type const& expression();

}  // namespace iptplan::parser

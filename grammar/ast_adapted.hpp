// Fusion adaptations of the syntax tree: the one place the parser learns
// which fields a node's sub-parsers fill, in order. Must stay at global scope.
#pragma once

#include <boost/fusion/include/adapt_struct.hpp>

#include "grammar/ast.hpp"

BOOST_FUSION_ADAPT_STRUCT(iptplan::ast::number_literal, value)
BOOST_FUSION_ADAPT_STRUCT(iptplan::ast::string_literal, value)
BOOST_FUSION_ADAPT_STRUCT(iptplan::ast::bool_literal, value)
BOOST_FUSION_ADAPT_STRUCT(iptplan::ast::set_literal, items)
BOOST_FUSION_ADAPT_STRUCT(iptplan::ast::path, head, tail)
BOOST_FUSION_ADAPT_STRUCT(iptplan::ast::unary, op, rhs)
BOOST_FUSION_ADAPT_STRUCT(iptplan::ast::operation, op, rhs)
BOOST_FUSION_ADAPT_STRUCT(iptplan::ast::expression, first, rest)
BOOST_FUSION_ADAPT_STRUCT(iptplan::ast::quantifier, kind, var, list, condition)
BOOST_FUSION_ADAPT_STRUCT(iptplan::ast::for_each, var, list)
BOOST_FUSION_ADAPT_STRUCT(iptplan::ast::rule, id, title, meta, each, condition,
                          provisional, actions, because)

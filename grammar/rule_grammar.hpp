// The grammar of one rule: declared here, defined in rule_grammar_def.hpp
// and instantiated once in rule_grammar.cpp. A rule file is parsed rule by
// rule (see parse.cpp), so that one broken rule does not hide the next.
#pragma once

#include <boost/spirit/home/x3.hpp>

#include "grammar/ast.hpp"
#include "grammar/config.hpp"

namespace iptplan::parser {

struct rule_class;
using rule_type = x3::rule<rule_class, ast::rule>;
BOOST_SPIRIT_DECLARE(rule_type)

// rule ::= 'rule' identifier [string] meta* [for_each]
//          'when' condition 'then' action+ ['because' string] 'end'
rule_type const& rule();

}  // namespace iptplan::parser

// Instantiates the rule grammar for the one context type.
#include "grammar/rule_grammar_def.hpp"

namespace iptplan::parser {
BOOST_SPIRIT_INSTANTIATE(rule_type, iterator_type, context_type)
}  // namespace iptplan::parser

// Instantiates the condition grammar for the one context type.
#include "grammar/expression_def.hpp"

namespace iptplan::parser {
BOOST_SPIRIT_INSTANTIATE(expression_type, iterator_type, context_type)
}  // namespace iptplan::parser

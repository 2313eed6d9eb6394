// A canonical, fully parenthesised dump of the syntax tree, for tests and
// `--debug` output: `(and (== a.b 3) (not c))`.
#pragma once

#include <string>

#include "grammar/ast.hpp"

namespace iptplan::ast {

std::string to_string(const expression& e);
std::string to_string(const operand& o);
std::string to_string(const path& p);
std::string to_string(const rule& r);
const char* to_string(optoken op);

}  // namespace iptplan::ast

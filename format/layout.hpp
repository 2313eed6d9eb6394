// The canonical layout of the rules of a file, line by line, without the
// comments (format.cpp puts them back by the token ranges of the lines).
#pragma once

#include <string_view>
#include <vector>

#include "format/doc.hpp"
#include "format/tokens.hpp"

namespace iptplan::formatter {

// Lays out every rule of `ts` (a text the rule parser accepted). Returns
// false when the tokens do not read as rules, which would be a bug.
bool layout_rules(std::string_view text, const token_stream& ts, int width,
                  std::vector<out_line>& out);

}  // namespace iptplan::formatter

// `iptplan fmt`: one canonical layout for rule files.
//
// The file is parsed first; a file with a syntax error is not formatted.
// The layout is rebuilt from the tokens as written (numbers, escapes and
// names are never respelled) and the comments are put back before the line
// that holds the token they preceded, or after the line's last token when
// they ended a line. The result is parsed again and must give the same rules
// (metadata order aside): otherwise nothing is written and an error says so.
// Formatting a formatted file changes nothing.
#pragma once

#include <string>
#include <vector>

#include "grammar/diagnostic.hpp"
#include "grammar/source.hpp"

namespace iptplan::formatter {

struct format_options {
  int width = 80;  // lines wrap before this column where they can
};

struct format_result {
  std::string text;                     // the canonical text (empty on error)
  std::vector<diagnostic> diagnostics;  // why the file was not formatted
  bool ok() const { return !has_errors(diagnostics); }
};

format_result format_rule_file(const source_file& src, const format_options& options = {});

}  // namespace iptplan::formatter

// Parsing a rule file: text in, syntax tree and diagnostics out. This is the
// only place parser exceptions are caught; callers see values.
#pragma once

#include <vector>

#include "grammar/ast.hpp"
#include "grammar/diagnostic.hpp"
#include "grammar/source.hpp"

namespace iptplan {

struct parse_options {
  // Deepest nesting of parentheses, `not` and unary minus accepted.
  int max_depth = 100;
};

// Names found by a rough scan of rules that did not parse: the facts they
// conclude and the items they raise, so that one syntax error does not also
// make every rule that reads those facts or names those items an error.
struct unparsed_names {
  std::vector<std::string> facts;
  std::vector<std::pair<std::string, std::string>> items;  // (kind word, id)
  std::vector<std::string> params;  // names read as param.<name>
};

struct parse_result {
  ast::rule_file file;  // every rule that parsed
  std::vector<diagnostic> diagnostics;
  unparsed_names unparsed;
};

// Parses every rule of `src`. After a syntax error the parser resumes at the
// next line that starts with `rule`, so one mistake does not hide others.
parse_result parse_rule_file(const source_file& src,
                             const parse_options& options = {});

}  // namespace iptplan

// The checker and compiler: parsed rule files plus a vocabulary in, a
// program (or the complete list of problems) out. Every rule set is checked
// in full before use: all problems are reported, not just the first.
//
// Checks, in order (later ones rely on names resolved by earlier ones):
//   1. ids        duplicate rule ids, priority range      check.duplicate-rule, check.priority
//   2. facts      derived facts and their types           check.conclude-finding, check.conclude-type
//   3. names      every path resolves (with suggestions)  check.unknown-path
//   4. types      operands fit their operators            check.type, check.enum-value
//   5. templates  `{path}` in texts resolves               check.template
//   6. items      `for` and `exclude` name proposed items check.unknown-item
//   7. strata     no cycle through not/count/comparisons  check.cycle
#pragma once

#include <memory>
#include <vector>

#include "engine/program.hpp"
#include "grammar/ast.hpp"
#include "grammar/diagnostic.hpp"
#include "grammar/parse.hpp"

namespace iptplan {

struct parsed_file {
  std::uint16_t index = 0;  // into the sources vector given to compile()
  ast::rule_file ast;
  unparsed_names unparsed;  // names defined by rules that did not parse
};

// Compiles the rules of `files`. Returns a program when there is no error;
// every problem (errors and warnings) is appended to `diags`. `style` adds
// house-style warnings (check.style: a rule without title, source or because).
std::shared_ptr<const program> compile(std::shared_ptr<const vocabulary> vocab,
                                       std::vector<parameter> params,
                                       std::vector<source_file> sources,
                                       const std::vector<parsed_file>& files,
                                       std::vector<diagnostic>& diags, bool style = false);

// Orders the rules of `p` into strata; reports cycles that pass through a
// negation, a count or a comparison of a derived fact. Used by compile().
void stratify(program& p, const std::vector<std::vector<std::pair<std::uint32_t, bool>>>& reads,
              std::vector<diagnostic>& diags);

// Marks the quantifiers that read no element bound outside them
// (program::cache_slot). Used by compile().
void mark_closed_quantifiers(program& p);

// Lowers every rule's condition and support to program::code, in the order
// the rules are evaluated (see fop). Used by compile(), after stratify().
void lower_to_code(program& p);

}  // namespace iptplan

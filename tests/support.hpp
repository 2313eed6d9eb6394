// Helpers shared by the engine's test executables (parser, checker,
// evaluator, findings). Each test file keeps its own vocabulary and any
// helper specific to the area it tests.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/ruleset.hpp"
#include "grammar/diagnostic.hpp"

namespace iptplan::test_support {

// The files of an in-memory rule set named "t": a minimal ruleset.toml, a
// vocabulary.toml holding `vocab`, and one file per (base name, text) in
// `rule_files`, in order. Display names are "t/<base>". Pass the result to
// load_rule_set.
inline std::vector<rule_set_file> in_memory_rule_set(
    const std::string& vocab, const std::vector<std::pair<std::string, std::string>>& rule_files) {
  std::vector<rule_set_file> files{
      {"t/ruleset.toml", "ruleset.toml", "name = \"t\"\nversion = \"1\"\n"},
      {"t/vocabulary.toml", "vocabulary.toml", vocab}};
  for (const auto& [base, text] : rule_files) files.push_back({"t/" + base, base, text});
  return files;
}

// Every diagnostic, formatted and joined, for INFO and FAIL messages.
inline std::string all_diags(const std::vector<diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) out += format(d);
  return out;
}

// The diagnostics whose code is `code`, in their original order.
inline std::vector<diagnostic> with_code(const std::vector<diagnostic>& ds,
                                         const std::string& code) {
  std::vector<diagnostic> out;
  for (const auto& d : ds) {
    if (d.code == code) out.push_back(d);
  }
  return out;
}

}  // namespace iptplan::test_support

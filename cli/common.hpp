// Pieces shared by the subcommands.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "engine/ruleset.hpp"

namespace iptplan::cli {

constexpr int kOk = 0, kInputError = 1, kUsage = 2;

// Whether `path`, with `..` and every link resolved, lies inside the folder
// `root` (or is the folder itself).
bool path_inside(const std::string& root, const std::string& path);

// Sorted, formatted diagnostics, then a count of errors; returns the number
// of warnings.
int print(std::ostream& err, std::vector<diagnostic> ds);

// Loads the rule set of `dir`, or the built-in one when `dir` is empty;
// prints every problem. `style` adds house-style warnings.
// `warnings`, when given, receives the number of warnings reported.
std::optional<rule_set> load(const std::string& dir, std::ostream& err, bool style = false,
                             int* warnings = nullptr);

int cmd_test(const std::string& dir, bool coverage, double min_coverage, std::ostream& out,
             std::ostream& err);

}  // namespace iptplan::cli

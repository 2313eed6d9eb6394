// Test cases of a rule set (`tests/*.toml`) and rule coverage.
//
// A test case names a client's findings and the plan items it expects:
//
//   description = "Jane, from the seed article"
//   findings = "clients/jane.toml"          # relative to this file, inside the rule set, or an
//                                          # inline [findings] table
//   [expect]                               # each must be in the plan
//   challenges = ["weak_relationship", "role_dispute[partner]"]
//   conclusions = ["problem_area.role_dispute", "risk.level = high"]
//   [absent]                               # each must not be
//   flags = ["risk_high"]
//
// Lists: flags, challenges, solutions, goals, conclusions, undecided (rule
// ids, or rule[key]), excluded, to_assess (finding paths the plan asks for). An id without a key matches every key.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/plan.hpp"

namespace iptplan {

struct test_case {
  std::string name;         // file name without .toml
  std::string file;         // display name of the case file
  std::string description;
  std::string findings_name, findings_text;
  std::map<std::string, std::vector<std::string>> expect, absent;
};

// Reads a case file. `resolve` maps a findings path relative to the case
// file to (display name, text), or nothing when it cannot be read.
using findings_resolver =
    std::function<std::optional<std::pair<std::string, std::string>>(const std::string& relative)>;
std::optional<test_case> read_test_case(const std::string& name, const std::string& text,
                                        const findings_resolver& resolve,
                                        std::vector<diagnostic>& diags);

struct case_result {
  bool passed = false;
  std::string report;  // for a failure: each difference with its why / why-not
  std::optional<evaluation> ev;
};

case_result run_test_case(const rule_set& rs, const test_case& tc, std::vector<diagnostic>& diags);

// How often each rule fired, was false, or was undecided across the cases.
struct coverage {
  struct rule_counts {
    int fired = 0, false_ = 0, undecided = 0;
  };
  std::vector<rule_counts> rules;  // by rule index
  void add(const evaluation& ev);
  explicit coverage(const program& p) : rules(p.rules.size()) {}
};

// Findings (and fields of lists) that no rule reads, in conditions or texts.
std::vector<std::string> unread_findings(const program& p);

}  // namespace iptplan

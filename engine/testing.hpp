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
#include <map>
#include <set>
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
  std::optional<client_data> client;  // the findings as read, for coverage
};

case_result run_test_case(const rule_set& rs, const test_case& tc, std::vector<diagnostic>& diags);

// How often each rule fired, was false, or was undecided across the cases;
// how often each of its top-level conditions was true, false or unknown
// (a condition after a false one in an `and` is not evaluated); and which
// choices of the enum findings the rules read no case records.
struct coverage {
  struct rule_counts {
    int fired = 0, false_ = 0, undecided = 0;
  };
  struct condition_counts {
    std::uint32_t rule = 0, node = 0;
    int true_ = 0, false_ = 0, unknown = 0;
  };
  std::vector<rule_counts> rules;  // by rule index
  std::vector<condition_counts> conditions;  // by rule, in source order
  // Enum findings (and fields) the rules read: path -> choices no case used.
  std::map<std::string, std::set<std::string>> unused_choices;

  explicit coverage(const program& p);
  void add(const evaluation& ev);
  void add(const client_data& c);

 private:
  const program* p_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::size_t> index_;  // (rule, node) -> conditions
};

// Findings (and fields of lists) that no rule reads, in conditions or texts.
std::vector<std::string> unread_findings(const program& p);

}  // namespace iptplan

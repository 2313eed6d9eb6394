// Which items a plan holds: the proposals of the rules that fired (or that
// propose provisionally), merged by (kind, id, key), with exclusions,
// solutions and goals whose challenges were all excluded, and work for
// challenges that are only provisional. No text is built here: the plan
// (plan.cpp) renders texts and explanations on top of this selection, and
// `iptplan batch` writes it as it is, from the fast evaluation.
#pragma once

#include <string>
#include <vector>

#include "engine/evaluator.hpp"

namespace iptplan {

struct selected_item {
  item_kind kind = item_kind::challenge;
  std::string id, key, severity;
  int priority = 0;
  std::vector<std::string> for_;  // challenges (full ids), sorted
  bool provisional = false;
  // Indices into evaluation::outcomes of the rules that propose it, sorted
  // by (rule id, element), one per rule and element: for a confirmed item
  // only the confirmed ones.
  std::vector<std::size_t> proposals;
  // For a solution or goal that is provisional because every challenge it
  // is for is provisional: those challenges (their findings confirm it).
  std::vector<std::string> confirm_from;
  // Rules still undecided (outcomes, by rule id) whose `exclude` would
  // remove it: while they are, the item is provisional (a safety item
  // excepted), and their findings confirm it or rule it out.
  std::vector<std::size_t> removable_by;
  std::string full_id() const { return key.empty() ? id : id + "[" + key + "]"; }
};

struct removed_item {
  selected_item item;
  std::vector<std::size_t> excluded_by;  // outcomes whose `exclude` removed it
  std::string note;                      // when removed with its challenges
};

struct selection {
  // Confirmed flags, challenges, solutions, goals, each group by severity,
  // priority, id and key; then the provisional items, by kind, then the same.
  std::vector<selected_item> items;
  std::vector<removed_item> excluded;   // by kind, id, key
  std::vector<std::size_t> undecided;   // outcomes whose result is unknown
};

// Works on a fast or an explain-mode evaluation alike.
selection select_items(const program& p, const client_data& c, const evaluation& ev);

}  // namespace iptplan

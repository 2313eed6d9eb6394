// Two plans compared item by item, from their JSON: what `verify` reports
// when a replay differs and what `diff` reports for each case.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace iptplan::store {

// The flags, challenges, solutions, goals and provisional items of a plan's
// JSON, by full id, in plan order.
struct plan_items {
  std::vector<std::string> order;
  std::map<std::string, nlohmann::json> by_id;
};
plan_items items_of(const nlohmann::json& plan);

// The rules behind an item (id and the hash of the rule's text), from the
// plan's shared explanations.
std::vector<std::pair<std::string, std::string>> rules_of(const nlohmann::json& plan,
                                                          const nlohmann::json& item);

// Why an item is in a plan, one part per proposing rule: "rule weak_alliance (alliance.rules:10): because ...".
std::vector<std::string> why_parts(const nlohmann::json& plan, const nlohmann::json& item);

// Why an item is in a plan, in one line: "rule weak_alliance (alliance.rules:10): because ...".
std::string why_line(const nlohmann::json& plan, const nlohmann::json& item);

std::string text_of(const nlohmann::json& item);

struct item_change {
  std::string change;  // added | removed | changed
  std::string id, kind;
  std::vector<std::string> fields;  // changed: text, status, priority, severity, rules, reasons
  nlohmann::json was, now;          // the item on each side (null when absent)
  std::string why_was, why_now;     // why_line() on each side ("" when absent)
  std::vector<std::pair<std::string, std::string>> rules_was, rules_now;  // rules_of() on each side
  std::vector<std::string> parts_was, parts_now;                          // why_parts() on each side
  // A removed item the new plan still proposes but an `exclude` removes:
  // the rules that exclude it there (a safety item gone is said as such).
  std::vector<std::string> excluded_by_now;
};
struct plan_changes {
  std::vector<item_change> items;
  std::vector<std::string> other_parts;  // top-level parts besides items that differ
};
// `rule_hashes`: a rule whose text changed counts as a change of the
// rules behind its items (verify); without, only which rules (diff).
plan_changes compare_plans(const nlohmann::json& was, const nlohmann::json& now, bool rule_hashes = true);

// The changes as lines: "- ...", "+ ...", "~ id: field was X, now Y".
std::vector<std::string> change_lines(const plan_changes& c);

// The changes as data, one object per item: {"change": "changed", "id",
// "kind", "fields": [{"field": "text", "was": ..., "now": ...}],
// "rules_was"/"rules_now": [{"id", "sha256"}]}; added and removed items
// carry the item ("was" or "now").
nlohmann::json changes_json(const plan_changes& c);

}  // namespace iptplan::store

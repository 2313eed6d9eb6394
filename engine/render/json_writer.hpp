// The JSON pieces shared by the plan, `why`, `why-not` and the commands
// that report diagnostics: rule references, explanation trees written once
// and referred to by key, items and diagnostics.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/plan.hpp"

namespace iptplan::jsonout {

using nlohmann::json;

json to_json(const rule_ref& r);
json to_json(const diagnostic& d);

// Explanation trees are shared: each rule outcome (a rule, for one element)
// is written once under "explanations", and every place that rests on it
// (an item's "because", a fact's "concluded_by", an exclusion) names it by
// its key. A plan whose rules each propose several items, or read the same
// derived facts, then carries each tree once.
class writer {
 public:
  json explanations = json::object();
  static std::string key_of(const reason& r);
  // A reference to `r`, registering its tree on first use.
  json ref(const reason& r);
  json refs(const std::vector<reason>& rs);
  json fact(const fact_explanation& f);
  json fact_fields(const fact_explanation& f);

 private:
  json full(const reason& r);
};

json to_json(writer& w, const plan_item& it);

// The plan as `plan --format json` writes it.
json plan_json(const plan& p);

// Parses JSON, refusing a key given twice in one object (nothing then), so
// that no input is read as "the last one wins".
std::optional<json> parse_strictly(const std::string& text);

// Dumps as every iptplan JSON output is written: two-space indent, bytes
// that are not UTF-8 replaced.
std::string dump(const json& j);

}  // namespace iptplan::jsonout

// What the service's source files share: JSON responses, planning the
// findings of a request, names for records.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/evaluator.hpp"
#include "engine/findings.hpp"
#include "engine/plan.hpp"
#include "server/service.hpp"

namespace iptplan::server::detail {

// The name findings from a request carry in diagnostics.
inline constexpr const char* kBodyName = "request body";
// Unknown keys are errors, and a request has no --allow-unknown to suggest.
inline constexpr findings_options kRequestOptions{false, false};

response json_response(int status, const nlohmann::json& j);
// 400 and the like: {"errors": [...], "warnings": [...]}, without any line
// of the findings.
response diagnostics_response(int status, const std::vector<diagnostic>& diags);
// What is wrong with a record's author name ("" when nothing).
std::string name_problem(const std::string& by);
bool is_json(const std::string& content_type);
// A CDS card's uuid from its name (the plan's key and the item), the same
// every time; with a record id (> 0), a version-8 UUID carrying it
// (cds_hooks.cpp).
std::string card_uuid(const std::string& name, std::int64_t record = 0);
// A card's summary: `text` when it has fewer than 140 characters (code
// points), else its first 138 and an ellipsis (CDS Hooks: "<140").
std::string summary_of(const std::string& text);


struct planned_request {
  std::optional<client_data> client;
  evaluation ev;
  std::optional<plan> p;
  std::vector<diagnostic> diags;
};
// Plans findings given as TOML, or as JSON when `json_body`.
// `allow_unknown`: unknown keys are warnings (a recorded plan made with
// --allow-unknown, replayed); a request's findings are read strictly.
planned_request plan_findings(const rule_set& rs, const std::string& body, bool json_body,
                              bool allow_unknown = false);

}  // namespace iptplan::server::detail

// FHIR R4: the vocabulary as a Questionnaire, so that an EHR's form can ask
// the interpersonal inventory, and a QuestionnaireResponse to it read back
// as findings, checked exactly as a findings file is.
//
// Every finding is one item whose linkId is the finding's path
// (`alliance.strength`); a list of records (`relationships`) is a repeating
// group whose items are its fields (`relationships.conflict`); findings are
// grouped by IPI component (linkId `component:<name>`). Skip logic becomes
// enableWhen. Uses the engine as a library; the engine knows nothing of it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/findings.hpp"
#include "engine/ruleset.hpp"
#include "engine/vocabulary.hpp"
#include "grammar/diagnostic.hpp"

namespace iptplan::fhir {

// FHIR JSON has no empty list, and an unanswered group is "not asked": a
// list of records the clinician has recorded as empty (no life events) is
// the yes/no item "<path>:none" beside its group, answered yes.
inline constexpr const char* kNoneSuffix = ":none";
inline constexpr const char* kNoneText = "None: the list is recorded as empty (answer yes only when asked and there are none)";

// The Questionnaire for a rule set's vocabulary.
nlohmann::json questionnaire(const rule_set& rs);

// A client's findings as a JSON findings object (as a .json findings file
// holds them): what was recorded, nothing else.
nlohmann::json findings_json(const program& prog, const client_data& c);

// Whether a JSON text is a FHIR QuestionnaireResponse (its resourceType).
bool is_questionnaire_response(const nlohmann::json& j);

// The findings a QuestionnaireResponse holds, as a JSON findings object
// (as a .json findings file). Structural problems (not a response, an item
// without a linkId, an answer that is not a value) are appended to `diags`
// (code fhir.response) and give nothing; answers to unknown questions or of
// the wrong type are kept, for the findings reader to report as it would
// in a findings file.
std::optional<nlohmann::json> response_findings(const nlohmann::json& response, const vocabulary& vocab,
                                                const std::string& name, std::vector<diagnostic>& diags);

// A QuestionnaireResponse to questionnaire(rs) holding `findings` (a JSON
// findings object, as a .json findings file): what an EHR form filled with
// them would send.
nlohmann::json response_of(const nlohmann::json& findings, const rule_set& rs);

// Findings from a JSON text: a QuestionnaireResponse, or a JSON findings
// object. Checked exactly as findings files are (read_findings_json).
std::optional<client_data> read_json_findings(const program& p, const std::string& name, const std::string& text,
                                              const findings_options& options, std::vector<diagnostic>& diags);

}  // namespace iptplan::fhir

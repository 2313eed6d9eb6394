#include "fhir/fhir.hpp"

#include <cctype>

#include <map>

#include "engine/program.hpp"

namespace iptplan::fhir {

// A rule set's name or version as a word of the questionnaire's canonical
// URL: letters, digits, '.', '_' and '-' kept, anything else '-' (a name
// with spaces or accents), so a response's canonical is a plain word.
static std::string canonical_word(const std::string& s) {
  std::string out;
  for (char c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 && static_cast<unsigned char>(c) < 0x80;
    out += ok || c == '.' || c == '_' || c == '-' ? c : '-';
  }
  return out.empty() ? std::string("-") : out;
}

using nlohmann::json;

namespace {

const char* kMinValue = "http://hl7.org/fhir/StructureDefinition/minValue";
const char* kMaxValue = "http://hl7.org/fhir/StructureDefinition/maxValue";

std::string value_system(const std::string& path) { return "urn:iptplan:vocabulary:" + path; }

const char* item_type(finding_type t) {
  switch (t) {
    case finding_type::integer: return "integer";
    case finding_type::number: return "decimal";
    case finding_type::boolean: return "boolean";
    case finding_type::string: return "string";
    case finding_type::enumeration: return "choice";
    case finding_type::list: return "choice";
    case finding_type::table_list: return "group";
  }
  return "string";
}

json item_of(const finding_decl& d, const std::string& link_id, const vocabulary& vocab) {
  json it = {{"linkId", link_id}, {"text", d.question.empty() ? d.path : d.question}};
  std::string type = item_type(d.type);
  if (d.type == finding_type::list) {
    it["repeats"] = true;
    type = d.values.empty() ? item_type(d.element) : "choice";
  }
  it["type"] = type;
  if (!d.values.empty()) {
    json options = json::array();
    for (const auto& v : d.values) {
      const std::string* label = d.label_of(v);
      options.push_back(
          {{"valueCoding", {{"system", value_system(link_id)}, {"code", v}, {"display", label ? *label : v}}}});
    }
    it["answerOption"] = std::move(options);
  }
  if (d.type == finding_type::integer || d.type == finding_type::number) {
    json ext = json::array();
    const char* key = d.type == finding_type::integer ? "valueInteger" : "valueDecimal";
    auto bound = [&](double v) { return d.type == finding_type::integer ? json(static_cast<long long>(v)) : json(v); };
    if (d.min) ext.push_back({{"url", kMinValue}, {key, bound(*d.min)}});
    if (d.max) ext.push_back({{"url", kMaxValue}, {key, bound(*d.max)}});
    if (!ext.empty()) it["extension"] = std::move(ext);
  }
  if (d.type == finding_type::table_list) {
    it["repeats"] = true;
    json fields = json::array();
    for (const auto* f : vocabulary::in_file_order(d.fields)) fields.push_back(item_of(*f, link_id + "." + f->path, vocab));
    it["item"] = std::move(fields);
  }
  if (!d.asked_if.empty()) {
    const finding_decl* gate = vocab.find(d.asked_if);
    json when = json::array();
    for (const auto& v : d.asked_if_values) {
      json w = {{"question", d.asked_if}, {"operator", "="}};
      if (gate && gate->type == finding_type::boolean) w["answerBoolean"] = v == "true";
      else w["answerCoding"] = {{"system", value_system(d.asked_if)}, {"code", v}};
      when.push_back(std::move(w));
    }
    // Several values of the gate: any of them opens the question.
    if (when.size() > 1) it["enableBehavior"] = "any";
    it["enableWhen"] = std::move(when);
  }
  return it;
}

}  // namespace

json questionnaire(const rule_set& rs) {
  const vocabulary& vocab = *rs.prog->vocab;
  std::map<std::string, json> groups;  // by component
  std::vector<std::string> order;
  for (const auto* decl : vocab.in_file_order()) {
    const finding_decl& d = *decl;
    std::string comp = d.component.empty() ? "other" : d.component;
    if (!groups.count(comp)) {
      order.push_back(comp);
      groups[comp] = {{"linkId", "component:" + comp}, {"type", "group"}, {"text", comp}, {"item", json::array()}};
    }
    groups[comp]["item"].push_back(item_of(d, d.path, vocab));
    if (d.type == finding_type::table_list) {
      groups[comp]["item"].push_back(
          {{"linkId", d.path + kNoneSuffix}, {"text", kNoneText}, {"type", "boolean"}});
    }
  }
  json items = json::array();
  for (const auto& c : order) items.push_back(std::move(groups[c]));
  return {{"resourceType", "Questionnaire"},
          {"url", "urn:iptplan:questionnaire:" + canonical_word(rs.info.name) + ":" + canonical_word(rs.info.version)},
          {"version", rs.info.version},
          {"name", "iptplan_interpersonal_inventory"},
          {"title", "Interpersonal inventory (" + rs.info.name + " " + rs.info.version + ")"},
          {"status", rs.status == "approved" ? "active" : rs.status == "retired" ? "retired" : "draft"},
          {"description",
           "The findings iptplan's rules read, by IPI component; linkId is the finding's path. No identifying "
           "data: a pseudonymous client id only."},
          {"item", std::move(items)}};
}

}  // namespace iptplan::fhir

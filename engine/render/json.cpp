// The JSON rendering: everything, including full explanation trees. Its
// shape is a contract with scripts (docs/json.md); add fields, never rename.
#include <nlohmann/json.hpp>

#include "engine/render/render.hpp"

namespace iptplan {

namespace {

using nlohmann::json;

json to_json(const fact_explanation& f);

json to_json(const rule_ref& r) {
  return {{"id", r.id},         {"title", r.title},   {"file", r.file},
          {"line", r.line},     {"source", r.source}, {"priority", r.priority},
          {"tags", r.tags}};
}

json to_json(const reason& r) {
  json ev = json::array();
  for (const auto& e : r.evidence) {
    json vals = json::array();
    for (const auto& [path, v] : e.values) vals.push_back({{"path", path}, {"value", v}});
    ev.push_back({{"condition", e.condition}, {"result", e.result}, {"values", vals}});
  }
  json derived = json::array();
  for (const auto& f : r.derived) derived.push_back(to_json(f));
  json j = {{"rule", to_json(r.rule)},
            {"because", r.because},
            {"evidence", ev},
            {"derived", derived}};
  j["element"] = r.element.empty() ? json(nullptr) : json(r.element);
  j["status"] = r.provisional ? "provisional" : "confirmed";
  if (r.provisional) {
    j["support"] = r.support;
    j["to_confirm"] = r.to_confirm;
  }
  return j;
}

json to_json(const fact_explanation& f) {
  json reasons = json::array();
  for (const auto& r : f.reasons) reasons.push_back(to_json(r));
  return {{"fact", f.fact},
          {"value", f.value},
          {"status", f.provisional ? "provisional" : "confirmed"},
          {"concluded_by", reasons},
          {"missing", f.missing},
          {"explained_above", f.repeated}};
}

json to_json(const plan_item& it) {
  json because = json::array();
  for (const auto& r : it.because) because.push_back(to_json(r));
  json j = {{"id", it.full_id()},
            {"base_id", it.id},
            {"key", it.key.empty() ? json(nullptr) : json(it.key)},
            {"kind", to_string(it.kind)},
            {"text", it.text},
            {"priority", it.priority},
            {"because", because}};
  j["status"] = it.provisional ? "provisional" : "confirmed";
  if (it.provisional) j["to_confirm"] = it.to_confirm;
  if (it.kind == item_kind::flag) j["severity"] = it.severity;
  if (it.kind == item_kind::solution || it.kind == item_kind::goal) j["for"] = it.for_;
  return j;
}

json items(const std::vector<plan_item>& xs) {
  json a = json::array();
  for (const auto& x : xs) a.push_back(to_json(x));
  return a;
}

}  // namespace

std::string render_json(const plan& p) {
  json j;
  j["draft"] = true;
  j["notice"] =
      "Draft for clinical review: a suggestion from rules, not a directive.";
  j["provenance"] = {{"rule_set", {{"name", p.prov.rule_set_name},
                                   {"version", p.prov.rule_set_version},
                                   {"status", p.prov.rule_set_status},
                                   {"review_date", p.prov.rule_set_review_date},
                                   {"origin", p.prov.rule_set_origin},
                                   {"sha256", p.prov.rule_set_sha256}}},
                     {"findings", {{"file", p.prov.findings_file}, {"sha256", p.prov.findings_sha256}}},
                     {"client_id", p.prov.client_id},
                     {"program", {{"name", "iptplan"}, {"version", p.prov.program_version}}}};
  j["flags"] = items(p.flags);
  j["challenges"] = items(p.challenges);
  j["solutions"] = items(p.solutions);
  j["goals"] = items(p.goals);
  j["provisional"] = items(p.provisional);
  json conclusions = json::array();
  for (const auto& c : p.conclusions) {
    json x = to_json(c);
    x["id"] = c.fact;
    x["text"] = c.fact + " = " + c.value;
    int prio = 0;
    for (const auto& r : c.reasons) prio = std::max(prio, r.rule.priority);
    x["priority"] = prio;
    x["because"] = x["concluded_by"];
    conclusions.push_back(std::move(x));
  }
  j["conclusions"] = conclusions;
  json excluded = json::array();
  for (const auto& e : p.excluded) {
    json x = to_json(e.item);
    json by = json::array();
    for (const auto& r : e.excluded_by) by.push_back(to_json(r));
    x["excluded_by"] = by;
    x["note"] = e.note;
    excluded.push_back(std::move(x));
  }
  j["excluded"] = excluded;
  json undecided = json::array();
  for (const auto& u : p.undecided) {
    undecided.push_back({{"id", u.rule.id},
                         {"text", u.rule.title},
                         {"priority", u.rule.priority},
                         {"rule", to_json(u.rule)},
                         {"element", u.element.empty() ? json(nullptr) : json(u.element)},
                         {"missing", u.missing},
                         {"because", json::array()}});
  }
  j["undecided"] = undecided;
  json assess = json::array();
  for (const auto& a : p.to_assess) {
    assess.push_back({{"finding", a.finding},
                      {"question", a.question},
                      {"component", a.component},
                      {"score", a.score},
                      {"safety", a.safety},
                      {"decides", a.items},
                      {"rules", a.rules}});
  }
  j["to_assess"] = assess;
  j["ask_next"] = assess;
  json diags = json::array();
  for (const auto& d : p.diagnostics) {
    diags.push_back({{"severity", to_string(d.level)},
                     {"code", d.code},
                     {"file", d.file},
                     {"line", d.line},
                     {"column", d.column},
                     {"message", d.message}});
  }
  j["diagnostics"] = diags;
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace iptplan

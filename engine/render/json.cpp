// The JSON rendering: everything, including every explanation tree, each
// written once under "explanations" and referred to by key. Its shape is a
// contract with scripts (docs/json.md).
#include <unordered_set>

#include "engine/render/json_writer.hpp"
#include "engine/render/render.hpp"

namespace iptplan {

namespace jsonout {

json to_json(const rule_ref& r) {
  return {{"id", r.id},         {"title", r.title},       {"file", r.file}, {"line", r.line},
          {"source", r.source}, {"priority", r.priority}, {"tags", r.tags}, {"sha256", r.sha256}};
}

std::string writer::key_of(const reason& r) {
  return r.element.empty() ? r.rule.id : r.rule.id + "@" + r.element;
}

json writer::ref(const reason& r) {
  std::string key = key_of(r);
  if (!explanations.contains(key)) {
    explanations[key] = json(nullptr);  // reserved first: trees may recurse
    json tree = full(r);
    explanations[key] = std::move(tree);
  }
  json j = {{"ref", key}, {"rule", r.rule.id}, {"status", r.provisional ? "provisional" : r.undecided ? "undecided" : "confirmed"}};
  j["element"] = r.element.empty() ? json(nullptr) : json(r.element);
  return j;
}

json writer::refs(const std::vector<reason>& rs) {
  json a = json::array();
  for (const auto& r : rs) a.push_back(ref(r));
  return a;
}

json writer::fact(const fact_explanation& f) {
  json j = fact_fields(f);
  // Only where it happens (a chain of 64 derived facts): plans keep their
  // shape.
  if (f.cut) j["explained_elsewhere"] = true;
  return j;
}

json writer::fact_fields(const fact_explanation& f) {
  return {{"fact", f.fact},
          {"value", f.value},
          {"status", f.provisional ? "provisional"
                     : f.undecided ? "undecided"
                                   : "confirmed"},
          {"concluded_by", refs(f.reasons)},
          {"missing", f.missing},
          {"more_missing", f.more_missing},
          {"explained_above", f.repeated}};
}

json writer::full(const reason& r) {
  json ev = json::array();
  for (const auto& e : r.evidence) {
    json vals = json::array();
    for (const auto& [path, v] : e.values) vals.push_back({{"path", path}, {"value", v}});
    json entry = {{"condition", e.condition}, {"result", e.result}, {"values", vals}, {"depth", e.depth}};
    if (!e.group.empty()) entry["group"] = e.group;
    ev.push_back(std::move(entry));
  }
  json derived = json::array();
  for (const auto& f : r.derived) derived.push_back(fact(*f));
  json j = {{"rule", to_json(r.rule)}, {"because", r.because}, {"evidence", ev}, {"derived", derived}};
  if (r.more_evidence > 0) j["more_evidence"] = r.more_evidence;
  j["element"] = r.element.empty() ? json(nullptr) : json(r.element);
  j["status"] = r.provisional ? "provisional" : r.undecided ? "undecided" : "confirmed";
  if (r.provisional) {
    j["support"] = r.support;
    j["to_confirm"] = r.to_confirm;
  }
  return j;
}

json to_json(writer& w, const plan_item& it) {
  json j = {{"id", it.full_id()},
            {"base_id", it.id},
            {"key", it.key.empty() ? json(nullptr) : json(it.key)},
            {"kind", to_string(it.kind)},
            {"text", it.text},
            {"priority", it.priority},
            {"because", w.refs(it.because)}};
  j["status"] = it.provisional ? "provisional" : "confirmed";
  if (it.provisional) {
    j["to_confirm"] = it.to_confirm;
    j["may_be_removed_by"] = w.refs(it.removable_by);
    if (it.more_removable_by) j["more_may_be_removed_by"] = it.more_removable_by;
    for (std::size_t i = 0; i < it.removable_by.size(); ++i) {
      j["may_be_removed_by"][i]["replaced_with"] = it.removable_by[i].replaced_with;
    }
  }
  if (it.kind == item_kind::flag) j["severity"] = it.severity;
  if (it.kind == item_kind::solution || it.kind == item_kind::goal) j["for"] = it.for_;
  if (it.kind == item_kind::goal) {
    j["due_session"] = it.due_session ? json(*it.due_session) : json(nullptr);
    j["due_passed"] = it.due_passed;
  }
  return j;
}

json to_json(const diagnostic& d) {
  json j = {{"severity", to_string(d.level)},
            {"code", d.code},
            {"file", d.file},
            {"line", d.line},
            {"column", d.column},
            {"message", d.message}};
  if (!d.notes.empty()) j["notes"] = d.notes;
  if (d.more_errors + d.more_warnings > 0) {
    j["not_listed"] = {{"errors", d.more_errors}, {"warnings", d.more_warnings}};
  }
  return j;
}

std::string dump(const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n"; }

}  // namespace jsonout

namespace {

using namespace jsonout;

json items(writer& w, const std::vector<plan_item>& xs) {
  json a = json::array();
  for (const auto& x : xs) a.push_back(to_json(w, x));
  return a;
}

}  // namespace

std::string render_json(const plan& p) { return dump(jsonout::plan_json(p)); }

jsonout::json jsonout::plan_json(const plan& p) {
  json j;
  j["draft"] = true;
  j["notice"] =
      "Draft for clinical review: a suggestion from rules, not a directive.";
  j["provenance"] = {{"rule_set", {{"name", p.prov.rule_set_name},
                                   {"version", p.prov.rule_set_version},
                                   {"status", p.prov.rule_set_status},
                                   {"approved", p.prov.approved_by.empty()
                                                    ? json(nullptr)
                                                    : json{{"by", p.prov.approved_by}, {"date", p.prov.approved_on}}},
                                   {"review_date", p.prov.rule_set_review_date},
                                   {"sha256", p.prov.rule_set_sha256}}},
                     {"findings", {{"sha256", p.prov.findings_sha256}}},
                     {"client_id", p.prov.client_id},
                     {"program", {{"name", "iptplan"}, {"version", p.prov.program_version}}}};
  j["current_session"] = p.current_session ? json(*p.current_session) : json(nullptr);
  writer w;
  j["flags"] = items(w, p.flags);
  j["challenges"] = items(w, p.challenges);
  j["solutions"] = items(w, p.solutions);
  j["goals"] = items(w, p.goals);
  j["provisional"] = items(w, p.provisional);
  json conclusions = json::array();
  for (const auto& c : p.conclusions) {
    json x = w.fact(c);
    x["id"] = c.fact;
    x["text"] = c.fact + " = " + c.value + (c.provisional ? " (provisional)" : "");
    int prio = 0;
    for (const auto& r : c.reasons) prio = std::max(prio, r.rule.priority);
    x["priority"] = prio;
    x["because"] = x["concluded_by"];
    conclusions.push_back(std::move(x));
  }
  j["conclusions"] = conclusions;
  json excluded = json::array();
  for (const auto& e : p.excluded) {
    json x = to_json(w, e.item);
    x["excluded_by"] = w.refs(e.excluded_by);
    if (e.more_excluded_by) x["more_excluded_by"] = e.more_excluded_by;
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
                         {"more_missing", u.more_missing},
                         {"because", json::array()}});
  }
  j["undecided"] = undecided;
  json assess = json::array();
  for (const auto& a : p.to_assess) {
    assess.push_back({{"finding", a.finding},
                      {"question", a.question},
                      {"component", a.component},
                      {"score", a.score},
                      {"top_priority", a.top_priority},
                      {"scope", a.scope},
                      {"safety", a.safety},
                      {"follow_up", a.follow_up},
                      {"asked_of", a.clinician ? "clinician" : "client"},
                      {"decides", a.items},
                      {"completes", a.completes.empty() ? json() : json(a.completes)},
                      {"until_answered", a.until_answered.empty() ? json() : json(a.until_answered)},
                      {"rules", a.rules}});
  }
  j["to_assess"] = assess;
  j["ask_next"] = assess;
  json diags = json::array();
  for (const auto& d : p.diagnostics) {
    json x = to_json(d);
    x.erase("notes");  // the plan's shape, as documented
    diags.push_back(std::move(x));
  }
  j["diagnostics"] = diags;
  j["explanations"] = std::move(w.explanations);
  return j;
}

}  // namespace iptplan

namespace iptplan::jsonout {

namespace {

// Builds the document from the parser's events, refusing a key given twice
// in one object. nlohmann's own callback parser looks through the whole
// parent of every object it closes (to drop a discarded value), which made
// a list of 500,000 items take minutes: this one does no such scan.
class strict_builder {
 public:
  explicit strict_builder(json& root) : root_(root) {}
  bool null() { return put(json(nullptr)); }
  bool boolean(bool v) { return put(json(v)); }
  bool number_integer(json::number_integer_t v) { return put(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return put(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t&) { return put(json(v)); }
  bool string(json::string_t& v) { return put(json(std::move(v))); }
  bool binary(json::binary_t& v) { return put(json::binary(std::move(v))); }
  bool start_object(std::size_t) { return open(json::object()); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(json::string_t& k) {
    if (!keys_.back().insert(k).second) return false;  // given twice
    key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

 private:
  json& root_;
  std::vector<json*> open_;                          // the arrays and objects being read
  std::vector<std::unordered_set<std::string>> keys_;  // the keys of each (none for an array)
  std::string key_;

  // The value's place: the root, the next element of the open array, or
  // the open object's member under the last key. A place in an array stays
  // valid while it is open: nothing is added to the array until it closes.
  json* place(json v) {
    if (open_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json& top = *open_.back();
    if (top.is_array()) {
      top.push_back(std::move(v));
      return &top.back();
    }
    auto& members = top.get_ref<json::object_t&>();
    return &members.insert_or_assign(std::move(key_), std::move(v)).first->second;
  }
  bool put(json v) {
    place(std::move(v));
    return true;
  }
  bool open(json v) {
    open_.push_back(place(std::move(v)));
    keys_.emplace_back();
    return true;
  }
  bool close() {
    open_.pop_back();
    keys_.pop_back();
    return true;
  }
};

}  // namespace

std::optional<json> parse_strictly(const std::string& text) {
  json j;
  strict_builder b(j);
  if (!json::sax_parse(text, &b)) return std::nullopt;
  return j;
}

}  // namespace iptplan::jsonout

#include "store/records.hpp"

#include <simdjson.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "engine/ruleset.hpp"

namespace iptplan::store {

using nlohmann::json;

std::string plan_body(const plan_facts& p) {
  json j = {{"program", {{"name", "iptplan"}, {"version", p.program_version}}},
            {"rule_set",
             {{"name", p.rule_set_name},
              {"version", p.rule_set_version},
              {"sha256", p.rule_set_sha256},
              {"snapshot", p.snapshot},
              {"rules", p.rule_hashes}}},
            {"findings", {{"sha256", p.findings_sha256}, {"text", p.findings}}},
            {"plan", {{"sha256", sha256_hex(p.plan_json)}, {"json", p.plan_json}}},
            {"client_id", p.client_id}};
  return j.dump();
}

namespace {

json parse_object(const std::string& body, const char* what) {
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object()) throw store_error(std::string("this record is not a ") + what + " record");
  return j;
}

}  // namespace

std::string string_at(const json& j, const char* pointer) {
  json::json_pointer p(pointer);
  if (!j.contains(p) || !j.at(p).is_string()) return "";
  return j.at(p).get<std::string>();
}

plan_facts read_plan_body(const std::string& body) { return read_plan_body(parse_object(body, "plan")); }

plan_facts read_plan_body(const json& j) {
  if (!j.is_object()) throw store_error("this record is not a plan record");
  plan_facts p;
  p.program_version = string_at(j, "/program/version");
  p.rule_set_name = string_at(j, "/rule_set/name");
  p.rule_set_version = string_at(j, "/rule_set/version");
  p.rule_set_sha256 = string_at(j, "/rule_set/sha256");
  p.snapshot = string_at(j, "/rule_set/snapshot");
  if (j.contains(json::json_pointer("/rule_set/rules")) && j["rule_set"]["rules"].is_object()) {
    for (auto& [k, v] : j["rule_set"]["rules"].items()) {
      if (v.is_string()) p.rule_hashes[k] = v.get<std::string>();
    }
  }
  p.findings = string_at(j, "/findings/text");
  p.findings_sha256 = string_at(j, "/findings/sha256");
  p.plan_json = string_at(j, "/plan/json");
  p.client_id = string_at(j, "/client_id");
  if (p.rule_set_sha256.empty() || p.plan_json.empty()) throw store_error("this record is not a plan record");
  return p;
}

std::optional<plan_heading> read_plan_heading(const std::string& body) {
  simdjson::dom::parser body_parser, plan_parser;
  simdjson::dom::element b, p;
  if (body_parser.parse(body).get(b) || !b.is_object()) return std::nullopt;
  auto text = [](simdjson::dom::element e, std::string_view pointer) {
    std::string_view v;
    return e.at_pointer(pointer).get_string().get(v) ? std::string() : std::string(v);
  };
  plan_heading h;
  h.client_id = text(b, "/client_id");
  h.rule_set_name = text(b, "/rule_set/name");
  h.rule_set_version = text(b, "/rule_set/version");
  h.rule_set_sha256 = text(b, "/rule_set/sha256");
  std::string_view plan_json;
  if (b.at_pointer("/plan/json").get_string().get(plan_json) || plan_json.empty() || h.rule_set_sha256.empty()) {
    return std::nullopt;
  }
  if (plan_parser.parse(plan_json.data(), plan_json.size()).get(p) || !p.is_object()) return h;
  // As items_of (plan_compare.cpp): each id once, over the item groups.
  std::set<std::string_view> ids;
  for (const char* group : {"flags", "challenges", "solutions", "goals", "provisional"}) {
    simdjson::dom::array items;
    if (p[group].get_array().get(items)) continue;
    for (auto it : items) {
      std::string_view id;
      if (!it.is_object() || it["id"].get_string().get(id)) continue;
      ids.insert(id);
    }
  }
  h.items = ids.size();
  // The rule set's status as the plan recorded it.
  h.status = text(p, "/provenance/rule_set/status");
  if (h.status == "approved") {
    h.approved_by = text(p, "/provenance/rule_set/approved/by");
    h.approved_on = text(p, "/provenance/rule_set/approved/date");
  }
  return h;
}

std::string review_body(const review_facts& r) {
  json ds = json::array();
  for (const auto& d : r.decisions) {
    json rules = json::array();
    for (const auto& [id, sha] : d.rules) rules.push_back({{"id", id}, {"sha256", sha}});
    json x = {{"item", d.item}, {"action", d.action}, {"rules", rules},
              {"original_text", d.original_text}};
    if (!d.reason.empty()) x["reason"] = d.reason;
    if (d.action == "edit") x["text"] = d.text;
    ds.push_back(std::move(x));
  }
  json j = {{"plan", {{"id", r.plan_id}, {"hash", r.plan_hash}}}, {"decisions", ds}};
  return j.dump();
}

review_facts read_review_body(const std::string& body) {
  json j = parse_object(body, "review");
  review_facts r;
  if (!j.contains("plan") || !j["plan"].is_object() || !j["plan"].contains("id") ||
      !j["plan"]["id"].is_number_integer()) {
    throw store_error("this record is not a review record");
  }
  r.plan_id = j["plan"]["id"].get<std::int64_t>();
  r.plan_hash = string_at(j, "/plan/hash");
  if (j.contains("decisions") && j["decisions"].is_array()) {
    for (const auto& x : j["decisions"]) {
      if (!x.is_object()) continue;
      decision d;
      d.item = string_at(x, "/item");
      d.action = string_at(x, "/action");
      d.reason = string_at(x, "/reason");
      d.text = string_at(x, "/text");
      d.original_text = string_at(x, "/original_text");
      if (x.contains("rules") && x["rules"].is_array()) {
        for (const auto& rr : x["rules"]) d.rules.push_back({string_at(rr, "/id"), string_at(rr, "/sha256")});
      }
      r.decisions.push_back(std::move(d));
    }
  }
  return r;
}

std::vector<rule_overrides> overrides(const std::vector<record>& records, const std::string& since) {
  // The last decision on each (plan, item) counts, with who made it and
  // when (the review record's author and time).
  struct made {
    decision d;
    std::string by, created;
    std::int64_t record = 0;
  };
  std::map<std::pair<std::int64_t, std::string>, made> last;
  for (const auto& r : records) {
    if (r.kind != "review" || r.created < since) continue;
    review_facts f;
    try {
      f = read_review_body(r.body);
    } catch (const store_error&) {
      continue;
    }
    for (auto& d : f.decisions) {
      auto key = std::make_pair(f.plan_id, d.item);  // before d is moved from
      last[key] = {std::move(d), r.by, r.created, r.id};
    }
  }
  std::map<std::string, rule_overrides> by_rule;
  for (const auto& [key, m] : last) {
    const decision& d = m.d;
    for (const auto& [rule, sha] : d.rules) {
      auto& o = by_rule[rule];
      o.rule = rule;
      if (d.action == "accept") ++o.accepted;
      if (d.action == "edit") ++o.edited;
      if (d.action == "reject") ++o.rejected;
      if (!d.reason.empty()) {
        o.reasons.push_back(std::string(d.action == "reject" ? "rejected" : "edited") + " (" + d.item +
                            ", plan " + std::to_string(key.first) + ", review record " + std::to_string(m.record) + ", by " + m.by + " on " +
                            m.created.substr(0, 10) + "): " + d.reason);
        o.reasoned_decisions.push_back(
            {d.action, d.item, key.first, m.by, m.created.substr(0, 10), d.reason, m.record, sha});
      }
      if (std::find(o.hashes.begin(), o.hashes.end(), sha) == o.hashes.end()) o.hashes.push_back(sha);
    }
  }
  std::vector<rule_overrides> out;
  for (auto& [rule, o] : by_rule) out.push_back(std::move(o));
  // Most overridden first: what a clinical lead reviews.
  std::stable_sort(out.begin(), out.end(), [](const rule_overrides& a, const rule_overrides& b) {
    return std::make_tuple(a.rejected + a.edited, a.rejected) > std::make_tuple(b.rejected + b.edited, b.rejected);
  });
  return out;
}

}  // namespace iptplan::store

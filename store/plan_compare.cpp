#include "store/plan_compare.hpp"

#include <algorithm>

#include "grammar/diagnostic.hpp"

namespace iptplan::store {

using nlohmann::json;

plan_items items_of(const json& plan) {
  plan_items out;
  for (const char* group : {"flags", "challenges", "solutions", "goals", "provisional"}) {
    if (!plan.contains(group) || !plan[group].is_array()) continue;
    for (const auto& it : plan[group]) {
      if (!it.is_object() || !it.contains("id") || !it["id"].is_string()) continue;
      std::string id = it["id"].get<std::string>();
      if (out.by_id.emplace(id, it).second) out.order.push_back(id);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> rules_of(const json& plan, const json& item) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!item.contains("because") || !item["because"].is_array()) return out;
  for (const auto& ref : item["because"]) {
    std::string key = ref.value("ref", "");
    if (!plan.contains("explanations") || !plan["explanations"].contains(key)) continue;
    const json& rule = plan["explanations"][key]["rule"];
    std::pair<std::string, std::string> r{rule.value("id", ""), rule.value("sha256", "")};
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  }
  return out;
}

std::vector<std::string> why_parts(const json& plan, const json& item) {
  std::vector<std::string> out;
  if (!item.contains("because") || !item["because"].is_array()) return out;
  for (const auto& ref : item["because"]) {
    std::string key = ref.value("ref", "");
    if (!plan.contains("explanations") || !plan["explanations"].contains(key)) continue;
    const json& e = plan["explanations"][key];
    const json& rule = e["rule"];
    std::string one = "rule " + rule.value("id", "") + " (" + rule.value("file", "") + ":" +
                      std::to_string(rule.value("line", 0)) + ")";
    if (e.contains("element") && e["element"].is_string()) one += " for " + e["element"].get<std::string>();
    std::string because = e.value("because", "");
    if (!because.empty()) one += ": " + because;
    out.push_back(std::move(one));
  }
  return out;
}

std::string why_line(const json& plan, const json& item) {
  std::string out;
  for (const auto& one : why_parts(plan, item)) out += (out.empty() ? "" : "; ") + one;
  return out;
}

std::string text_of(const json& item) { return item.value("text", ""); }

namespace {

// The reasons in words behind an item (each proposing rule's `because`,
// as rendered for this client), in order.
std::vector<std::string> reasons_of(const json& plan, const json& item) {
  std::vector<std::string> out;
  if (!item.contains("because") || !item["because"].is_array() || !plan.contains("explanations")) return out;
  for (const auto& ref : item["because"]) {
    std::string key = ref.value("ref", "");
    if (plan["explanations"].contains(key)) out.push_back(plan["explanations"][key].value("because", ""));
  }
  return out;
}

}  // namespace

plan_changes compare_plans(const json& was, const json& now, bool rule_hashes) {
  plan_changes c;
  auto a = items_of(was), b = items_of(now);
  for (const auto& id : a.order) {
    const json& x = a.by_id[id];
    auto found = b.by_id.find(id);
    if (found == b.by_id.end()) {
      item_change ch{"removed", id, x.value("kind", "item"), {}, x, json(), why_line(was, x), "",
                     rules_of(was, x), {}, why_parts(was, x), {}, {}};
      if (now.contains("excluded") && now["excluded"].is_array()) {
        for (const auto& e : now["excluded"]) {
          if (!e.is_object() || e.value("id", std::string()) != id || !e.contains("excluded_by")) continue;
          for (const auto& by : e["excluded_by"]) {
            if (by.is_object() && by.contains("rule") && by["rule"].is_string()) {
              ch.excluded_by_now.push_back(by["rule"].get<std::string>());
            }
          }
        }
      }
      c.items.push_back(std::move(ch));
      continue;
    }
    const json& y = found->second;
    item_change ch{"changed", id, x.value("kind", "item"), {}, x, y, why_line(was, x), why_line(now, y),
                   rules_of(was, x), rules_of(now, y), why_parts(was, x), why_parts(now, y), {}};
    for (const char* field : {"text", "status", "priority", "severity", "due_session", "due_passed"}) {
      if (x.value(field, json()) != y.value(field, json())) ch.fields.push_back(field);
    }
    auto ids = [](const std::vector<std::pair<std::string, std::string>>& rs) {
      std::vector<std::string> out;
      for (const auto& r : rs) out.push_back(r.first);
      return out;
    };
    if (rule_hashes ? ch.rules_was != ch.rules_now : ids(ch.rules_was) != ids(ch.rules_now)) {
      ch.fields.push_back("rules");
    }
    // The reason a clinician reads is part of the recommendation: a
    // reworded `because` changes the plan as much as a reworded text.
    if (reasons_of(was, x) != reasons_of(now, y)) ch.fields.push_back("reasons");
    if (!ch.fields.empty()) c.items.push_back(std::move(ch));
  }
  for (const auto& id : b.order) {
    if (a.by_id.count(id)) continue;
    const json& y = b.by_id[id];
    c.items.push_back({"added", id, y.value("kind", "item"), {}, json(), y, "", why_line(now, y), {},
                       rules_of(now, y), {}, why_parts(now, y), {}});
  }
  for (auto& [key, value] : now.items()) {
    if (key == "flags" || key == "challenges" || key == "solutions" || key == "goals" || key == "provisional" ||
        key == "explanations") {
      continue;
    }
    if (!was.contains(key)) {
      c.other_parts.push_back(key);
    } else if (was[key] != value) {
      // Where inside it (provenance.rule_set.status), a few places at most.
      auto patch = json::diff(was[key], value);
      std::vector<std::string> places;
      for (const auto& op : patch) {
        std::string path = op.value("path", "");
        for (auto& ch : path) ch = ch == '/' ? '.' : ch;
        std::string place = key + path;
        if (std::find(places.begin(), places.end(), place) == places.end()) places.push_back(place);
      }
      if (places.empty() || places.size() > 5) {
        c.other_parts.push_back(key + (places.size() > 5 ? " (" + std::to_string(places.size()) + " places)" : ""));
      } else {
        for (auto& pl : places) c.other_parts.push_back(pl);
      }
    }
  }
  // A part the recorded plan has and a plan never has (added by hand).
  if (was.is_object()) {
    for (auto& [key, value] : was.items()) {
      if (!now.contains(key)) c.other_parts.push_back(key + " (not in a plan)");
    }
  }
  return c;
}

nlohmann::json changes_json(const plan_changes& c) {
  auto rules = [](const std::vector<std::pair<std::string, std::string>>& rs) {
    json a = json::array();
    for (const auto& [id, sha] : rs) a.push_back({{"id", id}, {"sha256", sha}});
    return a;
  };
  json out = json::array();
  for (const auto& ch : c.items) {
    json x = {{"change", ch.change}, {"id", ch.id}, {"kind", ch.kind}};
    if (ch.change == "removed") {
      x["was"] = ch.was;
      if (!ch.excluded_by_now.empty()) x["excluded_by_now"] = ch.excluded_by_now;
    }
    if (ch.change == "added") x["now"] = ch.now;
    if (ch.change == "changed") {
      json fields = json::array();
      for (const auto& f : ch.fields) {
        if (f == "rules") continue;  // given as rules_was and rules_now
        if (f == "reasons") {
          fields.push_back({{"field", "reasons"}, {"was", ch.parts_was}, {"now", ch.parts_now}});
        } else {
          fields.push_back({{"field", f}, {"was", ch.was.value(f, json())}, {"now", ch.now.value(f, json())}});
        }
      }
      x["fields"] = std::move(fields);
    }
    x["rules_was"] = rules(ch.rules_was);
    x["rules_now"] = rules(ch.rules_now);
    out.push_back(std::move(x));
  }
  return out;
}

namespace {

// At most `max` bytes of `s` (cut between UTF-8 characters), then how long
// it was: a recorded plan is a file like any other, and an id or text in
// it (100,000 characters, or edited by hand) never makes a line of its
// size.
std::string clipped(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "... (" + std::to_string(s.size()) + " bytes)";
}

}  // namespace

std::vector<std::string> change_lines(const plan_changes& c) {
  std::vector<std::string> lines;
  constexpr std::size_t kId = 120, kText = 400;
  auto names = [](const std::vector<std::pair<std::string, std::string>>& rs) {
    std::string s;
    for (const auto& [id, sha] : rs) s += (s.empty() ? "" : ", ") + id + " " + sha.substr(0, 12);
    return s;
  };
  for (const auto& ch : c.items) {
    const std::string id = clipped(ch.id, kId), kind = clipped(ch.kind, kId);
    if (ch.change == "removed") {
      lines.push_back("- " + kind + " " + id + " is no longer proposed: " + clipped(text_of(ch.was), kText));
    } else if (ch.change == "added") {
      lines.push_back("+ " + kind + " " + id + " is newly proposed: " + clipped(text_of(ch.now), kText));
    } else {
      for (const auto& f : ch.fields) {
        if (f == "rules") continue;
        if (f == "reasons") {
          lines.push_back("~ " + id + ": its reason changed; it was: " + clipped(ch.why_was, 2 * kText) +
                          "; it is now: " + clipped(ch.why_now, 2 * kText));
          continue;
        }
        lines.push_back("~ " + id + ": " + clipped(f, kId) + " was " +
                        clipped(ch.was.value(f, json()).dump(), kText) + ", now " +
                        clipped(ch.now.value(f, json()).dump(), kText));
      }
      if (std::find(ch.fields.begin(), ch.fields.end(), "rules") != ch.fields.end()) {
        lines.push_back("~ " + id + ": proposed by " + clipped(names(ch.rules_was), kText) + "; now by " +
                        clipped(names(ch.rules_now), kText));
      }
    }
  }
  if (!c.other_parts.empty()) {
    std::string others;
    for (const auto& k : c.other_parts) others += (others.empty() ? "" : ", ") + clipped(k, kId);
    lines.push_back("  other parts that differ: " + others);
  }
  // Ids and texts come from a plan file or a store: each line stays one
  // line, its control characters escaped.
  for (auto& l : lines) l = printable(l);
  return lines;
}

}  // namespace iptplan::store

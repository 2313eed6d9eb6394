// The answers of `why` (how an item got into the plan) and `why-not` (what
// kept it out), shared by the command line and the test runner.
#include <algorithm>
#include <set>

#include "engine/render/json_writer.hpp"
#include "engine/render/render.hpp"

namespace iptplan {

std::string render_why(const plan_item& it) {
  // A provisional item is not part of the plan until it is confirmed: it is
  // proposed, in the to-confirm section.
  std::string out = it.provisional ? it.full_id() + " is not yet in the plan: it is proposed provisionally, as a " +
                                         to_string(it.kind) + " to confirm: " + hang(it.text, 2) + "\n"
                                   : it.full_id() + " is in the plan as a " + to_string(it.kind) + ": " + hang(it.text, 2) + "\n";
  if (it.provisional) {
    bool proposed_outright = std::any_of(it.because.begin(), it.because.end(),
                                         [](const reason& r) { return !r.provisional; });
    if (!it.removable_by.empty()) {
      out += "  It is not confirmed: " + removable_note(it) + ".\n";
    }
    if (!proposed_outright) {
      out += std::string(it.removable_by.empty() ? "  It is not confirmed" : "  Nor is it proposed outright") +
             ": the condition of every rule proposing it is still unknown, and\n"
             "  each rule's 'provisional when' support holds.\n";
    } else if (it.removable_by.empty()) {
      out += "  It is not confirmed: it is work for challenges that are themselves only provisional.\n";
    }
    out += "  These findings would confirm it or rule it out:";
    for (std::size_t i = 0; i < it.to_confirm.size(); ++i) out += (i ? ", " : " ") + it.to_confirm[i];
    out += "\n";
  }
  if (!it.for_.empty()) {
    out += "  for:";
    for (std::size_t i = 0; i < it.for_.size(); ++i) out += (i ? ", " : " ") + it.for_[i];
    out += "\n";
  }
  if (it.due_session) {
    out += "  due: by session " + std::to_string(*it.due_session) +
           (it.due_passed ? ", which has passed: record whether it was met, and if not, set a new session\n" : "\n");
  }
  out += "It was proposed by " + std::to_string(it.because.size()) +
         (it.because.size() == 1 ? " rule" : " rules") + ":\n";
  for (const auto& r : it.because) append_reason_tree(out, r, 2);
  if (!it.removable_by.empty()) {
    out += "These rules would remove it, and are not yet decided:\n";
    for (const auto& r : it.removable_by) append_reason_tree(out, r, 2);
    if (it.more_removable_by) {
      out += "  ... and " + std::to_string(it.more_removable_by) + " more rule outcomes, not shown\n";
    }
  }
  return printable(out, true);
}

namespace {

// One rule that could propose the item (or conclude the fact), with what
// happened to it for this client.
struct why_not_entry {
  std::uint32_t rule = 0;
  bool matched = false;  // false: no entry of its list matches the key asked
  reason why;
  std::string outcome;   // fired | unsettled | excluded | not_fired | provisional | undecided | no_entry
  std::string proposed;  // the full item id it proposed (items)
  std::vector<std::string> missing;
  bool more_missing = false;
};

struct why_not_data {
  std::string query, base, key;
  bool fact = false, undecided = false;
  std::string value;  // a decided fact's value as `why` shows it: false, none
  std::vector<const excluded_item*> excluded;
  std::vector<why_not_entry> rules;
  // Rules that fired with an `exclude` of the item (for its key, or for
  // every key): they keep it out whatever the rules above decide.
  std::vector<why_not_entry> removers;
};

why_not_data gather(const rule_set& rs, const client_data& c, const evaluation& ev, const plan& p,
                    const std::string& item) {
  why_not_data d;
  d.query = item;
  d.base = item.substr(0, item.find('['));
  if (auto open = item.find('['); open != std::string::npos && item.back() == ']') {
    d.key = item.substr(open + 1, item.size() - open - 2);
  }
  std::vector<std::uint32_t> rules;
  if (int f = rs.prog->fact_index(item); f >= 0) {
    d.fact = true;
    const value& v = ev.facts[static_cast<std::size_t>(f)];
    d.undecided = v.is_unknown();
    if (!d.undecided) d.value = v.kind == vkind::boolean ? (v.b ? "true" : "false") : show_value(*rs.prog, c, v);
    rules = rs.prog->facts[static_cast<std::size_t>(f)].concluders;
  } else {
    rules = rs.prog->rules_proposing(d.base);
    for (const auto& e : p.excluded) {
      if (e.item.full_id() == item || (d.key.empty() && e.item.id == d.base)) d.excluded.push_back(&e);
    }
  }
  if (!d.fact) {
    for (auto ri : rs.prog->rules_excluding(d.base)) {
      for (const auto& o : ev.outcomes) {
        if (o.rule != ri || o.result != truth::yes) continue;
        why_not_entry x;
        x.rule = ri;
        x.why = explain_outcome(rs, c, ev, o);
        if (!d.key.empty() && !x.why.key.empty() && x.why.key != d.key) continue;
        x.matched = true;
        x.outcome = "removes";
        x.proposed = x.why.key.empty() || !d.key.empty() ? d.query : d.base + "[" + x.why.key + "]";
        d.removers.push_back(std::move(x));
      }
    }
  }
  for (auto ri : rules) {
    bool any = false;
    for (const auto& o : ev.outcomes) {
      if (o.rule != ri) continue;
      why_not_entry x;
      x.rule = ri;
      x.why = explain_outcome(rs, c, ev, o);
      if (!d.key.empty() && !x.why.key.empty() && x.why.key != d.key) continue;
      any = true;
      x.matched = true;
      x.proposed = d.fact ? item : x.why.key.empty() ? d.base : d.base + "[" + x.why.key + "]";
      if (o.result == truth::yes) {
        bool excluded = std::any_of(p.excluded.begin(), p.excluded.end(),
                                    [&](const excluded_item& e) { return e.item.full_id() == x.proposed; });
        bool unsettled = !d.fact && std::any_of(p.provisional.begin(), p.provisional.end(), [&](const plan_item& it) {
          return it.full_id() == x.proposed && !it.removable_by.empty();
        });
        x.outcome = excluded && !d.fact ? "excluded" : unsettled ? "unsettled" : "fired";
      } else if (o.result == truth::no) {
        x.outcome = "not_fired";
      } else {
        x.outcome = o.provisional ? "provisional" : "undecided";
        x.missing = as_asked(*rs.prog, c, o.missing, true);
        x.more_missing = o.more_missing;
      }
      d.rules.push_back(std::move(x));
    }
    if (!any) {
      why_not_entry x;
      x.rule = ri;
      x.outcome = "no_entry";
      d.rules.push_back(std::move(x));
    }
  }
  return d;
}

std::string missing_words(const why_not_entry& x) {
  std::string out;
  for (std::size_t i = 0; i < x.missing.size(); ++i) out += (i ? ", " : " ") + x.missing[i];
  if (x.more_missing) out += " and others";
  return out;
}

}  // namespace

std::optional<unknown_query> unknown_item(const rule_set& rs, const std::string& item) {
  // The form first: ID or ID[KEY], one key in brackets, nothing after it
  // ('[partner]', 'role_dispute[', 'role_dispute[partner]x' are no ids).
  auto open = item.find('[');
  std::string base = item.substr(0, open);
  bool name_ok = !base.empty() && std::all_of(base.begin(), base.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
  bool key_ok = open == std::string::npos ||
                (item.size() > open + 2 && item.back() == ']' &&
                 item.find_first_of("[]", open + 1) == item.size() - 1);
  if (!name_ok || !key_ok) {
    return unknown_query{"not an item id: write the id, or the id and one key in brackets (role_dispute, "
                         "role_dispute[partner], risk.level)",
                         ""};
  }
  if (rs.prog->fact_index(item) >= 0 || !rs.prog->rules_proposing(base).empty()) return std::nullopt;
  std::vector<std::string> names;
  for (const auto& r : rs.prog->rules) {
    for (const auto& a : r.actions) {
      if (a.kind != ast::action_kind::conclude && a.kind != ast::action_kind::exclude) names.push_back(a.id);
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (const auto& f : rs.prog->facts) names.push_back(f.path);
  // A finding too (`why` answers for one): 'perinatl.status' is meant as
  // 'perinatal.status'. A list's fields by their list's path and name.
  for (const auto& f : rs.prog->vocab->findings()) {
    names.push_back(f.path);
    for (const auto& field : f.fields) names.push_back(f.path + "." + field.path);
  }
  // The name as given, cut when long: a message's size never follows it.
  std::string name = base.size() > 80 ? base.substr(0, 40) + "... (" + std::to_string(base.size()) + " bytes)" : base;
  return unknown_query{"no rule proposes an item '" + printable(name) + "' or concludes a fact of that name, and no "
                       "finding has that name",
                       nearest_name(base, names)};
}

std::optional<unknown_query> unknown_key(const rule_set& rs, const client_data& c, const std::string& item) {
  auto open = item.find('[');
  if (open == std::string::npos || item.back() != ']' || rs.prog->fact_index(item) >= 0) return std::nullopt;
  std::string base = item.substr(0, open), key = item.substr(open + 1, item.size() - open - 2);
  std::vector<std::string> keys;
  std::set<std::int32_t> lists;
  for (auto ri : rs.prog->rules_proposing(base)) {
    std::int32_t l = rs.prog->rules[ri].each_list;
    if (l < 0 || !lists.insert(l).second) continue;
    const value& v = c.slots[static_cast<std::size_t>(l)];
    if (v.kind != vkind::table) continue;
    for (const auto& e : c.tables[v.ref]) {
      if (e.key == key) return std::nullopt;
      keys.push_back(e.key);
    }
  }
  // With no list, or none recorded, the rules' own answer says so.
  if (keys.empty()) return std::nullopt;
  std::string list;
  for (auto l : lists) list += (list.empty() ? "" : " or ") + rs.prog->vocab->findings()[static_cast<std::size_t>(l)].path;
  std::string near = nearest_name(key, keys);
  return unknown_query{"no entry of " + list + " in this findings file is named " + quoted_if_name(key, "like that") +
                           ", so nothing is proposed for it",
                       near.empty() ? std::string() : base + "[" + near + "]"};
}

std::string render_why_not(const rule_set& rs, const client_data& c, const evaluation& ev,
                           const plan& p, const std::string& item) {
  why_not_data d = gather(rs, c, ev, p, item);
  bool provisional = !d.fact && std::any_of(p.provisional.begin(), p.provisional.end(),
                                            [&](const plan_item& it) { return it.named_by(item); });
  std::string out = provisional  ? item + " is not in the confirmed plan: it is in the to-confirm section (see 'why " + item + "').\n"
                    : !d.fact      ? item + " is not in the plan.\n"
                    : d.undecided ? item + " is undecided for this client.\n"
                    : d.value == "false" ? item + " is false for this client: no rule concluding it fired.\n"
                                  : item + " has no value for this client.\n";
  for (const auto* e : d.excluded) {
    out += "\n" + e->item.full_id() + " was proposed, then excluded" +
           (e->note.empty() ? "" : " (" + e->note + ")") + ":\n";
    for (const auto& r : e->excluded_by) {
      out += "  excluded by:\n";
      append_reason_tree(out, r, 4);
    }
    if (e->more_excluded_by) {
      out += "  excluded by " + std::to_string(e->more_excluded_by) + " more rule outcomes, not shown\n";
    }
    for (const auto& r : e->item.because) {
      out += "  proposed by:\n";
      append_reason_tree(out, r, 4);
    }
  }
  // Whatever the rules that could propose it decide, a rule that fired
  // with an exclude keeps it out (a safety rule, often).
  bool shown_above = !d.excluded.empty();
  if (!d.removers.empty() && !shown_above) {
    out += "\nRules that fired and remove " + d.base + (d.key.empty() ? "" : " for " + d.key) +
           ", whatever the rules below decide:\n";
    for (const auto& x : d.removers) {
      out += "\n";
      append_reason_tree(out, x.why, 2);
      out += "    => fired; it excludes " + x.proposed + "\n";
    }
  }
  out += "\nRules that could " + std::string(d.fact ? "conclude " : "propose ") + d.base + ":\n";
  for (const auto& x : d.rules) {
    const compiled_rule& r = rs.prog->rules[x.rule];
    if (!x.matched) {
      out += "\n  rule " + r.id + " (" + rs.prog->base_of(r) + ":" + std::to_string(r.line) +
             "): no entry of its list matches " + item + "\n";
      continue;
    }
    out += "\n";
    append_reason_tree(out, x.why, 2, x.outcome == "not_fired");
    if (x.outcome == "excluded") {
      out += "    => fired; its item " + x.proposed + " was excluded (see above)\n";
    } else if (x.outcome == "fired") {
      out += d.fact ? "    => fired; it concludes " + item + " (see 'why " + item + "')\n"
                    : "    => fired; its item " + x.proposed + " is in the plan (see 'why " + x.proposed + "')\n";
    } else if (x.outcome == "unsettled") {
      out += "    => fired, but a rule not yet decided would remove its item: " + x.proposed +
             " is in the plan's to-confirm section (see 'why " + x.proposed + "')\n";
    } else if (x.outcome == "not_fired") {
      out += "    => did not fire: the conditions marked [no] were false\n";
    } else if (x.outcome == "provisional") {
      out += "    => proposed provisionally (its support '" + x.why.support + "' holds): " +
             (d.fact ? item + " has a provisional value" : x.proposed + " is in the plan's to-confirm section") +
             "; would be decided by" + missing_words(x) + "\n";
    } else {
      out += "    => undecided: would be decided by" + missing_words(x) + "\n";
    }
  }
  return printable(out, true);
}

std::string render_why_fact(const fact_explanation& f) {
  std::string out;
  if (f.undecided) {
    out = f.fact + " is undecided: no rule concluding it has fired, and some are still unknown.\n";
  } else if (!f.holds) {
    out = f.fact + " is " + f.value + ": no rule concluding it fired (see 'why-not " + f.fact + "').\n";
    return printable(out, true);
  } else {
    out = f.fact + " = " + f.value +
          (f.provisional ? " (provisional: not all its rules need is on file yet, and what is on file supports it)"
                         : "") +
          "\n";
  }
  append_fact_tree(out, f, 2);
  return printable(out, true);
}

bool fact_holds(const fact_explanation& f) { return f.holds; }

std::string render_why_json(const std::string& query, const std::vector<const plan_item*>& items) {
  jsonout::writer w;
  jsonout::json a = jsonout::json::array();
  for (const auto* it : items) a.push_back(jsonout::to_json(w, *it));
  // In the plan: confirmed. An item proposed only provisionally is in the
  // to-confirm section, not yet in the plan.
  bool confirmed = std::any_of(items.begin(), items.end(), [](const plan_item* it) { return !it->provisional; });
  jsonout::json j = {{"query", query},
                     {"in_plan", confirmed},
                     {"status", confirmed ? "confirmed" : items.empty() ? "absent" : "provisional"},
                     {"items", a}};
  j["explanations"] = std::move(w.explanations);
  return jsonout::dump(j);
}

std::string render_why_fact_json(const std::string& query, const fact_explanation& f) {
  jsonout::writer w;
  jsonout::json j = {{"query", query}, {"holds", fact_holds(f)}, {"fact", w.fact(f)}};
  j["explanations"] = std::move(w.explanations);
  return jsonout::dump(j);
}

std::string render_why_not_json(const rule_set& rs, const client_data& c, const evaluation& ev, const plan& p,
                                const std::string& item) {
  why_not_data d = gather(rs, c, ev, p, item);
  jsonout::writer w;
  jsonout::json excluded = jsonout::json::array();
  for (const auto* e : d.excluded) {
    jsonout::json x = jsonout::to_json(w, e->item);
    x["excluded_by"] = w.refs(e->excluded_by);
    if (e->more_excluded_by) x["more_excluded_by"] = e->more_excluded_by;
    x["note"] = e->note;
    excluded.push_back(std::move(x));
  }
  jsonout::json rules = jsonout::json::array();
  for (const auto& x : d.rules) {
    const compiled_rule& r = rs.prog->rules[x.rule];
    jsonout::json e = {{"rule", r.id}, {"outcome", x.outcome}};
    if (x.matched) {
      e["explanation"] = w.ref(x.why);
      e[d.fact ? "concludes" : "proposes"] = x.proposed;
      // The tree's status says how the rule ended for this client.
      if (x.outcome == "not_fired" || x.outcome == "undecided") {
        w.explanations[e["explanation"]["ref"].get<std::string>()]["status"] = x.outcome;
        e["explanation"]["status"] = x.outcome;
      }
      if (x.outcome == "provisional" || x.outcome == "undecided") {
        e["missing"] = x.missing;
        e["more_missing"] = x.more_missing;
      }
    }
    rules.push_back(std::move(e));
  }
  jsonout::json removed_by = jsonout::json::array();
  for (const auto& x : d.removers) {
    removed_by.push_back({{"rule", rs.prog->rules[x.rule].id}, {"excludes", x.proposed}, {"explanation", w.ref(x.why)}});
  }
  jsonout::json j = {{"query", item},     {"kind", d.fact ? "fact" : "item"}, {"excluded", excluded},
                     {"removed_by", removed_by}, {"rules", rules}};
  j["explanations"] = std::move(w.explanations);
  return jsonout::dump(j);
}

}  // namespace iptplan

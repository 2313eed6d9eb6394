// `why FINDING` (`why perinatal.status`): a finding of the inventory, not
// an item or a derived fact. A plan says its work "waits on" findings; asked
// about one, the answer is what is on file, the question, and what the plan
// waits on it for (its place in ask next and what its answer would decide).
#include <algorithm>

#include "engine/render/json_writer.hpp"
#include "engine/render/render.hpp"

namespace iptplan {

namespace {

struct finding_ref {
  const finding_decl* decl = nullptr;  // the finding, or the field of a list
  int index = -1;                      // the finding's (or its list's) index
  std::string key;                     // "mother" of relationships[mother].conflict
  int field = -1;                      // the field's index in an entry
};

// "phq9.total", or "relationships[mother].conflict" (an entry's field).
std::optional<finding_ref> find_ref(const program& p, const std::string& query) {
  finding_ref r;
  auto open = query.find('[');
  if (open == std::string::npos) {
    r.index = p.vocab->index_of(query);
    if (r.index < 0) return std::nullopt;
    r.decl = &p.vocab->findings()[static_cast<std::size_t>(r.index)];
    return r;
  }
  auto close = query.find("].", open);
  if (close == std::string::npos) return std::nullopt;
  r.index = p.vocab->index_of(query.substr(0, open));
  if (r.index < 0) return std::nullopt;
  const auto& list = p.vocab->findings()[static_cast<std::size_t>(r.index)];
  r.field = list.field_index(query.substr(close + 2));
  if (r.field < 0) return std::nullopt;
  r.decl = list.field(query.substr(close + 2));
  r.key = query.substr(open + 1, close - open - 1);
  return r;
}

struct finding_answer {
  bool recorded = false;
  std::string value;  // as plans show it; empty when not recorded
  int line = 0;       // where the file holds it (0: not known)
  std::string note;   // a value the skip logic gives, said so
  bool no_entry = false;  // relationships[x].y with no entry x
};

finding_answer answer_of(const program& p, const client_data& c, const finding_ref& r) {
  finding_answer a;
  const auto i = static_cast<std::size_t>(r.index);
  if (i >= c.slots.size()) return a;
  const value& slot = c.slots[i];
  if (r.field < 0) {
    if (slot.kind == vkind::unknown) return a;
    a.recorded = true;
    a.line = i < c.lines.size() ? c.lines[i] : 0;
    if (slot.kind == vkind::table) {
      const auto n = c.tables[slot.ref].size();
      a.value = std::to_string(n) + (n == 1 ? " entry" : " entries");
    } else if (slot.kind == vkind::list) {
      const auto n = c.lists[slot.ref].size();
      a.value = std::to_string(n) + (n == 1 ? " value" : " values");
    } else {
      a.value = show_value(p, c, slot);
    }
    if (c.is_implied(i)) a.note = implied_note(p, c, i);
    return a;
  }
  if (slot.kind != vkind::table) {
    a.no_entry = true;
    return a;
  }
  for (const auto& e : c.tables[slot.ref]) {
    if (e.key != r.key) continue;
    const auto f = static_cast<std::size_t>(r.field);
    if (f < e.fields.size() && e.fields[f].kind != vkind::unknown) {
      a.recorded = true;
      a.value = show_value(p, c, e.fields[f]);
    }
    return a;
  }
  a.no_entry = true;
  return a;
}

// Its place in ask next (or record next), 1-based; 0 when the plan does
// not wait on it.
std::pair<const assess_item*, std::size_t> place_of(const plan& pl, const std::string& query) {
  const std::size_t questions = client_questions(pl);
  for (std::size_t i = 0; i < pl.to_assess.size(); ++i) {
    if (pl.to_assess[i].finding == query) return {&pl.to_assess[i], i < questions ? i + 1 : i - questions + 1};
  }
  return {nullptr, 0};
}

}  // namespace

bool is_finding_query(const program& p, const std::string& query) { return find_ref(p, query).has_value(); }

std::string render_why_finding(const program& p, const client_data& c, const plan& pl, const std::string& query,
                               bool json) {
  auto r = find_ref(p, query);
  if (!r) return {};
  auto a = answer_of(p, c, *r);
  auto [assess, place] = place_of(pl, query);
  const bool clinician = assess && assess->clinician;
  if (json) {
    jsonout::json j = {{"query", query},
                       {"finding", {{"path", query},
                                    {"question", r->decl->question},
                                    {"recorded", a.recorded},
                                    {"value", a.recorded ? jsonout::json(a.value) : jsonout::json()},
                                    {"line", a.line > 0 ? jsonout::json(a.line) : jsonout::json()},
                                    {"no_entry", a.no_entry}}}};
    if (assess) {
      j["finding"]["waited_on"] = {{"list", clinician ? "record_next" : "ask_next"},
                                   {"place", place},
                                   {"score", assess->score},
                                   {"decides", assess->items},
                                   {"rules", assess->rules}};
    } else {
      j["finding"]["waited_on"] = nullptr;
    }
    return jsonout::dump(j);
  }
  std::string out = printable(query) + " is a finding of the inventory, not an item of the plan";
  if (a.no_entry) {
    out += ": the inventory has no entry '" + printable(r->key) + "'.\n";
  } else if (a.recorded) {
    out += ": recorded, " + printable(a.value) + a.note + (a.line > 0 ? " (" + printable(c.file) + ":" + std::to_string(a.line) + ")" : "") +
           ".\n";
  } else {
    out += ": not recorded yet.\n";
  }
  if (!r->decl->question.empty()) out += "  Question: " + hang(r->decl->question, 12) + "\n";
  if (assess) {
    out += std::string("  The plan waits on it: ") + (clinician ? "record next " : "ask next ") +
           std::to_string(place) + " of " +
           std::to_string(clinician ? pl.to_assess.size() - client_questions(pl) : client_questions(pl)) + ".\n";
    const std::string decides = decides_in_words(*assess);
    if (!decides.empty()) out += "  Its answer would decide: " + hang(decides, 4) + ".\n";
  } else if (!a.recorded) {
    out += "  No rule of this plan waits on it now.\n";
  }
  return out;
}

}  // namespace iptplan

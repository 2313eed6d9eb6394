// The terminal rendering: readable, items by priority, a short "why" each.
#include <algorithm>
#include <map>
#include <set>

#include "engine/render/render.hpp"

namespace iptplan {

namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// "a, b and c"; past `limit` words, "and N more".
std::string join_words(const std::vector<std::string>& ws, std::size_t limit = 0) {
  std::string out;
  std::size_t n = limit && ws.size() > limit ? limit : ws.size();
  for (std::size_t i = 0; i < n; ++i) {
    out += (i == 0 ? "" : (i + 1 == n && n == ws.size()) ? " and " : ", ") + ws[i];
  }
  if (n < ws.size()) out += " and " + std::to_string(ws.size() - n) + " more";
  return out.empty() ? "(nothing the client can be asked)" : out;
}

// One line naming why: the first reason's `because`, then the rules. A
// provisional item's support (a rule condition) is left to `iptplan why`
// and the JSON plan: the reason's words and the findings to confirm say it
// for a clinician.
// "(rule a, x.rules:3; rule b, y.rules:9)": the rules behind an item.
std::string rule_refs(const plan_item& it) {
  std::string out = "(";
  for (std::size_t i = 0; i < it.because.size(); ++i) {
    const auto& r = it.because[i];
    out += (i ? "; " : "") + std::string("rule ") + r.rule.id + ", " + r.rule.file + ":" +
           std::to_string(r.rule.line);
  }
  return out + ")";
}

// Every rule's reason, each followed by the rules that give it (a reason
// two rules share is said once); "provisional:" marks the reasons of rules
// that proposed the item only provisionally, not those of rules that fired.
// One reason as given: a key for "already given in this plan".
std::string one_reason_key(const reason& r) {
  return std::string("\x1e") + r.rule.id + '\x1f' + r.element + '\x1f' + (r.provisional ? "p" : "") + '\x1f' +
         r.because;
}

// `given`: the reasons given in full so far in the plan, each with its item.
// An item with several reasons says, for one already given with another
// item, "as for [x] above" in its place (a safety goal that two rules
// propose, one of which also proposed the goal just above).
std::string short_why(const plan_item& it, std::map<std::string, std::string>* given = nullptr) {
  std::vector<std::pair<std::string, std::string>> pieces;  // reason, its rules
  for (const auto& r : it.because) {
    std::string text = r.provisional ? "provisional:" + (r.because.empty() ? "" : " " + r.because) : r.because;
    if (given && it.because.size() > 1) {
      auto at = given->find(one_reason_key(r));
      if (at != given->end() && at->second != it.full_id()) text = "as for [" + at->second + "] above";
    }
    std::string ref = "rule " + r.rule.id + ", " + r.rule.file + ":" + std::to_string(r.rule.line);
    auto same = std::find_if(pieces.begin(), pieces.end(), [&](const auto& p) { return p.first == text; });
    if (same == pieces.end()) {
      pieces.emplace_back(std::move(text), std::move(ref));
    } else {
      same->second += "; " + ref;
    }
  }
  std::string out;
  for (auto& [text, refs] : pieces) {
    const bool as_for = text.rfind("as for [", 0) == 0;
    if (!out.empty()) {
      out += " ";
      if (as_for) text[0] = 'A';  // a new sentence after the one before
    }
    out += (text.empty() ? "" : text + " ") + "(" + refs + ")" + (as_for ? "." : "");
  }
  if (given) {
    for (const auto& r : it.because) given->emplace(one_reason_key(r), it.full_id());
  }
  return out;
}

// `parent`: the challenge a solution or goal is listed under; when the same
// rules proposed both, the reason is not repeated.
// `shown`: for each reason already given in the plan, the item it was given
// with; a later item with the same reason refers to it instead of saying it
// again (a rule that raises a flag and a challenge from one finding).
using shown_whys = std::map<std::string, std::string>;

// Under one challenge: each reason given so far, with the item it was given
// for, and the reason given last. An item whose reason was just given says
// nothing; one whose reason was given further up says "as for [x] above",
// so a "why" is never read as another rule's.
struct local_whys {
  std::map<std::string, std::string> first;
  std::string last;
  std::string last_unsettled;  // the "not settled" note of the item just above
  explicit local_whys(const plan_item& parent) : last(reason_key(parent)) { first.emplace(last, parent.full_id()); }
};

void item(std::string& out, shown_whys& shown, const plan_item& it, const std::string& bullet, int indent,
          const plan_item* parent = nullptr, local_whys* explained = nullptr) {
  std::string pad(static_cast<std::size_t>(indent), ' ');
  const std::size_t under = pad.size() + bullet.size();  // where the text starts
  out += pad + bullet + hang(shown_text(it), under) + "  [" + it.full_id() + "]\n";
  if (!it.removable_by.empty()) {
    // The same rules left to decide as the item just above: said once.
    std::string note = removable_note(it);
    bool again = explained != nullptr && explained->last_unsettled == note;
    out += pad + std::string(bullet.size(), ' ') + "not settled: " + (again ? std::string("as above") : note) + "\n";
    if (explained) explained->last_unsettled = std::move(note);
  } else if (explained) {
    explained->last_unsettled.clear();
  }
  // Under one challenge, a reason already given for an earlier item is not
  // repeated.
  if (explained) {
    std::string key = reason_key(it);
    auto [at, fresh] = explained->first.emplace(key, it.full_id());
    bool just_given = explained->last == key;
    explained->last = key;
    if (!fresh) {
      if (!just_given) {
        out += pad + std::string(bullet.size(), ' ') + "why: " + (it.provisional ? "provisional: " : "") +
               "as for [" + at->second + "] above " + rule_refs(it) + "\n";
      }
      return;
    }
  }
  bool same = parent != nullptr && !it.because.empty();
  for (const auto& r : it.because) {
    bool shared = false;
    for (const auto& pr : parent ? parent->because : std::vector<reason>{}) {
      shared = shared || (pr.rule.id == r.rule.id && pr.element == r.element);
    }
    same = same && shared;
  }
  if (same) return;
  std::string key = reason_key(it);
  auto [at, first] = shown.emplace(key, it.full_id());
  if (!first && !key.empty()) {
    out += pad + std::string(bullet.size(), ' ') + "why: " + (it.provisional ? "provisional: " : "") + "as for [" +
           at->second + "] above " + rule_refs(it) + "\n";
    return;
  }
  out += pad + std::string(bullet.size(), ' ') + "why: " + hang(short_why(it, &shown), under + 5) + "\n";
}

}  // namespace

std::string render_text(const plan& p) {
  std::string out;
  shown_whys shown;
  out += "DRAFT TREATMENT PLAN - for review by the treating clinician; not a directive\n";
  if (!p.prov.client_id.empty()) out += "Client: " + p.prov.client_id + "\n";
  out += "Findings: sha256 " + p.prov.findings_sha256.substr(0, 12) + "\n";
  out += "Rule set: " + p.prov.rule_set_name + " " + p.prov.rule_set_version +
         " (" + status_words(p.prov) + ")\n";
  if (auto note = passed_dates_note(p); !note.empty()) out += "Note: " + note + "\n";

  out += "\nSUMMARY\n";
  for (const auto& [label, text] : summary_lines(p)) out += "  " + label + ": " + hang(text, 4) + "\n";

  out += "\nFLAGS\n";
  if (p.flags.empty()) out += "  (none)\n";
  for (const auto& f : p.flags) item(out, shown, f, "[" + upper(f.severity) + "] ", 2);

  bool first_steps = false;
  for (const auto* group : {&p.goals, &p.solutions}) {
    for (const auto& g : *group) {
      if (!is_first_step(g)) continue;
      if (!first_steps) {
        out += "\nFIRST STEPS\n";
        first_steps = true;
      }
      item(out, shown, g, g.kind == item_kind::solution ? "solution: " : "goal: ", 2);
    }
  }

  out += "\nCHALLENGES\n";
  if (auto n = critical_first(p); n && !p.challenges.empty()) out += "  " + critical_first_note(n) + "\n";
  if (p.challenges.empty()) out += "  (none)\n";
  auto under = work_by_challenge(p);
  // Work for several challenges is given in full under the first of them.
  std::map<const plan_item*, std::size_t> listed_at;
  for (std::size_t n = 0; n < p.challenges.size(); ++n) {
    const plan_item& c = p.challenges[n];
    item(out, shown, c, std::to_string(n + 1) + ". ", 2);
    local_whys explained(c);
    for (const auto* s : under[n]) {
      std::string bullet = s->kind == item_kind::solution ? "solution: " : "goal: ";
      auto [at, first] = listed_at.emplace(s, n + 1);
      if (!first) {
        out += "      " + bullet + "as under " + std::to_string(at->second) + ". above  [" + s->full_id() + "]\n";
        explained.last_unsettled.clear();  // "as above" never reaches past this line
        continue;
      }
      item(out, shown, *s, bullet, 6, &c, &explained);
    }
  }
  if (!p.provisional.empty()) {
    out += "\nTO CONFIRM (proposed on partial evidence: not part of the plan until confirmed)\n";
    // Provisional challenges with the provisional work listed under them;
    // what would confirm an item is said once where it is the same.
    auto layout = lay_out_provisional(p);
    const std::vector<std::string>* asked_above = nullptr;  // the last list given in full
    for (std::size_t t = 0; t < layout.top.size(); ++t) {
      const plan_item& it = *layout.top[t];
      // "possible": the text is the rule's, written as if it held; here it
      // is not yet known to.
      std::string bullet = "possible " + std::string(to_string(it.kind)) + ": ";
      if (it.kind == item_kind::flag) bullet = "[" + upper(it.severity) + ", POSSIBLE] ";
      item(out, shown, it, bullet, 2);
      // The same findings as the item before: said once.
      bool same = asked_above && *asked_above == it.to_confirm;
      out += "    to confirm, " + confirm_verb(p, it.to_confirm) + ": " +
             (same ? std::string("as above") : join_words(with_ask_next_numbers(p, it.to_confirm))) + "\n";
      asked_above = &it.to_confirm;
      if (it.kind != item_kind::challenge) continue;
      const auto& work = layout.work[t];
      // What the work plan waits on beyond the challenge's own findings
      // (the choice of focus, say), said once when it is the same for all.
      auto extras = work_plan_extras(it, work);
      factor_common(extras);
      if (extras.shared && !extras.per_item.empty() && !extras.per_item.front().empty()) {
        out += "    its work plan also waits on: " + join_words(ranked_few(p, extras.per_item.front(), kWaitsOnShown)) + "\n";
      }
      if (!extras.common.empty()) {
        out += "    its work plan also waits on: " + join_words(ranked_few(p, extras.common, kWaitsOnShown)) + "\n";
      }
      local_whys explained(it);
      const std::vector<std::string>* said = nullptr;  // the extras last listed
      for (std::size_t i = 0; i < work.size(); ++i) {
        const plan_item& s = *work[i];
        item(out, shown, s, s.kind == item_kind::solution ? "solution: " : "goal: ", 6, &it, &explained);
        if (!extras.shared && !extras.per_item[i].empty()) {
          // The same list as the item before says so, not the list again.
          out += "          also to confirm: " +
                 (said && *said == extras.per_item[i] ? std::string("as above")
                                                      : join_words(with_ask_next_numbers(p, extras.per_item[i]))) +
                 "\n";
          said = &extras.per_item[i];
        }
      }
    }
    // Work for a challenge of the plan that waits on something (the phase
    // of therapy, say): under the challenge's name, what it waits on once.
    for (const auto& [c, work] : layout.for_confirmed) {
      out += "  work to confirm for the challenge: " + c->text + "  [" + c->full_id() +
             "] (listed above, under CHALLENGES):\n";
      auto extras = work_plan_extras(*c, work);
      if (extras.shared) {
        out += "    to confirm, " + confirm_verb(p, extras.per_item.front()) + ": " +
               join_words(with_ask_next_numbers(p, extras.per_item.front())) + "\n";
      }
      local_whys explained(*c);
      const std::vector<std::string>* said = nullptr;  // the list last given in full
      for (std::size_t i = 0; i < work.size(); ++i) {
        const plan_item& s = *work[i];
        item(out, shown, s, s.kind == item_kind::solution ? "solution: " : "goal: ", 6, c, &explained);
        if (extras.shared) continue;
        bool same = said && *said == extras.per_item[i];
        out += "          to confirm, " + confirm_verb(p, extras.per_item[i]) + ": " +
               (same ? std::string("as above") : join_words(with_ask_next_numbers(p, extras.per_item[i]))) + "\n";
        said = &extras.per_item[i];
      }
    }
  }
  // Ask next comes before the schedule and the derived facts: it is what
  // the clinician uses in the room.
  const std::size_t questions = client_questions(p);
  auto ask_list = [&](const char* title, const std::string& summary, std::size_t from, std::size_t total,
                      std::size_t limit) {
    if (total == 0) return;
    out += std::string("\n") + title + " (" + summary + ")\n";
    for (std::size_t i = 0; i < std::min(total, limit); ++i) {
      const auto& a = p.to_assess[from + i];
      out += "  " + std::to_string(i + 1) + ". " + a.finding + (a.question.empty() ? "" : ": " + hang(a.question, 5)) + "\n";
      if (a.items.empty() && !a.completes.empty()) {
        out += "     completes the " + a.completes + " screen " +
               (a.until_answered.empty() ? "(nothing else in this plan waits on it)"
                                         : "(until it is answered, " + hang(a.until_answered, 5) + ")") +
               "\n";
      } else {
        out += "     decides: " + decides_in_words(a) + "\n";
      }
    }
  };
  ask_list("ASK NEXT", ask_next_summary(questions), 0, questions, kAskNextShown);
  std::size_t recorded = p.to_assess.size() - questions;
  ask_list("RECORD NEXT", record_next_summary(recorded), questions, recorded, kRecordNextShown);
  auto groups = plan_wide_groups(p);
  if (!groups.empty()) out += "\nPLAN-WIDE GOALS AND SOLUTIONS\n";
  for (const auto& group : groups) {
    for (std::size_t i = 0; i < group.size(); ++i) {
      const plan_item& g = *group[i];
      std::string bullet = g.kind == item_kind::solution ? "solution: " : "goal: ";
      // The shared reason is written once, under the group's last item.
      item(out, shown, g, bullet, 2, i + 1 < group.size() ? group[i + 1] : nullptr);
    }
  }
  auto schedule = schedule_items(p);
  if (!schedule.empty()) {
    out += "\nSCHEDULE (contract, reviews, re-measurement, ending)\n";
    std::vector<std::string> rules;
    for (const auto* it : schedule) {
      out += "  - " + hang(shown_text(*it), 4) + "  [" + it->full_id() + "]\n";
      for (const auto& r : it->because) {
        std::string ref = r.rule.id + " (" + r.rule.file + ":" + std::to_string(r.rule.line) + ")";
        if (std::find(rules.begin(), rules.end(), ref) == rules.end()) rules.push_back(ref);
      }
    }
    out += "  why: the rules ";
    for (std::size_t i = 0; i < rules.size(); ++i) out += (i ? ", " : "") + rules[i];
    out += "; 'iptplan why ID' explains each\n";
  }
  if (!p.conclusions.empty()) {
    out += "\nDERIVED CONCLUSIONS\n";
    for (const auto& c : p.conclusions) {
      out += "  " + c.fact + " = " + c.value + (c.provisional ? " (provisional)" : "") + "  (";
      // Each rule once, however many elements it concluded the fact for.
      std::vector<std::string> ids;
      for (const auto& r : c.reasons) {
        if (std::find(ids.begin(), ids.end(), r.rule.id) == ids.end()) ids.push_back(r.rule.id);
      }
      for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? ", " : "") + std::string("rule ") + ids[i];
      out += ")\n";
    }
  }
  if (!p.excluded.empty()) {
    // Set aside, not dropped unseen: most often a rule whose own item
    // covers this one (a higher risk tier's flag takes in the lower one's),
    // or one for whom it does not fit; the reason says which.
    out += "\nEXCLUDED (set aside by a rule, with its reason: covered by another item, or not for this client)\n";
    // A rule that removes several items gives its reason once.
    std::set<std::string> explained;
    for (const auto& e : p.excluded) {
      out += "  " + e.item.full_id() + ": " + hang(e.item.text, 4) + "\n    set aside ";
      if (!e.note.empty()) out += "because " + hang(e.note, 4);
      if (!e.excluded_by.empty()) out += "by ";
      for (std::size_t i = 0; i < e.excluded_by.size(); ++i) {
        const auto& r = e.excluded_by[i];
        // One rule a line: a reason ends with its own full stop.
        std::string ref = r.rule.id + " (" + r.rule.file + ":" + std::to_string(r.rule.line) + ")";
        out += (i ? "\n    and by " : "") + std::string("rule ") + ref;
        if (r.because.empty()) continue;
        out += explained.insert(ref + r.because).second ? ": " + hang(r.because, 4) : ", as above";
      }
      if (e.more_excluded_by) out += "\n    and by " + std::to_string(e.more_excluded_by) + " more rule outcomes, not listed";
      out += "\n";
    }
  }
  if (!p.diagnostics.empty()) out += "\n";
  for (const auto& d : p.diagnostics) out += format_short(d);
  out += "\nProvenance: rule set sha256 " + p.prov.rule_set_sha256 + ", findings sha256 " +
         p.prov.findings_sha256 + ", iptplan " + p.prov.program_version + "\n";
  // Texts from rule and findings files: no control character reaches a
  // terminal or a file.
  return printable(out, true);
}

}  // namespace iptplan

// The markdown rendering: a draft a clinician pastes into notes.
#include <algorithm>
#include <map>
#include <set>
#include <string_view>

#include "engine/render/render.hpp"

namespace iptplan {

std::string markdown_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  bool line_start = false;  // just after a line break of the text
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\n') {
      // A hard line break that stays inside the item: two spaces, then the
      // next line indented, never a new paragraph, list item or heading.
      out += "  \n    ";
      line_start = true;
      continue;
    }
    if (line_start && c == ' ') continue;
    if (line_start) {
      // '-', '+' or '1.' starting a line would open a list.
      std::size_t d = i;
      while (d < s.size() && s[d] >= '0' && s[d] <= '9') ++d;
      if (c == '-' || c == '+' || c == '=' ||
          (d > i && d < s.size() && (s[d] == '.' || s[d] == ')'))) {
        if (d > i) {
          out.append(s, i, d - i);
          i = d;
          c = s[i];
        }
        out += '\\';
      }
      line_start = false;
    }
    // '&' too: "&lt;" would otherwise render as "<" (an entity).
    if (std::string_view("\\`*_[]<>#|~&").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

namespace {

// A text from a rule or findings file, shown as written: the characters
// markdown would read as formatting (emphasis, links, headings, tables,
// HTML) are escaped, so a text can neither change the plan's layout nor
// hide part of it.
std::string md(const std::string& s) { return markdown_escape(s); }

std::string why_line(const plan_item& it) {
  std::string out;
  for (std::size_t i = 0; i < it.because.size(); ++i) {
    const auto& r = it.because[i];
    if (i) out += " ";
    if (!r.because.empty()) out += md(r.because) + " ";
    out += "*(rule `" + r.rule.id + "`, " + r.rule.file + ":" + std::to_string(r.rule.line);
    if (!r.rule.source.empty()) out += "; " + md(r.rule.source);
    out += ")*";
  }
  return out;
}

}  // namespace

std::string render_markdown(const plan& p) {
  std::string out;
  // A reason already given with an earlier item is referred to, not
  // repeated (a rule that raises a flag and a challenge from one finding).
  std::map<std::string, std::string> shown;
  // What a rule not yet decided would do to an item, said with its reason
  // or, where the reason is not repeated, on its own: never dropped.
  auto not_settled = [](const plan_item& it) {
    return it.removable_by.empty() ? std::string() : "Not settled: " + removable_note(it, true) + ".";
  };
  // In a work plan, the same note as the item just above reads "as above".
  std::string last_note;
  auto note_once = [&not_settled, &last_note](const plan_item& it) {
    std::string note = not_settled(it);
    if (note.empty()) {
      last_note.clear();
      return note;
    }
    bool again = note == last_note;
    last_note = note;
    return again ? std::string("Not settled: as above.") : note;
  };
  auto why = [&shown, &not_settled](const plan_item& it, const std::string* note = nullptr) {
    std::string key = reason_key(it);
    // The earlier item by its kind and first words: the markdown plan shows
    // no item ids, so "as for `ipt_a_format`" pointed at nothing on the page.
    auto label = [](const plan_item& first_item) {
      std::string t = first_item.text;
      if (t.size() > 60) {
        auto cut = t.rfind(' ', 60);
        std::size_t at = cut == std::string::npos || cut < 20 ? 60 : cut;
        // Never inside a character: back to the first byte of one.
        while (at > 0 && (static_cast<unsigned char>(t[at]) & 0xC0) == 0x80) --at;
        t = t.substr(0, at) + "\u2026";
      }
      return std::string("the ") + to_string(first_item.kind) + " *" + markdown_escape(t) + "*";
    };
    auto [at, first] = shown.emplace(key, label(it));
    std::string unsettled = it.removable_by.empty() ? "" : " " + (note ? *note : not_settled(it));
    if (first || key.empty()) return why_line(it) + unsettled;
    std::string rules;
    for (std::size_t i = 0; i < it.because.size(); ++i) {
      const auto& r = it.because[i];
      rules += (i ? "; " : "") + std::string("rule `") + r.rule.id + "`, " + r.rule.file + ":" +
               std::to_string(r.rule.line);
    }
    return "as for " + at->second + " above *(" + rules + ")*" + unsettled;
  };
  out += "# Draft treatment plan";
  if (!p.prov.client_id.empty()) out += " - client " + p.prov.client_id;
  out += "\n\n";
  out += "> **Draft for clinical review.** This plan was drafted by rules from the client's "
         "recorded findings. It is a suggestion, not a directive: the treating clinician "
         "reviews, edits and owns every item.\n\n";
  out += "- Rule set: " + md(p.prov.rule_set_name) + " " + md(p.prov.rule_set_version) +
         " (" + md(status_words(p.prov)) + ")\n";
  out += "- Findings: sha256 `" + p.prov.findings_sha256.substr(0, 12) + "`\n";
  if (auto note = passed_dates_note(p); !note.empty()) out += "- Note: " + md(note) + "\n";
  out += "\n";

  out += "## Summary\n\n";
  for (const auto& [label, text] : summary_lines(p)) out += "- **" + md(label) + "**: " + md(text) + "\n";
  out += "\n";

  out += "## Flags\n\n";
  if (p.flags.empty()) out += "None raised.\n";
  for (const auto& f : p.flags) {
    std::string sev = f.severity;
    for (auto& c : sev) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out += "- **" + sev + ":** " + md(f.text) + "  \n  Why: " + why(f) + "\n";
  }

  bool first_steps = false;
  for (const auto* group : {&p.goals, &p.solutions}) {
    for (const auto& g : *group) {
      if (!is_first_step(g)) continue;
      if (!first_steps) {
        out += "\n## First steps\n\n";
        first_steps = true;
      }
      out += "- " + md(shown_text(g)) + "  \n  Why: " + why(g) + "\n";
    }
  }

  out += "\n## Challenges\n\n";
  if (auto n = critical_first(p); n && !p.challenges.empty()) out += "*" + critical_first_note(n) + "*\n\n";
  if (p.challenges.empty()) out += "None identified from the recorded findings.\n";
  auto listed = work_by_challenge(p);
  // Work for several challenges is given in full under the first of them.
  std::map<const plan_item*, std::size_t> listed_at;
  for (std::size_t n = 0; n < p.challenges.size(); ++n) {
    const plan_item& c = p.challenges[n];
    out += "### " + std::to_string(n + 1) + ". " + md(c.text) + "\n\n";
    out += "Why: " + why(c) + "\n\n";
    // A reason already given under this challenge is not repeated.
    std::set<std::string> explained{reason_key(c)};
    for (auto kind : {item_kind::solution, item_kind::goal}) {
      bool any = false;
      for (const auto* s : listed[n]) {
        if (s->kind != kind) continue;
        if (!any) {
          out += kind == item_kind::solution ? "Solutions:\n\n" : "Goals:\n\n";
          any = true;
        }
        auto [at, first] = listed_at.emplace(s, n + 1);
        if (!first) {
          out += "- As under challenge " + std::to_string(at->second) + " above (" + md(s->full_id()) + ")\n";
          continue;
        }
        // Not repeated when the challenge's own rules proposed it.
        bool same = !s->because.empty();
        for (const auto& r : s->because) {
          bool shared = false;
          for (const auto& pr : c.because) shared = shared || (pr.rule.id == r.rule.id && pr.element == r.element);
          same = same && shared;
        }
        same = same || !explained.insert(reason_key(*s)).second;
        out += "- " + md(shown_text(*s)) +
               (!same                     ? "  \n  Why: " + why(*s) + "\n"
                : s->removable_by.empty() ? "\n"
                                          : "  \n  " + not_settled(*s) + "\n");
      }
      if (any) out += "\n";
    }
  }
  if (!p.provisional.empty()) {
    out += "## To confirm\n\nProposed on partial evidence: not part of the plan until the findings "
           "named below are recorded and the plan is run again.\n\n";
    auto asks = [&p](const plan_item& it) {
      std::string s;
      auto numbered = with_ask_next_numbers(p, it.to_confirm, true);
      for (std::size_t i = 0; i < numbered.size(); ++i) s += (i ? ", " : "") + numbered[i];
      return s;
    };
    auto key_of = reason_key;
    auto layout = lay_out_provisional(p);
    for (std::size_t t = 0; t < layout.top.size(); ++t) {
      const plan_item& it = *layout.top[t];
      out += "- *possible " + std::string(to_string(it.kind)) + (it.kind == item_kind::flag ? " (" + it.severity + ")" : "") +
             "*: " + md(shown_text(it)) + "  \n  Why: " + why(it) + "  \n  To confirm, " +
             confirm_verb(p, it.to_confirm) + ": " + asks(it) + "\n";
      if (it.kind != item_kind::challenge) continue;
      const auto& work = layout.work[t];
      auto extras = work_plan_extras(it, work);
      factor_common(extras);
      auto ask_list = [&](const std::vector<std::string>& fs) {
        std::string s;
        auto few = ranked_few(p, fs, kWaitsOnShown, true);
        for (std::size_t i = 0; i < few.size(); ++i) s += (i ? ", " : "") + few[i];
        return s;
      };
      if (extras.shared && !extras.per_item.front().empty()) {
        out.pop_back();  // the line break after "To confirm, ..."
        out += "  \n  Its work plan also waits on: " + ask_list(extras.per_item.front()) + "\n";
      }
      if (!extras.common.empty()) {
        out.pop_back();
        out += "  \n  Its work plan also waits on: " + ask_list(extras.common) + "\n";
      }
      std::set<std::string> explained{key_of(it)};
      const std::vector<std::string>* said = nullptr;  // the extras last listed
      last_note.clear();
      for (std::size_t i = 0; i < work.size(); ++i) {
        const plan_item& s = *work[i];
        out += "  - *" + std::string(to_string(s.kind)) + "*: " + md(shown_text(s));
        std::string note = note_once(s);
        if (explained.insert(key_of(s)).second) out += "  \n    Why: " + why(s, &note);
        else if (!note.empty()) out += "  \n    " + note;
        if (!extras.shared && !extras.per_item[i].empty()) {
          out += "  \n    Also to confirm: " +
                 (said && *said == extras.per_item[i] ? std::string("as above") : ask_list(extras.per_item[i]));
          said = &extras.per_item[i];
        }
        out += "\n";
      }
    }
    for (const auto& [c, work] : layout.for_confirmed) {
      out += "- *work to confirm for the challenge:* " + md(c->text) + " (`" + c->full_id() +
             "`, listed above, under Challenges)";
      auto extras = work_plan_extras(*c, work);
      if (extras.shared) {
        plan_item x;
        x.to_confirm = extras.per_item.front();
        out += "  \n  To confirm, " + confirm_verb(p, x.to_confirm) + ": " + asks(x);
      }
      out += "\n";
      std::set<std::string> explained{key_of(*c)};
      last_note.clear();
      for (std::size_t i = 0; i < work.size(); ++i) {
        const plan_item& s = *work[i];
        out += "  - *" + std::string(to_string(s.kind)) + "*: " + md(shown_text(s));
        std::string note = note_once(s);
        if (explained.insert(key_of(s)).second) out += "  \n    Why: " + why(s, &note);
        else if (!note.empty()) out += "  \n    " + note;
        if (!extras.shared) {
          plan_item x;
          x.to_confirm = extras.per_item[i];
          out += "  \n    To confirm, " + confirm_verb(p, x.to_confirm) + ": " + asks(x);
        }
        out += "\n";
      }
    }
    out += "\n";
  }
  // Ask next comes before the schedule and the derived facts: it is what
  // the clinician uses in the room.
  const std::size_t questions = client_questions(p);
  auto ask_list = [&](const char* title, std::string summary, std::size_t from, std::size_t total, std::size_t limit) {
    if (total == 0) return;
    summary[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(summary[0])));
    out += std::string("## ") + title + "\n\n" + summary + ".\n\n";
    for (std::size_t i = 0; i < std::min(total, limit); ++i) {
      const auto& a = p.to_assess[from + i];
      out += std::to_string(i + 1) + ". `" + a.finding + "`" + (a.question.empty() ? "" : ": " + md(a.question));
      if (a.items.empty() && !a.completes.empty()) {
        out += "  \n   Completes the `" + a.completes + "` screen (" +
               (a.until_answered.empty() ? std::string("nothing else in this plan waits on it")
                                         : "until it is answered, " + md(a.until_answered)) +
               ")\n";
        continue;
      }
      out += "  \n   Decides: " + decides_in_words(a, true) + "\n";
    }
    out += "\n";
  };
  ask_list("Ask next", ask_next_summary(questions), 0, questions, kAskNextShown);
  ask_list("Record next", record_next_summary(p.to_assess.size() - questions), questions,
           p.to_assess.size() - questions, kRecordNextShown);
  auto groups = plan_wide_groups(p);
  if (!groups.empty()) out += "## Plan-wide goals and interventions\n\n";
  for (const auto& group : groups) {
    for (std::size_t i = 0; i < group.size(); ++i) {
      out += "- " + md(shown_text(*group[i]));
      if (i + 1 < group.size()) {
        out += "\n";
        continue;
      }
      out += "  \n  Why" + std::string(group.size() > 1 ? " (for the " + std::to_string(group.size()) + " items above)" : "") +
             ": " + why(*group[i]) + "\n";
    }
  }
  if (!groups.empty()) out += "\n";
  auto schedule = schedule_items(p);
  if (!schedule.empty()) {
    out += "## Schedule\n\nThe contract, reviews, re-measurement and ending.\n\n";
    std::vector<std::string> rules;
    for (const auto* it : schedule) {
      out += "- " + md(shown_text(*it)) + "\n";
      for (const auto& r : it->because) {
        std::string ref = "`" + r.rule.id + "` (" + r.rule.file + ":" + std::to_string(r.rule.line) + ")";
        if (std::find(rules.begin(), rules.end(), ref) == rules.end()) rules.push_back(ref);
      }
    }
    out += "\n*From the rules ";
    for (std::size_t i = 0; i < rules.size(); ++i) out += (i ? ", " : "") + rules[i];
    out += ".*\n\n";
  }
  if (!p.conclusions.empty()) {
    out += "## Derived conclusions\n\n";
    for (const auto& c : p.conclusions) {
      out += "- `" + c.fact + "` = " + md(c.value) + (c.provisional ? " *(provisional)*" : "") + " (";
      // Each rule once, however many elements it concluded the fact for.
      std::vector<std::string> ids;
      for (const auto& r : c.reasons) {
        if (std::find(ids.begin(), ids.end(), r.rule.id) == ids.end()) ids.push_back(r.rule.id);
      }
      for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? ", " : "") + std::string("rule `") + ids[i] + "`";
      out += ")\n";
    }
    out += "\n";
  }
  if (!p.excluded.empty()) {
    out += "## Excluded by rule\n\nSet aside by a rule, with its reason: covered by another item of the plan, or not "
           "for this client.\n\n";
    // A rule that removes several items gives its reason once.
    std::set<std::string> explained;
    for (const auto& e : p.excluded) {
      out += "- ~~" + md(e.item.text) + "~~ - ";
      if (!e.note.empty()) out += e.note;
      for (std::size_t i = 0; i < e.excluded_by.size(); ++i) {
        const auto& r = e.excluded_by[i];
        if (i && out.back() != '.') out += '.';
        out += std::string(i ? " Also set aside" : "set aside") + " by rule `" + r.rule.id + "`";
        if (r.because.empty()) continue;
        out += explained.insert(r.rule.id + r.because).second ? ": " + md(r.because) : " (as above)";
      }
      if (e.more_excluded_by) {
        if (out.back() != '.') out += '.';
        out += " Also set aside by " + std::to_string(e.more_excluded_by) + " more rule outcomes, not listed.";
      }
      out += "\n";
    }
    out += "\n";
  }
  if (!p.diagnostics.empty()) {
    out += "## Problems found while planning\n\n";
    for (const auto& d : p.diagnostics) out += "- " + md(d.message) + "\n";
    out += "\n";
  }
  out += "---\n\nProvenance: rule set `" + p.prov.rule_set_name + "` " + p.prov.rule_set_version +
         ", sha256 `" + p.prov.rule_set_sha256 + "`; findings sha256 `" + p.prov.findings_sha256 +
         "`; iptplan " + p.prov.program_version + ".\n";
  // Texts from rule and findings files: no control character reaches a
  // terminal or a file.
  return printable(out, true);
}

}  // namespace iptplan

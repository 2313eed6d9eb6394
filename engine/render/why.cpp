// The answers of `why` (how an item got into the plan) and `why-not` (what
// kept it out), shared by the command line and the test runner.
#include <algorithm>

#include "engine/render/render.hpp"

namespace iptplan {

std::string render_why(const plan_item& it) {
  std::string out = it.full_id() + " is in the plan as a " + to_string(it.kind) +
                    (it.provisional ? ", provisionally (to confirm)" : "") + ": " + it.text + "\n";
  if (it.provisional) {
    out += "  It is not confirmed: the condition of every rule proposing it is still unknown, and\n"
           "  each rule's 'provisional when' support holds. These findings would confirm it or rule\n"
           "  it out:";
    for (const auto& f : it.to_confirm) out += " " + f;
    out += "\n";
  }
  if (!it.for_.empty()) {
    out += "  for:";
    for (const auto& f : it.for_) out += " " + f;
    out += "\n";
  }
  out += "It was proposed by " + std::to_string(it.because.size()) +
         (it.because.size() == 1 ? " rule" : " rules") + ":\n";
  for (const auto& r : it.because) append_reason_tree(out, r, 2);
  return printable(out, true);
}

std::string render_why_not(const rule_set& rs, const client_data& c, const evaluation& ev,
                           const plan& p, const std::string& item) {
  std::string base = item.substr(0, item.find('['));
  std::string key;
  if (auto open = item.find('['); open != std::string::npos && item.back() == ']') {
    key = item.substr(open + 1, item.size() - open - 2);
  }
  std::string out = item + " is not in the plan for " + c.file + ".\n";
  for (const auto& e : p.excluded) {
    if (e.item.full_id() != item && !(key.empty() && e.item.id == base)) continue;
    out += "\n" + e.item.full_id() + " was proposed, then excluded" +
           (e.note.empty() ? "" : " (" + e.note + ")") + ":\n";
    for (const auto& r : e.excluded_by) {
      out += "  excluded by:\n";
      append_reason_tree(out, r, 4);
    }
    for (const auto& r : e.item.because) {
      out += "  proposed by:\n";
      append_reason_tree(out, r, 4);
    }
  }
  out += "\nRules that could propose " + base + ":\n";
  for (auto ri : rs.prog->rules_proposing(base)) {
    const compiled_rule& r = rs.prog->rules[ri];
    bool any = false;
    for (const auto& o : ev.outcomes) {
      if (o.rule != ri) continue;
      reason why = explain_outcome(rs, c, ev, o);
      if (!key.empty() && !why.key.empty() && why.key != key) continue;
      any = true;
      out += "\n";
      append_reason_tree(out, why, 2);
      if (o.result == truth::yes) {
        std::string proposed = why.key.empty() ? base : base + "[" + why.key + "]";
        bool excluded = std::any_of(p.excluded.begin(), p.excluded.end(), [&](const excluded_item& e) {
          return e.item.full_id() == proposed;
        });
        out += excluded ? "    => fired; its item " + proposed + " was excluded (see above)\n"
                        : "    => fired; its item " + proposed + " is in the plan (see 'why " + proposed + "')\n";
      } else if (o.result == truth::no) {
        out += "    => did not fire: the conditions marked [no] were false\n";
      } else if (o.provisional) {
        std::string proposed = why.key.empty() ? base : base + "[" + why.key + "]";
        out += "    => proposed provisionally (its support '" + why.support + "' holds): " + proposed +
               " is in the plan's to-confirm section; would be decided by";
        for (const auto& m : o.missing) out += " " + m;
        if (o.more_missing) out += " and others";
        out += "\n";
      } else {
        out += "    => undecided: would be decided by";
        for (const auto& m : o.missing) out += " " + m;
        if (o.more_missing) out += " and others";
        out += "\n";
      }
    }
    if (!any) {
      out += "\n  rule " + r.id + " (" + rs.prog->file_of(r) + ":" + std::to_string(r.line) +
             "): no entry of its list matches " + item + "\n";
    }
  }
  return printable(out, true);
}

}  // namespace iptplan

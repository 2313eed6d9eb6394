// The terminal rendering: readable, items by priority, a short "why" each.
#include <map>

#include "engine/render/render.hpp"

namespace iptplan {

namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// One line naming why: the first reason's `because`, then the rules.
std::string short_why(const plan_item& it) {
  std::string out;
  if (!it.because.empty() && !it.because.front().because.empty()) out = it.because.front().because + " ";
  out += "(";
  for (std::size_t i = 0; i < it.because.size(); ++i) {
    const auto& r = it.because[i];
    out += (i ? "; " : "") + std::string("rule ") + r.rule.id + ", " + r.rule.file + ":" +
           std::to_string(r.rule.line);
  }
  return out + ")";
}

// `parent`: the challenge a solution or goal is listed under; when the same
// rules proposed both, the reason is not repeated.
void item(std::string& out, const plan_item& it, const std::string& bullet, int indent,
          const plan_item* parent = nullptr) {
  std::string pad(static_cast<std::size_t>(indent), ' ');
  out += pad + bullet + it.text + "  [" + it.full_id() + "]\n";
  bool same = parent != nullptr && !it.because.empty();
  for (const auto& r : it.because) {
    bool shared = false;
    for (const auto& pr : parent ? parent->because : std::vector<reason>{}) {
      shared = shared || (pr.rule.id == r.rule.id && pr.element == r.element);
    }
    same = same && shared;
  }
  if (same) return;
  out += pad + std::string(bullet.size(), ' ') + "why: " + short_why(it) + "\n";
}

}  // namespace

std::string render_text(const plan& p) {
  std::string out;
  out += "DRAFT TREATMENT PLAN - for review by the treating clinician; not a directive\n";
  if (!p.prov.client_id.empty()) out += "Client: " + p.prov.client_id + "\n";
  out += "Findings: " + p.prov.findings_file + "\n";
  out += "Rule set: " + p.prov.rule_set_name + " " + p.prov.rule_set_version +
         (p.prov.rule_set_status.empty() ? "" : " (" + p.prov.rule_set_status + ")") + "\n";

  out += "\nFLAGS\n";
  if (p.flags.empty()) out += "  (none)\n";
  for (const auto& f : p.flags) item(out, f, "[" + upper(f.severity) + "] ", 2);

  bool first_steps = false;
  for (const auto* group : {&p.goals, &p.solutions}) {
    for (const auto& g : *group) {
      if (!is_first_step(g)) continue;
      if (!first_steps) {
        out += "\nFIRST STEPS\n";
        first_steps = true;
      }
      item(out, g, g.kind == item_kind::solution ? "solution: " : "goal: ", 2);
    }
  }

  out += "\nCHALLENGES\n";
  if (p.challenges.empty()) out += "  (none)\n";
  int n = 0;
  for (const auto& c : p.challenges) {
    item(out, c, std::to_string(++n) + ". ", 2);
    for (const auto* group : {&p.solutions, &p.goals}) {
      for (const auto& s : *group) {
        bool is_for = std::find(s.for_.begin(), s.for_.end(), c.full_id()) != s.for_.end();
        if (!is_for) continue;
        item(out, s, s.kind == item_kind::solution ? "solution: " : "goal: ", 6, &c);
      }
    }
  }
  auto groups = plan_wide_groups(p);
  if (!groups.empty()) out += "\nPLAN-WIDE GOALS AND SOLUTIONS\n";
  for (const auto& group : groups) {
    for (std::size_t i = 0; i < group.size(); ++i) {
      const plan_item& g = *group[i];
      std::string bullet = g.kind == item_kind::solution ? "solution: " : "goal: ";
      // The shared reason is written once, under the group's last item.
      item(out, g, bullet, 2, i + 1 < group.size() ? group[i + 1] : nullptr);
    }
  }
  if (!p.conclusions.empty()) {
    out += "\nDERIVED CONCLUSIONS\n";
    for (const auto& c : p.conclusions) {
      out += "  " + c.fact + " = " + c.value + "  (";
      for (std::size_t i = 0; i < c.reasons.size(); ++i) out += (i ? ", " : "") + std::string("rule ") + c.reasons[i].rule.id;
      out += ")\n";
    }
  }
  if (!p.excluded.empty()) {
    out += "\nEXCLUDED\n";
    for (const auto& e : p.excluded) {
      out += "  " + e.item.full_id() + ": " + e.item.text + "\n    removed ";
      if (!e.note.empty()) out += "because " + e.note;
      if (!e.excluded_by.empty()) out += "by ";
      for (std::size_t i = 0; i < e.excluded_by.size(); ++i) {
        const auto& r = e.excluded_by[i];
        out += (i ? "; " : "") + std::string("rule ") + r.rule.id + " (" + r.rule.file + ":" +
               std::to_string(r.rule.line) + ")" + (r.because.empty() ? "" : ": " + r.because);
      }
      out += "\n";
    }
  }
  if (!p.to_assess.empty()) {
    out += "\nTO ASSESS (missing findings that leave " + std::to_string(p.undecided.size()) +
           " rule outcome(s) undecided)\n";
    for (const auto& a : p.to_assess) {
      out += "  - " + a.finding + (a.question.empty() ? "" : ": " + a.question) + "\n";
    }
  }
  if (!p.diagnostics.empty()) out += "\n";
  for (const auto& d : p.diagnostics) out += format_short(d);
  out += "\nProvenance: rule set sha256 " + p.prov.rule_set_sha256 + ", findings sha256 " +
         p.prov.findings_sha256 + ", iptplan " + p.prov.program_version + "\n";
  return out;
}

}  // namespace iptplan

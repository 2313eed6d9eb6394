#include "engine/plan.hpp"

#include "engine/select.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

namespace iptplan {

#ifndef IPTPLAN_VERSION
#define IPTPLAN_VERSION "0.0.0"
#endif

const char* program_version() { return IPTPLAN_VERSION; }

std::vector<const plan_item*> plan::find_all(const std::string& wanted) const {
  std::vector<const plan_item*> found;
  for (const auto* group : {&flags, &challenges, &solutions, &goals, &provisional}) {
    for (const auto& it : *group) {
      if (it.named_by(wanted)) found.push_back(&it);
    }
  }
  return found;
}

const plan_item* plan::find(const std::string& wanted) const {
  auto found = find_all(wanted);
  return found.size() == 1 ? found.front() : nullptr;
}

namespace {

class builder {
 public:
  builder(const rule_set& rs, const client_data& c, const evaluation& ev)
      : rs_(rs), p_(*rs.prog), c_(c), ev_(ev) {
    by_rule_.resize(p_.rules.size());
    for (std::size_t i = 0; i < ev.outcomes.size(); ++i) by_rule_[ev.outcomes[i].rule].push_back(i);
  }

  rule_ref ref(const compiled_rule& r) const {
    return {r.id, r.title, p_.base_of(r), r.source, r.sha256, r.line, r.priority, r.tags};
  }

  std::string key_of(const compiled_rule& r, std::int32_t element) const {
    return r.each_list < 0 || element < 0 ? "" : element_key(p_, c_, r.each_list, element);
  }

  reason explain(const outcome& o, std::set<std::int32_t>& path) {
    const compiled_rule& r = p_.rules[o.rule];
    reason why;
    why.rule = ref(r);
    if (r.each_list >= 0 && o.element >= 0) why.element = element_label(p_, c_, r.each_list, o.element);
    why.key = key_of(r, o.element);
    why.undecided = o.result == truth::unknown && !o.provisional;
    if (o.result == truth::unknown && o.provisional) {
      why.provisional = true;
      why.support = r.support_text;
      why.to_confirm = askable_now(o.missing);
    }
    // A rule's `because` justifies what it proposes: only shown when it
    // fired, provisionally or not.
    if (r.has_because && (o.result == truth::yes || why.provisional)) {
      why.because = render_template(p_, c_, ev_, r, o.element, r.because);
    }
    std::set<std::int32_t> used;
    for (const auto& e : o.evidence) {
      evidence_view v;
      v.condition = p_.condition_text(p_.nodes[e.node]);
      v.result = to_string(e.result);
      v.values = e.values;
      v.depth = e.depth;
      if (e.group != condition_evidence::grouping::none) v.group = e.group == condition_evidence::grouping::any ? "any" : "all";
      why.evidence.push_back(std::move(v));
      if (e.result == truth::yes || o.result != truth::yes) used.insert(e.facts.begin(), e.facts.end());
    }
    why.more_evidence = o.more_evidence;
    for (auto f : used) why.derived.push_back(shared_fact(f, path));
    return why;
  }

  // The findings among `missing` that can be asked of the client (not a
  // conflict between rules, nor a division by zero).
  std::vector<std::string> askable(const std::vector<std::string>& missing) const {
    std::vector<std::string> out;
    for (const auto& m : missing) {
      if (p_.vocab->find(m.substr(0, m.find('[')))) out.push_back(m);
    }
    return out;
  }

  // Whether the skip logic asks finding `m` now: a question behind a gate
  // (`asked_if` in the vocabulary) waits until the gate is answered with a
  // value that opens it.
  bool asked_now(const std::string& m) const {
    int f = p_.vocab->index_of(m.substr(0, m.find('[')));
    return f < 0 || gate_of(p_, c_, static_cast<std::size_t>(f)) == gate_state::open;
  }

  // Whether `m` follows up an answer of its own questionnaire: its gate is
  // in the same group (risk.cssrs.q3 after risk.cssrs.q2) and open. A
  // question gated on something else (the age band) is no follow-up.
  bool follows_up(const std::string& m) const {
    const finding_decl* d = p_.vocab->find(m.substr(0, m.find('[')));
    if (!d || d->asked_if.empty() || !asked_now(m)) return false;
    return group_of(d->path) == group_of(d->asked_if);
  }

  // The findings among `missing` to ask now (see as_asked).
  std::vector<std::string> askable_now(const std::vector<std::string>& missing) const {
    return as_asked(p_, c_, missing, false);
  }

  bool fact_provisional(std::size_t f) const {
    return ev_.facts[f].is_unknown() && f < ev_.provisional.size() && !ev_.provisional[f].is_unknown();
  }

  // A fact's explanation, built once and shared by every reason that reads
  // it. Rule sets have no cycles (check.cycle), so a fact's tree does not
  // depend on the path it is reached by; only a fact met again on its own
  // path (never, in a checked rule set) is marked repeated, not shared.
  std::shared_ptr<const fact_explanation> shared_fact(std::int32_t f, std::set<std::int32_t>& path) {
    if (path.count(f)) return std::make_shared<const fact_explanation>(explain_fact(f, path));
    auto& slot = facts_[f];
    if (!slot) slot = std::make_shared<const fact_explanation>(explain_fact(f, path));
    return slot;
  }

  fact_explanation explain_fact(std::int32_t f, std::set<std::int32_t>& path) {
    fact_explanation fe;
    fe.fact = p_.facts[static_cast<std::size_t>(f)].path;
    bool prov = fact_provisional(static_cast<std::size_t>(f));
    fe.provisional = prov;
    fe.undecided = !prov && ev_.facts[static_cast<std::size_t>(f)].is_unknown();
    const value& v = prov ? ev_.provisional[static_cast<std::size_t>(f)] : ev_.facts[static_cast<std::size_t>(f)];
    fe.value = show_value(p_, c_, v);
    fe.holds = !v.is_unknown() && v.kind != vkind::none && !v.is_false();
    if (path.count(f)) {
      fe.repeated = true;
      return fe;
    }
    if (path.size() >= kMaxExplainDepth) {
      fe.cut = true;
      return fe;
    }
    path.insert(f);
    if (ev_.facts[static_cast<std::size_t>(f)].is_unknown() && !ev_.fact_missing.empty()) {
      // The findings as the skip logic asks them (a gated question waits for
      // its gate, a closed one is left out); other causes (a conflict
      // between rules) as they are.
      fe.missing = as_asked(p_, c_, ev_.fact_missing[static_cast<std::size_t>(f)], true);
      fe.more_missing = ev_.more_fact_missing[static_cast<std::size_t>(f)];
    }
    for (auto ri : p_.facts[static_cast<std::size_t>(f)].concluders) {
      for (auto k : by_rule_[ri]) {
        const outcome& o = ev_.outcomes[k];
        if (prov ? (o.result == truth::unknown && o.provisional) : o.result == truth::yes) {
          fe.reasons.push_back(explain(o, path));
        }
      }
    }
    path.erase(f);
    return fe;
  }

  plan build(const std::string& findings_sha) {
    plan pl;
    auto& pv = pl.prov;
    pv.rule_set_name = rs_.info.name;
    pv.rule_set_version = rs_.info.version;
    pv.rule_set_status = rs_.status;
    if (rs_.approved) {
      pv.approved_by = rs_.approved->by;
      pv.approved_on = rs_.approved->date;
    }
    pv.rule_set_review_date = rs_.info.review_date;
    pv.rule_set_sha256 = rs_.sha256;
    pv.findings_sha256 = findings_sha;
    pv.program_version = program_version();
    if (int ci = p_.vocab->index_of("client.id"); ci >= 0 && !c_.slots[ci].is_unknown()) {
      pv.client_id = show_value(p_, c_, c_.slots[static_cast<std::size_t>(ci)]);
    }

    // Which items: the selection; then each item's text, reasons and what
    // would confirm it.
    selection sel = select_items(p_, c_, ev_);
    if (sel.items.size() + sel.excluded.size() > kMaxPlanItems) {
      pl.diagnostics.push_back(plan_too_large(sel.items.size() + sel.excluded.size()));
      return pl;
    }
    std::optional<int> session;
    if (p_.session_slot >= 0) {
      const value& now = c_.slots[static_cast<std::size_t>(p_.session_slot)];
      if (now.kind == vkind::number && now.n >= 0 && now.n <= kMaxSession) session = static_cast<int>(std::floor(now.n));
    }
    pl.current_session = session;
    std::vector<diagnostic> date_problems;
    std::map<std::size_t, reason> explained;  // by outcome
    auto why = [&](std::size_t k) -> const reason& {
      auto at = explained.find(k);
      if (at == explained.end()) {
        std::set<std::int32_t> path;
        at = explained.emplace(k, explain(ev_.outcomes[k], path)).first;
      }
      return at->second;
    };
    // Each rule's item actions by kind and id, built when first needed: a
    // rule with thousands of actions is not searched once per item.
    std::unordered_map<std::uint32_t, std::unordered_map<std::string, std::size_t>> action_at;
    auto find_action = [&](const compiled_rule& r, std::uint32_t rule, item_kind kind,
                           const std::string& id) -> const compiled_action* {
      auto [at, fresh] = action_at.try_emplace(rule);
      if (fresh) {
        for (std::size_t i = 0; i < r.actions.size(); ++i) {
          auto k = item_kind_of(r.actions[i].kind);
          if (k) at->second.try_emplace(std::string(1, static_cast<char>('0' + static_cast<int>(*k))) + r.actions[i].id, i);
        }
      }
      auto f = at->second.find(std::string(1, static_cast<char>('0' + static_cast<int>(kind))) + id);
      return f == at->second.end() ? nullptr : &r.actions[f->second];
    };
    auto decorate = [&](const selected_item& s) {
      plan_item it;
      it.kind = s.kind;
      it.id = s.id;
      it.key = s.key;
      it.severity = s.severity;
      it.priority = s.priority;
      it.for_ = s.for_;
      it.provisional = s.provisional;
      // The text of the highest-priority proposing rule (a confirmed one
      // for a confirmed item), the first rule id on a tie.
      const outcome* best = nullptr;
      for (std::size_t k : s.proposals) {
        const outcome& o = ev_.outcomes[k];
        if (!best || p_.rules[o.rule].priority > p_.rules[best->rule].priority) best = &o;
      }
      if (best) {
        const compiled_rule& r = p_.rules[best->rule];
        if (const compiled_action* found = find_action(r, best->rule, s.kind, s.id)) {
          const compiled_action& a = *found;
          {
            it.text = render_template(p_, c_, ev_, r, best->element, a.text);
            if (a.due_node >= 0) {
              value due = evaluate_node(p_, c_, ev_, r, best->element, static_cast<std::uint32_t>(a.due_node));
              if (due.kind == vkind::number && due.n >= 1 && due.n <= kMaxSession) {
                it.due_session = static_cast<int>(std::floor(due.n));
                it.due_passed = session && *it.due_session < *session;
              } else if (due.kind == vkind::number) {
                // Computed from the client's values to something that is
                // no session (below 1, or past any course): no date, and
                // said. The value is not quoted: it came from the findings.
                diagnostic d;
                d.level = severity::warning;
                d.code = "plan.goal-date";
                d.file = r.file < p_.source_bases.size() ? p_.source_bases[r.file] : std::string();
                auto at = p_.sources[r.file].locate(a.src_begin);  // the goal's line
                d.line = static_cast<int>(at.line);
                d.column = static_cast<int>(at.column);
                d.message = "rule '" + r.id + "' dates goal '" + s.id + "' to a value that is not a session number (1 to " +
                            std::to_string(static_cast<int>(kMaxSession)) + "): the goal is shown without a date";
                date_problems.push_back(std::move(d));
              }
            }
          }
        }
      }
      for (std::size_t k : s.proposals) it.because.push_back(why(k));
      for (std::size_t k : s.removable_by) {
        if (it.removable_by.size() == kMaxReasonsKept) {
          ++it.more_removable_by;
          continue;
        }
        it.removable_by.push_back(why(k));
        for (const auto& a : p_.rules[ev_.outcomes[k].rule].actions) {
          if (item_kind_of(a.kind) == it.kind && a.id != it.id) it.removable_by.back().replaced_with.push_back(a.id);
        }
      }
      if (it.provisional) {
        std::set<std::string> confirm;
        for (const auto& w : it.because) confirm.insert(w.to_confirm.begin(), w.to_confirm.end());
        for (std::size_t k : s.removable_by) {
          for (auto& m : askable_now(ev_.outcomes[k].missing)) confirm.insert(std::move(m));
        }
        it.to_confirm.assign(confirm.begin(), confirm.end());
      }
      return it;
    };
    std::map<std::string, std::vector<std::string>> challenge_confirm;
    std::vector<plan_item> decorated;
    decorated.reserve(sel.items.size());
    for (const auto& s : sel.items) {
      decorated.push_back(decorate(s));
      if (s.kind == item_kind::challenge && s.provisional) {
        challenge_confirm[s.full_id()] = decorated.back().to_confirm;
      }
    }
    for (std::size_t i = 0; i < sel.items.size(); ++i) {
      const selected_item& s = sel.items[i];
      plan_item& it = decorated[i];
      if (!s.confirm_from.empty()) {
        std::set<std::string> confirm(it.to_confirm.begin(), it.to_confirm.end());
        for (const auto& ch : s.confirm_from) {
          const auto& from = challenge_confirm[ch];
          confirm.insert(from.begin(), from.end());
        }
        it.to_confirm.assign(confirm.begin(), confirm.end());
      }
      if (it.provisional) {
        pl.provisional.push_back(std::move(it));
        continue;
      }
      switch (it.kind) {
        case item_kind::flag: pl.flags.push_back(std::move(it)); break;
        case item_kind::challenge: pl.challenges.push_back(std::move(it)); break;
        case item_kind::solution: pl.solutions.push_back(std::move(it)); break;
        case item_kind::goal: pl.goals.push_back(std::move(it)); break;
      }
    }
    for (const auto& rm : sel.excluded) {
      excluded_item x;
      x.item = decorate(rm.item);
      for (std::size_t k : rm.excluded_by) {
        if (x.excluded_by.size() == kMaxReasonsKept) {
          ++x.more_excluded_by;
        } else {
          x.excluded_by.push_back(why(k));
        }
      }
      x.note = rm.note;
      pl.excluded.push_back(std::move(x));
    }

    // Derived conclusions that hold.
    for (std::size_t f = 0; f < p_.facts.size(); ++f) {
      const value& v = fact_provisional(f) ? ev_.provisional[f] : ev_.facts[f];
      if (v.is_unknown() || v.kind == vkind::none || v.is_false()) continue;
      std::set<std::int32_t> path;
      pl.conclusions.push_back(explain_fact(static_cast<std::int32_t>(f), path));
    }
    // The rule set's summary facts, in words.
    for (std::size_t at = 0; at < rs_.info.summary.size(); ++at) {
      const std::string& name = rs_.info.summary[at];
      std::string shown = "not yet known";
      const std::string& none = rs_.info.summary_none[at];
      bool holds_none = false;
      for (std::size_t f = 0; f < p_.facts.size(); ++f) {
        if (p_.facts[f].path != name) continue;
        const bool prov = fact_provisional(f);
        const value& v = prov ? ev_.provisional[f] : ev_.facts[f];
        holds_none = v.kind == vkind::none || v.is_false();
        if (v.kind == vkind::none) shown = none.empty() ? "none" : none;
        else if (v.is_false()) shown = none.empty() ? "no" : none;
        else if (!v.is_unknown()) {
          for (const auto& c : pl.conclusions) {
            if (c.fact == name) {
              // Words, not a symbol: "role transition".
              shown = c.value;
              std::replace(shown.begin(), shown.end(), '_', ' ');
              if (prov) shown += " (provisional: missing answers could change it)";
            }
          }
        }
      }
      if (holds_none && rs_.info.summary_hide_none[at]) continue;
      pl.summary_facts.emplace_back(rs_.info.summary_labels[at], shown);
    }

    // Items a rule that fired has removed: an answer that could only
    // propose one of them decides nothing (the questions about a dispute
    // with a person who may be harming the client, set aside whatever they
    // say, are not asked next).
    std::set<std::string> removed_for_good;
    for (const auto& rm : sel.excluded) removed_for_good.insert(rm.item.full_id());
    // Likewise an item a rule that fired already proposes, and a yes/no
    // fact one already concludes: another rule's answer adds a reason, but
    // decides nothing (a death among the life events that already links a
    // person's death to the onset leaves the same question on the
    // inventory row with nothing to decide).
    std::set<std::string> proposed_for_good;
    std::set<std::int32_t> concluded_for_good;
    for (const auto& o : ev_.outcomes) {
      if (o.result != truth::yes) continue;
      const compiled_rule& r = p_.rules[o.rule];
      std::string key = key_of(r, o.element);
      for (const auto& a : r.actions) {
        std::string id = key.empty() ? a.id : a.id + "[" + key + "]";
        if (a.kind == ast::action_kind::exclude) removed_for_good.insert(id);
        else if (a.kind == ast::action_kind::conclude && a.value_node < 0) concluded_for_good.insert(a.fact);
        else if (a.kind != ast::action_kind::conclude) proposed_for_good.insert(id);
      }
    }
    for (const auto& id : removed_for_good) proposed_for_good.erase(id);
    // Undecided rules and what to assess.
    std::map<std::string, assess_item> assess;
    // What each answer decides, listed by the weight of the strongest rule
    // that proposes it (safety first, then priority), then by name.
    struct decided {
      double rank;
      assess_item::decided_as kind;
      bool removed;  // only excluded by the rules behind it so far
    };
    std::map<std::string, std::map<std::string, decided>> decided_weight;
    std::set<std::string> undecidable;  // rules said to divide by zero or overflow, once each
    for (const auto& o : ev_.outcomes) {
      if (o.result != truth::unknown) continue;
      const compiled_rule& r = p_.rules[o.rule];
      undecided_rule u;
      u.rule = ref(r);
      if (r.each_list >= 0 && o.element >= 0) u.element = element_label(p_, c_, r.each_list, o.element);
      u.key = key_of(r, o.element);
      u.missing = o.missing;
      u.more_missing = o.more_missing;
      // A division by zero, or a result too large for a number, leaves the
      // rule undecided for good (no answer decides it): said where every
      // format shows it, once per rule, at
      // the rule's place. The values are not quoted: they came from the
      // findings.
      for (const auto& m : o.missing) {
        bool by_zero = m.rfind("division by zero", 0) == 0, too_large = m.rfind("a result too large", 0) == 0;
        if ((!by_zero && !too_large) || !undecidable.insert(r.id).second) continue;
        diagnostic d;
        d.level = severity::warning;
        d.code = by_zero ? "plan.division-by-zero" : "plan.out-of-range";
        d.file = r.file < p_.source_bases.size() ? p_.source_bases[r.file] : std::string();
        d.line = r.line;
        d.column = 1;
        d.message = "rule '" + r.id + "' cannot be decided: " + m +
                    (by_zero ? " (the value it divides by is 0)" : " (beyond the largest number there is)") +
                    ", so its items are neither proposed nor ruled out; check the findings it reads";
        date_problems.push_back(std::move(d));
      }
      // Ask next: each finding the outcome waits on scores the items its
      // rule would decide, weighted by priority; safety rules (priority 100
      // or tag 'safety') outrank everything else. Only findings are asked
      // (a conflict between rules or a division by zero is shown
      // elsewhere), and only those the skip logic would ask now.
      bool safety = is_safety_rule(r);
      // Each with its rank among what the answer decides: the rule's weight,
      // then flags, challenges, solutions and goals before derived facts.
      using as = assess_item::decided_as;
      std::vector<std::tuple<std::string, double, as, bool>> decides;
      std::string key = key_of(r, o.element);
      const double rule_rank = (safety ? 1000.0 : 0.0) + r.priority;
      auto keyed = [&key](const std::string& id) { return key.empty() ? id : id + "[" + key + "]"; };
      std::size_t n_items = 0;
      for (const auto& a : r.actions) {
        if (a.kind != ast::action_kind::conclude && removed_for_good.count(keyed(a.id))) continue;
        if (a.kind == ast::action_kind::conclude ? a.value_node < 0 && concluded_for_good.count(a.fact) > 0
                                                 : a.kind != ast::action_kind::exclude &&
                                                       proposed_for_good.count(keyed(a.id)) > 0) {
          continue;
        }
        if (a.kind == ast::action_kind::exclude) {
          // An item the rule would remove is decided by the answer too.
          std::int8_t k = a.item >= 0 ? p_.item_kinds[static_cast<std::size_t>(a.item)] : -1;
          decides.emplace_back(keyed(a.id), rule_rank, k < 0 ? as::removed_only : static_cast<as>(k), true);
          ++n_items;
          continue;
        }
        if (a.kind == ast::action_kind::conclude) {
          decides.emplace_back(p_.facts[static_cast<std::size_t>(a.fact)].path, rule_rank, as::fact, false);
        } else {
          double kind_rank = 0.4 - 0.1 * static_cast<double>(*item_kind_of(a.kind));
          decides.emplace_back(keyed(a.id), rule_rank + kind_rank, static_cast<as>(*item_kind_of(a.kind)), false);
          ++n_items;
        }
      }
      double weight = rule_rank;
      weight *= static_cast<double>(std::max<std::size_t>(1, n_items));
      std::set<std::string> asked;  // each question once for this rule
      // Nothing left for the answer to decide: not a reason to ask.
      for (const auto& given : decides.empty() ? std::vector<std::string>{} : askable(o.missing)) {
        if (auto m = asked_first(p_, c_, given); !m.empty()) asked.insert(std::move(m));
      }
      for (const auto& m : asked) {
        if (!asked_now(m)) continue;
        auto& a = assess[m];
        if (a.finding.empty()) {  // first seen: once per finding
          a.finding = m;
          a.follow_up = follows_up(m);
        }
        a.score += weight;
        a.top_priority = std::max(a.top_priority, r.priority);
        a.safety = a.safety || safety;
        a.scope = a.scope || std::find(r.tags.begin(), r.tags.end(), "scope") != r.tags.end();
        if (a.rules.empty() || a.rules.back() != r.id) a.rules.push_back(r.id);
        auto& weights = decided_weight[m];
        for (const auto& [d, rank, kind, removed] : decides) {
          auto [at, fresh] = weights.emplace(d, decided{rank, kind, removed});
          if (fresh) continue;
          at->second.rank = std::max(at->second.rank, rank);
          at->second.removed = at->second.removed && removed;
        }
      }
      pl.undecided.push_back(std::move(u));
    }
    std::sort(pl.undecided.begin(), pl.undecided.end(), [](const undecided_rule& a, const undecided_rule& b) {
      return std::tie(a.rule.id, a.element) < std::tie(b.rule.id, b.element);
    });
    // A screen with skip logic that the client has started is completed:
    // its questions the skip logic asks now are asked, even when no rule
    // waits on them any more, since the clinician is told to finish it and
    // the answers matter beyond this plan (a recent attempt, a plan).
    {
      const auto gated = gated_groups();
      const auto& all = p_.vocab->findings();
      // A gate whose follow-up is recorded has, in effect, its answer (the
      // 3-month self-harm question answered says the lifetime one was
      // yes): not asked only to complete the screen. Found in one pass.
      std::vector<bool> answered_by_follow_up(all.size(), false);
      for (std::size_t j = 0; j < all.size(); ++j) {
        if (all[j].asked_if.empty() || c_.slots[j].is_unknown() || c_.is_implied(j)) continue;
        if (int gate = p_.vocab->index_of(all[j].asked_if); gate >= 0) {
          answered_by_follow_up[static_cast<std::size_t>(gate)] = true;
        }
      }
      for (const auto& g : gated) {
        bool started = false;
        for (std::size_t i = 0; i < all.size(); ++i) {
          started = started || (group_of(all[i].path) == g && !c_.slots[i].is_unknown() && !c_.is_implied(i));
        }
        if (!started) continue;
        for (std::size_t i = 0; i < all.size(); ++i) {
          const auto& d = all[i];
          if (group_of(d.path) != g || !c_.slots[i].is_unknown() || !asked_now(d.path) || assess.count(d.path)) continue;
          if (answered_by_follow_up[i]) continue;
          auto& a = assess[d.path];
          a.finding = d.path;
          a.follow_up = follows_up(d.path);
          a.safety = d.component == "risk";
          a.completes = g;
        }
      }
    }
    for (auto& [name, a] : assess) {
      // "relationships[mother].conflict" asks the field's question.
      std::string base = name, field;
      if (auto open = name.find('['); open != std::string::npos) {
        base = name.substr(0, open);
        auto dot = name.find("].");
        if (dot != std::string::npos) field = name.substr(dot + 2);
      }
      if (const auto* d = p_.vocab->find(base)) {
        a.component = d->component;
        a.question = d->question;
        a.clinician = d->clinician;
        if (field.empty()) a.until_answered = d->until_answered;
        if (!field.empty()) {
          if (const auto* fd = d->field(field)) a.question = fd->question;
        }
      }
      std::sort(a.rules.begin(), a.rules.end());
      a.rules.erase(std::unique(a.rules.begin(), a.rules.end()), a.rules.end());
      std::vector<std::tuple<double, std::string, assess_item::decided_as, bool>> by_weight;
      for (const auto& [item, d] : decided_weight[name]) by_weight.emplace_back(-d.rank, item, d.kind, d.removed);
      std::sort(by_weight.begin(), by_weight.end());
      for (auto& [w, item, kind, removed] : by_weight) {
        a.items.push_back(std::move(item));
        a.item_kinds.push_back(kind);
        a.item_removed.push_back(removed);
      }
      pl.to_assess.push_back(std::move(a));
    }
    // Safety first, whatever the scores; within each, the follow-ups the
    // skip logic has opened; then the safety questions as a risk assessment
    // asks them: the screeners asked of everyone, with skip logic of their
    // own (C-SSRS, self-harm), then the others in the vocabulary's order
    // (age band, PHQ-9 item 9, violence, the perinatal questions: a group
    // asked of some clients only is no screener); the other questions by
    // score. Ties keep the vocabulary's order (the interview's).
    auto vocab_place = [this](const std::string& finding) {
      const auto* d = p_.vocab->find(finding.substr(0, finding.find('[')));
      return d ? d->line : std::numeric_limits<int>::max();
    };
    auto screens = gated_groups();
    for (const auto& f : p_.vocab->findings()) {
      if (!f.asked_if.empty() && group_of(f.asked_if) != group_of(f.path)) screens.erase(group_of(f.path));
    }
    auto in_screen = [&](const std::string& finding) {
      if (finding.find('[') != std::string::npos) return false;
      auto dot = finding.rfind('.');
      return dot != std::string::npos && screens.count(finding.substr(0, dot)) > 0;
    };
    // The screens the clinician has begun (an answer of the group on file):
    // finished before anything else is asked.
    std::set<std::string> started;
    for (std::size_t i = 0; i < p_.vocab->findings().size() && i < c_.slots.size(); ++i) {
      const auto& f = p_.vocab->findings()[i];
      if (c_.slots[i].kind != vkind::unknown && !c_.is_implied(i) && screens.count(group_of(f.path))) {
        started.insert(group_of(f.path));
      }
    }
    auto in_started_screen = [&](const std::string& finding) {
      return in_screen(finding) && started.count(group_of(finding)) > 0;
    };
    // An answer that would confirm or rule out a challenge to confirm (the
    // proposed focus, say) before one that decides only what might be,
    // whatever their scores: the interview settles what is on the table
    // first (a clinician's trial found the mother's expectations, which
    // decide the proposed dispute with her, ranked 11th, off the list shown,
    // behind the life-event history). Counted: the answer that settles more
    // of them first.
    std::map<std::string, int> confirms;
    for (const auto& it : pl.provisional) {
      if (it.kind != item_kind::challenge) continue;
      for (const auto& f : it.to_confirm) ++confirms[f];
    }
    auto confirming = [&](const std::string& f) {
      auto at = confirms.find(f);
      return at == confirms.end() ? 0 : at->second;
    };
    // Then an answer that spares another question (vocabulary
    // `asked_unless`: whose death it was, which makes the event's own grief
    // question one about that person) before the question it spares.
    std::map<std::string, int> spares;
    for (const auto& a : pl.to_assess) {
      auto open = a.finding.find('['), close = a.finding.find("].");
      if (open == std::string::npos || close == std::string::npos) continue;
      const auto* list = p_.vocab->find(a.finding.substr(0, open));
      const auto* field = list ? list->field(a.finding.substr(close + 2)) : nullptr;
      if (field && !field->asked_unless.empty()) ++spares[a.finding.substr(0, close + 2) + field->asked_unless];
    }
    // For "relationships[son].conflict": the son's value of the list's
    // ask_order field; anything else, or an entry without it, after all.
    // Each list's entries read once, into a map by key.
    constexpr double kLast = 1e300;
    std::map<std::string, std::map<std::string, double>> entry_orders;  // list -> key -> order
    std::unordered_map<std::string, double> order;  // by question
    for (const auto& a : pl.to_assess) {
      double o = kLast;
      auto open = a.finding.find('['), close = a.finding.find("].");
      int li = open == std::string::npos || close == std::string::npos ? -1 : p_.vocab->index_of(a.finding.substr(0, open));
      const finding_decl* list = li < 0 ? nullptr : &p_.vocab->findings()[static_cast<std::size_t>(li)];
      const value* slot = li < 0 ? nullptr : &c_.slots[static_cast<std::size_t>(li)];
      if (list && !list->ask_order.empty() && slot->kind == vkind::table) {
        auto [keys, fresh] = entry_orders.try_emplace(list->path);
        if (fresh) {
          auto field = static_cast<std::size_t>(list->field_index(list->ask_order));
          for (const auto& e : c_.tables[slot->ref]) {
            if (field < e.fields.size() && e.fields[field].kind == vkind::number) keys->second[e.key] = e.fields[field].n;
          }
        }
        auto at = keys->second.find(a.finding.substr(open + 1, close - open - 1));
        if (at != keys->second.end()) o = at->second;
      }
      order.emplace(a.finding, o);
    }
    auto sparing = [&](const std::string& f) {
      auto at = spares.find(f);
      return at == spares.end() ? 0 : at->second;
    };
    std::stable_sort(pl.to_assess.begin(), pl.to_assess.end(), [&](const assess_item& a, const assess_item& b) {
      // The client's questions, then what the clinician records, each
      // ranked on its own (one order for both keeps the comparison a strict
      // weak order).
      if (a.clinician != b.clinician) return !a.clinician;
      if (a.safety != b.safety) return a.safety;
      // A screen with skip logic of its own that the clinician has begun
      // (the C-SSRS with Q1 on file) is finished first, before a follow-up
      // another answer opened: it sets the risk tier and what follows in
      // it (from a clinician's trial: the question on harming the baby,
      // opened by a postpartum status, broke into the C-SSRS between Q1
      // and Q2).
      if (a.safety) {
        const bool sa = in_started_screen(a.finding), sb = in_started_screen(b.finding);
        if (sa != sb) return sa;
      }
      // A follow-up that only completes a screen (no item waits on it: the
      // rules read its absence the safe way) does not jump ahead of the
      // questions that decide safety items.
      const bool fa = a.follow_up && !a.items.empty(), fb = b.follow_up && !b.items.empty();
      if (fa != fb) return fa;
      // A question that decides whether IPT fits at all before those that
      // shape the work, however many items the latter decide. For the
      // client's questions: a rule of priority 90 and above (scope,
      // contraindications). For what the clinician records: a rule tagged
      // `scope` (the diagnoses the scope flag asks for, which a clinician's
      // trial found ranked off the shown list), not priority, since a rating
      // of the alliance, priority 90 too, is no question of fit.
      const bool fit_a = a.clinician ? a.scope : a.top_priority >= 90;
      const bool fit_b = b.clinician ? b.scope : b.top_priority >= 90;
      if (!a.safety && fit_a != fit_b) return fit_a;
      if (!a.safety) {
        int ca = confirming(a.finding), cb = confirming(b.finding);
        if (ca != cb) return ca > cb;
      }
      if (!a.safety && a.score != b.score) return a.score > b.score;
      if (!a.safety) {
        int xa = sparing(a.finding), xb = sparing(b.finding);
        if (xa != xb) return xa > xb;
      }
      bool sa = a.safety && in_screen(a.finding), sb = b.safety && in_screen(b.finding);
      if (sa != sb) return sa;
      // Questions about entries of one list, by the list's `ask_order`
      // (the innermost ring of people first).
      if (double oa = order.at(a.finding), ob = order.at(b.finding); oa != ob) return oa < ob;
      return vocab_place(a.finding) < vocab_place(b.finding);
    });
    in_questionnaire_order(pl.to_assess);
    // The questions for the client first, then what the clinician records
    // (ratings, the setting), each in its ranked order.
    std::stable_partition(pl.to_assess.begin(), pl.to_assess.end(), [](const assess_item& a) { return !a.clinician; });
    pl.diagnostics = ev_.conflicts;
    pl.diagnostics.insert(pl.diagnostics.end(), date_problems.begin(), date_problems.end());
    return pl;
  }

 private:
  // "risk.cssrs" for "risk.cssrs.q1": a finding's vocabulary group.
  static std::string group_of(const std::string& path) {
    auto dot = path.rfind('.');
    return dot == std::string::npos ? std::string() : path.substr(0, dot);
  }

  // The vocabulary groups holding a question gated on another of the group:
  // questionnaires with skip logic (risk.cssrs, risk.self_harm).
  std::set<std::string> gated_groups() const {
    std::set<std::string> gated;
    for (const auto& f : p_.vocab->findings()) {
      std::string group = group_of(f.path);
      if (!f.asked_if.empty() && !group.empty() && group == group_of(f.asked_if)) gated.insert(group);
    }
    return gated;
  }

  // A questionnaire with skip logic is asked in one go and in its own
  // order: the findings of a group holding a gated question (risk.cssrs:
  // Q1, Q2, Q3-Q5 after a yes to Q2, Q6, ...) all come at the place the
  // ranking gave the first of them, in the vocabulary's order. So the list
  // reads as the screener is asked.
  void in_questionnaire_order(std::vector<assess_item>& ranked) const {
    const std::set<std::string> gated = gated_groups();
    auto group_in = [&](const assess_item& a) {
      const auto& name = a.finding;
      if (name.find('[') != std::string::npos || p_.vocab->index_of(name) < 0) return std::string();
      std::string group = group_of(name);
      return gated.count(group) ? group : std::string();
    };
    std::map<std::string, std::vector<assess_item>> groups;
    for (auto& a : ranked) {
      if (auto g = group_in(a); !g.empty()) groups[g].push_back(a);
    }
    for (auto& [group, items] : groups) {
      std::stable_sort(items.begin(), items.end(), [&](const assess_item& a, const assess_item& b) {
        return p_.vocab->index_of(a.finding) < p_.vocab->index_of(b.finding);
      });
    }
    std::vector<assess_item> out;
    out.reserve(ranked.size());
    for (auto& a : ranked) {
      std::string g = group_in(a);
      if (g.empty()) {
        out.push_back(std::move(a));
      } else if (auto at = groups.find(g); at != groups.end()) {
        for (auto& it : at->second) out.push_back(std::move(it));
        groups.erase(at);  // the rest of the group is already placed
      }
    }
    ranked = std::move(out);
  }

  const rule_set& rs_;
  const program& p_;
  const client_data& c_;
  const evaluation& ev_;
  std::unordered_map<std::int32_t, std::shared_ptr<const fact_explanation>> facts_;
  std::vector<std::vector<std::size_t>> by_rule_;
};

}  // namespace

diagnostic plan_too_large(std::size_t items) {
  diagnostic d;
  d.code = "plan.too-large";
  d.message = "the rules propose " + std::to_string(items) + " items for this client; a plan holds at most " +
              std::to_string(kMaxPlanItems) + ", so none is shown";
  d.notes.push_back("a rule set whose rules run over lists (for each) with many actions each makes a plan "
                    "that grows with the lists: give fewer actions, or run fewer rules over each list");
  return d;
}

plan build_plan(const rule_set& rs, const client_data& c, const evaluation& ev,
                const std::string& findings_sha256) {
  builder b(rs, c, ev);
  return b.build(findings_sha256);
}

std::optional<fact_explanation> explain_fact(const rule_set& rs, const client_data& c, const evaluation& ev,
                                             const std::string& path) {
  int f = rs.prog->fact_index(path);
  if (f < 0) return std::nullopt;
  builder b(rs, c, ev);
  std::set<std::int32_t> seen;
  return b.explain_fact(f, seen);
}

reason explain_outcome(const rule_set& rs, const client_data& c, const evaluation& ev,
                       const outcome& o) {
  builder b(rs, c, ev);
  std::set<std::int32_t> path;
  return b.explain(o, path);
}

void add_findings_diagnostics(plan& p, std::vector<diagnostic> ds) {
  sort_diagnostics(ds);
  std::size_t kept = std::min(ds.size(), kMaxPlanDiagnostics);
  for (std::size_t i = 0; i < kept; ++i) {
    diagnostic d = std::move(ds[i]);
    d.file = "findings";
    d.source_line.clear();  // never a line of the findings in a plan
    p.diagnostics.push_back(std::move(d));
  }
  if (ds.size() > kept) {
    diagnostic more;
    more.level = severity::warning;
    more.code = "plan.more-warnings";
    more.file = "findings";
    more.message = "and " + std::to_string(ds.size() - kept) + " more warnings about the findings, not listed";
    p.diagnostics.push_back(std::move(more));
  }
}

}  // namespace iptplan

// How plans lay items out: grouped under their challenges or by the reasons
// behind them, dated goals in the order they fall due, and the text shown.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "engine/render/render.hpp"

namespace iptplan {

namespace {

// "the one X whose answer ...", "the N Xs ... part of the plan", or "the N
// of M Xs ... most of the plan" when only `limit` are shown.
std::string list_summary(std::size_t total, std::size_t limit, const std::string& one, const std::string& many,
                         const std::string& after) {
  std::size_t shown = std::min(total, limit);
  if (total == 1) return "the one " + one + " would decide part of the plan" + after;
  if (shown == total) return "the " + std::to_string(total) + " " + many + " would decide part of the plan" + after;
  return "the " + std::to_string(shown) + " of " + std::to_string(total) + " " + many + " would decide most of the plan" +
         after;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> summary_lines(const plan& p) {
  std::vector<std::pair<std::string, std::string>> out;
  auto count = [](std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  auto clip = [](const std::string& t, std::size_t max) {
    if (t.size() <= max) return t;
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(t[cut]) & 0xC0) == 0x80) --cut;  // a character's start
    std::size_t word = cut;
    while (word > 0 && t[word - 1] != ' ') --word;  // at a word's end, if there is one
    return t.substr(0, word > 1 ? word - 1 : cut) + "...";
  };
  // Flags by severity, and the first (the most severe).
  std::size_t critical = 0, warning = 0, info = 0, possible = 0;
  for (const auto& f : p.flags) {
    if (f.severity == "critical") ++critical;
    else if (f.severity == "warning") ++warning;
    else ++info;
  }
  for (const auto& it : p.provisional) possible += it.kind == item_kind::flag;
  std::string flags;
  if (p.flags.empty()) {
    flags = "none";
  } else {
    std::vector<std::string> parts;
    if (critical) parts.push_back(std::to_string(critical) + " critical");
    if (warning) parts.push_back(count(warning, "warning", "warnings"));
    if (info) parts.push_back(std::to_string(info) + " info");
    for (std::size_t i = 0; i < parts.size(); ++i) flags += (i ? ", " : "") + parts[i];
    // Its first sentence whole: the action is in it, and a clinician's
    // trial found it cut mid-instruction ("...arrange an...") at 160.
    // Only a sentence past any real flag's length is clipped.
    // A short first sentence ("...: the low tier at least.") is followed by
    // the next, which says what to do (from a clinician's trial: the
    // summary gave the tier and no action).
    const std::string& first = p.flags.front().text;
    std::size_t end = 0;
    while (end < first.size() && end < 100) {
      std::size_t stop = first.find(". ", end);
      end = stop == std::string::npos ? first.size() : stop + 1;
    }
    flags += "; first: " + (end <= 400 ? first.substr(0, end) : clip(first, 380));
  }
  out.emplace_back("Flags", flags);
  if (possible) out.emplace_back("Possible flags", std::to_string(possible) + " (under TO CONFIRM)");
  for (const auto& [fact, shown] : p.summary_facts) out.emplace_back(fact, shown);
  std::string items = count(p.challenges.size(), "challenge", "challenges") + ", " +
                      count(p.solutions.size(), "solution", "solutions") + ", " +
                      count(p.goals.size(), "goal", "goals");
  if (!p.provisional.empty()) items += "; " + count(p.provisional.size(), "item", "items") + " to confirm";
  out.emplace_back("Plan", items);
  // Items to confirm that wait only on what the clinician records (the
  // session number, the phase): one entry away from the plan, said so
  // (from clinicians' trials: a grief focus stayed provisional for want of
  // the session number, which read as doubt about the grief).
  {
    std::set<std::string> recorded_by_clinician;
    for (const auto& a : p.to_assess) {
      if (a.clinician) recorded_by_clinician.insert(a.finding);
    }
    std::size_t waiting = 0;
    std::vector<std::string> on;
    for (const auto& it : p.provisional) {
      if (it.to_confirm.empty()) continue;
      bool only = std::all_of(it.to_confirm.begin(), it.to_confirm.end(),
                              [&](const std::string& f) { return recorded_by_clinician.count(f) > 0; });
      if (!only) continue;
      ++waiting;
      for (const auto& f : it.to_confirm) {
        if (std::find(on.begin(), on.end(), f) == on.end()) on.push_back(f);
      }
    }
    if (waiting) {
      std::string names;
      for (std::size_t i = 0; i < on.size() && i < 3; ++i) {
        names += (i == 0 ? "" : i + 1 == std::min<std::size_t>(on.size(), 3) && on.size() <= 3 ? " and " : ", ") + on[i];
      }
      if (on.size() > 3) names += " and " + std::to_string(on.size() - 3) + " more";
      out.emplace_back("Waiting only on the clinician",
                       "record " + names + " to settle " + count(waiting, "item", "items") + " to confirm");
    }
  }
  // The first questions for the client, then the first the clinician records.
  std::string ask, record;
  std::size_t asked = 0, recorded = 0;
  for (const auto& a : p.to_assess) {
    std::string& into = a.clinician ? record : ask;
    std::size_t& n = a.clinician ? recorded : asked;
    if (n++ < 3) into += (into.empty() ? "" : ", ") + a.finding;
  }
  if (asked) out.emplace_back("Ask next", ask + (asked > 3 ? " (and " + std::to_string(asked - 3) + " more)" : ""));
  if (recorded) {
    out.emplace_back("Record next", record + (recorded > 3 ? " (and " + std::to_string(recorded - 3) + " more)" : ""));
  }
  return out;
}

std::string ask_next_summary(std::size_t total) {
  return list_summary(total, kAskNextShown, "missing finding whose answer", "missing findings whose answers",
                      total == 1 ? "" : ", safety first");
}

std::string record_next_summary(std::size_t total) {
  return list_summary(total, kRecordNextShown, "rating or arrangement the clinician records that",
                      "ratings and arrangements the clinician records that", "");
}

namespace {

// "role_dispute[partner]" as "role dispute (partner)"; a derived fact's
// path is kept as the plan's conclusions name it.
std::string item_in_words(const std::string& id, bool fact) {
  if (fact) return id;
  // The words of the id, with the names of instruments and of IPT as they
  // are written ("ipt_a_format" as "IPT-A format", "gad7_below_10" as
  // "GAD-7 below 10").
  static const std::map<std::string, std::string> names = {
      {"ipt", "IPT"},     {"phq9", "PHQ-9"}, {"gad7", "GAD-7"},   {"tas20", "TAS-20"}, {"cssrs", "C-SSRS"},
      {"mspss", "MSPSS"}, {"ders", "DERS"},  {"iip32", "IIP-32"}, {"wai", "WAI"},      {"ipi", "IPI"}};
  std::string out;
  auto open = id.find('[');
  const std::size_t end = std::min(open, id.size());
  std::vector<std::string> words;
  std::string word;
  for (std::size_t i = 0; i <= end; ++i) {
    if (i == end || id[i] == '_') {
      words.push_back(word);
      word.clear();
    } else {
      word += id[i];
    }
  }
  for (std::size_t w = 0; w < words.size(); ++w) {
    auto at = names.find(words[w]);
    std::string shown = at == names.end() ? words[w] : at->second;
    if (words[w] == "ipt" && w + 1 < words.size() && words[w + 1] == "a") {
      shown = "IPT-A";
      ++w;
    }
    out += (out.empty() ? "" : " ") + shown;
  }
  if (open != std::string::npos && id.back() == ']') {
    std::string key = id.substr(open + 1, id.size() - open - 2);
    std::replace(key.begin(), key.end(), '_', ' ');
    // A position (a list without a key field: life events) is said as one.
    const bool position = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
    out += " (" + std::string(position ? "no. " : "") + key + ")";
  }
  return out;
}

}  // namespace

std::string decides_in_words(const assess_item& a, bool markdown) {
  struct bucket {
    const char* one;
    const char* many;
    bool counted;  // more than two are counted, not named
    std::vector<std::string> names;
  };
  // Flags, challenges, goals, solutions, conclusions (and, defensively, an
  // item no rule proposes); what the answer could propose, then what it
  // could only remove.
  auto buckets_of = [] {
    return std::vector<bucket>{{"flag", "flags", false, {}},         {"challenge", "challenges", false, {}},
                               {"goal", "goals", true, {}},          {"solution", "solutions", true, {}},
                               {"conclusion", "conclusions", false, {}}, {"item", "items", false, {}}};
  };
  auto proposed = buckets_of(), removed = buckets_of();
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    using as = assess_item::decided_as;
    const as kind = i < a.item_kinds.size() ? a.item_kinds[i] : as::removed_only;
    const bool fact = kind == as::fact;
    std::size_t b = kind == as::flag        ? 0
                    : kind == as::challenge ? 1
                    : kind == as::goal      ? 2
                    : kind == as::solution  ? 3
                    : fact                  ? 4
                                            : 5;
    std::string name = item_in_words(a.items[i], fact);
    auto& into = i < a.item_removed.size() && a.item_removed[i] ? removed : proposed;
    into[b].names.push_back(markdown ? markdown_escape(name) : name);
  }
  // The derived facts behind items are for the auditor (JSON, why): named
  // only when the answer decides nothing else it could propose.
  if (!proposed[0].names.empty() || !proposed[1].names.empty() || !proposed[2].names.empty() ||
      !proposed[3].names.empty()) {
    proposed[4].names.clear();
  }
  // Groups joined by "; ", or (what could be set aside, one phrase) by
  // ", " and a last " and ".
  auto say = [](const std::vector<bucket>& buckets, bool one_phrase) {
    std::vector<std::string> groups;
    // Goals and solutions past two are counted, together: "14 goals and 23
    // solutions of the work plan".
    std::string counted;
    for (const auto& b : buckets) {
      const auto n = b.names.size();
      if (!b.counted || n <= 2) continue;
      counted += (counted.empty() ? "" : " and ") + std::to_string(n) + " " + b.many;
    }
    for (const auto& b : buckets) {
      const auto n = b.names.size();
      if (n == 0) continue;
      if (b.counted && n > 2) {
        if (!counted.empty()) groups.push_back(counted + " of the work plan");
        counted.clear();
        continue;
      }
      std::string g = std::string("the ") + (n == 1 ? b.one : b.many) + " ";
      const std::size_t shown = n > 4 ? 3 : n;
      for (std::size_t k = 0; k < shown; ++k) {
        g += (k == 0 ? "" : (k + 1 == shown && shown == n) ? " and " : ", ") + b.names[k];
      }
      if (shown < n) g += " and " + std::to_string(n - shown) + " more";
      groups.push_back(std::move(g));
    }
    std::string out;
    for (std::size_t k = 0; k < groups.size(); ++k) {
      out += (k == 0 ? "" : !one_phrase ? "; " : k + 1 == groups.size() ? " and " : ", ") + groups[k];
    }
    return out;
  };
  std::string out = say(proposed, false), aside = say(removed, true);
  if (!aside.empty()) out += (out.empty() ? "whether to set aside " : "; and whether to set aside ") + aside;
  return out;
}

std::size_t client_questions(const plan& p) {
  // The client's questions come first (plan.cpp partitions the list).
  return static_cast<std::size_t>(
      std::partition_point(p.to_assess.begin(), p.to_assess.end(), [](const assess_item& a) { return !a.clinician; }) -
      p.to_assess.begin());
}

bool is_schedule(const plan_item& it) {
  if (it.because.empty()) return false;
  return std::all_of(it.because.begin(), it.because.end(), [](const reason& r) {
    return std::find(r.rule.tags.begin(), r.rule.tags.end(), "schedule") != r.rule.tags.end();
  });
}

namespace {

std::optional<int> due_of(const plan_item* it) {
  return it->kind == item_kind::goal ? it->due_session : std::nullopt;
}

// Dated entries in the order they fall due, in the places dated entries
// hold: an undated one ("at every session", "at this session") keeps its
// place, so risk stays first and a timeline reads in order.
template <class T, class Due>
void order_by_due(std::vector<T>& v, Due due) {
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (due(v[i])) at.push_back(i);
  }
  std::vector<T> dated;
  dated.reserve(at.size());
  for (auto i : at) dated.push_back(std::move(v[i]));
  std::stable_sort(dated.begin(), dated.end(), [&](const T& a, const T& b) { return *due(a) < *due(b); });
  for (std::size_t k = 0; k < at.size(); ++k) v[at[k]] = std::move(dated[k]);
}

// Goals and solutions listed under a challenge of the plan (as the
// renderers list them: work_by_challenge).
std::set<const plan_item*> under_challenges(const plan& p) {
  std::set<const plan_item*> out;
  for (const auto& work : work_by_challenge(p)) out.insert(work.begin(), work.end());
  return out;
}

}  // namespace

std::vector<const plan_item*> schedule_items(const plan& p) {
  auto under = under_challenges(p);
  std::vector<const plan_item*> out;
  for (const auto* group : {&p.goals, &p.solutions}) {
    for (const auto& it : *group) {
      if (!under.count(&it) && !is_first_step(it) && is_schedule(it)) out.push_back(&it);
    }
  }
  order_by_due(out, due_of);
  return out;
}

std::string reason_key(const plan_item& it) {
  std::string key;
  for (const auto& r : it.because) key += r.rule.id + "[" + r.element + "];";
  return key;
}

std::vector<std::vector<const plan_item*>> listed_under(const std::vector<const plan_item*>& challenges,
                                                        const std::vector<const plan_item*>& items,
                                                        bool first_only) {
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < challenges.size(); ++i) index.emplace(challenges[i]->full_id(), i);
  std::vector<std::vector<const plan_item*>> out(challenges.size());
  std::vector<std::size_t> targets;
  for (const auto* it : items) {
    if (it->kind != item_kind::solution && it->kind != item_kind::goal) continue;
    targets.clear();
    for (const auto& f : it->for_) {
      auto at = index.find(f);
      if (at != index.end()) targets.push_back(at->second);
    }
    std::sort(targets.begin(), targets.end());
    targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
    if (first_only && targets.size() > 1) targets.resize(1);
    for (auto t : targets) out[t].push_back(it);
  }
  // Under a challenge, an undated goal ("by the final session" while the
  // course length is not recorded) comes after the dated ones.
  for (auto& work : out) {
    order_by_due(work, due_of);
    std::stable_partition(work.begin(), work.end(),
                          [](const plan_item* it) { return it->kind != item_kind::goal || it->due_session; });
  }
  return out;
}

std::vector<std::vector<const plan_item*>> work_by_challenge(const plan& p) {
  std::vector<const plan_item*> challenges, work;
  for (const auto& c : p.challenges) challenges.push_back(&c);
  for (const auto* group : {&p.solutions, &p.goals}) {
    for (const auto& s : *group) work.push_back(&s);
  }
  return listed_under(challenges, work, false);
}

provisional_layout lay_out_provisional(const plan& p) {
  std::vector<const plan_item*> challenges, items;
  for (const auto& it : p.provisional) {
    items.push_back(&it);
    if (it.kind == item_kind::challenge) challenges.push_back(&it);
  }
  auto work = listed_under(challenges, items, true);
  std::unordered_set<const plan_item*> listed;
  for (const auto& w : work) listed.insert(w.begin(), w.end());
  // What is left may be work for a challenge of the plan.
  std::vector<const plan_item*> rest, confirmed;
  for (const auto* it : items) {
    if (!listed.count(it)) rest.push_back(it);
  }
  for (const auto& c : p.challenges) confirmed.push_back(&c);
  auto for_confirmed = listed_under(confirmed, rest, true);
  for (std::size_t i = 0; i < confirmed.size(); ++i) {
    if (for_confirmed[i].empty()) continue;
    listed.insert(for_confirmed[i].begin(), for_confirmed[i].end());
  }
  provisional_layout out;
  std::size_t next = 0;  // challenges come in the order of p.provisional
  for (const auto* it : items) {
    if (listed.count(it)) continue;
    out.top.push_back(it);
    out.work.emplace_back();
    if (it->kind == item_kind::challenge) out.work.back() = std::move(work[next++]);
  }
  for (std::size_t i = 0; i < confirmed.size(); ++i) {
    if (!for_confirmed[i].empty()) out.for_confirmed.emplace_back(confirmed[i], std::move(for_confirmed[i]));
  }
  return out;
}

work_extras work_plan_extras(const plan_item& challenge, const std::vector<const plan_item*>& work) {
  work_extras out;
  for (const auto* s : work) {
    auto& extra = out.per_item.emplace_back();
    for (const auto& f : s->to_confirm) {
      auto& own = challenge.to_confirm;
      if (std::find(own.begin(), own.end(), f) == own.end()) extra.push_back(f);
    }
  }
  out.shared = out.per_item.size() > 1;
  for (const auto& e : out.per_item) out.shared = out.shared && e == out.per_item.front();
  return out;
}

void factor_common(work_extras& x) {
  if (x.shared || x.per_item.size() < 2) return;
  std::vector<std::string> common = x.per_item.front();
  for (const auto& e : x.per_item) {
    std::vector<std::string> kept;
    for (const auto& f : common) {
      if (std::find(e.begin(), e.end(), f) != e.end()) kept.push_back(f);
    }
    common = std::move(kept);
  }
  if (common.empty()) return;
  for (auto& e : x.per_item) {
    e.erase(std::remove_if(e.begin(), e.end(),
                           [&](const std::string& f) { return std::find(common.begin(), common.end(), f) != common.end(); }),
            e.end());
  }
  x.common = std::move(common);
}

std::vector<std::vector<const plan_item*>> plan_wide_groups(const plan& p) {
  // Items listed under a challenge of the plan are not plan-wide.
  auto for_a_challenge = under_challenges(p);
  std::vector<std::vector<const plan_item*>> groups;
  std::map<std::string, std::size_t> by_reason;
  for (const auto* group : {&p.goals, &p.solutions}) {
    for (const auto& it : *group) {
      if (for_a_challenge.count(&it) || is_first_step(it) || is_schedule(it)) continue;
      auto [pos, fresh] = by_reason.emplace(reason_key(it), groups.size());
      if (fresh) groups.emplace_back();
      groups[pos->second].push_back(&it);
    }
  }
  for (auto& g : groups) order_by_due(g, due_of);
  order_by_due(groups, [](const std::vector<const plan_item*>& g) {
    std::optional<int> first;
    for (const auto* it : g) {
      auto d = due_of(it);
      if (d && (!first || *d < *first)) first = d;
    }
    return first;
  });
  return groups;
}

std::string status_words(const provenance& pv) {
  if (pv.rule_set_status == "approved") return "approved by " + pv.approved_by + " on " + pv.approved_on;
  return pv.rule_set_status.empty() ? "draft" : pv.rule_set_status;
}

std::string shown_text(const plan_item& it) {
  if (!it.due_passed || !it.due_session) return it.text;
  return it.text + " (session " + std::to_string(*it.due_session) + " has passed)";
}

std::string hang(const std::string& s, std::size_t column) {
  if (s.find('\n') == std::string::npos) return s;
  std::string out;
  out.reserve(s.size() + column);
  for (char c : s) {
    out += c;
    if (c == '\n') out.append(column, ' ');
  }
  return out;
}

std::string passed_dates_note(const plan& p) {
  for (const auto* group : {&p.goals, &p.solutions, &p.provisional, &p.challenges}) {
    for (const auto& it : *group) {
      if (it.due_passed && it.due_session) {
        return "Items marked '(session N has passed)' are dated to a session already held: record whether each "
               "was met, and if not, set a new session for it.";
      }
    }
  }
  return "";
}

std::string removable_note(const plan_item& it, bool code) {
  if (it.removable_by.empty()) return {};
  std::string out;
  const auto n = it.removable_by.size();
  auto name = [&](const std::string& s) { return code ? "`" + s + "`" : s; };
  // Rules that would put an item of the same kind in its place say so: a
  // lower risk tier's flag is replaced by a higher tier's, never just
  // dropped.
  const bool replacing = std::any_of(it.removable_by.begin(), it.removable_by.end(),
                                     [](const reason& r) { return !r.replaced_with.empty(); });
  const std::size_t more = it.more_removable_by;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& r = it.removable_by[i];
    out += i == 0 ? "" : i + 1 == n && more == 0 ? (replacing ? ", and " : " and ") : ", ";
    out += "rule " + name(r.rule.id);
    if (!r.element.empty()) out += " for " + r.element;
    out += " (" + r.rule.file + ":" + std::to_string(r.rule.line) + ")";
    if (!replacing) continue;
    if (r.replaced_with.empty()) {
      out += " would remove it";
      continue;
    }
    const bool said = i > 0 && !it.removable_by[i - 1].replaced_with.empty();
    if (r.replaced_with.size() == 1 && r.replaced_with[0] == r.rule.id) {
      // 'rule ipt_a_not_indicated would replace it with
      // ipt_a_not_indicated' read as a slip.
      out += said ? " with its own item of that name" : " would replace it with its own item of that name";
      continue;
    }
    out += said ? " with " : " would replace it with ";
    for (std::size_t j = 0; j < r.replaced_with.size(); ++j) {
      out += (j == 0 ? "" : j + 1 == r.replaced_with.size() ? " and " : ", ") + name(r.replaced_with[j]);
    }
  }
  if (more) out += (replacing ? ", and " : " and ") + std::to_string(more) + " more rule outcomes, not listed";
  const std::size_t all = n + more;
  if (replacing) return out + (all == 1 ? "; it is not yet decided" : all == 2 ? "; neither is decided yet" : "; none is decided yet");
  return out + (all == 1 ? " would remove it and is not yet decided" : " would remove it and are not yet decided");
}

std::size_t critical_first(const plan& p) {
  return static_cast<std::size_t>(
      std::count_if(p.flags.begin(), p.flags.end(), [](const plan_item& f) { return f.severity == "critical"; }));
}

std::string critical_first_note(std::size_t flags) {
  return flags == 1 ? "The critical flag above comes first. The work below is for after it has been acted on, "
                      "once the treating clinician judges the client safe to continue with it."
                    : "The critical flags above come first. The work below is for after they have been acted on, "
                      "once the treating clinician judges the client safe to continue with it.";
}

std::vector<std::string> with_ask_next_numbers(const plan& p, const std::vector<std::string>& fs, bool code) {
  std::vector<std::string> out;
  out.reserve(fs.size());
  const std::size_t questions = client_questions(p);
  const std::size_t asked = std::min(questions, kAskNextShown);
  const std::size_t recorded = std::min(p.to_assess.size() - questions, kRecordNextShown);
  for (const auto& f : fs) {
    std::string s = code ? "`" + f + "`" : f;
    for (std::size_t i = 0; i < asked; ++i) {
      if (p.to_assess[i].finding == f) {
        s += " (ask next " + std::to_string(i + 1) + ")";
        break;
      }
    }
    for (std::size_t i = 0; i < recorded; ++i) {
      if (p.to_assess[questions + i].finding == f) {
        s += " (record next " + std::to_string(i + 1) + ")";
        break;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> ranked_few(const plan& p, const std::vector<std::string>& fs, std::size_t keep, bool code) {
  auto numbered = with_ask_next_numbers(p, fs, code);
  std::vector<std::size_t> order(fs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto rank = [&](std::size_t i) {
    for (std::size_t k = 0; k < p.to_assess.size(); ++k) {
      if (p.to_assess[k].finding == fs[i]) return k;
    }
    return p.to_assess.size() + i;
  };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rank(a) < rank(b); });
  std::vector<std::string> out;
  for (std::size_t k = 0; k < order.size() && k < keep; ++k) out.push_back(numbered[order[k]]);
  if (fs.size() > keep) {
    // The last shown, then the count: "a, b and 6 more findings".
    out.push_back(std::to_string(fs.size() - keep) + " more findings");
  }
  return out;
}

std::string confirm_verb(const plan& p, const std::vector<std::string>& fs) {
  std::size_t recorded = 0;
  for (const auto& f : fs) {
    auto at = std::find_if(p.to_assess.begin(), p.to_assess.end(), [&](const assess_item& a) { return a.finding == f; });
    recorded += at != p.to_assess.end() && at->clinician ? 1 : 0;
  }
  return recorded == 0 || fs.empty() ? "ask" : recorded == fs.size() ? "record" : "ask or record";
}

}  // namespace iptplan

#include "engine/select.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <tuple>
#include <unordered_map>

namespace iptplan {

namespace {

// Proposals merged by (kind, id, key); ids are interned by the compiler.
struct entry {
  selected_item item;
  std::int32_t id = -1;      // index into program::item_ids
  std::int32_t list = -1;    // the list its proposing rules iterate
  std::int8_t severity = 0;  // rank of item.severity (compiled_action)
  bool removed = false;
  std::unique_ptr<removed_item> rm;  // when removed
};

}  // namespace

selection select_items(const program& p, const client_data& c, const evaluation& ev) {
  selection out;
  auto key_of = [&](const compiled_rule& r, std::int32_t element) {
    return r.each_list < 0 || element < 0 ? std::string() : element_key(p, c, r.each_list, element);
  };
  struct key_hash {
    std::size_t operator()(const std::pair<std::uint64_t, std::string>& k) const {
      return std::hash<std::uint64_t>()(k.first) ^ (std::hash<std::string>()(k.second) << 1);
    }
  };
  // Kept by the thread and cleared, not freed, between clients: a plan of
  // hundreds of items would otherwise allocate (and fault in) its table anew.
  thread_local std::vector<entry> pool;
  std::vector<entry>& entries = pool;
  entries.clear();
  auto order_of = [&](const entry* e) {
    return e->id >= 0 ? p.item_order[static_cast<std::size_t>(e->id)] : std::int32_t{-1};
  };
  // About one item per proposing outcome: no moves while it grows.
  entries.reserve(std::max<std::size_t>(16, ev.outcomes.size()));
  // Items proposed without a key (most) are found by (kind, interned id) in
  // a table kept by the thread and cleared after use; keyed ones by hash.
  std::unordered_map<std::pair<std::uint64_t, std::string>, std::size_t, key_hash> index;
  thread_local std::vector<std::int32_t> unkeyed;
  static constexpr std::size_t kinds = 4;
  if (unkeyed.size() < kinds * p.item_ids.size()) unkeyed.assign(kinds * p.item_ids.size(), -1);
  // Cleared on every way out, exceptions included.
  struct clear_after {
    std::vector<entry>& entries;
    ~clear_after() {
      for (const auto& e : entries) {
        if (e.item.key.empty() && e.id >= 0) {
          unkeyed[static_cast<std::size_t>(e.id) * kinds + static_cast<std::size_t>(e.item.kind)] = -1;
        }
      }
    }
  } clear{entries};
  auto find_or_add = [&](item_kind kind, std::int32_t item, const std::string& key) -> std::size_t {
    if (key.empty() && item >= 0) {
      std::int32_t& at = unkeyed[static_cast<std::size_t>(item) * kinds + static_cast<std::size_t>(kind)];
      if (at < 0) at = static_cast<std::int32_t>(entries.size());
      return static_cast<std::size_t>(at);
    }
    auto kid = (static_cast<std::uint64_t>(kind) << 32) | static_cast<std::uint32_t>(item);
    return index.try_emplace({kid, key}, entries.size()).first->second;
  };
  struct exclusion {
    std::int32_t id;
    std::string key;
    std::int32_t list;
    std::size_t outcome;
  };
  std::vector<exclusion> exclusions;
  std::vector<exclusion> pending;  // of undecided rules
  bool any_target_every = false;
  for (std::size_t k = 0; k < ev.outcomes.size(); ++k) {
    const outcome& o = ev.outcomes[k];
    if (o.result == truth::unknown) {
      out.undecided.push_back(k);
      // An undecided rule that would remove items: they are not settled.
      const compiled_rule& r = p.rules[o.rule];
      for (const auto& a : r.actions) {
        if (a.kind == ast::action_kind::exclude) pending.push_back({a.item, key_of(r, o.element), r.each_list, k});
      }
    }
    bool prov = o.result == truth::unknown && o.provisional;
    if (o.result != truth::yes && !prov) continue;
    const compiled_rule& r = p.rules[o.rule];
    std::string key = key_of(r, o.element);
    for (const auto& a : r.actions) {
      if (a.kind == ast::action_kind::conclude) continue;
      if (a.kind == ast::action_kind::exclude) {
        // Only a confirmed rule removes an item: never on partial evidence.
        if (!prov) exclusions.push_back({a.item, key, r.each_list, k});
        continue;
      }
      auto kind = *item_kind_of(a.kind);
      std::size_t at = find_or_add(kind, a.item, key);
      bool fresh = at == entries.size();
      if (fresh) {
        entries.emplace_back();
        entries.back().id = a.item;
        entries.back().item.proposals.reserve(4);  // most items have a few
      }
      entry& e = entries[at];
      selected_item& it = e.item;
      e.list = r.each_list;
      // Provisional until some rule proposes it outright. Like its text, a
      // confirmed item's priority and severity come from the rules that
      // proposed it outright: the first of them replaces what provisional
      // proposals gave, and later provisional ones add nothing.
      const bool first_outright = !prov && (fresh || it.provisional);
      const bool same_standing = prov == it.provisional;
      it.provisional = (fresh || it.provisional) && prov;
      it.kind = kind;
      if (fresh) {
        it.id = a.id;
        it.key = key;
      }
      if (first_outright || fresh) {
        it.priority = r.priority;
        e.severity = a.severity_rank;
        it.severity = a.severity;
      } else if (same_standing) {
        it.priority = std::max(it.priority, r.priority);
        if (a.severity_rank > e.severity) {
          e.severity = a.severity_rank;
          it.severity = a.severity;
        }
      }
      if (!a.target.empty()) {
        any_target_every = any_target_every || a.target_every;
        if (a.target_keyed && !key.empty()) {
          std::string target = a.target + "[" + key + "]";
          if (std::find(it.for_.begin(), it.for_.end(), target) == it.for_.end()) it.for_.push_back(std::move(target));
        } else if (std::find(it.for_.begin(), it.for_.end(), a.target) == it.for_.end()) {
          it.for_.push_back(a.target);
        }
      }
      it.proposals.push_back(k);
    }
  }
  // `for X` written in a rule without `for each`, when X is raised per
  // person or event (X[partner], X[1]): the item is for every X raised.
  if (any_target_every) {
    std::map<std::string, std::vector<std::string>> keyed_challenges;  // id -> full ids
    std::set<std::string> unkeyed_challenges;
    for (const auto& e : entries) {
      if (e.item.kind != item_kind::challenge) continue;
      if (e.item.key.empty()) {
        unkeyed_challenges.insert(e.item.id);
      } else {
        keyed_challenges[e.item.id].push_back(e.item.full_id());
      }
    }
    for (auto& e : entries) {
      auto& targets = e.item.for_;
      std::vector<std::string> expanded;
      bool changed = false;
      for (const auto& t : targets) {
        auto keyed = keyed_challenges.find(t);
        if (keyed != keyed_challenges.end() && !unkeyed_challenges.count(t)) {
          expanded.insert(expanded.end(), keyed->second.begin(), keyed->second.end());
          changed = true;
        } else {
          expanded.push_back(t);
        }
      }
      if (changed) {
        std::sort(expanded.begin(), expanded.end());
        expanded.erase(std::unique(expanded.begin(), expanded.end()), expanded.end());
        targets = std::move(expanded);
      }
    }
  }
  auto element_of = [&](std::size_t k) { return ev.outcomes[k].element; };
  auto rule_id_of = [&](std::size_t k) -> const std::string& { return p.rules[ev.outcomes[k].rule].id; };
  for (auto& e : entries) {
    selected_item& it = e.item;
    // A confirmed item rests on its confirmed proposals alone (a proposal
    // is provisional when its outcome is unknown).
    if (!it.provisional) {
      it.proposals.erase(std::remove_if(it.proposals.begin(), it.proposals.end(),
                                        [&](std::size_t k) { return ev.outcomes[k].result != truth::yes; }),
                         it.proposals.end());
    }
    std::sort(it.for_.begin(), it.for_.end());
    // Rules are sorted by id: their indices are in id order.
    auto order = [&](std::size_t a, std::size_t b) {
      if (ev.outcomes[a].rule != ev.outcomes[b].rule) return ev.outcomes[a].rule < ev.outcomes[b].rule;
      return element_of(a) < element_of(b);
    };
    std::sort(it.proposals.begin(), it.proposals.end(), order);
    it.proposals.erase(std::unique(it.proposals.begin(), it.proposals.end(),
                                   [&](std::size_t a, std::size_t b) {
                                     return ev.outcomes[a].rule == ev.outcomes[b].rule &&
                                            element_of(a) == element_of(b);
                                   }),
                       it.proposals.end());
  }

  // Whether `ex` names entry `e`: its id, and, from a `for each` rule over
  // the same list, only the same element's.
  auto names = [](const exclusion& ex, const entry& e) {
    return e.id == ex.id && !(ex.list >= 0 && e.list == ex.list && e.item.key != ex.key);
  };
  // Exclusions win over any proposal.
  bool any_removed = false;
  for (const auto& ex : exclusions) {
    for (auto& e : entries) {
      if (!names(ex, e)) continue;
      if (!e.removed) {
        e.removed = true;
        e.rm = std::make_unique<removed_item>();
        e.rm->item = e.item;
      }
      e.rm->excluded_by.push_back(ex.outcome);
      any_removed = true;
    }
  }
  if (any_removed) {
    for (auto& e : entries) {
      if (!e.removed) continue;
      std::sort(e.rm->excluded_by.begin(), e.rm->excluded_by.end(),
                [&](std::size_t a, std::size_t b) { return rule_id_of(a) < rule_id_of(b); });
    }
    // A solution or goal whose every challenge was excluded goes too.
    std::set<std::string> gone_challenges;
    for (const auto& e : entries) {
      if (e.removed && e.item.kind == item_kind::challenge) gone_challenges.insert(e.item.full_id());
    }
    for (auto& e : entries) {
      if (e.removed || e.item.for_.empty()) continue;
      bool all_gone = std::all_of(e.item.for_.begin(), e.item.for_.end(),
                                  [&](const std::string& t) { return gone_challenges.count(t) > 0; });
      if (all_gone) {
        e.removed = true;
        e.rm = std::make_unique<removed_item>();
        e.rm->item = e.item;
        e.rm->note = "the challenge it addresses was excluded";
      }
    }
  }
  // An item that a rule still undecided would remove is not settled either:
  // it is provisional, and the findings that decide that rule confirm it or
  // rule it out (the session-12 remission target while the course length is
  // not recorded). Exact three-valued logic, with one exception: an item a
  // safety rule proposed outright stays in the plan, since the lowest risk
  // tier the known answers imply is acted on now, and a higher tier, once
  // established, replaces it; it still says which undecided rule could
  // remove it (telling a parent, until harm at home is asked about).
  for (const auto& ex : pending) {
    for (auto& e : entries) {
      if (e.removed || !names(ex, e)) continue;
      selected_item& it = e.item;
      if (!it.provisional) {
        bool safety = std::any_of(it.proposals.begin(), it.proposals.end(),
                                  [&](std::size_t k) { return is_safety_rule(p.rules[ev.outcomes[k].rule]); });
        if (!safety) it.provisional = true;
      }
      if (std::find(it.removable_by.begin(), it.removable_by.end(), ex.outcome) == it.removable_by.end()) {
        it.removable_by.push_back(ex.outcome);
      }
    }
  }
  for (auto& e : pending.empty() ? std::span<entry>() : std::span<entry>(entries)) {
    if (e.item.removable_by.size() > 1) {
      std::sort(e.item.removable_by.begin(), e.item.removable_by.end(),
                [&](std::size_t a, std::size_t b) { return rule_id_of(a) < rule_id_of(b); });
    }
  }
  // A solution or goal for challenges that are only provisional is itself
  // provisional: work for a problem not yet confirmed.
  bool any_provisional_challenge = std::any_of(entries.begin(), entries.end(), [](const entry& e) {
    return !e.removed && e.item.kind == item_kind::challenge && e.item.provisional;
  });
  if (any_provisional_challenge) {
    std::map<std::string, const selected_item*> challenge_of;
    for (const auto& e : entries) {
      if (!e.removed && e.item.kind == item_kind::challenge) challenge_of[e.item.full_id()] = &e.item;
    }
    for (auto& e : entries) {
      selected_item& it = e.item;
      // (An item provisional on its own proposals already says what confirms
      // it; one only an undecided `exclude` holds back gains its challenges'.)
      if (e.removed || it.for_.empty() || (it.provisional && it.removable_by.empty())) continue;
      bool any_confirmed = false;
      std::vector<std::string> provisional_challenges;
      for (const auto& t : it.for_) {
        auto ch = challenge_of.find(t);
        if (ch == challenge_of.end()) continue;
        if (ch->second->provisional) {
          provisional_challenges.push_back(t);
        } else {
          any_confirmed = true;
        }
      }
      if (!provisional_challenges.empty() && !any_confirmed) {
        it.provisional = true;
        it.confirm_from = std::move(provisional_challenges);
      }
    }
  }

  // Flags first by severity, then by priority (highest first), id and key;
  // ids compare by their alphabetical rank, computed once by the compiler.
  auto by_priority = [&](const entry* a, const entry* b) {
    if (a->severity != b->severity) return a->severity > b->severity;
    if (a->item.priority != b->item.priority) return a->item.priority > b->item.priority;
    if (a->id != b->id) return order_of(a) < order_of(b);
    return a->item.key < b->item.key;
  };
  // Kept by the thread, as the item table.
  thread_local std::vector<entry*> groups[4], provisional, removed;
  for (auto& g : groups) g.clear();
  provisional.clear();
  removed.clear();
  for (auto& e : entries) {
    if (e.removed) {
      removed.push_back(&e);
    } else if (e.item.provisional) {
      provisional.push_back(&e);
    } else {
      groups[static_cast<int>(e.item.kind)].push_back(&e);
    }
  }
  out.items.reserve(entries.size());
  for (auto& g : groups) {
    std::sort(g.begin(), g.end(), by_priority);
    for (auto* e : g) out.items.push_back(std::move(e->item));
  }
  std::sort(provisional.begin(), provisional.end(), [&](const entry* a, const entry* b) {
    if (a->item.kind != b->item.kind) return a->item.kind < b->item.kind;
    return by_priority(a, b);
  });
  for (auto* e : provisional) out.items.push_back(std::move(e->item));
  // Removed items by kind, id and key.
  std::sort(removed.begin(), removed.end(), [](const entry* a, const entry* b) {
    if (a->item.kind != b->item.kind) return a->item.kind < b->item.kind;
    if (int cmp = a->item.id.compare(b->item.id)) return cmp < 0;
    return a->item.key < b->item.key;
  });
  for (auto* e : removed) out.excluded.push_back(std::move(*e->rm));
  return out;
}

}  // namespace iptplan

// Stratification: a rule that reads a derived fact runs after every rule
// that concludes it. Rules that depend on each other only positively (a bare
// fact read outside `not`) share a stratum iterated to a fixpoint; a cycle
// through a strict read (`not`, `is known`/`is missing`, `count`, `all`, a
// comparison of a valued fact) has no meaning and is an error.
#include <algorithm>
#include <set>

#include "engine/compile.hpp"

namespace iptplan {

void stratify(program& p,
              const std::vector<std::vector<std::pair<std::uint32_t, bool>>>& reads,
              std::vector<diagnostic>& diags) {
  const auto n = static_cast<std::uint32_t>(p.rules.size());
  // edges[c] = (reader, strict): reader must run after concluder c.
  std::vector<std::vector<std::pair<std::uint32_t, bool>>> edges(n);
  for (std::uint32_t r = 0; r < n && r < reads.size(); ++r) {
    for (const auto& [fact, strict] : reads[r]) {
      for (std::uint32_t c : p.facts[fact].concluders) edges[c].push_back({r, strict});
    }
  }
  // Tarjan's strongly connected components, with an explicit stack: a long
  // chain of rules reading each other's facts must not exhaust the C++ stack.
  std::vector<int> index(n, -1), low(n, 0), comp(n, -1);
  std::vector<bool> on_stack(n, false);
  std::vector<std::uint32_t> stack;
  int counter = 0, comps = 0;
  struct frame {
    std::uint32_t v;
    std::size_t next_edge;
  };
  std::vector<frame> calls;
  for (std::uint32_t root = 0; root < n; ++root) {
    if (index[root] >= 0) continue;
    calls.push_back({root, 0});
    index[root] = low[root] = counter++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!calls.empty()) {
      frame& f = calls.back();
      std::uint32_t v = f.v;
      if (f.next_edge < edges[v].size()) {
        std::uint32_t w = edges[v][f.next_edge++].first;
        if (index[w] < 0) {
          index[w] = low[w] = counter++;
          stack.push_back(w);
          on_stack[w] = true;
          calls.push_back({w, 0});
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      // All edges of v seen: close its component if it is a root, then
      // return to the caller.
      if (low[v] == index[v]) {
        std::uint32_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          comp[w] = comps;
        } while (w != v);
        ++comps;
      }
      calls.pop_back();
      if (!calls.empty()) low[calls.back().v] = std::min(low[calls.back().v], low[v]);
    }
  }
  std::vector<std::vector<std::uint32_t>> members(static_cast<std::size_t>(comps));
  for (std::uint32_t v = 0; v < n; ++v) members[static_cast<std::size_t>(comp[v])].push_back(v);
  std::vector<bool> recursive(static_cast<std::size_t>(comps), false);
  std::vector<bool> broken(static_cast<std::size_t>(comps), false);
  for (std::uint32_t v = 0; v < n; ++v) {
    for (const auto& [w, strict] : edges[v]) {
      if (comp[v] != comp[w]) continue;
      recursive[static_cast<std::size_t>(comp[v])] = true;
      if (strict) broken[static_cast<std::size_t>(comp[v])] = true;
    }
  }
  for (int c = 0; c < comps; ++c) {
    if (!broken[static_cast<std::size_t>(c)]) continue;
    auto& ms = members[static_cast<std::size_t>(c)];
    std::sort(ms.begin(), ms.end());
    std::string names;
    for (auto m : ms) names += (names.empty() ? "'" : ", '") + p.rules[m].id + "'";
    const auto& first = p.rules[ms.front()];
    diagnostic d;
    d.level = severity::error;
    d.code = "check.cycle";
    d.file = p.file_of(first);
    d.line = first.line;
    d.column = 1;
    quote_line(d, p.sources[first.file]);
    d.message = "rules " + names +
                " depend on each other through 'not', 'is known'/'is missing', 'count', 'all' "
                "or a comparison of a derived fact, so no order can decide them";
    for (auto m : ms) {
      for (const auto& [w, strict] : edges[m]) {
        if (comp[w] != c) continue;
        for (auto f : p.rules[w].facts_read) {
          const auto& cs = p.facts[static_cast<std::size_t>(f)].concluders;
          if (std::find(cs.begin(), cs.end(), m) != cs.end()) {
            d.notes.push_back("'" + p.rules[w].id + "' (" + p.file_of(p.rules[w]) + ":" +
                              std::to_string(p.rules[w].line) + ") reads '" +
                              p.facts[static_cast<std::size_t>(f)].path + "', which '" +
                              p.rules[m].id + "' concludes" + (strict ? " (through a negation or test)" : ""));
          }
        }
      }
    }
    std::sort(d.notes.begin(), d.notes.end());
    d.notes.erase(std::unique(d.notes.begin(), d.notes.end()), d.notes.end());
    diags.push_back(std::move(d));
  }
  // Order the components: Kahn's algorithm, smallest rule index first, so
  // the order never depends on the order of files.
  std::vector<int> indegree(static_cast<std::size_t>(comps), 0);
  std::vector<std::set<int>> next(static_cast<std::size_t>(comps));
  for (std::uint32_t v = 0; v < n; ++v) {
    for (const auto& [w, strict] : edges[v]) {
      (void)strict;
      if (comp[v] != comp[w] && next[static_cast<std::size_t>(comp[v])].insert(comp[w]).second) {
        ++indegree[static_cast<std::size_t>(comp[w])];
      }
    }
  }
  auto key = [&](int c) { return *std::min_element(members[static_cast<std::size_t>(c)].begin(),
                                                   members[static_cast<std::size_t>(c)].end()); };
  // Components by level: a component runs one level after the latest of
  // those it reads from. The non-recursive components of one level never
  // read each other's facts, so they share a stratum: a fact is decided
  // once per level, not once per rule concluding it. A recursive component
  // keeps a stratum of its own, iterated to its fixpoint alone.
  std::vector<int> level(static_cast<std::size_t>(comps), 0);
  std::vector<int> order;
  order.reserve(static_cast<std::size_t>(comps));
  for (int c = 0; c < comps; ++c) {
    if (indegree[static_cast<std::size_t>(c)] == 0) order.push_back(c);
  }
  for (std::size_t i = 0; i < order.size(); ++i) {
    int c = order[i];
    for (int d : next[static_cast<std::size_t>(c)]) {
      auto& l = level[static_cast<std::size_t>(d)];
      l = std::max(l, level[static_cast<std::size_t>(c)] + 1);
      if (--indegree[static_cast<std::size_t>(d)] == 0) order.push_back(d);
    }
  }
  int levels = 0;
  for (int c : order) levels = std::max(levels, level[static_cast<std::size_t>(c)] + 1);
  std::vector<std::vector<std::uint32_t>> plain(static_cast<std::size_t>(levels));
  std::vector<std::vector<int>> loops(static_cast<std::size_t>(levels));
  for (int c : order) {
    auto l = static_cast<std::size_t>(level[static_cast<std::size_t>(c)]);
    if (recursive[static_cast<std::size_t>(c)]) {
      loops[l].push_back(c);
    } else {
      auto& ms = members[static_cast<std::size_t>(c)];
      plain[l].insert(plain[l].end(), ms.begin(), ms.end());
    }
  }
  p.strata.clear();
  p.recursive.clear();
  for (std::size_t l = 0; l < plain.size(); ++l) {
    if (!plain[l].empty()) {
      std::sort(plain[l].begin(), plain[l].end());
      p.strata.push_back(std::move(plain[l]));
      p.recursive.push_back(false);
    }
    std::sort(loops[l].begin(), loops[l].end(), [&](int a, int b) { return key(a) < key(b); });
    for (int c : loops[l]) {
      auto ms = members[static_cast<std::size_t>(c)];
      std::sort(ms.begin(), ms.end());
      p.strata.push_back(std::move(ms));
      p.recursive.push_back(true);
    }
  }
  std::vector<std::size_t> stratum_of(n, 0);
  for (std::size_t s = 0; s < p.strata.size(); ++s) {
    for (auto ri : p.strata[s]) stratum_of[ri] = s;
  }
  p.stratum_facts.assign(p.strata.size(), {});
  for (std::uint32_t f = 0; f < p.facts.size(); ++f) {
    std::set<std::size_t> in;
    for (auto ri : p.facts[f].concluders) in.insert(stratum_of[ri]);
    for (auto s : in) p.stratum_facts[s].push_back({f, s == *in.rbegin()});
  }
}

}  // namespace iptplan

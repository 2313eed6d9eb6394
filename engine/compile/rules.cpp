// Rules: ids, metadata, derived facts, actions, item references, and the
// ordered list of checks that compile() runs.
#include "engine/compile/compiler.hpp"

#include <map>
#include <algorithm>
#include <cmath>
#include <sstream>
#include <unordered_map>

namespace iptplan {

namespace {

// A number as a rule author wrote it: 8, -5, 2.5.
std::string shown(double n) { return number_text(n); }

}  // namespace

const char* to_string(item_kind k) {
  switch (k) {
    case item_kind::flag: return "flag";
    case item_kind::challenge: return "challenge";
    case item_kind::solution: return "solution";
    case item_kind::goal: return "goal";
  }
  return "?";
}

std::string program::without_comments(std::string_view raw) {
  std::string out, line;
  bool quoted = false, escaped = false, comment = false;
  auto end_line = [&]() {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) out += (out.empty() ? "" : "\n") + line;
    line.clear();
  };
  for (char ch : raw) {
    if (ch == '\n') {
      end_line();
      comment = quoted = escaped = false;
      continue;
    }
    if (comment) continue;
    if (quoted) {
      if (escaped) escaped = false;
      else if (ch == '\\') escaped = true;
      else if (ch == '"') quoted = false;
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == '#') {
      comment = true;
      continue;
    }
    line += ch;
  }
  end_line();
  return out;
}

int program::fact_index(const std::string& path) const {
  auto it = std::lower_bound(facts.begin(), facts.end(), path,
                             [](const fact_decl& f, const std::string& s) { return f.path < s; });
  return it != facts.end() && it->path == path ? static_cast<int>(it - facts.begin()) : -1;
}

int program::param_index(const std::string& name) const {
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (params[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::vector<std::uint32_t> program::rules_proposing(const std::string& id) const {
  std::vector<std::uint32_t> out;
  for (std::uint32_t i = 0; i < rules.size(); ++i) {
    for (const auto& a : rules[i].actions) {
      if (a.id == id && a.kind != ast::action_kind::conclude && a.kind != ast::action_kind::exclude) {
        out.push_back(i);
        break;
      }
    }
  }
  return out;
}

std::vector<std::uint32_t> program::rules_excluding(const std::string& id) const {
  std::vector<std::uint32_t> out;
  for (std::uint32_t i = 0; i < rules.size(); ++i) {
    for (const auto& a : rules[i].actions) {
      if (a.id == id && a.kind == ast::action_kind::exclude) {
        out.push_back(i);
        break;
      }
    }
  }
  return out;
}

namespace detail {

void compiler::compile_rule(const ast::rule& r, std::uint16_t file) {
  file_ = file;
  scope_.clear();
  vars_ = 0;
  reads_.clear();
  compiled_rule cr;
  cr.id = r.id;
  cr.file = file;
  cr.line = p_.sources[file].locate(r.begin).line;
  cr.src_begin = r.begin;
  cr.src_end = r.end;
  if (r.title) {
    cr.title = r.title->value;
    check_text_characters(r.title->value, r.title->begin);
  }
  bool seen_priority = false, seen_source = false;
  for (const auto& m : r.meta) {
    bool& seen = m.kind == ast::meta_kind::priority ? seen_priority : seen_source;
    if (m.kind != ast::meta_kind::tags) {
      if (seen) {
        error(m.begin, "check.duplicate-metadata",
              std::string("rule '") + r.id + "' gives its " +
                  (m.kind == ast::meta_kind::priority ? "priority" : "source") +
                  " twice; keep one");
      }
      seen = true;
    }
    switch (m.kind) {
      case ast::meta_kind::priority:
        if (m.number < 0 || m.number > 100 || m.number != static_cast<int>(m.number)) {
          error(m.begin, "check.priority",
                "priority must be a whole number from 0 to 100 (higher comes first)");
        }
        cr.priority = static_cast<int>(std::clamp(m.number, 0.0, 100.0));
        break;
      case ast::meta_kind::tags: cr.tags.insert(cr.tags.end(), m.words.begin(), m.words.end()); break;
      case ast::meta_kind::source:
        cr.source = m.text;
        cr.source_at = m.begin;
        check_text_characters(m.text, m.begin);
        break;
    }
  }
  if (r.each) {
    if (const finding_decl* decl = iterable(r.each->list, "'for each'")) {
      cr.each_list = p_.vocab->index_of(decl->path);
      cr.each_var = r.each->var;
      if (r.each->var == "param") {
        error(r.each->begin, "check.unknown-path",
              "'param' is reserved for parameters; choose another name for the entry");
      }
      scope_.push_back({r.each->var, decl, vars_++});
    } else {
      // Bound all the same, to nothing: its fields are not reported again.
      scope_.push_back({r.each->var, nullptr, vars_++});
    }
  }
  // A rule proposes a handful of items (the default rules, 22 at most): a
  // plan holds each of them once per person of a `for each`, so thousands
  // of actions made plans of 300,000 items and a gigabyte of memory.
  if (r.actions.size() > kMaxActionsPerRule) {
    error(r.actions[kMaxActionsPerRule].begin, "check.too-many-actions",
          "rule '" + r.id + "' has " + std::to_string(r.actions.size()) + " actions; a rule has at most " +
              std::to_string(kMaxActionsPerRule),
          {"split it into rules with the same condition, each proposing the items that belong together"});
  }
  // House style (for `iptplan check`): every rule says what it is, what it
  // rests on and why.
  if (style_ && !r.title) {
    error(r.begin, "check.style", "rule '" + r.id + "' has no title",
          {"add a short title in quotes after the id: rule " + r.id + " \"...\""}, severity::warning);
  }
  if (style_ && cr.source.empty()) {
    error(r.begin, "check.style", "rule '" + r.id + "' has no source",
          {"cite what it rests on, e.g. source \"domain M6\""}, severity::warning);
  }
  if (style_ && !r.because) {
    error(r.begin, "check.style", "rule '" + r.id + "' has no 'because'",
          {"explain the recommendation in words a clinician would accept"}, severity::warning);
  }
  cx cond = expression(r.condition, true);
  want_condition(cond, "'when'");
  cr.condition = cond.node;
  if (r.provisional) {
    // The support reads derived facts with their provisional values, so
    // every fact it reads must be final before the rule runs.
    std::size_t before = reads_.size();
    cx sup = expression(r.provisional->support, false);
    want_condition(sup, "'provisional when'");
    for (std::size_t k = before; k < reads_.size(); ++k) reads_[k].second = true;
    cr.support = static_cast<std::int32_t>(sup.node);
    const auto& e = r.provisional->support;
    std::string raw = e.end > e.begin ? program::without_comments(p_.sources[file].slice(e.begin, e.end))
                                      : p_.condition_text(p_.nodes[sup.node]);
    // One line, for plans and explanations: runs of spaces, tabs and line
    // breaks become one space.
    for (char ch : raw) {
      bool space = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
      if (!space) cr.support_text += ch;
      else if (!cr.support_text.empty() && cr.support_text.back() != ' ') cr.support_text += ' ';
    }
    while (!cr.support_text.empty() && cr.support_text.back() == ' ') cr.support_text.pop_back();
  }
  std::map<std::int32_t, std::uint32_t> concluded_here;  // fact -> where this rule first concludes it
  for (const auto& a : r.actions) {
    compiled_action ca;
    ca.kind = a.kind;
    ca.src_begin = a.begin;
    ca.id = a.id;
    ca.severity = a.severity;
    ca.target = a.target;
    if (a.kind == ast::action_kind::conclude) {
      ca.fact = p_.fact_index(ast::to_string(a.fact));
      // Two values for one fact from one rule conflict whenever it fires.
      if (ca.fact >= 0) {
        auto [at, fresh] = concluded_here.emplace(ca.fact, a.begin);
        if (!fresh) {
          location first = p_.sources[file_].locate(at->second);
          error(a.begin, "check.conclude-twice",
                "rule '" + r.id + "' concludes '" + ast::to_string(a.fact) + "' twice",
                {"the first is on line " + std::to_string(first.line) +
                 "; a rule gives a fact one value: keep one conclude"});
        }
      }
      if (a.value) {
        cx v = expression(*a.value, false);
        ca.value_node = static_cast<std::int32_t>(v.node);
      }
    } else if (a.kind != ast::action_kind::exclude) {
      ca.text = compile_template(a.text);
    }
    if (a.due) {
      cx d = expression(*a.due, false);
      if (d.t.kind != tk::number && d.t.kind != tk::any && d.t.kind != tk::error) {
        error(p_.nodes[d.node].src_begin, "check.type",
              "'by session' needs a session number, but '" + text(d.node) + "' is " + describe(d.t.kind),
              {"for example: by session param.response_by_session, or by session 8"});
      }
      ca.due_node = static_cast<std::int32_t>(d.node);
      // A constant date (numbers and parameters, with arithmetic) must be
      // a session: a whole number from 1 to kMaxSession.
      std::vector<std::uint32_t> params;
      bool by_zero = false;
      auto n = constant_number(d.node, params, by_zero);
      if (n || by_zero) {
        std::vector<std::string> notes;
        for (auto pi : params) {
          notes.push_back("param." + p_.params[pi].name + " is set in " + p_.params[pi].file + ":" +
                          std::to_string(p_.params[pi].line));
        }
        std::string range = "a whole number from 1 to " + std::to_string(static_cast<int>(kMaxSession));
        if (by_zero) {
          error(p_.nodes[d.node].src_begin, "check.goal-date",
                "'by session' needs a session number (" + range + "), but '" + text(d.node) + "' divides by zero",
                notes);
        } else if (!(*n >= 1 && *n <= kMaxSession && *n == std::floor(*n))) {
          std::string what = *n != std::floor(*n) ? "not a whole number" : *n < 1 ? "before the first session"
                                                                                : "past any course";
          error(p_.nodes[d.node].src_begin, "check.goal-date",
                "'by session' needs a session number (" + range + "), but '" + text(d.node) + "' is " + shown(*n) +
                    ", " + what,
                notes);
        }
      }
    }
    cr.actions.push_back(std::move(ca));
  }
  if (r.because) {
    cr.has_because = true;
    cr.because = compile_template(*r.because);
  }
  std::sort(reads_.begin(), reads_.end());
  for (const auto& [f, strict] : reads_) {
    if (cr.facts_read.empty() || cr.facts_read.back() != static_cast<std::int32_t>(f)) {
      cr.facts_read.push_back(static_cast<std::int32_t>(f));
    }
  }
  rule_reads_.push_back(reads_);
  p_.rules.push_back(std::move(cr));
}

// Registers every concluded path as a derived fact, before any condition is
// compiled, so that rules may read facts concluded in any file.
void compiler::declare_facts() {
  std::map<std::string, fact_decl> facts;
  for (const auto& f : files_) {
    file_ = f.index;
    for (const auto& r : f.ast.rules) {
      for (const auto& a : r.actions) {
        if (a.kind != ast::action_kind::conclude) continue;
        std::string path = ast::to_string(a.fact);
        if (a.fact.head == "param") {
          error(a.fact.begin, "check.conclude-finding",
                "'" + path + "' names a parameter; parameters are set in ruleset.toml, not concluded",
                {"give the derived fact a name that does not start with 'param.'"});
          continue;
        }
        if (p_.vocab->find(path)) {
          error(a.fact.begin, "check.conclude-finding",
                "'" + path + "' is a finding of the vocabulary; a rule cannot conclude it",
                {"derived facts need their own names, for example '" + path + "_derived'"});
          continue;
        }
        auto& fd = facts[path];
        fd.path = path;
        if (a.value) fd.valued = true;
        concluded_at_.emplace(path, std::make_pair(f.index, a.fact.begin));
      }
    }
  }
  // Facts that only rules which failed to parse conclude: known by name, of
  // any type, so that readers are not reported as well.
  std::set<std::string> unparsed_only;
  for (const auto& f : files_) {
    for (const auto& path : f.unparsed.facts) {
      if (facts.count(path) || p_.vocab->find(path) || path.rfind("param.", 0) == 0) continue;
      facts[path].path = path;
      unparsed_only.insert(path);
    }
  }
  for (auto& [path, fd] : facts) p_.facts.push_back(fd);
  // Types of valued facts: from the literal a rule assigns.
  fact_types_.assign(p_.facts.size(), typ{tk::boolean});
  std::vector<std::string> type_seen(p_.facts.size());
  for (const auto& f : files_) {
    file_ = f.index;
    for (const auto& r : f.ast.rules) {
      for (const auto& a : r.actions) {
        if (a.kind != ast::action_kind::conclude) continue;
        int k = p_.fact_index(ast::to_string(a.fact));
        if (k < 0) continue;
        if (!p_.facts[k].valued) continue;
        tk kind = tk::any;
        if (a.value) {
          // The parser wraps a lone literal in one expression per level.
          const ast::expression* e = &*a.value;
          const ast::operand* lone = nullptr;
          while (e && e->rest.empty()) {
            lone = &e->first;
            auto* inner = boost::get<ast::x3::forward_ast<ast::expression>>(&e->first);
            e = inner ? &inner->get() : nullptr;
          }
          if (lone && !e) {
            if (boost::get<ast::string_literal>(lone)) kind = tk::text;
            else if (boost::get<ast::number_literal>(lone)) kind = tk::number;
            else if (boost::get<ast::bool_literal>(lone)) kind = tk::boolean;
          }
        } else {
          kind = tk::boolean;
        }
        auto& ft = fact_types_[static_cast<std::size_t>(k)];
        if (ft.kind == tk::boolean && type_seen[k].empty()) {
          ft.kind = kind;
          type_seen[k] = r.id;
        } else if (kind != tk::any && ft.kind != tk::any && kind != ft.kind) {
          error(a.fact.begin, "check.conclude-type",
                "rules '" + type_seen[k] + "' and '" + r.id + "' conclude '" + p_.facts[k].path +
                    "' with values of different kinds");
        }
      }
    }
  }
  for (const auto& path : unparsed_only) {
    fact_types_[static_cast<std::size_t>(p_.fact_index(path))] = typ{tk::any};
  }
}

void compiler::check_items() {
  // Which ids each kind of item is proposed under.
  std::set<std::string> challenges, any_item;
  std::map<std::string, bool> challenge_keyed;  // raised by a `for each` rule
  for (const auto& r : p_.rules) {
    for (const auto& a : r.actions) {
      if (a.kind == ast::action_kind::conclude || a.kind == ast::action_kind::exclude) continue;
      any_item.insert(a.id);
      if (a.kind == ast::action_kind::challenge) {
        challenges.insert(a.id);
        if (r.each_list >= 0) challenge_keyed[a.id] = true;
      }
    }
  }
  for (const auto& f : files_) {
    for (const auto& [kind, id] : f.unparsed.items) {
      any_item.insert(id);
      if (kind == "challenge") challenges.insert(id);
    }
  }
  std::vector<std::string> challenge_names(challenges.begin(), challenges.end());
  std::vector<std::string> item_names(any_item.begin(), any_item.end());
  // Positions of actions, found again from the syntax tree; and an id names
  // one kind of item, proposed at most once per rule.
  std::map<std::pair<std::string, std::string>, std::pair<std::uint16_t, std::uint32_t>> where;
  std::map<std::string, std::pair<ast::action_kind, std::string>> kind_of_id;  // id -> (kind, rule)
  for (const auto& f : files_) {
    file_ = f.index;
    for (const auto& r : f.ast.rules) {
      std::set<std::string> in_rule;
      for (const auto& a : r.actions) {
        where[{r.id, a.id + "/" + a.target}] = {f.index, a.begin};
        if (a.kind == ast::action_kind::conclude || a.kind == ast::action_kind::exclude) continue;
        if (!in_rule.insert(a.id).second) {
          error(a.begin, "check.duplicate-item",
                "rule '" + r.id + "' proposes '" + a.id + "' twice; only one text can be kept");
        }
        auto [it, fresh] = kind_of_id.emplace(a.id, std::make_pair(a.kind, r.id));
        if (!fresh && it->second.first != a.kind) {
          auto name = [](ast::action_kind k) { return to_string(*item_kind_of(k)); };
          error(a.begin, "check.item-kind",
                "'" + a.id + "' is a " + std::string(name(a.kind)) + " here but a " + name(it->second.first) +
                    " in rule '" + it->second.second + "'; an id names one kind of item");
        }
      }
    }
  }
  for (auto& r : p_.rules) {
    for (auto& a : r.actions) {
      auto pos = where[{r.id, a.id + "/" + a.target}];
      file_ = pos.first;
      bool needs_target = a.kind == ast::action_kind::solution ||
                          (a.kind == ast::action_kind::goal && !a.target.empty());
      if (needs_target && !challenges.count(a.target)) {
        std::string near = suggest_.nearest(a.target, challenge_names);
        // The id of another kind of item (a goal, a flag): 'for' names the
        // challenge the item answers, not a goal it serves.
        auto other = kind_of_id.find(a.target);
        std::string what = other != kind_of_id.end()
                               ? "which is a " + std::string(to_string(*item_kind_of(other->second.first))) +
                                     " (rule '" + other->second.second + "'), not a challenge"
                               : "which no rule raises";
        std::vector<std::string> notes;
        if (!near.empty()) notes.push_back("did you mean '" + near + "'?");
        if (other != kind_of_id.end()) {
          notes.push_back(a.kind == ast::action_kind::solution
                              ? "'for' names the challenge this solution answers: every solution answers one"
                              : "'for' names the challenge this goal answers; leave 'for' out for a goal of the "
                                "whole plan");
        }
        error(pos.second, "check.unknown-item", "'" + a.id + "' is for challenge '" + a.target + "', " + what,
              notes);
      }
      if (needs_target) {
        a.target_keyed = r.each_list >= 0 && challenge_keyed[a.target];
        a.target_every = !a.target_keyed && challenge_keyed[a.target];
      }
      if (a.kind == ast::action_kind::exclude && !any_item.count(a.id)) {
        std::string near = suggest_.nearest(a.id, item_names);
        error(pos.second, "check.unknown-item",
              "'exclude " + a.id + "' names an item that no rule proposes",
              near.empty() ? std::vector<std::string>{}
                           : std::vector<std::string>{"did you mean '" + near + "'?"});
      }
    }
  }
}

void compiler::run() {
  // 1. ids
  std::map<std::string, std::pair<std::uint16_t, std::uint32_t>> seen;
  // A name is short by design: an id of megabytes would be copied into
  // every item and line of every plan (a 2 MB rule file made a 758 MB
  // plan). The name itself is not repeated in the message.
  constexpr std::size_t kMaxName = 64;
  auto too_long = [&](std::uint32_t at, const char* what, std::size_t size, std::size_t max) {
    error(at, "check.name-too-long",
          std::string(what) + " is " + std::to_string(size) + " characters long; it has at most " +
              std::to_string(max),
          {"use a short name of words joined by '_', such as weak_alliance"});
  };
  for (const auto& f : files_) {
    file_ = f.index;
    for (const auto& r : f.ast.rules) {
      if (r.id.size() > kMaxName) too_long(r.begin, "the rule id", r.id.size(), kMaxName);
      if (r.each && r.each->var.size() > kMaxName) too_long(r.each->begin, "the variable name", r.each->var.size(), kMaxName);
      for (const auto& a : r.actions) {
        if (a.id.size() > kMaxName) too_long(a.begin, "the item id", a.id.size(), kMaxName);
        if (a.target.size() > kMaxName) too_long(a.begin, "the challenge named after 'for'", a.target.size(), kMaxName);
        std::size_t fact = a.fact.head.size();
        for (const auto& t : a.fact.tail) fact += 1 + t.size();
        if (fact > 2 * kMaxName) too_long(a.begin, "the fact name", fact, 2 * kMaxName);
      }
    }
  }
  for (const auto& f : files_) {
    for (const auto& r : f.ast.rules) {
      auto [it, fresh] = seen.emplace(r.id, std::make_pair(f.index, r.begin));
      if (!fresh) {
        file_ = f.index;
        location first = p_.sources[it->second.first].locate(it->second.second);
        error(r.begin, "check.duplicate-rule",
              "rule id '" + r.id + "' is already used at " + p_.sources[it->second.first].name() +
                  ":" + std::to_string(first.line),
              {"rule ids must be unique across all files of the rule set"});
      }
    }
  }
  // 2. facts
  declare_facts();
  // 3-5. names, types, templates: rule by rule, in id order.
  std::vector<std::pair<const ast::rule*, std::uint16_t>> order;
  for (const auto& f : files_) {
    for (const auto& r : f.ast.rules) order.push_back({&r, f.index});
  }
  std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    if (a.first->id != b.first->id) return a.first->id < b.first->id;
    return p_.sources[a.second].name() < p_.sources[b.second].name();
  });
  for (const auto& [r, file] : order) compile_rule(*r, file);
  for (std::uint32_t i = 0; i < p_.rules.size(); ++i) {
    for (const auto& a : p_.rules[i].actions) {
      if (a.kind == ast::action_kind::conclude && a.fact >= 0) {
        p_.facts[static_cast<std::size_t>(a.fact)].concluders.push_back(i);
      }
    }
  }
  for (auto& f : p_.facts) {
    f.concluders.erase(std::unique(f.concluders.begin(), f.concluders.end()), f.concluders.end());
  }
  // 6. items
  check_items();
  // 7. strata
  stratify(p_, rule_reads_, diags_);
  // A parameter no rule reads is probably misspelt somewhere (unless a rule
  // that failed to parse reads it).
  std::set<std::string> read_by_unparsed;
  for (const auto& f : files_) read_by_unparsed.insert(f.unparsed.params.begin(), f.unparsed.params.end());
  for (const auto& prm : p_.params) {
    if (prm.used || read_by_unparsed.count(prm.name)) continue;
    auto d = parameter_warning(prm, "check.unused-parameter",
                               "parameter '" + prm.name + "' is set but no rule reads param." + prm.name);
    std::string near = suggest_.nearest(prm.name, {unknown_params_.begin(), unknown_params_.end()});
    if (!near.empty()) {
      d.notes.push_back("did you mean '" + near + "'? The rules read param." + near + ", which ruleset.toml does not set");
    }
    diags_.push_back(std::move(d));
  }
}

}  // namespace detail

std::shared_ptr<const program> compile(std::shared_ptr<const vocabulary> vocab,
                                       std::vector<parameter> params,
                                       std::vector<source_file> sources,
                                       const std::vector<parsed_file>& files,
                                       std::vector<diagnostic>& diags, bool style) {
  auto p = std::make_shared<program>();
  p->vocab = std::move(vocab);
  p->sources = std::move(sources);
  p->params = std::move(params);
  std::sort(p->params.begin(), p->params.end(),
            [](const parameter& a, const parameter& b) { return a.name < b.name; });
  for (auto& prm : p->params) {
    if (prm.v.kind == vkind::symbol) prm.v.sym = p->symbols.intern(prm.text);
  }
  std::size_t before = diags.size();
  detail::compiler c(*p, files, diags, style);
  c.run();
  // Item ids interned, so that merging a client's proposals compares
  // numbers, not names.
  std::unordered_map<std::string, std::int32_t> ids;
  for (auto& r : p->rules) {
    for (auto& a : r.actions) {
      if (a.kind == ast::action_kind::conclude) continue;
      auto [at, fresh] = ids.emplace(a.id, static_cast<std::int32_t>(p->item_ids.size()));
      if (fresh) {
        p->item_ids.push_back(a.id);
        p->item_kinds.push_back(-1);
      }
      a.item = at->second;
      if (auto k = item_kind_of(a.kind)) p->item_kinds[static_cast<std::size_t>(a.item)] = static_cast<std::int8_t>(*k);
      a.severity_rank = a.severity == "critical" ? 3 : a.severity == "warning" ? 2 : a.severity == "info" ? 1 : 0;
    }
  }
  {
    std::vector<std::int32_t> by_name(p->item_ids.size());
    for (std::size_t k = 0; k < by_name.size(); ++k) by_name[k] = static_cast<std::int32_t>(k);
    std::sort(by_name.begin(), by_name.end(), [&](std::int32_t a, std::int32_t b) {
      return p->item_ids[static_cast<std::size_t>(a)] < p->item_ids[static_cast<std::size_t>(b)];
    });
    p->item_order.assign(by_name.size(), 0);
    for (std::size_t k = 0; k < by_name.size(); ++k) {
      p->item_order[static_cast<std::size_t>(by_name[k])] = static_cast<std::int32_t>(k);
    }
  }
  mark_closed_quantifiers(*p);
  std::vector<diagnostic> mine(diags.begin() + static_cast<std::ptrdiff_t>(before), diags.end());
  if (has_errors(mine)) return nullptr;
  lower_to_code(*p);
  return p;
}

}  // namespace iptplan

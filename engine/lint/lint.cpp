// The lint checks: a compiled rule set read for what a clinical lead would
// want to know before approving it, each as a warning with a stable code.
#include "engine/lint/lint.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>
#include <unordered_map>

namespace iptplan {

std::optional<std::string> lint_allow_reason(const program& p, const compiled_rule& r, const std::string& code) {
  const source_file& src = p.sources[r.file];
  std::string_view text = src.slice(r.src_begin, r.src_end);
  // The marker counts only with its reason: "... because <words>".
  std::string marker = "lint: allow " + code + " because ";
  auto reason = [&](std::string_view t) -> std::optional<std::string> {
    auto at = t.find(marker);
    if (at == std::string_view::npos) return std::nullopt;
    std::string_view rest = t.substr(at + marker.size());
    rest = rest.substr(0, rest.find('\n'));
    if (rest.find_first_not_of(" \t\r") == std::string_view::npos) return std::nullopt;
    return std::string(rest);
  };
  if (auto in_rule = reason(text)) return in_rule;
  for (int line = r.line - 1; line >= 1; --line) {
    std::string_view l = src.line_text(line);
    auto first = l.find_first_not_of(" \t");
    if (first == std::string_view::npos || l[first] != '#') break;
    if (auto above = reason(l)) return above;
  }
  return std::nullopt;
}

bool lint_allowed(const program& p, const compiled_rule& r, const std::string& code) {
  return lint_allow_reason(p, r, code).has_value();
}


namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

bool is_safety(const compiled_rule& r) {
  return r.priority >= 100 || std::find(r.tags.begin(), r.tags.end(), "safety") != r.tags.end();
}

// The values a numeric finding can take, as an interval; for an integer
// finding, only its whole numbers.
struct interval {
  double lo = -kInf, hi = kInf;
  bool lo_open = false, hi_open = false;
  bool integer = false;

  bool empty() const {
    if (integer) {
      double ilo = lo_open ? std::floor(lo) + 1 : std::ceil(lo);
      double ihi = hi_open ? std::ceil(hi) - 1 : std::floor(hi);
      return ilo > ihi;
    }
    return lo > hi || (lo == hi && (lo_open || hi_open));
  }

  interval with(opcode op, double c) const {
    interval b = *this;
    switch (op) {
      case opcode::gt:
        if (c > b.lo || (c == b.lo && !b.lo_open)) b.lo = c, b.lo_open = true;
        break;
      case opcode::ge:
        if (c > b.lo) b.lo = c, b.lo_open = false;
        break;
      case opcode::lt:
        if (c < b.hi || (c == b.hi && !b.hi_open)) b.hi = c, b.hi_open = true;
        break;
      case opcode::le:
        if (c < b.hi) b.hi = c, b.hi_open = false;
        break;
      case opcode::eq:
        b = b.with(opcode::ge, c).with(opcode::le, c);
        break;
      default: break;
    }
    return b;
  }
};

opcode negation(opcode op) {
  switch (op) {
    case opcode::gt: return opcode::le;
    case opcode::ge: return opcode::lt;
    case opcode::lt: return opcode::ge;
    case opcode::le: return opcode::gt;
    default: return op;
  }
}

opcode mirrored(opcode op) {  // c < x  is  x > c
  switch (op) {
    case opcode::gt: return opcode::lt;
    case opcode::ge: return opcode::le;
    case opcode::lt: return opcode::gt;
    case opcode::le: return opcode::ge;
    default: return op;
  }
}

class linter {
 public:
  explicit linter(const rule_set& rs) : rs_(rs), p_(*rs.prog) {
    // The values each derived fact can take: those its rules conclude, when
    // every one is written as a choice ("low"); unknown otherwise.
    fact_values_.resize(p_.facts.size());
    for (std::size_t f = 0; f < p_.facts.size(); ++f) {
      if (!p_.facts[f].valued) continue;
      std::set<std::int32_t> values;
      bool known = true;
      for (auto ri : p_.facts[f].concluders) {
        for (const auto& a : p_.rules[ri].actions) {
          if (a.kind != ast::action_kind::conclude || a.fact != static_cast<std::int32_t>(f)) continue;
          const node* v = a.value_node >= 0 ? &p_.nodes[static_cast<std::size_t>(a.value_node)] : nullptr;
          if (v && v->op == opcode::literal && v->lit.kind == vkind::symbol) values.insert(v->lit.sym);
          else known = false;
        }
      }
      if (known) fact_values_[f] = std::move(values);
    }
  }

  std::vector<diagnostic> run() {
    for (const auto& r : p_.rules) {
      conditions(r);
      sources(r);
    }
    safety_excludes();
    shadowed();
    orphan_solutions();
    goal_dates();
    parameters();
    unread_facts();
    free_text();
    markers();
    return std::move(out_);
  }
  std::vector<diagnostic> run_on_load() {
    safety_excludes();
    unread_facts();
    sort_diagnostics(out_);
    return std::move(out_);
  }

 private:
  const rule_set& rs_;
  const program& p_;
  std::vector<diagnostic> out_;
  bool no_sources_reported_ = false;
  std::vector<std::optional<std::set<std::int32_t>>> fact_values_;  // by fact index

  // A '# lint: allow CODE because REASON' marker that allows nothing: a
  // code that is no lint code (misspelt), or no reason given. Silently
  // ignored, it left the lead believing a finding was allowed.
  void markers() {
    static const std::vector<std::string> kCodes = {
        "lint.allow-marker",   "lint.always-true",     "lint.fact-unread",  "lint.goal-date",
        "lint.never-true",     "lint.no-sources",      "lint.orphan-solution", "lint.parameter-undeclared",
        "lint.safety-exclude", "lint.shadowed",        "lint.unknown-source", "lint.free-text"};
    const std::string marker = "lint: allow";
    for (const auto& src : p_.sources) {
      for (int line = 1, n = src.line_count(); line <= n; ++line) {
        std::string_view l = src.line_text(line);
        auto hash = l.find('#');
        if (hash == std::string_view::npos) continue;
        auto at = l.find(marker, hash);
        if (at == std::string_view::npos) continue;
        std::string_view rest = l.substr(at + marker.size());
        auto b = rest.find_first_not_of(" \t");
        std::string code;
        if (b != std::string_view::npos) {
          auto e = rest.find_first_of(" \t", b);
          code = std::string(rest.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
        }
        std::string why;
        if (std::find(kCodes.begin(), kCodes.end(), code) == kCodes.end()) {
          std::string near = nearest_name(code, kCodes);
          why = "this marker allows nothing: '" + printable(code) + "' is no lint code" +
                (near.empty() ? std::string(" (iptplan lint lists the codes)") : "; did you mean '" + near + "'?");
        } else {
          auto reason = rest.find(" because ");
          if (reason == std::string_view::npos ||
              rest.substr(reason + 9).find_first_not_of(" \t\r") == std::string_view::npos) {
            why = "this marker allows nothing: it gives no reason (write '# lint: allow " + code +
                  " because ...', the reason in your words)";
          }
        }
        if (why.empty()) continue;
        diagnostic d;
        d.level = severity::warning;
        d.code = "lint.allow-marker";
        d.file = src.name();
        d.line = line;
        d.column = static_cast<int>(at) + 1;
        quote_line(d, src);
        d.message = std::move(why);
        out_.push_back(std::move(d));
      }
    }
  }

  // A derived fact no rule reads, named like another fact: most likely a
  // misspelling in `conclude`, which leaves the fact meant unconcluded by
  // this rule (risk.elevatd for risk.elevated) while every check passes.
  void unread_facts() {
    std::vector<bool> read(p_.facts.size(), false);
    for (const auto& r : p_.rules) {
      for (auto f : r.facts_read) {
        if (f >= 0 && static_cast<std::size_t>(f) < read.size()) read[static_cast<std::size_t>(f)] = true;
      }
    }
    // A fact the plan's SUMMARY shows is read there (ruleset.toml names it).
    for (const auto& shown : rs_.info.summary) {
      int f = p_.fact_index(shown);
      if (f >= 0 && static_cast<std::size_t>(f) < read.size()) read[static_cast<std::size_t>(f)] = true;
    }
    // The name meant is one the rules read: only those are candidates,
    // listed once (a list per unread fact was quadratic), and compared
    // within a budget (see suggester).
    std::vector<std::string> read_names;
    for (std::size_t g = 0; g < p_.facts.size(); ++g) {
      if (read[g]) read_names.push_back(p_.facts[g].path);
    }
    suggester suggest;
    const compiled_rule* first_unchecked = nullptr;
    for (std::size_t f = 0; f < p_.facts.size(); ++f) {
      if (read[f]) continue;
      if (!suggest.open() && !first_unchecked && !p_.facts[f].concluders.empty()) {
        first_unchecked = &p_.rules[p_.facts[f].concluders.front()];
      }
      std::string near = suggest.nearest(p_.facts[f].path, read_names);
      if (near.empty()) continue;
      for (auto k : p_.facts[f].concluders) {
        const compiled_rule& r = p_.rules[k];
        for (const auto& a : r.actions) {
          if (a.kind != ast::action_kind::conclude || a.fact != static_cast<std::int32_t>(f)) continue;
          report_at(r, a.src_begin, "lint.fact-unread",
                    "rule '" + r.id + "' concludes '" + p_.facts[f].path + "', which no rule reads; did you mean '" +
                        near + "'?",
                    {"a fact concluded under a misspelt name is a different fact: the rules that read '" + near +
                     "' never see this conclusion"});
        }
      }
    }
    if (first_unchecked) {
      note_at(*first_unchecked, "lint.fact-unread",
              with_thousands(suggest.unanswered()) +
                  " derived facts that no rule reads, from here on, were not compared with the facts the rules read: "
                  "the rule set has more than lint compares, so a misspelt 'conclude' among them goes unreported");
    }
  }

  // "low, moderate, high": the values a derived fact can take, by name.
  std::string fact_value_words(std::size_t f) const {
    std::set<std::string> names;
    for (auto s : *fact_values_[f]) names.insert("\"" + p_.symbols.text(s) + "\"");
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  }

  // `risk.level == "extreme"` (or `in {...}`) where no rule concludes that
  // value: the condition can never be true. Returns whether it reported.
  bool derived_value_never(const compiled_rule& r, std::uint32_t idx) {
    const node& n = p_.nodes[idx];
    const node* fact = nullptr;
    std::vector<std::int32_t> wanted;
    if (n.op == opcode::eq) {
      const node* l = &p_.nodes[n.a];
      const node* o = &p_.nodes[n.b];
      if (l->op != opcode::fact) std::swap(l, o);
      if (l->op != opcode::fact || o->op != opcode::literal || o->lit.kind != vkind::symbol) return false;
      fact = l;
      wanted.push_back(o->lit.sym);
    } else if (n.op == opcode::in_set && p_.nodes[n.a].op == opcode::fact) {
      fact = &p_.nodes[n.a];
      for (auto i = n.set_begin; i < n.set_end; ++i) {
        if (p_.set_values[i].kind != vkind::symbol) return false;
        wanted.push_back(p_.set_values[i].sym);
      }
    } else {
      return false;
    }
    if (fact->a >= fact_values_.size() || !fact_values_[fact->a]) return false;
    const auto& can = *fact_values_[fact->a];
    for (auto w : wanted) {
      if (can.count(w)) return false;
    }
    const std::string& path = p_.facts[fact->a].path;
    report(r, idx, "lint.never-true",
           "the condition can never be true: no rule concludes '" + path + "' with " +
               (wanted.size() == 1 ? "that value" : "any of these values"),
           {can.empty() ? "no rule concludes a value for '" + path + "'"
                        : "the rules conclude '" + path + "' as " + fact_value_words(fact->a)});
    return true;
  }

  // A finding (or an element's field) a condition reads, as a key.
  using path_key = std::tuple<int, std::uint32_t, std::uint32_t, int>;

  const finding_decl* decl_of(const node& n) const {
    const auto& fs = p_.vocab->findings();
    if (n.op == opcode::finding && n.a < fs.size()) return &fs[n.a];
    if (n.op == opcode::field && n.b < fs.size() && n.a < fs[n.b].fields.size()) return &fs[n.b].fields[n.a];
    return nullptr;
  }

  // A field bound by a rule's `for each` or a quantifier: its list is the
  // binding's; the compiler stores it in `b` for fields.
  path_key key_of(const node& n) const {
    return {static_cast<int>(n.op), n.a, n.b, n.op == opcode::field ? n.var : -1};
  }

  std::optional<double> number_of(const node& n) const {
    if (n.op == opcode::literal && n.lit.kind == vkind::number) return n.lit.n;
    if (n.op == opcode::param && n.a < p_.params.size() && p_.params[n.a].v.kind == vkind::number) {
      return p_.params[n.a].v.n;
    }
    return std::nullopt;
  }

  interval declared(const finding_decl& d) const {
    interval b;
    b.integer = d.type == finding_type::integer;
    if (d.min) b.lo = *d.min;
    if (d.max) b.hi = *d.max;
    return b;
  }

  // Whether the rule text (or the comments just above it) allows `code`:
  // "# lint: allow lint.never-true because ...".
  // Read once a rule and code: a rule with many findings of one code
  // would scan its text again for each (quadratic in its size).
  bool allowed(const compiled_rule& r, const std::string& code) const {
    auto key = std::make_pair(&r, code);
    auto at = allowed_cache_.find(key);
    if (at == allowed_cache_.end()) at = allowed_cache_.emplace(key, lint_allowed(p_, r, code)).first;
    return at->second;
  }
  mutable std::map<std::pair<const compiled_rule*, std::string>, bool> allowed_cache_;

  void report(const compiled_rule& r, std::uint32_t node_idx, const std::string& code, std::string message,
              std::vector<std::string> notes = {}) {
    std::uint32_t offset = 0;
    if (node_idx < p_.nodes.size() && p_.nodes[node_idx].file == r.file && p_.nodes[node_idx].src_end > 0) {
      offset = p_.nodes[node_idx].src_begin;
    }
    report_at(r, offset, code, std::move(message), std::move(notes));
  }

  // As report(), at a byte offset of the rule's file (0: the rule's start).
  void report_at(const compiled_rule& r, std::uint32_t offset, const std::string& code, std::string message,
                 std::vector<std::string> notes = {}) {
    if (allowed(r, code)) return;
    diagnostic d;
    d.level = severity::warning;
    d.code = code;
    d.file = p_.file_of(r);
    if (offset > 0) {
      auto at = p_.sources[r.file].locate(offset);
      d.line = at.line;
      d.column = at.column;
    } else {
      d.line = r.line;
      d.column = 1;
    }
    quote_line(d, p_.sources[r.file]);
    d.message = std::move(message);
    if (is_safety(r)) notes.push_back("'" + r.id + "' is a safety rule: its items matter most");
    d.notes = std::move(notes);
    out_.push_back(std::move(d));
  }

  // A note at a rule's start: what lint did not check there and after.
  // Not subject to allow-markers: it is about lint, not about the rule.
  void note_at(const compiled_rule& r, const std::string& code, std::string message) {
    diagnostic d;
    d.level = severity::note;
    d.code = code;
    d.file = p_.file_of(r);
    d.line = r.line;
    d.column = 1;
    quote_line(d, p_.sources[r.file]);
    d.message = std::move(message);
    out_.push_back(std::move(d));
  }

  // A comparison of a finding (or field) of the vocabulary with something,
  // turned so that the finding is on the left: `30 < x` is `x > 30`.
  struct comparison {
    const node* path;
    const node* other;
    opcode op;
    const finding_decl* decl;
  };
  std::optional<comparison> as_comparison(const node& n) const {
    if (n.op != opcode::eq && n.op != opcode::ne && n.op != opcode::lt && n.op != opcode::le &&
        n.op != opcode::gt && n.op != opcode::ge) {
      return std::nullopt;
    }
    const node* path = &p_.nodes[n.a];
    const node* other = &p_.nodes[n.b];
    opcode op = n.op;
    if (!decl_of(*path)) {
      std::swap(path, other);
      op = mirrored(op);
    }
    const finding_decl* d = decl_of(*path);
    if (!d) return std::nullopt;
    return comparison{path, other, op, d};
  }

  void conjuncts(std::uint32_t idx, std::vector<std::uint32_t>& atoms) const {
    const node& n = p_.nodes[idx];
    if (n.op == opcode::op_and) {
      for (std::uint32_t c = 0; c < n.b; ++c) conjuncts(p_.children[n.a + c], atoms);
    } else {
      atoms.push_back(idx);
    }
  }

  // Conditions that can never be true, or that every recorded value makes
  // true, given the vocabulary's ranges and choices and the parameters.
  void conditions(const compiled_rule& r) {
    std::vector<std::uint32_t> atoms;
    conjuncts(r.condition, atoms);
    std::map<path_key, interval> ranges;
    std::map<path_key, std::vector<std::uint32_t>> narrowed_by;  // the comparisons behind each range
    std::map<path_key, std::set<std::int32_t>> choices;  // enum values still possible
    bool never = false;
    for (auto idx : atoms) {
      const node& n = p_.nodes[idx];
      if (!never && derived_value_never(r, idx)) {
        never = true;
        continue;
      }
      if (auto cmp = as_comparison(n)) {
        auto [path, other, op, d] = *cmp;
        if (auto c = number_of(*other);
            c && (d->type == finding_type::integer || d->type == finding_type::number)) {
          interval full = declared(*d);
          std::string written(p_.text_of(*path));  // as the rule names it: r.closeness
          if (op != opcode::ne && op != opcode::eq && full.with(negation(op), *c).empty()) {
            report(r, idx, "lint.always-true",
                   "'" + std::string(p_.text_of(n)) + "' holds for every value '" + written + "' can have (" +
                       d->expectation() + "): it only tests that the finding is recorded",
                   {"write '" + written + " is known' if that is what is meant"});
          }
          if (op == opcode::ne) continue;
          auto& b = ranges.try_emplace(key_of(*path), full).first->second;
          auto& by = narrowed_by[key_of(*path)];
          b = b.with(op, *c);
          if (b.empty() && !never) {
            never = true;
            // Name what it contradicts: the earlier comparisons of the same
            // finding, or else its range in the vocabulary.
            std::string with;
            for (auto other_idx : by) {
              auto at = p_.sources[r.file].locate(p_.nodes[other_idx].src_begin);
              with += (with.empty() ? "" : ", ") + ("'" + std::string(p_.text_of(p_.nodes[other_idx])) + "' (line " +
                                                    std::to_string(at.line) + ")");
            }
            report(r, idx, "lint.never-true",
                   "the condition can never be true: '" + written + "' cannot satisfy '" + std::string(p_.text_of(n)) +
                       "' " + (with.empty() ? "as it is " + d->expectation() : "together with " + with));
          }
          by.push_back(idx);
        } else if (other->op == opcode::literal && other->lit.kind == vkind::symbol && op == opcode::eq &&
                   d->type == finding_type::enumeration) {
          auto [it, fresh] = choices.try_emplace(key_of(*path));
          if (fresh) it->second.insert(other->lit.sym);
          else if (!it->second.count(other->lit.sym)) it->second.clear();
          else it->second = {other->lit.sym};
          if (it->second.empty() && !never) {
            never = true;
            report(r, idx, "lint.never-true",
                   "the condition can never be true: '" + d->path + "' cannot have two different values");
          }
        }
      } else if (n.op == opcode::in_set) {
        const finding_decl* d = decl_of(p_.nodes[n.a]);
        if (!d || d->type != finding_type::enumeration) continue;
        std::string written(p_.text_of(p_.nodes[n.a]));
        std::set<std::int32_t> listed;
        for (auto i = n.set_begin; i < n.set_end; ++i) {
          if (p_.set_values[i].kind == vkind::symbol) listed.insert(p_.set_values[i].sym);
        }
        if (listed.size() >= d->values.size() && !d->values.empty()) {
          report(r, idx, "lint.always-true",
                 "'" + std::string(p_.text_of(n)) + "' lists every choice of '" + written +
                     "': it only tests that the finding is recorded",
                 {"write '" + written + " is known' if that is what is meant"});
        }
      }
    }
  }

  // `source "...; domain M9, S3"`: every id cited is in sources.toml.
  // After the word "domain", to the next ';', every word is an id: a
  // mistyped one ("M1O", "m99", "M10a") is reported, not skipped as no id,
  // and a misspelt "domian" before ids is named too. Each at the id itself.
  void sources(const compiled_rule& r) {
    // Where the source text starts in the file: just past its opening
    // quote (escapes in a citation are rare; a caret off by one is harmless).
    std::uint32_t text_at = 0;
    if (r.source_at > 0) {
      auto file = p_.sources[r.file].slice(r.source_at, static_cast<std::uint32_t>(r.source_at + 4096));
      auto q = file.find('"');
      if (q != std::string_view::npos) text_at = static_cast<std::uint32_t>(r.source_at + q + 1);
    }
    auto at_offset = [&](std::size_t i) { return text_at ? static_cast<std::uint32_t>(text_at + i) : r.source_at; };
    struct cited {
      std::string id;
      std::size_t at;
    };
    std::vector<cited> ids;
    const std::string& src = r.source;
    auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    // "domain" as a word of its own ("domains" is another word).
    std::size_t at = std::string::npos;
    for (std::size_t f = src.find("domain"); f != std::string::npos; f = src.find("domain", f + 1)) {
      if ((f == 0 || !is_word(src[f - 1])) && (f + 6 == src.size() || !is_word(src[f + 6]))) {
        at = f;
        break;
      }
    }
    // Shaped like a fact id: capital letters, then a digit (M9, I13, M1O).
    auto id_shaped = [](std::string_view w) {
      std::size_t i = 0;
      while (i < w.size() && std::isalpha(static_cast<unsigned char>(w[i]))) ++i;
      return i > 0 && i <= 3 && i < w.size() && std::isdigit(static_cast<unsigned char>(w[i]));
    };
    if (at == std::string::npos) {
      // "domian M9": the word misspelt before an id, so nothing after it was
      // checked (a word such as "woman" before other text is no misspelling).
      for (std::size_t i = 0; i < src.size();) {
        while (i < src.size() && !std::isalpha(static_cast<unsigned char>(src[i]))) ++i;
        std::size_t b = i;
        while (i < src.size() && std::isalpha(static_cast<unsigned char>(src[i]))) ++i;
        std::string word = src.substr(b, i - b);
        std::size_t next = i;
        while (next < src.size() && src[next] == ' ') ++next;
        std::size_t next_end = next;
        while (next_end < src.size() && is_word(src[next_end])) ++next_end;
        if (word.size() >= 5 && word.size() <= 7 && edit_distance(word, "domain") <= 2 &&
            id_shaped(std::string_view(src).substr(next, next_end - next))) {
          report_at(r, at_offset(b), "lint.unknown-source",
                    "rule '" + r.id + "' cites '" + word + "', which is not the word 'domain' that clinical facts "
                    "are cited after",
                    {"did you mean 'domain'?"});
          return;
        }
      }
      return;
    }
    // The ids: words after "domain", separated by commas or spaces, to a
    // ';' or a '.' that ends the citation, a '(' that starts a remark, or
    // the word "and" ("domain M6 and I2").
    std::size_t end = src.find_first_of(";(", at);
    if (end == std::string::npos) end = src.size();
    for (std::size_t i = at + 6; i < end;) {
      while (i < end && (src[i] == ' ' || src[i] == ',' || src[i] == '\t')) ++i;
      std::size_t b = i;
      while (i < end && src[i] != ' ' && src[i] != ',' && src[i] != '\t') ++i;
      std::string word = src.substr(b, i - b);
      bool last = !word.empty() && word.back() == '.';
      if (last) word.pop_back();
      if (word == "and") continue;
      if (!word.empty()) ids.push_back({word, b});
      if (last) break;
    }
    if (ids.empty()) return;
    if (!rs_.sources) {
      if (!no_sources_reported_ && !allowed(r, "lint.no-sources")) {
        no_sources_reported_ = true;
        report_at(r, r.source_at, "lint.no-sources",
               "rules cite clinical facts (domain " + ids.front().id + ", ...) but the rule set has no sources.toml "
               "listing them",
               {"add sources.toml with [facts] " + ids.front().id + " = \"what the fact says\""});
      }
      return;
    }
    std::vector<std::string> known;
    for (const auto& id : ids) {
      if (rs_.sources->count(id.id)) continue;
      if (known.empty()) {
        for (const auto& [k, v] : *rs_.sources) known.push_back(k);
      }
      std::string near = nearest_name(id.id, known);
      report_at(r, at_offset(id.at), "lint.unknown-source",
                "rule '" + r.id + "' cites the fact '" + printable(id.id) + "', which sources.toml does not list",
                near.empty() ? std::vector<std::string>{} : std::vector<std::string>{"did you mean '" + near + "'?"});
    }
  }

  // The text of each top-level condition of a rule (its `and`'s operands).
  std::set<std::string> conjunct_texts(const compiled_rule& r) const {
    std::vector<std::uint32_t> atoms;
    conjuncts(r.condition, atoms);
    std::set<std::string> out;
    for (auto a : atoms) out.insert(std::string(p_.text_of(p_.nodes[a])));
    return out;
  }

  std::set<std::string> items_of(const compiled_rule& r) const {
    std::set<std::string> out;
    for (const auto& a : r.actions) {
      if (item_kind_of(a.kind)) out.insert(a.id);
    }
    return out;
  }

  // A rule whose items another rule proposes whenever it fires: the other
  // rule's conditions are a subset of its own (over the same list, if any).
  void shadowed() {
    std::vector<std::set<std::string>> conds, items;
    for (const auto& r : p_.rules) {
      conds.push_back(conjunct_texts(r));
      items.push_back(items_of(r));
    }
    // The rules proposing each item: a rule's candidates are those that
    // propose its rarest item, not every rule of the set (which made lint
    // quadratic in the number of rules).
    std::map<std::string, std::vector<std::size_t>> proposers;
    for (std::size_t r = 0; r < p_.rules.size(); ++r) {
      for (const auto& it : items[r]) proposers[it].push_back(r);
    }
    // The rules with each exact set of conditions: a rule with k conditions
    // looks up its 2^k subsets (k up to 12; a rule has a few), so many rules
    // proposing one item cost no comparison of each with each.
    auto key_of = [](const std::set<std::string>& cs) {
      std::string k;
      for (const auto& c : cs) k += c + '\x1f';
      return k;
    };
    std::unordered_map<std::string, std::vector<std::size_t>> by_conds;
    std::vector<std::string> cond_key(p_.rules.size());
    for (std::size_t r = 0; r < p_.rules.size(); ++r) {
      cond_key[r] = key_of(conds[r]);
      by_conds[cond_key[r]].push_back(r);
    }
    constexpr std::size_t kMaxSubsetConditions = 12;
    for (std::size_t a = 0; a < p_.rules.size(); ++a) {
      const auto& ra = p_.rules[a];
      if (items[a].empty() || ra.support >= 0) continue;
      // Whether b shadows a; true once reported.
      auto shadows = [&](std::size_t b) {
        const auto& rb = p_.rules[b];
        if (a == b || rb.each_list != ra.each_list || rb.each_var != ra.each_var || rb.support >= 0) return false;
        if (!std::includes(items[b].begin(), items[b].end(), items[a].begin(), items[a].end())) return false;
        if (!std::includes(conds[a].begin(), conds[a].end(), conds[b].begin(), conds[b].end())) return false;
        if (conds[a] == conds[b] && a > b) return false;  // the same rule twice: reported once
        report(ra, static_cast<std::uint32_t>(p_.nodes.size()), "lint.shadowed",
               "every item of rule '" + ra.id + "' is also proposed by rule '" + rb.id +
                   "', whose conditions are a part of this rule's: whenever '" + ra.id + "' fires, '" + rb.id +
                   "' does too",
               {"if '" + ra.id + "' is there for its own reason (its 'because'), say so with "
                "'# lint: allow lint.shadowed because ...'; otherwise remove it"});
        return true;
      };
      // The rules proposing a's rarest item: only they can shadow it.
      const std::vector<std::size_t>* fewest = nullptr;
      for (const auto& it : items[a]) {
        const auto& by = proposers[it];
        if (!fewest || by.size() < fewest->size()) fewest = &by;
      }
      // Whichever costs less: the 2^k subsets looked up, or the rules
      // proposing the rarest item compared one by one (a rule with 12
      // conditions and an item of its own needs one comparison, not 4,096
      // lookups).
      if (conds[a].size() <= kMaxSubsetConditions && (std::size_t{1} << conds[a].size()) < fewest->size()) {
        std::vector<const std::string*> cs;
        for (const auto& c : conds[a]) cs.push_back(&c);
        bool done = false;
        for (std::uint32_t mask = 0; mask < (1u << cs.size()) && !done; ++mask) {
          std::string k;
          for (std::size_t i = 0; i < cs.size(); ++i) {
            if (mask & (1u << i)) k += *cs[i] + '\x1f';
          }
          auto at = by_conds.find(k);
          if (at == by_conds.end()) continue;
          // The smaller of the two lists: many rules with one condition
          // but other items cost nothing (lint was quadratic in them).
          if (fewest->size() < at->second.size()) {
            for (std::size_t b : *fewest) {
              if (cond_key[b] == k && (done = shadows(b))) break;
            }
          } else {
            for (std::size_t b : at->second) {
              if ((done = shadows(b))) break;
            }
          }
        }
        continue;
      }
      for (std::size_t b : *fewest) {
        if (shadows(b)) break;
      }
    }
  }

  // A solution or goal `for` a challenge that no rule can raise when this
  // rule fires: the raisers' conditions contradict this rule's.
  // A goal whose text says "by session N" must say so as data too (`by
  // session N`), or plans can neither order it by date nor say when it has
  // passed; and the two must agree.
  void goal_dates() {
    for (const auto& r : p_.rules) {
      for (const auto& a : r.actions) {
        if (a.kind != ast::action_kind::goal) continue;
        std::optional<std::string> said;  // what the text dates it by
        const auto& parts = a.text.parts;
        for (std::size_t i = 0; i < parts.size() && !said; ++i) {
          if (parts[i].node >= 0) continue;
          std::string low = parts[i].text;
          for (auto& c : low) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          static const std::string phrase = "by session ";
          for (auto at = low.find(phrase); at != std::string::npos && !said; at = low.find(phrase, at + 1)) {
            std::string rest = parts[i].text.substr(at + phrase.size());
            if (rest.empty()) {
              if (i + 1 < parts.size() && parts[i + 1].node >= 0) {
                said = std::string(p_.text_of(p_.nodes[static_cast<std::size_t>(parts[i + 1].node)]));
              }
            } else {
              std::size_t n = 0;
              while (n < rest.size() && std::isdigit(static_cast<unsigned char>(rest[n]))) ++n;
              if (n > 0) said = rest.substr(0, n);
            }
          }
        }
        if (!said) continue;
        if (a.due_node < 0) {
          report_at(r, a.src_begin, "lint.goal-date",
                    "goal '" + a.id + "' says 'by session " + *said +
                        "' in its text, but has no 'by session': plans cannot order it by date or say when it has "
                        "passed",
                    {"write: goal " + a.id + (a.target.empty() ? "" : " for " + a.target) + " by session " + *said +
                     " \"...\""});
          continue;
        }
        std::string clause(p_.text_of(p_.nodes[static_cast<std::size_t>(a.due_node)]));
        if (clause != *said) {
          report_at(r, p_.nodes[static_cast<std::size_t>(a.due_node)].src_begin, "lint.goal-date",
                    "goal '" + a.id + "' is dated 'by session " + clause + "', but its text says 'by session " +
                        *said + "'");
        }
      }
    }
  }

  void orphan_solutions() {
    // Comparisons of two rules' conditions, at most: enough for any rule
    // set written by hand, linear for a generated one.
    constexpr std::size_t kMaxCompared = 500'000;
    std::size_t compared = 0, unchecked = 0;
    const compiled_rule* first_unchecked = nullptr;
    std::map<std::string, std::vector<const compiled_rule*>> raisers;
    for (const auto& r : p_.rules) {
      for (const auto& a : r.actions) {
        if (a.kind == ast::action_kind::challenge) raisers[a.id].push_back(&r);
      }
    }
    for (const auto& r : p_.rules) {
      std::set<std::string> reported;
      for (const auto& a : r.actions) {
        if (a.target.empty() || (a.kind != ast::action_kind::solution && a.kind != ast::action_kind::goal)) continue;
        if (reported.count(a.target)) continue;
        auto it = raisers.find(a.target);
        if (it == raisers.end()) continue;  // check reports an unknown target
        bool possible = false;
        for (const auto* c : it->second) {
          if (c == &r) {
            possible = true;
            break;
          }
          // Past the budget, a raiser is taken as possible: lint stays
          // linear in the rules, and says once that it stopped looking.
          if (compared >= kMaxCompared) {
            if (!first_unchecked) first_unchecked = &r;
            ++unchecked;
            possible = true;
            break;
          }
          ++compared;
          if (compatible(r, *c)) {
            possible = true;
            break;
          }
        }
        if (possible) continue;
        reported.insert(a.target);
        report(r, static_cast<std::uint32_t>(p_.nodes.size()), "lint.orphan-solution",
               "rule '" + r.id + "' proposes '" + a.id + "' for the challenge '" + a.target +
                   "', but no rule raising that challenge can fire together with it: their conditions "
                   "contradict this rule's");
      }
    }
    if (first_unchecked) {
      note_at(*first_unchecked, "lint.orphan-solution",
              with_thousands(unchecked) +
                  " solutions and goals, from here on, were not compared with the rules raising their challenge: "
                  "the rule set has more than lint compares, so one that can never apply among them goes unreported");
    }
  }

  // Whether the top-level conditions of two rules can hold together, as far
  // as the findings' ranges and choices tell (elements of lists left aside).
  bool compatible(const compiled_rule& x, const compiled_rule& y) const {
    std::vector<std::uint32_t> atoms;
    conjuncts(x.condition, atoms);
    conjuncts(y.condition, atoms);
    std::map<path_key, interval> ranges;
    std::map<path_key, std::set<std::int32_t>> choices;
    for (auto idx : atoms) {
      auto cmp = as_comparison(p_.nodes[idx]);
      if (!cmp) continue;
      auto [path, other, op, d] = *cmp;
      if (op == opcode::ne || path->op != opcode::finding) continue;
      if (auto c = number_of(*other); c && (d->type == finding_type::integer || d->type == finding_type::number)) {
        auto& b = ranges.try_emplace(key_of(*path), declared(*d)).first->second;
        b = b.with(op, *c);
        if (b.empty()) return false;
      } else if (other->op == opcode::literal && other->lit.kind == vkind::symbol && op == opcode::eq) {
        auto [it, fresh] = choices.try_emplace(key_of(*path));
        if (fresh) it->second.insert(other->lit.sym);
        else if (!it->second.count(other->lit.sym)) return false;
      }
    }
    return true;
  }

  // An item a safety rule proposes, excluded by a rule that is not one.
  void safety_excludes() {
    std::map<std::string, const compiled_rule*> safety_items;
    // The kind a safety item has, and a flag's highest severity.
    std::map<std::string, std::pair<ast::action_kind, std::int8_t>> standing;
    for (const auto& r : p_.rules) {
      if (!is_safety(r)) continue;
      for (const auto& a : r.actions) {
        if (!item_kind_of(a.kind)) continue;
        safety_items.emplace(a.id, &r);
        auto [at, fresh] = standing.try_emplace(a.id, a.kind, a.severity_rank);
        if (!fresh) at->second.second = std::max(at->second.second, a.severity_rank);
      }
    }
    // Only a safety rule in the safety file may remove a safety item: a tag
    // or a priority anyone can type elsewhere is no licence.
    for (const auto& r : p_.rules) {
      bool in_safety_file = p_.source_bases[r.file] == kSafetyFile;
      if (is_safety(r) && in_safety_file) {
        // Even there, a rule removes a safety item only to put a safety
        // item of its own in its place (a higher tier for a lower one, a
        // trusted adult for a parent who may harm): one that only removes
        // (no safety plan when the alliance is strong) leaves the client
        // with less safety and nothing instead. The item in its place is
        // of the same kind (a goal for a goal: an info flag is no safety
        // plan), and a flag in a flag's place is as severe at least.
        for (const auto& a : r.actions) {
          if (a.kind != ast::action_kind::exclude) continue;
          auto it = safety_items.find(a.id);
          if (it == safety_items.end()) continue;
          const auto [kind, severity] = standing[a.id];
          bool any = false, replaced = false;
          for (const auto& b : r.actions) {
            if (!item_kind_of(b.kind)) continue;
            any = true;
            if (b.kind == kind && (kind != ast::action_kind::flag || b.severity_rank >= severity)) replaced = true;
          }
          if (replaced) continue;
          const std::string kind_word = to_string(*item_kind_of(kind));
          report_at(r, a.src_begin, "lint.safety-exclude",
                    "rule '" + r.id + "' excludes '" + a.id + "', which the safety rule '" + it->second->id +
                        "' proposes, and proposes " +
                        (!any ? std::string("nothing in its place: the client is left with less safety and no "
                                            "step instead")
                              : kind == ast::action_kind::flag
                                  ? std::string("no flag as severe in its place: the client's risk would be "
                                                "shown as lower")
                                  : "no " + kind_word + " in its place: the client is left without that step"),
                    {"a safety rule removes a safety item only to replace it with one of the same kind (a higher "
                     "tier's flag for a lower one's, another safety " +
                     std::string(kind == ast::action_kind::flag ? "flag" : "step") +
                     "): propose the item that takes its place, or do not exclude it"});
        }
        continue;
      }
      for (const auto& a : r.actions) {
        if (a.kind != ast::action_kind::exclude) continue;
        auto it = safety_items.find(a.id);
        if (it == safety_items.end()) continue;
        std::string who = is_safety(r) ? "a safety rule outside " + std::string(kSafetyFile)
                                       : std::string("a rule that is not a safety rule");
        report_at(r, a.src_begin, "lint.safety-exclude",
                  "rule '" + r.id + "' excludes '" + a.id + "', which the safety rule '" + it->second->id +
                      "' proposes: " + who + " could remove a safety item",
                  {std::string("exclude safety items only from a safety rule (priority 100 or the tag 'safety') in ") +
                   kSafetyFile + ", where the safety rules are reviewed together, or not at all"});
      }
    }
  }

  // A text finding or field that takes any text (no pattern, no
  // reference to a list's keys): it could hold a name, which findings never
  // carry, and every message and plan quoting it would show (domain S5).
  void free_text() {
    auto check = [&](const finding_decl& d, const std::string& path) {
      if (d.type != finding_type::string || !d.pattern.empty() || !d.refers_to.empty()) return;
      diagnostic w;
      w.level = severity::warning;
      w.code = "lint.free-text";
      w.file = d.file;
      w.line = d.line;
      w.column = 1;
      w.message = "'" + path + "' takes any text (no 'pattern'): it could hold a name or other identifying text";
      w.notes.push_back("give it a pattern that admits only what it is for (role words: pattern = "
                        "\"[a-z]+(_[a-z0-9]+)*\"), or make it an enum");
      out_.push_back(std::move(w));
    };
    for (const auto& d : p_.vocab->findings()) {
      check(d, d.path);
      for (const auto& f : d.fields) check(f, d.path + "." + f.path);
    }
  }

  // Parameters declared with their type; numbers with their range and
  // unit too.
  void parameters() {
    for (const auto& prm : p_.params) {
      bool number = prm.v.kind == vkind::number;
      std::string missing;
      if (prm.type.empty()) missing += ", type";
      if (number && !prm.min) missing += ", min";
      if (number && !prm.max) missing += ", max";
      if (number && prm.unit.find_first_not_of(" ") == std::string::npos) missing += ", unit";
      if (prm.declared && missing.empty()) continue;
      diagnostic d = parameter_warning(
          prm, "lint.parameter-undeclared",
          prm.declared ? "parameter '" + prm.name + "' is declared without its " + missing.substr(2)
                       : "parameter '" + prm.name + "' has no declared type" + (number ? ", range or unit" : ""));
      std::ostringstream v;
      if (number) v << prm.v.n;
      std::string type = number ? (prm.v.n == static_cast<double>(static_cast<long long>(prm.v.n)) ? "integer" : "number")
                         : prm.v.kind == vkind::boolean ? "boolean"
                                                        : "text";
      d.notes.push_back("declare it: " + prm.name + " = { type = \"" + type + "\", value = " +
                        (v.str().empty() ? "..." : v.str()) +
                        (number ? ", min = ..., max = ..., unit = \"...\" }" : " }"));
      out_.push_back(std::move(d));
    }
  }
};

}  // namespace

std::vector<diagnostic> lint_on_load(const rule_set& rs) {
  return linter(rs).run_on_load();
}

std::vector<diagnostic> lint(const rule_set& rs) {
  auto out = linter(rs).run();
  sort_diagnostics(out);
  return out;
}

}  // namespace iptplan

#include "engine/findings_text.hpp"
#include "engine/testing.hpp"

#include <algorithm>
#include <set>
#include <sstream>

#include "engine/render/render.hpp"
#include "engine/toml_util.hpp"

namespace iptplan {

namespace {

const std::vector<std::string> kKinds = {"flags",     "challenges", "solutions", "goals",
                                         "conclusions", "undecided", "excluded",  "to_assess",
                                         "provisional"};

// "fact" or "fact = value" against one conclusion; `risk.level = "low"`
// and `risk.level = low` mean the same.
bool conclusion_matches(const fact_explanation& c, const std::string& want) {
  auto eq = want.find(" = ");
  std::string fact = eq == std::string::npos ? want : want.substr(0, eq);
  std::string value = eq == std::string::npos ? "" : want.substr(eq + 3);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  return c.fact == fact && (eq == std::string::npos || c.value == value);
}

std::vector<std::string> string_list(const source_file& src, const toml::node& n,
                                      const std::string& what, std::vector<diagnostic>& diags) {
  std::vector<std::string> out;
  auto* arr = n.as_array();
  if (!arr) {
    diags.push_back(toml_diagnostic(src, &n, severity::error, "test.invalid",
                                    "'" + what + "' must be a list of ids in quotes"));
    return out;
  }
  for (auto&& x : *arr) {
    if (auto s = x.value<std::string>()) out.push_back(*s);
    else diags.push_back(toml_diagnostic(src, &x, severity::error, "test.invalid",
                                         "'" + what + "' must hold ids in quotes"));
  }
  return out;
}

const std::vector<plan_item>* group_of(const plan& p, const std::string& kind) {
  if (kind == "flags") return &p.flags;
  if (kind == "challenges") return &p.challenges;
  if (kind == "solutions") return &p.solutions;
  if (kind == "goals") return &p.goals;
  return nullptr;
}

// Whether `want` holds in the plan for one list kind.
bool holds(const plan& p, const std::string& kind, const std::string& want) {
  if (auto eq = want.find(" = "); kind == "flags" && eq != std::string::npos) {
    // A flag and its severity: "severe_suicide_risk = critical".
    const std::string id = want.substr(0, eq), severity = want.substr(eq + 3);
    return std::any_of(p.flags.begin(), p.flags.end(),
                       [&](const plan_item& it) { return it.named_by(id) && it.severity == severity; });
  }
  if (const auto* g = group_of(p, kind)) {
    return std::any_of(g->begin(), g->end(), [&](const plan_item& it) { return it.named_by(want); });
  }
  if (kind == "excluded") {
    return std::any_of(p.excluded.begin(), p.excluded.end(),
                       [&](const excluded_item& e) { return e.item.named_by(want); });
  }
  if (kind == "conclusions" || kind == "provisional") {
    // Confirmed conclusions under `conclusions`; provisional ones, and
    // provisional items of any kind, under `provisional`.
    bool prov = kind == "provisional";
    for (const auto& c : p.conclusions) {
      if (c.provisional == prov && conclusion_matches(c, want)) return true;
    }
    return prov && std::any_of(p.provisional.begin(), p.provisional.end(),
                               [&](const plan_item& it) { return it.named_by(want); });
  }
  if (kind == "to_assess") {
    // "phq9.total", or "relationships[mother].conflict"
    return std::any_of(p.to_assess.begin(), p.to_assess.end(),
                       [&](const assess_item& a) { return a.finding == want; });
  }
  if (kind == "undecided") {
    for (const auto& u : p.undecided) {
      if (u.rule.id == want || u.rule.id + "[" + u.key + "]" == want) return true;
    }
    return false;
  }
  return false;
}

std::string indent(const std::string& text, int n) {
  std::string pad(static_cast<std::size_t>(n), ' '), out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += pad + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

std::string singular(const std::string& kind) {
  if (kind == "undecided" || kind == "excluded") return kind;
  if (kind == "to_assess") return "finding to assess";
  if (kind == "provisional") return "provisional item or conclusion";
  return kind.substr(0, kind.size() - 1);
}

// What the plan holds for a list kind, for messages.
std::string held(const plan& p, const std::string& kind) {
  std::vector<std::string> ids;
  if (const auto* g = group_of(p, kind)) {
    for (const auto& it : *g) ids.push_back(it.full_id());
  } else if (kind == "excluded") {
    for (const auto& e : p.excluded) ids.push_back(e.item.full_id());
  } else if (kind == "conclusions" || kind == "provisional") {
    bool prov = kind == "provisional";
    for (const auto& c : p.conclusions) {
      if (c.provisional == prov) ids.push_back(c.fact + " = " + c.value);
    }
    if (prov) {
      for (const auto& it : p.provisional) ids.push_back(it.full_id());
    }
  } else if (kind == "to_assess") {
    for (const auto& a : p.to_assess) ids.push_back(a.finding);
  } else if (kind == "undecided") {
    for (const auto& u : p.undecided) {
      ids.push_back(u.rule.id + (u.key.empty() ? "" : "[" + u.key + "]"));
    }
  }
  if (ids.empty()) return "(none)";
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? ", " : "") + ids[i];
  return out;
}

// The [findings] section of a case file whose heading is on line `at`, as
// a findings file with the same line numbers: blank lines up to the
// heading, then its lines up to the next heading of another table, with
// [findings.x] and [[findings.x]] written [x] and [[x]]. Nothing when the
// heading is not a plain [findings] line.
std::optional<std::string> findings_section(const std::string& text, int at) {
  std::vector<std::string_view> lines;
  for (std::size_t b = 0; b <= text.size();) {
    std::size_t e = text.find('\n', b);
    if (e == std::string::npos) e = text.size();
    lines.emplace_back(text.data() + b, e - b);
    b = e + 1;
  }
  auto trimmed = [](std::string_view l) {
    while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.remove_prefix(1);
    while (!l.empty() && (l.back() == ' ' || l.back() == '\t' || l.back() == '\r')) l.remove_suffix(1);
    return l;
  };
  if (at < 1 || static_cast<std::size_t>(at) > lines.size() || trimmed(lines[static_cast<std::size_t>(at - 1)]) != "[findings]") {
    return std::nullopt;
  }
  std::string out(static_cast<std::size_t>(at), '\n');
  for (std::size_t i = static_cast<std::size_t>(at); i < lines.size(); ++i) {
    std::string_view l = trimmed(lines[i]);
    if (!l.empty() && l.front() == '[') {
      std::size_t open = l.rfind("[[", 0) == 0 ? 2 : 1;
      if (l.substr(open, 9) != "findings.") break;
      std::string_view raw = lines[i];
      std::size_t at_word = raw.find("findings.");
      out.append(raw.substr(0, at_word));
      out.append(raw.substr(at_word + 9));
      out += '\n';
      continue;
    }
    out.append(lines[i]);
    out += '\n';
  }
  return out;
}

// A name from a test case as a report shows it: control characters and
// line breaks escaped (no name can forge a line such as "PASS  x"), and at
// most about 120 characters, so a report's size never follows a name's.
std::string shown(const std::string& s) {
  std::string t = printable(s);
  if (t.size() <= 120) return t;
  std::size_t cut = 110;
  while (cut > 0 && (static_cast<unsigned char>(t[cut]) & 0xC0) == 0x80) --cut;
  t.resize(cut);
  return t + "... (" + std::to_string(s.size()) + " bytes)";
}

}  // namespace

std::optional<test_case> read_test_case(const std::string& name, const std::string& text,
                                        const findings_resolver& resolve,
                                        std::vector<diagnostic>& diags) {
  std::size_t before = diags.size();
  // A test case may hold findings: no value or line of it is quoted.
  auto t = parse_toml(name, text, "test.syntax", diags, false);
  if (!t) return std::nullopt;
  source_file src(name, text);
  test_case tc;
  tc.file = name;
  auto slash = name.find_last_of('/');
  tc.name = name.substr(slash == std::string::npos ? 0 : slash + 1);
  if (tc.name.size() > 5 && tc.name.compare(tc.name.size() - 5, 5, ".toml") == 0) {
    tc.name.resize(tc.name.size() - 5);
  }
  for (auto&& [k, v] : *t) {
    std::string key(k.str());
    if (key == "description") {
      tc.description = v.value_or(std::string());
    } else if (key == "findings") {
      if (auto path = v.value<std::string>()) {
        // A NUL (or any control character) would cut the name where the
        // file is opened: another file would be read, and the case pass.
        if (!is_plain_text(*path)) {
          diags.push_back(toml_diagnostic(src, &v, severity::error, "test.findings",
                                          "the findings file's name has a control character (a NUL, a line "
                                          "break); give the file's name as it is"));
          continue;
        }
        auto got = resolve(*path);
        if (!got) {
          diags.push_back(toml_diagnostic(src, &v, severity::error, "test.findings",
                                          "cannot read the findings file '" + *path + "'"));
          continue;
        }
        tc.findings_name = got->first;
        tc.findings_text = got->second;
      } else if (auto* inline_table = v.as_table()) {
        // Read from the case file's own lines where that gives the same
        // table, so errors name the case file's lines and columns: the
        // [findings] section, its sub-headings without "findings.", after
        // blank lines up to its place. Else written back out as TOML.
        if (auto own = findings_section(text, static_cast<int>(v.source().begin.line))) {
          std::vector<diagnostic> quiet;
          auto again = parse_toml(name, *own, "test.syntax", quiet, false);
          if (again && *again == *inline_table) {
            tc.findings_name = name;
            tc.findings_text = std::move(*own);
            continue;
          }
        }
        // As a document, not as the inline table it may have been written as
        // (`findings = { ... }`), which toml++ would print as one.
        toml::table copy = *inline_table;
        copy.is_inline(false);
        std::ostringstream os;
        os << copy;
        tc.findings_name = name + " [findings]";
        tc.findings_text = os.str();
      } else {
        diags.push_back(toml_diagnostic(src, &v, severity::error, "test.invalid",
                                        "'findings' must be a path in quotes or a [findings] table"));
      }
    } else if (key == "expect" || key == "absent") {
      auto* lists = v.as_table();
      if (!lists) {
        diags.push_back(toml_diagnostic(src, &v, severity::error, "test.invalid",
                                        "'" + key + "' must be a table: [" + key + "]"));
        continue;
      }
      for (auto&& [lk, lv] : *lists) {
        std::string kind(lk.str());
        if (std::find(kKinds.begin(), kKinds.end(), kind) == kKinds.end()) {
          std::string near = nearest_name(kind, kKinds);
          auto d = toml_diagnostic(src, &lv, severity::error, "test.invalid",
                                   "'" + key + "." + kind + "' is not a list a test can check");
          d.notes.push_back(near.empty() ? "use flags, challenges, solutions, goals, conclusions, undecided, excluded, to_assess or provisional"
                                         : "did you mean '" + near + "'?");
          diags.push_back(std::move(d));
          continue;
        }
        auto& into = key == "expect" ? tc.expect[kind] : tc.absent[kind];
        auto xs = string_list(src, lv, key + "." + kind, diags);
        into.insert(into.end(), xs.begin(), xs.end());
      }
    } else {
      // A key is named only when it is a plain word: a quoted key may be
      // anything, a name included.
      bool plain = !key.empty() && key.size() <= 40 && std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      });
      auto d = toml_diagnostic(src, &v, severity::error, "test.invalid",
                               (plain ? "unknown key '" + key + "'" : std::string("an unknown key")) +
                                   "; a test case has description, findings, [expect] and [absent]");
      d.source_line.clear();
      diags.push_back(std::move(d));
    }
  }
  if (tc.findings_name.empty() && !t->contains("findings")) {
    diagnostic d;
    d.code = "test.findings";
    d.file = name;
    d.message = "the test case names no findings (findings = \"path\" or a [findings] table)";
    diags.push_back(std::move(d));
  }
  for (std::size_t i = before; i < diags.size(); ++i) {
    if (diags[i].level == severity::error) return std::nullopt;
  }
  return tc;
}

case_result run_test_case(const rule_set& rs, const test_case& tc, std::vector<diagnostic>& diags) {
  case_result r;
  // Strict: a misspelt finding in a case would otherwise be ignored and make
  // an [absent] check pass for the wrong reason.
  findings_options strict;
  strict.suggest_allow_unknown = false;  // `iptplan test` has no such option
  // Findings in JSON (a file named *.json, or text that opens with '{')
  // are read as JSON, as `plan` reads them.
  const std::string& t = tc.findings_text;
  const std::string& n = tc.findings_name;
  auto client = findings_are_json(n, t) ? read_findings_json(*rs.prog, n, t, strict, diags)
                                        : read_findings(*rs.prog, n, t, strict, diags);
  if (!client) {
    r.report = "  the findings could not be read (see the errors above)\n";
    return r;
  }
  // The keys the findings give their entries ("partner", or a position):
  // an id keyed by anything else names an item no plan of this client can
  // hold, and would pass as absent for ever.
  std::set<std::string> keys;
  for (std::size_t f = 0; f < rs.prog->vocab->findings().size(); ++f) {
    const value& v = client->slots[f];
    std::size_t n = v.kind == vkind::table ? client->tables[v.ref].size()
                    : v.kind == vkind::list ? client->lists[v.ref].size()
                                            : 0;
    for (std::size_t e = 0; e < n; ++e) {
      keys.insert(element_key(*rs.prog, *client, static_cast<std::int32_t>(f), static_cast<std::int32_t>(e)));
    }
  }
  // Names a test lists must exist: a misspelt id would pass as absent.
  for (const auto* lists : {&tc.expect, &tc.absent}) {
    for (const auto& [kind, listed] : *lists) {
      for (const auto& written : listed) {
        const char* where = lists == &tc.expect ? "[expect]" : "[absent]";
        std::string id = written;
        if (auto eq = written.find(" = "); kind == "flags" && eq != std::string::npos) {
          // A flag with its severity.
          const std::string severity = written.substr(eq + 3);
          id = written.substr(0, eq);
          if (severity != "info" && severity != "warning" && severity != "critical") {
            r.report += "  " + std::string(where) + " flags gives '" + shown(id) + "' the severity '" + shown(severity) +
                        "'; a flag's severity is info, warning or critical\n";
            continue;
          }
        }
        if (auto open = id.find('['); open != std::string::npos && kind != "conclusions") {
          auto close = id.find(']', open);
          const std::string key = id.substr(open + 1, close == std::string::npos ? std::string::npos : close - open - 1);
          if (!keys.count(key)) {
            std::string near = nearest_name(key, {keys.begin(), keys.end()});
            r.report += "  " + std::string(where) + " " + kind + " names '" + shown(id) + "', but no entry of the findings has the key '" +
                        shown(key) + "'" + (near.empty() ? "" : "; did you mean '" + shown(near) + "'?") + "\n";
            continue;
          }
        }
        std::string base = id.substr(0, id.find('['));
        std::vector<std::string> known;
        bool exists = false;
        if (kind == "conclusions") {
          base = id.substr(0, id.find(" = "));
          exists = rs.prog->fact_index(base) >= 0;
          for (const auto& f : rs.prog->facts) known.push_back(f.path);
        } else if (kind == "provisional") {
          // A fact ("fact = value") or an item of any kind.
          std::string fact = id.substr(0, id.find(" = "));
          exists = rs.prog->fact_index(fact) >= 0 || !rs.prog->rules_proposing(base).empty();
          if (!exists) base = id.find(" = ") != std::string::npos ? fact : base;
          for (const auto& f : rs.prog->facts) known.push_back(f.path);
          for (const auto& rule : rs.prog->rules) {
            for (const auto& a : rule.actions) {
              if (item_kind_of(a.kind)) known.push_back(a.id);
            }
          }
        } else if (kind == "to_assess") {
          base = id.substr(0, id.find('['));
          exists = rs.prog->vocab->find(base) != nullptr;
          known = rs.prog->vocab->paths();
        } else if (kind == "undecided") {
          for (const auto& rule : rs.prog->rules) known.push_back(rule.id);
          exists = std::find(known.begin(), known.end(), base) != known.end();
        } else {
          // The id must be proposed as this kind of item (any kind for
          // `excluded`): a goal listed under solutions is a mistake.
          for (const auto& rule : rs.prog->rules) {
            for (const auto& a : rule.actions) {
              auto k = item_kind_of(a.kind);
              if (!k || (kind != "excluded" && std::string(to_string(*k)) + "s" != kind)) continue;
              known.push_back(a.id);
              exists = exists || a.id == base;
            }
          }
        }
        if (exists) continue;
        std::string near = nearest_name(base, known);
        r.report += "  " + std::string(lists == &tc.expect ? "[expect]" : "[absent]") + " " + kind +
                    " names '" + shown(base) + "', " +
                    (kind == "conclusions" ? "which no rule concludes"
                     : kind == "provisional" ? "which no rule concludes or proposes"
                     : kind == "undecided" ? "which is not a rule id"
                     : kind == "to_assess" ? "which the vocabulary does not declare"
                     : rs.prog->rules_proposing(base).empty() ? "which no rule proposes"
                                           : "which the rules propose, but not among the " + kind) +
                    (near.empty() ? "" : "; did you mean '" + shown(near) + "'?") + "\n";
      }
    }
  }
  r.ev = evaluate(*rs.prog, *client, true);
  r.client = *client;
  plan p = build_plan(rs, *client, *r.ev, findings_sha256(tc.findings_text));
  // A plan past the size a plan may have holds no item: no expectation can
  // be judged against it, and an [absent] one must not pass by default.
  for (const auto& d : p.diagnostics) {
    if (d.code != "plan.too-large") continue;
    r.report = "  the plan could not be made: " + d.message + " [plan.too-large]\n";
    r.passed = false;
    return r;
  }
  for (const auto& kind : kKinds) {
    auto it = tc.expect.find(kind);
    if (it != tc.expect.end()) {
      for (const auto& want : it->second) {
        if (holds(p, kind, want)) continue;
        r.report += "  expected " + singular(kind) + " " + shown(want) + "; the plan holds " + held(p, kind) + "\n";
        if (auto eq = want.find(" = "); kind == "flags" && eq != std::string::npos) {
          // The flag is there, at another severity: said, not explained.
          bool said = false;
          for (const auto& f : p.flags) {
            if (!f.named_by(want.substr(0, eq))) continue;
            r.report += "      " + shown(f.full_id()) + " is in the plan as " + f.severity + "\n";
            said = true;
          }
          if (said) continue;
        }
        // Present, but only provisionally: say so rather than leave the
        // reader to search.
        if (kind != "provisional" && holds(p, "provisional", want)) {
          r.report += "      it is in the plan only provisionally (list it under 'provisional' to expect that)\n";
        }
        bool item_like = group_of(p, kind) || kind == "excluded" ||
                         (kind == "provisional" && want.find(" = ") == std::string::npos &&
                          rs.prog->fact_index(want) < 0);
        if (item_like) {
          const std::string item = kind == "flags" ? want.substr(0, want.find(" = ")) : want;
          if (!rs.prog->rules_proposing(item.substr(0, item.find('['))).empty()) {
            r.report += indent(render_why_not(rs, *client, *r.ev, p, item), 6);
          } else {
            r.report += "      no rule of the rule set proposes '" + shown(item) + "'\n";
          }
        }
      }
    }
    auto ab = tc.absent.find(kind);
    if (ab != tc.absent.end()) {
      for (const auto& unwanted : ab->second) {
        if (!holds(p, kind, unwanted)) continue;
        r.report += "  expected no " + singular(kind) + " " + shown(unwanted) + ", but the plan holds it\n";
        if (const auto* g = group_of(p, kind)) {
          for (const auto& item : *g) {
            if (item.named_by(unwanted)) r.report += indent(render_why(item), 6);
          }
        }
      }
    }
  }
  r.passed = r.report.empty();
  // A case with thousands of failed expectations reports the first lines in
  // full and counts the rest, so a report's size never follows the case's.
  constexpr std::size_t kReportLines = 200;
  std::size_t lines = 0, at = 0;
  while (at < r.report.size() && lines < kReportLines) {
    at = r.report.find('\n', at);
    if (at == std::string::npos) break;
    ++at;
    ++lines;
  }
  if (lines == kReportLines && at < r.report.size()) {
    std::size_t more = static_cast<std::size_t>(std::count(r.report.begin() + static_cast<std::ptrdiff_t>(at),
                                                            r.report.end(), '\n'));
    r.report.resize(at);
    r.report += "  ... and " + std::to_string(more) + " more lines\n";
  }
  return r;
}

namespace {

// The conditions a rule's evidence reports, in source order: the operands
// of its top-level and/or/not, down to the first that is not one.
void top_conditions(const program& p, std::uint32_t idx, std::vector<std::uint32_t>& out) {
  const node& n = p.nodes[idx];
  bool connective = n.op == opcode::op_and || n.op == opcode::op_or || n.op == opcode::op_not;
  if (n.atom || !connective) {
    out.push_back(idx);
  } else if (n.op == opcode::op_not) {
    top_conditions(p, n.a, out);
  } else {
    for (std::uint32_t c = 0; c < n.b; ++c) top_conditions(p, p.children[n.a + c], out);
  }
}

}  // namespace

coverage::coverage(const program& p) : rules(p.rules.size()), p_(&p) {
  for (std::uint32_t ri = 0; ri < p.rules.size(); ++ri) {
    std::vector<std::uint32_t> conds;
    top_conditions(p, p.rules[ri].condition, conds);
    for (auto n : conds) {
      if (index_.emplace(std::make_pair(ri, n), conditions.size()).second) conditions.push_back({ri, n});
    }
  }
  // Every enum finding or field a rule reads starts with all its choices
  // unused.
  const auto& fs = p.vocab->findings();
  for (const auto& n : p.nodes) {
    const finding_decl* d = nullptr;
    std::string path;
    if (n.op == opcode::finding && n.a < fs.size()) {
      d = &fs[n.a];
      path = d->path;
    } else if (n.op == opcode::field && n.b < fs.size() && n.a < fs[n.b].fields.size()) {
      d = &fs[n.b].fields[n.a];
      path = fs[n.b].path + "." + d->path;
    }
    if (d && d->type == finding_type::enumeration && !d->values.empty()) {
      unused_choices.emplace(path, std::set<std::string>(d->values.begin(), d->values.end()));
    }
  }
}

void coverage::add(const evaluation& ev) {
  for (const auto& o : ev.outcomes) {
    auto& c = rules[o.rule];
    if (o.result == truth::yes) ++c.fired;
    else if (o.result == truth::no) ++c.false_;
    else ++c.undecided;
    for (const auto& e : o.evidence) {
      auto it = index_.find({o.rule, e.node});
      if (it == index_.end()) continue;
      auto& cc = conditions[it->second];
      if (e.result == truth::yes) ++cc.true_;
      else if (e.result == truth::no) ++cc.false_;
      else ++cc.unknown;
    }
  }
}

void coverage::add(const client_data& c) {
  const program& p = *p_;
  const auto& fs = p.vocab->findings();
  auto used = [&](const std::string& path, const value& v) {
    if (v.kind != vkind::symbol) return;
    auto it = unused_choices.find(path);
    if (it != unused_choices.end()) it->second.erase(c.symbol_text(p, v.sym));
  };
  for (std::size_t i = 0; i < fs.size() && i < c.slots.size(); ++i) {
    const value& v = c.slots[i];
    used(fs[i].path, v);
    if (v.kind == vkind::table) {
      for (const auto& el : c.tables[v.ref]) {
        for (std::size_t k = 0; k < el.fields.size() && k < fs[i].fields.size(); ++k) {
          used(fs[i].path + "." + fs[i].fields[k].path, el.fields[k]);
        }
      }
    }
  }
}

std::vector<std::string> unread_findings(const program& p) {
  std::set<std::uint32_t> read;
  std::set<std::pair<std::uint32_t, std::uint32_t>> fields;  // (list, field index)
  for (const auto& r : p.rules) {
    if (r.each_list >= 0) read.insert(static_cast<std::uint32_t>(r.each_list));
  }
  for (const auto& n : p.nodes) {
    switch (n.op) {
      case opcode::finding:
      case opcode::any:
      case opcode::all:
      case opcode::count: read.insert(n.a); break;
      case opcode::field: fields.insert({n.b, n.a}); break;
      default: break;
    }
  }
  std::vector<std::string> out;
  const auto& fs = p.vocab->findings();
  for (std::uint32_t i = 0; i < fs.size(); ++i) {
    if (!read.count(i)) out.push_back(fs[i].path);
    for (std::uint32_t k = 0; k < fs[i].fields.size(); ++k) {
      // The key field names items; it needs no rule to read it.
      if (fs[i].fields[k].path == fs[i].key) continue;
      if (!fields.count({i, k})) out.push_back(fs[i].path + "." + fs[i].fields[k].path);
    }
  }
  return out;
}

}  // namespace iptplan

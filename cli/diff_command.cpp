// `iptplan diff OLD NEW [FINDINGS...]`: what a change to the rules does to
// the plans of the case library. Each side is a rule-set folder, a git
// revision (`HEAD~1:rules`) or `built-in`; every client of NEW's
// tests/clients/ (or the findings given) is planned with both, and the
// plans are compared item by item, each change with its why on both sides.
#include "cli/diff_command.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "store/plan_compare.hpp"
#include "engine/testing.hpp"
#include "engine/render/json_writer.hpp"
#include "engine/render/render.hpp"
#include "grammar/diagnostic.hpp"

extern char** environ;

namespace iptplan::cli {

namespace fs = std::filesystem;
using nlohmann::json;
using store::compare_plans;
using store::plan_changes;
using store::text_of;

namespace {

// A side of the comparison: its rule files and its clients.
struct side {
  std::string label;
  std::vector<rule_set_file> files;
  std::map<std::string, std::string> clients;  // "clients/jane.toml" -> text
  std::map<std::string, std::string> cases;    // "jane.toml" -> the test case's text
};

// The findings of every case: each client file, and each test case's own
// findings (a case may hold them inline), named as the case names them.
std::map<std::string, std::string> all_findings(const side& s) {
  std::map<std::string, std::string> out = s.clients;
  for (const auto& [name, text] : s.cases) {
    std::vector<diagnostic> ignored;
    auto tc = read_test_case("tests/" + name, text,
                             [&](const std::string& rel) -> std::optional<std::pair<std::string, std::string>> {
                               auto it = s.clients.find(fs::path(rel).lexically_normal().generic_string());
                               if (it == s.clients.end()) return std::nullopt;
                               return std::make_pair(it->first, it->second);
                             },
                             ignored);
    if (!tc) continue;
    bool known = false;
    for (const auto& [n, t] : out) known = known || t == tc->findings_text;
    if (!known) out["tests/" + name + " (its findings)"] = tc->findings_text;
  }
  return out;
}

bool is_rule_file(const std::string& base) {
  return base == "ruleset.toml" || base == "vocabulary.toml" || base == kApprovalFile || base == kSourcesFile ||
         (base.size() > 6 && base.compare(base.size() - 6, 6, ".rules") == 0);
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Runs a program (no shell) and returns its standard output, or nothing.
// Past `limit` bytes the program is stopped and `*too_large` set: git could
// otherwise hand over a blob of any size.
std::optional<std::string> capture(const std::vector<std::string>& args, std::size_t limit = 64 * kMaxInputBytes,
                                   bool* too_large = nullptr) {
  int fds[2];
  if (::pipe(fds) != 0) return std::nullopt;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0].c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return std::nullopt;
  }
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > limit) {
      ::kill(pid, SIGKILL);
      if (too_large) *too_large = true;
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (too_large && *too_large) return std::nullopt;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return out;
}

std::optional<side> from_git(const std::string& spec, std::ostream& err) {
  auto colon = spec.find(':');
  std::string rev = spec.substr(0, colon), path = spec.substr(colon + 1);
  while (!path.empty() && path.back() == '/') path.pop_back();
  const std::string given_path = path;
  // With each entry's mode: "MODE TYPE OBJECT\tNAME\0".
  auto tree = capture({"git", "ls-tree", "-r", "-z", "--full-tree", rev + ":" + path});
  if (!tree && path.rfind("./", 0) != 0) {
    // A path relative to the current folder, as from inside a subfolder.
    path = path == "." || path.empty() ? "./" : "./" + path;
    tree = capture({"git", "ls-tree", "-r", "-z", "--full-tree", rev + ":" + path});
  }
  if (!tree) {
    // Which half failed: the revision, or the path in it.
    bool rev_ok = capture({"git", "rev-parse", "--verify", "--quiet", rev + "^{commit}"}).has_value();
    err << "iptplan: error: " << printable(spec) << " is not a folder, ";
    if (rev.empty()) {
      err << "and names no revision before the ':' (git's index is not read: give a branch, a tag or a commit, "
             "such as HEAD:rules)\n";
    } else if (!rev_ok) {
      err << "and git knows no revision '" << printable(rev)
          << "' here (a branch, a tag or a commit, such as main or HEAD~1; is this a git repository?)\n";
    } else if (capture({"git", "cat-file", "-e", rev + ":" + given_path}).has_value()) {
      err << "and '" << printable(given_path) << "' in the revision '" << printable(rev)
          << "' is a file; give the rule set's folder (such as " << printable(rev) << ":rules)\n";
    } else {
      err << "and the revision '" << printable(rev) << "' has no folder '" << printable(given_path)
          << "' (the path from the top of the repository, such as main:rules)\n";
    }
    return std::nullopt;
  }
  side s;
  s.label = spec;
  std::size_t total = 0;       // what the side holds so far: bounded as a folder's would be
  std::size_t rule_total = 0;  // of it, the rule set's files
  // NUL-separated (-z): git would quote a name holding a non-ASCII byte or
  // a newline, and the quoted name would match no file: a rule file lost.
  std::istringstream names(*tree);
  for (std::string entry; std::getline(names, entry, '\0');) {
    const auto tab = entry.find('\t');
    if (tab == std::string::npos) continue;
    const std::string mode = entry.substr(0, entry.find(' ')), name = entry.substr(tab + 1);
    // As a folder is read: a folder named like a rule file is an error (a
    // rule set lost in it), and so is a symbolic link, whose text in git is
    // only the name of what it points to.
    if (const auto slash = name.find('/'); slash != std::string::npos && is_rule_file(name.substr(0, slash))) {
      err << "iptplan: error: " << printable(name.substr(0, slash)) << " of " << printable(spec)
          << ": a folder named like a rule file; a rule file is a file\n";
      return std::nullopt;
    }
    // As a folder is read: a rule file one folder down is not read, and a
    // rule file whose name holds a control character is refused, both said
    // (a reviewer shown "no change" for a rule the folder loader refuses).
    if (const auto slash = name.find('/'); slash != std::string::npos && name.find('/', slash + 1) == std::string::npos &&
                                           ends_with(name, ".rules")) {
      err << "iptplan: error: " << printable(name) << " of " << printable(spec)
          << ": a rule file in a folder of the rule set is not read: a rule set reads the *.rules files at its top "
             "only\n";
      return std::nullopt;
    }
    if (name.find('/') == std::string::npos && ends_with(name, ".rules") &&
        std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
      err << "iptplan: error: " << printable(name) << " of " << printable(spec)
          << ": a rule file's name holds a control character (a line break, a tab, ...); rename it to be read\n";
      return std::nullopt;
    }
    bool rule = name.find('/') == std::string::npos && is_rule_file(name);
    if (name.find('/') == std::string::npos && misnamed_rule_file(name)) {  // as in a folder: not a file lost
      err << "iptplan: error: " << printable(name) << " of " << printable(spec)
          << ": a rule file's name ends in '.rules', in lower case; rename it to be read\n";
      return std::nullopt;
    }
    bool client = name.rfind("tests/clients/", 0) == 0 && ends_with(name, ".toml");
    bool test_case = name.rfind("tests/", 0) == 0 && name.find('/', 6) == std::string::npos && ends_with(name, ".toml");
    if (!rule && !client && !test_case) continue;
    if (mode == "120000") {
      err << "iptplan: error: " << printable(name) << " of " << printable(spec)
          << ": a symbolic link in the revision; git keeps only the name it points to, not a rule set's text\n";
      return std::nullopt;
    }
    if (mode == "160000") continue;  // a submodule: no file here
    std::string where = path.empty() ? name : path == "./" ? "./" + name : path + "/" + name;
    bool large = false;
    auto text = capture({"git", "show", rev + ":" + where}, kMaxInputBytes, &large);
    if (large) {
      err << "iptplan: error: " << printable(name) << " of " << printable(spec) << " is larger than "
          << kMaxInputBytes / (1024 * 1024) << " MiB, the largest file iptplan reads\n";
      return std::nullopt;
    }
    if (text && rule && (rule_total += text->size()) > kMaxRuleSetBytes) {
      err << "iptplan: error: the rule set of " << printable(spec) << " holds more than "
          << kMaxRuleSetBytes / (1024 * 1024) << " MiB in all, the most iptplan reads\n";
      return std::nullopt;
    }
    if (text && (total += text->size()) > 64 * kMaxInputBytes) {
      err << "iptplan: error: the rule set and cases of " << printable(spec) << " hold more than "
          << 64 * kMaxInputBytes / (1024 * 1024) << " MiB in all\n";
      return std::nullopt;
    }
    if (!text) {
      err << "iptplan: error: git could not read " << printable(name) << " of " << printable(spec) << "\n";
      return std::nullopt;
    }
    if (rule) s.files.push_back({spec + "/" + name, name, *text});
    else if (client) s.clients[name.substr(6)] = *text;
    else s.cases[name.substr(6)] = *text;
  }
  return s;
}

std::optional<side> read_side(const std::string& spec, std::ostream& err) {
  std::error_code ec;
  if (spec == "built-in") {
    side s;
    s.label = "built-in";
    s.files = builtin_rule_files();
    for (auto& f : builtin_case_files()) {
      if (f.name.rfind("rules/tests/clients/", 0) == 0) s.clients[f.name.substr(12)] = f.text;
      else if (f.name.rfind("rules/tests/", 0) == 0 && f.name.find('/', 12) == std::string::npos)
        s.cases[f.name.substr(12)] = f.text;
    }
    return s;
  }
  if (!fs::exists(spec, ec) && spec.find(':') != std::string::npos) return from_git(spec, err);
  std::vector<diagnostic> diags;
  side s;
  s.label = spec;
  s.files = read_rule_folder(spec, diags);
  // A case or client file that cannot be read (a dangling link, a pipe, a
  // folder named *.toml) is an error, never skipped; one reached through a
  // link that leads out of the rule set is refused, as `test` refuses it.
  auto readable = [&](const fs::directory_entry& e, const std::string& code) -> std::optional<std::string> {
    std::error_code e2;
    if (!path_inside(spec, e.path().string())) {
      diagnostic d;
      d.code = code;
      d.file = e.path().string();
      d.message = "is a link that leads outside the rule set folder; copy the file in instead";
      diags.push_back(std::move(d));
      return std::nullopt;
    }
    if (!fs::is_regular_file(e.path(), e2)) {
      diagnostic d;
      d.code = code;
      d.file = e.path().string();
      d.message = fs::is_symlink(e.symlink_status(e2)) && !fs::exists(e.path(), e2)
                      ? "is a link to nothing"
                      : "is not a regular file (a folder, pipe or device)";
      diags.push_back(std::move(d));
      return std::nullopt;
    }
    return read_text_file(e.path().string(), code, diags);
  };
  fs::path tests = fs::path(spec) / "tests";
  if (fs::is_directory(tests, ec)) {
    for (const auto& e : fs::directory_iterator(tests, ec)) {
      if (e.path().extension() != ".toml") continue;
      if (auto text = readable(e, "test.read")) s.cases[e.path().filename().string()] = *text;
    }
  }
  fs::path clients = fs::path(spec) / "tests" / "clients";
  if (fs::is_directory(clients, ec)) {
    for (const auto& e : fs::recursive_directory_iterator(clients, ec)) {
      if (e.path().extension() != ".toml") continue;
      if (auto text = readable(e, "test.findings")) {
        s.clients[fs::relative(e.path(), fs::path(spec) / "tests").generic_string()] = *text;
      }
    }
  }
  if (has_errors(diags)) {
    print(err, diags);
    return std::nullopt;
  }
  return s;
}

// What changed in the rule set itself: rules (by id, compared by the hash of
// their text), parameter values, and the other files of the set. A clinical
// lead reads it before the plans: the cause, then the effects.
struct rule_change {
  std::string change;  // added | removed | changed
  std::string id, title, was_at, now_at;  // "safety.rules:32"
  std::vector<std::string> safety_excludes;  // safety items the new rule excludes
  std::vector<std::string> lines;            // a changed rule's text: "- old", "+ new", "..."
};
struct parameter_change {
  std::string name, was, now;  // "(none)" when absent on a side
};
struct set_changes {
  std::vector<rule_change> rules;
  std::vector<parameter_change> parameters;
  std::vector<std::string> files;  // other files whose text differs, or that one side lacks
  std::map<std::string, std::vector<std::string>> file_lines;  // a file on both sides: its changed lines
  bool empty() const { return rules.empty() && parameters.empty() && files.empty(); }
};

// The lines that differ between two texts, as "- old" and "+ new" in
// order, a run of unchanged lines between two changes as "...". A longest
// common subsequence of lines: rules and settings files are small, and a
// text past kMaxLines lines on either side is said to differ, not diffed
// (the cost is the product of the two lengths). At most kMaxShown lines.
std::vector<std::string> changed_lines(std::string_view was, std::string_view now) {
  constexpr std::size_t kMaxLines = 2000, kMaxShown = 40;
  auto split = [](std::string_view t) {
    std::vector<std::string_view> out;
    std::size_t at = 0;
    while (at < t.size()) {
      std::size_t nl = t.find('\n', at);
      if (nl == std::string_view::npos) nl = t.size();
      out.push_back(t.substr(at, nl - at));
      at = nl + 1;
    }
    return out;
  };
  auto a = split(was), b = split(now);
  if (a.size() > kMaxLines || b.size() > kMaxLines) return {"(too long to show line by line)"};
  // Common first and last lines are set aside before the table.
  std::size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  std::size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head && a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) ++tail;
  std::size_t n = a.size() - head - tail, m = b.size() - head - tail;
  std::vector<std::uint32_t> lcs((n + 1) * (m + 1), 0);
  auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return lcs[i * (m + 1) + j]; };
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m; j-- > 0;) {
      at(i, j) = a[head + i] == b[head + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    }
  }
  std::vector<std::string> out;
  std::size_t shown = 0, more = 0;
  bool gap = false;
  auto emit = [&](const char* sign, std::string_view line) {
    if (shown == kMaxShown) {
      ++more;
      return;
    }
    if (gap && !out.empty()) out.push_back("...");
    gap = false;
    out.push_back(std::string(sign) + std::string(line));
    ++shown;
  };
  std::size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[head + i] == b[head + j]) {
      gap = true;
      ++i, ++j;
    } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
      emit("- ", a[head + i++]);  // what went, then what came
    } else {
      emit("+ ", b[head + j++]);
    }
  }
  if (more) out.push_back("... and " + std::to_string(more) + " more changed lines");
  return out;
}

std::string rule_at(const rule_set& rs, const compiled_rule& r) {
  return rs.prog->source_bases[r.file] + ":" + std::to_string(r.line);
}

std::string parameter_text(const parameter& p) {
  switch (p.v.kind) {
    case vkind::boolean: return p.v.b ? "true" : "false";
    case vkind::number: {
      std::ostringstream o;
      o.precision(15);
      o << p.v.n;
      return o.str();
    }
    case vkind::symbol: return "\"" + p.text + "\"";
    default: return "(no value)";
  }
}

set_changes compare_sets(const rule_set& a, const rule_set& b, const side& sa, const side& sb) {
  set_changes out;
  std::map<std::string, const compiled_rule*> old_rules, new_rules;
  for (const auto& r : a.prog->rules) old_rules[r.id] = &r;
  for (const auto& r : b.prog->rules) new_rules[r.id] = &r;
  // The items the new rule set's safety rules propose (priority 100 or the
  // tag safety): a rule added or changed that excludes one is said so.
  std::set<std::string> safety_items;
  for (const auto& r : b.prog->rules) {
    if (!is_safety_rule(r)) continue;
    for (const auto& act : r.actions) {
      if (item_kind_of(act.kind)) safety_items.insert(act.id);
    }
  }
  auto safety_excludes = [&](const compiled_rule& r) {
    std::vector<std::string> out;
    for (const auto& act : r.actions) {
      if (act.kind == ast::action_kind::exclude && safety_items.count(act.id)) out.push_back(act.id);
    }
    return out;
  };
  for (const auto& [id, r] : new_rules) {
    auto at = old_rules.find(id);
    if (at == old_rules.end()) {
      // Its whole text: a reviewer reads what it does, not only its title.
      out.rules.push_back({"added", id, r->title, "", rule_at(b, *r), safety_excludes(*r),
                           changed_lines("", b.prog->sources[r->file].slice(r->src_begin, r->src_end))});
    } else if (at->second->sha256 != r->sha256) {
      out.rules.push_back({"changed", id, r->title, rule_at(a, *at->second), rule_at(b, *r), safety_excludes(*r),
                           changed_lines(a.prog->sources[at->second->file].slice(at->second->src_begin, at->second->src_end),
                                         b.prog->sources[r->file].slice(r->src_begin, r->src_end))});
    } else if (a.prog->source_bases[at->second->file] != b.prog->source_bases[r->file]) {
      // The same text in another file: into or out of safety.rules, it
      // changes what lint and approve allow it to exclude.
      out.rules.push_back({"moved", id, r->title, rule_at(a, *at->second), rule_at(b, *r), safety_excludes(*r), {}});
    }
  }
  for (const auto& [id, r] : old_rules) {
    if (!new_rules.count(id)) {
      out.rules.push_back({"removed", id, r->title, rule_at(a, *r), "", {},
                           changed_lines(a.prog->sources[r->file].slice(r->src_begin, r->src_end), "")});
    }
  }
  std::map<std::string, std::string> old_params, new_params;
  for (const auto& p : a.info.parameters) old_params[p.name] = parameter_text(p);
  for (const auto& p : b.info.parameters) new_params[p.name] = parameter_text(p);
  for (const auto& [name, v] : new_params) {
    auto at = old_params.find(name);
    if (at == old_params.end()) out.parameters.push_back({name, "(none)", v});
    else if (at->second != v) out.parameters.push_back({name, at->second, v});
  }
  for (const auto& [name, v] : old_params) {
    if (!new_params.count(name)) out.parameters.push_back({name, v, "(none)"});
  }
  // Every file whose text differs, rule files too (a comment such as a
  // '# lint: allow' marker changes no rule's hash, but what lint and
  // approve accept); the approval file is no part of what a plan depends on.
  std::map<std::string, const std::string*> old_files, new_files;
  for (const auto& f : sa.files) old_files[f.base] = &f.text;
  for (const auto& f : sb.files) new_files[f.base] = &f.text;
  std::set<std::string> names;
  for (const auto& [n, t] : old_files) names.insert(n);
  for (const auto& [n, t] : new_files) names.insert(n);
  for (const auto& n : names) {
    if (n == kApprovalFile) continue;
    auto o = old_files.find(n), w = new_files.find(n);
    if (o == old_files.end()) out.files.push_back(n + " (added)");
    else if (w == new_files.end()) out.files.push_back(n + " (removed)");
    else if (*o->second != *w->second) {
      out.files.push_back(n);
      // A rule file's changes are shown rule by rule (above); the others
      // (ruleset.toml, vocabulary.toml, sources.toml) line by line.
      // Of a rule file, the comment lines that changed are shown too: a
      // '# lint: allow ... because' marker, and its reason, is no part of
      // any rule's text.
      bool rules_file = n.size() > 6 && n.compare(n.size() - 6, 6, ".rules") == 0;
      // Of a rule file, its comment lines alone are compared (so that a
      // marker is never lost past the cap on lines shown).
      auto comments_of = [](std::string_view text) {
        std::string out;
        for (std::size_t at = 0; at < text.size();) {
          std::size_t nl = text.find('\n', at);
          if (nl == std::string_view::npos) nl = text.size();
          auto line = text.substr(at, nl - at);
          auto first = line.find_first_not_of(" \t");
          if (first != std::string_view::npos && line[first] == '#') out.append(line).push_back('\n');
          at = nl + 1;
        }
        return out;
      };
      auto lines = rules_file ? changed_lines(comments_of(*o->second), comments_of(*w->second))
                              : changed_lines(*o->second, *w->second);
      if (!lines.empty()) out.file_lines[n] = std::move(lines);
    }
  }
  return out;
}

// A text of a rule set or a plan as the report shows it: printable, and in
// markdown escaped as the markdown plan escapes it (a rule's title, an
// item's text or its why may hold <tags>, links or emphasis that a review
// page would render, and a stray tag could hide the lines after it).
std::string shown_as(bool markdown, const std::string& text) {
  return markdown ? markdown_escape(printable(text)) : printable(text);
}

// A fence for a block of lines in markdown, longer than any run of
// backticks inside it (a line of ``` would otherwise close the block).
std::string fence_for(const std::vector<std::string>& lines) {
  std::size_t longest = 0;
  for (const auto& l : lines) {
    std::size_t run = 0;
    for (char c : l) {
      run = c == '`' ? run + 1 : 0;
      longest = std::max(longest, run);
    }
  }
  return std::string(std::max<std::size_t>(3, longest + 1), '`');
}

void set_report(const set_changes& s, bool markdown, std::ostream& out) {
  if (s.empty()) {
    out << (markdown ? "\n### Rule set\n\n- no rule, parameter or other file differs\n"
                     : "\nrule set: no rule, parameter or other file differs\n");
    return;
  }
  out << (markdown ? "\n### Rule set\n\n" : "\nrule set:\n");
  std::string bullet = markdown ? "- " : "  ";
  for (const auto& r : s.rules) {
    std::string where = r.change == "added"     ? r.now_at
                        : r.change == "removed" ? "was " + r.was_at
                        : r.was_at == r.now_at  ? r.now_at
                                                : r.now_at + ", was " + r.was_at;
    out << bullet
        << (markdown ? "**" + r.change + "** rule "
                     : std::string(r.change == "added" ? "+" : r.change == "removed" ? "-" : r.change == "moved" ? ">" : "~") +
                           " rule ")
        << printable(r.id) << " (" << shown_as(markdown, where) << ")"
        << (r.title.empty() ? "" : ": " + shown_as(markdown, r.title)) << "\n";
    if (!r.lines.empty()) {
      std::string fence = fence_for(r.lines);
      if (markdown) out << "\n  " << fence << "diff\n";
      for (const auto& l : r.lines) out << (markdown ? "  " : "      ") << printable(l) << "\n";
      if (markdown) out << "  " << fence << "\n\n";
    }
    if (!r.safety_excludes.empty()) {
      std::string ids;
      for (std::size_t k = 0; k < r.safety_excludes.size(); ++k) ids += (k ? ", " : "") + r.safety_excludes[k];
      out << (markdown ? "  - " : "      ") << (markdown ? "**excludes safety items:** " : "excludes safety items: ")
          << shown_as(markdown, ids) << "\n";
    }
  }
  for (const auto& p : s.parameters) {
    out << bullet << (markdown ? "**parameter** " : "~ parameter ") << printable(p.name) << ": "
        << shown_as(markdown, p.was) << " -> " << shown_as(markdown, p.now) << "\n";
  }
  // "a.rules (added)" is said as such, not "a.rules (added) differs".
  for (const auto& f : s.files) {
    bool whole = f.size() > 8 && (f.compare(f.size() - 8, 8, " (added)") == 0 || f.find(" (removed)") != std::string::npos);
    out << bullet << (markdown ? "**file** " : "~ file ") << shown_as(markdown, f) << (whole ? "\n" : " differs\n");
    auto lines = s.file_lines.find(f);
    if (lines == s.file_lines.end() || lines->second.empty()) continue;
    std::string fence = fence_for(lines->second);
    if (markdown) out << "\n  " << fence << "diff\n";
    for (const auto& l : lines->second) out << (markdown ? "  " : "      ") << printable(l) << "\n";
    if (markdown) out << "  " << fence << "\n\n";
  }
}

struct case_diff {
  std::string name;
  std::string error;  // planning failed on a side
  plan_changes changes;
  bool changed() const { return !error.empty() || !changes.items.empty(); }
};

// Plans `text` with `rs` as JSON, or "" after collecting why not.
std::string plan_json(const rule_set& rs, const std::string& name, const std::string& text, std::string& why) {
  std::ostringstream quiet;
  auto pl = plan_text(rs, name, text, false, quiet);
  if (!pl) {
    // The first error, as `plan` reports it (it quotes no value).
    std::string first = quiet.str().substr(0, quiet.str().find('\n'));
    auto at = first.find(": error: ");
    why = at == std::string::npos ? "its findings cannot be read" : first.substr(at + 9);
    return "";
  }
  return render_json(pl->p);
}

// The summary's counts, the same in every format: cases whose plans
// changed (a case that cannot be planned is counted apart), and items.
struct diff_totals {
  int changed = 0, added = 0, removed = 0, modified = 0, unreadable = 0;
};

diff_totals totals_of(const std::vector<case_diff>& cases) {
  diff_totals t;
  for (const auto& c : cases) {
    t.changed += c.error.empty() && c.changed();
    t.unreadable += !c.error.empty();
    for (const auto& i : c.changes.items) {
      t.added += i.change == "added";
      t.removed += i.change == "removed";
      t.modified += i.change == "changed";
    }
  }
  return t;
}

// The item changes across cases, one row per change of an item (by its id
// without a key, and the fields changed): the same change in 97 cases is
// one row with its count, for a review request that must stay short.
struct item_row {
  std::string change, kind, id, fields;
  std::vector<std::string> cases;
};

std::vector<item_row> rows_by_item(const std::vector<case_diff>& cases) {
  std::map<std::tuple<std::string, std::string, std::string, std::string>, item_row> rows;
  for (const auto& c : cases) {
    for (const auto& i : c.changes.items) {
      std::string fields;
      for (const auto& f : i.fields) fields += (fields.empty() ? "" : ", ") + f;
      std::string base = i.id.substr(0, i.id.find('['));
      auto& row = rows[{base, i.change, i.kind, fields}];
      row.change = i.change, row.kind = i.kind, row.id = base, row.fields = fields;
      if (row.cases.empty() || row.cases.back() != c.name) row.cases.push_back(c.name);
    }
  }
  std::vector<item_row> out;
  for (auto& [k, r] : rows) out.push_back(std::move(r));
  std::stable_sort(out.begin(), out.end(), [](const item_row& x, const item_row& y) { return x.cases.size() > y.cases.size(); });
  return out;
}

void by_item_report(const std::vector<case_diff>& cases, bool markdown, std::ostream& out) {
  auto rows = rows_by_item(cases);
  out << (markdown ? "\n### Changes by item\n\n" : "\nchanges by item:\n");
  if (rows.empty()) out << (markdown ? "- " : "  ") << "no item changes\n";
  for (const auto& r : rows) {
    const char* sign = r.change == "added" ? "+" : r.change == "removed" ? "-" : "~";
    out << (markdown ? "- " : "  ") << (markdown ? "**" + r.change + "** " : std::string(sign) + " ") << r.kind << " "
        << printable(r.id) << (r.fields.empty() ? "" : " (" + r.fields + " changed)") << ": " << r.cases.size()
        << (r.cases.size() == 1 ? " case (" : " cases (");
    for (std::size_t k = 0; k < r.cases.size() && k < 3; ++k) out << (k ? ", " : "") << shown_as(markdown, r.cases[k]);
    if (r.cases.size() > 3) out << " and " << r.cases.size() - 3 << " more";
    out << ")\n";
  }
}

void text_report(const side& a, const side& b, const rule_set& ra, const rule_set& rb, const set_changes& sets,
                 const std::vector<case_diff>& cases, bool markdown, bool summary_only, std::ostream& out) {
  auto [changed, added, removed, modified, unreadable] = totals_of(cases);
  auto describe = [](const side& s, const rule_set& r) {
    return printable(s.label) + " (" + r.info.name + " " + r.info.version + ", sha256 " + r.sha256.substr(0, 12) + ")";
  };
  std::string summary = std::to_string(changed) + " of " + std::to_string(cases.size()) +
                        (cases.size() == 1 ? " case changes" : " cases change") + ": " + std::to_string(added) +
                        (added == 1 ? " item added, " : " items added, ") + std::to_string(removed) + " removed, " + std::to_string(modified) +
                        " changed" +
                        (unreadable ? "; " + std::to_string(unreadable) +
                                          (unreadable == 1 ? " case cannot" : " cases cannot") +
                                          " be planned with one of the rule sets (listed above)"
                                    : std::string());
  if (markdown) {
    out << "## Impact of the rule change\n\n- Old: " << describe(a, ra) << "\n- New: " << describe(b, rb)
        << "\n- " << summary << "\n";
  } else {
    out << "old: " << describe(a, ra) << "\nnew: " << describe(b, rb) << "\n";
  }
  set_report(sets, markdown, out);
  if (summary_only) {
    // The rule change and its effects item by item, without each case's
    // items and reasons (for a review request: the full report runs to
    // thousands of lines when a change reaches every case).
    by_item_report(cases, markdown, out);
    for (const auto& c : cases) {
      if (!c.error.empty()) {
        out << (markdown ? "- " : "  ") << shown_as(markdown, c.name) << ": " << shown_as(markdown, c.error) << "\n";
      }
    }
    if (!markdown) out << "\n" << summary << "\n";
    return;
  }
  for (const auto& c : cases) {
    if (!c.changed()) continue;
    // A case's name is its file's name, which may hold anything (an escape
    // sequence, a line break that would forge a line of this report).
    out << (markdown ? "\n### " + markdown_escape(printable(c.name)) + "\n\n" : "\n" + printable(c.name) + "\n");
    if (!c.error.empty()) out << (markdown ? "- " : "  ") << shown_as(markdown, c.error) << "\n";
    // A reason given for an item of this case already (one rule proposes
    // a challenge, its solution and its goal) is named, not repeated.
    std::map<std::string, std::string> said;  // label and text -> the item it was given for
    for (const auto& i : c.changes.items) {
      std::string bullet = markdown ? "- " : "  ";
      std::string sub = markdown ? "  - " : "      ";
      auto why = [&](const std::string& label, const std::string& text) {
        std::string shown = printable(text);
        auto [at, fresh] = said.emplace(label + '\x1f' + shown, i.kind + " " + i.id);
        out << sub << label << ": "
            << (fresh ? shown_as(markdown, text) : "as for the " + printable(at->second) + " above") << "\n";
      };
      // Both sides' reasons given already, for one item: said in one line.
      auto both_said = [&](const std::string& was, const std::string& now) {
        auto w = said.find("why (old)\x1f" + printable(was)), n = said.find("why (new)\x1f" + printable(now));
        if (w == said.end() || n == said.end() || w->second != n->second) return false;
        out << sub << "why (old and new): as for the " << printable(w->second) << " above\n";
        return true;
      };
      // Markdown reads "- - x" as a list in a list: words there.
      auto mark = [&](const char* sign, const char* word) {
        return markdown ? std::string("**") + word + "** " : std::string(sign) + " ";
      };
      if (i.change == "added") {
        out << bullet << mark("+", "added") << i.kind << " " << printable(i.id) << ": "
            << shown_as(markdown, text_of(i.now)) << "\n";
        why("why (new)", i.why_now);
      } else if (i.change == "removed") {
        // A safety item (priority 100) gone is said as such, and so is the
        // rule that now removes it.
        bool safety = i.was.value("priority", 0) >= 100;
        out << bullet << mark("-", "removed") << (safety ? "safety " : "") << i.kind << " "
            << printable(i.id) << ": " << shown_as(markdown, text_of(i.was)) << "\n";
        why("why (old)", i.why_was);
        if (!i.excluded_by_now.empty()) {
          std::string by;
          for (std::size_t k = 0; k < i.excluded_by_now.size(); ++k) {
            by += (k ? ", " : "") + std::string("rule ") + i.excluded_by_now[k];
          }
          out << sub << "now: still proposed, but excluded by " << shown_as(markdown, by) << "\n";
        }
      } else {
        std::string fields;
        for (const auto& f : i.fields) fields += (fields.empty() ? "" : ", ") + f;
        out << bullet << mark("~", "changed") << i.kind << " " << printable(i.id) << " (" << fields
            << " changed)\n";
        for (const auto& f : i.fields) {
          if (f == "rules" || f == "reasons") continue;  // the why lines show them
          out << sub << f << ": " << shown_as(markdown, i.was.value(f, json()).dump()) << " -> "
              << shown_as(markdown, i.now.value(f, json()).dump()) << "\n";
        }
        // Only the reasons that differ: a reason both sides give word for
        // word (same rule, same place, same words) is named, not repeated.
        std::vector<std::string> same, only_was, only_now;
        for (const auto& w : i.parts_was) {
          bool kept = std::find(i.parts_now.begin(), i.parts_now.end(), w) != i.parts_now.end();
          (kept ? same : only_was).push_back(w);
        }
        for (const auto& n : i.parts_now) {
          if (std::find(i.parts_was.begin(), i.parts_was.end(), n) == i.parts_was.end()) only_now.push_back(n);
        }
        auto joined = [](const std::vector<std::string>& v) {
          std::string s;
          for (const auto& x : v) s += (s.empty() ? "" : "; ") + x;
          return s;
        };
        if (!only_was.empty() && !only_now.empty() && both_said(joined(only_was), joined(only_now))) {
          // given above
        } else {
          if (!only_was.empty()) why("why (old)", joined(only_was));
          if (!only_now.empty()) why("why (new)", joined(only_now));
        }
        if (only_was.empty() && only_now.empty()) {
          // The same reasons on both sides: given once.
          if (!same.empty() || i.why_was == i.why_now) {
            why("why (unchanged on both sides)", same.empty() ? i.why_now : joined(same));
          } else {
            why("why (old)", i.why_was);
            why("why (new)", i.why_now);
          }
        } else if (!same.empty()) {
          std::string names;
          for (const auto& x : same) {
            std::string head = x.substr(0, x.find(':', x.find(')')));
            names += (names.empty() ? "" : ", ") + head;
          }
          out << sub << "unchanged on both sides: " << shown_as(markdown, names) << "\n";
        }
      }
    }
    if (!c.changes.other_parts.empty() && c.changes.items.empty() && c.error.empty()) {
      out << (markdown ? "- " : "  ") << "no item changes\n";
    }
  }
  if (!markdown) out << "\n" << summary << "\n";
}

}  // namespace

int cmd_diff(const std::string& old_spec, const std::string& new_spec, const std::vector<std::string>& findings,
             const std::string& fmt, bool summary_only, std::ostream& out, std::ostream& err) {
  auto a = read_side(old_spec, err);
  auto b = read_side(new_spec, err);
  if (!a || !b) return kInputError;
  std::optional<rule_set> ra, rb;
  {
    std::vector<diagnostic> diags;
    ra = load_rule_set(a->files, a->label, diags);
    if (!ra) {
      print(err, diags);
      err << "the old rule set " << printable(a->label) << " has errors\n";
      return kInputError;
    }
    diags.clear();
    rb = load_rule_set(b->files, b->label, diags);
    if (!rb) {
      print(err, diags);
      err << "the new rule set " << printable(b->label) << " has errors\n";
      return kInputError;
    }
  }
  // The cases: the findings given, else NEW's clients (OLD's if it has none).
  std::map<std::string, std::string> cases;
  if (!findings.empty()) {
    std::vector<diagnostic> diags;
    for (const auto& f : findings) {
      if (auto text = read_text_file(f, "findings.read", diags)) cases[f] = *text;
    }
    if (has_errors(diags)) {
      print(err, diags);
      return kInputError;
    }
  } else {
    cases = all_findings(!b->clients.empty() || !b->cases.empty() ? *b : *a);
  }
  if (cases.empty()) {
    err << "iptplan: error: no cases: " << printable(new_spec)
        << " has no tests/clients/*.toml; give findings files after OLD and NEW\n";
    return kInputError;
  }
  const set_changes sets = compare_sets(*ra, *rb, *a, *b);
  std::vector<case_diff> diffs;
  for (const auto& [name, text] : cases) {
    case_diff c;
    c.name = name;
    std::string why_a, why_b;
    std::string ja = plan_json(*ra, name, text, why_a), jb = plan_json(*rb, name, text, why_b);
    if (ja.empty() || jb.empty()) {
      c.error = ja.empty() && jb.empty() ? "cannot be planned with either rule set (" + why_b + ")"
                : ja.empty()              ? "cannot be planned with the old rule set (" + why_a + ")"
                                          : "cannot be planned with the new rule set (" + why_b + ")";
    } else if (ja != jb) {
      c.changes = compare_plans(json::parse(ja), json::parse(jb), false);
    }
    diffs.push_back(std::move(c));
  }
  if (fmt == "json") {
    json cs = json::array();
    for (const auto& c : diffs) {
      json items = json::array();
      for (const auto& i : c.changes.items) {
        json x = {{"change", i.change}, {"id", i.id}, {"kind", i.kind}, {"fields", i.fields},
                  {"was", i.was}, {"now", i.now}, {"why_was", i.why_was}, {"why_now", i.why_now}};
        if (!i.excluded_by_now.empty()) x["excluded_by_now"] = i.excluded_by_now;
        items.push_back(std::move(x));
      }
      json x = {{"findings", c.name}, {"changed", c.changed()}, {"items", items},
                {"other_parts", c.changes.other_parts}};
      if (!c.error.empty()) x["error"] = c.error;
      cs.push_back(std::move(x));
    }
    auto side_json = [](const side& s, const rule_set& r) {
      return json{{"label", s.label}, {"name", r.info.name}, {"version", r.info.version}, {"sha256", r.sha256}};
    };
    json rules = json::array(), params = json::array();
    for (const auto& r : sets.rules) {
      json x = {{"change", r.change}, {"id", r.id}, {"title", r.title}};
      if (!r.was_at.empty()) x["was_at"] = r.was_at;
      if (!r.now_at.empty()) x["now_at"] = r.now_at;
      if (!r.safety_excludes.empty()) x["safety_excludes"] = r.safety_excludes;
      if (!r.lines.empty()) x["lines"] = r.lines;
      rules.push_back(std::move(x));
    }
    for (const auto& p : sets.parameters) params.push_back({{"name", p.name}, {"was", p.was}, {"now", p.now}});
    json j = {{"old", side_json(*a, *ra)},
              {"new", side_json(*b, *rb)},
              {"rule_set", {{"rules", rules}, {"parameters", params}, {"files", sets.files}, {"file_lines", sets.file_lines}}},
              {"cases", cs},
              {"by_item", [&] {
                 json rows = json::array();
                 for (const auto& r : rows_by_item(diffs)) {
                   rows.push_back({{"change", r.change}, {"kind", r.kind}, {"id", r.id},
                                   {"fields", r.fields}, {"cases", r.cases}});
                 }
                 return rows;
               }()},
              {"summary", [&] {
                 auto t = totals_of(diffs);
                 return json{{"cases", diffs.size()},      {"changed", t.changed},       {"unplannable", t.unreadable},
                             {"items_added", t.added},     {"items_removed", t.removed}, {"items_changed", t.modified}};
               }()}};
    out << jsonout::dump(j);
    return kOk;
  }
  text_report(*a, *b, *ra, *rb, sets, diffs, fmt == "markdown", summary_only, out);
  return kOk;
}

}  // namespace iptplan::cli

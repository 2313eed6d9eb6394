#include "engine/ruleset.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>

#include "engine/compile.hpp"
#include "engine/parallel.hpp"
#include "engine/toml_util.hpp"
#include "grammar/parse.hpp"

namespace iptplan {

namespace fs = std::filesystem;

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // Fetched once per process: an implicit fetch on every call takes locks
  // (OpenSSL 3) and costs more than hashing a findings file.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, sha256 ? sha256 : EVP_sha256(), nullptr);
  return to_hex(digest, len);
}

std::string to_hex(const unsigned char* bytes, std::size_t n) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += hex[bytes[i] >> 4];
    out += hex[bytes[i] & 15];
  }
  return out;
}

std::string read_bounded(std::istream& in, std::size_t expected) {
  std::string text;
  text.reserve(std::min<std::size_t>(expected, kMaxInputBytes) + 1);
  char buf[1 << 16];
  // At most one byte past the limit, in case the file grew or never ends.
  while (text.size() <= kMaxInputBytes) {
    in.read(buf, static_cast<std::streamsize>(
                     std::min<std::size_t>(sizeof buf, kMaxInputBytes + 1 - text.size())));
    auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) break;
    text.append(buf, got);
  }
  return text;
}

std::optional<std::string> read_text_file(const std::string& path, const std::string& code,
                                          std::vector<diagnostic>& diags) {
  auto fail = [&](const std::string& why) {
    diagnostic d;
    d.code = code;
    d.file = path;
    d.message = why;
    diags.push_back(std::move(d));
    return std::nullopt;
  };
  std::error_code ec;
  auto link = fs::symlink_status(path, ec);
  auto st = fs::status(path, ec);
  if (fs::is_symlink(link) && !fs::exists(st)) return fail("this is a link to a file that does not exist");
  if (ec || !fs::exists(st)) return fail("no such file");
  if (fs::is_directory(st)) return fail("this is a folder, not a file");
  // Only a regular file is read: a FIFO would block for ever and a device
  // such as /dev/zero never ends.
  if (!fs::is_regular_file(st)) return fail("this is not a regular file (a device, pipe or socket); give a file");
  auto size = fs::file_size(path, ec);
  if (!ec && size > kMaxInputBytes) {
    return fail("this file is " + std::to_string(size) + " bytes; iptplan reads files of at most " +
                std::to_string(kMaxInputBytes / (1024 * 1024)) + " MiB (" + std::to_string(kMaxInputBytes) +
                " bytes)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot be read (check its permissions)");
  auto text = read_bounded(in, ec ? 0 : static_cast<std::size_t>(size));
  if (text.size() > kMaxInputBytes) {
    return fail("this file is larger than " + std::to_string(kMaxInputBytes / (1024 * 1024)) +
                " MiB, the most iptplan reads");
  }
  return text;
}

std::string rule_set_hash(std::vector<rule_set_file> files) {
  files.erase(std::remove_if(files.begin(), files.end(),
                             [](const rule_set_file& f) { return f.base == kApprovalFile; }),
              files.end());
  return files_hash(std::move(files));
}

std::string files_hash(std::vector<rule_set_file> files) {
  std::sort(files.begin(), files.end(),
            [](const rule_set_file& a, const rule_set_file& b) { return a.base < b.base; });
  std::string all;
  for (const auto& f : files) all += f.base + '\0' + std::to_string(f.text.size()) + '\0' + f.text;
  return sha256_hex(all);
}

std::string tests_hash(const std::string& dir, std::vector<diagnostic>& diags) {
  std::vector<rule_set_file> files;
  std::error_code ec;
  fs::path root = fs::path(dir) / "tests";
  std::size_t before = diags.size();
  if (fs::is_directory(root, ec)) {
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (!it->is_regular_file(ec) || it->path().extension() != ".toml") continue;
      if (auto text = read_text_file(it->path().string(), "ruleset.read", diags)) {
        files.push_back({it->path().string(), fs::relative(it->path(), root, ec).generic_string(), std::move(*text)});
      }
    }
  }
  if (diags.size() > before) return {};
  return files_hash(std::move(files));
}

void check_approved_tests(rule_set& rs, const std::string& dir, std::vector<diagnostic>& diags) {
  if (!rs.approved || rs.approved->tests_sha256.empty()) return;
  if (tests_hash(dir, diags) == rs.approved->tests_sha256) return;
  rs.approved.reset();
  rs.status = "draft";
  rs.tests_changed = true;
  if (rs.info.status == "approved") {
    // "approved" typed in ruleset.toml is not an approval, as in
    // load_rule_set.
    diagnostic d;
    d.level = severity::warning;
    d.code = "ruleset.approval";
    d.file = rs.info.file;
    d.line = rs.info.status_line;
    d.column = rs.info.status_column;
    d.message = "ruleset.toml says status = \"approved\", but the test cases changed since the last approval (by " +
                rs.last_approval->by + " on " + rs.last_approval->date + "): the rule set is a draft";
    d.notes.push_back("a clinical lead approves the rule set as it is with 'iptplan approve DIR --by NAME'");
    diags.push_back(std::move(d));
  }
}

std::vector<rule_set_file> read_rule_folder(const std::string& dir, std::vector<diagnostic>& diags) {
  std::vector<rule_set_file> files;
  std::error_code ec;
  auto fail = [&](const std::string& why) {
    diagnostic d;
    d.code = "ruleset.folder";
    d.file = dir;
    d.message = why;
    diags.push_back(std::move(d));
    return std::vector<rule_set_file>{};
  };
  if (!fs::exists(dir, ec)) return fail("no such folder");
  if (!fs::is_directory(dir, ec)) return fail("a rule set is a folder (with ruleset.toml, vocabulary.toml and *.rules files), not a file");
  std::string prefix = dir;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  std::vector<std::string> names;
  // A file of the rule set that is not read is said, never left out.
  auto unread = [&](const std::string& name, const std::string& why) {
    diagnostic d;
    d.code = "ruleset.read";
    d.file = prefix + "/" + name;
    d.message = why;
    diags.push_back(std::move(d));
  };
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (misnamed_rule_file(name)) {
      unread(name, "a rule file's name ends in '.rules', in lower case; rename it to be read");
      continue;
    }
    // A folder of rule files inside the rule set (rules/extra/x.rules) is
    // not read: said, not silently left out (a safety rule could be among
    // them). One level is looked at; a folder named *.rules is read, and
    // reported, below.
    bool ends_rules = name.size() > 6 && name.compare(name.size() - 6, 6, ".rules") == 0;
    if (!ends_rules && entry.is_directory(ec)) {
      std::error_code sub;
      std::size_t looked = 0;
      for (fs::directory_iterator it(entry.path(), sub), end; !sub && it != end && looked < 10'000;
           it.increment(sub), ++looked) {
        std::string inner = it->path().filename().string();
        if (inner.size() > 6 && inner.compare(inner.size() - 6, 6, ".rules") == 0) {
          unread(name + "/" + inner,
                 "a rule file in a folder of the rule set is not read: a rule set reads the *.rules files at its top "
                 "only; move it up beside ruleset.toml, or out of the rule set");
          break;
        }
      }
      ec.clear();
    }
    if (ends_rules && std::any_of(name.begin(), name.end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        })) {
      // Plans name a rule's file beside its line: a line break in the name
      // would break the plan's lines (and could forge one).
      unread(name, "a rule file's name holds a control character (a line break, a tab, ...); rename it to be read");
      continue;
    }
    if (ends_rules && find_invalid_utf8(name) != std::string::npos) {
      // Plans and approval.toml name the file: its name must be text.
      unread(name, "a rule file's name is not valid UTF-8 text; rename it to be read");
      continue;
    }
    if (name == "ruleset.toml" || name == "vocabulary.toml" || name == kApprovalFile || name == kSourcesFile ||
        ends_rules) {
      // Every file that looks like part of the rule set is read, or its
      // problem reported: a rule file that is a dangling link, a pipe or a
      // folder must not drop out silently (a safety rule could go with it).
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  std::uintmax_t total = 0;
  // A rule set is self-contained: a file of it that is a link to a file
  // kept elsewhere is never read (a rule set from a review request could
  // otherwise have a file of the machine read and quoted in its errors).
  const fs::path root = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  auto inside = [&](const std::string& path) {
    std::error_code e2;
    const fs::path p = fs::weakly_canonical(fs::absolute(path, e2), e2);
    if (e2 || root.empty()) return false;
    auto pi = p.begin();
    for (auto ri = root.begin(); ri != root.end(); ++ri, ++pi) {
      if (pi == p.end() || *ri != *pi) return false;
    }
    return true;
  };
  for (const auto& name : names) {
    std::string path = prefix + "/" + name;
    std::error_code e2;
    if (fs::is_symlink(fs::symlink_status(path, e2)) && fs::exists(path, e2) && !inside(path)) {
      unread(name, "is a link that leads outside the rule set folder; a rule set is self-contained: copy the file "
                   "in instead");
      continue;
    }
    if (auto text = read_text_file(path, "ruleset.read", diags)) {
      total += text->size();
      if (total > kMaxRuleSetBytes) {
        return fail("the rule set's files hold more than " + std::to_string(kMaxRuleSetBytes / (1024 * 1024)) +
                    " MiB in all, the most iptplan reads (the default rules hold under 1 MiB)");
      }
      files.push_back({path, name, std::move(*text)});
    }
  }
  return files;
}

namespace {

manifest read_manifest(const rule_set_file& f, std::vector<diagnostic>& diags) {
  manifest m;
  auto t = parse_toml(f.name, f.text, "ruleset.syntax", diags);
  if (!t) return m;
  source_file src(f.name, f.text);
  auto text_field = [&](const char* key, std::string& out, bool required) {
    auto* n = t->get(key);
    if (!n) {
      if (required) {
        diagnostic d;
        d.code = "ruleset.manifest";
        d.file = f.name;
        d.message = std::string("ruleset.toml needs '") + key + "'";
        diags.push_back(std::move(d));
      }
      return;
    }
    if (auto s = n->value<std::string>()) {
      // Shown in every plan's header and by check and approve: one line of
      // plain text, never a control character that would forge output.
      if (!is_plain_text(*s)) {
        diags.push_back(toml_diagnostic(src, n, severity::error, "ruleset.manifest",
                                        std::string("'") + key +
                                            "' must be one line of plain text: no control characters, line "
                                            "breaks or marks that reorder text"));
        return;
      }
      if (required && s->find_first_not_of(" \t") == std::string::npos) {
        diags.push_back(toml_diagnostic(src, n, severity::error, "ruleset.manifest",
                                        std::string("'") + key + "' must not be empty"));
        return;
      }
      out = *s;
    } else if (n->is_date()) {
      std::ostringstream os;
      os << *n->as_date();
      out = os.str();
    } else {
      diags.push_back(toml_diagnostic(src, n, severity::error, "ruleset.manifest",
                                      std::string("'") + key + "' must be a quoted text"));
    }
  };
  static const std::vector<std::string> known = {"name",        "version",     "authors",         "status",
                                                 "review_date", "description", "session_finding", "summary",
                                                 "parameters"};
  for (auto&& [k, v] : *t) {
    std::string key(k.str());
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string near = nearest_name(key, known);
    auto d = toml_diagnostic(src, &v, severity::error, "ruleset.manifest",
                             "'" + key + "' is not a key of ruleset.toml");
    d.notes.push_back(near.empty() ? "the keys are name, version, authors, status, review_date, "
                                     "description, session_finding, summary and the [parameters] table"
                                   : "did you mean '" + near + "'?");
    diags.push_back(std::move(d));
  }
  text_field("name", m.name, true);
  text_field("version", m.version, true);
  text_field("status", m.status, false);
  text_field("review_date", m.review_date, false);
  m.file = f.name;
  if (auto* n = t->get("status")) {
    m.status_line = static_cast<int>(n->source().begin.line);
    m.status_column = static_cast<int>(n->source().begin.column);
  }
  if (auto* n = t->get("review_date")) {
    m.review_date_line = static_cast<int>(n->source().begin.line);
    m.review_date_column = static_cast<int>(n->source().begin.column);
  }
  // Compared with today's date as text, so written YYYY-MM-DD (a TOML date,
  // or a text of that form): "2026-5-1" would never come due.
  // Present but empty ("") is no date either: never taken for "no review
  // date".
  if (auto* rd = t->get("review_date"); rd && (rd->is_string() || rd->is_date())) {
    if (!is_iso_date(m.review_date)) {
      diags.push_back(toml_diagnostic(src, t->get("review_date"), severity::error, "ruleset.manifest",
                                      "review_date must be a date written YYYY-MM-DD (2027-05-01)"));
      m.review_date.clear();
    }
  }
  if (auto* st = t->get("status"); st && st->is_string() && m.status != "draft" && m.status != "approved" && m.status != "retired") {
    diags.push_back(toml_diagnostic(src, t->get("status"), severity::error, "ruleset.manifest",
                                    "status must be \"draft\", \"approved\" or \"retired\""));
  }
  text_field("description", m.description, false);
  text_field("session_finding", m.session_finding, false);
  if (auto* n = t->get("session_finding")) {
    m.session_finding_line = static_cast<int>(n->source().begin.line);
    m.session_finding_column = static_cast<int>(n->source().begin.column);
  }
  if (auto* n = t->get("summary")) {
    m.summary_line = static_cast<int>(n->source().begin.line);
    m.summary_column = static_cast<int>(n->source().begin.column);
    const auto* list = n->as_array();
    bool ok = list != nullptr && list->size() <= 8;
    auto plain = [](const std::optional<std::string>& v) {
      return v && !v->empty() && v->size() <= 200 && is_plain_text(*v) &&
             v->find_first_not_of(" \t") != std::string::npos;
    };
    if (ok) {
      for (const auto& x : *list) {
        // "risk.level", or { fact = "risk.level", label = "Suicide-risk tier" }.
        // Optionally `none = "not yet agreed"` (shown when the fact holds
        // no value) and `hide_none = true` (the line left out then).
        std::optional<std::string> fact, label, none;
        bool hide_none = false;
        if (const auto* t = x.as_table()) {
          fact = (*t)["fact"].value<std::string>();
          label = (*t)["label"].value<std::string>();
          bool other = false;
          for (auto&& [k, v] : *t) {
            other = other || (k.str() != "fact" && k.str() != "label" && k.str() != "none" && k.str() != "hide_none");
          }
          if (other || !t->contains("label")) label.reset();
          if (t->contains("none")) {
            none = (*t)["none"].value<std::string>();
            if (!plain(none)) label.reset();
          }
          if (t->contains("hide_none")) {
            auto h = (*t)["hide_none"].value<bool>();
            if (!h || ((*t)["hide_none"].type() != toml::node_type::boolean)) label.reset();
            else hide_none = *h;
          }
        } else {
          fact = x.value<std::string>();
          label = fact;
        }
        if (!plain(fact) || !plain(label)) {
          ok = false;
          break;
        }
        m.summary.push_back(*fact);
        m.summary_labels.push_back(*label);
        m.summary_none.push_back(none.value_or(""));
        m.summary_hide_none.push_back(hide_none);
      }
    }
    if (!ok) {
      m.summary.clear();
      m.summary_labels.clear();
      m.summary_none.clear();
      m.summary_hide_none.clear();
      diags.push_back(toml_diagnostic(src, n, severity::error, "ruleset.manifest",
                                      "'summary' must be a list of at most 8 derived facts, each in quotes or "
                                      "as { fact = \"risk.level\", label = \"Suicide-risk tier\" }, optionally "
                                      "with none = \"text shown when it holds no value\" and hide_none = true"));
    }
  }
  if (auto* params = (*t)["parameters"].as_table()) {
    for (auto&& [k, v] : *params) {
      parameter prm;
      prm.name = std::string(k.str());
      prm.file = f.name;
      prm.line = static_cast<int>(v.source().begin.line);
      prm.source_line = std::string(src.line_text(prm.line).substr(0, 480));  // a window is quoted
      const toml::node* val = &v;
      if (auto* decl = v.as_table()) {
        // A declared parameter: its value, and the range and unit it has.
        prm.declared = true;
        val = decl->get("value");
        if (!val) {
          diags.push_back(toml_diagnostic(src, &v, severity::error, "ruleset.parameter",
                                          "parameter '" + prm.name + "' is declared without its value: "
                                          "{ value = ..., min = ..., max = ..., unit = \"...\" }"));
          continue;
        }
        for (auto&& [dk, dv] : *decl) {
          std::string key(dk.str());
          if (key == "min" || key == "max") {
            if (!dv.is_number() || !std::isfinite(*dv.value<double>())) {
              diags.push_back(toml_diagnostic(src, &dv, severity::error, "ruleset.parameter",
                                              "'" + key + "' of parameter '" + prm.name +
                                                  "' must be a number (not nan or inf)"));
              continue;
            }
            (key == "min" ? prm.min : prm.max) = *dv.value<double>();
          } else if (key == "unit") {
            prm.unit = dv.value_or(std::string());
          } else if (key == "type") {
            prm.type = dv.value_or(std::string());
            if (prm.type != "integer" && prm.type != "number" && prm.type != "boolean" && prm.type != "text") {
              diags.push_back(toml_diagnostic(src, &dv, severity::error, "ruleset.parameter",
                                              "the type of parameter '" + prm.name +
                                                  "' must be \"integer\", \"number\", \"boolean\" or \"text\""));
              prm.type.clear();
            }
          } else if (key != "value") {
            diags.push_back(toml_diagnostic(src, &dv, severity::error, "ruleset.parameter",
                                            "a parameter is declared with value, min, max, unit and type; '" + key +
                                                "' is none of these"));
          }
        }
      }
      if (prm.min && prm.max && *prm.min > *prm.max) {
        diags.push_back(toml_diagnostic(src, &v, severity::error, "ruleset.parameter",
                                        "parameter '" + prm.name + "' is declared with min larger than max"));
        continue;
      }
      // Its value is of the type declared for it.
      if (!prm.type.empty()) {
        bool integral = val->is_integer() ||
                        (val->is_floating_point() && std::isfinite(*val->value<double>()) &&
                         std::floor(*val->value<double>()) == *val->value<double>());
        bool fits = prm.type == "integer" ? integral
                    : prm.type == "number" ? (val->is_integer() || val->is_floating_point())
                    : prm.type == "boolean" ? val->is_boolean()
                                            : val->is_string();
        if (!fits) {
          const char* article = prm.type == "integer" ? "an " : "a ";
          diags.push_back(toml_diagnostic(src, val, severity::error, "ruleset.parameter",
                                          "parameter '" + prm.name + "' is declared as " + article + prm.type +
                                              (prm.type == "integer" ? " (a whole number)" : "") +
                                              ", and its value is not one"));
          continue;
        }
      }
      if (val->is_floating_point() && !std::isfinite(*val->value<double>())) {
        // nan compares false with everything: a threshold that silently
        // turns its rules off.
        diags.push_back(toml_diagnostic(src, val, severity::error, "ruleset.parameter",
                                        "parameter '" + prm.name + "' must be a finite number, not nan or inf"));
        continue;
      }
      if (val->is_integer() || val->is_floating_point()) {
        prm.v = value::number(*val->value<double>());
        if ((prm.min && prm.v.n < *prm.min) || (prm.max && prm.v.n > *prm.max)) {
          std::ostringstream range;
          range << (prm.min ? *prm.min : -INFINITY) << " to " << (prm.max ? *prm.max : INFINITY);
          diags.push_back(toml_diagnostic(src, val, severity::error, "ruleset.parameter",
                                          "parameter '" + prm.name + "' is outside its declared range (" +
                                              range.str() + (prm.unit.empty() ? "" : ", " + prm.unit) + ")"));
          continue;
        }
      }
      else if (val->is_boolean()) prm.v = value::boolean(*val->value<bool>());
      else if (val->is_string()) {
        prm.v.kind = vkind::symbol;
        prm.text = *val->value<std::string>();
      } else {
        diags.push_back(toml_diagnostic(src, val, severity::error, "ruleset.parameter",
                                        "parameter '" + prm.name +
                                            "' must be a number, true/false or a quoted text"));
        continue;
      }
      m.parameters.push_back(std::move(prm));
    }
  } else if (t->contains("parameters")) {
    diags.push_back(toml_diagnostic(src, t->get("parameters"), severity::error, "ruleset.parameter",
                                    "'parameters' must be a table: [parameters]"));
  }
  if (auto* a = (*t)["authors"].as_array()) {
    for (auto&& x : *a) {
      if (auto s = x.value<std::string>()) m.authors.push_back(*s);
    }
  }
  return m;
}

// sources.toml: [facts] id = "title".
std::optional<std::map<std::string, std::string>> read_sources(const rule_set_file& f,
                                                               std::vector<diagnostic>& diags) {
  auto t = parse_toml(f.name, f.text, "ruleset.sources", diags);
  if (!t) return std::nullopt;
  std::map<std::string, std::string> out;
  source_file src(f.name, f.text);
  auto* facts = (*t)["facts"].as_table();
  if (!facts) {
    diags.push_back(toml_diagnostic(src, nullptr, severity::error, "ruleset.sources",
                                    "sources.toml lists the cited facts under [facts]: id = \"title\""));
    return std::nullopt;
  }
  for (auto&& [k, v] : *facts) {
    if (!v.is_string()) {
      diags.push_back(toml_diagnostic(src, &v, severity::error, "ruleset.sources",
                                      "the fact '" + std::string(k.str()) + "' needs its title, in quotes"));
      continue;
    }
    out[std::string(k.str())] = *v.value<std::string>();
  }
  return out;
}

// The last [[approvals]] entry of approval.toml.
std::optional<approval> read_approval(const rule_set_file& f, std::vector<diagnostic>& diags) {
  // A broken approval file makes the rule set a draft; it stops nothing else.
  std::vector<diagnostic> syntax;
  auto t = parse_toml(f.name, f.text, "ruleset.approval", syntax);
  for (auto& d : syntax) {
    d.level = severity::warning;
    d.message += " (the rule set is a draft until approval.toml is fixed, or deleted and the rule set approved again)";
    diags.push_back(std::move(d));
  }
  if (!t) return std::nullopt;
  auto* list = (*t)["approvals"].as_array();
  if (!list || list->empty()) return std::nullopt;
  auto* last = list->back().as_table();
  if (!last) return std::nullopt;
  approval a;
  a.sha256 = (*last)["sha256"].value_or(std::string());
  for (auto& c : a.sha256) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  a.by = (*last)["by"].value_or(std::string());
  if (auto d = (*last)["date"].value<toml::date>()) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", static_cast<int>(d->year), static_cast<int>(d->month),
                  static_cast<int>(d->day));
    a.date = buf;
  }
  source_file src(f.name, f.text);
  // At the key at fault where it is there, else at the entry.
  auto invalid = [&](const std::string& why, const toml::node* at = nullptr) {
    diags.push_back(toml_diagnostic(src, at ? at : last, severity::warning, "ruleset.approval",
                                    "the last approval in approval.toml " + why +
                                        ": the rule set is a draft until a clinical lead approves it again "
                                        "with 'iptplan approve'"));
    return std::nullopt;
  };
  auto is_hex = [](const std::string& h) {
    return h.size() == 64 && h.find_first_not_of("0123456789abcdef") == std::string::npos;
  };
  if (!is_hex(a.sha256)) return invalid("has no valid sha256 (64 hex digits)", last->get("sha256"));
  if (auto* t = last->get("tests_sha256")) {
    a.tests_sha256 = t->value_or(std::string());
    if (!is_hex(a.tests_sha256)) return invalid("has no valid tests_sha256 (64 hex digits)", t);
  }
  if (a.by.find_first_not_of(" \t") == std::string::npos) return invalid("names no one ('by')", last->get("by"));
  if (!is_plain_text(a.by)) {
    return invalid("names its approver with control characters or marks that reorder text", last->get("by"));
  }
  if (a.date.empty()) return invalid("has no date", last->get("date"));
  if (a.date > today_utc()) return invalid("is dated in the future (" + a.date + ")", last->get("date"));
  if (auto* n = last->get("files")) {
    auto* files = n->as_table();
    if (!files) return invalid("has 'files' that is not a table of file names and hashes", n);
    for (auto&& [k, v] : *files) {
      std::string h = v.value_or(std::string());
      if (!is_hex(h)) return invalid("has a file hash that is not 64 hex digits ('" + printable(std::string(k.str())) + "')", &v);
      a.files[std::string(k.str())] = h;
    }
  }
  for (auto&& [k, v] : *last) {
    std::string key(k.str());
    if (key != "sha256" && key != "tests_sha256" && key != "by" && key != "date" && key != "files") {
      return invalid("has a key it does not use ('" + key + "')", &v);
    }
  }
  a.line = static_cast<int>(last->source().begin.line);
  a.column = static_cast<int>(last->source().begin.column);
  return a;
}

}  // namespace

std::optional<rule_set> load_rule_set(std::vector<rule_set_file> files, std::string origin,
                                      std::vector<diagnostic>& diags, bool style) {
  std::size_t before = diags.size();
  std::sort(files.begin(), files.end(),
            [](const rule_set_file& a, const rule_set_file& b) { return a.base < b.base; });
  rule_set rs;
  rs.origin = std::move(origin);
  const rule_set_file* manifest_file = nullptr;
  const rule_set_file* vocab_file = nullptr;
  for (const auto& f : files) {
    if (f.base == "ruleset.toml") manifest_file = &f;
    if (f.base == "vocabulary.toml") vocab_file = &f;
  }
  rs.sha256 = rule_set_hash(files);
  auto missing = [&](const char* what) {
    diagnostic d;
    d.code = "ruleset.folder";
    d.file = rs.origin;
    d.message = std::string("the rule set has no ") + what;
    diags.push_back(std::move(d));
  };
  if (!manifest_file) missing("ruleset.toml");
  else rs.info = read_manifest(*manifest_file, diags);
  std::string approval_name;
  for (const auto& f : files) {
    if (f.base == kApprovalFile) {
      rs.last_approval = read_approval(f, diags);
      approval_name = f.name;
    }
    if (f.base == kSourcesFile) rs.sources = read_sources(f, diags);
  }
  rs.status = rs.info.status == "retired" ? "retired" : "draft";
  if (rs.info.status != "retired" && rs.last_approval && rs.last_approval->sha256 == rs.sha256) {
    rs.status = "approved";
    rs.approved = rs.last_approval;
  } else if (rs.info.status != "retired" && rs.last_approval && rs.info.status != "approved") {
    // Approved once, changed since: a draft again, said on every use.
    diagnostic d;
    d.level = severity::warning;
    d.code = "ruleset.approval";
    d.file = approval_name;
    d.line = rs.last_approval->line;
    d.column = rs.last_approval->column;
    d.message = "the rule set changed since it was approved (by " + rs.last_approval->by + " on " +
                rs.last_approval->date + "): it is a draft until it is approved again";
    // Which files, when the approval kept each file's hash.
    if (!rs.last_approval->files.empty()) {
      std::vector<std::string> changed, added, removed;
      std::set<std::string> now;
      for (const auto& f : files) {
        if (f.base == kApprovalFile) continue;
        now.insert(f.base);
        auto at = rs.last_approval->files.find(f.base);
        if (at == rs.last_approval->files.end()) added.push_back(f.base);
        else if (at->second != sha256_hex(f.text)) changed.push_back(f.base);
      }
      for (const auto& [name, h] : rs.last_approval->files) {
        if (!now.count(name)) removed.push_back(name);
      }
      auto list = [](const std::vector<std::string>& names) {
        std::string out;
        for (std::size_t i = 0; i < names.size(); ++i) {
          out += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + printable(names[i]);
        }
        return out;
      };
      std::string what;
      if (!changed.empty()) what += "changed: " + list(changed);
      if (!added.empty()) what += (what.empty() ? "" : "; ") + std::string("added: ") + list(added);
      if (!removed.empty()) what += (what.empty() ? "" : "; ") + std::string("removed: ") + list(removed);
      if (!what.empty()) d.notes.push_back("since the approval, " + what);
    }
    d.notes.push_back("'iptplan diff' against the approved version shows what changed; a clinical lead approves "
                      "the rule set as it is with 'iptplan approve DIR --by NAME'");
    diags.push_back(std::move(d));
  } else if (rs.info.status == "approved" && manifest_file) {
    // "approved" typed in ruleset.toml is not an approval.
    diagnostic d;
    d.level = severity::warning;
    d.code = "ruleset.approval";
    d.file = manifest_file->name;
    d.line = rs.info.status_line;
    d.column = rs.info.status_column;
    d.message = rs.last_approval
                    ? "ruleset.toml says status = \"approved\", but the files changed since the last approval "
                      "(by " + rs.last_approval->by + " on " + rs.last_approval->date + "): the rule set is a draft"
                    : "ruleset.toml says status = \"approved\", but no approval is recorded: the rule set is a draft";
    d.notes.push_back("a clinical lead approves the rule set as it is with 'iptplan approve DIR --by NAME'");
    diags.push_back(std::move(d));
  }
  if (!vocab_file) {
    missing("vocabulary.toml");
    return std::nullopt;
  }
  auto vocab = std::make_shared<vocabulary>(vocabulary::parse(vocab_file->name, vocab_file->text, diags));
  std::vector<source_file> sources;
  std::vector<std::string> bases;
  std::vector<parsed_file> parsed;
  for (const auto& f : files) {
    if (f.base.size() <= 6 || f.base.compare(f.base.size() - 6, 6, ".rules") != 0) continue;
    sources.emplace_back(f.name, f.text);
    bases.push_back(f.base);
  }
  // Files parse independently: on every core, results kept in file order.
  std::vector<parse_result> results(sources.size());
  parallel_for(sources.size(), [&](std::size_t i) { results[i] = parse_rule_file(sources[i]); });
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto& r = results[i];
    diags.insert(diags.end(), r.diagnostics.begin(), r.diagnostics.end());
    parsed.push_back({static_cast<std::uint16_t>(i), std::move(r.file), std::move(r.unparsed)});
  }
  results.clear();
  if (parsed.empty()) missing("*.rules file");
  spdlog::debug("rule set: {} rule files, sha256 {}", parsed.size(), rs.sha256);
  // With a broken ruleset.toml or vocabulary, every rule would report the
  // parameters and findings it names as unknown: report the cause alone.
  std::vector<diagnostic> so_far(diags.begin() + static_cast<std::ptrdiff_t>(before), diags.end());
  bool foundations_broken = std::any_of(so_far.begin(), so_far.end(), [](const diagnostic& d) {
    return d.level == severity::error && d.code.rfind("parse.", 0) != 0;
  });
  if (foundations_broken) return std::nullopt;
  rs.prog = compile(vocab, rs.info.parameters, std::move(sources), parsed, diags, style);
  if (rs.prog && (!rs.info.session_finding.empty() || rs.info.session_finding_line > 0)) {
    // The session counter must be a number finding of the vocabulary.
    int slot = vocab->index_of(rs.info.session_finding);
    bool number = slot >= 0 && (vocab->findings()[static_cast<std::size_t>(slot)].type == finding_type::integer ||
                                vocab->findings()[static_cast<std::size_t>(slot)].type == finding_type::number);
    if (number) {
      std::const_pointer_cast<program>(rs.prog)->session_slot = slot;
    } else {
      diagnostic d;
      d.code = "ruleset.manifest";
      d.file = rs.info.file;
      d.line = rs.info.session_finding_line;
      d.column = rs.info.session_finding_column;
      d.message = rs.info.session_finding.empty() ? "session_finding is empty: name the number finding that says "
                                                    "which session this is, or leave the key out"
                  : slot < 0 ? "session_finding names no finding of the vocabulary"
                             : "session_finding must name a number finding (the session this is)";
      if (manifest_file && d.line > 0) {
        source_file src(manifest_file->name, manifest_file->text);
        quote_line(d, std::string(src.line_text(d.line).substr(0, 480)));
      }
      std::vector<std::string> names;
      for (const auto& f : vocab->findings()) {
        if (f.type == finding_type::integer || f.type == finding_type::number) names.push_back(f.path);
      }
      std::string near = nearest_name(rs.info.session_finding, names);
      if (!near.empty()) d.notes.push_back("did you mean \"" + near + "\"?");
      diags.push_back(std::move(d));
    }
  }
  if (rs.prog) {
    // Each fact of the summary is one the rules conclude.
    for (const auto& f : rs.info.summary) {
      bool found = std::any_of(rs.prog->facts.begin(), rs.prog->facts.end(),
                               [&](const fact_decl& d) { return d.path == f; });
      if (found) continue;
      diagnostic d;
      d.code = "ruleset.manifest";
      d.file = rs.info.file;
      d.line = rs.info.summary_line;
      d.column = rs.info.summary_column;
      d.message = "summary names '" + f + "', which no rule concludes: it lists derived facts";
      if (manifest_file && d.line > 0) {
        source_file src(manifest_file->name, manifest_file->text);
        quote_line(d, std::string(src.line_text(d.line).substr(0, 480)));
      }
      std::vector<std::string> names;
      for (const auto& fd : rs.prog->facts) names.push_back(fd.path);
      std::string near = nearest_name(f, names);
      if (!near.empty()) d.notes.push_back("did you mean \"" + near + "\"?");
      diags.push_back(std::move(d));
    }
  }
  // Syntax trees are several times the size of their text: free them on
  // every core too.
  parallel_for(parsed.size(), [&](std::size_t i) { parsed[i].ast = {}; });
  std::vector<diagnostic> mine(diags.begin() + static_cast<std::ptrdiff_t>(before), diags.end());
  if (has_errors(mine) || !rs.prog) return std::nullopt;
  auto prog = std::const_pointer_cast<program>(rs.prog);
  prog->source_bases = std::move(bases);
  parallel_for(prog->rules.size(), [&](std::size_t i) {
    auto& r = prog->rules[i];
    r.sha256 = sha256_hex(std::string(prog->sources[r.file].slice(r.src_begin, r.src_end)));
  });
  return rs;
}

bool misnamed_rule_file(const std::string& name) {
  if (name.size() <= 6 || name.compare(name.size() - 6, 6, ".rules") == 0) return false;
  std::string tail = name.substr(name.size() - 6);
  for (auto& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return tail == ".rules";
}

bool is_iso_date(std::string_view d) {
  bool ok = d.size() == 10 && d[4] == '-' && d[7] == '-';
  for (std::size_t i = 0; ok && i < d.size(); ++i) ok = i == 4 || i == 7 || (d[i] >= '0' && d[i] <= '9');
  if (!ok) return false;
  auto num = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (d[i] - '0');
    return v;
  };
  int year = num(0, 4), month = num(5, 2), day = num(8, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= days[month - 1] + (month == 2 && leap ? 1 : 0);
}

namespace {
thread_local std::string t_today;  // set by scoped_today
}  // namespace

scoped_today::scoped_today(std::string date) : before_(t_today) {
  if (is_iso_date(date)) t_today = std::move(date);
}
scoped_today::~scoped_today() { t_today = before_; }

std::string today_utc() {
  if (!t_today.empty()) return t_today;
  if (const char* fixed = std::getenv("IPTPLAN_TODAY"); fixed && is_iso_date(fixed)) return fixed;
  char today[16];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(today, sizeof today, "%Y-%m-%d", &tm);
  return today;
}

}  // namespace iptplan

#include "engine/vocabulary.hpp"
#include "engine/value.hpp"

#include <re2/re2.h>

#include <atomic>
#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/toml_util.hpp"

namespace iptplan {

const char* to_string(finding_type t) {
  switch (t) {
    case finding_type::integer: return "int";
    case finding_type::number: return "number";
    case finding_type::boolean: return "bool";
    case finding_type::string: return "string";
    case finding_type::enumeration: return "enum";
    case finding_type::list: return "list";
    case finding_type::table_list: return "table_list";
  }
  return "?";
}

const finding_decl* finding_decl::field(const std::string& name) const {
  int i = field_index(name);
  return i < 0 ? nullptr : &fields[static_cast<std::size_t>(i)];
}

int finding_decl::field_index(const std::string& name) const {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].path == name) return static_cast<int>(i);
  }
  return -1;
}

namespace {

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (std::size_t i = 0; i < xs.size(); ++i) out += (i ? ", " : "") + xs[i];
  return out;
}

std::string range_text(const finding_decl& d) {
  if (d.min && d.max) return " from " + number_text(*d.min) + " to " + number_text(*d.max);
  if (d.min) return " of at least " + number_text(*d.min);
  if (d.max) return " of at most " + number_text(*d.max);
  return "";
}

std::optional<finding_type> type_named(const std::string& s) {
  if (s == "int") return finding_type::integer;
  if (s == "number") return finding_type::number;
  if (s == "bool") return finding_type::boolean;
  if (s == "string") return finding_type::string;
  if (s == "enum") return finding_type::enumeration;
  if (s == "list") return finding_type::list;
  if (s == "table_list") return finding_type::table_list;
  return std::nullopt;
}

class reader {
 public:
  reader(const source_file& src, std::vector<diagnostic>& diags) : src_(src), diags_(diags) {}

  void error(const toml::node* n, const std::string& msg) {
    diags_.push_back(toml_diagnostic(src_, n, severity::error, "vocabulary.invalid", msg));
  }

  // Every text of a declaration (its question, labels, words for its
  // pattern, its values and synonyms, their keys) reaches plans, messages
  // and other systems' screens: one line, with no control character and
  // no character that reorders text on screen (from a hostile trial: a
  // label with line breaks forged a FLAGS line in a text plan). Its fields
  // are read as declarations of their own. The first such text is
  // reported, by its place.
  bool plain_texts(const toml::table& t, const std::string& path) {
    // `key`: the text is that key (the caret under it, not its value).
    auto bad = [&](const toml::node& at, std::string_view s, const toml::key* key = nullptr) {
      const char* what = text_character_problem(s, false);
      if (!what) return false;
      auto d = toml_diagnostic(src_, &at, severity::error, "vocabulary.text-character",
                               "a text of '" + path + "' holds " + what +
                                   ", which would reach plans, messages and other systems' screens as it is");
      if (key && key->source().begin.line > 0) {
        d.line = static_cast<int>(key->source().begin.line);
        d.column = static_cast<int>(key->source().begin.column);
      }
      d.notes.push_back("remove it (retype the text if it was pasted); a text here is one line");
      diags_.push_back(std::move(d));
      return true;
    };
    auto texts_in = [&](const toml::node& v) {
      if (auto s = v.value<std::string>()) return bad(v, *s);
      if (const auto* a = v.as_array()) {
        for (const auto& x : *a) {
          if (auto s = x.value<std::string>(); s && bad(x, *s)) return true;
        }
      } else if (const auto* tt = v.as_table()) {
        for (auto&& [k, x] : *tt) {
          if (bad(x, k.str(), &k)) return true;
          if (auto s = x.value<std::string>(); s && bad(x, *s)) return true;
        }
      }
      return false;
    };
    for (auto&& [k, v] : t) {
      if (k.str() == "fields") continue;
      if (bad(v, k.str(), &k) || texts_in(v)) return false;
    }
    return true;
  }

  // A part of a finding's name (or a field's) is a name as rules write it:
  // letters, digits and underscores, not starting with a digit. Anything
  // else could never be read by a rule, and would reach messages and plans
  // as it is (a quoted key may hold any character); it is not repeated.
  bool name_ok(std::string_view k, const toml::node& at) {
    bool ok = !k.empty() && k.size() <= 64 && !(k[0] >= '0' && k[0] <= '9') &&
              std::all_of(k.begin(), k.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
              });
    if (!ok) {
      auto d = toml_diagnostic(src_, &at, severity::error, "vocabulary.name",
                               "a name in the vocabulary is letters, digits and underscores, at most 64, not starting "
                               "with a digit, as rules write it (phq9, cssrs_q1); this one is not (it is not "
                               "repeated here)");
      diags_.push_back(std::move(d));
    }
    return ok;
  }

  // Reads one declaration table; `nested` is true for table_list fields.
  std::optional<finding_decl> declaration(const std::string& path, const toml::table& t,
                                          bool nested) {
    finding_decl d;
    d.path = path;
    d.file = src_.name();
    d.line = static_cast<int>(t.source().begin.line);
    auto type_name = t["type"].value<std::string>();
    auto type = type_name ? type_named(*type_name) : std::nullopt;
    if (!type) {
      error(t.get("type"), "finding '" + path + "' has type '" + type_name.value_or("") +
                               "'; expected int, number, bool, string, enum, list or table_list");
      return std::nullopt;
    }
    d.type = *type;
    plain_texts(t, path);  // reported; the rest is read, for what else it says
    // Every key must mean something: a misspelt `maxx` would silently drop
    // a range check.
    static const std::vector<std::string> known = {"type", "values", "labels", "min", "max", "of", "key",
                                                   "fields", "pattern", "pattern_words", "component", "question",
                                                   "asked_if", "asked_if_values", "at_most", "at_most_unless",
                                                   "at_most_unless_values", "skipped_value", "asked_of",
                                                   "asked_after", "asked_after_values", "asked_unless",
                                                   "until_answered", "not_empty",
                                                   "refers_to", "synonyms", "ask_order"};
    for (auto&& [k, v] : t) {
      std::string key(k.str());
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      std::string near = nearest_name(key, known);
      auto diag = toml_diagnostic(src_, &v, severity::error, "vocabulary.invalid",
                                  "'" + key + "' is not a key of a finding declaration ('" + path + "')");
      diag.notes.push_back(near.empty() ? "the keys are type, values, labels, min, max, of, key, fields, pattern, "
                                          "pattern_words, "
                                          "component, question, asked_if, asked_if_values, at_most, at_most_unless, "
                                          "at_most_unless_values, skipped_value, asked_of, asked_after, asked_after_values, asked_unless, "
                                          "until_answered, not_empty, refers_to, synonyms and ask_order"
                                        : "did you mean '" + near + "'?");
      diags_.push_back(std::move(diag));
    }
    // A name the rules could not write (a reserved word) cannot be read.
    static const std::vector<std::string> reserved = {
        "rule", "when", "then", "because", "end", "and", "or", "not", "true", "false", "is", "known",
        "missing", "provisional", "contains", "in", "any", "all", "count", "for", "each", "priority", "tags",
        "source", "challenge", "solution", "goal", "flag", "conclude", "exclude"};
    std::size_t start = 0;
    while (start <= path.size()) {
      std::size_t dot = path.find('.', start);
      std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (std::find(reserved.begin(), reserved.end(), part) != reserved.end()) {
        error(&t, "'" + path + "' uses the reserved word '" + part + "', which rules cannot name; rename it");
      }
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (nested && (d.type == finding_type::table_list || d.type == finding_type::list)) {
      error(t.get("type"), "field '" + path + "' must hold a single value, not a list");
      return std::nullopt;
    }
    if (auto* n = t.get("pattern")) {
      auto text = n->value<std::string>();
      if (!text || d.type != finding_type::string) {
        error(n, "'pattern' of '" + path + "' must be a quoted regular expression, on a string finding");
      } else if (text->size() > 2000) {
        // Room for a list of words (the default relationship labels).
        error(n, "'pattern' of '" + path + "' is longer than 2000 characters; keep it short and simple");
      } else {
        RE2::Options o;
        o.set_log_errors(false);
        auto re = std::make_shared<const RE2>(*text, o);
        if (!re->ok()) {
          error(n, "'pattern' of '" + path + "' is not a valid regular expression (RE2 syntax: no "
                   "back-references or look-around)");
        } else {
          d.pattern = *text;
          d.pattern_re = std::move(re);
        }
      }
    }
    if (auto* n = t.get("pattern_words")) {
      // The form in words, for the message a clinician reads (a regular
      // expression means nothing to most).
      auto text = n->value<std::string>();
      if (!text || !t.get("pattern") || text->empty() || text->size() > 200) {
        error(n, "'pattern_words' of '" + path + "' must be a quoted text of at most 200 characters, beside a "
                 "'pattern' it puts in words");
      } else {
        d.pattern_words = *text;
      }
    }
    if (auto* n = t.get("asked_of")) {
      auto s = n->value<std::string>();
      if (!s || nested || (*s != "client" && *s != "clinician")) {
        error(n, "'asked_of' of '" + path + "' must be \"client\" or \"clinician\"" +
                     (nested ? ", on a finding (not a field)" : ""));
      } else {
        d.clinician = *s == "clinician";
      }
    }
    if (auto* n = t.get("ask_order"); n && d.type != finding_type::table_list) {
      error(n, "'ask_order' of '" + path + "' belongs on a table_list (it orders the questions about its entries)");
    }
    for (const char* key : {"asked_after", "asked_unless"}) {
      auto* n = t.get(key);
      if (!n) continue;
      auto s = n->value<std::string>();
      if (s && !nested && std::string(key) == "asked_after") {
        // On a finding: another finding asked first (checked once all are
        // read, in check_links).
        d.asked_after = *s;
        afters_.push_back({path, *s, n});
      } else if (!s || !nested) {
        error(n, "'" + std::string(key) + "' of '" + path + "' must name another field of the same entry, in quotes" +
                     std::string(nested ? "" : std::string(key) == "asked_after" ? "" : ", on a field of a table_list (a finding has asked_if)"));
      } else {
        (std::string(key) == "asked_after" ? d.asked_after : d.asked_unless) = *s;
      }
    }
    if (auto* n = t.get("asked_after_values")) {
      // Checked against the field named by asked_after once the entry's
      // fields are all read.
      const toml::array* a = n->as_array();
      bool ok = a && nested && !a->empty();
      if (a) {
        for (const auto& v : *a) {
          auto s = v.value<std::string>();
          if (!s) ok = false; else d.asked_after_values.push_back(*s);
        }
      }
      if (!ok) {
        error(n, "'asked_after_values' of '" + path + "' must be a list of quoted values of the field named by "
                 "'asked_after', on a field of a table_list");
        d.asked_after_values.clear();
      }
    }
    if (auto* n = t.get("refers_to")) {
      auto s = n->value<std::string>();
      if (!s || !nested || d.type != finding_type::string) {
        error(n, "'refers_to' of '" + path + "' must name a list with a key, in quotes, on a text field of a "
                 "table_list");
      } else {
        d.refers_to = *s;
        refs_.push_back({path, *s, n});
      }
    }
    d.component = t["component"].value_or(std::string());
    d.question = t["question"].value_or(std::string());
    if (auto* n = t.get("until_answered")) {
      auto s = n->value<std::string>();
      if (nested) {
        error(n, "'until_answered' of '" + path + "' is for a finding, not a field of a table_list");
      } else if (!s || s->empty()) {
        error(n, "'until_answered' of '" + path + "' must be a text in quotes: what the rules take while it is not answered");
      } else {
        d.until_answered = *s;
      }
    }
    for (const char* key : {"asked_if", "at_most", "at_most_unless"}) {
      if (auto* n = t.get(key)) {
        auto s = n->value<std::string>();
        if (!s || nested) {
          error(n, std::string("'") + key + "' of '" + path + "' must name another finding, in quotes" +
                       (nested ? ", on a finding (not a field)" : ""));
        } else {
          std::string k(key);
          (k == "asked_if" ? d.asked_if : k == "at_most" ? d.at_most : d.at_most_unless) = *s;
          gates_.push_back({path, key, n});
        }
      }
    }
    // The values of a gate: `asked_if_values` for `asked_if`,
    // `at_most_unless_values` for `at_most_unless`.
    auto gate_values = [&](const char* key, const char* needs, const std::string& gate,
                           std::vector<std::string>& out) {
      auto* n = t.get(key);
      if (!n) return;
      auto* arr = n->as_array();
      if (!arr || arr->empty()) error(n, std::string("'") + key + "' of '" + path + "' must be a non-empty list");
      if (arr) {
        for (auto&& v : *arr) {
          if (auto b = v.value<bool>(); b && v.is_boolean()) out.push_back(*b ? "true" : "false");
          else if (auto s = v.value<std::string>()) out.push_back(*s);
          else error(&v, std::string("'") + key + "' of '" + path + "' holds true, false or quoted values");
        }
      }
      if (gate.empty()) error(n, std::string("'") + key + "' of '" + path + "' needs '" + needs + "'");
    };
    gate_values("asked_if_values", "asked_if", d.asked_if, d.asked_if_values);
    gate_values("at_most_unless_values", "at_most_unless", d.at_most_unless, d.at_most_unless_values);
    if (!d.at_most_unless.empty() && d.at_most.empty()) {
      error(t.get("at_most_unless"), "'at_most_unless' of '" + path + "' needs 'at_most'");
    }
    if (!d.at_most_unless.empty() && d.at_most_unless_values.empty() && !t.get("at_most_unless_values")) {
      error(t.get("at_most_unless"), "'at_most_unless' of '" + path + "' needs 'at_most_unless_values'");
    }
    if (!d.asked_if.empty() && d.asked_if_values.empty()) d.asked_if_values = {"true"};
    if (auto* n = t.get("min")) {
      if (auto v = n->value<double>(); v && std::isfinite(*v)) d.min = *v;
      else error(n, "'min' of '" + path + "' must be a number (not nan or inf)");
    }
    if (auto* n = t.get("max")) {
      if (auto v = n->value<double>(); v && std::isfinite(*v)) d.max = *v;
      else error(n, "'max' of '" + path + "' must be a number (not nan or inf)");
    }
    // A whole-number finding has whole-number bounds: "a whole number from
    // 1.5 to 2.5" would be no range a clinician could read.
    for (const char* key : {"min", "max"}) {
      const auto& bound = std::string(key) == "min" ? d.min : d.max;
      if (d.type == finding_type::integer && bound && std::floor(*bound) != *bound) {
        error(t.get(key), "'" + std::string(key) + "' of '" + path + "' must be a whole number, as '" + path +
                              "' is an int");
      }
    }
    if (d.min && d.max && *d.min > *d.max) {
      error(t.get("min"), "'min' of '" + path + "' is greater than its 'max'");
    }
    if ((d.min || d.max) && d.type != finding_type::integer && d.type != finding_type::number &&
        !(d.type == finding_type::list)) {
      error(t.get("min") ? t.get("min") : t.get("max"),
            "'" + path + "' is not a number, so it cannot have 'min' or 'max'");
    }
    if (d.type == finding_type::list) {
      auto of = t["of"].value<std::string>();
      auto et = of ? type_named(*of) : std::nullopt;
      if (!et || *et == finding_type::list || *et == finding_type::table_list ||
          *et == finding_type::boolean) {
        error(t.get("of") ? t.get("of") : &t,
              "list '" + path + "' needs 'of' = \"string\", \"enum\", \"int\" or \"number\"");
        return std::nullopt;
      }
      d.element = *et;
    }
    bool wants_values = d.type == finding_type::enumeration ||
                        (d.type == finding_type::list && d.element == finding_type::enumeration);
    if (auto* arr = t["values"].as_array()) {
      for (auto&& v : *arr) {
        if (auto s = v.value<std::string>()) d.values.push_back(*s);
        else error(&v, "values of '" + path + "' must be quoted texts");
      }
    }
    d.value_set = {d.values.begin(), d.values.end()};
    {
      std::vector<std::string> sorted = d.values;
      std::sort(sorted.begin(), sorted.end());
      auto dup = std::adjacent_find(sorted.begin(), sorted.end());
      if (dup != sorted.end()) error(t.get("values"), "'" + path + "' lists the value \"" + *dup + "\" twice");
    }
    if (!wants_values && t.contains("values")) {
      error(t.get("values"), "'" + path + "' is not an enum, so it takes no 'values'");
    }
    if (wants_values && d.values.empty()) {
      error(&t, "enum '" + path + "' needs a non-empty 'values' list");
      return std::nullopt;
    }
    if (auto* n = t.get("skipped_value")) {
      auto v = n->value<std::string>();
      bool ok = v && n->is_string() && d.type == finding_type::enumeration && !nested &&
                d.has_value(*v);
      if (!ok) {
        error(n, "'skipped_value' of '" + path + "' must be one of its own values, in quotes, on an enum finding "
                 "with 'asked_if'");
      } else {
        d.skipped_value = *v;
      }
      if (ok && d.asked_if.empty()) error(n, "'skipped_value' of '" + path + "' needs 'asked_if'");
    }
    if (auto* n = t.get("not_empty")) {
      auto v = n->value<bool>();
      if (!v || !n->is_boolean() || d.type != finding_type::list || nested) {
        error(n, "'not_empty' of '" + path + "' must be true or false, on a list finding with 'asked_if'");
      } else {
        d.not_empty = *v;
        if (*v && d.asked_if.empty()) error(n, "'not_empty' of '" + path + "' needs 'asked_if'");
      }
    }
    if (auto* n = t.get("labels")) {
      // `labels = { relationship_end = "the end of a relationship" }`: how
      // plan texts word a value; every key one of the values.
      auto* table = n->as_table();
      if (!wants_values) {
        error(n, "'" + path + "' is not a choice (enum), so it takes no 'labels'");
      } else if (!table) {
        error(n, "'labels' of '" + path + "' must be a table of its values and their wording, e.g. "
                 "labels = { " + d.values.front() + " = \"...\" }");
      } else {
        for (auto&& [k, v] : *table) {
          std::string value(k.str());
          auto text = v.value<std::string>();
          if (!d.has_value(value)) {
            auto diag = toml_diagnostic(src_, &v, severity::error, "vocabulary.invalid",
                                        "'labels' of '" + path + "' words '" + value + "', which is not one of its values");
            // The caret under the misspelt value, not its wording.
            diag.line = static_cast<int>(k.source().begin.line);
            diag.column = static_cast<int>(k.source().begin.column);
            std::string near = nearest_name(value, d.values);
            if (!near.empty()) diag.notes.push_back("did you mean '" + near + "'?");
            diags_.push_back(std::move(diag));
          } else if (!text || text->find_first_not_of(" \t") == std::string::npos || text->size() > 120) {
            error(&v, "the label of '" + value + "' in '" + path + "' must be a quoted text of 1 to 120 characters");
          } else {
            d.labels.emplace_back(value, *text);
          }
        }
      }
    }
    if (auto* n = t.get("synonyms")) {
      // `synonyms = { spouse = "partner" }`: words a clinician may type for
      // a choice, suggested when they do (never accepted as the choice).
      auto* table = n->as_table();
      if (!wants_values) {
        error(n, "'" + path + "' is not a choice (enum), so it takes no 'synonyms'");
      } else if (!table) {
        error(n, "'synonyms' of '" + path + "' must be a table of words and the choice each means, e.g. "
                 "synonyms = { word = \"" + d.values.front() + "\" }");
      } else {
        for (auto&& [k, v] : *table) {
          std::string word(k.str());
          auto meant = v.value<std::string>();
          if (!meant || std::find(d.values.begin(), d.values.end(), *meant) == d.values.end()) {
            std::string near = meant ? nearest_name(*meant, d.values) : std::string();
            auto diag = toml_diagnostic(src_, &v, severity::error, "vocabulary.invalid",
                                        "the synonym '" + word + "' of '" + path +
                                            "' must name one of its values, in quotes");
            if (!near.empty()) diag.notes.push_back("did you mean '" + near + "'?");
            diags_.push_back(std::move(diag));
          } else if (std::find(d.values.begin(), d.values.end(), word) != d.values.end()) {
            error(&v, "'" + word + "' is a value of '" + path + "' itself, so it cannot be a synonym");
          } else if (word.empty() || word.size() > 40) {
            error(&v, "a synonym of '" + path + "' must be a word of 1 to 40 characters");
          } else {
            std::string lower = word;
            for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            d.synonyms.emplace_back(std::move(lower), *meant);
          }
        }
      }
    }
    if (d.type == finding_type::table_list) {
      d.key = t["key"].value_or(std::string());
      auto* fields = t["fields"].as_table();
      if (!fields || fields->empty()) {
        error(&t, "table_list '" + path + "' needs a [" + path + ".fields] table");
        return std::nullopt;
      }
      for (auto&& [k, v] : *fields) {
        if (!name_ok(k.str(), v)) continue;
        auto* ft = v.as_table();
        if (!ft) {
          error(&v, "field '" + std::string(k.str()) + "' of '" + path + "' must be a table");
          continue;
        }
        if (auto f = declaration(std::string(k.str()), *ft, true)) d.fields.push_back(std::move(*f));
      }
      if (auto* n = t.get("ask_order")) {
        auto s = n->value<std::string>();
        const finding_decl* f = s ? d.field(*s) : nullptr;
        if (!f || (f->type != finding_type::integer && f->type != finding_type::number)) {
          error(n, "'ask_order' of '" + path + "' must name a number field of its entries, in quotes");
        } else {
          d.ask_order = *s;
        }
      }
      for (const auto& f : d.fields) {
        if (!f.asked_unless.empty() && (f.asked_unless == f.path || !d.field(f.asked_unless))) {
          const auto* ft = fields->get(f.path)->as_table();
          error(ft ? ft->get("asked_unless") : nullptr, "'asked_unless' of '" + path + "." + f.path + "' names '" +
                                                             f.asked_unless + "', which is not another field of '" +
                                                             path + "'");
        }
        const auto* ft = fields->get(f.path)->as_table();
        if (f.asked_after.empty()) {
          if (!f.asked_after_values.empty()) {
            error(ft ? ft->get("asked_after_values") : nullptr,
                  "'asked_after_values' of '" + path + "." + f.path + "' needs 'asked_after'");
          }
          continue;
        }
        const toml::node* at = ft ? ft->get("asked_after") : nullptr;
        if (const finding_decl* g = d.field(f.asked_after); g && !f.asked_after_values.empty()) {
          for (const auto& v : f.asked_after_values) {
            if (g->type == finding_type::enumeration && g->has_value(v)) continue;
            if (g->type == finding_type::boolean && (v == "true" || v == "false")) continue;
            error(ft->get("asked_after_values"), "'asked_after_values' of '" + path + "." + f.path + "' holds '" + v +
                                                   "', which '" + path + "." + f.asked_after + "' cannot take");
            break;
          }
        }
        if (f.asked_after == f.path) {
          error(at, "'asked_after' of '" + path + "." + f.path + "' cannot name itself");
        } else if (!d.field(f.asked_after)) {
          error(at, "'asked_after' of '" + path + "." + f.path + "' names '" + f.asked_after +
                        "', which is not a field of '" + path + "'");
        } else if (d.field(f.asked_after)->asked_after == f.path && f.path < f.asked_after) {  // said once
          error(at, "'asked_after' of '" + path + "." + f.path + "' and of '" + path + "." + f.asked_after +
                        "' name each other: neither could be asked first");
        }
      }
      if (!d.key.empty() && !d.field(d.key)) {
        error(t.get("key"), "key '" + d.key + "' of '" + path + "' is not one of its fields");
      } else if (!d.key.empty() && d.field(d.key)->type != finding_type::string &&
                 d.field(d.key)->type != finding_type::enumeration) {
        error(t.get("key"), "key '" + d.key + "' of '" + path + "' must be a string or enum field");
        return std::nullopt;
      }
    }
    return d;
  }

  void walk(const std::string& prefix, const toml::table& t, std::vector<finding_decl>& out,
            int depth = 0) {
    // A namespace is a few levels deep; a dotted key of thousands of parts
    // would otherwise recurse as deep as it is long.
    if (depth > 16) {
      error(&t, "'" + prefix.substr(0, 60) + (prefix.size() > 60 ? "..." : "") +
                    "' is nested more than 16 levels deep; no finding needs that");
      return;
    }
    for (auto&& [k, v] : t) {
      if (!name_ok(k.str(), v)) continue;
      std::string path = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
      auto* sub = v.as_table();
      if (!sub) {
        error(&v, "'" + path + "' must be a table declaring a finding (with a 'type') or a group of findings");
        continue;
      }
      if (path == "param" || path.rfind("param.", 0) == 0) {
        error(&v, "'" + path + "': names starting with 'param' are reserved for the parameters of ruleset.toml");
        continue;
      }
      if ((*sub)["type"].is_string()) {
        if (auto d = declaration(path, *sub, false)) out.push_back(std::move(*d));
      } else {
        walk(path, *sub, out, depth + 1);
      }
    }
  }

  // Checks asked_if and at_most once every finding is declared.
  void check_links(const std::vector<finding_decl>& all, const std::unordered_map<std::string, int>& index) {
    // The finding names, listed once, for "did you mean" within a budget.
    std::vector<std::string> names;
    for (const auto& f : all) names.push_back(f.path);
    suggester suggest;
    for (const auto& r : refs_) {
      const std::string& target = r.key;  // the list it names
      auto it = index.find(target);
      const finding_decl* t = it == index.end() ? nullptr : &all[static_cast<std::size_t>(it->second)];
      if (!t || t->type != finding_type::table_list || t->key.empty()) {
        std::string near = t ? "" : suggest.nearest(target, names);
        auto diag = toml_diagnostic(src_, r.node, severity::error, "vocabulary.invalid",
                                    "'refers_to' of field '" + r.path + "' names '" + target +
                                        "', which is not a table_list with a key in the vocabulary");
        if (!near.empty()) diag.notes.push_back("did you mean '" + near + "'?");
        diags_.push_back(std::move(diag));
      }
    }
    for (const auto& a : afters_) {
      auto it = index.find(a.key);
      const finding_decl* t = it == index.end() ? nullptr : &all[static_cast<std::size_t>(it->second)];
      std::string problem;
      if (a.key == a.path) {
        problem = "'asked_after' of '" + a.path + "' cannot name itself";
      } else if (!t) {
        problem = "'asked_after' of '" + a.path + "' names '" + a.key + "', which is not a finding of the vocabulary";
      } else if (t->type == finding_type::table_list) {
        problem = "'asked_after' of '" + a.path + "' names '" + a.key + "', a list of records: name one finding";
      } else if (t->asked_after == a.path && a.path < a.key) {  // said once
        problem = "'asked_after' of '" + a.path + "' and of '" + a.key +
                  "' name each other: neither could be asked first";
      }
      if (problem.empty()) continue;
      auto diag = toml_diagnostic(src_, a.node, severity::error, "vocabulary.invalid", problem);
      if (!t && a.key != a.path) {
        std::string near = suggest.nearest(a.key, names);
        if (!near.empty()) diag.notes.push_back("did you mean '" + near + "'?");
      }
      diags_.push_back(std::move(diag));
    }
    for (const auto& g : gates_) {
      const finding_decl& d = all[static_cast<std::size_t>(index.at(g.path))];
      // A gate: asked_if, or at_most_unless (both name a yes/no or enum
      // finding and take values of it).
      bool asked = g.key == "asked_if" || g.key == "at_most_unless";
      const std::string& target = g.key == "asked_if" ? d.asked_if : g.key == "at_most" ? d.at_most : d.at_most_unless;
      const auto& gate_values = g.key == "asked_if" ? d.asked_if_values : d.at_most_unless_values;
      const std::string values_key = g.key + "_values";
      auto it = index.find(target);
      if (it == index.end()) {
        std::string near = suggest.nearest(target, names);
        auto diag = toml_diagnostic(src_, g.node, severity::error, "vocabulary.invalid",
                                    "'" + g.key + "' of '" + g.path + "' names '" + target +
                                        "', which is not a finding of the vocabulary");
        if (!near.empty()) diag.notes.push_back("did you mean '" + near + "'?");
        diags_.push_back(std::move(diag));
        continue;
      }
      const finding_decl& t = all[static_cast<std::size_t>(it->second)];
      if (target == g.path) {
        error(g.node, "'" + g.path + "' cannot name itself in '" + g.key + "'");
      } else if (asked && t.type != finding_type::boolean && t.type != finding_type::enumeration) {
        error(g.node, "'" + g.key + "' of '" + g.path + "' must name a yes/no or enum finding; '" + target +
                          "' is " + t.expectation());
      } else if (asked) {
        for (const auto& v : gate_values) {
          bool ok = t.type == finding_type::boolean
                        ? (v == "true" || v == "false")
                        : std::find(t.values.begin(), t.values.end(), v) != t.values.end();
          if (!ok) {
            error(g.node, "'" + values_key + "' of '" + g.path + "' holds '" + v + "', but '" + target +
                              "' is " + t.expectation());
          }
        }
      } else if ((d.type != finding_type::integer && d.type != finding_type::number) ||
                 (t.type != finding_type::integer && t.type != finding_type::number)) {
        error(g.node, "'at_most' links two numbers; '" + g.path + "' or '" + target + "' is not one");
      }
    }
    // A chain of gates (or of at_most) that comes back to where it started:
    // no question of it could ever be asked first. Each finding has at most
    // one link of a kind, so each chain is walked once.
    for (const char* key : {"asked_if", "at_most"}) {
      std::vector<int> next(all.size(), -1);
      std::vector<const toml::node*> where(all.size(), nullptr);
      for (const auto& g : gates_) {
        if (g.key != key) continue;
        int from = index.at(g.path);
        const finding_decl& d = all[static_cast<std::size_t>(from)];
        auto it = index.find(std::string(key) == "asked_if" ? d.asked_if : d.at_most);
        if (it == index.end() || it->second == from) continue;
        next[static_cast<std::size_t>(from)] = it->second;
        where[static_cast<std::size_t>(from)] = g.node;
      }
      std::vector<std::uint8_t> state(all.size(), 0);  // 0 unseen, 1 on the walk, 2 done
      for (std::size_t start = 0; start < all.size(); ++start) {
        std::vector<std::size_t> walk;
        int at = static_cast<int>(start);
        while (at >= 0 && state[static_cast<std::size_t>(at)] == 0) {
          state[static_cast<std::size_t>(at)] = 1;
          walk.push_back(static_cast<std::size_t>(at));
          at = next[static_cast<std::size_t>(at)];
        }
        if (at >= 0 && state[static_cast<std::size_t>(at)] == 1) {
          // The cycle: from `at` round to itself.
          std::string chain = all[static_cast<std::size_t>(at)].path;
          for (int k = next[static_cast<std::size_t>(at)]; k != at; k = next[static_cast<std::size_t>(k)]) {
            chain += " -> " + all[static_cast<std::size_t>(k)].path;
          }
          chain += " -> " + all[static_cast<std::size_t>(at)].path;
          error(where[static_cast<std::size_t>(at)],
                std::string("'") + key + "' links go round in a circle (" + chain + ")" +
                    (std::string(key) == "asked_if" ? ": none of these questions could ever be asked first"
                                                    : ": each score would be part of the next"));
        }
        for (auto w : walk) state[w] = 2;
      }
    }
  }

 private:
  struct link {
    std::string path;
    std::string key;
    const toml::node* node;
  };
  const source_file& src_;
  std::vector<diagnostic>& diags_;
  std::vector<link> gates_;
  std::vector<link> refs_;  // refers_to: the field's name, and the list it names as `key`
  std::vector<link> afters_;  // asked_after on a finding: its path, and the finding asked first as `key`
};

}  // namespace

std::string finding_decl::expectation() const {
  switch (type) {
    case finding_type::integer: return "a whole number" + range_text(*this);
    case finding_type::number: return "a number" + range_text(*this);
    case finding_type::boolean: return "true or false";
    case finding_type::string: return pattern_words.empty() ? "a quoted text" : "a quoted text: " + pattern_words;
    case finding_type::enumeration: return "one of " + join(values);
    case finding_type::list:
      if (element == finding_type::enumeration) return "a list of values from " + join(values);
      return std::string("a list of ") + (element == finding_type::string ? "quoted texts" : "numbers");
    case finding_type::table_list: return "a list of tables ([[" + path + "]])";
  }
  return "";
}

vocabulary vocabulary::parse(const std::string& name, const std::string& text,
                             std::vector<diagnostic>& diags) {
  vocabulary v;
  auto table = parse_toml(name, text, "vocabulary.syntax", diags);
  if (!table) return v;
  source_file src(name, text);
  reader r(src, diags);
  r.walk("", *table, v.findings_);
  std::sort(v.findings_.begin(), v.findings_.end(),
            [](const finding_decl& a, const finding_decl& b) { return a.path < b.path; });
  for (std::size_t i = 0; i < v.findings_.size(); ++i) {
    v.index_[v.findings_[i].path] = static_cast<int>(i);
  }
  r.check_links(v.findings_, v.index_);
  return v;
}

std::vector<const finding_decl*> vocabulary::in_file_order(const std::vector<finding_decl>& decls) {
  std::vector<const finding_decl*> out;
  out.reserve(decls.size());
  for (const auto& d : decls) out.push_back(&d);
  std::stable_sort(out.begin(), out.end(), [](const finding_decl* a, const finding_decl* b) { return a->line < b->line; });
  return out;
}

std::vector<const finding_decl*> vocabulary::in_file_order() const { return in_file_order(findings_); }

const std::string* vocabulary::group_label(std::string_view fact, std::string_view value) const {
  auto dot = fact.rfind('.');
  if (dot == std::string_view::npos) return nullptr;
  std::string_view group = fact.substr(0, dot + 1);  // "problem_area."
  const std::string* found = nullptr;
  for (const auto& d : findings_) {
    std::string_view path = d.path;
    // A finding of the group itself (problem_area.primary), not deeper.
    if (path.size() <= group.size() || path.compare(0, group.size(), group) != 0 ||
        path.find('.', group.size()) != std::string_view::npos) {
      continue;
    }
    const std::string* l = d.label_of(value);
    if (!l) continue;
    if (found && *found != *l) return nullptr;
    found = l;
  }
  return found;
}

const finding_decl* vocabulary::find(const std::string& path) const {
  int i = index_of(path);
  return i < 0 ? nullptr : &findings_[static_cast<std::size_t>(i)];
}

std::uint64_t vocabulary::next_serial() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1);
}

int vocabulary::index_of(const std::string& path) const {
  auto it = index_.find(path);
  return it == index_.end() ? -1 : it->second;
}

std::vector<std::string> vocabulary::paths() const {
  std::vector<std::string> out;
  for (const auto& f : findings_) out.push_back(f.path);
  return out;
}

}  // namespace iptplan

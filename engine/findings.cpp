#include "engine/findings.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <unordered_set>
#include <sstream>

#include <functional>
#include <nlohmann/json.hpp>

#include "engine/evaluator.hpp"
#include "engine/findings_docs.hpp"
#include "engine/ruleset.hpp"
#include "engine/toml_util.hpp"

namespace iptplan {

const std::string& client_data::symbol_text(const program& p, std::int32_t sym) const {
  if (sym >= extra_base) return extra_symbols[static_cast<std::size_t>(sym - extra_base)];
  return p.symbols.text(sym);
}

namespace {

// The words of a value or a label: lower case, split at '_', '-', ' ', ','
// and parentheses.
std::vector<std::string> words_of(std::string_view s) {
  std::vector<std::string> out;
  std::string w;
  for (char c : s) {
    if (c == '_' || c == '-' || c == ' ' || c == ',' || c == '(' || c == ')') {
      if (!w.empty()) out.push_back(std::move(w));
      w.clear();
    } else {
      w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (!w.empty()) out.push_back(std::move(w));
  return out;
}

// A choice that a wrongly typed value means, when no choice is spelt close
// to it: one it begins with ("job_loss": job), one that shares its first
// word ("65_plus": 65_89), or one whose wording holds one of its words
// ("baby": infant, worded "baby or young child ..."). Empty when none.
std::string choice_by_meaning(std::string_view typed, const finding_decl& d) {
  if (typed.size() > 100) return {};
  auto typed_words = words_of(typed);
  if (typed_words.empty()) return {};
  for (const auto& v : d.values) {
    auto value_words = words_of(v);
    if (!value_words.empty() && value_words.front() == typed_words.front() && typed_words.front().size() >= 2) return v;
  }
  // Words that say how, not what: "90 and over" means no "over_65".
  static const std::vector<std::string> how = {"and", "the", "not", "non", "over", "under", "with", "without",
                                               "too", "for", "from", "than", "more", "less", "above", "below"};
  for (const auto& v : d.values) {
    const std::string* label = d.label_of(v);
    if (!label) continue;
    for (const auto& lw : words_of(*label)) {
      if (lw.size() < 3 || std::find(how.begin(), how.end(), lw) != how.end()) continue;
      for (const auto& tw : typed_words) {
        if (tw == lw) return v;
      }
    }
  }
  return {};
}

// A number typed where the choices are bands ("15" for an age band): the
// band that holds it, read from the choice's own numbers ("12_17" holds 12
// to 17, "under12" what is below 12, "90plus" 90 and over).
std::string choice_by_number(std::string_view typed, const finding_decl& d) {
  if (typed.empty() || typed.size() > 6 ||
      typed.find_first_not_of("0123456789") != std::string_view::npos) {
    return {};
  }
  long n = std::stol(std::string(typed));
  for (const auto& v : d.values) {
    std::vector<long> nums;
    std::string digits;
    for (std::size_t i = 0; i <= v.size(); ++i) {
      if (i < v.size() && v[i] >= '0' && v[i] <= '9') {
        if (digits.size() < 6) digits += v[i];
      } else if (!digits.empty()) {
        nums.push_back(std::stol(digits));
        digits.clear();
      }
    }
    bool holds = false;
    if (nums.size() == 2) holds = nums[0] <= n && n <= nums[1];
    else if (nums.size() == 1 && v.find("under") != std::string::npos) holds = n < nums[0];
    else if (nums.size() == 1 && (v.find("plus") != std::string::npos || v.find("over") != std::string::npos)) {
      holds = n >= nums[0];
    }
    if (holds) return v;
  }
  return {};
}

// Whether `suggested` may be offered for `typed`: never for a value that
// negates ("not_pregnant" is no "pregnant"), nor one whose numbers differ
// from the suggestion's ("under_18" is no "under12"; "65_plus" may be
// "65_89").
bool fair_suggestion(std::string_view typed, const std::string& suggested) {
  auto typed_words = words_of(typed);
  for (const auto& w : typed_words) {
    if (w == "no" || w == "not" || w == "non" || w == "never" || w == "without" || w == "neither") return false;
  }
  auto numbers = [](std::string_view s) {
    std::vector<std::string> out;
    std::string n;
    for (char c : s) {
      if (c >= '0' && c <= '9') {
        n += c;
      } else if (!n.empty()) {
        out.push_back(std::move(n));
        n.clear();
      }
    }
    if (!n.empty()) out.push_back(std::move(n));
    return out;
  };
  auto mine = numbers(typed), theirs = numbers(suggested);
  if (mine.empty() || theirs.empty()) return true;
  for (const auto& n : mine) {
    if (std::find(theirs.begin(), theirs.end(), n) != theirs.end()) return true;
  }
  return false;
}

// Limits on a findings file: deeper keys and longer texts than any finding
// of a vocabulary needs, small enough that no check grows the stack.
constexpr std::size_t kMaxTextFinding = 200;
constexpr std::size_t kMaxSuggested = 200;
// Entries of one list (people, life events, scores): far more than any
// interpersonal inventory holds.
constexpr std::size_t kMaxElements = 200;
constexpr int kMaxKeyDepth = 16;
const std::string kByteOrderMark = "\xEF\xBB\xBF";

// Keys that would hold identifying data; a findings file must never carry them.
const std::unordered_set<std::string_view> kIdentifying = {
    "name", "first_name", "last_name", "surname", "full_name", "given_name",
    "dob", "birth_date", "date_of_birth", "birthdate", "birthday",
    "address", "street", "postcode", "zip", "zipcode", "phone", "telephone",
    "email", "ssn", "nhs_number", "medicare_number", "initials", "mrn",
    "medical_record_number", "record_number", "hospital_number", "patient_number"};


template <typename D>
class reader {
 public:
  using node = typename D::node;

  reader(const program& p, const source_file& src, const findings_options& o,
         std::vector<diagnostic>& diags, client_data& c)
      : p_(p), src_(src), opt_(o), diags_(diags), c_(c), nodes_(p.vocab->findings().size()),
        start_(diags.size()) {}

  // After the walk: a field that `refers_to` another list names one of its
  // entries (a death's `person`, a label of the inventory). A misspelt
  // label would silently part the event from the person. While the other
  // list is not recorded at all, nothing is checked: it may come later.
  void check_references() {
    const auto& all = p_.vocab->findings();
    std::unordered_map<int, std::unordered_set<std::string_view>> labels;  // a list's entry keys
    for (auto& u : unmatched_references_) {
      // With the list on file, a value that names none of its entries is
      // reported below (with the label it most likely means); one that
      // names an entry whose label has another form (a vocabulary whose
      // list takes any label) still has the wrong form, and is said so.
      int j = p_.vocab->index_of(u.list);
      if (j >= 0 && c_.slots[static_cast<std::size_t>(j)].kind == vkind::table) {
        auto [at, fresh] = labels.try_emplace(j);
        if (fresh) {
          for (const auto& e : c_.tables[c_.slots[static_cast<std::size_t>(j)].ref]) at->second.insert(e.key);
        }
        if (!at->second.count(D::string(u.at))) continue;
      }
      private_problem(u.at, "findings.value", u.message, {u.note});
    }
    for (std::size_t i = 0; i < all.size(); ++i) {
      const finding_decl& d = all[i];
      if (d.type != finding_type::table_list || !nodes_[i] || c_.slots[i].kind != vkind::table) continue;
      for (const auto& f : d.fields) {
        if (f.refers_to.empty()) continue;
        int j = p_.vocab->index_of(f.refers_to);
        if (j < 0 || c_.slots[static_cast<std::size_t>(j)].kind != vkind::table) continue;
        const finding_decl& target = all[static_cast<std::size_t>(j)];
        std::unordered_set<std::string> keys;
        std::vector<std::string> key_list;
        for (const auto& e : c_.tables[c_.slots[static_cast<std::size_t>(j)].ref]) {
          if (keys.insert(e.key).second) key_list.push_back(e.key);
        }
        suggester suggest;
        D::elements(*nodes_[i], [&](std::size_t k, node t) {
          auto fv = D::member(t, f.path);
          if (!fv || !D::is_string(*fv)) return;
          std::string v(D::string(*fv));
          if (keys.count(v)) return;
          // The value is never repeated, whatever it looks like: a label
          // that names no one may be a name written in lower case. A
          // label that is on file may be suggested: the plan shows those.
          bool role_like = quoted_if_name(v, "") != "";
          std::string near = role_like ? suggest.nearest(v, key_list) : std::string();
          std::vector<std::string> notes;
          if (!near.empty()) notes.push_back("did you mean '" + near + "'?");
          notes.push_back("add the person to '" + target.path + "' under their " + target.key +
                          " (a word for the relationship, such as sister or friend, never a name), or leave '" +
                          f.path + "' out");
          std::string msg = "'" + d.path + "[" + std::to_string(k + 1) + "]." + f.path + "' names a " + target.key +
                            " that no entry of '" + target.path + "' has";
          private_problem(*fv, "findings.reference", msg, std::move(notes));
        });
      }
    }
  }

  // After the walk: the problems found beyond the first kKept are counted
  // on the last one kept.
  void finish() {
    if (untold_errors_ + untold_warnings_ == 0) return;
    diags_.back().more_errors += untold_errors_;
    diags_.back().more_warnings += untold_warnings_;
  }
  bool untold_errors() const { return untold_errors_ > 0; }

  // The line a finding's value is on (0 when not known).
  int line_of(std::size_t slot) const {
    if (c_.lines[slot] > 0 || !nodes_[slot]) return c_.lines[slot];
    return D::place(*nodes_[slot]).line;
  }

  void problem(node n, severity s, const std::string& code, const std::string& msg,
               std::vector<std::string> notes = {}) {
    if (diags_.size() - start_ >= kKept) {
      ++(s == severity::error ? untold_errors_ : untold_warnings_);
      scratch_ = diagnostic{};
      scratch_last_ = true;
      return;
    }
    scratch_last_ = false;
    diagnostic d;
    d.level = s;
    d.code = code;
    d.file = src_.name();
    d.message = msg;
    location at = D::place(n);
    d.line = at.line;
    d.column = at.column;
    quote_line(d, src_);
    d.notes = std::move(notes);
    diags_.push_back(std::move(d));
  }

  // As problem(), for a value that may itself be identifying: the line is
  // not quoted, so the text is not repeated on the terminal or in logs.
  void private_problem(node n, const std::string& code, const std::string& msg,
                       std::vector<std::string> notes = {}) {
    problem(n, severity::error, code, msg, std::move(notes));
    last().source_line.clear();
  }

  std::int32_t intern(std::string_view sv) {
    std::string s(sv);
    std::int32_t id = p_.symbols.find(s);
    if (id >= 0) return id;
    for (std::size_t i = 0; i < c_.extra_symbols.size(); ++i) {
      if (c_.extra_symbols[i] == s) return c_.extra_base + static_cast<std::int32_t>(i);
    }
    c_.extra_symbols.push_back(s);
    return c_.extra_base + static_cast<std::int32_t>(c_.extra_symbols.size() - 1);
  }

  // A key given twice in one table (JSON allows it; TOML does not) is an
  // error, never "the last one wins", which could drop a risk answer.
  // The keys of one table seen so far: a list while it is short (most
  // tables hold a handful of keys), a hash set beyond.
  class key_set {
   public:
    bool insert(std::string_view k) {
      if (hashed_.empty()) {
        if (std::find(few_.begin(), few_.end(), k) != few_.end()) return false;
        few_.push_back(k);
        if (few_.size() > 16) hashed_.insert(few_.begin(), few_.end());
        return true;
      }
      return hashed_.insert(k).second;
    }

   private:
    std::vector<std::string_view> few_;
    std::unordered_set<std::string_view> hashed_;
  };

  bool repeated(key_set& seen, std::string_view key, node v, const std::string& path) {
    if constexpr (!D::repeats_keys) {
      return false;
    } else {
      if (seen.insert(key)) return false;
      duplicate(v, path);
      return true;
    }
  }
  void duplicate(node v, const std::string& path) {
    private_problem(v, "findings.duplicate-key",
                    quoted_if_name(path, "a key") + " is given twice; record each finding once");
  }
  // A finding of the vocabulary given a second time, in the same table or
  // another one (`{"phq9": {"total": 3}, "phq9.total": 20}`).
  // (In TOML too: `"phq9.total" = 3` and `[phq9] total = 20`.)
  bool given_before(std::size_t fi, node v, const std::string& path) {
    if (given_.empty()) given_.assign(p_.vocab->findings().size(), false);
    if (!given_[fi]) {
      given_[fi] = true;
      return false;
    }
    duplicate(v, path);
    return true;
  }
  // identifying_key() of a vocabulary finding's own name (the last part of
  // its path, however the document spells the key), worked out once per
  // thread and vocabulary: most keys of a document are findings.
  bool identifying_finding(std::size_t fi) {
    thread_local std::uint64_t vocab = 0;
    thread_local std::vector<std::int8_t> known;
    const auto& all = p_.vocab->findings();
    if (vocab != p_.vocab->serial() || known.size() != all.size()) {
      vocab = p_.vocab->serial();
      known.assign(all.size(), -1);
    }
    if (known[fi] < 0) {
      const std::string& path = all[fi].path;
      auto dot = path.rfind('.');
      known[fi] = identifying_key(dot == std::string::npos ? path : std::string_view(path).substr(dot + 1)) ? 1 : 0;
    }
    return known[fi] == 1;
  }

  // The first date anywhere inside a value, if any.
  static std::optional<node> find_date(node v) {
    if (D::is_date(v)) return v;
    std::optional<node> found;
    if (D::is_array(v)) {
      D::elements(v, [&](std::size_t, node x) {
        if (!found) found = find_date(x);
      });
    } else if (D::is_table(v)) {
      D::members(v, [&](std::string_view, node x) {
        if (!found) found = find_date(x);
      });
    }
    return found;
  }

  static bool identifying_key(std::string_view raw) {
    // A quoted key with dots ("client.name" = ..., or the flat JSON form
    // {"x.dob": ...}) is a path: each of its parts is checked.
    if (raw.find('.') != std::string_view::npos) {
      for (std::size_t at = 0;;) {
        std::size_t dot = raw.find('.', at);
        if (identifying_part(raw.substr(at, dot == std::string_view::npos ? raw.npos : dot - at))) return true;
        if (dot == std::string_view::npos) return false;
        at = dot + 1;
      }
    }
    return identifying_part(raw);
  }

  static bool identifying_part(std::string_view raw) {
    // Called for every key of every client: no allocation for a short key.
    char buf[64];
    if (raw.size() >= sizeof buf) {
      std::string key(raw);
      for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return identifying_lower(key);
    }
    for (std::size_t i = 0; i < raw.size(); ++i) {
      char c = raw[i];
      buf[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
    return identifying_lower(std::string_view(buf, raw.size()));
  }

  static bool identifying_lower(std::string_view key) {
    auto ends_with = [&](std::string_view suffix) {
      return key.size() > suffix.size() && key.substr(key.size() - suffix.size()) == suffix;
    };
    return kIdentifying.count(key) > 0 || ends_with("_name") || ends_with("_address") ||
           ends_with("_dob") || ends_with("_phone") || ends_with("_email");
  }

  // `fi`: the key is vocabulary finding fi (its name is checked once).
  bool identifying(std::string_view key, node v, const std::string& path, int fi = -1) {
    if (fi >= 0 ? identifying_finding(static_cast<std::size_t>(fi)) : identifying_key(key)) {
      private_problem(v, "findings.identifying",
              quoted_if_name(path, "this key") + " would hold identifying data; findings carry no names, birth dates "
              "or addresses",
              {"use a pseudonymous client id, an age band, and role words such as 'mother'"});
      return true;
    }
    if (D::is_date(v)) {
      private_problem(v, "findings.identifying",
              quoted_if_name(path, "this key") + " holds a date; dates can identify a client, record an age band or "
              "a count of months instead");
      return true;
    }
    return false;
  }

  // A scalar value against its declaration; `what` names it in messages.
  std::optional<value> scalar(const finding_decl& d, node v, const std::string& what) {
    auto bad = [&](const std::string& extra = "") {
      problem(v, severity::error, "findings.type",
              "'" + what + "' must be " + d.expectation() + extra);
      // A text where something else belongs may be a name: its line is not
      // quoted.
      if (D::is_string(v)) {
        last().source_line.clear();
        // A number or a yes/no written in quotes is text: say so, without
        // repeating it.
        std::string_view s = D::string(v);
        bool numeric = !s.empty() && s.size() < 32 &&
                       s.find_first_not_of("0123456789.-+") == std::string_view::npos &&
                       s.find_first_of("0123456789") != std::string_view::npos;
        if ((d.type == finding_type::integer || d.type == finding_type::number) && numeric) {
          last().notes.push_back("it is written in quotes, so it reads as text: write the number without quotes");
        } else if (d.type == finding_type::boolean && (s == "true" || s == "false")) {
          last().notes.push_back("it is written in quotes, so it reads as text: write true or false without quotes");
        }
      }
      return std::nullopt;
    };
    switch (d.type) {
      case finding_type::integer: {
        if (!D::is_integer(v)) return bad();
        auto x = static_cast<double>(D::integer(v));
        if ((d.min && x < *d.min) || (d.max && x > *d.max)) {
          problem(v, severity::error, "findings.range",
                  "'" + what + "' is outside its range: expected " + d.expectation());
          return std::nullopt;
        }
        return value::number(x);
      }
      case finding_type::number: {
        if (!D::is_number(v)) return bad();
        double x = D::number(v);
        if (!std::isfinite(x) || (d.min && x < *d.min) || (d.max && x > *d.max)) {
          problem(v, severity::error, "findings.range",
                  "'" + what + "' is outside its range: expected " + d.expectation());
          return std::nullopt;
        }
        return value::number(x);
      }
      case finding_type::boolean:
        if (!D::is_boolean(v)) return bad();
        return value::boolean(D::boolean(v));
      case finding_type::string: {
        if (!D::is_string(v)) return bad();
        std::string_view s = D::string(v);
        // The value itself is never repeated in these messages: it may be
        // exactly the identifying text that must not be stored or logged.
        if (std::any_of(s.begin(), s.end(), [](char c) {
              return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
            })) {
          private_problem(v, "findings.value",
                  "'" + what + "' contains a line break or another control character");
          return std::nullopt;
        }
        // A text finding is short by design (a role word, an id): a long one
        // is refused before any pattern is tried.
        if (s.size() > kMaxTextFinding) {
          private_problem(v, "findings.value",
                          "'" + what + "' is " + std::to_string(s.size()) + " bytes long; a text finding holds at most " +
                              std::to_string(kMaxTextFinding));
          return std::nullopt;
        }
        if (d.pattern_re && !RE2::FullMatch(s, *d.pattern_re)) {
          std::string msg = "'" + what + "' does not have the form the vocabulary asks for" +
                            (d.pattern_words.empty() ? " (pattern " + d.pattern + ")" : ": " + d.pattern_words);
          std::string note = d.question.empty() ? "see the vocabulary" : d.question;
          // A field naming an entry of another list (a death's person): once
          // that list is on file, the reference check says more (the label
          // it most likely means); only without it is the form reported.
          // Either way the file fails.
          if (!d.refers_to.empty()) {
            unmatched_references_.push_back({v, std::move(msg), std::move(note), d.refers_to});
            return value::symbol(intern(s));
          }
          private_problem(v, "findings.value", msg, {note});
          return std::nullopt;
        }
        return value::symbol(intern(s));
      }
      case finding_type::enumeration: {
        if (!D::is_string(v)) return bad();
        std::string_view s = D::string(v);
        if (!d.has_value(s)) {
          // The value is never quoted back, nor its line: a choice typed
          // wrongly may be a name. The suggestion is one of the choices.
          const std::string* synonym = d.synonym_of(s);
          std::string near = synonym ? *synonym : nearest_name(std::string(s), d.values);
          if (near.empty()) near = choice_by_meaning(s, d);
          if (!near.empty() && !synonym && !fair_suggestion(s, near)) near.clear();
          if (near.empty()) near = choice_by_number(s, d);
          std::string wording;
          if (const std::string* label = near.empty() ? nullptr : d.label_of(near)) wording = " (" + *label + ")";
          private_problem(v, "findings.value",
                          "'" + what + "' is not one of its choices: expected " + d.expectation(),
                          near.empty() ? std::vector<std::string>{}
                                       : std::vector<std::string>{"did you mean \"" + near + "\"" + wording + "?"});
          return std::nullopt;
        }
        return value::symbol(intern(s));
      }
      default: return bad();
    }
  }

  void list(const finding_decl& d, node v, std::size_t slot) {
    if (!D::is_array(v)) {
      problem(v, severity::error, "findings.type", "'" + d.path + "' must be " + d.expectation());
      return;
    }
    if (too_many(d, v)) return;
    finding_decl elem = d;
    elem.type = d.element;
    std::vector<value> vals;
    bool ok = true;
    D::elements(v, [&](std::size_t i, node x) {
      auto sv = scalar(elem, x, d.path + "[" + std::to_string(i + 1) + "]");
      if (sv) vals.push_back(*sv); else ok = false;
    });
    if (!ok) return;
    value lv;
    lv.kind = vkind::list;
    lv.ref = static_cast<std::uint32_t>(c_.lists.size());
    c_.lists.push_back(std::move(vals));
    c_.slots[slot] = lv;
  }

  // A list longer than any inventory holds is refused: it is a mistake or
  // an attack, and each entry costs its share of explanation.
  bool too_many(const finding_decl& d, node arr) {
    std::size_t n = D::size(arr);
    if (n <= kMaxElements) return false;
    problem(arr, severity::error, "findings.size",
            "'" + d.path + "' has " + std::to_string(n) + " entries; iptplan reads at most " +
                std::to_string(kMaxElements));
    last().source_line.clear();
    return true;
  }

  void table_list(const finding_decl& d, node v, std::size_t slot) {
    bool tables = D::is_array(v);
    if (tables) {
      D::elements(v, [&](std::size_t, node x) { tables = tables && D::is_table(x); });
    }
    if (!tables) {
      problem(v, severity::error, "findings.type", "'" + d.path + "' must be " + d.expectation());
      return;
    }
    if (too_many(d, v)) return;
    std::vector<client_data::element> elems;
    // An entry's key -> its place (1-based) and whether it was written.
    std::map<std::string, std::pair<std::size_t, bool>> keys;
    bool ok = true;
    D::elements(v, [&](std::size_t i, node t) {
      client_data::element e;
      e.fields.assign(d.fields.size(), value::unknown());
      e.key = std::to_string(i + 1);
      std::string label = d.path + "[" + std::to_string(i + 1) + "]";
      bool keyed = false;
      key_set seen;
      D::members(t, [&](std::string_view k, node fv) {
        std::string key(k);
        if (repeated(seen, k, fv, label + "." + key)) {
          ok = false;
          return;
        }
        // A null is "not recorded" only for a field the vocabulary has: an
        // unknown or identifying key is refused whatever its value.
        if (identifying(key, fv, label + "." + key)) { ok = false; return; }
        int fi = d.field_index(key);
        if (fi >= 0 && D::is_null(fv)) return;  // not recorded
        if (fi < 0) {
          unknown(fv, label + "." + key, key, [&] {
            std::vector<std::string> names;
            for (const auto& f : d.fields) names.push_back(f.path);
            return names;
          }());
          return;
        }
        auto x = scalar(d.fields[static_cast<std::size_t>(fi)], fv, label + "." + key);
        if (!x) { ok = false; return; }
        e.fields[static_cast<std::size_t>(fi)] = *x;
        if (key == d.key && D::is_string(fv)) {
          e.key = std::string(D::string(fv));
          keyed = true;
        }
      });
      if (!d.key.empty()) {
        auto key_node = D::member(t, d.key);
        if (!key_node) {
          problem(t, severity::warning, "findings.key",
                  label + " has no '" + d.key + "'; its items are keyed by position (" + e.key + ")");
        }
        // Every entry's key names its items (role_dispute[partner]), so no
        // two may share one, whether written or taken from the place.
        // Named by place, not by the value, which may be more than a role
        // word.
        if (auto [at, fresh] = keys.emplace(e.key, std::pair{i + 1, keyed}); !fresh) {
          auto [first, first_keyed] = at->second;
          std::string msg;
          if (keyed && first_keyed) {
            msg = "entries " + std::to_string(first) + " and " + std::to_string(i + 1) + " of '" + d.path +
                  "' have the same " + d.key + "; give each a distinct one (add a word that tells them apart, "
                  "such as sister_older and sister_younger, or _2)";
          } else {
            std::size_t by_place = keyed ? first : i + 1, other = keyed ? i + 1 : first;
            msg = "entry " + std::to_string(by_place) + " of '" + d.path + "' has no " + d.key +
                  " and is keyed by its place, which entry " + std::to_string(other) + " has as its " + d.key +
                  "; give entry " + std::to_string(by_place) + " its own " + d.key;
          }
          problem(key_node ? *key_node : t, severity::error, "findings.duplicate-key", msg);
          ok = false;
        }
      }
      elems.push_back(std::move(e));
    });
    if (!ok) return;
    value tv;
    tv.kind = vkind::table;
    tv.ref = static_cast<std::uint32_t>(c_.tables.size());
    c_.tables.push_back(std::move(elems));
    c_.slots[slot] = tv;
  }

  // `key_line`, `key_column`: where the key is written, when the document
  // knows (TOML); the message is about the key, not its value.
  void unknown(node v, const std::string& path, const std::string&,
               const std::vector<std::string>& candidates, int key_line = 0, int key_column = 0) {
    // Unknown keys are ignored, but a date inside one is still refused.
    if (auto date = find_date(v)) {
      private_problem(*date, "findings.identifying",
              quoted_if_name(path, "this key") + " holds a date; dates can identify a client, record an age band or "
              "a count of months instead");
      return;
    }
    // Past the first few hundred unknown keys, no suggestions: a file of
    // 100,000 of them is reported in a moment, not a minute.
    std::string near = ++unknown_seen_ > kMaxSuggested ? std::string() : nearest_name(path, candidates);
    if (near.empty() && unknown_seen_ <= kMaxSuggested) {
      // Suggest by last component too.
      auto dot = path.rfind('.');
      std::string last = dot == std::string::npos ? path : path.substr(dot + 1);
      near = nearest_name(last, candidates);
    }
    // The line is not quoted: an unknown key's value may be anything,
    // a name included.
    std::string named = quoted_if_name(path, "a key (not shown: it does not look like a finding's name)");
    std::vector<std::string> notes = !near.empty() ? std::vector<std::string>{"did you mean '" + near + "'?"}
                                     : opt_.allow_unknown || !opt_.suggest_allow_unknown
                                         ? std::vector<std::string>{}
                                         : std::vector<std::string>{"--allow-unknown reads the file without it"};
    // `life_events = []` written under [phq9] reads as phq9.life_events: a
    // key belongs to the heading above it.
    if (auto dot = path.rfind('.'); !near.empty() && near.find('.') == std::string::npos &&
                                    dot != std::string::npos && path.substr(dot + 1) == near) {
      notes.push_back("a key written under a [heading] belongs to that heading: write '" + near +
                      "' above the first heading");
    }
    problem(v, opt_.allow_unknown ? severity::warning : severity::error, "findings.unknown",
            named + " is not in the vocabulary" + (opt_.allow_unknown ? " and is ignored" : ""), notes);
    if (key_line <= 0) {
      location at = D::key_place(v);
      key_line = at.line;
      key_column = at.column;
    }
    if (key_line > 0) {
      last().line = key_line;
      last().column = key_column;
    }
    last().source_line.clear();
  }

  void walk(const std::string& prefix, node t, int depth = 0) {
    // Findings are a few levels deep; a dotted key of thousands of parts
    // would otherwise recurse as deep as it is long.
    if (depth > kMaxKeyDepth) {
      private_problem(t, "findings.nesting",
                      "'" + prefix.substr(0, 60) + (prefix.size() > 60 ? "..." : "") +
                          "' is nested more than " + std::to_string(kMaxKeyDepth) +
                          " levels deep; no finding is");
      return;
    }
    key_set seen;
    bool any = false;
    D::members_at(t, [&](std::string_view key, node v, int key_line, int key_column) {
      any = true;
      std::string path;
      path.reserve(prefix.size() + 1 + key.size());
      if (!prefix.empty()) {
        path += prefix;
        path += '.';
      }
      path += key;
      int fi = p_.vocab->index_of(path);
      if (fi >= 0 ? given_before(static_cast<std::size_t>(fi), v, path) : repeated(seen, key, v, path)) return;
      // A null is "not recorded" only for a finding, or a group of them,
      // the vocabulary has: an unknown or identifying key is refused
      // whatever its value (a null key kept in the findings would be
      // stored with them).
      if (identifying(key, v, path, fi)) return;
      if (D::is_null(v) && (fi >= 0 || is_group(path))) return;  // not recorded
      if (fi >= 0) {
        const auto& d = p_.vocab->findings()[static_cast<std::size_t>(fi)];
        auto slot = static_cast<std::size_t>(fi);
        c_.lines[slot] = D::line(v);
        nodes_[slot] = v;
        if (d.type == finding_type::list) list(d, v, slot);
        else if (d.type == finding_type::table_list) table_list(d, v, slot);
        else if (auto x = scalar(d, v, path)) c_.slots[slot] = *x;
        return;
      }
      if (D::is_table(v)) {
        walk(path, v, depth + 1);
        return;
      }
      // `phq9 = 14` where the vocabulary has phq9.total, phq9.item9, ...
      std::vector<std::string> inside;
      for (const auto& f : p_.vocab->findings()) {
        if (f.path.rfind(path + ".", 0) == 0) inside.push_back(f.path.substr(path.size() + 1));
      }
      if (!inside.empty()) {
        std::string some;
        for (std::size_t i = 0; i < inside.size() && i < 4; ++i) some += (i ? ", " : "") + inside[i];
        problem(v, severity::error, "findings.type",
                "'" + path + "' is a group of findings, not a value: write [" + path + "] and under it " +
                    some + (inside.size() > 4 ? ", ..." : ""));
        return;
      }
      unknown(v, path, std::string(key), p_.vocab->paths(), key_line, key_column);
    });
    // An empty table under a name no finding has (`[phq-9]` with nothing
    // under it yet) is a mistake all the same, not silence.
    if (!any && !prefix.empty() && !is_group(prefix)) {
      unknown(t, prefix, prefix, std::vector<std::string>(groups_.begin(), groups_.end()));
    }
  }

  // Whether some finding's path starts with `prefix` and a dot.
  bool is_group(const std::string& prefix) {
    if (groups_.empty()) {
      for (const auto& f : p_.vocab->findings()) {
        for (auto dot = f.path.find('.'); dot != std::string::npos; dot = f.path.find('.', dot + 1)) {
          groups_.insert(f.path.substr(0, dot));
        }
      }
    }
    return groups_.count(prefix) > 0;
  }

 private:
  std::vector<bool> given_;  // by vocabulary finding: given in this document
  std::size_t unknown_seen_ = 0;
  std::set<std::string> groups_;  // prefixes of findings' paths, once needed
  const program& p_;
  const source_file& src_;
  const findings_options& opt_;
  std::vector<diagnostic>& diags_;
  client_data& c_;
  std::vector<std::optional<node>> nodes_;  // by vocabulary finding: its value
  // Values of `refers_to` fields without the form their pattern asks for,
  // reported after the walk (check_references).
  struct unmatched_reference {
    node at;
    std::string message, note, list;
  };
  std::vector<unmatched_reference> unmatched_references_;
  // The first kKept problems of a file are kept; the rest are counted.
  static constexpr std::size_t kKept = 1000;
  std::size_t start_;
  std::size_t untold_errors_ = 0;
  std::size_t untold_warnings_ = 0;
  diagnostic scratch_;  // the last problem, when it was not kept
  bool scratch_last_ = false;
  diagnostic& last() { return scratch_last_ ? scratch_ : diags_.back(); }
};

// Findings that contradict each other: an answer recorded although the
// skip logic never asks it (Q3 with Q2 = no), or a part scored above its
// whole (PHQ-9 item 9 above the total). Values are yes/no, enum choices and
// scores, never free text, so they may be named.
void check_consistency(const program& p, const client_data& c, const std::string& name,
                       const std::function<int(std::size_t)>& line_of, std::vector<diagnostic>& diags) {
  const auto& all = p.vocab->findings();
  auto text_of = [&](const value& v) { return show_value(p, c, v); };
  auto at = [&](std::size_t i, std::string code, std::string msg) {
    diagnostic d;
    d.level = severity::error;
    d.code = std::move(code);
    d.file = name;
    d.line = line_of(i);
    d.column = 1;
    d.message = std::move(msg);
    return d;
  };
  for (std::size_t i = 0; i < all.size(); ++i) {
    const finding_decl& d = all[i];
    if (c.slots[i].is_unknown()) continue;
    if (!d.asked_if.empty()) {
      int g = p.vocab->index_of(d.asked_if);
      if (g >= 0 && !c.slots[static_cast<std::size_t>(g)].is_unknown()) {
        std::string gate = text_of(c.slots[static_cast<std::size_t>(g)]);
        bool holds_anyway = !d.skipped_value.empty() && text_of(c.slots[i]) == d.skipped_value;
        if (!holds_anyway &&
            std::find(d.asked_if_values.begin(), d.asked_if_values.end(), gate) == d.asked_if_values.end()) {
          std::string when;
          for (std::size_t k = 0; k < d.asked_if_values.size(); ++k) {
            when += (k ? (k + 1 == d.asked_if_values.size() ? " or " : ", ") : "") + d.asked_if_values[k];
          }
          auto diag = at(i, "findings.skip-logic",
                         "'" + d.path + "' is recorded, but it is asked only when '" + d.asked_if +
                             "' is " + when + ", and the answer to '" + d.asked_if + "' (line " +
                             std::to_string(line_of(static_cast<std::size_t>(g))) + ") is " + gate);
          const value& v = c.slots[i];
          if (d.component == "risk" &&
              (v.is_true() || (v.kind == vkind::list && !c.lists[v.ref].empty()))) {
            // A positive answer to a risk question (a yes; someone named
            // as causing harm) is never to be dropped to get a plan:
            // whichever answer is wrong, it may be the true one.
            diag.notes.push_back("'" + d.path + "' is a positive answer to a risk question: do not leave it out to "
                                 "get a plan. Ask both questions again with the client before they leave and record "
                                 "what they say; until then, act on it (the assessment and safety steps it calls "
                                 "for)");
          } else {
            diag.notes.push_back("one of the two answers is wrong: correct it, or leave '" + d.path +
                                 "' out if it was not asked");
          }
          diags.push_back(std::move(diag));
        }
      }
    }
    if (d.not_empty && c.slots[i].kind == vkind::list && c.lists[c.slots[i].ref].empty()) {
      int g = p.vocab->index_of(d.asked_if);
      const value* gate = g >= 0 ? &c.slots[static_cast<std::size_t>(g)] : nullptr;
      if (gate && !gate->is_unknown() &&
          std::find(d.asked_if_values.begin(), d.asked_if_values.end(), text_of(*gate)) != d.asked_if_values.end()) {
        auto diag = at(i, "findings.contradiction",
                       "'" + d.path + "' is recorded empty, but the answer to '" + d.asked_if + "' (line " +
                           std::to_string(line_of(static_cast<std::size_t>(g))) + ") is " + text_of(*gate) +
                           ", which this question follows up");
        diag.notes.push_back("record at least one answer, or leave '" + d.path + "' out while it is not yet asked");
        diags.push_back(std::move(diag));
      }
    }
    if (!d.at_most.empty()) {
      int w = p.vocab->index_of(d.at_most);
      if (w >= 0 && c.slots[i].kind == vkind::number &&
          c.slots[static_cast<std::size_t>(w)].kind == vkind::number &&
          c.slots[i].n > c.slots[static_cast<std::size_t>(w)].n) {
        std::string bound = "'" + d.path + "' is more than '" + d.at_most + "' (line " +
                            std::to_string(line_of(static_cast<std::size_t>(w))) + ")";
        if (d.at_most_unless.empty()) {
          auto diag = at(i, "findings.contradiction", bound + ", which includes it");
          diag.notes.push_back("check both scores against the questionnaire");
          diags.push_back(std::move(diag));
          continue;
        }
        // Allowed only while the exception holds (maintenance sessions
        // numbered past the contracted course); a missing exception is
        // not taken to hold.
        int u = p.vocab->index_of(d.at_most_unless);
        const value* gate = u >= 0 ? &c.slots[static_cast<std::size_t>(u)] : nullptr;
        std::string when;
        for (std::size_t k = 0; k < d.at_most_unless_values.size(); ++k) {
          when += (k ? (k + 1 == d.at_most_unless_values.size() ? " or " : ", ") : "") + d.at_most_unless_values[k];
        }
        if (gate && !gate->is_unknown() &&
            std::find(d.at_most_unless_values.begin(), d.at_most_unless_values.end(), text_of(*gate)) !=
                d.at_most_unless_values.end()) {
          continue;
        }
        std::string state = gate && !gate->is_unknown()
                                ? "'" + d.at_most_unless + "' (line " +
                                      std::to_string(line_of(static_cast<std::size_t>(u))) + ") is " + text_of(*gate)
                                : "'" + d.at_most_unless + "' is not recorded";
        auto diag = at(i, "findings.contradiction",
                       bound + ", which is possible only when '" + d.at_most_unless + "' is " + when + "; " + state);
        diag.notes.push_back("one of them is wrong or out of date: correct it, or record '" + d.at_most_unless +
                             "' as " + when + " if that is where things stand");
        diags.push_back(std::move(diag));
      }
    }
  }
}

// A question its gate leaves out, with a `skipped_value`, holds that value:
// every rule reads it and the plan never asks it (perinatal status is
// "none" for a client over 64). One pass in the vocabulary's order: a gate
// that is itself implied is settled first when it is declared first.
void imply_skipped(const program& p, client_data& c) {
  const auto& all = p.vocab->findings();
  for (std::size_t i = 0; i < all.size(); ++i) {
    const finding_decl& d = all[i];
    if (d.skipped_value.empty() || !c.slots[i].is_unknown() || gate_of(p, c, i) != gate_state::closed) continue;
    std::int32_t s = p.symbols.find(d.skipped_value);
    if (s < 0) {
      c.extra_symbols.push_back(d.skipped_value);
      s = c.extra_base + static_cast<std::int32_t>(c.extra_symbols.size() - 1);
    }
    c.slots[i] = value::symbol(s);
    if (c.implied.empty()) c.implied.assign(all.size(), 0);
    c.implied[i] = client_data::implied_skip;
  }
}

// A yes/no gate left out whose follow-up is answered: the follow-up is
// asked only after a yes, so the record says yes (who harms the client
// named, the harm question not recorded; Q4 answered, Q2 not). The gate is
// read as yes, marked implied (implied_gate), with a warning at the follow-up's line
// asking for the gate to be recorded. An empty list says no one, so it
// implies nothing. Each gate is set at most once: linear in the vocabulary.
void imply_gates(const program& p, client_data& c, const std::string& name,
                 const std::function<int(std::size_t)>& line_of, std::vector<diagnostic>& diags) {
  const auto& all = p.vocab->findings();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (c.slots[i].is_unknown() || c.is_implied(i)) continue;
    std::size_t j = i;
    while (true) {
      const finding_decl& d = all[j];
      if (d.asked_if.empty() || d.asked_if_values != std::vector<std::string>{"true"}) break;
      if (c.slots[j].kind == vkind::list && c.lists[c.slots[j].ref].empty()) break;
      int g = p.vocab->index_of(d.asked_if);
      if (g < 0 || all[static_cast<std::size_t>(g)].type != finding_type::boolean ||
          !c.slots[static_cast<std::size_t>(g)].is_unknown()) {
        break;
      }
      auto gate = static_cast<std::size_t>(g);
      c.slots[gate] = value::boolean(true);
      if (c.implied.empty()) c.implied.assign(all.size(), 0);
      c.implied[gate] = client_data::implied_gate;
      diagnostic w;
      w.level = severity::warning;
      w.code = "findings.implied-gate";
      w.file = name;
      w.line = line_of(i);
      w.column = 1;
      w.message = "'" + d.asked_if + "' is not recorded, but '" + d.path +
                  "' is, which is asked only after a yes to it: the plan reads '" + d.asked_if + "' as yes";
      w.notes.push_back("record '" + d.asked_if + " = true', or correct '" + d.path + "' if it was not asked");
      diags.push_back(std::move(w));
      j = gate;
    }
  }
}

// Reads a parsed findings document against the vocabulary.
template <typename D>
std::optional<client_data> read_doc(const program& p, const source_file& src, typename D::node root,
                                    const findings_options& options, std::vector<diagnostic>& diags) {
  std::size_t before = diags.size();
  client_data c;
  c.file = src.name();
  c.slots.assign(p.vocab->findings().size(), value::unknown());
  c.lines.assign(p.vocab->findings().size(), 0);
  c.extra_base = static_cast<std::int32_t>(p.symbols.size());
  reader<D> r(p, src, options, diags, c);
  r.walk("", root);
  r.check_references();
  r.finish();
  if (r.untold_errors()) return std::nullopt;
  check_consistency(p, c, src.name(), [&](std::size_t i) { return r.line_of(i); }, diags);
  for (std::size_t i = before; i < diags.size(); ++i) {
    if (diags[i].level == severity::error) return std::nullopt;
  }
  imply_skipped(p, c);
  imply_gates(p, c, src.name(), [&](std::size_t i) { return r.line_of(i); }, diags);
  return c;
}

}  // namespace

std::optional<client_data> read_findings(const program& p, const std::string& name,
                                         const std::string& text,
                                         const findings_options& options,
                                         std::vector<diagnostic>& diags) {
  // A UTF-8 byte-order mark (as some Windows editors save) is not content.
  if (text.rfind(kByteOrderMark, 0) == 0) {
    return read_findings(p, name, text.substr(kByteOrderMark.size()), options, diags);
  }
  std::size_t before = diags.size();
  // No diagnostic about a findings file quotes its lines: they hold the
  // client's answers. The file, line and column say where.
  struct unquoted {
    std::vector<diagnostic>& ds;
    std::size_t from;
    ~unquoted() {
      for (std::size_t i = from; i < ds.size(); ++i) ds[i].source_line.clear();
    }
  } guard{diags, before};
  source_file src(name, text);
  if (std::size_t bad = find_invalid_utf8(text); bad != std::string::npos) {
    diags.push_back(make_diagnostic(src, static_cast<std::uint32_t>(bad), severity::error,
                                    "findings.encoding",
                                    "this file is not valid UTF-8 text; save it as UTF-8"));
    return std::nullopt;
  }
  auto table = parse_toml(name, text, "findings.syntax", diags, false);
  if (!table) return std::nullopt;
  // A rule set's test case given where findings belong: one clear error
  // instead of one "not in the vocabulary" per key of the case. (No
  // vocabulary declares 'findings', 'expect' or 'absent' as a group.)
  if (table->contains("findings") && (table->contains("expect") || table->contains("absent")) &&
      !p.vocab->find("findings") && !p.vocab->find("expect") && !p.vocab->find("absent")) {
    diagnostic d;
    d.code = "findings.test-case";
    d.file = name;
    d.line = 1;
    d.column = 1;
    d.message = "this is a test case of a rule set (it has findings and [expect] or [absent]), not a findings "
                "file";
    d.notes.push_back("run it with 'iptplan test " + name + "', or plan its findings from a file of their own");
    diags.push_back(std::move(d));
    return std::nullopt;
  }
  return read_doc<docs::toml_doc>(p, src, &*table, options, diags);
}

namespace {

// The offset of the first '{' or '[' at nesting `depth` (1 for the outer
// object), strings skipped; the end when there is none.
// Whether text[i] is part of a JSON string (its quotes included): steps
// over an escaped character and keeps `in_string` up to date.
bool skip_string(std::string_view text, std::size_t& i, bool& in_string) {
  char c = text[i];
  if (in_string) {
    if (c == '\\') ++i;
    else if (c == '"') in_string = false;
    return true;
  }
  if (c == '"') in_string = true;
  return in_string;
}

std::size_t json_too_deep_at(std::string_view text, int depth) {
  int level = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (skip_string(text, i, in_string)) continue;
    char c = text[i];
    if (c == '{' || c == '[') {
      if (++level >= depth) return i;
    } else if (c == '}' || c == ']') {
      --level;
    }
  }
  return text.size();
}

struct json_error_place {
  std::size_t offset = 0;
  std::string what;  // "unexpected '}'; expected string literal", never a value
};

// The offset of the first number outside a string that simdjson cannot
// hold (an integer beyond 64 bits, a value beyond a double's range), or the
// text's end. One pass, no recursion.
std::size_t json_bad_number_at(const std::string& text) {
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (skip_string(text, i, in_string)) continue;
    char c = text[i];
    if (c != '-' && (c < '0' || c > '9')) continue;
    std::size_t b = i, digits = 0;
    bool integer = true;
    if (text[i] == '-') ++i;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.' || text[i] == 'e' ||
                               text[i] == 'E' || text[i] == '+' || text[i] == '-')) {
      if (text[i] >= '0' && text[i] <= '9') ++digits;
      else integer = false;
      ++i;
    }
    std::string token = text.substr(b, i - b);
    errno = 0;
    double v = std::strtod(token.c_str(), nullptr);
    if ((integer && digits > 19) || errno == ERANGE || std::isinf(v)) return b;
    --i;
  }
  return text.size();
}

// Where nlohmann's parser stops on text simdjson refused, and its account
// of what it expected there, without the text it last read (a value,
// perhaps a name).
json_error_place json_syntax_error(const std::string& text) {
  struct stop_at_error : nlohmann::json_sax<nlohmann::json> {
    json_error_place place;
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
      place.offset = position > 0 ? position - 1 : 0;
      std::string what = ex.what();
      // "[json.exception.parse_error.101] parse error at line 1, column 9:
      // syntax error while parsing object - unexpected '}'; expected ..."
      if (auto dash = what.find(" - "); dash != std::string::npos) what = what.substr(dash + 3);
      else if (auto colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
      if (auto last = what.find("; last read"); last != std::string::npos) what.erase(last);
      place.what = what;
      return false;
    }
  } sax;
  nlohmann::json::sax_parse(text, &sax, nlohmann::json::input_format_t::json, true);
  if (sax.place.what.empty()) sax.place.offset = text.size();
  return sax.place;
}

}  // namespace

bool findings_are_json(const std::string& name, const std::string& text) {
  auto first = text.find_first_not_of(" \t\r\n", text.rfind(kByteOrderMark, 0) == 0 ? kByteOrderMark.size() : 0);
  return (first != std::string::npos && text[first] == '{') ||
         (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0);
}

std::optional<client_data> read_findings_json(const program& p, const std::string& name,
                                              const std::string& text,
                                              const findings_options& options,
                                              std::vector<diagnostic>& diags) {
  auto fail = [&](const std::string& code, const std::string& msg) {
    diagnostic d;
    d.code = code;
    d.file = name;
    d.message = msg;
    diags.push_back(std::move(d));
    return std::nullopt;
  };
  if (text.rfind(kByteOrderMark, 0) == 0) {
    return read_findings_json(p, name, text.substr(kByteOrderMark.size()), options, diags);
  }
  if (text.size() > kMaxInputBytes) return fail("findings.limit", "the findings are larger than iptplan reads");
  // One parser per thread, its buffers reused from document to document;
  // nesting deeper than any findings document is a parse error.
  thread_local simdjson::dom::parser parser(kMaxInputBytes);
  thread_local bool sized = false;
  if (!sized) {
    if (parser.allocate(4096, kMaxKeyDepth + 2) != simdjson::SUCCESS) {
      return fail("findings.limit", "no memory to read the findings");
    }
    sized = true;
  }
  simdjson::dom::element root;
  // simdjson checks UTF-8 too; its messages are not used (they may quote).
  auto error = parser.parse(text.data(), text.size(), true).get(root);
  // No memory for the parse is no fault of the text: said as the out of
  // memory it is, by whoever reads the findings (a command, batch, the API).
  if (error == simdjson::MEMALLOC) throw std::bad_alloc();
  if (error) {
    // On the way out only: where the text stops being JSON, by line and
    // column, and what was expected there.
    source_file src(name, text);
    auto at = [&](std::size_t offset, const std::string& code, const std::string& msg) {
      diags.push_back(make_diagnostic(src, static_cast<std::uint32_t>(offset), severity::error, code, msg));
      diags.back().source_line.clear();  // the line may hold a value
      return std::nullopt;
    };
    if (error == simdjson::DEPTH_ERROR) {
      return at(json_too_deep_at(text, kMaxKeyDepth + 2), "findings.nesting",
                "the findings are nested deeper than " + std::to_string(kMaxKeyDepth) + " levels; no finding is");
    }
    if (error == simdjson::UTF8_ERROR) {
      std::size_t bad = find_invalid_utf8(text);
      return at(bad == std::string::npos ? 0 : bad, "findings.encoding", "this JSON is not valid UTF-8 text");
    }
    auto where = json_syntax_error(text);
    if (error == simdjson::NUMBER_OUT_OF_RANGE || error == simdjson::NUMBER_ERROR) {
      std::size_t number = json_bad_number_at(text);
      return at(number < text.size() ? number : where.offset, "findings.syntax",
                "a number that cannot be read (too large for any finding, or malformed)");
    }
    return at(where.offset, "findings.syntax",
              "this is not valid JSON" + (where.what.empty() ? std::string() : ": " + where.what));
  }
  if (root.type() != simdjson::dom::element_type::OBJECT) {
    // Where the value starts, and what it is (never the value itself).
    std::size_t start = text.find_first_not_of(" \t\r\n");
    if (start == std::string::npos) start = 0;
    const auto t = root.type();
    const char* what = t == simdjson::dom::element_type::ARRAY    ? "an array"
                       : t == simdjson::dom::element_type::STRING ? "a string"
                       : t == simdjson::dom::element_type::BOOL   ? "true or false"
                       : t == simdjson::dom::element_type::NULL_VALUE ? "null"
                                                                      : "a number";
    source_file src(name, text);
    diags.push_back(make_diagnostic(src, static_cast<std::uint32_t>(start), severity::error, "findings.syntax",
                                    std::string("the findings must be one JSON object ({ ... }), but this is ") +
                                        what));
    diags.back().source_line.clear();  // the line may hold a value
    return std::nullopt;
  }
  docs::json_places places(text);
  return read_doc<docs::json_doc>(p, source_file(name, ""), docs::json_doc::node{root, &places, docs::json_places::root},
                                  options, diags);
}

}  // namespace iptplan

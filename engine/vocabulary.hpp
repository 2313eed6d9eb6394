// The vocabulary: every finding a rule may read and a findings file may hold,
// with its type, range or values, IPI component and the question that asks
// for it. Read from `vocabulary.toml`, where a finding is any table with a
// string `type` key and other tables are namespaces:
//
//   [alliance.strength]
//   type = "enum"
//   values = ["weak", "moderate", "strong"]
//   component = "alliance"
//   question = "How strong is the working alliance?"
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <string_view>
#include <algorithm>
#include <optional>
#include <memory>
#include <cctype>
#include <string>
#include <vector>

#include "grammar/diagnostic.hpp"

namespace re2 {
class RE2;
}

namespace iptplan {

enum class finding_type { integer, number, boolean, string, enumeration, list, table_list };

const char* to_string(finding_type t);

struct finding_decl {
  std::string path;  // dotted, e.g. "alliance.strength"; a field's own name
  finding_type type = finding_type::string;
  std::optional<double> min, max;
  std::vector<std::string> values;  // enum values, or a list's enum values
  // The same as a set, filled when the vocabulary is read: a rule testing
  // `x in {...}` with each of 80,000 values looked each up in the list.
  std::unordered_set<std::string> value_set;
  bool has_value(std::string_view v) const {
    if (value_set.size() == values.size() && !values.empty()) return value_set.count(std::string(v)) > 0;
    return std::find(values.begin(), values.end(), v) != values.end();
  }
  // How plan texts word an enum value (`relationship_end` -> "the end of a
  // relationship"), by value; a value without one is shown as it is.
  std::vector<std::pair<std::string, std::string>> labels;
  const std::string* label_of(std::string_view v) const {
    for (const auto& [value, label] : labels) {
      if (value == v) return &label;
    }
    return nullptr;
  }
  // Words a clinician may type for a choice (`spouse` for `partner`), in
  // lower case: suggested when typed, never taken as the choice.
  std::vector<std::pair<std::string, std::string>> synonyms;
  const std::string* synonym_of(std::string_view typed) const {
    if (typed.size() > 40) return nullptr;
    std::string lower(typed);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& [word, value] : synonyms) {
      if (word == lower) return &value;
    }
    return nullptr;
  }
  std::string pattern;              // string findings: the form a value must have
  std::string pattern_words;        // that form in words, for messages (else the pattern)
  // Matched with RE2, in time linear in the text whatever the pattern (no
  // backtracking: a pattern such as (a*)*b cannot stall a plan).
  std::shared_ptr<const re2::RE2> pattern_re;
  finding_type element = finding_type::string;  // a list's element type
  std::string key;                  // table_list: the field that keys items
  std::vector<finding_decl> fields; // table_list: the fields of an element
  std::string component;
  std::string question;
  // What the rules take while the finding is not answered, said where a
  // plan asks it and no rule waits on it (`until_answered`, a text): a
  // follow-up question whose absence the rules read the safe way.
  std::string until_answered;
  // Skip logic: asked only when the finding `asked_if` holds one of
  // `asked_if_values` ("true" for a yes/no gate, or enum values). Recorded
  // against its gate, it is an error; missing, it is not asked for before
  // the gate is answered.
  std::string asked_if;
  std::vector<std::string> asked_if_values;
  // The one answer a skipped question may still be recorded with, because
  // it holds whatever the gate says (perinatal status "none" for a client
  // over 64); empty when none may.
  std::string skipped_value;
  // A list behind a gate (`asked_if`) that names at least one thing once
  // the gate opens: recorded empty while the gate holds, it contradicts
  // the gate's answer (who harms the client, after a yes to harm).
  bool not_empty = false;
  // On a finding: `asked_after = "phq9.total"`, another finding asked
  // first (while it is missing, it is asked instead). On a field of a
  // table_list: `asked_after = "conflict"`, another field of
  // the same entry that is asked first. While that one is missing, this one
  // is not put to the clinician ("what stage is the dispute at" before
  // "is there conflict"); it is an order of asking, not a gate.
  std::string asked_after;
  // A field with `asked_after`: `asked_after_values = ["covert", "overt"]`,
  // the answers to that field that lead to this one. Once that field holds
  // another value, this one is not put to the clinician (no dispute stage
  // after "no conflict"); the rules still read it as missing.
  std::vector<std::string> asked_after_values;
  // A field of a table_list: `asked_unless = "person"`, another field of
  // the same entry; while that one is recorded, this one is not put to the
  // clinician (a death naming a person of the inventory: whether the client
  // still grieves is asked on that person's row, not twice).
  std::string asked_unless;
  // A table_list: `ask_order = "closeness"`, a number field of its entries.
  // Questions about its entries that would decide as much of the plan are
  // asked in ascending order of it (the innermost ring first), entries
  // without it last.
  std::string ask_order;
  // A text field of a table_list: `refers_to = "relationships"`, another
  // table_list with a key. A value recorded here must be the key of one of
  // that list's entries (a death's `person` names someone of the
  // inventory): a misspelt label would silently part the two.
  std::string refers_to;
  // `asked_of = "clinician"`: recorded from the clinician's own judgement or
  // the course's arrangements (a rating, the setting), not asked of the
  // client; plans list it apart from the questions for the client.
  bool clinician = false;
  // A score that is part of another (`phq9.item9` of `phq9.total`): it can
  // be no higher than that finding.
  std::string at_most;
  // ... except when the finding `at_most_unless` holds one of
  // `at_most_unless_values` (a session number past the contracted course is
  // a contradiction, unless the phase is maintenance).
  std::string at_most_unless;
  std::vector<std::string> at_most_unless_values;
  std::string file;
  int line = 0;

  const finding_decl* field(const std::string& name) const;
  int field_index(const std::string& name) const;
  // "an integer from 0 to 27", "one of weak, moderate, strong", ...
  std::string expectation() const;
};

class vocabulary {
 public:
  // Reads `text` (the contents of a vocabulary file named `name`).
  // Problems are appended to `diags`.
  static vocabulary parse(const std::string& name, const std::string& text,
                          std::vector<diagnostic>& diags);

  const finding_decl* find(const std::string& path) const;
  const std::vector<finding_decl>& findings() const { return findings_; }
  // The findings (or a table_list's fields) in the order vocabulary.toml
  // declares them: the interview's order, for forms and questionnaires
  // (findings() is by name, for lookups).
  std::vector<const finding_decl*> in_file_order() const;
  static std::vector<const finding_decl*> in_file_order(const std::vector<finding_decl>& decls);
  // Index of a finding in findings(), or -1.
  int index_of(const std::string& path) const;
  std::vector<std::string> paths() const;
  // How a derived fact holding a vocabulary value is worded in texts: the
  // label the findings of its own group give that value
  // (problem_area.proposed = "role_dispute" takes the wording of
  // problem_area.primary's label), when they agree. Null when none of them
  // labels it, or two word it differently: a fact of another group (say
  // risk.level = "none") never takes an unrelated finding's wording.
  const std::string* group_label(std::string_view fact, std::string_view value) const;
  // Different for every vocabulary read (copies share it): what caches of
  // facts about a vocabulary are keyed by, never its address.
  std::uint64_t serial() const { return serial_; }

 private:
  std::uint64_t serial_ = next_serial();
  static std::uint64_t next_serial();
  std::vector<finding_decl> findings_;  // sorted by path
  std::unordered_map<std::string, int> index_;
};

}  // namespace iptplan

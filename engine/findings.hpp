// A client's findings (the Interpersonal Inventory), read from TOML against
// the vocabulary and resolved to slots once, so evaluation never looks a
// finding up by name.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/program.hpp"
#include "grammar/diagnostic.hpp"

namespace iptplan {

struct client_data {
  struct element {
    std::vector<value> fields;  // by field index of the table_list
    std::string key;            // key field value, or the 1-based index
  };

  std::string file;                       // display name of the findings file
  std::vector<value> slots;               // by finding index; unknown = missing
  std::vector<int> lines;                 // by finding index: line in the file
  // By finding index (empty when none): 1 for a value the file does not
  // hold but the skip logic gives, a `skipped_value` whose question its gate
  // leaves out (perinatal status "none" for a client over 64); 2 for a
  // yes/no gate left out whose follow-up is answered, read as yes.
  std::vector<std::uint8_t> implied;
  static constexpr std::uint8_t implied_skip = 1, implied_gate = 2;
  std::uint8_t implied_as(std::size_t i) const { return i < implied.size() ? implied[i] : 0; }
  bool is_implied(std::size_t i) const { return implied_as(i) != 0; }
  std::vector<std::vector<value>> lists;  // values of `list` findings
  std::vector<std::vector<element>> tables;
  std::vector<std::string> extra_symbols;  // texts not known to the program
  std::int32_t extra_base = 0;

  const std::string& symbol_text(const program& p, std::int32_t sym) const;
};

struct findings_options {
  // A key the vocabulary does not know is an error (a misspelt heading such
  // as [phq-9] would otherwise drop a safety finding); with this, a warning.
  bool allow_unknown = false;
  // Whether the reader may point to --allow-unknown in its notes (not where
  // there is no such option, as in a test case).
  bool suggest_allow_unknown = true;
};

// Reads a findings file. Returns nothing when there is an error; every
// problem is appended to `diags`.
std::optional<client_data> read_findings(const program& p, const std::string& name,
                                         const std::string& text,
                                         const findings_options& options,
                                         std::vector<diagnostic>& diags);

// Whether findings are JSON rather than TOML: a file named *.json, or text
// whose first character (after a byte-order mark and blanks) is '{' (a
// TOML file never begins with one). `name` may be empty.
bool findings_are_json(const std::string& name, const std::string& text);

// The same for findings written as one JSON object with the structure of the
// TOML file (tables as objects, arrays of tables as arrays of objects; null
// for "not recorded"). Diagnostics name the file but no line: a caller that
// read it from a line of JSON Lines sets the line.
std::optional<client_data> read_findings_json(const program& p, const std::string& name,
                                              const std::string& text,
                                              const findings_options& options,
                                              std::vector<diagnostic>& diags);

}  // namespace iptplan

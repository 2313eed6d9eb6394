// Small helpers around toml++: parsing text into a table with errors turned
// into diagnostics, and locating a node for a diagnostic.
#pragma once

#include <toml++/toml.h>

#include <optional>
#include <string>
#include <vector>

#include "grammar/diagnostic.hpp"

namespace iptplan {

// Parses TOML text; on a syntax error appends a `code` diagnostic and
// returns nothing.
// toml++'s description of a syntax error, with anything it quotes from the
// file and what it "saw" left out: for a findings file, whose values are
// the client's.
std::string without_values(std::string_view description);

std::optional<toml::table> parse_toml(const std::string& name, const std::string& text,
                                      const std::string& code,
                                      std::vector<diagnostic>& diags, bool quote_values = true);

// A diagnostic at a TOML node's source position within `src`.
diagnostic toml_diagnostic(const source_file& src, const toml::node* node,
                           severity level, std::string code, std::string message);

}  // namespace iptplan

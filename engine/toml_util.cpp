#include "engine/toml_util.hpp"

namespace iptplan {

std::optional<toml::table> parse_toml(const std::string& name, const std::string& text,
                                      const std::string& code,
                                      std::vector<diagnostic>& diags) {
  try {
    return toml::parse(text, std::string(name));
  } catch (const toml::parse_error& e) {
    source_file src(name, text);
    diagnostic d;
    d.level = severity::error;
    d.code = code;
    d.file = name;
    d.line = static_cast<int>(e.source().begin.line);
    d.column = static_cast<int>(e.source().begin.column);
    d.message = "this is not valid TOML: " + std::string(e.description());
    d.source_line = std::string(src.line_text(d.line));
    diags.push_back(std::move(d));
    return std::nullopt;
  }
}

diagnostic toml_diagnostic(const source_file& src, const toml::node* node, severity level,
                           std::string code, std::string message) {
  diagnostic d;
  d.level = level;
  d.code = std::move(code);
  d.file = src.name();
  d.message = std::move(message);
  if (node) {
    d.line = static_cast<int>(node->source().begin.line);
    d.column = static_cast<int>(node->source().begin.column);
    d.source_line = std::string(src.line_text(d.line));
  }
  return d;
}

}  // namespace iptplan

#include "engine/toml_util.hpp"

namespace iptplan {

namespace {

// The offset of the first byte >= 0x80 that stands outside a quoted text
// and outside a comment, or npos. TOML allows such characters nowhere else,
// and toml++ 3.3 as Debian ships it reaches undefined behaviour on one where
// a key is expected (marzer/tomlplusplus#190, fixed after 3.3), so they are
// refused before it sees them. A linear scan: no recursion, no regex.
std::size_t bare_non_ascii(const std::string& t) {
  enum class st { plain, comment, basic, literal, ml_basic, ml_literal } s = st::plain;
  auto starts = [&](std::size_t i, const char* w) {
    return t.compare(i, std::char_traits<char>::length(w), w) == 0;
  };
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    switch (s) {
      case st::plain:
        if (static_cast<unsigned char>(c) >= 0x80) return i;
        if (c == '#') {
          s = st::comment;
        } else if (starts(i, "\"\"\"")) {
          s = st::ml_basic;
          i += 2;
        } else if (starts(i, "'''")) {
          s = st::ml_literal;
          i += 2;
        } else if (c == '"') {
          s = st::basic;
        } else if (c == '\'') {
          s = st::literal;
        }
        break;
      case st::comment:
        if (c == '\n') s = st::plain;
        break;
      case st::basic:
        if (c == '\\') ++i;
        else if (c == '"' || c == '\n') s = st::plain;
        break;
      case st::literal:
        if (c == '\'' || c == '\n') s = st::plain;
        break;
      case st::ml_basic:
        if (c == '\\') {
          ++i;
        } else if (starts(i, "\"\"\"")) {
          s = st::plain;
          i += 2;
        }
        break;
      case st::ml_literal:
        if (starts(i, "'''")) {
          s = st::plain;
          i += 2;
        }
        break;
    }
  }
  return std::string::npos;
}

// The offset of the first key (a [heading] or a key before '=', also
// inside an inline table) of more than kMaxKeyParts dotted parts, or npos.
// toml++ 3.3 builds and frees the tables of a dotted key recursively: one
// of some 50,000 parts overflows the stack before any check of ours can see
// the table. No findings, vocabulary or setting needs more than a few parts,
// so a long dotted key is refused before the parser sees it. Linear, no
// recursion: the brackets open around a position are kept on a vector.
constexpr std::size_t kMaxKeyParts = 100;

std::size_t overlong_key(const std::string& t) {
  enum class st { plain, comment, basic, literal, ml_basic, ml_literal } s = st::plain;
  auto starts = [&](std::size_t i, const char* w) {
    return t.compare(i, std::char_traits<char>::length(w), w) == 0;
  };
  std::vector<char> open;  // '[' and '{' of values (not headings)
  bool key = true;         // a key may be written here
  std::size_t dots = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    switch (s) {
      case st::plain:
        if (c == '\n') {
          key = open.empty() || open.back() == '{';
          dots = 0;
        } else if (c == '#') {
          s = st::comment;
        } else if (starts(i, "\"\"\"")) {
          s = st::ml_basic;
          i += 2;
        } else if (starts(i, "'''")) {
          s = st::ml_literal;
          i += 2;
        } else if (c == '"') {
          s = st::basic;
        } else if (c == '\'') {
          s = st::literal;
        } else if (c == '.' && key) {
          if (++dots >= kMaxKeyParts) return i;
        } else if (c == '=') {
          key = false;
          dots = 0;
        } else if (key && open.empty() && (c == '[' || c == ']')) {
          // a [heading] or [[heading]]: its brackets open no value
        } else if (c == '[' || c == '{') {
          open.push_back(c);
          key = c == '{';
          dots = 0;
        } else if (c == ']' || c == '}') {
          if (!open.empty()) open.pop_back();
          key = false;
        } else if (c == ',') {
          key = !open.empty() && open.back() == '{';
          dots = 0;
        }
        break;
      case st::comment:
        if (c == '\n') {
          s = st::plain;
          key = open.empty() || open.back() == '{';
          dots = 0;
        }
        break;
      case st::basic:
        if (c == '\\') ++i;
        else if (c == '"' || c == '\n') s = st::plain;
        break;
      case st::literal:
        if (c == '\'' || c == '\n') s = st::plain;
        break;
      case st::ml_basic:
        if (c == '\\') {
          ++i;
        } else if (starts(i, "\"\"\"")) {
          s = st::plain;
          i += 2;
        }
        break;
      case st::ml_literal:
        if (starts(i, "'''")) {
          s = st::plain;
          i += 2;
        }
        break;
    }
  }
  return std::string::npos;
}

}  // namespace

std::string without_values(std::string_view description) {
  // toml++ quotes what it read ('99999999999999999999' is not
  // representable...) and says what it saw (saw '2'): both may be a value.
  std::string out;
  for (std::size_t i = 0; i < description.size(); ++i) {
    char c = description[i];
    if (c == '\'' || c == '"') {
      std::size_t close = description.find(c, i + 1);
      if (close != std::string_view::npos) {
        out += "(a value)";
        i = close;
        continue;
      }
    }
    out += c;
  }
  for (const char* cut : {", saw", "; saw", " saw "}) {
    if (auto at = out.find(cut); at != std::string::npos) out.resize(at);
  }
  // Long runs of digits are values too (a time such as 12:34:99).
  std::string kept;
  int digits = 0;
  for (char c : out) {
    digits = std::isdigit(static_cast<unsigned char>(c)) ? digits + 1 : 0;
    if (digits <= 2) kept += c;
  }
  return kept;
}

std::optional<toml::table> parse_toml(const std::string& name, const std::string& text,
                                      const std::string& code,
                                      std::vector<diagnostic>& diags, bool quote_values) {
  if (std::size_t bad = bare_non_ascii(text); bad != std::string::npos) {
    source_file src(name, text);
    diags.push_back(make_diagnostic(src, static_cast<std::uint32_t>(bad), severity::error, code,
                                    "this is not valid TOML: a character outside the ASCII range stands "
                                    "outside a quoted text; names of keys are plain ASCII, so put the text "
                                    "in quotes or remove it"));
    diags.back().source_line.clear();  // it may be part of a name
    return std::nullopt;
  }
  if (std::size_t bad = overlong_key(text); bad != std::string::npos) {
    source_file src(name, text);
    diags.push_back(make_diagnostic(src, static_cast<std::uint32_t>(bad), severity::error, code,
                                    "this key has more than " + std::to_string(kMaxKeyParts) +
                                        " dotted parts; no finding, vocabulary entry or setting has so many"));
    diags.back().source_line.clear();  // it is a name
    return std::nullopt;
  }
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
    d.message = "this is not valid TOML: " + (quote_values ? std::string(e.description())
                                                            : without_values(e.description()));
    // In words: a heading for a table already opened, by an earlier
    // heading or by dotted keys (phq9.item9 = 2, then [phq9]).
    if (std::string_view(e.description()).find("cannot redefine existing table") != std::string_view::npos) {
      d.notes.push_back("a table is opened once: this heading names one already opened above, by the same "
                        "heading or by dotted keys (for example 'phq9.item9 = 2' before '[phq9]'); put all of "
                        "its keys in one place");
    }
    quote_line(d, src);
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
    quote_line(d, src);
  }
  return d;
}

}  // namespace iptplan

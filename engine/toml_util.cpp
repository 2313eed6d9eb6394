#include <cctype>
#include <algorithm>
#include "engine/toml_util.hpp"

namespace iptplan {

namespace {

// What toml++ 3.3 as Debian ships it must not see, found in one linear scan
// (no recursion, no regex) and refused before it parses:
// - a byte >= 0x80 outside a quoted text and outside a comment: TOML allows
//   such characters nowhere else, and toml++ reaches undefined behaviour on
//   one where a key is expected (marzer/tomlplusplus#190, fixed after 3.3);
// - a key (a [heading], a key before '=', also inside an inline table) of
//   more than kMaxKeyParts dotted parts: toml++ builds and frees the tables
//   of a dotted key recursively, and one of some 50,000 parts overflows the
//   stack before any check of ours can see the table. No findings,
//   vocabulary or setting needs more than a few parts. The brackets open
//   around a position are kept on a vector.
constexpr std::size_t kMaxKeyParts = 100;

struct toml_hazard {
  enum class kind { none, non_ascii, long_key } what = kind::none;
  std::size_t at = 0;
};

toml_hazard scan_hazards(const std::string& t) {
  enum class st { plain, comment, basic, literal, ml_basic, ml_literal } s = st::plain;
  auto starts = [&](std::size_t i, const char* w) {
    return t.compare(i, std::char_traits<char>::length(w), w) == 0;
  };
  std::vector<char> open;  // '[' and '{' of values (not headings)
  bool key = true;         // a key may be written here
  std::size_t dots = 0;
  auto line_starts = [&] {
    key = open.empty() || open.back() == '{';
    dots = 0;
  };
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    switch (s) {
      case st::plain:
        if (static_cast<unsigned char>(c) >= 0x80) return {toml_hazard::kind::non_ascii, i};
        if (c == '\n') {
          line_starts();
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
          if (++dots >= kMaxKeyParts) return {toml_hazard::kind::long_key, i};
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
          line_starts();
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
  return {};
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
        // What toml++ expected is kept: a mark of the syntax ('=', ']',
        // ',') or a keyword ('true'); anything else may be a value.
        std::string_view inner = description.substr(i + 1, close - i - 1);
        bool mark = !inner.empty() && inner.size() <= 3 &&
                    std::none_of(inner.begin(), inner.end(), [](char x) {
                      return std::isalnum(static_cast<unsigned char>(x)) || static_cast<unsigned char>(x) >= 0x80;
                    });
        bool keyword = inner == "true" || inner == "false" || inner == "inf" || inner == "nan";
        out += mark || keyword ? std::string(1, c) + std::string(inner) + c : std::string("(a value)");
        i = close;
        continue;
      }
    }
    out += c;
  }
  for (const char* cut : {", saw", "; saw", " saw "}) {
    if (auto at = out.find(cut); at != std::string::npos) out.resize(at);
  }
  // Long runs of digits are values too (a time such as 12:34:99); a code
  // point toml++ names (U+0009, U+D800) is not.
  std::string kept;
  int digits = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out.compare(i, 2, "U+") == 0) {
      std::size_t j = i + 2;
      while (j < out.size() && j < i + 8 && std::isxdigit(static_cast<unsigned char>(out[j]))) ++j;
      kept.append(out, i, j - i);
      i = j - 1;
      digits = 0;
      continue;
    }
    char c = out[i];
    digits = std::isdigit(static_cast<unsigned char>(c)) ? digits + 1 : 0;
    if (digits <= 2) kept += c;
  }
  return kept;
}

std::optional<toml::table> parse_toml(const std::string& name, const std::string& text,
                                      const std::string& code,
                                      std::vector<diagnostic>& diags, bool quote_values) {
  if (auto h = scan_hazards(text); h.what != toml_hazard::kind::none) {
    source_file src(name, text);
    diags.push_back(make_diagnostic(
        src, static_cast<std::uint32_t>(h.at), severity::error, code,
        h.what == toml_hazard::kind::non_ascii
            ? "this is not valid TOML: a character outside the ASCII range stands outside a quoted text; names "
              "of keys are plain ASCII, so put the text in quotes or remove it"
            : "this key has more than " + std::to_string(kMaxKeyParts) +
                  " dotted parts; no finding, vocabulary entry or setting has so many"));
    diags.back().source_line.clear();  // it may be part of a name
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
    // In words: a key given twice ("cannot redefine existing integer").
    std::string_view desc = e.description();
    if (desc.find("cannot redefine existing") != std::string_view::npos &&
        desc.find("cannot redefine existing table") == std::string_view::npos) {
      d.message = "this is not valid TOML: this key is given a second time (a key has one value in a file)";
      d.notes.push_back("keep the one answer that is right and remove the other");
    }
    // In words: a heading for a table already opened, by an earlier
    // heading or by dotted keys (phq9.item9 = 2, then [phq9]).
    if (desc.find("cannot redefine existing table") != std::string_view::npos) {
      d.notes.push_back("a table is opened once: this heading names one already opened above, by the same "
                        "heading or by dotted keys (for example 'phq9.item9 = 2' before '[phq9]'); put all of "
                        "its keys in one place");
    }
    // A value without quotes that is no number, date, true or false: most
    // often yes/no typed for a yes/no answer, or a choice without its
    // quotes. The word is not repeated (it could be a name).
    // (toml++ reads a word starting with n or i as a try at nan or inf.)
    std::string word;  // the bare word after '=' on the line, lower case
    if (std::string_view line = src.line_text(d.line); line.find('=') != std::string_view::npos) {
      std::size_t i = line.find('=') + 1;
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      for (; i < line.size() && std::isalpha(static_cast<unsigned char>(line[i])); ++i) {
        word += static_cast<char>(std::tolower(static_cast<unsigned char>(line[i])));
      }
    }
    if (!word.empty() && word != "true" && word != "false" && word != "nan" && word != "inf" &&
        (desc.find("could not determine value type") != std::string_view::npos ||
         desc.find("expected 'nan'") != std::string_view::npos || desc.find("expected 'inf'") != std::string_view::npos ||
         desc.find("expected 'true'") != std::string_view::npos ||
         desc.find("expected 'false'") != std::string_view::npos)) {
      if (word == "yes" || word == "no" || word == "y" || word == "n" || word == "on" || word == "off") {
        d.notes.push_back("a yes/no answer is written true or false, without quotes");
      } else {
        d.notes.push_back("write a text or a choice in double quotes (\"overt\"), a yes/no answer as true or "
                          "false, a number as digits");
      }
    }
    // A decimal comma (3,5 for 3.5), as many clinical leads write numbers:
    // said, at the number, which the parser's message (about a comma or
    // what should follow the value) does not name.
    // Each value on the line (an inline table has several), the one nearest
    // before where the parser stopped.
    {
      std::string_view line = src.line_text(d.line);
      std::size_t found = std::string_view::npos;
      for (std::size_t eq = line.find('='); eq != std::string_view::npos; eq = line.find('=', eq + 1)) {
        std::size_t i = eq + 1;
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        std::size_t start = i;
        if (i < line.size() && (line[i] == '-' || line[i] == '+')) ++i;
        std::size_t digits = i;
        while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
        if (i > digits && i + 1 < line.size() && line[i] == ',' && std::isdigit(static_cast<unsigned char>(line[i + 1])) &&
            static_cast<int>(i) < d.column) {
          found = start;
        }
      }
      if (found != std::string_view::npos) {
        d.column = static_cast<int>(found) + 1;
        d.notes.push_back("a number with decimals is written with a point (3.5), not a comma");
      }
    }
    // A file that may hold findings (a findings file, a test case) never
    // has a line quoted: the line may hold a value.
    if (quote_values) quote_line(d, src);
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

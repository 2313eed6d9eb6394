#include "format/tokens.hpp"

namespace iptplan::formatter {

namespace {

bool word_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool word_char(char c) { return word_start(c) || (c >= '0' && c <= '9'); }
bool digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool tokenize(std::string_view text, token_stream& out) {
  // A UTF-8 byte-order mark (as some Windows editors save) is not content;
  // the canonical layout has none.
  std::size_t i = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  const std::size_t n = text.size();
  int line = 1;
  int newlines = 2;  // since the last token or comment; the start counts as blank
  int last_code_line = 0;
  auto add = [&](token_kind k, std::size_t b, std::size_t e) {
    out.tokens.push_back({k, static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(e), line,
                          newlines >= 2});
    newlines = 0;
    last_code_line = line;
  };
  while (i < n) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      ++newlines;
      ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      ++i;
      continue;
    }
    std::size_t b = i;
    if (c == '#') {
      while (i < n && text[i] != '\n') ++i;
      std::size_t e = i;
      while (e > b && (text[e - 1] == '\r' || text[e - 1] == ' ' || text[e - 1] == '\t')) --e;
      out.comments.push_back({static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(e), line,
                              last_code_line != line, newlines >= 2});
      newlines = 0;
      continue;
    }
    if (word_start(c)) {
      ++i;
      while (i < n && word_char(text[i])) ++i;
      while (i + 1 < n && text[i] == '.' && word_start(text[i + 1])) {
        i += 2;
        while (i < n && word_char(text[i])) ++i;
      }
      add(token_kind::word, b, i);
      continue;
    }
    if (digit(c) || (c == '.' && i + 1 < n && digit(text[i + 1]))) {
      while (i < n && digit(text[i])) ++i;
      if (i < n && text[i] == '.') {
        ++i;
        while (i < n && digit(text[i])) ++i;
      }
      add(token_kind::number, b, i);
      continue;
    }
    if (c == '"') {
      ++i;
      while (i < n && text[i] != '"' && text[i] != '\n') i += text[i] == '\\' ? 2 : 1;
      if (i >= n || text[i] != '"') return false;
      ++i;
      add(token_kind::text, b, i);
      continue;
    }
    if ((c == '=' || c == '!' || c == '<' || c == '>') && i + 1 < n && text[i + 1] == '=') {
      i += 2;
      add(token_kind::punct, b, i);
      continue;
    }
    static constexpr std::string_view single = "<>=(){},:+-*/";
    if (single.find(c) == std::string_view::npos) return false;
    ++i;
    add(token_kind::punct, b, i);
  }
  return true;
}

}  // namespace iptplan::formatter

#include "engine/findings_text.hpp"

#include <algorithm>

#include "engine/ruleset.hpp"

namespace iptplan {

std::string without_comments(std::string_view t) {
  std::string out;
  out.reserve(t.size());
  std::size_t i = 0;
  const std::size_t n = t.size();
  auto starts = [&](std::size_t at, std::string_view s) { return t.substr(at, s.size()) == s; };
  // Copies a string that starts at i, through its closing delimiter (or to
  // the end of the text, when it is never closed: such a file is refused).
  auto copy_string = [&] {
    std::size_t from = i;
    if (starts(i, "\"\"\"") || starts(i, "'''")) {
      std::string_view close = t.substr(i, 3);
      bool escapes = t[i] == '"';
      i += 3;
      while (i < n && !starts(i, close)) i += escapes && t[i] == '\\' && i + 1 < n ? 2 : 1;
      i = std::min(n, i + 3);
      // Up to two quotes of the same kind right before the delimiter belong
      // to the string: """a""""" is the text a"".
      for (int extra = 0; extra < 2 && i < n && t[i] == close[0]; ++extra) ++i;
    } else {
      char q = t[i++];
      while (i < n && t[i] != q && t[i] != '\n') i += q == '"' && t[i] == '\\' && i + 1 < n ? 2 : 1;
      if (i < n && t[i] == q) ++i;
    }
    out.append(t.substr(from, i - from));
  };
  while (i < n) {
    char c = t[i];
    if (c == '"' || c == '\'') {
      copy_string();
    } else if (c == '#') {
      while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
      while (i < n && t[i] != '\n' && !(t[i] == '\r' && i + 1 < n && t[i + 1] == '\n')) ++i;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

std::string findings_sha256(std::string_view text) { return sha256_hex(without_comments(text)); }

}  // namespace iptplan

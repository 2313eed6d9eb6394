// The formatter's view of a rule file: its tokens, kept as written, and its
// comments, which the parser skips but the formatter must put back.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace iptplan::formatter {

enum class token_kind : std::uint8_t { word, number, text, punct };

// One token: a word or dotted path (`r.conflict`), a number, one quoted
// piece, or punctuation. `blank_before` is true when an empty line precedes it.
struct token {
  token_kind kind = token_kind::word;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  int line = 0;
  bool blank_before = false;
};

// `# ...` to the end of its line. `own_line`: no token precedes it on its line.
struct comment {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;  // before the line break (and any '\r')
  int line = 0;
  bool own_line = true;
  bool blank_before = false;
};

struct token_stream {
  std::vector<token> tokens;
  std::vector<comment> comments;
};

// Splits a text that the rule parser accepted. Returns false (and stops) on a
// character no token can start with, which the parser would have refused.
bool tokenize(std::string_view text, token_stream& out);

}  // namespace iptplan::formatter

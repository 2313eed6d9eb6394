// A small pretty-printing algebra (after Wadler's "prettier printer"): text,
// a line that is a space when its group fits and a break when it does not,
// groups that break as a whole, and alignment to the current column. The
// formatter builds one document per condition and renders it to lines.
#pragma once

#include <string>
#include <vector>

namespace iptplan::formatter {

struct doc {
  enum class kind : unsigned char { text, line, soft_line, concat, group, align };
  kind k = kind::concat;
  std::string s;                   // text
  int tok_first = -1;              // text: the source tokens it shows
  int tok_last = -1;
  std::vector<doc> kids;           // concat, fill; group and align hold one
  bool force_break = false;        // group: break even when it fits
};

doc text(std::string s, int tok_first = -1, int tok_last = -1);
doc line();
doc concat(std::vector<doc> kids);
doc group(doc d, bool force_break = false);
doc align(doc d);
// Items separated by lines, each line broken only when the item after it
// would not fit: as many items a line as fit.
doc fill(std::vector<doc> items);

// One rendered line with the range of source tokens shown on it.
struct out_line {
  std::string text;
  int first_tok = -1;
  int last_tok = -1;
  bool rule_start = false;  // the first line of a rule
};

// Renders `d` after `prefix` (the start of the first line), breaking groups
// that do not fit in `width` columns. Breaks outside any align() indent to
// the prefix's width.
std::vector<out_line> render(const doc& d, const std::string& prefix, int width);

// Display width: code points, not bytes.
int columns(const std::string& s);

// Widens `l`'s token range to hold [first, last].
void note_tokens(out_line& l, int first, int last);

}  // namespace iptplan::formatter

// Diagnostics are values: collected where a problem is found, sorted, and
// rendered once. Every diagnostic has a stable code (`parse.expected`,
// `check.unknown-path`, `findings.type`, ...) that tests and scripts rely on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "grammar/source.hpp"

namespace iptplan {

enum class severity { error, warning, note };

const char* to_string(severity s);

struct diagnostic {
  severity level = severity::error;
  std::string code;     // stable, e.g. "parse.expected"
  std::string file;     // display name; empty when not about a file
  int line = 0;         // 1-based; 0 when unknown
  int column = 0;       // 1-based, in code points
  std::string message;  // one sentence, no trailing period
  // The part of the line quoted under the message: at most a window around
  // the column (see quote_line), so a diagnostic's size never follows the
  // length of a line. `source_from` is the column its first character has.
  std::string source_line;
  int source_from = 1;
  bool source_more = false;  // the line goes on past source_line
  std::vector<std::string> notes;  // extra lines ("did you mean ...")
  // A file with thousands of mistakes keeps the first ones as diagnostics
  // and only counts the rest, so memory never follows their number: the
  // last diagnostic kept carries the count of those not kept.
  std::size_t more_errors = 0;
  std::size_t more_warnings = 0;
};

// A diagnostic pointing at a byte offset of a source file.
diagnostic make_diagnostic(const source_file& src, std::uint32_t offset,
                           severity level, std::string code,
                           std::string message);

// Sets d.source_line to the window of `line` shown around d.column (the
// whole line when it is short).
void quote_line(diagnostic& d, std::string_view line);
// The same, for d.line of `src`, in time bounded by the window.
void quote_line(diagnostic& d, const source_file& src);

// `s` with every control character (C0, DEL, and C1 in UTF-8) shown as
// `\x1b`, so that no text from an input file can move the cursor, ring the
// bell or forge a line of output. With `keep_lines`, line breaks and tabs
// are kept (for a whole plan).
std::string printable(std::string_view s, bool keep_lines = false);

// Whether `s` is one line of plain text: no control character (nor a line
// break) and no mark that reorders how text is shown (U+202A-U+202E,
// U+2066-U+2069), so it can be shown anywhere as it is.
bool is_plain_text(std::string_view s);

// `file:line:col: error: message [code]`, the source line, a caret, notes.
// Texts are passed through printable().
std::string format(const diagnostic& d);

// `file:line:col: error: message [code]` alone: no source line, no notes.
// Plans use it, so that no line of a findings file is copied into them.
std::string format_short(const diagnostic& d);

// Orders by file, line, column, then code: output never depends on the
// order problems were found in.
void sort_diagnostics(std::vector<diagnostic>& ds);

bool has_errors(const std::vector<diagnostic>& ds);

// `name` in quotes when it looks like a name the program itself uses (lower-
// case words, digits, dots, underscores, dashes and brackets, at most 60
// characters), else `otherwise`: a text typed by a person ("Mary Smith")
// may itself identify someone and is never repeated in a message.
// What in a text would reach a terminal, a plan or another system's screen
// as something other than text: a control character (C0 but, when
// `line_breaks`, line breaks and tabs; DEL; C1) or a character that
// reorders text on screen (bidirectional controls, line and paragraph
// separators). nullptr when there is none.
const char* text_character_problem(std::string_view v, bool line_breaks);

std::string quoted_if_name(const std::string& name, const std::string& otherwise);

// 9990 -> "9,990": counts in messages.
std::string with_thousands(std::size_t n);

// Edit distance, for "did you mean" suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b);
// The closest candidate within a small distance, or "".
std::string nearest_name(const std::string& wanted,
                         const std::vector<std::string>& candidates);

// "Did you mean" for many names in one run (a rule set, a findings file, a
// lint): each suggestion costs the length of the candidate list, so a file
// of 20,000 misspellings against 20,000 names would take minutes. A
// suggester spends a fixed budget of comparisons, then suggests nothing
// more: the messages keep coming, without their "did you mean", and the
// run stays linear in its input. Which names get a suggestion depends only
// on the order they are asked in, never on time.
class suggester {
 public:
  static constexpr std::size_t kDefaultBudget = 4'000'000;
  explicit suggester(std::size_t budget = kDefaultBudget) : budget_(budget) {}
  // Whether a suggestion would still be looked for: callers that build
  // their candidate list for each name ask first.
  bool open() const { return spent_ < budget_; }
  // nearest_name, while the budget lasts; "" once it is spent.
  std::string nearest(const std::string& wanted, const std::vector<std::string>& candidates);
  // How many names were asked about once the budget was spent.
  std::size_t unanswered() const { return unanswered_; }

 private:
  std::size_t budget_;
  std::size_t spent_ = 0;
  std::size_t unanswered_ = 0;
};

}  // namespace iptplan

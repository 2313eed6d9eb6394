// Pieces shared by the subcommands.
#pragma once

#include <functional>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "engine/evaluator.hpp"
#include "engine/findings.hpp"
#include "engine/plan.hpp"
#include "engine/ruleset.hpp"

namespace iptplan::cli {

constexpr int kOk = 0, kInputError = 1, kUsage = 2;

// Whether `path`, with `..` and every link resolved, lies inside the folder
// `root` (or is the folder itself).
bool path_inside(const std::string& root, const std::string& path);

// Whether `in` is the process's standard input and that is closed (run
// with `<&-`): nothing can be read, which is not an empty input.
bool stdin_closed(const std::istream& in);

// read(2) as a blocking read behaves, whatever the descriptor: EINTR is
// retried, and a non-blocking descriptor with nothing yet (a pipe set
// O_NONBLOCK by a writer sharing it) is waited on, never taken for an error
// or the end. The bytes read, 0 at the end, -1 with errno on an error.
long read_waiting(int fd, char* buf, std::size_t size);

// Reads standard input (or `in`) to its end or just past kMaxInputBytes;
// nullopt when the system failed to read it (a folder given as standard
// input, an I/O error), with the reason in `why`. Never an empty text for
// an input that failed.
std::optional<std::string> read_input_stream(std::istream& in, std::string& why);

// Sorted, formatted diagnostics, then a count of errors; returns the number
// of warnings. While a collect_diagnostics is alive, they are collected
// instead (for a command writing JSON).
int print(std::ostream& err, std::vector<diagnostic> ds);

class collect_diagnostics {
 public:
  explicit collect_diagnostics(std::vector<diagnostic>& into);
  ~collect_diagnostics();
  collect_diagnostics(const collect_diagnostics&) = delete;
  collect_diagnostics& operator=(const collect_diagnostics&) = delete;

 private:
  std::vector<diagnostic>* saved_;
};

// Loads the rule set of `dir`, or the built-in one when `dir` is empty;
// prints every problem. `style` adds house-style warnings.
// `warnings`, when given, receives the number of warnings reported.
// `files`, when given, receives the rule set's files (for a snapshot).
// A rule that could remove a safety item outside the safety rules
// (lint.safety-exclude, not allowed with a reason) and a misspelt
// `conclude` (lint.fact-unread) are warnings on every use; `safety_lint`
// false leaves them to the caller (`lint` reports them).
std::optional<rule_set> load(const std::string& dir, std::ostream& err, bool style = false,
                             int* warnings = nullptr, std::vector<rule_set_file>* files = nullptr,
                             bool safety_lint = true);
// Loads a rule set from files already read (a stored snapshot).
std::optional<rule_set> load_files(std::vector<rule_set_file> files, const std::string& origin,
                                   std::ostream& err);

// A findings file planned: the plan, with what it was built from.
struct planned {
  plan p;
  client_data client;
  evaluation ev;
  std::string findings;  // the bytes read
  bool unknown_keys = false;  // keys the vocabulary does not know, ignored (--allow-unknown)
};

// How standard input is named in messages.
inline constexpr const char* kStdinName = "<stdin>";

// Reads findings in any form `plan` takes: TOML, JSON findings, or a FHIR
// QuestionnaireResponse (JSON, told apart by its first character).
std::optional<client_data> read_any_findings(const program& p, const std::string& name, const std::string& text,
                                             bool allow_unknown, std::vector<diagnostic>& diags);

// Reads the findings at `path` ("-": from `in`) and plans them; prints
// every problem and returns nothing on an error. A plan past the size a
// plan may have (plan.too-large) is an error too, printed, unless
// `keep_too_large` (`plan`, which reports it with the others).
std::optional<planned> plan_for(const rule_set& rs, const std::string& path, bool allow_unknown,
                                std::istream& in, std::ostream& err, bool keep_too_large = false);
// The same for findings already read, named `name` in messages.
std::optional<planned> plan_text(const rule_set& rs, const std::string& name, const std::string& text,
                                 bool allow_unknown, std::ostream& err, bool keep_too_large = false);

// `a` quoted for a POSIX shell when it needs it, so a suggested command can
// be pasted as it is, whatever a path or an id holds.
std::string shell_quoted(const std::string& a);

// `why` (or, with `why_not`, `why-not`) of an item or a derived fact in the
// plan `make_plan` makes (nothing: it printed why not): an id no rule of
// `rs` proposes or concludes is refused first, with the nearest name.
// `why_not_command` is the command `why` suggests for an item not in the
// plan. `header` is written before the explanation, and only when there is
// one. Exit status as `iptplan why` documents it.
int explain_item(const rule_set& rs, const std::string& item,
                 const std::function<std::optional<planned>()>& make_plan, bool why_not, const std::string& fmt,
                 const std::string& why_not_command, std::ostream& out, std::ostream& err,
                 const std::string& header = "");

// Writes `text` to `path` through a temporary file: never a partial file; a
// new file is 0600, an existing one keeps its mode; a symbolic link is
// refused unless `follow`. Reports failures on `err`.
bool write_atomically(const std::string& path, const std::string& text, bool follow, std::ostream& err);

// Whether `path` is an SQLite database (a plan store): its first 16 bytes.
bool is_plan_store(const std::string& path);

// False (with a message) when the rule set may not plan: it is retired.
bool rule_set_may_plan(const rule_set& rs, bool require_approved, std::ostream& err);

// `annotate`: a rule file (its name in the rule set, or its path) to list
// with each rule's and each condition's counts.
int cmd_test(const std::string& dir, bool coverage, double min_coverage, const std::string& fmt,
             std::ostream& out, std::ostream& err, const std::string& annotate = "");

}  // namespace iptplan::cli

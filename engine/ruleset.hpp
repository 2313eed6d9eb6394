// A rule set is a folder: ruleset.toml (name, version, authors, approval
// status, review date), vocabulary.toml, any number of *.rules files and
// tests/*.toml. Loading one parses, checks and compiles it in full.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/program.hpp"
#include "grammar/diagnostic.hpp"

namespace iptplan {

struct rule_set_file {
  std::string name;  // display name, e.g. "rules/alliance.rules"
  std::string base;  // name within the folder, e.g. "alliance.rules"
  std::string text;
};

struct manifest {
  // `status` as written in ruleset.toml: draft | approved | retired.
  std::string name, version, status, review_date, description;
  // Where `status` and `review_date` are written ("rules/ruleset.toml",
  // 1-based line and column; line 0 when not written), for messages.
  std::string file;
  int status_line = 0, status_column = 0, review_date_line = 0, review_date_column = 0;
  std::vector<std::string> authors;
  std::vector<parameter> parameters;  // the [parameters] table
  // `session_finding = "therapy.session_number"`: the finding that says
  // which session this is, against which a goal's `by session` date is
  // shown as passed. Empty: no date is ever shown as passed.
  std::string session_finding;
  int session_finding_line = 0, session_finding_column = 0;
  // `summary = ["risk.level", "problem_area.proposed"]`: the derived facts
  // a text or markdown plan's SUMMARY shows first, each with its value or
  // "not yet known". Each must be a fact the rules conclude.
  std::vector<std::string> summary;
  // Each one's label in the summary ("Suicide-risk tier"); the fact's
  // path when none is given.
  std::vector<std::string> summary_labels;
  // What each one shows when the fact holds no value (none, or no):
  // "none" and "no" unless `none = "not yet agreed"` says otherwise; with
  // `hide_none = true` the line is left out then (the person in a
  // role-dispute focus, when the focus is grief).
  std::vector<std::string> summary_none;
  std::vector<bool> summary_hide_none;
  int summary_line = 0, summary_column = 0;
};

// The last approval in approval.toml (written by `iptplan approve`).
struct approval {
  std::string sha256, by, date;
  // The hash of the test cases when it was approved (tests_hash); empty in
  // an approval written before approvals covered them.
  std::string tests_sha256;
  // Each file's own hash (sha256 of its text), by name: what changed since
  // can then be named, file by file. Empty in an earlier approval.
  std::map<std::string, std::string> files;
  int line = 0, column = 0;  // where the entry is in approval.toml
};

// The file beside ruleset.toml that records approvals. It is not part of
// the rule set's hash: the hash is what an approval approves.
inline constexpr const char* kApprovalFile = "approval.toml";
// The clinical facts the rules cite, by id ([facts] M9 = "title").
inline constexpr const char* kSourcesFile = "sources.toml";

struct rule_set {
  manifest info;
  // What plans show: "retired" when ruleset.toml says so; "approved" only
  // while the last approval's hash is this rule set's hash; else "draft".
  std::string status;
  std::optional<approval> approved;  // the approval that holds, if any
  std::optional<approval> last_approval;
  // The rule files are as approved, but the test cases are not (see
  // check_approved_tests): a draft for that reason.
  bool tests_changed = false;
  std::optional<std::map<std::string, std::string>> sources;  // sources.toml, when there is one
  std::string origin;  // "built-in" or the folder given
  std::string sha256;  // over every file, in name order
  std::shared_ptr<const program> prog;
};

// Reads the rule files of a folder. Problems (not a folder, no vocabulary,
// unreadable files) are appended to `diags`.
std::vector<rule_set_file> read_rule_folder(const std::string& dir, std::vector<diagnostic>& diags);

// The default rule set, carried inside the binary.
std::vector<rule_set_file> builtin_rule_files();
// Its test cases (rules/tests/*.toml) and the examples they name
// (examples/*.toml), by path from the top of the source tree.
std::vector<rule_set_file> builtin_case_files();

// Parses, checks and compiles. Returns nothing when there is an error.
// `style` adds house-style warnings, as `iptplan check` reports them.
std::optional<rule_set> load_rule_set(std::vector<rule_set_file> files, std::string origin,
                                      std::vector<diagnostic>& diags, bool style = false);

// The largest file iptplan reads (findings, rule files, vocabulary, test
// cases): far above any real one, small enough to parse in well under a
// second.
inline constexpr std::uintmax_t kMaxInputBytes = 16u * 1024 * 1024;
// The most a rule set's files may hold in all (a folder's, a git
// revision's): checking costs memory in proportion, so a folder of many
// large files is refused rather than exhausting the machine.
inline constexpr std::uintmax_t kMaxRuleSetBytes = 32u * 1024 * 1024;

// Reads `in` to its end, or to one byte past kMaxInputBytes (the caller
// tells the two apart by the size); `expected` sizes the buffer. Memory
// follows what is read, not the limit.
std::string read_bounded(std::istream& in, std::size_t expected = 0);

// Reads a whole regular file of at most kMaxInputBytes; returns nothing (and
// a diagnostic) when it cannot.
std::optional<std::string> read_text_file(const std::string& path, const std::string& code,
                                          std::vector<diagnostic>& diags);

std::string sha256_hex(std::string_view bytes);
// Bytes in lower-case hexadecimal.
std::string to_hex(const unsigned char* bytes, std::size_t n);

// Today's date in UTC (YYYY-MM-DD), against which review dates and
// approvals are checked and with which an approval is dated. The variable
// IPTPLAN_TODAY=YYYY-MM-DD fixes it: the tests run as of a fixed day, so
// the built-in rule set's review date never makes them fail later.
std::string today_utc();
// While one lives, today_utc() on this thread is `date` (YYYY-MM-DD): a
// recorded plan is replayed as of the day it was made (an approval then
// valid is valid in the replay, whatever the machine's date).
class scoped_today {
 public:
  explicit scoped_today(std::string date);
  ~scoped_today();
  scoped_today(const scoped_today&) = delete;
  scoped_today& operator=(const scoped_today&) = delete;

 private:
  std::string before_;
};
// Whether `d` is a date written YYYY-MM-DD (month 01-12, day 01-31).
bool is_iso_date(std::string_view d);
// A name ending in '.rules' in another letter case (x.RULES): not read as a
// rule file, so reported, never skipped without a word.
bool misnamed_rule_file(const std::string& name);

// A rule set's hash: for each file in order of its name inside the set, the
// name, a NUL byte, the size in decimal, a NUL byte and the bytes.
// approval.toml is left out.
std::string rule_set_hash(std::vector<rule_set_file> files);
// The same over every file given, approval.toml included: a snapshot's key.
std::string files_hash(std::vector<rule_set_file> files);

// The hash of a rule-set folder's test cases: files_hash over every regular
// *.toml file under DIR/tests (cases and the findings they name), each
// named by its path inside tests/. A file that cannot be read is reported
// and makes the result empty.
std::string tests_hash(const std::string& dir, std::vector<diagnostic>& diags);

// An approval covers the test cases too: when the last approval of the rule
// set read from `dir` records their hash and they changed since, the rule
// set is a draft again (status, approved). Its test cases are read only
// when there is such an approval.
void check_approved_tests(rule_set& rs, const std::string& dir, std::vector<diagnostic>& diags);

}  // namespace iptplan

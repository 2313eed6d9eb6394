#include "cli/commands.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <csignal>
#include <cstring>
#include "cli/common.hpp"
#include "cli/batch_command.hpp"
#include "cli/serve_command.hpp"
#include "fhir/fhir.hpp"
#include "cli/diff_command.hpp"
#include "cli/fmt_command.hpp"
#include "cli/store_commands.hpp"
#include "store/store.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>

#include "engine/findings_text.hpp"
#include "engine/evaluator.hpp"
#include "engine/findings.hpp"
#include "engine/logging.hpp"
#include "engine/lint/lint.hpp"
#include "engine/plan.hpp"
#include "engine/render/json_writer.hpp"
#include "engine/render/render.hpp"
#include "engine/ruleset.hpp"
#include "engine/testing.hpp"
#include "engine/toml_util.hpp"

namespace iptplan::cli {

// How many diagnostics are printed in full before "... and N more".
constexpr std::size_t kMaxShownDiagnostics = 50;

namespace {
// While a command writes JSON, diagnostics are collected here instead of
// printed.
std::vector<diagnostic>* g_collected = nullptr;
}  // namespace

collect_diagnostics::collect_diagnostics(std::vector<diagnostic>& into) : saved_(g_collected) {
  g_collected = &into;
}
collect_diagnostics::~collect_diagnostics() { g_collected = saved_; }

int print(std::ostream& err, std::vector<diagnostic> ds) {
  sort_diagnostics(ds);
  if (g_collected) {
    g_collected->insert(g_collected->end(), ds.begin(), ds.end());
    return static_cast<int>(std::count_if(ds.begin(), ds.end(),
                                          [](const diagnostic& d) { return d.level == severity::warning; }));
  }
  // A file with thousands of mistakes gets the first ones in full and a
  // count of the rest, not pages of the same message.
  std::size_t shown = std::min(ds.size(), kMaxShownDiagnostics);
  for (std::size_t i = 0; i < shown; ++i) err << format(ds[i]);
  // Problems a reader counted but did not keep (a file with thousands).
  std::size_t untold = 0, untold_errors = 0, untold_warnings = 0;
  for (const auto& d : ds) {
    untold_errors += d.more_errors;
    untold_warnings += d.more_warnings;
  }
  untold = untold_errors + untold_warnings;
  if (ds.size() + untold > shown) {
    err << "... and " << with_thousands(ds.size() - shown + untold) << " more\n";
  }
  int errors = static_cast<int>(untold_errors), warnings = static_cast<int>(untold_warnings);
  for (const auto& d : ds) {
    if (d.level == severity::error) ++errors;
    if (d.level == severity::warning) ++warnings;
  }
  auto count = [](int n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  if (errors) err << count(errors, "error") << (warnings ? ", " + count(warnings, "warning") : "") << "\n";
  return warnings;
}

std::optional<rule_set> load_files(std::vector<rule_set_file> files, const std::string& origin,
                                   std::ostream& err) {
  std::vector<diagnostic> diags;
  auto rs = load_rule_set(std::move(files), origin, diags);
  if (!rs || has_errors(diags)) {
    print(err, diags);
    err << "the rule set " << origin << " has errors\n";
    return std::nullopt;
  }
  return rs;
}

std::optional<rule_set> load(const std::string& dir, std::ostream& err, bool style, int* warnings,
                             std::vector<rule_set_file>* files_out, bool safety_lint) {
  std::vector<diagnostic> diags;
  std::vector<rule_set_file> files;
  std::string origin = dir.empty() ? "built-in" : dir;
  if (dir.empty()) files = builtin_rule_files();
  else files = read_rule_folder(dir, diags);
  if (files_out) *files_out = files;
  std::optional<rule_set> rs;
  if (!has_errors(diags)) rs = load_rule_set(std::move(files), origin, diags, style);
  if (rs && !dir.empty()) check_approved_tests(*rs, dir, diags);
  if (!rs || has_errors(diags)) {
    print(err, diags);
    err << "the rule set " << (dir.empty() ? "built into iptplan" : "in " + printable(dir))
        << " has errors; fix them and run 'iptplan check" << (dir.empty() ? "" : " " + printable(dir)) << "'\n";
    return std::nullopt;
  }
  if (safety_lint && !dir.empty()) {
    auto safety = lint_on_load(*rs);
    diags.insert(diags.end(), safety.begin(), safety.end());
  }
  int n = print(err, diags);  // warnings only, by now
  if (warnings) *warnings = n;
  spdlog::info("rule set {} {} loaded: {} rules, {} derived facts", rs->info.name,
               rs->info.version, rs->prog->rules.size(), rs->prog->facts.size());
  return rs;
}

bool stdin_closed(const std::istream& in) {
  return &in == &std::cin && ::fcntl(STDIN_FILENO, F_GETFD) == -1 && errno == EBADF;
}

long read_waiting(int fd, char* buf, std::size_t size) {
  for (;;) {
    ssize_t n = ::read(fd, buf, size);
    if (n >= 0) return static_cast<long>(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    pollfd p{fd, POLLIN, 0};
    int r;
    do {
      r = ::poll(&p, 1, -1);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return -1;  // poll itself failed: an error, never a loop
  }
}

std::optional<std::string> read_input_stream(std::istream& in, std::string& why) {
  if (&in == &std::cin) {
    // The descriptor itself, so that a non-blocking one is waited on.
    std::string text;
    char buf[1 << 16];
    while (text.size() <= kMaxInputBytes) {
      long n = read_waiting(STDIN_FILENO, buf, std::min(sizeof buf, kMaxInputBytes + 1 - text.size()));
      if (n == 0) return text;
      if (n < 0) {
        why = "standard input could not be read (" + std::string(std::strerror(errno)) + ")";
        return std::nullopt;
      }
      text.append(buf, static_cast<std::size_t>(n));
    }
    return text;
  }
  errno = 0;
  std::string text = read_bounded(in);
  const int e = errno;
  // Another stream (a test's): a filebuf's read error sets badbit.
  if (in.bad()) {
    why = "standard input could not be read (" + std::string(e != 0 ? std::strerror(e) : "a read error") + ")";
    return std::nullopt;
  }
  return text;
}

bool path_inside(const std::string& root, const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto r = fs::weakly_canonical(root, ec);
  auto p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (r.empty()) return false;
  auto pi = p.begin();
  for (auto ri = r.begin(); ri != r.end(); ++ri, ++pi) {
    if (pi == p.end() || *ri != *pi) return false;
  }
  return true;
}

// The findings named `path`: a file, or standard input for "-".
std::optional<std::string> read_findings_text(const std::string& path, std::istream& in,
                                              std::vector<diagnostic>& diags) {
  if (path != "-") return read_text_file(path, "findings.read", diags);
  if (stdin_closed(in)) {
    diagnostic d;
    d.code = "findings.read";
    d.file = kStdinName;
    d.message = "standard input is closed: there is nothing to read (give a findings file, or pipe one in)";
    diags.push_back(std::move(d));
    return std::nullopt;
  }
  std::string why;
  auto read = read_input_stream(in, why);
  if (!read) {
    diagnostic d;
    d.code = "findings.read";
    d.file = kStdinName;
    d.message = why;
    diags.push_back(std::move(d));
    return std::nullopt;
  }
  std::string text = std::move(*read);
  if (text.size() > kMaxInputBytes) {
    diagnostic d;
    d.code = "findings.read";
    d.file = kStdinName;
    d.message = "standard input holds more than " + std::to_string(kMaxInputBytes / (1024 * 1024)) +
                " MiB, the most iptplan reads";
    diags.push_back(std::move(d));
    return std::nullopt;
  }
  if (text.empty()) {
    // Legal (nothing recorded yet), but more often a pipe that broke.
    diagnostic d;
    d.level = severity::warning;
    d.code = "findings.empty";
    d.file = kStdinName;
    d.message = "standard input was empty: the plan is for an inventory with nothing recorded";
    diags.push_back(std::move(d));
  }
  return text;
}

std::optional<client_data> read_any_findings(const program& p, const std::string& name, const std::string& text,
                                             bool allow_unknown, std::vector<diagnostic>& diags) {
  // JSON findings, or a FHIR QuestionnaireResponse, or TOML.
  return findings_are_json(name, text) ? fhir::read_json_findings(p, name, text, {allow_unknown}, diags)
                                       : read_findings(p, name, text, {allow_unknown}, diags);
}

std::optional<planned> plan_for(const rule_set& rs, const std::string& path, bool allow_unknown,
                                std::istream& in, std::ostream& err, bool keep_too_large) {
  std::vector<diagnostic> diags;
  auto text = read_findings_text(path, in, diags);
  print(err, diags);
  if (!text) return std::nullopt;
  return plan_text(rs, path == "-" ? kStdinName : path, *text, allow_unknown, err, keep_too_large);
}

std::optional<planned> plan_text(const rule_set& rs, const std::string& name, const std::string& text,
                                 bool allow_unknown, std::ostream& err, bool keep_too_large) {
  std::vector<diagnostic> diags;
  auto client = read_any_findings(*rs.prog, name, text, allow_unknown, diags);
  if (!client) {
    print(err, diags);
    return std::nullopt;
  }
  print(err, diags);  // warnings
  auto start = std::chrono::steady_clock::now();
  planned out{{}, std::move(*client), {}, text};
  out.ev = evaluate(*rs.prog, out.client, true);
  out.p = build_plan(rs, out.client, out.ev, findings_sha256(text));
  // Counted before the plan caps the diagnostics it lists.
  out.unknown_keys = std::any_of(diags.begin(), diags.end(), [](const diagnostic& d) { return d.code == "findings.unknown"; });
  add_findings_diagnostics(out.p, std::move(diags));
  if (!keep_too_large) {
    // why, why-not, diff, verify, --record: a plan that holds no item is
    // no answer (an item "not in the plan" would be false).
    for (const auto& d : out.p.diagnostics) {
      if (d.code != "plan.too-large") continue;
      diagnostic shown_d = d;
      if (shown_d.file.empty()) shown_d.file = name;
      print(err, std::vector<diagnostic>{shown_d});
      return std::nullopt;
    }
  }
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::steady_clock::now() - start).count();
  // Never log finding values or client ids at info level or above.
  spdlog::info("planned one findings file: {} items, {} undecided, {} us",
               out.p.flags.size() + out.p.challenges.size() + out.p.solutions.size() + out.p.goals.size(),
               out.p.undecided.size(), us);
  return out;
}

namespace {

// The file at the end of a chain of symbolic links, which may not exist
// yet; none after 40 links.
std::optional<std::filesystem::path> link_end(const std::filesystem::path& p) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path at = p;
  for (int hops = 0; fs::is_symlink(fs::symlink_status(at, ec)); ++hops) {
    if (hops == 40) return std::nullopt;
    fs::path target = fs::read_symlink(at, ec);
    if (ec) return std::nullopt;
    at = target.is_absolute() ? target : at.parent_path() / target;
  }
  return fs::absolute(at, ec).lexically_normal();
}

// The temporary file being written, removed by the signal handler when the
// run is interrupted (Ctrl-C, kill), so no *.tmp-NNNN is left behind. Only
// async-signal-safe calls in the handler: unlink, signal, raise.
char g_tmp_path[4096] = {0};

extern "C" void remove_tmp_and_reraise(int sig) {
  if (g_tmp_path[0] != 0) ::unlink(g_tmp_path);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

struct tmp_guard {
  explicit tmp_guard(const std::string& tmp) {
    if (tmp.size() < sizeof g_tmp_path) {
      std::memcpy(g_tmp_path, tmp.c_str(), tmp.size() + 1);
      for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) std::signal(sig, remove_tmp_and_reraise);
    }
  }
  ~tmp_guard() {
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) std::signal(sig, SIG_DFL);
    g_tmp_path[0] = 0;
  }
};

// A file written through a temporary one, so that an interrupted or failed
// run never leaves a partial file, nor the temporary one: written in pieces,
// then put in place by commit() (or removed by abandon(), or on
// destruction). A new file is readable by its owner only (0600); a file
// that exists keeps its mode. A symbolic link is refused, unless `follow`
// (then its target is written).
class atomic_file {
 public:
  atomic_file(const std::string& given, bool follow, std::ostream& err) : given_(given), err_(err) {
    namespace fs = std::filesystem;
    std::error_code ec;
    path_ = given;
    if (fs::is_symlink(fs::symlink_status(path_, ec))) {
      if (!follow) {
        err << printable(given) << ": error: this is a symbolic link; iptplan does not write through one "
            << "(give the file itself, or add --follow-symlinks)\n";
        return;
      }
      // Follow the chain of links to the file at its end, which may not
      // exist yet (it is then created there, and the links stay links).
      auto at = link_end(path_);
      if (!at) {
        err << printable(given) << ": error: too many levels of symbolic links\n";
        return;
      }
      path_ = at->string();
    }
    if (fs::is_directory(path_, ec)) {
      err << printable(given) << ": error: this is a folder; -o needs a file name\n";
      return;
    }
    ::mode_t mode = 0600;
    struct ::stat st {};
    if (::stat(path_.c_str(), &st) == 0) {
      mode = st.st_mode & 07777;
      // The file is replaced by a rename, which its own permissions do not
      // stop (nor do they stop root): a file its owner cannot write is one
      // somebody meant to keep, so it is not replaced.
      if (S_ISREG(st.st_mode) && (st.st_mode & S_IWUSR) == 0) {
        char octal[8];
        std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
        err << printable(given) << ": error: this file is read-only (mode " << octal
            << "); iptplan does not replace it (make it writable, or give another file)\n";
        return;
      }
    }
    std::random_device rd;
    // Named after this process: a temporary file a SIGKILL left at the
    // very moment of the rename is known for an orphan, and removed, by
    // the next write to this file.
    tmp_ = path_ + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
    remove_orphans();
    // First a file with no name in the folder (O_TMPFILE): a kill, even
    // SIGKILL, before it is complete leaves nothing behind. It gets its
    // temporary name only once written and flushed, just before the rename.
    {
      auto parent = fs::absolute(path_, ec).parent_path();
      if (!ec && fs::exists("/proc/self/fd", ec)) {
        fd_ = ::open(parent.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        unnamed_ = fd_ >= 0;
      }
    }
    if (!unnamed_) {
      guard_.emplace(tmp_);
      fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    if (fd_ < 0) {
      int e = errno;
      guard_.reset();
      auto parent = fs::absolute(path_, ec).parent_path();
      if (!fs::is_directory(parent, ec)) {
        err << printable(given) << ": error: cannot write here: the folder " << printable(parent.string()) << " does not exist\n";
        return;
      }
      fail("cannot write here", e);
      return;
    }
    if (::fchmod(fd_, mode) != 0) abandon_with("cannot set its permissions");
  }
  ~atomic_file() { abandon(); }
  atomic_file(const atomic_file&) = delete;
  atomic_file& operator=(const atomic_file&) = delete;

  bool ok() const { return fd_ >= 0; }

  bool write(std::string_view text) {
    if (fd_ < 0) return false;
    for (std::size_t done = 0; done < text.size();) {
      ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return abandon_with("writing failed");
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  bool commit() {
    if (fd_ < 0) return false;
    if (::fsync(fd_) != 0) return abandon_with("writing failed");
    if (unnamed_) {
      std::string self = "/proc/self/fd/" + std::to_string(fd_);
      // A file not there yet gets its name at once: no temporary name.
      if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path_.c_str(), AT_SYMLINK_FOLLOW) == 0) {
        int fd = fd_;
        fd_ = -1;
        unnamed_ = false;
        if (::close(fd) != 0) return fail("writing failed", errno);
        return true;
      }
      if (errno != EEXIST) {
        int e = errno;
        ::close(fd_);
        fd_ = -1;
        return fail("cannot write here", e);
      }
      // Named now, complete, and renamed at once: only between these two
      // calls could a kill leave the temporary name (removed by the next
      // write: remove_orphans).
      guard_.emplace(tmp_);
      if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, tmp_.c_str(), AT_SYMLINK_FOLLOW) != 0) {
        int e = errno;
        guard_.reset();
        ::close(fd_);
        fd_ = -1;
        return fail("cannot write here", e);
      }
      unnamed_ = false;
      if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp_.c_str());
        guard_.reset();
        ::close(fd_);
        fd_ = -1;
        return fail("cannot replace this file", e);
      }
      guard_.reset();
      int fd = fd_;
      fd_ = -1;
      if (::close(fd) != 0) return fail("writing failed", errno);
      return true;
    }
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) {
      int e = errno;
      ::unlink(tmp_.c_str());
      guard_.reset();
      return fail("writing failed", e);
    }
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
      int e = errno;
      ::unlink(tmp_.c_str());
      guard_.reset();
      return fail("cannot replace this file", e);
    }
    guard_.reset();
    return true;
  }

  // Temporary files of this file left by a process that no longer runs
  // (`NAME.tmp-PID-N`, PID gone): a SIGKILL between the temporary name and
  // the rename. Another run's, still running, is left alone.
  void remove_orphans() const {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path target(path_);
    const std::string prefix = target.filename().string() + ".tmp-";
    auto folder = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    std::size_t seen = 0;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end && seen < 10000; it.increment(ec), ++seen) {
      std::string name = it->path().filename().string();
      if (name.rfind(prefix, 0) != 0) continue;
      std::string rest = name.substr(prefix.size());
      auto dash = rest.find('-');
      if (dash == std::string::npos || dash == 0 || dash > 9 ||
          rest.find_first_not_of("0123456789") != dash || rest.size() == dash + 1 ||
          rest.find_first_not_of("0123456789", dash + 1) != std::string::npos) {
        continue;
      }
      pid_t pid = static_cast<pid_t>(std::stol(rest.substr(0, dash)));
      if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) ::unlink(it->path().c_str());
    }
  }

  // Removes the temporary file; nothing is written.
  void abandon() {
    if (fd_ < 0) return;
    ::close(fd_);
    fd_ = -1;
    if (!unnamed_) ::unlink(tmp_.c_str());  // an unnamed file vanishes with its descriptor
    guard_.reset();
  }

 private:
  std::string given_, path_, tmp_;
  std::ostream& err_;
  int fd_ = -1;
  bool unnamed_ = false;  // written as an O_TMPFILE, not yet linked
  std::optional<tmp_guard> guard_;

  bool fail(const char* what, int e) {
    std::string why = e == ENOSPC   ? "the disk is full"
                      : e == EDQUOT ? "the disk quota is used up"
                      : e == EACCES || e == EPERM ? "permission denied"
                      : e == EROFS ? "the disk is read-only"
                                    : std::strerror(e);
    err_ << given_ << ": error: " << what << ": " << why << "; nothing was written\n";
    return false;
  }
  bool abandon_with(const char* what) {
    int e = errno;
    abandon();
    return fail(what, e);
  }
};

}  // namespace

bool is_plan_store(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[16] = {};
  return in.read(head, sizeof head) && std::string(head, sizeof head) == std::string("SQLite format 3\0", 16);
}

bool write_atomically(const std::string& given, const std::string& text, bool follow, std::ostream& err) {
  // A plan store (the configured one, or a server's) is never replaced by
  // a written file: every record and its chain would be lost.
  if (is_plan_store(given)) {
    err << printable(given) << ": error: this is a plan store (an SQLite database); iptplan never writes over one: "
        << "choose another name\n";
    return false;
  }
  atomic_file f(given, follow, err);
  return f.ok() && f.write(text) && f.commit();
}

namespace {

// Writes to standard output; a failure (a full disk, a closed pipe) is an
// error, not a plan silently lost: run_main reports it.
bool write_out(std::ostream& out, const std::string& text) {
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

// A folder holding a rule set: its ruleset.toml beside a vocabulary or a
// rule file (a lone ruleset.toml, say in a home folder, is not one).
bool is_rule_set_folder(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_regular_file(dir / "ruleset.toml", ec)) return false;
  if (fs::exists(dir / "vocabulary.toml", ec)) return true;
  std::size_t seen = 0;
  for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end && seen < 10000; it.increment(ec), ++seen) {
    if (it->path().extension() == ".rules") return true;
  }
  return false;
}

// Why `-o output` may not be written, or "" when it may: over a findings
// file it would destroy the inventory, inside the rule set it would change
// the rules, and a device or pipe is not a file.
std::string refused_output(const std::string& output, const std::vector<std::string>& files,
                           const std::string& rules) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& f : files) {
    if (f == "-") {
      // Findings on standard input may come from a file (`< jane.toml`):
      // the same file, by device and inode, is not written over either.
      struct stat in{}, o{};
      if (::fstat(STDIN_FILENO, &in) == 0 && ::stat(output.c_str(), &o) == 0 && in.st_dev == o.st_dev &&
          in.st_ino == o.st_ino) {
        return "is the file the findings are read from (standard input); choose another name";
      }
      continue;
    }
    if (fs::exists(output, ec) && fs::equivalent(output, f, ec)) {
      return "is one of the findings files; choose another name";
    }
  }
  if (!rules.empty() && path_inside(rules, output)) {
    return "is inside the rule set folder " + rules + "; write the plan elsewhere";
  }
  // A file of the rule set reached by another path: a rule file or the
  // vocabulary may be a link to a file kept elsewhere.
  if (!rules.empty() && fs::exists(output, ec)) {
    std::size_t seen = 0;
    for (fs::recursive_directory_iterator it(rules, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end && seen < 100000; it.increment(ec), ++seen) {
      std::error_code e2;
      if (fs::equivalent(output, it->path(), e2)) {
        return "is a file of the rule set " + rules + " (" + it->path().filename().string() +
               "); write the plan elsewhere";
      }
    }
  }
  // Nor over a file of any other rule set, nor over findings: a plan
  // written there would destroy what it came from.
  // Both the name given and, when it is a symbolic link (written through
  // with --follow-symlinks), the file at its end are checked.
  std::vector<fs::path> names{fs::absolute(output, ec).lexically_normal()};
  if (std::error_code e2; fs::is_symlink(fs::symlink_status(output, e2))) {
    auto end = link_end(output);
    if (!end) return "is a chain of too many symbolic links";
    // The folders on the way resolved too (a link to a folder of links).
    auto target = fs::weakly_canonical(*end, e2);
    names.push_back(e2 ? *end : target);
  }
  for (const auto& abs : names) {
    for (fs::path up = abs.parent_path(); !up.empty(); up = up.parent_path()) {
      std::error_code e2;
      if (is_rule_set_folder(up)) {
        return "is inside the rule set folder " + printable(up.string()) + "; write the plan elsewhere";
      }
      if (up == up.root_path()) break;
    }
    // Compared in any case: up.TOML is a findings file too.
    auto lower = [](std::string x) {
      for (auto& c : x) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return x;
    };
    std::string ext = lower(abs.extension().string()), file = lower(abs.filename().string());
    if (file == "ruleset.toml" || file == "vocabulary.toml" || ext == ".rules") {
      return "is named as a file of a rule set; a plan written there would make its folder look like one: "
             "choose another name";
    }
    std::error_code e2;
    const bool exists = fs::exists(abs, e2);
    if (exists && (ext == ".toml" || ext == ".jsonl")) {
      return "is a " + std::string(ext == ".toml" ? "TOML (findings or settings)" : "JSON Lines (a caseload)") +
             " file; a plan is never written over one: choose another name";
    }
    // A .json file is written over only when it holds a plan (or plans)
    // iptplan wrote: JSON findings, a FHIR response, anything else is kept.
    if (exists && ext == ".json" && fs::is_regular_file(abs, e2)) {
      std::vector<diagnostic> ignored;
      auto text = read_text_file(abs.string(), "plan.output", ignored);
      auto j = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
      auto is_plan = [](const nlohmann::json& x) {
        return x.is_object() && x.contains("provenance") && x.contains("draft");
      };
      bool plans = is_plan(j) || (j.is_array() && !j.empty() && std::all_of(j.begin(), j.end(), is_plan));
      if (!plans) {
        return "is a JSON file that is not a plan iptplan wrote (findings, perhaps); a plan is never written over "
               "one: choose another name";
      }
    }
  }
  auto st = fs::status(output, ec);
  if (!ec && fs::is_directory(st)) return "is a folder; give a file name";

  if (!ec && fs::exists(st) && !fs::is_regular_file(st)) {
    return "is not a regular file (a device, pipe or socket); give a file name";
  }
  return "";
}

bool may_plan(const rule_set& rs, bool require_approved, std::ostream& err);
std::string rule_set_status(const rule_set& rs);

struct record_options {
  bool record = false;
  bool require_approved = false;
  std::string store, by;
};

int cmd_plan(const std::vector<std::string>& files, const std::string& rules, const std::string& fmt,
             const std::string& output_arg, bool allow_unknown, bool follow, const record_options& rec,
             std::istream& in, std::ostream& out, std::ostream& err) {
  std::string output = output_arg == "-" ? "" : output_arg;  // -o - is standard output
  if (std::count(files.begin(), files.end(), "-") > 1) {
    err << "iptplan: '-' (standard input) may be given once\n";
    return kUsage;
  }
  if (!output.empty()) {
    if (auto why = refused_output(output, files, rules); !why.empty()) {
      err << "iptplan: -o " << printable(output) << " " << why << "\n";
      return kUsage;
    }
    // Before anything is planned or recorded.
    if (is_plan_store(output)) {
      err << "iptplan: -o " << printable(output)
          << " is a plan store (an SQLite database); iptplan never writes over one: choose another name\n";
      return kUsage;
    }
    // What can be known before anything is planned or recorded.
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(output, ec)) && !follow) {
      err << printable(output) << ": error: this is a symbolic link; iptplan does not write through one "
          << "(give the file itself, or add --follow-symlinks)\n";
      return kInputError;
    }
    auto parent = fs::absolute(output, ec).parent_path();
    if (!fs::is_directory(parent, ec)) {
      err << printable(output) << ": error: cannot write here: the folder " << printable(parent.string()) << " does not exist\n";
      return kInputError;
    }
  }
  std::string store, by;
  if (rec.record) {
    auto where = store_location(rec.store, err);
    auto who = author(rec.by, err);
    if (!where || !who) return kUsage;
    store = *where;
    by = *who;
    // A store file never takes the place of a findings file or a file of
    // the rule set (an empty findings file would become a database), nor
    // of the plan written with -o.
    if (!store.empty() && !iptplan::store::is_postgresql_location(store)) {
      std::string path = store.rfind("sqlite:", 0) == 0 ? store.substr(7) : store;
      std::string why = refused_output(path, files, rules);
      // A file with other names (hard links) that is not a store yet: SQLite
      // writes in place, so another name (a rule file, findings) would become
      // a database.
      if (struct stat st {}; why.empty() && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
                             st.st_nlink > 1 && !is_plan_store(path)) {
        why = "is a file with other names (hard links) that is not a plan store; a store is never created over "
              "one: choose another name";
      }
      namespace fs = std::filesystem;
      std::error_code ec;
      // The same file by any spelling (./x, sub/../x), existing or not.
      if (why.empty() && !output.empty() &&
          ((fs::exists(path, ec) && fs::equivalent(path, output, ec)) ||
           fs::weakly_canonical(fs::absolute(path, ec), ec) == fs::weakly_canonical(fs::absolute(output, ec), ec))) {
        why = "is the file -o writes the plan to; choose another name";
      }
      if (!why.empty()) {
        err << "iptplan: --store " << printable(path) << " " << why << "\n";
        return kUsage;
      }
    }
  }
  std::vector<rule_set_file> rule_files;
  auto rs = load(rules, err, false, nullptr, &rule_files);
  if (!rs) return kInputError;
  if (!may_plan(*rs, rec.require_approved, err)) return kInputError;
  auto render = [&](const plan& p) {
    return fmt == "json" ? render_json(p) : fmt == "markdown" ? render_markdown(p) : render_text(p);
  };
  // Plans rendered one after another: a JSON array around several JSON
  // plans; a rule between text or markdown plans.
  const bool array = fmt == "json" && files.size() > 1;
  auto piece = [&](std::size_t i, std::string rendered) {
    std::string t;
    if (array) {
      if (i == 0) t = "[\n";
      if (!rendered.empty() && rendered.back() == '\n') rendered.pop_back();
      t += rendered + (i + 1 < files.size() ? ",\n" : "\n]\n");
    } else {
      if (i > 0) t = fmt == "markdown" ? "\n\n" : "\n" + std::string(72, '=') + "\n\n";
      t += rendered;
    }
    return t;
  };
  // Rules that contradict each other for a client (plan.conflict) are an
  // error of the rule set: reported, and the run fails.
  auto conflicts = [&](const planned& pl) {
    std::vector<diagnostic> plan_errors;
    for (const auto& d : pl.p.diagnostics) {
      if (d.level == severity::error) plan_errors.push_back(d);
    }
    print(err, plan_errors);
    return !plan_errors.empty();
  };

  if (rec.record) {
    // Recorded once every plan was made, before any is shown or written: a
    // plan on record is one the clinician could have received.
    std::vector<planned> plans;
    bool failed = false, conflicted = false;
    for (const auto& f : files) {
      auto pl = plan_for(*rs, f, allow_unknown, in, err);
      if (!pl) {
        failed = true;
        continue;
      }
      // A record keeps the findings as they were read, for good (the chain
      // forbids deleting them): a key the vocabulary does not know, ignored
      // by --allow-unknown, may hold what identifies the client.
      if (pl->unknown_keys) {
        err << "iptplan: error: " << (f == "-" ? std::string(kStdinName) : f)
            << ": keys that are not in the vocabulary are never recorded (a record keeps the findings for good, "
               "and such a key may hold identifying data): correct or remove them, then record [plan.record]\n";
        failed = true;
        continue;
      }
      conflicted = conflicts(*pl) || conflicted;
      plans.push_back(std::move(*pl));
    }
    if (failed || conflicted) {
      if (!output.empty()) err << "nothing was written to " << printable(output) << "\n";
      err << "nothing was recorded\n";
      return kInputError;
    }
    for (const auto& pl : plans) {
      if (!record_plan(store, by, *rs, rule_files, pl, err)) return kInputError;
    }
    std::string text;
    for (std::size_t i = 0; i < plans.size(); ++i) text += piece(i, render(plans[i].p));
    bool written = output.empty() ? write_out(out, text) : write_atomically(output, text, follow, err);
    if (!written) {
      // On record already: running the command again would record it twice.
      err << "the plan " << (plans.size() == 1 ? "is" : "s are")
          << " on record all the same (above): show " << (plans.size() == 1 ? "it" : "them")
          << " with 'iptplan audit show ID' rather than recording again\n";
    }
    return written ? kOk : kInputError;
  }

  // Without a record, plans are written as they are made, one in memory at
  // a time. Every findings file is read and checked first, so that an error
  // in any of them writes nothing.
  std::optional<std::string> stdin_text;
  {
    bool failed = false;
    for (const auto& f : files) {
      std::vector<diagnostic> diags;
      auto text = read_findings_text(f, in, diags);
      if (text && f == "-") {
        // Standard input is read once: what reading it said is said now.
        if (!has_errors(diags)) print(err, diags);
        diags.clear();
      }
      if (text) {
        read_any_findings(*rs->prog, f == "-" ? kStdinName : f, *text, allow_unknown, diags);
        if (f == "-") stdin_text = std::move(*text);
      }
      if (has_errors(diags)) {
        print(err, diags);
        failed = true;
      }
    }
    if (failed) {
      if (!output.empty()) err << "nothing was written to " << printable(output) << "\n";
      return kInputError;
    }
  }
  std::optional<atomic_file> file;
  if (!output.empty()) {
    file.emplace(output, follow, err);
    if (!file->ok()) return kInputError;
  }
  bool conflicted = false;
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::optional<planned> pl;
    if (files[i] == "-") {
      pl = plan_text(*rs, kStdinName, *stdin_text, allow_unknown, err, true);
    } else {
      pl = plan_for(*rs, files[i], allow_unknown, in, err, true);
    }
    if (!pl) {  // changed since it was checked
      if (file) file->abandon();
      return kInputError;
    }
    conflicted = conflicts(*pl) || conflicted;
    // A plan past the size a plan may have holds no item: nothing to show
    // (an empty plan would read as "nothing to do").
    if (std::any_of(pl->p.diagnostics.begin(), pl->p.diagnostics.end(),
                    [](const diagnostic& d) { return d.code == "plan.too-large"; })) {
      continue;
    }
    std::string t = piece(i, render(pl->p));
    if (file) {
      if (!conflicted && !file->write(t)) return kInputError;
    } else if (!write_out(out, t)) {
      return kInputError;  // run_main reports the failed write
    }
  }
  if (file) {
    if (conflicted) {
      file->abandon();
      err << "nothing was written to " << printable(output) << "\n";
      return kInputError;
    }
    return file->commit() ? kOk : kInputError;
  }
  // The plans are still shown, with the conflict in them, so they can be read.
  return conflicted ? kInputError : kOk;
}

std::string rule_set_status(const rule_set& rs) {
  if (rs.approved) {
    // An approval holds until the review date (see may_plan).
    bool overdue = !rs.info.review_date.empty() && rs.info.review_date < today_utc();
    return "approved by " + rs.approved->by + " on " + rs.approved->date +
           (overdue ? ", review overdue since " + rs.info.review_date : "");
  }
  if (rs.status == "draft" && rs.tests_changed) {
    return "draft: test cases changed since approved on " + rs.last_approval->date;
  }
  if (rs.status == "draft" && rs.last_approval) return "draft: changed since approved on " + rs.last_approval->date;
  return rs.status;
}

// Whether the rule set may be used to plan: never when retired; with
// --require-approved, only when approved as it is. A review date in the
// past is a warning on every plan.
// "rules/ruleset.toml:3:10: " where ruleset.toml writes it, or "".
std::string manifest_place(const manifest& m, int line, int column) {
  if (m.file.empty() || line <= 0) return "";
  return printable(m.file) + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
}

// The warning a review date in the past gives, at its place in
// ruleset.toml; none when the date is to come or not set.
std::optional<diagnostic> overdue_review(const manifest& m) {
  if (m.review_date.empty() || m.review_date >= today_utc()) return std::nullopt;
  diagnostic d;
  d.level = severity::warning;
  d.code = "ruleset.review-date";
  d.file = m.file;
  d.line = m.review_date_line;
  d.column = m.review_date_column;
  d.message = "the rule set's review date " + m.review_date + " has passed: a clinical lead should review it";
  return d;
}

bool may_plan(const rule_set& rs, bool require_approved, std::ostream& err) {
  if (rs.status == "retired") {
    std::string place = manifest_place(rs.info, rs.info.status_line, rs.info.status_column);
    err << (place.empty() ? std::string("iptplan: ") : place) << "error: the rule set "
        << rs.info.name << " " << rs.info.version
        << " is retired (its status in ruleset.toml): it may not be used to plan [ruleset.retired]\n";
    return false;
  }
  if (require_approved && rs.status != "approved") {
    err << "iptplan: error: the rule set " << rs.info.name << " " << rs.info.version << " is a "
        << rule_set_status(rs) << "; --require-approved plans only with a rule set approved as it is "
        << "('iptplan approve DIR --by NAME')\n";
    return false;
  }
  if (auto d = overdue_review(rs.info)) {
    // An approval holds until the review date: past it, production
    // (--require-approved) waits for the review, as it would for a draft.
    if (require_approved) {
      d->level = severity::error;
      d->notes.push_back("--require-approved plans only with a rule set whose review is not overdue: review it, "
                         "set the next review date in ruleset.toml, and approve it again");
      err << format(*d);
      return false;
    }
    err << format(*d);
  }
  return true;
}

int cmd_approve(const std::string& dir, const std::string& by_arg, std::ostream& out, std::ostream& err) {
  namespace fs = std::filesystem;
  if (by_arg.find_first_not_of(" \t") == std::string::npos) {
    err << "iptplan: --by needs the name of who approves (a clinical lead's name or staff id)\n";
    return kUsage;
  }
  auto by = author(by_arg, err);
  if (!by) return kUsage;
  // With check's style warnings (a rule with no source or no reason), as
  // `iptplan check` shows them: the lead approves what they have seen.
  auto rs = load(dir, err, true, nullptr, nullptr, false);  // safety exclusions: below, as errors
  if (!rs) return kInputError;
  if (rs->info.status == "retired") {
    err << manifest_place(rs->info, rs->info.status_line, rs->info.status_column) << "error: " << printable(dir)
        << " is retired (its status in ruleset.toml); a retired rule set is not approved [ruleset.retired]\n";
    return kInputError;
  }
  if (rs->approved && !overdue_review(rs->info)) {
    out << printable(dir) << ": " << rs->info.name << " " << rs->info.version << " is already approved as it is, by "
        << rs->approved->by << " on " << rs->approved->date << "\n";
    return kOk;
  }
  // Approved only as a whole: every rule checks and every test case passes.
  std::ostringstream quiet_out, quiet_err;
  if (cmd_test(dir, true, -1, "json", quiet_out, quiet_err) != kOk) {
    if (quiet_err.str().find("no test cases") != std::string::npos) {
      err << "iptplan: error: " << printable(dir) << " has no test cases (tests/*.toml): a rule set is approved only when "
          << "its test cases pass\n";
    } else {
      // Which ones, by name (a lead should not need a second command to
      // find out).
      std::string failing;
      std::size_t n_failing = 0;
      auto j = nlohmann::json::parse(quiet_out.str(), nullptr, false);
      if (!j.is_discarded() && j.contains("cases") && j["cases"].is_array()) {
        for (const auto& c : j["cases"]) {
          if (!c.is_object() || c.value("passed", true)) continue;
          if (++n_failing <= 10) failing += "\n  " + printable(c.value("file", c.value("name", std::string())));
        }
      }
      err << "iptplan: error: the test cases of " << printable(dir) << " do not all pass; run 'iptplan test " << printable(dir)
          << "': a rule set is approved only when they do";
      if (n_failing) {
        err << ". Failing:" << failing;
        if (n_failing > 10) err << "\n  ... and " << with_thousands(n_failing - 10) << " more";
      }
      err << "\n";
    }
    return kInputError;
  }
  // What lint finds is shown; a safety item that a rule outside the safety
  // rules can remove is never approved (it can take a safety plan out of
  // a high-risk client's plan), unless the rule says why it may.
  std::size_t unsafe = 0, uncited = 0;
  for (auto& d : lint(*rs)) {
    if (d.code == "lint.safety-exclude") {
      d.level = severity::error;
      ++unsafe;
    }
    // A citation an auditor cannot resolve (a fact id sources.toml does
    // not list, or a misspelt "domain") is no ground for an approved rule.
    if (d.code == "lint.unknown-source") {
      d.level = severity::error;
      ++uncited;
    }
    err << format(d);
  }
  // Each safety exclusion a rule allows with its reason is listed: the
  // approver reads every one (a one-word reason passes lint, not review).
  for (const auto& r : rs->prog->rules) {
    auto reason = lint_allow_reason(*rs->prog, r, "lint.safety-exclude");
    if (!reason) continue;
    err << rs->prog->file_of(r) << ":" << r.line << ": note: rule '" << r.id
        << "' may remove a safety item (outside the safety rules, or with nothing in its place), allowed ('# lint: "
           "allow lint.safety-exclude') because: "
        << printable(*reason) << "\n";
  }
  if (uncited) {
    err << "iptplan: error: " << printable(dir) << " is not approved: " << uncited
        << (uncited == 1 ? " citation names" : " citations name")
        << " a clinical fact that sources.toml does not list (above); correct the id, or add the fact to "
           "sources.toml\n";
    return kInputError;
  }
  if (unsafe) {
    err << "iptplan: error: " << printable(dir) << " is not approved: " << unsafe
        << (unsafe == 1 ? " rule" : " rules") << " can remove a safety item (above): outside the safety rules of "
        << kSafetyFile << ", or with no safety item in its place; move the exclusion into a safety rule there "
           "that proposes what replaces it, or give the reason with '# lint: allow lint.safety-exclude because ...'\n";
    return kInputError;
  }
  // Every safety rule is shown working by a test case: one no case fires
  // (never true, or never tried) could fail a client unseen.
  {
    auto j = nlohmann::json::parse(quiet_out.str(), nullptr, false);
    std::vector<std::string> untried;
    if (!j.is_discarded() && j.contains("coverage")) {
      const auto& by_rule = j["coverage"]["by_rule"];
      for (std::size_t i = 0; i < rs->prog->rules.size() && i < by_rule.size(); ++i) {
        const auto& r = rs->prog->rules[i];
        // A rule allowed to remove a safety item too: the exclusion a lead
        // allowed must be seen at work, on a case, before it is approved.
        bool allowed_exclusion = lint_allow_reason(*rs->prog, r, "lint.safety-exclude").has_value();
        if ((is_safety_rule(r) || allowed_exclusion) && by_rule[i].value("fired", 0) == 0) {
          untried.push_back(rs->prog->base_of(r) + ":" + std::to_string(r.line) + ": " + r.id);
        }
      }
    }
    if (!untried.empty()) {
      err << "iptplan: error: " << printable(dir) << " is not approved: "
          << (untried.size() == 1 ? "a safety rule (or a rule allowed to remove a safety item) fires"
                                  : std::to_string(untried.size()) +
                                        " safety rules (or rules allowed to remove a safety item) fire")
          << " in no test case; add a case that shows each working (or, if it can never fire, correct "
             "its condition: 'iptplan lint' says why):\n";
      for (const auto& u : untried) err << "  " << u << "\n";
      return kInputError;
    }
  }
  // An allowed exclusion of a safety item is approved only once a case
  // shows the item removed (it lists it under [expect] excluded, and the
  // cases pass): a rule that fires only where it removes nothing proves
  // nothing (from a lead's trial: a safety plan dropped from high-risk
  // plans by a rule approved on low-risk cases).
  {
    std::set<std::string> shown_excluded;
    std::error_code ec;
    const fs::path tests = fs::path(dir) / "tests";
    for (fs::directory_iterator it(tests, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::path& f = it->path();
      if (f.extension() != ".toml" || !it->is_regular_file(ec)) continue;
      std::vector<diagnostic> ignored;
      auto text = read_text_file(f.string(), "test.read", ignored);
      if (!text) continue;
      auto tc = read_test_case(f.filename().string(), *text,
                               [](const std::string&) -> std::optional<std::pair<std::string, std::string>> {
                                 return std::make_pair(std::string(), std::string());
                               },
                               ignored);
      if (!tc) continue;
      if (auto ex = tc->expect.find("excluded"); ex != tc->expect.end()) {
        for (const auto& id : ex->second) shown_excluded.insert(id.substr(0, id.find('[')));
      }
    }
    std::vector<std::string> unshown;
    for (const auto& r : rs->prog->rules) {
      if (!lint_allow_reason(*rs->prog, r, "lint.safety-exclude")) continue;
      for (const auto& a : r.actions) {
        if (a.kind != ast::action_kind::exclude || shown_excluded.count(a.id)) continue;
        bool safety_item = false;
        for (auto k : rs->prog->rules_proposing(a.id)) safety_item = safety_item || is_safety_rule(rs->prog->rules[k]);
        if (!safety_item) continue;
        unshown.push_back(rs->prog->base_of(r) + ":" + std::to_string(r.line) + ": rule " + r.id + " removes " + a.id);
      }
    }
    if (!unshown.empty()) {
      err << "iptplan: error: " << printable(dir) << " is not approved: a rule allowed to remove a safety item is "
             "shown removing it by no test case; add a case where it does, listing the item under [expect] "
             "excluded (for example excluded = [\"safety_plan\"]):\n";
      for (const auto& u : unshown) err << "  " << printable(u) << "\n";
      return kInputError;
    }
  }
  if (auto d = overdue_review(rs->info)) {
    d->level = severity::error;
    d->notes.push_back("an approval holds until the review date: review the rule set, set the next review date "
                       "in ruleset.toml, then approve it");
    err << format(*d);
    err << "iptplan: error: " << printable(dir) << " is not approved: its review date has passed\n";
    return kInputError;
  }
  std::string path = (fs::path(dir) / kApprovalFile).string();
  std::string text;
  std::error_code ec;
  bool existed = fs::exists(path, ec);
  if (existed) {
    std::vector<diagnostic> diags;
    auto old = read_text_file(path, "ruleset.approval", diags);
    if (!old) {
      print(err, diags);
      return kInputError;
    }
    text = *old;
    if (!text.empty() && text.back() != '\n') text += '\n';
  } else {
    text = "# Approvals of this rule set, written by 'iptplan approve'. The rule set is\n"
           "# approved only while its files (ruleset.toml, vocabulary.toml, sources.toml,\n"
           "# *.rules) hash to the sha256 of the last approval, and its test cases\n"
           "# (tests/) to its tests_sha256: any change makes it a draft again.\n";
  }
  std::string name;
  for (char c : *by) name += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
  std::string date = today_utc();
  std::vector<diagnostic> read_tests;
  std::string tests = tests_hash(dir, read_tests);
  if (tests.empty()) {
    print(err, read_tests);
    return kInputError;
  }
  text += "\n[[approvals]]\nsha256 = \"" + rs->sha256 + "\"\ntests_sha256 = \"" + tests + "\"\nby = \"" + name +
          "\"\ndate = " + date + "\n";
  // Each file's own hash, so that a later change names its files: of the
  // files as approved (read again, and refused if they changed meanwhile).
  std::vector<diagnostic> reread;
  auto files = read_rule_folder(dir, reread);
  if (rule_set_hash(files) != rs->sha256) {
    err << "iptplan: error: the files of " << printable(dir) << " changed while it was being approved; approve again\n";
    return kInputError;
  }
  text += "[approvals.files]\n";
  for (const auto& f : files) {
    if (f.base == kApprovalFile) continue;
    std::string key;
    for (char c : f.base) key += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
    text += "\"" + key + "\" = \"" + sha256_hex(f.text) + "\"\n";
  }
  // The file as it will be must read back with this approval last: one
  // that is not valid TOML (or ends inside an open string, which would
  // swallow the new lines) is refused, and nothing written.
  {
    std::vector<diagnostic> diags;
    auto t = parse_toml(path, text, "ruleset.approval", diags, true);
    const toml::array* all = t ? (*t)["approvals"].as_array() : nullptr;
    const toml::table* last = all && !all->empty() ? all->back().as_table() : nullptr;
    if (!last || (*last)["sha256"].value_or(std::string()) != rs->sha256 ||
        (*last)["by"].value_or(std::string()) != *by) {
      print(err, diags);
      err << "iptplan: error: " << printable(path) << " cannot take a new approval (it is not valid TOML, or its "
          << "last table is not an approval): correct it, or move it aside, then approve again\n";
      return kInputError;
    }
  }
  if (!write_atomically(path, text, false, err)) return kInputError;
  if (!existed) {
    // As readable as the rule set's other files.
    struct ::stat st {};
    if (::stat((fs::path(dir) / "ruleset.toml").c_str(), &st) == 0) ::chmod(path.c_str(), st.st_mode & 07777);
  }
  out << printable(dir) << ": " << rs->info.name << " " << rs->info.version << " (sha256 " << rs->sha256.substr(0, 12)
      << ") approved by " << *by << " on " << date
      << "; any change to its files or its test cases makes it a draft again\n";
  return kOk;
}

// A bash completion script from the commands and options themselves:
// subcommands first, then each one's options (and audit's own commands),
// file names otherwise.
std::string bash_completion(CLI::App& app) {
  auto options_of = [](const CLI::App* a) {
    std::string words;
    for (const auto* o : a->get_options()) {
      for (const auto& l : o->get_lnames()) words += " --" + l;
      for (const auto& s : o->get_snames()) words += " -" + s;
    }
    return words;
  };
  std::string subs, cases;
  for (auto* sc : app.get_subcommands([](CLI::App*) { return true; })) {
    subs += " " + sc->get_name();
    std::string words = options_of(sc);
    for (const auto* inner : sc->get_subcommands([](CLI::App*) { return true; })) {  // audit's
      words += " " + inner->get_name();
      cases += "    \"" + sc->get_name() + " " + inner->get_name() + "\") opts=\"" + options_of(inner) + "\" ;;\n";
    }
    cases += "    \"" + sc->get_name() + "\") opts=\"" + words + "\" ;;\n";
  }
  return "# bash completion for iptplan: source <(iptplan completion bash)\n"
         "_iptplan() {\n"
         "  local cur=${COMP_WORDS[COMP_CWORD]} opts key\n"
         "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
         "    COMPREPLY=($(compgen -W \"" + subs.substr(1) + " --help --version --log-level\" -- \"$cur\"))\n"
         "    return\n"
         "  fi\n"
         "  key=${COMP_WORDS[1]}\n"
         "  if [ \"$COMP_CWORD\" -gt 2 ]; then key=\"${COMP_WORDS[1]} ${COMP_WORDS[2]}\"; fi\n"
         "  case \"$key\" in\n" + cases +
         "    *) opts=\"\" ;;\n"
         "  esac\n"
         "  if [ -z \"$opts\" ]; then\n"
         "    case \"${COMP_WORDS[1]}\" in\n" + [&] {
           std::string fallback;
           for (const auto* sc : app.get_subcommands([](CLI::App*) { return true; })) {
             fallback += "      \"" + sc->get_name() + "\") opts=\"" + options_of(sc) + "\" ;;\n";
           }
           return fallback;
         }() +
         "    esac\n"
         "  fi\n"
         "  if [[ $cur == -* ]] || [ \"$COMP_CWORD\" -eq 2 ]; then\n"
         "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
         "  fi\n"
         "  if [ ${#COMPREPLY[@]} -eq 0 ]; then COMPREPLY=($(compgen -f -- \"$cur\")); fi\n"
         "}\n"
         "complete -o filenames -F _iptplan iptplan\n";
}

int cmd_lint(const std::string& dir, const std::string& fmt, std::ostream& out, std::ostream& err) {
  std::vector<diagnostic> load_diags;
  std::optional<rule_set> rs;
  {
    std::optional<collect_diagnostics> collect;
    if (fmt == "json") collect.emplace(load_diags);
    std::ostringstream quiet;
    rs = load(dir, fmt == "json" ? quiet : err, false, nullptr, nullptr, false);
  }
  std::string label = dir.empty() ? "built-in rule set" : dir;
  if (!rs) {
    if (fmt == "json") {
      jsonout::json j = {{"rule_set", dir.empty() ? "built-in" : dir}, {"ok", false}};
      j["diagnostics"] = jsonout::json::array();
      for (const auto& d : load_diags) j["diagnostics"].push_back(jsonout::to_json(d));
      out << jsonout::dump(j);
    }
    return kInputError;
  }
  auto found = lint(*rs);
  if (fmt == "json") {
    jsonout::json j = {{"rule_set", dir.empty() ? "built-in" : dir}, {"ok", found.empty()}};
    j["diagnostics"] = jsonout::json::array();
    for (const auto& d : found) j["diagnostics"].push_back(jsonout::to_json(d));
    out << jsonout::dump(j);
    return found.empty() ? kOk : kInputError;
  }
  if (found.empty()) {
    out << label << ": no lint findings\n";
    return kOk;
  }
  print(err, found);
  err << found.size() << (found.size() == 1 ? " lint finding" : " lint findings") << "\n";
  return kInputError;
}

int cmd_check(const std::string& dir, const std::string& fmt, std::ostream& out, std::ostream& err) {
  int warnings = 0;
  if (fmt == "json") {
    std::vector<diagnostic> diags;
    std::optional<rule_set> rs;
    {
      collect_diagnostics collect(diags);
      std::ostringstream quiet;  // the text summary of a failed load
      rs = load(dir, quiet, true, &warnings);
    }
    if (rs) {
      if (auto d = overdue_review(rs->info)) {
        diags.push_back(*d);
        ++warnings;
      }
    }
    sort_diagnostics(diags);
    jsonout::json j = {{"rule_set", dir.empty() ? "built-in" : dir}, {"ok", rs.has_value()}};
    j["diagnostics"] = jsonout::json::array();
    for (const auto& d : diags) j["diagnostics"].push_back(jsonout::to_json(d));
    j["errors"] = std::count_if(diags.begin(), diags.end(), [](auto& d) { return d.level == severity::error; });
    // Counted from the diagnostics themselves: a failed load reports its
    // warnings too.
    j["warnings"] = std::count_if(diags.begin(), diags.end(), [](auto& d) { return d.level == severity::warning; });
    if (rs) {
      const auto& p = *rs->prog;
      j["name"] = rs->info.name;
      j["version"] = rs->info.version;
      j["sha256"] = rs->sha256;
      j["status"] = rs->status;
      j["approved"] = rs->approved ? jsonout::json{{"by", rs->approved->by}, {"date", rs->approved->date}}
                                   : jsonout::json(nullptr);
      j["rules"] = p.rules.size();
      j["files"] = p.sources.size();
      j["findings"] = p.vocab->findings().size();
      j["facts"] = p.facts.size();
      j["strata"] = p.strata.size();
    }
    out << jsonout::dump(j);
    return rs ? kOk : kInputError;
  }
  auto rs = load(dir, err, true, &warnings);
  if (!rs) return kInputError;
  if (auto d = overdue_review(rs->info)) {
    err << format(*d);
    ++warnings;
  }
  const auto& p = *rs->prog;
  out << (dir.empty() ? std::string("built-in rule set") : dir) << ": " << rs->info.name << " "
      << rs->info.version << " (" << rule_set_status(*rs) << "), " << p.rules.size() << " rules in "
      << p.sources.size()
      << " files, " << p.vocab->findings().size() << " findings, " << p.facts.size()
      << " derived facts, " << p.strata.size() << " strata: no errors"
      << (warnings ? ", " + std::to_string(warnings) + (warnings == 1 ? " warning" : " warnings") : "")
      << "\n";
  return kOk;
}

int cmd_why(const std::string& item, const std::string& findings, const std::string& rules,
            bool allow_unknown, bool why_not, const std::string& fmt, std::istream& in, std::ostream& out,
            std::ostream& err) {
  auto rs = load(rules, err);
  if (!rs) return kInputError;
  if (!may_plan(*rs, false, err)) return kInputError;

  return explain_item(
      *rs, item, [&] { return plan_for(*rs, findings, allow_unknown, in, err); }, why_not, fmt,
      "iptplan why-not " + shell_quoted(item) + " " + shell_quoted(findings) +
          (rules.empty() ? "" : " --rules " + shell_quoted(rules)),
      out, err);
}

}  // namespace

std::string shell_quoted(const std::string& a) {
  bool plain = !a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("_-./:=+,@%").find(c) != std::string_view::npos;
  });
  if (plain) return a;
  std::string q = "'";
  for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

int explain_item(const rule_set& rs_ref, const std::string& item,
                 const std::function<std::optional<planned>()>& make_plan, bool why_not, const std::string& fmt,
                 const std::string& why_not_command, std::ostream& out, std::ostream& err,
                 const std::string& header) {
  const rule_set* rs = &rs_ref;
  bool json = fmt == "json";
  bool fact = rs->prog->fact_index(item) >= 0;
  // A question about nothing the rules know: exit 2, with the id meant.
  auto refuse = [&](const unknown_query& q) {
    const std::string& near = q.suggestion;
    if (json) {
      out << jsonout::dump({{"query", item}, {"error", q.message},
                            {"suggestion", near.empty() ? jsonout::json() : jsonout::json(near)}});
    }
    err << "iptplan: error: " << q.message << (near.empty() ? "" : "; did you mean '" + near + "'?") << "\n";
    return kUsage;
  };
  // A finding (the plan says its work "waits on" one): what is on file and
  // what the plan waits on it for, exit 0 (`why` and `why-not` alike).
  if (!fact && is_finding_query(*rs->prog, item) && rs->prog->rules_proposing(item).empty()) {
    auto pl = make_plan();
    if (!pl) return kInputError;
    out << header << render_why_finding(*rs->prog, pl->client, pl->p, item, json);
    return kOk;
  }
  if (auto unknown = unknown_item(*rs, item)) return refuse(*unknown);
  auto pl = make_plan();
  if (!pl) return kInputError;
  // A key that names no entry of the lists the item's rules go through
  // (role_dispute[daugther]): a misspelt label, said as such, not "no entry
  // of its list matches" as though the rules had decided something.
  if (auto unknown = unknown_key(*rs, pl->client, item)) return refuse(*unknown);
  out << header;  // only once the name is known and the plan made
  const plan& p = pl->p;
  if (fact) {
    auto fe = explain_fact(*rs, pl->client, pl->ev, item);
    if (why_not && !fe->holds) {
      out << (json ? render_why_not_json(*rs, pl->client, pl->ev, p, item)
                   : render_why_not(*rs, pl->client, pl->ev, p, item));
      return kOk;
    }
    out << (json ? render_why_fact_json(item, *fe) : render_why_fact(*fe));
    // `why` answers for a fact with a settled value; one without, or only
    // provisional (to confirm, as an item only to confirm), is not yet one.
    return (fe->holds && !fe->provisional) || why_not ? kOk : kInputError;
  }
  // `role_dispute` names role_dispute[partner] and role_dispute[mother].
  auto found = p.find_all(item);
  if (!found.empty()) {
    if (json) {
      out << render_why_json(item, found);
    } else {
      for (std::size_t i = 0; i < found.size(); ++i) out << (i ? "\n" : "") << render_why(*found[i]);
    }
    // Exit 0 means "in the plan": an item only to confirm is not, yet.
    bool confirmed = std::any_of(found.begin(), found.end(), [](const plan_item* it) { return !it->provisional; });
    return confirmed || why_not ? kOk : kInputError;
  }
  if (!why_not) {
    if (json) {
      out << render_why_json(item, {});
    } else {
      out << printable(item) << " is not in the plan.\n"
          << "Run: " << printable(why_not_command) << "\nto see why.\n";
    }
    return kInputError;
  }
  out << (json ? render_why_not_json(*rs, pl->client, pl->ev, p, item)
               : render_why_not(*rs, pl->client, pl->ev, p, item));
  return kOk;
}

bool rule_set_may_plan(const rule_set& rs, bool require_approved, std::ostream& err) {
  return may_plan(rs, require_approved, err);
}

namespace {

// `export questionnaire` and `export response FINDINGS`.
int cmd_export(bool questionnaire, const std::string& rules, const std::string& findings, std::istream& in,
               std::ostream& out, std::ostream& err) {
  auto rs = load(rules, err);
  if (!rs) return kInputError;
  if (questionnaire) {
    out << jsonout::dump(fhir::questionnaire(*rs));
    return kOk;
  }
  auto pl = plan_for(*rs, findings, false, in, err, true);
  if (!pl) return kInputError;
  out << jsonout::dump(fhir::response_of(fhir::findings_json(*rs->prog, pl->client), *rs));
  return kOk;
}

}  // namespace

int run_command(int argc, const char* const* argv, std::istream& in, std::ostream& out, std::ostream& err);

int run_main(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  return run_main(argc, argv, std::cin, out, err);
}

int run_main(int argc, const char* const* argv, std::istream& in, std::ostream& out, std::ostream& err) {
  int code = run_command(argc, argv, in, out, err);
  // Whatever the command, output that could not be written (a full disk,
  // a closed pipe) is an error.
  out.flush();
  if (!out) {
    // A pipe whose reader has gone (`iptplan ... | head`) is the reader's
    // choice: no error message, though the exit status still says that not
    // everything was written. Anything else (a full disk) is an error.
    struct stat st {};
    bool pipe = &out == &std::cout && ::fstat(STDOUT_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
    if (!pipe) {
      err << "iptplan: error: the output could not be written (a full disk?)";
      // A command that changed something did so before its output failed:
      // said, so that nobody runs it again and records it twice.
      // The subcommand: the first word that is not an option before it
      // (`iptplan --log-level debug review ...`).
      std::string cmd;
      for (int i = 1; i < argc && cmd.empty(); ++i) {
        std::string word = argv[i];
        if (word == "--log-level") ++i;
        else if (!word.empty() && word[0] != '-') cmd = word;
      }
      if (code == kOk && cmd == "review") {
        err << "; the review was recorded all the same: see 'iptplan audit list' before running it again";
      } else if (code == kOk && cmd == "approve") {
        err << "; the approval was written all the same: 'iptplan check' shows the rule set's status";
      }
      err << "\n";
    }
    return kInputError;
  }
  return code;
}

int run_command(int argc, const char* const* argv, std::istream& in, std::ostream& out, std::ostream& err) {
  CLI::App app{"iptplan: drafts Interpersonal Psychotherapy treatment plans from a client's "
               "Interpersonal Inventory, explaining every recommendation.\n"
               "Every plan is a draft for review by the treating clinician."};
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag("--version", show_version, "Print the program's version");
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "Diagnostic logging on stderr")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  std::vector<std::string> files;
  std::string rules, fmt = "text", output, item, findings, check_dir;
  bool allow_unknown = false, strict = false;

  // Options of the program (--log-level) may also follow the subcommand.
  app.fallthrough();
  auto* plan_cmd = app.add_subcommand("plan", "Draft a treatment plan for each findings file");
  plan_cmd->add_option("FINDINGS", files, "Findings files (TOML, JSON, or a FHIR QuestionnaireResponse); - reads standard input")->required();
  plan_cmd->add_option("--rules", rules, "Rule set folder (default: the built-in rule set)");
  plan_cmd->add_option("--format", fmt, "Output format")
      ->check(CLI::IsMember({"text", "markdown", "json"}));
  plan_cmd->add_option("-o,--output", output,
                       "Write to this file (nothing is written on error; a new file is private, 0600)")
      ->check([](const std::string& v) {
        return v.empty() ? std::string("an empty file name: give a file, or - for standard output") : std::string();
      });
  bool follow = false;
  plan_cmd->add_flag("--follow-symlinks", follow, "Let -o write through a symbolic link to its target");
  plan_cmd->add_flag("--allow-unknown", allow_unknown,
                     "Read findings the vocabulary does not know as warnings, not errors");
  // Unknown findings are errors by default now; --strict is kept, doing
  // nothing, so that scripts written for earlier versions still run.
  plan_cmd->add_flag("--strict", strict, "Unknown findings are errors (the default)")->group("");

  record_options rec;
  std::string store;
  plan_cmd->add_flag("--record", rec.record, "Record the plan in the plan store (see --store)");
  plan_cmd->add_option("--store", store, "The plan store: an SQLite file or a postgresql:// URL (default: $IPTPLAN_STORE, or [store] path "
                                         "in ~/.config/iptplan/config.toml)");
  auto* plan_by =
      plan_cmd->add_option("--by", rec.by, "Who makes the record (default: $IPTPLAN_USER, or the login name)");

  plan_cmd->add_flag("--require-approved", rec.require_approved,
                     "Refuse to plan unless the rule set is approved as it is (for production)");

  serve_options serve;
  auto* serve_cmd = app.add_subcommand(
      "serve", "Serve the clinic service: the JSON API over HTTP (docs/api.md), on this machine by default");
  serve_cmd->add_option("--rules", serve.rules, "Rule set folder (default: the built-in rule set)");
  serve_cmd->add_flag("--require-approved", serve.require_approved,
                      "Refuse to start unless the rule set is approved as it is (for production)");
  serve_cmd->add_option("--store", serve.store,
                        "Where recorded plans and reviews go: sqlite:FILE, FILE or postgresql://... (default: $IPTPLAN_STORE, or [store] "
                        "path in the configuration file; none set: recording is refused)");
  serve_cmd->add_option("--listen", serve.listen,
                        "ADDRESS:PORT to listen on (default 127.0.0.1:8080); another machine's address needs --token-file");
  serve_cmd->add_option("--token-file", serve.token_file,
                        "A file (mode 600) whose first line is the bearer token every request must carry");
  serve_cmd->add_option("--cds-trust", serve.cds_trust,
                        "A JSON file naming the CDS clients (issuers and their JWK Sets) whose signed tokens "
                        "CDS Hooks calls must carry (docs/api.md)");
  serve_cmd->add_option("--threads", serve.threads, "Requests served at once (default 64)")->check(CLI::Range(1, 256));
  serve_cmd->add_option("--max-body", serve.max_body, "Largest request body in bytes (default 1 MiB)")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{64} << 20));

  std::vector<std::string> batch_inputs;
  batch_options batch;
  auto* batch_cmd = app.add_subcommand(
      "batch", "Plan a caseload: one JSON line per client, in input order, on every core, in constant memory");
  batch_cmd->add_option("INPUT", batch_inputs,
                        "Findings files (.toml, .json), JSON Lines files (.jsonl), folders, or - (standard input: "
                        "JSON Lines, or TOML documents separated by +++ lines; the default)");
  batch_cmd->add_option("--rules", batch.rules, "Rule set folder (default: the built-in rule set)");
  batch_cmd->add_flag("--require-approved", batch.require_approved,
                      "Refuse to plan unless the rule set is approved as it is (for production)");
  batch_cmd->add_option("--jobs,-j", batch.jobs, "Threads (default: one per core)")->check(CLI::Range(1, 256));
  batch_cmd->add_option("--explain", batch.explain,
                        "What each line carries: none (items only), rules (and the rules behind each, the "
                        "default), full (and the whole plan, as plan --format json)")
      ->check(CLI::IsMember({"none", "rules", "full"}));
  batch_cmd->add_flag("--allow-unknown", batch.allow_unknown,
                      "Read findings the vocabulary does not know as warnings, not errors");

  std::vector<std::string> fmt_paths;
  bool fmt_check = false;
  auto* fmt_cmd = app.add_subcommand(
      "fmt", "Rewrite rule files in the canonical layout (comments kept); --check only names the files it "
             "would change");
  fmt_cmd->add_option("PATH", fmt_paths, "Rule files, folders (their *.rules) or - (standard input to output)")
      ->required();
  fmt_cmd->add_flag("--check", fmt_check, "Write nothing; name the files not in the canonical layout, exit 1 if any");

  std::string lint_dir;
  auto* lint_cmd = app.add_subcommand(
      "lint", "Report what check accepts but a clinical lead should know: conditions that can never be true "
              "or always are, safety items another rule can exclude, uncited facts, undeclared parameters");
  lint_cmd->add_option("DIR", lint_dir, "Rule set folder (default: the built-in rule set)");
  lint_cmd->add_option("--format", fmt, "Output format")->check(CLI::IsMember({"text", "json"}));

  std::string diff_old, diff_new;
  std::vector<std::string> diff_findings;
  auto* export_cmd = app.add_subcommand("export", "Write the vocabulary or findings as FHIR R4 resources");
  export_cmd->require_subcommand(1);
  std::string export_rules, export_findings;
  auto* export_q = export_cmd->add_subcommand(
      "questionnaire", "The vocabulary as a FHIR R4 Questionnaire (linkId = finding path; enableWhen for skip logic)");
  export_q->add_option("--rules", export_rules, "Rule set folder (default: the built-in rule set)");
  auto* export_r = export_cmd->add_subcommand(
      "response", "A findings file as a FHIR R4 QuestionnaireResponse to that Questionnaire");
  export_r->add_option("FINDINGS", export_findings, "Findings file (TOML or JSON); - reads standard input")->required();
  export_r->add_option("--rules", export_rules, "Rule set folder (default: the built-in rule set)");

  auto* diff_cmd = app.add_subcommand(
      "diff", "The plans a rule change changes: every client of NEW's tests/clients/ (or the findings given) "
              "planned with OLD and NEW, item by item, with the why on both sides");
  diff_cmd->add_option("OLD", diff_old, "Rule set folder, git revision and path (HEAD~1:rules) or built-in")
      ->required();
  diff_cmd->add_option("NEW", diff_new, "Rule set folder, git revision and path, or built-in")->required();
  diff_cmd->add_option("FINDINGS", diff_findings, "Findings files (default: NEW's tests/clients/*.toml)");
  diff_cmd->add_option("--format", fmt, "Output format: markdown for a review request")
      ->check(CLI::IsMember({"text", "markdown", "json"}));
  bool diff_summary = false;
  diff_cmd->add_flag("--summary", diff_summary,
                     "The rule change and its effects item by item, each with the number of cases, without each "
                     "case's items (a short review request)");

  std::string approve_dir, approve_by;
  auto* approve_cmd = app.add_subcommand(
      "approve",
      "Record that NAME approves the rule set in DIR as it is now, rule files and test cases (which must pass); "
      "any later change to either makes it a draft again");
  approve_cmd->add_option("DIR", approve_dir, "Rule set folder")->required();
  approve_cmd->add_option("--by", approve_by, "Who approves (a clinical lead's name or staff id)")->required();

  auto* audit_cmd = app.add_subcommand("audit", "Read and check the plan store's records");
  audit_cmd->require_subcommand(1);
  auto* audit_verify = audit_cmd->add_subcommand(
      "verify", "Check every record's hash and chain, and every rule set snapshot; name the first that fails");
  auto* audit_list = audit_cmd->add_subcommand("list", "List the records");
  auto* audit_show = audit_cmd->add_subcommand("show", "Show one record, with the decisions on its items");
  auto* audit_overrides = audit_cmd->add_subcommand(
      "overrides", "For each rule, how often clinicians accepted, edited or rejected its items, and why");
  std::string record_arg;
  std::string since;
  audit_show->add_option("ID", record_arg, "Record id")->required();
  audit_overrides->add_option("--since", since, "Only decisions recorded on or after this date (2026-01-31)");
  std::string expect_hash;
  audit_verify
      ->add_option("--expect", expect_hash,
                   "A record hash kept elsewhere (whole, or its first 12 or more hex digits): fail unless a record "
                   "still has it")
      ->check([](const std::string& h) {
        bool hex = h.size() >= 12 && h.size() <= 64 &&
                   h.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
        return hex ? std::string() : std::string("a record hash: 12 to 64 lower-case hex digits");
      });
  for (auto* c : {audit_verify, audit_list, audit_show, audit_overrides}) {
    c->add_option("--store", store, "The plan store (default: $IPTPLAN_STORE, or the configuration file)");
    c->add_option("--format", fmt, "Output format")->check(CLI::IsMember({"text", "json"}));
  }

  std::vector<std::string> verify_args;
  auto* verify_cmd = app.add_subcommand(
      "verify", "Replay a plan: a record of the store (ID) with its recorded findings and rule set, or a plan "
                "file (PLAN.json FINDINGS) with --rules; report identical or each difference");
  verify_cmd->add_option("ARGS", verify_args, "ID, or PLAN.json FINDINGS")->required();
  verify_cmd->add_option("--store", store, "The plan store (default: $IPTPLAN_STORE, or the configuration file)");
  verify_cmd->add_option("--rules", rules, "Rule set folder, for a plan file (default: the built-in rule set)");
  verify_cmd->add_option("--format", fmt, "Output format")->check(CLI::IsMember({"text", "json"}));

  review_request review;
  auto* review_cmd = app.add_subcommand(
      "review", "Record the clinician's decision on items of a recorded plan: accept, reject (with a reason), edit");
  review_cmd->add_option("ID", record_arg, "The plan's record id")->required();
  review_cmd->add_option("--accept", review.accept, "Items accepted as they are")->expected(1, -1);
  review_cmd->add_option("--reject", review.reject, "Items rejected (needs --reason)")->expected(1, -1);
  review_cmd->add_option("--edit", review.edit, "An item and its new text (repeat for several)");
  review_cmd->add_option("--reason", review.reason, "Why items were rejected or edited");
  auto* review_by = review_cmd->add_option("--by", rec.by, "Who decides (default: $IPTPLAN_USER, or the login name)");
  review_cmd->add_option("--store", store, "The plan store (default: $IPTPLAN_STORE, or the configuration file)");

  auto* check_cmd = app.add_subcommand("check", "Check a rule set and report every problem");
  check_cmd->add_option("DIR", check_dir, "Rule set folder (default: the built-in rule set)");
  check_cmd->add_option("--format", fmt, "Output format: json gives the diagnostics as objects")
      ->check(CLI::IsMember({"text", "json"}));

  std::string test_dir;
  bool show_coverage = false;
  std::string annotate;
  double min_coverage = -1;
  auto* test_cmd = app.add_subcommand("test", "Run the test cases of a rule set (tests/*.toml)");
  test_cmd->add_option("DIR", test_dir, "Rule set folder (default: the built-in rule set)");
  test_cmd->add_flag("--coverage", show_coverage,
                     "Report for each rule whether some case made it fire and left it false, "
                     "and the findings no rule reads");
  test_cmd->add_option("--annotate", annotate,
                       "List this rule file with how often each rule fired and each condition was true or false");
  test_cmd->add_option("--min-coverage", min_coverage,
                       "Fail unless at least this percentage of rules fired in some case")
      ->check(CLI::Range(0.0, 100.0));
  test_cmd->add_option("--format", fmt, "Output format")->check(CLI::IsMember({"text", "json"}));

  std::string why_record;
  auto* why_cmd = app.add_subcommand("why", "Show why an item is in the plan, down to the findings");
  auto* why_not_cmd = app.add_subcommand(
      "why-not", "Show why an item is not in the plan: each rule that could propose it and what stopped it");
  for (auto* c : {why_cmd, why_not_cmd}) {
    c->add_option("ITEM", item,
                  "Item id (weak_relationship, role_dispute[partner]) or derived fact (risk.level)")
        ->required();
    c->add_option("--format", fmt, "Output format")->check(CLI::IsMember({"text", "json"}));
    c->add_option("FINDINGS", findings, "Findings file (TOML); - reads standard input");
    c->add_option("--rules", rules, "Rule set folder (default: the built-in rule set)");
    c->add_option("--record", why_record,
                  "Explain the plan recorded as ID in the plan store, with the findings and rule set it was made "
                  "from (instead of FINDINGS and --rules)");
    c->add_option("--store", store, "The plan store, with --record (default: $IPTPLAN_STORE, or the configuration file)");
    c->add_flag("--allow-unknown", allow_unknown,
                "Read findings the vocabulary does not know as warnings, not errors");
    c->add_flag("--strict", strict, "Unknown findings are errors (the default)")->group("");
  }

  std::string shell;
  auto* completion_cmd = app.add_subcommand("completion", "Print a shell completion script: source <(iptplan completion bash)");
  completion_cmd->add_option("SHELL", shell, "The shell")->required()->check(CLI::IsMember({"bash"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return kOk;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return kOk;
  } catch (const CLI::ParseError& e) {
    // --help on a subcommand arrives here as CallForHelp too (handled above).
    std::string what = e.what();
    if (what.rfind("--edit:", 0) == 0) {
      // CLI11's "--edit: 2 required [TEXT,TEXT] missing" says it in its own terms.
      err << "iptplan: --edit takes the item, then its new text in quotes: --edit ITEM \"new text\"\n"
          << "Run 'iptplan review --help' for usage.\n";
      return kUsage;
    }
    err << "iptplan: " << printable(what) << "\nRun 'iptplan --help' for usage.\n";
    return kUsage;
  }
  // An empty value ('', or an unset shell variable) is never taken as "not
  // given": `--rules ''` would plan with the built-in rules, `--token-file
  // ''` would serve without a token, `--store ''` would record into the
  // default store. Every option and argument that was given needs a value.
  // (--edit's text, --since, --reason and --by say so in their own words.)
  {
    std::vector<const CLI::App*> apps{&app};
    for (std::size_t i = 0; i < apps.size(); ++i) {
      for (const auto* sub : apps[i]->get_subcommands()) apps.push_back(sub);
      for (const auto* opt : apps[i]->get_options()) {
        if (opt->get_type_size() == 0 || opt->count() == 0) continue;  // a flag, or not given
        const std::string name = opt->get_name();
        if (name == "--edit" || name == "--since" || name == "--reason" || name == "--by") continue;
        for (const auto& v : opt->results()) {
          if (v.find_first_not_of(" \t") != std::string::npos) continue;
          const bool positional = opt->get_lnames().empty() && opt->get_snames().empty();
          std::string command;  // "audit list", "plan"
          for (const CLI::App* at = apps[i]; at && at != &app; at = at->get_parent()) {
            command = at->get_name() + (command.empty() ? "" : " " + command);
          }
          err << "iptplan: " << (positional ? "an argument of '" + command + "' is empty"
                                            : name + " is given an empty value")
              << "; give one, or leave " << (positional ? "it" : "the option") << " out\n"
              << "Run 'iptplan " << (command.empty() ? std::string() : command + " ") << "--help' for usage.\n";
          return kUsage;
        }
      }
    }
  }

  if (show_version) {
    out << "iptplan " << program_version() << "\n";
    return kOk;
  }
  if (app.get_subcommands().empty()) {
    err << "iptplan: a subcommand is required (plan, check, test, why, why-not, verify, review, audit)\n"
        << "Run 'iptplan --help' for usage.\n";
    return kUsage;
  }
  use_program_logger();
  // Without --log-level: IPTPLAN_LOG_LEVEL when it names a level; else a
  // service logs each request (never its contents), other commands warnings.
  if (app.get_option("--log-level")->count() == 0) {
    const char* env = std::getenv("IPTPLAN_LOG_LEVEL");
    std::string wanted = env ? env : "";
    if (wanted == "trace" || wanted == "debug" || wanted == "info" || wanted == "warn" || wanted == "error" ||
        wanted == "off") {
      log_level = wanted;
    } else {
      // Said, never ignored in silence: a clinic that set it expects its
      // level. The value itself is not repeated.
      if (!wanted.empty()) {
        err << "iptplan: warning: IPTPLAN_LOG_LEVEL is not a level (trace, debug, info, warn, error, off); "
               "using the default\n";
      }
      if (*serve_cmd) log_level = "info";
    }
  }
  spdlog::set_level(spdlog::level::from_str(log_level));

  // A day fixed for tests that is no day would be ignored, and plans and
  // approvals dated by the clock instead (or by an impossible date).
  if (const char* fixed = std::getenv("IPTPLAN_TODAY"); fixed && *fixed && !is_iso_date(fixed)) {
    err << "iptplan: IPTPLAN_TODAY is set, but not to a date (YYYY-MM-DD, a day that exists); unset it or give "
           "one\n";
    return kUsage;
  }
  if ((plan_by->count() || review_by->count()) && rec.by.empty()) {
    err << "iptplan: --by needs a name (a clinician's role name or staff id)\n";
    return kUsage;
  }
  try {
    rec.store = store;
    if (*plan_cmd) return cmd_plan(files, rules, fmt, output, allow_unknown, follow, rec, in, out, err);
    // Text read from a store or a plan file (ids, names, reasons) reaches
    // the terminal with its control characters escaped, whatever wrote it.
    auto escaped = [&](auto&& command) {
      if (fmt == "json") return command(out);
      std::ostringstream text;
      int rc = command(text);
      out << printable(text.str(), true);
      out.flush();
      return rc;
    };
    if (*verify_cmd && verify_args.size() == 2) {
      return escaped([&](std::ostream& o) { return cmd_verify_file(verify_args[0], verify_args[1], rules, fmt, in, o, err); });
    }
    if (*verify_cmd && (verify_args.size() != 1 || verify_args[0].empty() ||
                        verify_args[0].find_first_not_of("0123456789") != std::string::npos)) {
      err << "iptplan: verify takes a record id (verify 7 --store FILE) or a plan and its findings "
             "(verify plan.json findings.toml [--rules DIR])\n";
      return kUsage;
    }
    if (*verify_cmd && !rules.empty()) {
      // A record replays with the rule set it was planned with, never
      // another: --rules is for a plan file.
      err << "iptplan: --rules does not go with a record id: a recorded plan replays with the rule set it was "
             "planned with, kept in the store (--rules is for verify PLAN.json FINDINGS)\n";
      return kUsage;
    }
    if (*audit_cmd || *verify_cmd || *review_cmd) {
      // Everything about the arguments is checked before the store is opened.
      std::optional<std::int64_t> id;
      if (*audit_show || *review_cmd || *verify_cmd) {
        id = record_id(*verify_cmd ? verify_args[0] : record_arg, err);
        if (!id) return kUsage;
      }
      if (*audit_overrides && audit_overrides->get_option("--since")->count() > 0 && !valid_date(since)) {
        err << "iptplan: --since takes a date as YYYY-MM-DD (2026-01-31)\n";
        return kUsage;
      }
      // `--accept --store s.db`: an option where an item id was due (CLI11
      // takes the next word for a value still required).
      for (const auto* items : {&review.accept, &review.reject}) {
        for (const auto& item : *items) {
          if (*review_cmd && !item.empty() && item[0] == '-') {
            err << "iptplan: " << (items == &review.accept ? "--accept" : "--reject")
                << " takes the ids of plan items (as 'iptplan audit show ID' lists them), but '" << printable(item)
                << "' is an option: give the items right after it\n";
            return kUsage;
          }
        }
      }
      std::optional<std::string> who;
      if (*review_cmd && !(who = author(rec.by, err))) return kUsage;
      auto where = store_location(store, err);
      if (!where) return kUsage;
      return escaped([&](std::ostream& o) {
        if (*audit_verify) {
          // A hash copied from a log in capitals is the same hash.
          for (auto& c : expect_hash) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          return cmd_audit_verify(*where, expect_hash, fmt, o, err);
        }
        if (*audit_list) return cmd_audit_list(*where, fmt, o, err);
        if (*audit_show) return cmd_audit_show(*where, *id, fmt, o, err);
        if (*audit_overrides) return cmd_audit_overrides(*where, since, fmt, o, err);
        if (*verify_cmd) return cmd_verify_record(*where, *id, fmt, o, err);
        return cmd_review(*where, *id, review, *who, o, err);
      });
    }
    if (*check_cmd) return cmd_check(check_dir, fmt, out, err);
    if (*approve_cmd) return cmd_approve(approve_dir, approve_by, out, err);
    if (*lint_cmd) return cmd_lint(lint_dir, fmt, out, err);
    if (*fmt_cmd) return cmd_fmt(fmt_paths, fmt_check, in, out, err);
    if (*batch_cmd) {
      batch.progress = &err == &std::cerr && ::isatty(STDERR_FILENO) == 1;
      return cmd_batch(batch_inputs, batch, in, out, err);
    }
    if (*serve_cmd) return cmd_serve(serve, err);
    if (*completion_cmd) {
      out << bash_completion(app);
      return kOk;
    }
    if (*export_cmd) return cmd_export(export_q->parsed(), export_rules, export_findings, in, out, err);
    if (*diff_cmd) return cmd_diff(diff_old, diff_new, diff_findings, fmt, diff_summary, out, err);
    if (*test_cmd && std::isnan(min_coverage)) {
      err << "iptplan: --min-coverage takes a percentage from 0 to 100\n";
      return kUsage;
    }
    if (*test_cmd) return cmd_test(test_dir, show_coverage, min_coverage, fmt, out, err, annotate);
    if (*why_cmd || *why_not_cmd) {
      bool not_ = why_not_cmd->parsed();
      if (!why_record.empty()) {
        if (!findings.empty() || !rules.empty()) {
          err << "iptplan: --record explains a recorded plan with its own findings and rule set: give no FINDINGS "
                 "or --rules with it\n";
          return kUsage;
        }
        auto id = record_id(why_record, err);
        if (!id) return kUsage;
        auto where = store_location(store, err);
        if (!where) return kUsage;
        return escaped([&](std::ostream& o) { return cmd_why_record(*where, *id, item, not_, fmt, o, err); });
      }
      if (findings.empty()) {
        err << "iptplan: " << (not_ ? "why-not" : "why") << " needs FINDINGS (a findings file, or - for standard "
            << "input), or --record ID for a recorded plan\n";
        return kUsage;
      }
      if (!store.empty()) {
        err << "iptplan: --store goes with --record ID\n";
        return kUsage;
      }
      return cmd_why(item, findings, rules, allow_unknown, not_, fmt, in, out, err);
    }
  } catch (const std::bad_alloc&) {
    err << "iptplan: error: out of memory: the input is too large to handle in the memory available "
           "(docs/limits.md lists what iptplan was measured with); the command stopped before it finished: "
           "a file given with -o is left as it was, and a plan store holds only whole records\n";
    return kInputError;
  } catch (const std::exception& e) {
    err << "iptplan: internal error: " << e.what() << "\n";
    return kInputError;
  }
  return kUsage;
}

}  // namespace iptplan::cli

#include "cli/fmt_command.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iterator>

#include "cli/common.hpp"
#include "format/format.hpp"

namespace iptplan::cli {

namespace {

namespace fs = std::filesystem;

// The files `path` names: itself, or a folder's `*.rules` in name order.
bool expand(const std::string& path, std::vector<std::string>& files, std::ostream& err) {
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    err << printable(path) << ": error: no such file or folder\n";
    return false;
  }
  if (fs::is_directory(st)) {
    std::vector<std::string> found;
    bool ok = true;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() != ".rules") continue;
      // A link in the folder to a file elsewhere is not the folder's to
      // rewrite: fmt writes through it only when given the file itself.
      std::error_code e2;
      if (fs::is_symlink(it->symlink_status(e2)) &&
          !path_inside(path, fs::weakly_canonical(it->path(), e2).string())) {
        err << printable(it->path().string())
            << ": error: a link that leads outside the folder; not formatted (give the file itself to format it)\n";
        ok = false;
        continue;
      }
      found.push_back(it->path().string());
    }
    if (!ok && found.empty()) return false;
    if (ec) {
      err << printable(path) << ": error: cannot list this folder: " << ec.message() << "\n";
      return false;
    }
    if (found.empty()) {
      err << printable(path) << ": error: this folder holds no rule files (*.rules)\n";
      return false;
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
    return ok;
  }
  if (fs::path(path).extension() != ".rules") {
    err << printable(path) << ": error: not a rule file: fmt formats files named *.rules\n";
    return false;
  }
  files.push_back(path);
  return true;
}

}  // namespace

int cmd_fmt(const std::vector<std::string>& paths, bool check, std::istream& in, std::ostream& out,
            std::ostream& err) {
  const bool from_stdin = std::find(paths.begin(), paths.end(), "-") != paths.end();
  if (from_stdin && paths.size() > 1) {
    err << "iptplan: fmt reads standard input (-) alone, not with files\n";
    return kUsage;
  }
  bool failed = false;
  std::vector<std::string> files;
  for (const auto& p : paths) {
    if (!from_stdin && !expand(p, files, err)) failed = true;
  }
  if (from_stdin && stdin_closed(in)) {
    err << "<stdin>: error: standard input is closed: there is nothing to format [fmt.read]\n";
    return kInputError;
  }
  if (from_stdin) {
    std::string why;
    auto read = read_input_stream(in, why);  // stops just past the limit
    if (!read) {
      err << kStdinName << ": error: " << why << " [fmt.read]\n";
      return kInputError;
    }
    std::string text = std::move(*read);
    if (text.size() > kMaxInputBytes) {
      err << kStdinName << ": error: larger than " << kMaxInputBytes / (1024 * 1024)
          << " MiB, the largest rule file iptplan reads\n";
      return kInputError;
    }
    auto r = formatter::format_rule_file(source_file(kStdinName, text));
    if (!r.ok()) {
      print(err, r.diagnostics);
      return kInputError;
    }
    if (check) {
      if (r.text == text) return kOk;
      out << kStdinName << "\n";
      err << "standard input is not in the canonical layout\n";
      return kInputError;
    }
    out << r.text;
    out.flush();
    return out ? kOk : kInputError;
  }
  int changed = 0;
  for (const auto& file : files) {
    std::vector<diagnostic> diags;
    auto text = read_text_file(file, "fmt.read", diags);
    if (!text) {
      print(err, diags);
      failed = true;
      continue;
    }
    auto r = formatter::format_rule_file(source_file(file, *text));
    if (!r.ok()) {
      print(err, r.diagnostics);
      err << printable(file) << ": not formatted: fix the errors above first\n";
      failed = true;
      continue;
    }
    if (r.text == *text) continue;
    // The layout adds indentation and line breaks: a file near the limit
    // could come out past it, and iptplan would then refuse to read it.
    if (r.text.size() > kMaxInputBytes) {
      err << printable(file) << ": error: formatted, this file would be " << r.text.size()
          << " bytes, more than the " << kMaxInputBytes / (1024 * 1024)
          << " MiB iptplan reads; it was not formatted: split it into smaller files\n";
      failed = true;
      continue;
    }
    ++changed;
    // Replacing the file would work in a folder one may write to, but a
    // file its owner made read-only is not fmt's to change.
    struct ::stat st {};
    bool read_only = ::stat(file.c_str(), &st) == 0 && (st.st_mode & 0222) == 0;
    if (!check && (read_only || ::access(file.c_str(), W_OK) != 0)) {
      err << printable(file) << ": error: this file is read-only; it was not formatted\n";
      failed = true;
      continue;
    }
    if (!check && !write_atomically(file, r.text, true, err)) {
      failed = true;
      continue;
    }
    out << printable(file) << "\n";
  }
  if (check && changed > 0) {
    err << changed << (changed == 1 ? " file is" : " files are")
        << " not in the canonical layout; run iptplan fmt on "
        << (changed == 1 ? "it" : "them") << "\n";
    return kInputError;
  }
  out.flush();
  return failed ? kInputError : kOk;
}

}  // namespace iptplan::cli

// The caseload pipeline: inputs are read in order into chunks of records;
// the records of a chunk are planned on every core (each a fast evaluation
// and a selection of items, no text built); the chunk's lines are written in
// input order; then the next chunk. Memory holds one chunk, whatever the
// number of clients.
#include "cli/batch_command.hpp"

#include <sys/stat.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "fhir/fhir.hpp"
#include "cli/common.hpp"
#include "engine/findings_text.hpp"
#include "engine/render/json_writer.hpp"
#include "engine/select.hpp"

namespace iptplan::cli {

namespace {

namespace fs = std::filesystem;

enum class doc_format { toml, json };

// One client to plan: its findings as read, or why they could not be read.
struct record {
  std::string text;
  doc_format format = doc_format::toml;
  std::string name;  // for messages: the file, or the stream
  int line = 0;      // the line of a JSON Lines stream, or 0
  std::string error;  // set when the record could not be read
  std::string error_code;
};

// Reads lines of at most kMaxInputBytes from a stream; a longer line is
// skipped to its end and reported, never held whole.
class line_reader {
 public:
  // `fd` >= 0: read that descriptor directly (standard input from a pipe
  // or terminal), taking what has arrived rather than waiting for a whole
  // buffer, so a client's line can be written before the next arrives.
  explicit line_reader(std::istream& in, int fd = -1) : in_(in), fd_(fd) {}

  // Whether the next line would have to wait for the writer: nothing
  // buffered and nothing ready to read.
  bool would_wait() const {
    if (fd_ < 0 || eof_) return false;
    // A whole line with something on it is buffered: it is read without
    // waiting. Only blank lines or part of one: the next may wait.
    bool content = false;
    for (std::size_t i = pos_; i < len_; ++i) {
      const char c = buf_[i];
      if (c == '\n' && content) return false;
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') content = true;
    }
    pollfd p{fd_, POLLIN, 0};
    int r;
    do {
      r = ::poll(&p, 1, 0);
    } while (r < 0 && errno == EINTR);
    return r == 0;
  }

  // The first character other than a space or tab of the last line that
  // was too long ('\0' if none was seen).
  char first_of_long_line() const { return first_; }

  // The last line was too long and held a NUL byte: binary data, not a
  // caseload (an image, /dev/zero). Its end is not looked for: the stream
  // ends there.
  bool binary() const { return binary_; }

  // The error (an errno value) that ended the stream early, 0 if it ended
  // at its end. A line or document cut short by it is never returned.
  int error() const { return error_; }

  // False at the end of the stream.
  bool next(std::string& line, bool& too_long) {
    line.clear();
    too_long = false;
    first_ = '\0';
    if (binary_ || error_ != 0) return false;
    bool any = false, nul = false;
    for (;;) {
      if (pos_ == len_) {
        if (!fill()) return any && error_ == 0;
      }
      any = true;
      const char* start = buf_.get() + pos_;
      const void* nl = std::memchr(start, '\n', len_ - pos_);
      std::size_t take = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - start) : len_ - pos_;
      nul = nul || std::memchr(start, '\0', take) != nullptr;
      if (too_long && nul) {
        binary_ = true;
        return true;
      }
      if (!too_long) {
        if (line.size() + take > kMaxInputBytes) {
          too_long = true;
          // What the line starts with is kept: a JSON line or a TOML one.
          auto at = line.find_first_not_of(" \t");
          if (at == std::string::npos) {
            std::string_view rest(start, take);
            auto r = rest.find_first_not_of(" \t");
            first_ = r == std::string_view::npos ? '\0' : rest[r];
          } else {
            first_ = line[at];
          }
          line.clear();
          line.shrink_to_fit();
        } else {
          line.append(start, take);
        }
      }
      pos_ += take;
      if (nl) {
        // A carriage return stays: a TOML document keeps its bytes (and so
        // the hash `plan` gives its file); a JSON line drops it.
        ++pos_;
        return true;
      }
    }
  }

 private:
  static constexpr std::size_t kBuf = 1 << 16;
  std::istream& in_;
  int fd_ = -1;
  bool eof_ = false;
  std::unique_ptr<char[]> buf_{new char[kBuf]};
  std::size_t pos_ = 0, len_ = 0;
  char first_ = '\0';
  bool binary_ = false;
  int error_ = 0;

  bool fill() {
    pos_ = 0;
    if (fd_ >= 0) {
      // A non-blocking descriptor is waited on, not taken for the end.
      long n = read_waiting(fd_, buf_.get(), kBuf);
      if (n < 0) error_ = errno != 0 ? errno : EIO;  // EIO and the like: the stream ends in error
      len_ = n > 0 ? static_cast<std::size_t>(n) : 0;
      eof_ = n <= 0;
      return len_ > 0;
    }
    in_.read(buf_.get(), kBuf);
    len_ = static_cast<std::size_t>(in_.gcount());
    if (len_ == 0 && in_.bad()) error_ = EIO;
    return len_ > 0;
  }
};

// The inputs, one record at a time, in order.
class input_queue {
 public:
  // `stdin_fd` >= 0: standard input is read from that descriptor (a pipe).
  input_queue(const std::vector<std::string>& inputs, std::istream& in, int stdin_fd = -1)
      : in_(in), stdin_fd_(stdin_fd) {
    for (const auto& i : inputs) pending_.push_back({i, false});
    if (pending_.empty()) pending_.push_back({"-", false});
  }

  // Whether the next record would wait for standard input's writer.
  bool would_wait() const { return stream_ && stream_->would_wait(); }

  // False when every input is read.
  bool next(record& r) {
    r = record{};
    for (;;) {
      if (stream_) {
        if (next_from_stream(r) || read_failed(r)) return true;
        stream_.reset();
        file_.reset();
        continue;
      }
      if (pos_ == pending_.size()) return false;
      auto [input, listed] = pending_[pos_++];
      if (open(input, listed, r)) return true;
    }
  }

 private:
  std::istream& in_;
  int stdin_fd_ = -1;
  // Each input to read, and whether it was found in a folder given.
  std::vector<std::pair<std::string, bool>> pending_;
  std::size_t pos_ = 0;
  std::unique_ptr<std::ifstream> file_;
  std::unique_ptr<line_reader> stream_;
  std::string stream_name_;
  bool stream_json_ = true;
  bool stream_first_ = true;
  int stream_line_ = 0;
  bool read_error_told_ = false;

  // The extension in lower case: C-1.JSON and C-2.Toml are findings files
  // too (a folder of them was read as empty).
  static std::string extension_of(const fs::path& p) {
    std::string e = p.extension().string();
    for (auto& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return e;
  }
  static bool wanted(const fs::path& p) {
    auto e = extension_of(p);
    return e == ".toml" || e == ".json" || e == ".jsonl";
  }

  // Starts reading `input`; true when that yields a record at once (a whole
  // file, or an error about it).
  bool open(const std::string& input, bool listed, record& r) {
    r.name = input;
    if (input == "-") {
      stream_ = std::make_unique<line_reader>(in_, stdin_fd_);
      stream_name_ = kStdinName;
      stream_first_ = true;
      stream_json_ = true;
      stream_line_ = 0;
      read_error_told_ = false;
      return next_from_stream(r) || read_failed(r) || (stream_.reset(), false);
    }
    std::error_code ec;
    auto st = fs::status(input, ec);
    if (ec || !fs::exists(st)) {
      if (fs::is_symlink(fs::symlink_status(input, ec))) return fail(r, "batch.read", "a symbolic link to nothing");
      return fail(r, "batch.read", "no such file or folder");
    }
    if (fs::is_directory(st) && listed) {
      // A folder named like a findings file (or a link to one), inside a
      // folder given: subfolders are not read, so a link to the folder
      // itself never loops.
      return fail(r, "batch.read", "a folder inside a folder given; batch reads only the files of a folder");
    }
    if (fs::is_directory(st)) {
      std::vector<std::pair<std::string, bool>> found;
      for (fs::directory_iterator it(input, ec), end; !ec && it != end; it.increment(ec)) {
        if (wanted(it->path())) found.push_back({it->path().string(), true});
      }
      if (ec) return fail(r, "batch.read", "cannot list this folder: " + ec.message());
      std::sort(found.begin(), found.end());
      pending_.insert(pending_.begin() + static_cast<std::ptrdiff_t>(pos_), found.begin(), found.end());
      return false;
    }
    fs::path p(input);
    if (!wanted(p)) return fail(r, "batch.read", "batch reads .toml and .json findings and .jsonl caseloads");
    if (extension_of(p) == ".jsonl") {
      if (!fs::is_regular_file(st)) return fail(r, "batch.read", "not a regular file (a device, pipe or socket)");
      file_ = std::make_unique<std::ifstream>(input, std::ios::binary);
      if (!*file_) return fail(r, "batch.read", "cannot be read: " + std::string(std::strerror(errno)));
      stream_ = std::make_unique<line_reader>(*file_);
      stream_name_ = input;
      stream_first_ = false;
      stream_json_ = true;
      stream_line_ = 0;
      read_error_told_ = false;
      return next_from_stream(r) || read_failed(r) || (stream_.reset(), file_.reset(), false);
    }
    std::vector<diagnostic> diags;
    auto text = read_text_file(input, "batch.read", diags);
    if (!text) return fail(r, "batch.read", diags.empty() ? "cannot be read" : diags[0].message);
    r.text = std::move(*text);
    r.format = extension_of(p) == ".json" ? doc_format::json : doc_format::toml;
    return true;
  }

  // The stream ended in a read error: one record says so (the clients
  // before it stand; what was cut short is not planned), then the stream
  // ends.
  bool read_failed(record& r) {
    if (!stream_ || stream_->error() == 0 || read_error_told_) return false;
    read_error_told_ = true;
    r = record{};
    r.name = stream_name_;
    r.line = stream_line_ + 1;
    const std::string why = std::strerror(stream_->error());
    if (stream_line_ == 0) return fail(r, "batch.read", "could not be read (" + why + "); nothing in it was planned");
    return fail(r, "batch.read",
                "could not be read to its end (" + why + "); nothing after line " + std::to_string(stream_line_) +
                    " was planned");
  }

  static bool fail(record& r, const std::string& code, const std::string& why) {
    r.error_code = code;
    r.error = why;
    return true;
  }

  // The next client of the current stream: a JSON line, or a TOML document
  // up to a line holding only +++.
  bool next_from_stream(record& r) {
    std::string line;
    bool too_long = false;
    r.name = stream_name_;
    if (stream_first_) {
      // Standard input: JSON Lines when the first thing in it is '{'.
      stream_first_ = false;
      while (stream_->next(line, too_long)) {
        ++stream_line_;
        // A byte-order mark before the first character does not hide it.
        const std::size_t bom = stream_line_ == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
        auto at = line.find_first_not_of(" \t\r", bom);
        if (at == std::string::npos && !too_long) continue;
        stream_json_ = too_long ? stream_->first_of_long_line() == '{' : line[at] == '{';
        if (stream_json_) return json_line(r, std::move(line), too_long);
        if (too_long) {
          // A TOML stream whose first document has a line too long: that
          // document is refused whole, and the stream stays TOML.
          r.line = stream_line_;
          r.format = doc_format::toml;
          skip_document();
          if (stream_->binary()) return binary(r);
          return fail(r, "batch.limit", "a document with a line longer than the largest findings file");
        }
        if (toml_document(r, std::move(line))) return true;
        return next_from_stream(r);
      }
      return false;
    }
    if (stream_json_) {
      while (stream_->next(line, too_long)) {
        ++stream_line_;
        if (!too_long && line.find_first_not_of(" \t\r") == std::string::npos) continue;
        return json_line(r, std::move(line), too_long);
      }
      return false;
    }
    while (stream_->next(line, too_long)) {
      ++stream_line_;
      if (too_long) {
        // The whole document is refused, to its +++ line: the rest of it
        // is never planned as a client of its own (without the answer on
        // the long line).
        r.line = stream_line_;
        r.format = doc_format::toml;
        skip_document();
        if (stream_->binary()) return binary(r);
        return fail(r, "batch.limit", "a document with a line longer than the largest findings file");
      }
      if (toml_document(r, std::move(line))) return true;
    }
    return false;
  }

  static bool binary(record& r) {
    return fail(r, "batch.read",
                "binary data (a NUL byte in a line longer than the largest findings file); the rest of this "
                "input is not read");
  }

  // Reads on past the current TOML document's +++ line (or to the end).
  void skip_document() {
    std::string line;
    bool too_long = false;
    while (stream_->next(line, too_long)) {
      ++stream_line_;
      if (!too_long && trimmed(line) == "+++") break;
    }
  }

  bool json_line(record& r, std::string line, bool too_long) {
    r.line = stream_line_;
    r.format = doc_format::json;
    if (stream_->binary()) return binary(r);
    if (too_long) return fail(r, "batch.limit", "a line longer than the largest findings file");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (stream_line_ == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    r.text = std::move(line);
    return true;
  }

  // A TOML document starting with `first`, read to its +++ line; false for
  // a document of blank lines only (skipped, like a blank JSON line).
  bool toml_document(record& r, std::string first) {
    r.line = stream_line_;
    r.format = doc_format::toml;
    std::string line;
    bool too_long = false;
    std::string doc = std::move(first);
    if (trimmed(doc) == "+++") doc.clear();
    else doc += '\n';
    bool over = false;
    while (!over && stream_->next(line, too_long)) {
      ++stream_line_;
      if (!too_long && trimmed(line) == "+++") break;
      if (too_long || doc.size() + line.size() + 1 > kMaxInputBytes) {
        over = true;
        break;
      }
      doc += line;
      doc += '\n';
    }
    if (over) {
      skip_document();
      if (stream_->binary()) return binary(r);
      return fail(r, "batch.limit", "a document larger than the largest findings file");
    }
    if (stream_->error() != 0) return false;  // cut short: read_failed says so
    if (doc.find_first_not_of(" \t\r\n") == std::string::npos) return false;
    r.text = std::move(doc);
    return true;
  }

  static std::string_view trimmed(std::string_view s) {
    auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
  }
};

// JSON string escaping for the lines written by hand (the fast path).
// How many diagnostics a client's line and stderr give in full, before
// "... and N more for this client".
constexpr std::size_t kMaxClientDiagnostics = 50;

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t run = 0;  // start of the run of characters copied as they are
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        static const char* hex = "0123456789abcdef";
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

const char* kind_word(item_kind k) {
  switch (k) {
    case item_kind::flag: return "flag";
    case item_kind::challenge: return "challenge";
    case item_kind::solution: return "solution";
    case item_kind::goal: return "goal";
  }
  return "item";
}

// A diagnostic on a client's line: no file name (a findings file is often
// named after its client), no notes.
std::string line_json(const diagnostic& d) {
  auto j = jsonout::to_json(d);
  j.erase("file");
  j.erase("notes");
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

struct planned_line {
  std::string line;    // the JSON line, with its newline
  std::string stderr_text;
  bool failed = false;
};

class planner {
 public:
  planner(const rule_set& rs, const batch_options& o)
      : rs_(rs), o_(o), client_id_(rs.prog->vocab->index_of("client.id")) {}

  // run(), but a client that cannot be planned for want of memory (or an
  // internal error) is that client's error, not the end of the run: an
  // exception never leaves a helper thread.
  planned_line run_guarded(std::size_t n, const record& r) const noexcept {
    // Nothing is allocated in the handlers: out of memory, a string built
    // there would throw again, out of this noexcept function, and end the
    // whole run (std::terminate).
    const char* why = nullptr;
    const char* code = "batch.internal";
    char detail[256] = {0};
    try {
      return run(n, r);
    } catch (const std::bad_alloc&) {
      why = "out of memory while planning this client; the other clients are planned";
      code = "batch.out-of-memory";
    } catch (const std::exception& e) {
      why = "internal error while planning this client: ";
      std::strncpy(detail, e.what(), sizeof detail - 1);
    } catch (...) {
      why = "internal error while planning this client";
    }
    try {
      record failed;
      failed.name = r.name;
      failed.line = r.line;
      failed.error = std::string(why) + detail;
      failed.error_code = code;
      return run(n, failed);
    } catch (...) {
      planned_line pl;
      pl.failed = true;
      try {
        pl.line = "{\"n\":" + std::to_string(n) + ",\"errors\":[{\"code\":\"" + std::string(code) + "\"}]}\n";
      } catch (...) {
      }
      return pl;
    }
  }

  planned_line run(std::size_t n, const record& r) const {
    planned_line pl;
    std::vector<diagnostic> diags;
    std::optional<client_data> client;
    std::string name = r.line > 0 ? r.name + ":" + std::to_string(r.line) : r.name;
    if (!r.error.empty()) {
      diagnostic d;
      d.code = r.error_code;
      d.file = r.name;
      d.line = r.line;
      d.message = r.error;
      diags.push_back(std::move(d));
    } else if (r.format == doc_format::json) {
      // A FHIR QuestionnaireResponse is read as `plan` reads it.
      client = fhir::read_json_findings(*rs_.prog, r.name, r.text, {o_.allow_unknown}, diags);
      // A line of a JSON Lines stream: the diagnostics name it (and the
      // column, where the text stops being JSON).
      for (auto& d : diags) {
        if (r.line > 0) d.line = d.line == 0 ? r.line : d.line + r.line - 1;
      }
    } else {
      client = read_findings(*rs_.prog, name, r.text, {o_.allow_unknown}, diags);
      // A TOML document of a stream: its lines count from its first.
      if (r.line > 0) {
        for (auto& d : diags) {
          if (d.line > 0) {
            d.file = r.name;
            d.line += r.line - 1;
          }
        }
      }
    }
    std::string& out = pl.line;
    out.reserve(512);
    out += "{\"n\":";
    out += std::to_string(n);
    out += ",\"client_id\":";
    std::string sha = r.error.empty() ? findings_sha256(r.text) : "";
    std::optional<evaluation> ev;
    std::optional<selection> sel;
    if (client) {
      ev = evaluate(*rs_.prog, *client, o_.explain == "full");
      sel = select_items(*rs_.prog, *client, *ev);
      if (sel->items.size() + sel->excluded.size() > kMaxPlanItems) {
        // As `plan`: past the size a plan may have, an error and no items.
        diagnostic d = plan_too_large(sel->items.size() + sel->excluded.size());
        d.file = r.name;
        d.line = r.line;
        diags.push_back(std::move(d));
        sel.reset();
      }
      int ci = client_id_;
      if (ci >= 0 && !client->slots[static_cast<std::size_t>(ci)].is_unknown()) {
        append_json_string(out, show_value(*rs_.prog, *client, client->slots[static_cast<std::size_t>(ci)]));
      } else {
        out += "null";
      }
    } else {
      out += "null";
    }
    out += ",\"findings_sha256\":";
    if (sha.empty()) out += "null";
    else append_json_string(out, sha);
    out += ",\"items\":[";
    if (sel) {
      // About 100 bytes an item: one allocation, not one each time the line
      // doubles.
      out.reserve(out.size() + 256 + sel->items.size() * 112);
      bool first = true;
      const bool with_rules = o_.explain != "none";
      for (const auto& it : sel->items) {
        if (!first) out += ',';
        first = false;
        out += "{\"id\":";
        if (it.key.empty()) append_json_string(out, it.id);
        else append_json_string(out, it.full_id());
        out += ",\"kind\":\"";
        out += kind_word(it.kind);
        out += "\",\"status\":\"";
        out += it.provisional ? "provisional" : "confirmed";
        out += '"';
        if (with_rules) {
          out += ",\"rules\":[";
          const std::string* last = nullptr;
          for (std::size_t k : it.proposals) {
            const std::string& id = rs_.prog->rules[ev->outcomes[k].rule].id;
            if (last && *last == id) continue;  // one rule, several elements
            if (last) out += ',';
            append_json_string(out, id);
            last = &id;
          }
          out += ']';
        }
        out += '}';
      }
    }
    out += "],\"undecided\":[";
    if (sel) {
      std::vector<const std::string*> ids;
      for (std::size_t k : sel->undecided) ids.push_back(&rs_.prog->rules[ev->outcomes[k].rule].id);
      std::sort(ids.begin(), ids.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
      ids.erase(std::unique(ids.begin(), ids.end(), [](const std::string* a, const std::string* b) { return *a == *b; }),
                ids.end());
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i) out += ',';
        append_json_string(out, *ids[i]);
      }
    }
    out += "],\"errors\":[";
    std::vector<diagnostic> warnings;
    bool first = true;
    // Rules that contradict each other for this client (plan.conflict) fail
    // it, as they fail `plan`; its items are still listed.
    if (ev) diags.insert(diags.end(), ev->conflicts.begin(), ev->conflicts.end());
    sort_diagnostics(diags);
    // A client with thousands of mistakes gets the first ones in full and a
    // count of the rest, on its line and on stderr, as `plan` prints them.
    // The reader keeps the first problems of a file and counts the rest.
    std::size_t untold = 0;
    bool untold_error = false;
    for (auto& d : diags) {
      untold += d.more_errors + d.more_warnings;
      untold_error = untold_error || d.more_errors > 0;
      d.more_errors = d.more_warnings = 0;
    }
    if (diags.size() + untold > kMaxClientDiagnostics) {
      // Errors before warnings: the error that stopped the client is never
      // the one left out for a page of warnings.
      std::stable_partition(diags.begin(), diags.end(),
                            [](const diagnostic& d) { return d.level == severity::error; });
      const std::size_t kept = std::min(diags.size(), kMaxClientDiagnostics);
      bool error_dropped = untold_error || std::any_of(diags.begin() + static_cast<std::ptrdiff_t>(kept), diags.end(),
                                                       [](const diagnostic& d) { return d.level == severity::error; });
      std::string more = std::to_string(diags.size() - kept + untold);
      for (int k = static_cast<int>(more.size()) - 3; k > 0; k -= 3) more.insert(static_cast<std::size_t>(k), ",");
      diagnostic rest;
      rest.level = error_dropped ? severity::error : severity::warning;
      rest.code = "batch.more-diagnostics";
      rest.file = r.name;
      rest.line = r.line;
      rest.message = "... and " + more + " more for this client";
      diags.resize(kept);
      sort_diagnostics(diags);
      diags.push_back(std::move(rest));
    }
    for (auto& d : diags) {
      d.source_line.clear();  // never a line of the findings
      if (d.level != severity::error) {
        warnings.push_back(d);
        continue;
      }
      if (!first) out += ',';
      first = false;
      out += line_json(d);
      pl.failed = true;
    }
    out += "],\"warnings\":[";
    for (std::size_t i = 0; i < warnings.size(); ++i) {
      if (i) out += ',';
      out += line_json(warnings[i]);
    }
    out += ']';
    if (o_.explain == "full" && client && sel) {
      plan p = build_plan(rs_, *client, *ev, sha);
      out += ",\"plan\":";
      out += jsonout::plan_json(p).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    out += "}\n";
    for (const auto& d : diags) pl.stderr_text += format(d);
    return pl;
  }

 private:
  const rule_set& rs_;
  const batch_options& o_;
  int client_id_;  // the slot of client.id, or -1
};

bool reads_stdin(const std::vector<std::string>& inputs) {
  return inputs.empty() || std::find(inputs.begin(), inputs.end(), "-") != inputs.end();
}

// Standard input redirected from a file: it never waits for a writer.
bool stdin_is_regular_file() {
  struct stat st {};
  return ::fstat(0, &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

int cmd_batch(const std::vector<std::string>& inputs, const batch_options& options, std::istream& in,
              std::ostream& out, std::ostream& err) {
  auto rs = load(options.rules, err);
  if (!rs) return kInputError;
  // As `plan`: never with a retired rule set, a draft refused on request,
  // an overdue review said once on stderr.
  if (!rule_set_may_plan(*rs, options.require_approved, err)) return kInputError;
  int jobs = options.jobs > 0 ? options.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  jobs = std::min(jobs, 256);
  // A whole plan object a line (--explain full) can be megabytes for a
  // client with many people: a chunk then holds a few clients a thread, so
  // that memory stays that of a few plans, not of 256 a thread.
  const std::size_t chunk = static_cast<std::size_t>((options.explain == "full" ? 4 : 256) * jobs);

  if (reads_stdin(inputs) && stdin_closed(in)) {
    err << "<stdin>: error: standard input is closed: there are no clients to read (give findings files, or pipe "
           "them in) [batch.read]\n";
    return kInputError;
  }
  planner pl(*rs, options);
  const bool read_ahead = !reads_stdin(inputs) || stdin_is_regular_file();
  // Standard input from a pipe or a terminal is read as it arrives.
  input_queue queue(inputs, in, &in == &std::cin && !read_ahead ? 0 : -1);
  // Two chunks in turn: while the helpers plan one, this thread writes the
  // one before and reads the one after, then helps. Lines still come out
  // in input order, and memory holds two chunks whatever the input's size.
  // From a pipe or a terminal (a stream that may wait for its writer), no
  // reading ahead: each chunk's lines are written as soon as it is planned.
  std::vector<record> records[2] = {std::vector<record>(chunk), std::vector<record>(chunk)};
  std::vector<planned_line> results[2] = {std::vector<planned_line>(chunk), std::vector<planned_line>(chunk)};
  std::size_t counts[2] = {0, 0};   // records read into each, to plan
  std::size_t pending[2] = {0, 0};  // lines planned in each, to write
  std::size_t done = 0, failed = 0, started = 0;
  bool more = true;
  // A chunk also ends once its texts reach kChunkBytes, so memory follows
  // neither the number of clients nor the size of each (up to the 16 MiB
  // a document may have).
  constexpr std::size_t kChunkBytes = std::size_t{32} << 20;
  auto fill = [&](int b) {
    std::size_t count = 0, bytes = 0;
    while (more && count < chunk && bytes < kChunkBytes && (more = queue.next(records[b][count]))) {
      bytes += records[b][count].text.size();
      ++count;
      // From a pipe, the clients that have arrived are planned and written
      // now, not after a whole chunk has.
      if (!read_ahead && queue.would_wait()) break;
    }
    counts[b] = count;
  };
  // Writes chunk b's lines; false when the output fails.
  auto flush = [&](int b) {
    // Line by line (never all of them copied into one text first).
    for (std::size_t i = 0; i < pending[b]; ++i) {
      out << results[b][i].line;
      if (results[b][i].failed) ++failed;
      err << results[b][i].stderr_text;
      results[b][i] = planned_line{};
    }
    out.flush();
    done += pending[b];
    pending[b] = 0;
    if (options.progress) err << "\r" << done << " clients planned, " << failed << " not planned" << std::flush;
    return static_cast<bool>(out);
  };
  int cur = 0;
  fill(cur);
  while (counts[cur] > 0) {
    const std::size_t count = counts[cur], first = started;
    counts[cur] = 0;
    started += count;
    std::atomic<std::size_t> next{0};
    auto work = [&, cur] {
      for (std::size_t i; (i = next.fetch_add(1)) < count;) {
        results[cur][i] = pl.run_guarded(first + i + 1, records[cur][i]);
        records[cur][i].text.clear();
        records[cur][i].text.shrink_to_fit();
      }
    };
    std::vector<std::thread> threads;
    // Joined on every way out, an exception in reading or writing included.
    struct joiner {
      std::vector<std::thread>& threads;
      ~joiner() {
        for (auto& t : threads) {
          if (t.joinable()) t.join();
        }
      }
    } join_all{threads};
    for (int t = 1; t < jobs && static_cast<std::size_t>(t) < count; ++t) threads.emplace_back(work);
    const int other = 1 - cur;
    bool written = pending[other] == 0 || flush(other);  // the chunk before
    if (written && read_ahead) fill(other);              // the chunk after
    work();
    for (auto& t : threads) t.join();
    if (!written) return kInputError;  // run_main reports the failed write
    pending[cur] = count;
    if (!read_ahead) {
      // A stream: its lines now, before waiting for more input.
      if (!flush(cur)) return kInputError;
      fill(other);
    }
    cur = other;
  }
  if (pending[1 - cur] > 0 && !flush(1 - cur)) return kInputError;
  if (options.progress) err << "\n";
  if (done == 0) err << "iptplan: warning: the input held no clients; nothing was planned\n";
  if (failed > 0) {
    err << failed << (failed == 1 ? " client" : " clients") << " of " << done
        << " could not be planned; their lines say why\n";
    return kInputError;
  }
  return kOk;
}

}  // namespace iptplan::cli

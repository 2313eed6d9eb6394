#include "grammar/diagnostic.hpp"

#include <cctype>

#include <algorithm>
#include <tuple>

namespace iptplan {

const char* to_string(severity s) {
  switch (s) {
    case severity::error: return "error";
    case severity::warning: return "warning";
    case severity::note: return "note";
  }
  return "error";
}

diagnostic make_diagnostic(const source_file& src, std::uint32_t offset,
                           severity level, std::string code,
                           std::string message) {
  diagnostic d;
  d.level = level;
  d.code = std::move(code);
  d.file = src.name();
  location loc = src.locate(offset);
  d.line = loc.line;
  d.column = loc.column;
  d.message = std::move(message);
  quote_line(d, src);
  return d;
}

namespace {

// Shows at most this many code points of a long source line.
constexpr int kMaxShown = 120;

// Advances over `count` code points of `s` from byte `i`.
std::size_t skip_code_points(std::string_view s, std::size_t i, int count) {
  while (i < s.size() && count > 0) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
    --count;
  }
  return i;
}

// The length of the sequence starting at `s[i]` that printable() escapes:
// 1 for a C0 control, DEL or a byte that does not start valid UTF-8 (binary
// garbage), 2 for a C1 control in UTF-8 (C2 80 to C2 9F, which some
// terminals obey as escape sequences), else 0.
// The byte length of the valid UTF-8 character at `s[i]`, or 0.
std::size_t utf8_len(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  std::size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return len;
}

std::size_t control_at(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x20 || c == 0x7F) return 1;
  if (c == 0xC2 && i + 1 < s.size()) {
    auto n = static_cast<unsigned char>(s[i + 1]);
    if (n >= 0x80 && n <= 0x9F) return 2;
  }
  // Bidirectional controls (U+061C, U+200E-U+200F, U+202A-U+202E,
  // U+2066-U+2069): they reorder what is shown, so a text could look like
  // something it is not. Line and paragraph separators (U+2028, U+2029),
  // which some viewers break lines at, and invisible characters
  // (U+200B-U+200D, U+2060-U+2064, U+FEFF): a text would hide part of
  // itself, or two texts that differ would look the same.
  if (c == 0xD8 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x9C) return 2;
  if (c == 0xE2 && i + 2 < s.size()) {
    auto b = static_cast<unsigned char>(s[i + 1]), d = static_cast<unsigned char>(s[i + 2]);
    if (b == 0x80 && ((d >= 0x8B && d <= 0x8F) || (d >= 0xA8 && d <= 0xAE))) return 3;
    if (b == 0x81 && ((d >= 0xA0 && d <= 0xA4) || (d >= 0xA6 && d <= 0xA9))) return 3;
  }
  if (c == 0xEF && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xBB &&
      static_cast<unsigned char>(s[i + 2]) == 0xBF) {
    return 3;
  }
  return utf8_len(s, i) == 0 ? 1 : 0;
}

void append_escaped(std::string& out, std::string_view s, std::size_t i, std::size_t n) {
  static const char* hex = "0123456789abcdef";
  for (std::size_t k = 0; k < n; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    out += "\\x";
    out += hex[c >> 4];
    out += hex[c & 15];
  }
}

}  // namespace

std::string printable(std::string_view s, bool keep_lines) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = control_at(s, i);
    if (n == 0 || (keep_lines && (s[i] == '\n' || s[i] == '\t'))) {
      std::size_t len = n == 0 ? utf8_len(s, i) : 1;  // a whole character
      out.append(s.substr(i, len));
      i += len;
      continue;
    }
    append_escaped(out, s, i, n);
    i += n;
  }
  return out;
}

bool is_plain_text(std::string_view s) {
  // Character by character: control_at also finds the marks that reorder
  // text; a byte that starts no valid UTF-8 character is no plain text.
  for (std::size_t i = 0; i < s.size();) {
    if (control_at(s, i) != 0) return false;
    std::size_t n = utf8_len(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void quote_line(diagnostic& d, std::string_view line) {
  // The window format() shows: the whole line when it fits, else kMaxShown
  // code points from half of it before the column.
  int first = skip_code_points(line, 0, kMaxShown) >= line.size() ? 1 : std::max(1, d.column - kMaxShown / 2);
  std::size_t from = skip_code_points(line, 0, first - 1);
  std::size_t to = skip_code_points(line, from, kMaxShown);
  d.source_line.assign(line.substr(from, to - from));
  d.source_from = first;
  d.source_more = to < line.size();
}

void quote_line(diagnostic& d, const source_file& src) {
  std::string_view line = src.line_text(d.line);
  if (line.empty()) {
    d.source_line.clear();
    return;
  }
  // The whole line when it fits (a short line is never cut on the left).
  int first = line.size() <= static_cast<std::size_t>(kMaxShown) ? 1 : std::max(1, d.column - kMaxShown / 2);
  std::size_t from = src.offset_of(d.line, first) - static_cast<std::size_t>(line.data() - src.text().data());
  from = std::min(from, line.size());
  std::size_t to = skip_code_points(line, from, kMaxShown);
  d.source_line.assign(line.substr(from, to - from));
  d.source_from = first;
  d.source_more = to < line.size();
}

namespace {

// A message quotes what the file holds ('x', "text"): a quote of more than
// kQuoteShown bytes keeps its start and says how long it is, so that no
// message's length follows the input's (a 10 MB string in a condition).
constexpr std::size_t kQuoteShown = 80;

std::string shortened(const std::string& m) {
  if (m.size() <= 2 * kQuoteShown) return m;
  std::string out;
  for (std::size_t i = 0; i < m.size(); ++i) {
    out += m[i];
    if (m[i] != '\'' && m[i] != '"') continue;
    // A quote opens after a space, a bracket or another quote (not the
    // apostrophe of "client's") and closes before a non-letter.
    if (i > 0 && m[i - 1] != ' ' && m[i - 1] != '(' && m[i - 1] != '\'' && m[i - 1] != '"') continue;
    std::size_t close = i + 1;
    for (;; ++close) {
      close = m.find(m[i], close);
      if (close == std::string::npos || close + 1 == m.size() ||
          !std::isalpha(static_cast<unsigned char>(m[close + 1]))) {
        break;
      }
    }
    if (close == std::string::npos || close - i - 1 <= kQuoteShown) continue;
    std::size_t cut = i + 1 + kQuoteShown / 2;
    while (cut > i + 1 && (static_cast<unsigned char>(m[cut]) & 0xC0) == 0x80) --cut;
    out.append(m, i + 1, cut - i - 1);
    out += "... (" + std::to_string(close - i - 1) + " bytes)";
    i = close - 1;
  }
  return out;
}

}  // namespace

std::string format(const diagnostic& d) {
  std::string out;
  // Every text here may come from an input file: control characters are
  // shown escaped, never sent to the terminal.
  if (!d.file.empty()) {
    out += printable(d.file);
    // file:line:col, or file:line when the column is not known (a line of
    // JSON Lines).
    if (d.line > 0) out += ':' + std::to_string(d.line);
    if (d.line > 0 && d.column > 0) out += ':' + std::to_string(d.column);
    out += ": ";
  }
  out += to_string(d.level);
  out += ": ";
  out += printable(shortened(d.message));
  if (!d.code.empty()) out += " [" + d.code + "]";
  out += '\n';
  if (d.line > 0 && !d.source_line.empty()) {
    // Show a window of the line around the column, and a caret under it.
    // The whole quote when it fits; else the window around the column.
    // A line cut is marked with '...' at the cut, so it never reads as the
    // start of a line ('conflict_avoidance "Avoids' for 'rule ...').
    int first = skip_code_points(d.source_line, 0, kMaxShown) >= d.source_line.size()
                    ? d.source_from
                    : std::max(d.source_from, d.column - kMaxShown / 2);
    std::size_t from = skip_code_points(d.source_line, 0, first - d.source_from);
    std::size_t to = skip_code_points(d.source_line, from, kMaxShown);
    std::string shown = d.source_line.substr(from, to - from);
    bool cut_before = first > 1, cut_after = to < d.source_line.size() || d.source_more;
    std::string caret = cut_before ? "   " : "", escaped = cut_before ? "..." : "";
    std::size_t col_bytes = skip_code_points(shown, 0, d.column - first);
    for (std::size_t i = 0; i < shown.size();) {
      std::size_t n = shown[i] == '\t' ? 0 : control_at(shown, i);
      if (n > 0) {
        append_escaped(escaped, shown, i, n);
        if (i < col_bytes) caret += std::string(4 * n, ' ');
        i += n;
        continue;
      }
      std::size_t len = shown[i] == '\t' ? 1 : utf8_len(shown, i);  // one whole character
      escaped.append(shown, i, len);
      if (i < col_bytes) caret += shown[i] == '\t' ? '\t' : ' ';
      i += len;
    }
    if (cut_after) escaped += "...";
    out += "    " + escaped + '\n';
    out += "    " + caret + "^\n";
  }
  for (const auto& n : d.notes) out += "    note: " + printable(n) + '\n';
  return out;
}

std::string format_short(const diagnostic& d) {
  diagnostic brief = d;
  brief.line = 0;  // no source line under it
  brief.notes.clear();
  std::string out = format(brief);
  if (d.line > 0 && !d.file.empty()) {
    out.insert(printable(d.file).size(),
               ":" + std::to_string(d.line) + (d.column > 0 ? ":" + std::to_string(d.column) : ""));
  }
  return out;
}

void sort_diagnostics(std::vector<diagnostic>& ds) {
  std::stable_sort(ds.begin(), ds.end(), [](const diagnostic& a, const diagnostic& b) {
    return std::tie(a.file, a.line, a.column, a.code, a.message) <
           std::tie(b.file, b.line, b.column, b.code, b.message);
  });
  ds.erase(std::unique(ds.begin(), ds.end(),
                       [](const diagnostic& a, const diagnostic& b) {
                         return a.file == b.file && a.line == b.line &&
                                a.column == b.column && a.code == b.code &&
                                a.message == b.message;
                       }),
           ds.end());
}

bool has_errors(const std::vector<diagnostic>& ds) {
  return std::any_of(ds.begin(), ds.end(), [](const diagnostic& d) {
    return d.level == severity::error;
  });
}

std::string with_thousands(std::size_t n) {
  std::string s = std::to_string(n);
  for (int k = static_cast<int>(s.size()) - 3; k > 0; k -= 3) s.insert(static_cast<std::size_t>(k), ",");
  return s;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

const char* text_character_problem(std::string_view v, bool line_breaks) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto c = static_cast<unsigned char>(v[i]);
    if ((c < 0x20 && !(line_breaks && (c == '\n' || c == '\t'))) || c == 0x7f) {
      if (line_breaks) return "a control character";
      return c == '\n' || c == '\r' ? "a line break" : c == '\t' ? "a tab" : "a control character";
    }
    // C1 controls (U+0080-U+009F), and the bidirectional controls and line
    // separators: U+061C, U+200E, U+200F, U+2028-U+202E, U+2066-U+2069.
    auto next = [&](std::size_t k) { return i + k < v.size() ? static_cast<unsigned char>(v[i + k]) : 0; };
    if (c == 0xC2 && next(1) >= 0x80 && next(1) <= 0x9F) return "a control character";
    if (c == 0xD8 && next(1) == 0x9C) return "a character that reorders text on screen";
    if (c == 0xE2 && next(1) == 0x80 && (next(2) == 0x8E || next(2) == 0x8F || (next(2) >= 0xA8 && next(2) <= 0xAE))) {
      return "a character that reorders text on screen";
    }
    if (c == 0xE2 && next(1) == 0x81 && next(2) >= 0xA6 && next(2) <= 0xA9) {
      return "a character that reorders text on screen";
    }
  }
  return nullptr;
}

std::string quoted_if_name(const std::string& name, const std::string& otherwise) {
  bool quotable = !name.empty() && name.size() <= 60 && std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '[' ||
           ch == ']' || ch == '-';
  });
  return quotable ? "'" + name + "'" : otherwise;
}

std::string nearest_name(const std::string& wanted,
                         const std::vector<std::string>& candidates) {
  std::string best;
  // Names longer than any real one get no suggestion: the distance costs
  // the product of the two lengths.
  if (wanted.size() > 100) return best;
  // Letter case costs nothing ('Risk.CSSRS.Q1' is 'risk.cssrs.q1').
  auto lower = [](std::string_view in, std::string& out) {
    out.assign(in);
    for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  };
  std::string want, cand;
  lower(wanted, want);
  // A dotted name is near another with as many parts only when each part
  // is near its own: 'epds.total' is not 'gad7.total' (another instrument,
  // though only three letters differ over the whole name).
  auto parts_near = [](std::string_view a, std::string_view b) {
    for (;;) {
      auto ea = a.find('.'), eb = b.find('.');
      auto pa = a.substr(0, ea), pb = b.substr(0, eb);
      const std::size_t len = std::max(pa.size(), pb.size());
      // Two letters swapped ('hihg') cost 2: allowed past three letters.
      const std::size_t limit = len <= 3 ? 1 : std::max<std::size_t>(2, (len + 1) / 3);
      if (pa != pb && edit_distance(std::string(pa), std::string(pb)) > limit) {
        return false;
      }
      if (ea == std::string_view::npos || eb == std::string_view::npos) return true;
      a.remove_prefix(ea + 1);
      b.remove_prefix(eb + 1);
    }
  };
  const auto dots = std::count(want.begin(), want.end(), '.');
  std::size_t best_d = std::max<std::size_t>(2, wanted.size() / 3) + 1;
  for (const auto& c : candidates) {
    // Lengths further apart than the best distance so far cannot beat it.
    std::size_t gap = c.size() > wanted.size() ? c.size() - wanted.size() : wanted.size() - c.size();
    if (gap > best_d || c.size() > 100) continue;
    lower(c, cand);
    std::size_t d = edit_distance(want, cand);
    if (d <= best_d && dots > 0 && std::count(cand.begin(), cand.end(), '.') == dots && !parts_near(want, cand)) {
      continue;
    }
    if (d < best_d || (d == best_d && c < best)) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

std::string suggester::nearest(const std::string& wanted, const std::vector<std::string>& candidates) {
  if (!open()) {
    ++unanswered_;
    return {};
  }
  // A comparison costs at most the product of two lengths of up to 100:
  // counted as one per candidate plus one per 100 characters compared.
  spent_ += candidates.size() + (candidates.size() * std::min<std::size_t>(wanted.size(), 100)) / 100;
  return nearest_name(wanted, candidates);
}

}  // namespace iptplan

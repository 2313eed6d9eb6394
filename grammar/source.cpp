#include "grammar/source.hpp"

#include <algorithm>

namespace iptplan {

source_file::source_file(std::string name, std::string text)
    : name_(std::move(name)), text_(std::move(text)) {
  line_starts_.push_back(0);
  std::uint32_t points = 0;
  // Offsets are 32-bit: texts are read with a size cap far below 4 GiB
  // (docs/limits.md); the index counts in 64 bits all the same, so that a
  // larger text can never make it loop.
  for (std::size_t i = 0; i < text_.size(); ++i) {
    if (i % kBlock == 0) block_points_.push_back(points);
    if (text_[i] == '\n') line_starts_.push_back(static_cast<std::uint32_t>(i + 1));
    if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++points;
  }
}

std::uint32_t source_file::points_before(std::uint32_t offset) const {
  if (offset == 0 || block_points_.empty()) return 0;
  std::uint32_t block = offset / kBlock;
  if (block >= block_points_.size()) block = static_cast<std::uint32_t>(block_points_.size()) - 1;
  std::uint32_t n = block_points_[block];
  for (std::uint32_t i = block * kBlock; i < offset; ++i) {
    if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::uint32_t source_file::offset_of(int line, int column) const {
  if (line < 1 || line > static_cast<int>(line_starts_.size())) return static_cast<std::uint32_t>(text_.size());
  std::uint32_t start = line_starts_[line - 1];
  if (column <= 1) return start;
  // The code point `column - 1` after the line's start: find its block,
  // then walk that block.
  std::uint64_t want = std::uint64_t{points_before(start)} + static_cast<std::uint64_t>(column - 1);
  auto it = std::upper_bound(block_points_.begin(), block_points_.end(), want);
  std::uint32_t block = it == block_points_.begin() ? 0 : static_cast<std::uint32_t>(it - block_points_.begin()) - 1;
  std::uint32_t end = line < static_cast<int>(line_starts_.size()) ? line_starts_[line] - 1
                                                                     : static_cast<std::uint32_t>(text_.size());
  std::uint32_t i = std::max(start, block * kBlock);
  std::uint64_t n = points_before(i);
  for (; i < end; ++i) {
    bool point = (static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80;
    if (point && n == want) return i;
    if (point) ++n;
  }
  return end;  // past the line's end
}

location source_file::locate(std::uint32_t offset) const {
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(text_.size()));
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  int line = static_cast<int>(it - line_starts_.begin());
  std::uint32_t start = line_starts_[line - 1];
  // Code points: counted directly on a short line, through the block index
  // on a long one, which then costs no more than a short one.
  std::uint32_t points = 0;
  if (offset - start <= kBlock) {
    for (std::uint32_t i = start; i < offset; ++i) {
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++points;
    }
  } else {
    points = points_before(offset) - points_before(start);
  }
  return {line, static_cast<int>(points) + 1};
}

std::string_view source_file::line_text(int line) const {
  if (line < 1 || line > static_cast<int>(line_starts_.size())) return {};
  std::uint32_t start = line_starts_[line - 1];
  std::uint32_t end = line < static_cast<int>(line_starts_.size())
                          ? line_starts_[line] - 1
                          : static_cast<std::uint32_t>(text_.size());
  std::string_view v(text_.data() + start, end - start);
  if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
  return v;
}

std::string_view source_file::slice(std::uint32_t begin, std::uint32_t end) const {
  if (begin > text_.size()) begin = static_cast<std::uint32_t>(text_.size());
  if (end > text_.size()) end = static_cast<std::uint32_t>(text_.size());
  if (end < begin) end = begin;
  return std::string_view(text_.data() + begin, end - begin);
}

std::size_t find_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
    else return i;
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return i;
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
        (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;
    }
    i += n + 1;
  }
  return std::string_view::npos;
}

std::vector<std::uint32_t> literal_offsets(std::string_view text, std::uint32_t begin,
                                           std::uint32_t end) {
  std::vector<std::uint32_t> out;
  std::size_t i = begin;
  const std::size_t stop = std::min<std::size_t>(end, text.size());
  while (i < stop) {
    char c = text[i];
    if (c == '#') {  // a comment between two pieces
      while (i < stop && text[i] != '\n') ++i;
      continue;
    }
    if (c != '"') { ++i; continue; }  // white space between pieces
    ++i;
    while (i < stop && text[i] != '"') {
      out.push_back(static_cast<std::uint32_t>(i));
      i += text[i] == '\\' ? 2 : 1;
    }
    ++i;  // the closing quote
  }
  out.push_back(static_cast<std::uint32_t>(stop));
  return out;
}

}  // namespace iptplan

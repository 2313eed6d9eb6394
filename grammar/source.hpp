// A source text with its display name and a line index, so byte offsets
// stored on syntax nodes can be turned into line:column and source lines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace iptplan {

// 1-based line and column; the column counts UTF-8 code points.
struct location {
  int line = 0;
  int column = 0;
};

class source_file {
 public:
  source_file() = default;
  source_file(std::string name, std::string text);

  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }

  location locate(std::uint32_t offset) const;
  // The text of a 1-based line, without its end-of-line characters.
  std::string_view line_text(int line) const;
  // How many lines the text has (a last line without a newline counts).
  int line_count() const {
    bool trailing = !text_.empty() && line_starts_.back() == text_.size();
    return static_cast<int>(line_starts_.size()) - (trailing ? 1 : 0);
  }
  // The byte offset of a 1-based line and column (code points); the end of
  // the line when the column is past it.
  std::uint32_t offset_of(int line, int column) const;
  // The source text of [begin, end).
  std::string_view slice(std::uint32_t begin, std::uint32_t end) const;

 private:
  // Code points before each block of kBlock bytes: columns are found in
  // time bounded by the block, whatever a line's length.
  static constexpr std::uint32_t kBlock = 4096;
  std::uint32_t points_before(std::uint32_t offset) const;

  std::string name_;
  std::string text_;
  std::vector<std::uint32_t> line_starts_;
  std::vector<std::uint32_t> block_points_;
};

// The source offset of every byte of the value of the quoted text that
// starts at `begin` (one or more adjacent pieces, escapes counted as the
// backslash's offset), then the offset of its end: so that a diagnostic about
// character i of a text points at that character in the file.
std::vector<std::uint32_t> literal_offsets(std::string_view text, std::uint32_t begin,
                                           std::uint32_t end);

// The offset of the first byte that is not valid UTF-8, or npos.
std::size_t find_invalid_utf8(std::string_view text);

}  // namespace iptplan

// Where the values of a JSON findings document are written. simdjson's DOM
// keeps no positions, so the reader records, for each value it visits, its
// parent and its place among the parent's members or elements (a link, a
// few bytes); only when a message needs a line and column is the text
// scanned, once, to find where each value and key begins. A document read
// without a problem is never scanned twice.
#pragma once

#include "grammar/source.hpp"

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace iptplan::docs {

class json_places {
 public:
  explicit json_places(std::string_view text) : text_(text) { links_.push_back({0, 0}); }

  static constexpr std::uint32_t root = 0;
  // The value that is member or element number `ordinal` of `parent`.
  std::uint32_t child(std::uint32_t parent, std::uint32_t ordinal) {
    links_.push_back({parent, ordinal});
    return static_cast<std::uint32_t>(links_.size() - 1);
  }
  // Line and column (1-based, code points) where value `id` begins, or its
  // key when `key` is true and it has one; {0, 0} when it cannot be found.
  location where(std::uint32_t id, bool key = false);

 private:
  void index();

  std::string_view text_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> links_;  // (parent, ordinal); [0] is the root
  // After index(): every value in document order.
  struct value_at {
    std::uint32_t offset;
    std::uint32_t key_offset;  // kNone without a key
  };
  static constexpr std::uint32_t kNone = 0xffffffffu;
  bool indexed_ = false;
  std::vector<value_at> values_;
  std::vector<std::uint32_t> kids_begin_, kids_;  // children of value v: kids_[kids_begin_[v] ...]
  std::unique_ptr<source_file> src_;
};

}  // namespace iptplan::docs

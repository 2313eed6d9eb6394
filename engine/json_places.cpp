#include "engine/json_places.hpp"

#include <string>

namespace iptplan::docs {

namespace {

bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

// One pass over text simdjson has already accepted as JSON, with an explicit
// stack (no recursion): each value's offset, its key's offset, its parent;
// then the children of each value grouped in order (a counting sort), so
// that finding member k of a value is one lookup.
void json_places::index() {
  indexed_ = true;
  std::vector<std::uint32_t> parent;
  struct open {
    std::uint32_t id;
    bool object;
  };
  std::vector<open> stack;
  bool expect_key = false;
  std::uint32_t key = kNone;
  std::size_t i = 0, n = text_.size();
  auto string_end = [&](std::size_t at) {  // the offset after the closing quote
    std::size_t k = at + 1;
    while (k < n && text_[k] != '"') k += text_[k] == '\\' ? 2 : 1;
    return k < n ? k + 1 : n;
  };
  while (i < n) {
    char c = text_[i];
    if (space(c) || c == ':') {
      ++i;
      continue;
    }
    if (c == ',') {
      expect_key = !stack.empty() && stack.back().object;
      ++i;
      continue;
    }
    if (c == '}' || c == ']') {
      if (!stack.empty()) stack.pop_back();
      expect_key = false;
      ++i;
      continue;
    }
    if (c == '"' && expect_key) {
      key = static_cast<std::uint32_t>(i);
      i = string_end(i);
      expect_key = false;
      continue;
    }
    auto id = static_cast<std::uint32_t>(values_.size());
    values_.push_back({static_cast<std::uint32_t>(i), key});
    parent.push_back(stack.empty() ? kNone : stack.back().id);
    key = kNone;
    if (c == '{' || c == '[') {
      stack.push_back({id, c == '{'});
      expect_key = c == '{';
      ++i;
    } else if (c == '"') {
      i = string_end(i);
    } else {
      while (i < n && !space(text_[i]) && text_[i] != ',' && text_[i] != '}' && text_[i] != ']') ++i;
    }
  }
  kids_begin_.assign(values_.size() + 1, 0);
  for (auto p : parent) {
    if (p != kNone) ++kids_begin_[p + 1];
  }
  for (std::size_t v = 0; v < values_.size(); ++v) kids_begin_[v + 1] += kids_begin_[v];
  kids_.assign(kids_begin_.back(), 0);
  std::vector<std::uint32_t> fill(kids_begin_.begin(), kids_begin_.end() - 1);
  for (std::size_t v = 0; v < parent.size(); ++v) {
    if (parent[v] != kNone) kids_[fill[parent[v]]++] = static_cast<std::uint32_t>(v);
  }
  src_ = std::make_unique<source_file>("", std::string(text_));
}

location json_places::where(std::uint32_t id, bool key) {
  if (id >= links_.size()) return {};
  if (!indexed_) index();
  if (values_.empty()) return {};
  std::vector<std::uint32_t> ordinals;
  for (std::uint32_t at = id; at != root; at = links_[at].first) ordinals.push_back(links_[at].second);
  std::uint32_t v = 0;
  for (auto k = ordinals.rbegin(); k != ordinals.rend(); ++k) {
    std::uint32_t first = kids_begin_[v], count = kids_begin_[v + 1] - first;
    if (*k >= count) return {};
    v = kids_[first + *k];
  }
  std::uint32_t offset = key && values_[v].key_offset != kNone ? values_[v].key_offset : values_[v].offset;
  return src_->locate(offset);
}

}  // namespace iptplan::docs

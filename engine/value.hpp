// Runtime values of findings and derived facts. Texts are interned symbols,
// so comparing two of them is comparing two integers.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace iptplan {

enum class vkind : std::uint8_t {
  unknown,  // a missing finding, or a fact no rule could decide
  none,     // a valued derived fact that every rule left unconcluded
  boolean,
  number,
  symbol,   // a text or enum value
  list,     // ref: index into client_data::lists
  table,    // ref: index into client_data::tables
};

struct value {
  vkind kind = vkind::unknown;
  bool b = false;
  double n = 0;
  std::int32_t sym = -1;
  std::uint32_t ref = 0;

  static value unknown() { return {}; }
  static value boolean(bool v) { value x; x.kind = vkind::boolean; x.b = v; return x; }
  static value number(double v) { value x; x.kind = vkind::number; x.n = v; return x; }
  static value symbol(std::int32_t s) { value x; x.kind = vkind::symbol; x.sym = s; return x; }
  bool is_unknown() const { return kind == vkind::unknown; }
  bool is_true() const { return kind == vkind::boolean && b; }
  bool is_false() const { return kind == vkind::boolean && !b; }
};

// Inline: the fast path compares values in its innermost loops.
// A number as plans and messages show it: whole numbers without a point
// (14, not 14.0), others in the shortest form that reads back as the same
// number (2.9999999 stays 2.9999999, never rounded to 3 beside a rule that
// found it under 3).
std::string number_text(double n);

inline bool same_value(const value& a, const value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case vkind::boolean: return a.b == b.b;
    case vkind::number: return a.n == b.n;
    case vkind::symbol: return a.sym == b.sym;
    case vkind::list:
    case vkind::table: return a.ref == b.ref;
    default: return true;
  }
}

// Interned texts. Ids are stable for the life of the table.
class symbol_table {
 public:
  std::int32_t intern(const std::string& s);
  std::int32_t find(const std::string& s) const;  // -1 when absent
  const std::string& text(std::int32_t id) const { return texts_[static_cast<std::size_t>(id)]; }
  std::size_t size() const { return texts_.size(); }

 private:
  std::vector<std::string> texts_;
  std::unordered_map<std::string, std::int32_t> index_;
};

}  // namespace iptplan

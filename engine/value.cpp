#include "engine/value.hpp"

namespace iptplan {

bool same_value(const value& a, const value& b) {
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

std::int32_t symbol_table::intern(const std::string& s) {
  auto it = index_.find(s);
  if (it != index_.end()) return it->second;
  auto id = static_cast<std::int32_t>(texts_.size());
  texts_.push_back(s);
  index_.emplace(s, id);
  return id;
}

std::int32_t symbol_table::find(const std::string& s) const {
  auto it = index_.find(s);
  return it == index_.end() ? -1 : it->second;
}

}  // namespace iptplan

#include "engine/value.hpp"

namespace iptplan {

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

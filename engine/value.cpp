#include "engine/value.hpp"

#include <charconv>
#include <cmath>

namespace iptplan {

std::int32_t symbol_table::intern(const std::string& s) {
  auto it = index_.find(s);
  if (it != index_.end()) return it->second;
  auto id = static_cast<std::int32_t>(texts_.size());
  texts_.push_back(s);
  index_.emplace(s, id);
  return id;
}

std::string number_text(double n) {
  if (n == 0) return "0";  // -0 too
  if (std::isfinite(n) && n == std::floor(n) && std::fabs(n) < 1e15) {
    return std::to_string(static_cast<long long>(n));
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  return r.ec == std::errc() ? std::string(buf, r.ptr) : std::string("?");
}

std::int32_t symbol_table::find(const std::string& s) const {
  auto it = index_.find(s);
  return it == index_.end() ? -1 : it->second;
}

}  // namespace iptplan

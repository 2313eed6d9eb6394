// libFuzzer entry point for the 'rules' driver (see drivers.hpp).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/drivers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  iptplan::fuzz::run_rules(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}

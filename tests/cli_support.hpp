// What the command-line tests share: running iptplan in-process with its
// streams captured, and a scratch folder removed at the end of a test.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"

namespace iptplan::testing_cli {

namespace fs = std::filesystem;

struct result {
  int code = -1;
  std::string out, err;
};

inline result run(std::vector<std::string> args, const std::string& input = "") {
  std::vector<const char*> argv{"iptplan"};
  for (const auto& a : args) argv.push_back(a.c_str());
  std::istringstream in(input);
  std::ostringstream out, err;
  result r;
  r.code = iptplan::cli::run_main(static_cast<int>(argv.size()), argv.data(), in, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// A scratch folder, removed at the end of the test.
struct scratch {
  fs::path dir;
  scratch() {
    dir = fs::temp_directory_path() / ("iptplan-cli-" + std::to_string(::getpid()) + "-" +
                                       std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::create_directories(dir);
  }
  ~scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    fs::create_directories((dir / name).parent_path());
    std::ofstream(dir / name, std::ios::binary) << text;
    return (dir / name).string();
  }
  // A copy of the default rule set, to break on purpose.
  std::string rules_copy() const {
    fs::copy(std::string(IPTPLAN_SOURCE_DIR) + "/rules", dir / "rules",
             fs::copy_options::recursive);
    return (dir / "rules").string();
  }
};


}  // namespace iptplan::testing_cli

// What the command-line tests share: running iptplan in-process with its
// streams captured, and a scratch folder removed at the end of a test.
#pragma once

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
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

// Commands run at log level debug (unless IPTPLAN_LOG_LEVEL says
// otherwise), and every message a command writes (its standard error) and
// every log line go to the transcript too (tests/CMakeLists.txt names it);
// the suite's last test (leak_check.sh) searches it for the examples'
// findings.
inline std::string transcript_path() {
#ifdef IPTPLAN_TEST_TRANSCRIPT
  return IPTPLAN_TEST_TRANSCRIPT;
#else
  return "";
#endif
}

// The program's logger, made before the program makes it: to standard
// error as the program's, and to the transcript.
inline bool install_transcript() {
  std::string path = transcript_path();
  if (path.empty() || spdlog::get("iptplan")) return false;
  ::setenv("IPTPLAN_LOG_LEVEL", "debug", 0);
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("iptplan", spdlog::sinks_init_list{console, file});
  logger->flush_on(spdlog::level::trace);
  spdlog::register_logger(logger);
  return true;
}
inline const bool transcript_installed = install_transcript();

inline result run(std::vector<std::string> args, const std::string& input = "") {
  std::vector<const char*> argv{"iptplan"};
  for (const auto& a : args) argv.push_back(a.c_str());
  std::istringstream in(input);
  std::ostringstream out, err;
  result r;
  r.code = iptplan::cli::run_main(static_cast<int>(argv.size()), argv.data(), in, out, err);
  r.out = out.str();
  r.err = err.str();
  if (std::string path = transcript_path(); !path.empty() && !r.err.empty()) {
    std::ofstream(path, std::ios::app | std::ios::binary) << r.err;
  }
  return r;
}

// Starts the program (args[0]) as a process of its own, its standard error
// (and, with `quiet_out`, its standard output) sent to /dev/null; its pid.
inline pid_t spawn_quiet(std::vector<std::string> args, bool quiet_out) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (quiet_out) posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int failed = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return failed ? -1 : pid;
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
  std::string rules_copy(const std::string& name = "rules") const {
    fs::copy(std::string(IPTPLAN_SOURCE_DIR) + "/rules", dir / name,
             fs::copy_options::recursive);
    return (dir / name).string();
  }
};


}  // namespace iptplan::testing_cli

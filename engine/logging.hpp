// The program's one logger ("iptplan", to standard error), made the default
// once. A command line run inside a process whose service threads are
// already logging (the tests run both in one process) must not replace the
// default logger under them: spdlog's free functions use it without a lock.
#pragma once

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace iptplan {

inline std::shared_ptr<spdlog::logger> use_program_logger() {
  auto logger = spdlog::get("iptplan");
  if (!logger) logger = spdlog::stderr_color_mt("iptplan");
  if (spdlog::default_logger_raw() != logger.get()) spdlog::set_default_logger(logger);
  return logger;
}

}  // namespace iptplan

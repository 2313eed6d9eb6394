#include <csignal>
#include <iostream>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  // A closed pipe is an error the program reports (exit 1), not a silent
  // death by SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  return iptplan::cli::run_main(argc, argv, std::cout, std::cerr);
}

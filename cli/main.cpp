#include <iostream>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  return iptplan::cli::run_main(argc, argv, std::cout, std::cerr);
}

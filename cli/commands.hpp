// The command-line front end as functions: arguments in, text on the given
// streams and an exit code out (0 success, 1 rule or findings errors,
// 2 usage errors). main() only forwards to run_main().
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace iptplan::cli {

int run_main(int argc, const char* const* argv, std::ostream& out, std::ostream& err);
// As above, with findings named "-" read from `in` (main passes std::cin).
int run_main(int argc, const char* const* argv, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace iptplan::cli

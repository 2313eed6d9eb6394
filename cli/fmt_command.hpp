// `iptplan fmt [--check] PATH...`: rule files in the canonical layout.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace iptplan::cli {

// PATH: a `.rules` file, a folder (its `*.rules`), or `-` (standard input to
// standard output). Rewrites the files whose layout changes and names them;
// with `check`, names them and writes nothing. Exit 1 when a file has a
// syntax error or (with `check`) would change.
int cmd_fmt(const std::vector<std::string>& paths, bool check, std::istream& in, std::ostream& out,
            std::ostream& err);

}  // namespace iptplan::cli

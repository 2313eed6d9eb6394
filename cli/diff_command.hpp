// `iptplan diff OLD NEW [FINDINGS...]`: the plans a rule change changes.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "cli/common.hpp"

namespace iptplan::cli {

int cmd_diff(const std::string& old_spec, const std::string& new_spec, const std::vector<std::string>& findings,
             const std::string& fmt, bool summary_only, std::ostream& out, std::ostream& err);

}  // namespace iptplan::cli

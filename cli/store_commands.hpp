// The subcommands over the plan store: recording a plan, reading and
// verifying the record (audit), replaying a plan (verify) and recording a
// clinician's decisions on its items (review).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "cli/common.hpp"

namespace iptplan::cli {

// Where the store is: --store, else $IPTPLAN_STORE, else `[store] path` in
// the configuration file ($IPTPLAN_CONFIG, or ~/.config/iptplan/config.toml).
// Empty when none is set.
std::string store_location(const std::string& given);
// Who makes the record: --by, else $IPTPLAN_USER, else the login name.
std::string author(const std::string& given);

// Records one plan; prints where on `err`. False (with a message) on failure.
bool record_plan(const std::string& store, const std::string& by, const rule_set& rs,
                 const std::vector<rule_set_file>& files, const planned& pl, std::ostream& err);

int cmd_audit_verify(const std::string& store, std::ostream& out, std::ostream& err);
int cmd_audit_list(const std::string& store, const std::string& fmt, std::ostream& out, std::ostream& err);
int cmd_audit_show(const std::string& store, std::int64_t id, const std::string& fmt, std::ostream& out,
                   std::ostream& err);
int cmd_audit_overrides(const std::string& store, const std::string& since, const std::string& fmt,
                        std::ostream& out, std::ostream& err);

// `verify ID`: replays a recorded plan with its recorded findings and rule set.
int cmd_verify_record(const std::string& store, std::int64_t id, const std::string& fmt, std::ostream& out,
                      std::ostream& err);
// `verify PLAN.json FINDINGS [--rules DIR]`: replays a plan file.
int cmd_verify_file(const std::string& plan_file, const std::string& findings, const std::string& rules,
                    const std::string& fmt, std::istream& in, std::ostream& out, std::ostream& err);

struct review_request {
  std::vector<std::string> accept, reject;
  std::vector<std::pair<std::string, std::string>> edit;  // item, new text
  std::string reason;
};
int cmd_review(const std::string& store, std::int64_t id, const review_request& req, const std::string& by,
               std::ostream& out, std::ostream& err);

}  // namespace iptplan::cli

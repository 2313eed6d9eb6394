// The subcommands over the plan store: recording a plan, reading and
// verifying the record (audit), replaying a plan (verify) and recording a
// clinician's decisions on its items (review).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "cli/common.hpp"
#include "store/recording.hpp"

namespace iptplan::cli {

// Where the store is: --store, else $IPTPLAN_STORE, else `[store] path` in
// the configuration file ($IPTPLAN_CONFIG, or ~/.config/iptplan/config.toml;
// a relative path there is relative to the file's folder). Nothing (after
// a message) when the configuration file is wrong, and when none is set
// unless `none_is_error` is false: then "" (no store).
std::optional<std::string> store_location(const std::string& given, std::ostream& err,
                                          bool none_is_error = true);
// Who makes the record: --by, else $IPTPLAN_USER, else the login name.
// Nothing (after a message) for an empty name or one with control
// characters.
std::optional<std::string> author(const std::string& given, std::ostream& err);
// A record id as typed: a whole number from 1; nothing (after a message)
// otherwise.
std::optional<std::int64_t> record_id(const std::string& text, std::ostream& err);
// A date as --since takes it: YYYY-MM-DD.
bool valid_date(const std::string& text);

// Records one plan; prints where on `err`. False (with a message) on failure.
bool record_plan(const std::string& store, const std::string& by, const rule_set& rs,
                 const std::vector<rule_set_file>& files, const planned& pl, std::ostream& err);

// `expect`: a record hash kept elsewhere, which some record must still have
// ("" for none).
int cmd_audit_verify(const std::string& store, const std::string& expect, const std::string& fmt,
                     std::ostream& out, std::ostream& err);
int cmd_audit_list(const std::string& store, const std::string& fmt, std::ostream& out, std::ostream& err);
int cmd_audit_show(const std::string& store, std::int64_t id, const std::string& fmt, std::ostream& out,
                   std::ostream& err);
int cmd_audit_overrides(const std::string& store, const std::string& since, const std::string& fmt,
                        std::ostream& out, std::ostream& err);

// `why ITEM --record ID` / `why-not ITEM --record ID`: explains an item (or
// a derived fact) of a recorded plan with the rule set and findings it was
// made from, on a store whose chain verifies.
int cmd_why_record(const std::string& store, std::int64_t id, const std::string& item, bool why_not,
                   const std::string& fmt, std::ostream& out, std::ostream& err);

// `verify ID`: replays a recorded plan with its recorded findings and rule set.
int cmd_verify_record(const std::string& store, std::int64_t id, const std::string& fmt, std::ostream& out,
                      std::ostream& err);
// `verify PLAN.json FINDINGS [--rules DIR]`: replays a plan file.
int cmd_verify_file(const std::string& plan_file, const std::string& findings, const std::string& rules,
                    const std::string& fmt, std::istream& in, std::ostream& out, std::ostream& err);

using review_request = store::review_request;
int cmd_review(const std::string& store, std::int64_t id, const review_request& req, const std::string& by,
               std::ostream& out, std::ostream& err);

}  // namespace iptplan::cli

// `iptplan batch`: a caseload through one rule set, one JSON line a client.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace iptplan::cli {

struct batch_options {
  std::string rules;                // rule set folder; empty: the built-in one
  int jobs = 0;                     // threads; 0: one per core
  std::string explain = "rules";    // none | rules | full
  bool allow_unknown = false;
  bool progress = false;            // a progress line on stderr (a terminal)
  bool require_approved = false;    // a draft rule set is an error
};

// INPUT: findings files (.toml, .json), JSON Lines files (.jsonl), folders
// (their .toml, .json and .jsonl files, by name), or - (standard input:
// JSON Lines, or TOML documents separated by lines holding only +++).
// Writes one line per client, in input order, as soon as it is planned.
// Exit 0 when every client was planned, 1 when any was not (its line says
// why), 2 on usage errors.
int cmd_batch(const std::vector<std::string>& inputs, const batch_options& options, std::istream& in,
              std::ostream& out, std::ostream& err);

}  // namespace iptplan::cli

// `iptplan serve`: the clinic service (server/) started from the command
// line: options checked, the rule set loaded once, then served until
// SIGTERM or SIGINT.
#pragma once

#include <ostream>
#include <string>

namespace iptplan::cli {

struct serve_options {
  std::string rules;          // rule set folder; empty: the built-in one
  std::string store;          // sqlite:FILE, FILE or postgresql://...; empty: recording refused
  std::string listen = "127.0.0.1:8080";
  std::string token_file;     // required to listen beyond this machine
  std::string cds_trust;      // CDS clients trusted to call /cds-services (their keys)
  int threads = 64;
  std::size_t max_body = 1 << 20;
  bool require_approved = false;  // a draft rule set is an error
};

// Exit 0 after a clean stop, 1 when the rule set or the store cannot be
// used or the address cannot be bound, 2 on usage errors.
int cmd_serve(const serve_options& o, std::ostream& err);

}  // namespace iptplan::cli

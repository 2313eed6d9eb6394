// `iptplan serve`: the clinic service over HTTP (cpp-httplib, from Debian's
// libcpp-httplib-dev). See docs/api.md.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "server/jwt.hpp"
#include "server/service.hpp"

namespace iptplan::server {

struct http_options {
  std::string host = "127.0.0.1";
  int port = 8080;             // 0: any free port
  std::string token;           // bearer token; empty: none required
  std::size_t max_body = 1 << 20;
  int threads = 64;
  int timeout_seconds = 10;    // reading a request, writing a response
  // CDS clients trusted to call /cds-services...: when set, those paths
  // require a client's signed token (and not the bearer token above).
  std::shared_ptr<cds_trust> cds;
};

// Whether `host` is a loopback address: only this machine can connect.
bool is_loopback(const std::string& host);

// Whether `given` (an Authorization header) carries `token`, compared in
// constant time.
bool token_matches(const std::string& header, const std::string& token);

// Serves until SIGTERM or SIGINT (then finishes the requests in flight and
// returns 0), or until `stop` is set and called. `ready` is called with the
// port once it listens. Returns 1 when it cannot listen.
int serve(service& svc, const http_options& o, std::ostream& err,
          const std::function<void(int port, std::function<void()> stop)>& ready = {});

}  // namespace iptplan::server

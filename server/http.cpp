#include "server/http.hpp"

#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include "engine/ruleset.hpp"

namespace iptplan::server {

namespace {

// Every response: no script, style, frame or form from anywhere (the API
// serves JSON), nothing cached, no referrer, no MIME sniffing. No CORS
// header is ever sent: browsers keep other origins out.
const httplib::Headers kSecurityHeaders = {
    {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-store"},
    {"X-Frame-Options", "DENY"},
};

std::string request_id() {
  static std::atomic<std::uint64_t> counter{0};
  static const std::string prefix = [] {
    unsigned char b[4];
    if (RAND_bytes(b, sizeof b) != 1) return std::string("00000000");
    static const char* hex = "0123456789abcdef";
    std::string s;
    for (unsigned char c : b) {
      s += hex[c >> 4];
      s += hex[c & 15];
    }
    return s;
  }();
  return prefix + "-" + std::to_string(++counter);
}

void send(httplib::Response& res, const response& r) {
  res.status = r.status;
  // A header the service sets replaces the default one of that name.
  for (const auto& [k, v] : r.headers) res.headers.erase(k);
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  res.set_content(r.body, r.content_type);
}

}  // namespace

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

bool token_matches(const std::string& header, const std::string& token) {
  const std::string scheme = "Bearer ";
  if (token.empty() || header.size() <= scheme.size() || header.compare(0, scheme.size(), scheme) != 0) {
    return false;
  }
  // Hashes of equal length compared in constant time: neither the token's
  // length nor its first differing byte shows in the time taken.
  std::string a = sha256_hex(header.substr(scheme.size())), b = sha256_hex(token);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

int serve(service& svc, const http_options& o, std::ostream& err,
          const std::function<void(int, std::function<void()>)>& ready) {
  // SIGTERM and SIGINT go to one thread, which stops the server; every
  // other thread (the pool's included, created later) has them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &signals, &old);

  httplib::Server http;
  http.set_payload_max_length(o.max_body);
  http.set_read_timeout(o.timeout_seconds, 0);
  http.set_write_timeout(o.timeout_seconds, 0);
  http.set_keep_alive_timeout(5);
  http.set_keep_alive_max_count(100);
  http.set_default_headers(kSecurityHeaders);
  int threads = o.threads;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };

  http.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
    res.set_header("X-Request-Id", request_id());
    if (!o.token.empty() && !is_public_asset(req.method, req.path) &&
        !token_matches(req.get_header_value("Authorization"), o.token)) {
      send(res, error_response(401, "api.token", "a bearer token is required (Authorization: Bearer ...)"));
      res.set_header("WWW-Authenticate", "Bearer");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  auto handler = [&](const httplib::Request& req, httplib::Response& res) {
    request r;
    r.method = req.method;
    r.path = req.path;
    for (const auto& [k, v] : req.params) r.query.emplace(k, v);
    r.content_type = req.get_header_value("Content-Type");
    r.body = req.body;
    send(res, svc.handle(r));
  };
  http.Get(".*", handler);
  http.Post(".*", handler);
  http.Put(".*", handler);
  http.Delete(".*", handler);
  http.Patch(".*", handler);
  http.Options(".*", handler);
  // Statuses httplib answers by itself (413 for a body over the limit, 400
  // for a malformed request): the same JSON errors as every other.
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string code = res.status == 413 ? "api.too-large" : res.status == 404 ? "api.not-found" : "api.request";
    std::string message = res.status == 413   ? "the request body is larger than this server accepts"
                          : res.status == 404 ? "no such endpoint; see docs/api.md"
                                              : "the request could not be read";
    res.set_content(error_response(res.status, code, message).body, "application/json");
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("internal error: {}", printable(what));
    send(res, error_response(500, "api.internal", "internal error (see the server's log)"));
  });
  // One line a request: its id, method, path, status, time. Never the
  // query, the body or a header: they may hold findings or names.
  http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    spdlog::info("request {} {} {} -> {}", res.get_header_value("X-Request-Id"), req.method,
                 printable(req.path.substr(0, 200)), res.status);
  });

  int port = o.port;
  if (o.port == 0) {
    port = http.bind_to_any_port(o.host);
  } else if (!http.bind_to_port(o.host, o.port)) {
    port = -1;
  }
  if (port < 0) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    err << "iptplan: error: cannot listen on " << o.host << ":" << o.port
        << " (in use, not an address of this machine, or a privileged port)\n";
    return 1;
  }
  std::atomic<bool> stopping{false}, signalled{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    signalled = true;
    if (!stopping.exchange(true)) {
      spdlog::info("signal {}: finishing the requests in flight, then stopping", sig);
      http.stop();
    }
  });
  const auto& rs = svc.rules();
  err << "iptplan: serving " << rs.info.name << " " << rs.info.version << " on http://"
      << (o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host) << ":" << port << "/"
      << (o.token.empty() ? "" : " (bearer token required)") << "\n";
  err.flush();
  auto stop = [&] {
    if (!stopping.exchange(true)) http.stop();
  };
  if (ready) ready(port, stop);
  http.listen_after_bind();
  // Wake the waiter if it is still waiting (stopped by `stop`).
  stopping = true;
  if (!signalled) pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  spdlog::info("stopped");
  return 0;
}

}  // namespace iptplan::server

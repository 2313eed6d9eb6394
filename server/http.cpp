#include "server/http.hpp"

#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <malloc.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <cctype>
#include <optional>
#include <semaphore>
#include <chrono>
#include <csignal>
#include <ctime>
#include <thread>

#include <arpa/inet.h>
#include <poll.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "engine/logging.hpp"
#include "engine/ruleset.hpp"

namespace iptplan::server {

namespace {

constexpr int kDrainSeconds = 30;

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
  if (host == "localhost") return true;
  std::string h = host.size() > 2 && host.front() == '[' && host.back() == ']' ? host.substr(1, host.size() - 2) : host;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;  // a name: whatever it resolves to, it is not trusted as this machine
}

bool token_matches(const std::string& header, const std::string& token) {
  const std::string scheme = "bearer ";
  if (token.empty() || header.size() <= scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i]) return false;
  }
  // Hashes of equal length compared in constant time: neither the token's
  // length nor its first differing byte shows in the time taken.
  std::string a = sha256_hex(header.substr(scheme.size())), b = sha256_hex(token);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// What is wrong with a request before its body is read, as a response; or
// nothing. Keeps out what a web page in the clinician's browser could send
// to a service on this machine (cross-site requests, DNS rebinding) and
// bodies whose size the limit cannot see (compressed, chunked, unframed).
std::optional<response> refused(const httplib::Request& req, const http_options& o, int port) {
  // Headers read as one value are given once: with two, the service and a
  // proxy in front could each read a different one (a good Host first and
  // another behind it).
  for (const char* name : {"Host", "Origin", "Content-Type", "Content-Encoding", "Authorization", "Sec-Fetch-Site"}) {
    if (req.get_header_value_count(name) > 1) {
      return error_response(400, "api.headers", std::string("the header ") + name + " is given more than once");
    }
  }
  // Cross-site: a page of another origin.
  std::string origin = req.get_header_value("Origin");
  std::string host = lower(req.get_header_value("Host"));
  // (https:// too: behind a TLS proxy that keeps the Host.)
  if (!origin.empty() && lower(origin) != "http://" + host && lower(origin) != "https://" + host) {
    return error_response(403, "api.origin", "requests from another site's pages are refused");
  }
  if (lower(req.get_header_value("Sec-Fetch-Site")) == "cross-site") {
    return error_response(403, "api.origin", "requests from another site's pages are refused");
  }
  // Without a token, only this machine's own names: a page on another name
  // that resolves here (DNS rebinding) is refused.
  if (o.token.empty()) {
    // On port 80 clients leave the port out.
    std::string p = ":" + std::to_string(port);
    if (port == 80 && host.find(':') == std::string::npos) host += p;
    if (port == 80 && host.size() > 2 && host.front() == '[' && host.back() == ']') host += p;
    bool ours = host == "127.0.0.1" + p || host == "localhost" + p || host == "[::1]" + p ||
                host == lower(o.host) + p || host == "[" + lower(o.host) + "]" + p;
    if (!ours) return error_response(403, "api.host", "this service answers to 127.0.0.1, localhost or [::1] only");
  }
  if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    std::string encoding = lower(req.get_header_value("Content-Encoding"));
    if (!encoding.empty() && encoding != "identity") {
      return error_response(415, "api.encoding", "send the body uncompressed (no Content-Encoding)");
    }
    if (req.has_header("Transfer-Encoding") || !req.has_header("Content-Length")) {
      return error_response(411, "api.length", "send the body with a Content-Length, not chunked");
    }
    std::string type = lower(req.get_header_value("Content-Type"));
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    if (type != "application/json" && type != "application/toml" && type != "application/fhir+json") {
      return error_response(415, "api.content-type",
                            "send findings as Content-Type application/toml or application/json");
    }
  }
  return std::nullopt;
}

// The most a request's line and headers may hold. httplib (0.11, as Debian
// ships it) reads any number of header lines into memory, so a client
// could send gigabytes of them, even unauthenticated, before any handler
// runs: each connection is looked at first, without reading, and one whose
// headers do not end within this many bytes is refused with 431.
constexpr std::size_t kMaxHeaderBytes = 32 * 1024;

// Set on the thread serving a connection whose headers were refused: the
// request's log line says 431, the answer sent, not httplib's 400.
thread_local bool t_headers_refused = false;
// Set on the thread serving a connection when a header line has no colon,
// holds a NUL or another control character, or continues the line before
// (obs-fold): httplib drops such a line and reads on, which a proxy in
// front might not; the request is refused (400), as RFC 9112 allows.
thread_local bool t_header_malformed = false;

// A connection's stream as httplib reads it, with the request's line and
// headers counted: past kMaxHeaderBytes before their blank line, reading
// fails, and the answer httplib then writes (400) goes out as 431. Reads
// are buffered, and wait at most the read timeout, as httplib's own; and
// the whole request (line, headers, body) must arrive within
// kRequestTimeouts read timeouts, so a client that trickles a byte at a
// time cannot hold a worker thread for long.
constexpr int kRequestTimeouts = 3;

class bounded_stream final : public httplib::Stream {
 public:
  bounded_stream(socket_t sock, int read_timeout, int write_timeout)
      : sock_(sock),
        read_ms_(read_timeout * 1000),
        write_ms_(write_timeout * 1000),
        deadline_(std::chrono::steady_clock::now() + std::chrono::seconds(kRequestTimeouts * read_timeout)),
        request_seconds_(kRequestTimeouts * read_timeout) {
    t_headers_refused = false;
    t_header_malformed = false;
  }

  bool is_readable() const override {
    if (pos_ < len_) return true;
    int ms = read_wait_ms();
    return ms > 0 && wait(POLLIN, ms);
  }
  bool is_writable() const override { return wait(POLLOUT, write_ms_); }

  ssize_t read(char* ptr, size_t size) override {
    if (overflow_) return -1;
    if (pos_ == len_) {
      int ms = read_wait_ms();
      if (ms <= 0 || !wait(POLLIN, ms)) {
        read_wait_ms();  // past the deadline now: said in the log, once
        return -1;
      }
      ssize_t n;
      do n = ::recv(sock_, buf_, sizeof buf_, 0);
      while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      pos_ = 0;
      len_ = static_cast<std::size_t>(n);
    }
    std::size_t take = std::min(size, len_ - pos_);
    if (in_headers_) {
      for (std::size_t i = 0; i < take; ++i) {
        const auto c = static_cast<unsigned char>(buf_[pos_ + i]);
        tail_ = (tail_ << 8) | c;
        if (c == '\n') {
          // A header line (not the request line, not the blank line) ends.
          if (line_index_ > 0 && line_bytes_ > 1 && (!line_colon_ || line_bad_)) t_header_malformed = true;
          ++line_index_;
          line_bytes_ = 0;
          line_colon_ = line_bad_ = false;
        } else {
          if (line_bytes_ == 0 && line_index_ > 0 && (c == ' ' || c == '\t')) line_bad_ = true;  // obs-fold
          if (c == ':') line_colon_ = true;
          if ((c < 0x20 && c != '\r' && c != '\t') || c == 0x7f) line_bad_ = true;
          ++line_bytes_;
        }
        // CRLF CRLF only: httplib (built without
        // CPPHTTPLIB_ALLOW_LF_AS_LINE_TERMINATOR) reads on past a bare LF.
        if ((tail_ & 0xffffffffu) == 0x0d0a0d0au) {
          in_headers_ = false;  // the body follows: httplib bounds it
          take = i + 1;
          break;
        }
        if (++header_bytes_ > kMaxHeaderBytes) {
          overflow_ = true;
          spdlog::warn("request refused: its line and headers are longer than {} bytes", kMaxHeaderBytes);
          // Answered now: past the request line httplib answers 400 (sent
          // as this 431 by write()), within it not at all.
          refuse();
          return -1;
        }
      }
    }
    std::memcpy(ptr, buf_ + pos_, take);
    pos_ += take;
    return static_cast<ssize_t>(take);
  }

  void refuse() {
    if (refused_) return;
    refused_ = true;
    t_headers_refused = true;
    auto r = error_response(431, "api.headers", "the request's line and headers are longer than " +
                                                    std::to_string(kMaxHeaderBytes / 1024) + " KiB");
    std::string out = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/json\r\n"
                      "Content-Length: " +
                      std::to_string(r.body.size()) + "\r\nConnection: close\r\n";
    for (const auto& [k, v] : kSecurityHeaders) out += k + ": " + v + "\r\n";
    out += "\r\n" + r.body;
    send_all(out.data(), out.size());
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (overflow_) return static_cast<ssize_t>(size);  // httplib's own answer is not sent

    return send_all(ptr, size) ? static_cast<ssize_t>(size) : -1;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { address(true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address(false, ip, port); }
  socket_t socket() const override { return sock_; }

 private:
  // The read timeout, or what is left of the whole request's time if less;
  // 0 once that is spent (said once in the log): no more is read.
  int read_wait_ms() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      if (!late_) {
        late_ = true;
        spdlog::warn("request cut off: not received whole within {} s", request_seconds_);
      }
      return 0;
    }
    return static_cast<int>(std::min<long long>(read_ms_, left.count()));
  }
  bool wait(short events, int ms) const {
    pollfd p{sock_, events, 0};
    int r;
    do r = ::poll(&p, 1, ms);
    while (r < 0 && errno == EINTR);
    return r > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
  }
  bool send_all(const char* p, std::size_t n) const {
    while (n > 0) {
      if (!wait(POLLOUT, write_ms_)) return false;
      ssize_t w = ::send(sock_, p, n, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      p += w;
      n -= static_cast<std::size_t>(w);
    }
    return true;
  }
  void address(bool peer, std::string& ip, int& port) const {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    int r = peer ? ::getpeername(sock_, reinterpret_cast<sockaddr*>(&a), &len)
                 : ::getsockname(sock_, reinterpret_cast<sockaddr*>(&a), &len);
    if (r != 0) return;
    char text[INET6_ADDRSTRLEN] = {};
    if (a.ss_family == AF_INET) {
      auto* v4 = reinterpret_cast<sockaddr_in*>(&a);
      ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
      port = ntohs(v4->sin_port);
    } else if (a.ss_family == AF_INET6) {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&a);
      ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
      port = ntohs(v6->sin6_port);
    }
    ip = text;
  }

  socket_t sock_;
  int read_ms_, write_ms_;
  std::chrono::steady_clock::time_point deadline_;
  int request_seconds_;
  mutable bool late_ = false;
  char buf_[4096];
  std::size_t pos_ = 0, len_ = 0;
  bool in_headers_ = true, overflow_ = false, refused_ = false;
  // The header line being read: its number (0: the request line), length,
  // and whether it has held a colon or a byte no header may hold.
  std::size_t line_index_ = 0, line_bytes_ = 0;
  bool line_colon_ = false, line_bad_ = false;
  std::size_t header_bytes_ = 0;
  std::uint32_t tail_ = 0;
};

// httplib's server, each connection read through a bounded_stream, one
// request a connection (so every request's headers are bounded).
class bounded_server : public httplib::Server {
 public:
  bounded_server(int read_timeout, int write_timeout) : read_(read_timeout), write_(write_timeout) {}

 private:
  bool process_and_close_socket(socket_t sock) override {
    // Closed on every path, an exception's included.
    struct closer {
      socket_t s;
      ~closer() {
        ::shutdown(s, SHUT_RDWR);
        ::close(s);
      }
    } guard{sock};
    bounded_stream strm(sock, read_, write_);
    bool closed = false;
    return process_request(strm, true, closed, nullptr);
  }

  int read_, write_;
};

}  // namespace

int serve(service& svc, const http_options& o, std::ostream& err,
          const std::function<void(int, std::function<void()>)>& ready) {
  // Before any thread of the service logs.
  use_program_logger();
  // SIGTERM and SIGINT go to one thread, which stops the server; every
  // other thread (the pool's included, created later) has them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &signals, &old);

  // One malloc arena a core rather than glibc's eight: each arena reserves
  // address space, and with a thread a connection the reservations, not
  // the plans, would exhaust a memory limit (ulimit -v, a container's).
  mallopt(M_ARENA_MAX, static_cast<int>(std::max(2u, 2 * std::thread::hardware_concurrency())));

  bounded_server http(o.timeout_seconds, o.timeout_seconds);
  http.set_payload_max_length(o.max_body);
  http.set_read_timeout(o.timeout_seconds, 0);
  http.set_write_timeout(o.timeout_seconds, 0);
  http.set_keep_alive_timeout(5);
  http.set_keep_alive_max_count(1);  // one request a connection (bounded_server)
  http.set_default_headers(kSecurityHeaders);
  http.set_tcp_nodelay(true);
  int threads = o.threads;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };

  int port = o.port;
  http.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
    res.set_header("X-Request-Id", request_id());
    // One Content-Length of digits only: two that differ, or "2abc" (which
    // httplib reads as 2), would let a proxy in front and this server see
    // different requests in the same bytes. Refused, and the connection
    // closed, so nothing after it is read as a request.
    std::size_t lengths = req.get_header_value_count("Content-Length");
    if (lengths > 0) {
      std::string len = req.get_header_value("Content-Length");
      bool digits = !len.empty() && len.find_first_not_of("0123456789") == std::string::npos;
      if (lengths > 1 || !digits) {
        send(res, error_response(400, "api.request", "the request's Content-Length is not one whole number"));
        res.set_header("Connection", "close");
        return httplib::Server::HandlerResponse::Handled;
      }
      // A length of more digits than any body this server takes (past
      // what a 64-bit number holds, too): too large, as any length over
      // the limit is, not a malformed request.
      if (len.size() > 18) {
        send(res, error_response(413, "api.too-large", "the request body is larger than this server accepts"));
        res.set_header("Connection", "close");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    // A header name with a space or tab in it ("Host : x", which httplib
    // keeps as another header) is refused as RFC 9112 (5.1) asks: a proxy in
    // front might read it as the header itself. And a query parameter given
    // twice (record=1&record=0): which one counts would depend on who reads.
    if (t_header_malformed) {
      send(res, error_response(400, "api.request",
                               "a header line has no colon, holds a control character, or continues the line "
                               "before; send each header as Name: value on one line"));
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    for (const auto& [name, value] : req.headers) {
      if (name.find_first_of(" \t") != std::string::npos) {
        send(res, error_response(400, "api.request", "a header name holds a space (a space before the colon?)"));
        res.set_header("Connection", "close");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    // Each parameter as name=value, joined by '&' only: httplib reads
    // 'record=0=1' as record=1 (the last piece), splits on ';' as well, and
    // takes '=1' for a parameter named '1', so the service and a proxy in
    // front could read different values.
    if (auto q = req.target.find('?'); q != std::string::npos) {
      std::string_view query(req.target);
      query.remove_prefix(q + 1);
      bool ok = query.find(';') == std::string_view::npos;
      while (ok && !query.empty()) {
        auto amp = query.find('&');
        auto piece = query.substr(0, amp);
        auto eq = piece.find('=');
        ok = piece.empty() || (eq != 0 && (eq == std::string_view::npos || piece.find('=', eq + 1) == std::string_view::npos));
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
      }
      if (!ok) {
        send(res, error_response(400, "api.request",
                                 "the query must be name=value pairs joined by '&': a name, at most one '=' in "
                                 "each (percent-encode one in a value as %3D), no ';'"));
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    for (auto it = req.params.begin(); it != req.params.end(); it = req.params.upper_bound(it->first)) {
      if (req.params.count(it->first) > 1) {
        std::string name = it->first.size() <= 32 && it->first.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") ==
                                                          std::string::npos
                               ? "'" + it->first + "'"
                               : "a parameter";
        send(res, error_response(400, "api.request", "the query gives " + name + " more than once"));
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    // Whole answers only: a Range header would cut (or multiply) them.
    const_cast<httplib::Request&>(req).ranges.clear();
    bool cds_path = req.path == "/cds-services" || req.path.rfind("/cds-services/", 0) == 0;
    if (o.cds && cds_path) {
      // The other checks first: a request refused for them does not use up
      // its client's token (each is accepted once).
      if (auto no = refused(req, o, port)) {
        send(res, *no);
        return httplib::Server::HandlerResponse::Handled;
      }
      std::string why = o.cds->check(req.get_header_value("Authorization"), req.path,
                                     static_cast<std::int64_t>(std::time(nullptr)));
      if (!why.empty()) {
        send(res, error_response(401, "api.jwt", why));
        spdlog::warn("request {}: {} refused: {}", res.get_header_value("X-Request-Id"), printable(req.path.substr(0, 200)),
                     printable(why));
        res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        return httplib::Server::HandlerResponse::Handled;
      }
    } else if (!o.token.empty() && !is_public_asset(req.method, req.path) &&
               !token_matches(req.get_header_value("Authorization"), o.token)) {
      send(res, error_response(401, "api.token", "a bearer token is required (Authorization: Bearer ...)"));
      res.set_header("WWW-Authenticate", "Bearer");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (auto no = refused(req, o, port)) {
      send(res, *no);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Planning holds memory in proportion to the inventory (a plan for 200
  // people is tens of megabytes): at most one request a core is planned at
  // once, the others wait their turn, so memory does not grow with the
  // number of connections. A request that still finds no memory gets 503.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::counting_semaphore<1024> planning(static_cast<std::ptrdiff_t>(std::min(cores, 1024u)));
  auto handler = [&](const httplib::Request& req, httplib::Response& res) {
    request r;
    r.method = req.method;
    r.path = req.path;
    for (const auto& [k, v] : req.params) r.query.emplace(k, v);
    r.content_type = req.get_header_value("Content-Type");
    r.body = req.body;
    planning.acquire();
    try {
      response out = svc.handle(r);
      planning.release();
      send(res, out);
      // A large plan's memory goes back to the system, not kept for later.
      if (out.body.size() > (1u << 20)) malloc_trim(0);
    } catch (const std::bad_alloc&) {
      planning.release();
      spdlog::error("request {}: out of memory", res.get_header_value("X-Request-Id"));
      send(res, error_response(503, "api.busy", "the server has not the memory for this request now; try again"));
    } catch (...) {
      planning.release();
      throw;
    }
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
    // A request too malformed to reach the pre-routing handler still gets
    // its id (in the answer and the log line) and the security headers.
    if (!res.has_header("X-Request-Id")) {
      res.set_header("X-Request-Id", request_id());
      for (const auto& [k, v] : kSecurityHeaders) {
        if (!res.has_header(k)) res.set_header(k, v);
      }
    }
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
    } catch (const std::bad_alloc&) {
      // Out of memory outside the planning handler (reading the request,
      // copying its body): the same answer as inside it, a busy server.
      send(res, error_response(503, "api.busy", "the server has not the memory for this request now; try again"));
      spdlog::error("request {}: out of memory", res.get_header_value("X-Request-Id"));
      return;
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send(res, error_response(500, "api.internal", "internal error (see the server's log)"));
    spdlog::error("request {}: internal error: {}", res.get_header_value("X-Request-Id"), printable(what));
  });
  // One line a request: its id, method, path, status, time. Never the
  // query, the body or a header: they may hold findings or names.
  http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    spdlog::info("request {} {} {} -> {}", res.get_header_value("X-Request-Id"), printable(req.method.substr(0, 20)),
                 printable(req.path.substr(0, 200)), t_headers_refused ? 431 : res.status);
  });

  // The listening socket: SO_REUSEADDR alone (httplib's default adds
  // SO_REUSEPORT, which would let a second server share the port and take
  // half of its connections), and kept so that its backlog can be raised.
  int listen_fd = -1;
  http.set_socket_options([&listen_fd](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd = sock;
  });
  if (o.port == 0) {
    port = http.bind_to_any_port(o.host);
  } else if (!http.bind_to_port(o.host, o.port)) {
    port = -1;
  }
  // Debian's httplib listens with a backlog of 5: more clients connecting
  // at once than that had connections refused or dropped. Listening again
  // on the same socket raises it (Linux).
  if (port >= 0 && listen_fd >= 0) ::listen(listen_fd, SOMAXCONN);
  if (port < 0) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    err << "iptplan: error: cannot listen on " << o.host << ":" << o.port
        << " (in use, not an address of this machine, or a privileged port)\n";
    return 1;
  }
  // One thread waits for SIGTERM/SIGINT or a stop request, then asks the
  // server to stop until it has (a request made before the server listens
  // would otherwise be lost), finishing the requests in flight for at most
  // kDrainSeconds. A second signal ends the process at once.
  std::atomic<bool> stop_requested{false}, listened{false};
  std::thread waiter([&] {
    const timespec tick{0, 50 * 1000 * 1000};
    bool draining = false, stopped = false;
    auto since = std::chrono::steady_clock::now();
    while (!listened) {
      int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig > 0) {
        if (draining) {
          spdlog::warn("signal {} again: stopping now", sig);
          std::_Exit(0);
        }
        spdlog::info("signal {}: finishing the requests in flight, then stopping", sig);
        stop_requested = true;
      }
      if (stop_requested && !draining) {
        draining = true;
        since = std::chrono::steady_clock::now();
      }
      if (draining) {
        // Once, when it listens: stop() does nothing before, and must not
        // be called twice.
        if (!stopped && http.is_running()) {
          http.stop();
          stopped = true;
        }
        if (std::chrono::steady_clock::now() - since > std::chrono::seconds(kDrainSeconds)) {
          spdlog::warn("requests still in flight after {} s: stopping now", kDrainSeconds);
          std::_Exit(0);
        }
      }
    }
  });
  const auto& rs = svc.rules();
  err << "iptplan: serving " << rs.info.name << " " << rs.info.version << " on http://"
      << (o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host) << ":" << port << "/"
      << (o.token.empty() ? "" : " (bearer token required)")
      << (o.cds ? "; CDS Hooks calls need a signed token from one of " + std::to_string(o.cds->clients()) +
                      " trusted clients"
                : "")
      << "\n";
  err.flush();
  if (ready) ready(port, [&] { stop_requested = true; });
  http.listen_after_bind();
  listened = true;
  waiter.join();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  spdlog::info("stopped");
  return 0;
}

}  // namespace iptplan::server

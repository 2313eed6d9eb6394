#include "cli/serve_command.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "cli/common.hpp"
#include "cli/store_commands.hpp"
#include "engine/ruleset.hpp"
#include "server/http.hpp"
#include "server/service.hpp"
#include "store/store.hpp"

namespace iptplan::cli {

namespace {

constexpr std::size_t kMinTokenLength = 16;

// "127.0.0.1:8080", "[::1]:8080", ":8080" (this machine), "8080".
bool parse_listen(const std::string& text, std::string& host, int& port) {
  std::string p = text;
  host = "127.0.0.1";
  if (auto colon = text.rfind(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    p = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) host = "127.0.0.1";
  }
  if (p.empty() || p.size() > 5) return false;
  port = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    port = port * 10 + (c - '0');
  }
  return port <= 65535;
}

// The token: the file's first line, trimmed. The file must be the owner's
// alone, like an SSH key.
bool read_token(const std::string& path, std::string& token, std::ostream& err) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    err << "iptplan: error: --token-file " << printable(path) << ": not a readable file\n";
    return false;
  }
  if ((st.st_mode & 077) != 0) {
    err << "iptplan: error: --token-file " << printable(path) << " may be read by others (mode "
        << std::oct << (st.st_mode & 0777) << std::dec << "); make it the owner's alone: chmod 600 " << path
        << "\n";
    return false;
  }
  std::ifstream in(path);
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) token.pop_back();
  if (token.size() < kMinTokenLength) {
    err << "iptplan: error: --token-file " << printable(path) << ": the token is shorter than " << kMinTokenLength
        << " characters (make one with: openssl rand -hex 32 > " << path << ")\n";
    return false;
  }
  // A token no client could send (a header refuses control characters and
  // spaces): said now, not found out as every request refused.
  if (std::any_of(token.begin(), token.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u < 0x21 || u == 0x7f;
      })) {
    err << "iptplan: error: --token-file " << printable(path)
        << ": the token holds a space or a control character, which no HTTP header can carry (make one with: "
           "openssl rand -hex 32 > "
        << path << ")\n";
    return false;
  }
  return true;
}

}  // namespace

int cmd_serve(const serve_options& o, std::ostream& err) {
  server::http_options h;
  if (!parse_listen(o.listen, h.host, h.port)) {
    err << "iptplan: --listen " << printable(o.listen) << ": expected ADDRESS:PORT (127.0.0.1:8080) or PORT\n";
    return kUsage;
  }
  if (!o.token_file.empty() && !read_token(o.token_file, h.token, err)) return kUsage;
  if (!server::is_loopback(h.host) && h.token.empty()) {
    err << "iptplan: --listen " << printable(o.listen) << " lets other machines connect: give --token-file, so "
        << "that only clients holding the token are answered\n";
    return kUsage;
  }
  if (!o.cds_trust.empty()) {
    std::vector<diagnostic> diags;
    auto text = read_text_file(o.cds_trust, "serve.cds-trust", diags);
    if (!text) {
      for (const auto& d : diags) err << format(d);
      return kUsage;
    }
    std::string problem;
    auto trust = server::cds_trust::parse(*text, problem);
    if (!trust) {
      err << "iptplan: error: --cds-trust " << printable(o.cds_trust) << ": " << printable(problem) << "\n";
      return kUsage;
    }
    h.cds = std::make_shared<server::cds_trust>(std::move(*trust));
  }
  h.threads = o.threads;
  h.max_body = o.max_body;
  // The store `plan --record` uses (--store, $IPTPLAN_STORE, or [store]
  // path in the configuration file); none set: recording is refused.
  auto where = store_location(o.store, err, false);
  if (!where) return kInputError;  // a configuration file that cannot be read
  std::string store = *where;

  std::vector<rule_set_file> files;
  auto rs = load(o.rules, err, false, nullptr, &files);
  if (!rs) return kInputError;
  if (!rule_set_may_plan(*rs, o.require_approved, err)) return kInputError;
  if (!store.empty()) {
    try {
      store::open_store(store, true);
    } catch (const store::store_error& e) {
      // Not the location itself: a URL may hold a password.
      err << "iptplan: error: --store: " << printable(e.what()) << "\n";
      return kInputError;
    }
  }
  // Which store, said once at start; a URL is not shown (it may hold a
  // password).
  if (store.empty()) {
    err << "iptplan: no store: plans cannot be recorded (give --store, or set IPTPLAN_STORE)\n";
  } else if (store::is_postgresql_location(store)) {
    err << "iptplan: recording into a PostgreSQL store\n";
  } else {
    err << "iptplan: recording into " << printable(store) << "\n";
  }
  server::service svc(std::move(*rs), std::move(files), store);
  svc.require_current_review(o.require_approved);
  return server::serve(svc, h, err);
}

}  // namespace iptplan::cli

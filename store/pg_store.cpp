// The server store: PostgreSQL through libpq, the same schema and chain as
// the SQLite file (docs/store.md). Several `iptplan serve` processes may
// record into one database: each append is one transaction that locks the
// records table against other appends, reads the last hash and writes the
// new record, so the chain never forks.
#include <algorithm>
#include <cctype>
#include <libpq-fe.h>

#include <nlohmann/json.hpp>

#include "store/store.hpp"

namespace iptplan::store {

namespace {

// A result, freed when it goes.
class result {
 public:
  explicit result(PGresult* r) : r_(r) {}
  ~result() { PQclear(r_); }
  result(const result&) = delete;
  result& operator=(const result&) = delete;
  int rows() const { return PQntuples(r_); }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col)));
  }

 private:
  PGresult* r_;
};

// The password a connection string holds, in each form a libpq message
// could quote it (as written, and percent-decoded): from a URI's user
// information (postgresql://user:PASSWORD@host) or a `password=` keyword.
std::vector<std::string> passwords_in(const std::string& url) {
  std::vector<std::string> out;
  auto scheme = url.find("://");
  if (scheme != std::string::npos) {
    auto at = url.find('@', scheme + 3);
    if (at != std::string::npos) {
      std::string userinfo = url.substr(scheme + 3, at - scheme - 3);
      auto colon = userinfo.find(':');
      if (colon != std::string::npos) out.push_back(userinfo.substr(colon + 1));
    }
  }
  for (auto k = url.find("password="); k != std::string::npos; k = url.find("password=", k + 1)) {
    std::size_t from = k + 9, to = from;
    if (from < url.size() && url[from] == '\'') {
      to = url.find('\'', from + 1);
      out.push_back(url.substr(from + 1, to == std::string::npos ? std::string::npos : to - from - 1));
    } else {
      while (to < url.size() && url[to] != ' ' && url[to] != '&') ++to;
      out.push_back(url.substr(from, to - from));
    }
  }
  std::vector<std::string> all;
  for (const auto& p : out) {
    if (p.empty()) continue;
    all.push_back(p);
    std::string decoded;
    for (std::size_t i = 0; i < p.size(); ++i) {
      auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
      if (p[i] == '%' && i + 2 < p.size() && hex(p[i + 1]) && hex(p[i + 2])) {
        decoded += static_cast<char>(std::stoi(p.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        decoded += p[i];
      }
    }
    if (decoded != p) all.push_back(decoded);
  }
  // Longest first: a password that holds another is replaced whole.
  std::sort(all.begin(), all.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return all;
}

// libpq's message on one line (it breaks lines and indents hints with a
// tab), without the password.
std::string without_passwords(std::string text, const std::string& url) {
  for (const auto& p : passwords_in(url)) {
    for (auto at = text.find(p); at != std::string::npos; at = text.find(p, at + 3)) text.replace(at, p.size(), "***");
  }
  std::string one;
  for (char c : text) {
    if (c == '\n' || c == '\t' || c == '\r') {
      if (!one.empty() && one.back() != ' ') one += ' ';
    } else {
      one += c;
    }
  }
  while (!one.empty() && one.back() == ' ') one.pop_back();
  return one;
}

class pg_store final : public plan_store {
 public:
  explicit pg_store(const std::string& url) : url_(url) {
    c_ = PQconnectdb(url.c_str());
    if (PQstatus(c_) != CONNECTION_OK) {
      // The message names the server, never the password.
      std::string why = PQerrorMessage(c_);
      PQfinish(c_);
      c_ = nullptr;
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      throw store_error("the PostgreSQL store cannot be reached: " + without_passwords(why, url));
    }
    try {
      exec("SET client_min_messages = warning");
      // Two servers starting at once create the tables once.
      exec("BEGIN");
      exec("SELECT pg_advisory_xact_lock(7274807263)");
      exec(schema_sql("BIGINT").c_str());
      exec("INSERT INTO meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO NOTHING",
           {std::to_string(kSchemaVersion)});
      exec("INSERT INTO meta (key, value) VALUES ('application', 'iptplan') ON CONFLICT (key) DO NOTHING");
      exec("COMMIT");
      result v = query("SELECT value FROM meta WHERE key = 'schema_version'");
      if (v.rows() != 1 || v.text(0, 0) != std::to_string(kSchemaVersion)) {
        throw store_error("this PostgreSQL database is not an iptplan store of schema version " +
                          std::to_string(kSchemaVersion));
      }
    } catch (...) {
      PQfinish(c_);
      c_ = nullptr;
      throw;
    }
  }
  ~pg_store() override { PQfinish(c_); }

  record append(std::string kind, std::string created, std::string by, std::string body) override {
    exec("BEGIN");
    try {
      // Serialised appends: one writer at a time, whichever process.
      exec("LOCK TABLE records IN EXCLUSIVE MODE");
      record r;
      r.kind = std::move(kind);
      r.created = std::move(created);
      r.by = std::move(by);
      r.body = std::move(body);
      result last = query(
          "SELECT id, kind, created, by, body, prev_hash, hash FROM records ORDER BY id DESC LIMIT 2");
      if (last.rows() >= 1) {
        auto row = [&](int i) {
          return record{std::stoll(last.text(i, 0)), last.text(i, 1), last.text(i, 2), last.text(i, 3),
                        last.text(i, 4),             last.text(i, 5), last.text(i, 6)};
        };
        record tail = row(0);
        std::optional<record> before;
        if (last.rows() == 2) before = row(1);
        result count = query("SELECT COUNT(*) FROM records");
        if (auto why = tail_problem(tail, before, std::stoll(count.text(0, 0))); !why.empty()) {
          throw store_error(why);
        }
        if (auto why = next_record_problem(r, tail); !why.empty()) throw store_error(why);
        r.id = tail.id + 1;
        r.prev_hash = tail.hash;
      } else {
        r.id = 1;
        r.prev_hash = kGenesis;
      }
      r.hash = record_hash(r);
      exec("INSERT INTO records (id, kind, created, by, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)",
           {std::to_string(r.id), r.kind, r.created, r.by, r.body, r.prev_hash, r.hash});
      exec("COMMIT");
      return r;
    } catch (...) {
      PQclear(PQexec(c_, "ROLLBACK"));
      throw;
    }
  }

  void put_snapshot(const std::string& sha256, const std::vector<snapshot_file>& files) override {
    exec("INSERT INTO snapshots (sha256, files, created) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING",
         {sha256, encode_snapshot(files), now_utc()});
  }

  std::optional<std::vector<snapshot_file>> snapshot(const std::string& sha256) override {
    result q = query("SELECT files FROM snapshots WHERE sha256 = $1", {sha256});
    if (q.rows() != 1) return std::nullopt;
    return decode_snapshot(q.text(0, 0));
  }

  std::vector<record> scan(std::int64_t from, std::size_t limit) override {
    result q = query("SELECT id, kind, created, by, body, prev_hash, hash FROM records WHERE id >= $1 "
                     "ORDER BY id LIMIT $2",
                     {std::to_string(from), std::to_string(limit)});
    std::vector<record> out;
    for (int i = 0; i < q.rows(); ++i) {
      out.push_back({std::stoll(q.text(i, 0)), q.text(i, 1), q.text(i, 2), q.text(i, 3), q.text(i, 4),
                     q.text(i, 5), q.text(i, 6)});
    }
    return out;
  }

  std::vector<record> scan_kind(const std::string& kind, std::int64_t from, std::size_t limit) override {
    result q = query("SELECT id, kind, created, by, body, prev_hash, hash FROM records WHERE id >= $1 "
                     "AND kind = $3 ORDER BY id LIMIT $2",
                     {std::to_string(from), std::to_string(limit), kind});
    std::vector<record> out;
    for (int i = 0; i < q.rows(); ++i) {
      out.push_back({std::stoll(q.text(i, 0)), q.text(i, 1), q.text(i, 2), q.text(i, 3), q.text(i, 4),
                     q.text(i, 5), q.text(i, 6)});
    }
    return out;
  }

  std::vector<std::string> snapshot_hashes() override {
    result q = query("SELECT sha256 FROM snapshots ORDER BY sha256");
    std::vector<std::string> out;
    for (int i = 0; i < q.rows(); ++i) out.push_back(q.text(i, 0));
    return out;
  }

 private:
  PGconn* c_ = nullptr;
  std::string url_;  // for taking its password out of libpq's messages

  PGresult* run(const char* sql, const std::vector<std::string>& params) {
    std::vector<const char*> values;
    std::vector<int> lengths;
    for (const auto& p : params) {
      values.push_back(p.c_str());
      lengths.push_back(static_cast<int>(p.size()));
    }
    return PQexecParams(c_, sql, static_cast<int>(params.size()), nullptr, values.data(), lengths.data(),
                        nullptr, 0);
  }
  void fail(PGresult* r) {
    std::string why = PQresultErrorMessage(r);
    PQclear(r);
    throw store_error("the PostgreSQL store could not be read or written: " + without_passwords(why, url_));
  }
  void exec(const char* sql, const std::vector<std::string>& params = {}) {
    PGresult* r = params.empty() ? PQexec(c_, sql) : run(sql, params);
    auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail(r);
    PQclear(r);
  }
  result query(const char* sql, const std::vector<std::string>& params = {}) {
    PGresult* r = run(sql, params);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) fail(r);
    return result(r);
  }
};

}  // namespace

std::unique_ptr<plan_store> open_postgresql_store(const std::string& url) {
  return std::make_unique<pg_store>(url);
}

}  // namespace iptplan::store

// The embedded store: one SQLite file in WAL mode. Each append is one
// IMMEDIATE transaction that reads the last hash and writes the new record,
// so a crash (kill -9, power loss) leaves the chain as it was before or
// after the record, never half of it.
#include <sqlite3.h>
#include <sys/stat.h>

#include <cctype>
#include <filesystem>

#include "store/store.hpp"

namespace iptplan::store {

namespace {

class statement {
 public:
  statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK) {
      throw store_error(std::string("the store could not be read: ") + sqlite3_errmsg(db));
    }
  }
  ~statement() { sqlite3_finalize(st_); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  statement& bind(int i, const std::string& s) {
    sqlite3_bind_text(st_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  // True while there is a row.
  bool step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw store_error(std::string("the store could not be read or written: ") + sqlite3_errmsg(db_));
  }
  std::string text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, col))) : std::string();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(st_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

class sqlite_store final : public plan_store {
 public:
  sqlite_store(const std::string& path, bool create) {
    namespace fs = std::filesystem;
    std::error_code ec;
    // SQLite opens an empty name as a temporary database, deleted on
    // close: a store that would keep nothing.
    if (path.empty()) throw store_error("no store file named (give its path, e.g. sqlite:plans.db)");
    // "plans.db/" was written as plans.db and then not found by the reading
    // commands: a store is a file, named without a '/' at its end.
    if (path.back() == '/') throw store_error(path + ": a store is a file; give its name without the '/' at the end");
    bool exists = fs::exists(path, ec);
    // A new store is never made at the end of a dangling link: the link
    // names a file elsewhere that is not there (a store moved or lost).
    if (!exists && fs::is_symlink(fs::symlink_status(path, ec))) {
      throw store_error(path + ": a symbolic link to a file that does not exist; give the store's own path");
    }
    if (!exists && !create) throw store_error(path + ": no such store (record a plan with --record to create one)");
    if (exists && !fs::is_regular_file(path, ec)) throw store_error(path + ": this is not a store file");
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_FULLMUTEX;
    // A new store is readable by its owner only: it holds findings.
    mode_t old = ::umask(077);
    // A path is a file's name, never an SQLite URI ("file:x?mode=memory"
    // would record nothing, "?vfs=unix-none" would lock nothing): a name
    // that SQLite would read as one is given as ./file:...
    // (":memory:" likewise: a store in memory records nothing.) Every
    // relative path is given as ./path.
    std::string name = !path.empty() && path[0] != '/' ? "./" + path : path;
    int rc = sqlite3_open_v2(name.c_str(), &db_, flags, nullptr);
    ::umask(old);
    if (rc != SQLITE_OK) {
      std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw store_error(path + ": the store cannot be opened: " + why);
    }
    // A constructor that throws runs no destructor: close on every failure.
    try {
      try {
        prepare(path, create);
      } catch (const store_error&) {
        // A store in a folder this process cannot write (an archive, a
        // backup on read-only media): SQLite cannot make the shared-memory
        // file its write-ahead log needs, so a reading command opens it as
        // a file nobody changes. Never when a log with records not yet in
        // the file is there: those records would be missed.
        const int code = sqlite3_extended_errcode(db_) & 0xff;
        if (create || (code != SQLITE_CANTOPEN && code != SQLITE_READONLY) || has_pending_log(path) ||
            std::filesystem::exists(path + "-shm")) {
          throw;  // a log, or a connection open on it now: never read without locks
        }
        sqlite3_close(db_);
        db_ = nullptr;
        // file:///abs (an authority, even empty, before an absolute path:
        // "file://host/x" would read host as one).
        std::string uri = (name[0] == '/' ? "file://" : "file:") + uri_path(name) + "?immutable=1";
        if (sqlite3_open_v2(uri.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_FULLMUTEX,
                            nullptr) != SQLITE_OK) {
          throw store_error(std::string("the store cannot be opened: ") + (db_ ? sqlite3_errmsg(db_) : "out of memory"));
        }
        prepare(path, false);
      }
    } catch (const store_error& e) {
      sqlite3_close(db_);
      db_ = nullptr;
      // Every message about opening names the file ("file is not a
      // database" alone does not say which).
      std::string what = e.what();
      if (what.rfind(path + ":", 0) == 0) throw;
      throw store_error(path + ": " + what);
    } catch (...) {
      sqlite3_close(db_);
      db_ = nullptr;
      throw;
    }
  }
  ~sqlite_store() override { sqlite3_close(db_); }

  // Whether the store's write-ahead log holds anything.
  static bool has_pending_log(const std::string& path) {
    std::error_code ec;
    auto size = std::filesystem::file_size(path + "-wal", ec);
    return !ec && size > 0;
  }

  // A file name as the path of an SQLite URI: everything but letters,
  // digits and / . - _ percent-encoded.
  static std::string uri_path(const std::string& name) {
    std::string out;
    static const char* hex = "0123456789ABCDEF";
    for (unsigned char c : name) {
      if (std::isalnum(c) || c == '/' || c == '.' || c == '-' || c == '_') {
        out += static_cast<char>(c);
      } else {
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 15];
      }
    }
    return out;
  }

  void prepare(const std::string& path, bool create) {
    sqlite3_busy_timeout(db_, 10000);
    // A store file may come from anywhere (a copy, a backup): nothing in
    // it runs as code. No trigger or view is ever made by iptplan, so none
    // is run (a trigger added by hand ran at each append, copying records
    // out and rewriting others), SQL functions named in its schema are not
    // trusted, and the file cannot be made corrupt through this connection.
    for (auto [option, on] : {std::pair{SQLITE_DBCONFIG_DEFENSIVE, 1}, std::pair{SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0},
                              std::pair{SQLITE_DBCONFIG_ENABLE_TRIGGER, 0}, std::pair{SQLITE_DBCONFIG_ENABLE_VIEW, 0}}) {
      int set = -1;
      if (sqlite3_db_config(db_, option, on, &set) != SQLITE_OK || set != on) {
        throw store_error("this SQLite library cannot open a store safely (triggers, views and the defensive mode "
                          "cannot be set); use SQLite 3.31 or later");
      }
    }
    // An existing file that is not a store is refused before anything is
    // written to it, its journal mode included: only reads come first.
    bool empty = false;
    {
      statement probe(db_, "SELECT count(*) FROM sqlite_master WHERE type = 'table'");
      probe.step();
      empty = probe.integer(0) == 0;
    }
    if (!empty) check_version(path);
    // Reading commands never turn an empty file into a store: there is
    // nothing in it to read, and it is left as it was.
    if (empty && !create) throw store_error(path + ": no such store: the file is empty (record a plan with --record to make it one)");
    // A file this process may only read (another user's, mode 644; or
    // opened as immutable) is read as it is: auditors read archived
    // stores. Nothing is written, the journal mode included; a command
    // that records says so when it tries.
    if (create || sqlite3_db_readonly(db_, "main") != 1) {
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=FULL");
    }
    exec("PRAGMA foreign_keys=ON");
    if (empty) {
      // A new store (or an empty file made one) is readable by its owner
      // only: it holds findings.
      ::chmod(path.c_str(), 0600);
      exec("BEGIN IMMEDIATE");
      exec(schema_sql("INTEGER").c_str());
      statement meta(db_, "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)");
      meta.bind(1, std::string("schema_version")).bind(2, std::to_string(kSchemaVersion));
      meta.step();
      statement made(db_, "INSERT OR IGNORE INTO meta (key, value) VALUES ('application', 'iptplan')");
      made.step();
      exec("COMMIT");
      check_version(path);
    }
  }

  void check_version(const std::string& path) {
    bool ok = false;
    try {
      statement version(db_, "SELECT value FROM meta WHERE key = 'schema_version'");
      ok = version.step() && version.text(0) == std::to_string(kSchemaVersion);
    } catch (const store_error&) {
      ok = false;  // an SQLite file of another program: no table 'meta'
    }
    if (!ok) {
      throw store_error(path + ": this is not an iptplan store of schema version " +
                        std::to_string(kSchemaVersion));
    }
    // And it holds nothing iptplan does not make: a trigger or a view was
    // added by something else (they are never run, and said so).
    statement extra(db_, "SELECT count(*) FROM sqlite_master WHERE type IN ('trigger', 'view')");
    extra.step();
    if (extra.integer(0) > 0) {
      throw store_error(path + ": the store does not verify: it holds a trigger or a view, which iptplan never makes "
                        "(it was changed by something else); nothing is read from or added to it");
    }
  }

  record append(std::string kind, std::string created, std::string by, std::string body) override {
    exec("BEGIN IMMEDIATE");
    try {
      record r;
      r.kind = std::move(kind);
      r.created = std::move(created);
      r.by = std::move(by);
      r.body = std::move(body);
      statement last(db_,
                     "SELECT id, kind, created, by, body, prev_hash, hash FROM records ORDER BY id DESC LIMIT 2");
      if (last.step()) {
        record tail{last.integer(0), last.text(1), last.text(2), last.text(3), last.text(4), last.text(5),
                    last.text(6)};
        std::optional<record> before;
        if (last.step()) {
          before = record{last.integer(0), last.text(1), last.text(2), last.text(3), last.text(4), last.text(5),
                          last.text(6)};
        }
        statement count(db_, "SELECT COUNT(*) FROM records");
        count.step();
        if (auto why = tail_problem(tail, before, count.integer(0)); !why.empty()) throw store_error(why);
        if (auto why = next_record_problem(r, tail); !why.empty()) throw store_error(why);
        r.id = tail.id + 1;
        r.prev_hash = tail.hash;
      } else {
        r.id = 1;
        r.prev_hash = kGenesis;
      }
      r.hash = record_hash(r);
      statement ins(db_,
                    "INSERT INTO records (id, kind, created, by, body, prev_hash, hash) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
      ins.bind(1, r.id).bind(2, r.kind).bind(3, r.created).bind(4, r.by).bind(5, r.body);
      ins.bind(6, r.prev_hash).bind(7, r.hash);
      ins.step();
      exec("COMMIT");
      return r;
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  void put_snapshot(const std::string& sha256, const std::vector<snapshot_file>& files) override {
    statement ins(db_, "INSERT OR IGNORE INTO snapshots (sha256, files, created) VALUES (?1, ?2, ?3)");
    ins.bind(1, sha256).bind(2, encode_snapshot(files)).bind(3, now_utc());
    ins.step();
  }

  std::optional<std::vector<snapshot_file>> snapshot(const std::string& sha256) override {
    statement q(db_, "SELECT files FROM snapshots WHERE sha256 = ?1");
    q.bind(1, sha256);
    if (!q.step()) return std::nullopt;
    return decode_snapshot(q.text(0));
  }

  std::vector<record> scan(std::int64_t from, std::size_t limit) override {
    statement q(db_,
                "SELECT id, kind, created, by, body, prev_hash, hash FROM records "
                "WHERE id >= ?1 ORDER BY id LIMIT ?2");
    q.bind(1, from).bind(2, static_cast<std::int64_t>(limit));
    std::vector<record> out;
    while (q.step()) {
      out.push_back({q.integer(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.text(6)});
    }
    return out;
  }

  std::vector<record> scan_kind(const std::string& kind, std::int64_t from, std::size_t limit) override {
    // SQLite reads a row's first page for `kind`, not the overflow pages
    // of a plan's body it skips.
    statement q(db_,
                "SELECT id, kind, created, by, body, prev_hash, hash FROM records "
                "WHERE id >= ?1 AND kind = ?3 ORDER BY id LIMIT ?2");
    q.bind(1, from).bind(2, static_cast<std::int64_t>(limit)).bind(3, kind);
    std::vector<record> out;
    while (q.step()) {
      out.push_back({q.integer(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.text(6)});
    }
    return out;
  }

  std::vector<std::string> snapshot_hashes() override {
    statement q(db_, "SELECT sha256 FROM snapshots ORDER BY sha256");
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.text(0));
    return out;
  }

 private:
  sqlite3* db_ = nullptr;

  void exec(const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string why = msg ? msg : "unknown error";
      sqlite3_free(msg);
      throw store_error("the store could not be read or written: " + why);
    }
  }
};

}  // namespace

std::unique_ptr<plan_store> open_postgresql_store(const std::string& url);

bool is_postgresql_location(const std::string& location) {
  if (location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0) return true;
  // libpq's keyword form: a word and `=` first (`host=...`, `sslcrl=...`;
  // libpq has dozens of keywords, and more each release). A file with such
  // a name is still reachable as sqlite:NAME.
  std::size_t i = location.find_first_not_of(" \t");
  if (i == std::string::npos) return false;
  std::size_t end = i;
  while (end < location.size() && (std::isalnum(static_cast<unsigned char>(location[end])) || location[end] == '_')) {
    ++end;
  }
  if (end == i) return false;
  std::size_t eq = location.find_first_not_of(" \t", end);
  return eq != std::string::npos && location[eq] == '=';
}

std::unique_ptr<plan_store> open_store(const std::string& location, bool create) {
  if (is_postgresql_location(location)) return open_postgresql_store(location);
  if (location.rfind("sqlite:", 0) == 0) return std::make_unique<sqlite_store>(location.substr(7), create);
  return std::make_unique<sqlite_store>(location, create);
}

}  // namespace iptplan::store

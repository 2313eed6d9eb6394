// The plan store: an append-only record of plans and of clinicians'
// decisions on them, each record chained to the one before by its hash, and
// the rule sets the plans were made with, stored once per content hash so an
// old plan can be replayed after the rules change.
//
// One small interface (plan_store) so that a server store can sit beside
// the embedded SQLite one; the chain, its verification and the record
// bodies are built here, once, for every kind of store. The engine knows
// nothing of this library; the CLI uses it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace iptplan::store {

// The schema this program writes and reads (docs/store.md).
inline constexpr int kSchemaVersion = 1;
// The hash a first record names as its predecessor.
inline const std::string kGenesis(64, '0');

struct snapshot_file {
  std::string base;  // name inside the rule set: "safety.rules"
  std::string text;
};

// One record, as stored. `body` is canonical JSON (keys sorted, no spaces):
// the bytes the hash covers.
struct record {
  std::int64_t id = 0;
  std::string kind;     // "plan" or "review"
  std::string created;  // UTC, ISO 8601: 2026-11-26T15:04:05Z
  std::string by;
  std::string body;
  std::string prev_hash, hash;
};

// The hash of a record: over its id, kind, time, author, body and the
// previous record's hash, each followed by a NUL byte.
std::string record_hash(const record& r);

// What makes a store unfit to append to, checked by every append inside its
// transaction, in constant time: `last` (the last record) and `before` (the
// one before it, if any) as stored, and the number of records. A gap in the
// ids (a record removed), a last record changed after it was written, or one
// that does not name the hash of the record before it: "" when none. The
// whole chain is checked by verify() ('iptplan audit verify').
std::string tail_problem(const record& last, const std::optional<record>& before, std::int64_t count);
// Whether `next`, about to follow `tail`, is a record verify would refuse
// (dated over an hour before it: this machine's clock); "" when not.
std::string next_record_problem(const record& next, const record& tail);

// A snapshot's key: the hash over every file stored (the rule set's files
// and its approval.toml), in the rule-set hash's format.
std::string snapshot_hash(std::vector<snapshot_file> files);

class plan_store {
 public:
  virtual ~plan_store() = default;
  // Appends a record after the last one, atomically: it is there with its
  // hash chained, or not at all. Fills in id, prev_hash and hash.
  virtual record append(std::string kind, std::string created, std::string by, std::string body) = 0;
  // Stores a rule set's files under their hash, once.
  virtual void put_snapshot(const std::string& sha256, const std::vector<snapshot_file>& files) = 0;
  virtual std::optional<std::vector<snapshot_file>> snapshot(const std::string& sha256) = 0;
  // The record with this id (by scan, unless a store knows better).
  virtual std::optional<record> get(std::int64_t id) {
    auto rs = scan(id, 1);
    if (rs.empty() || rs[0].id != id) return std::nullopt;
    return rs[0];
  }
  // Records in id order, from `from` on, at most `limit` of them.
  virtual std::vector<record> scan(std::int64_t from, std::size_t limit) = 0;
  // The same, of one kind only (the reviews, say, without reading every
  // plan's body), unless a store knows better by filtering a scan.
  virtual std::vector<record> scan_kind(const std::string& kind, std::int64_t from, std::size_t limit) {
    std::vector<record> out;
    while (out.size() < limit) {
      auto page = scan(from, 256);
      for (auto& r : page) {
        if (r.kind == kind && out.size() < limit) out.push_back(std::move(r));
      }
      if (page.size() < 256) break;
      from = page.back().id + 1;
    }
    return out;
  }
  // Every snapshot's hash as stored.
  virtual std::vector<std::string> snapshot_hashes() = 0;
};

// The tables of a store (docs/store.md, "Schema"), in SQL both SQLite and
// PostgreSQL read; `id_type` is the records' id column type (INTEGER for
// SQLite's rowid, BIGINT for PostgreSQL).
std::string schema_sql(const std::string& id_type);

// A snapshot's files as stored (a JSON list of {name, text}), and back;
// nothing when what is stored is not such a list.
std::string encode_snapshot(const std::vector<snapshot_file>& files);
std::optional<std::vector<snapshot_file>> decode_snapshot(const std::string& stored);

// Opens (and creates, with `create`) the store at `location`: a path to an
// SQLite file (or `sqlite:PATH`), or a PostgreSQL connection string, as a
// URL (`postgresql://...`) or in libpq's keyword form (`host=... dbname=...`);
// the tables are created when missing. Throws store_error with a message
// for people.
std::unique_ptr<plan_store> open_store(const std::string& location, bool create);

// Whether `location` names a PostgreSQL store (a URL or libpq keywords:
// it may hold a password, so it is never shown) rather than a file.
bool is_postgresql_location(const std::string& location);

struct store_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What `audit verify` finds: every record's hash recomputed and chained,
// every snapshot's files hashed, every plan's snapshot present.
struct verification {
  std::size_t records = 0, snapshots = 0;
  std::int64_t first_bad = 0;  // 0 when all verify
  // Snapshots no record uses: left by a recording interrupted between its
  // snapshot and its record, or by records removed.
  std::size_t unused_snapshots = 0;
  std::string problem;         // why the first bad record (or snapshot) fails
  // When all verify: the last record, whose hash an auditor keeps elsewhere
  // (a removal or rewrite of the last records shows only against it).
  std::int64_t last_id = 0;
  std::string last_hash;
  // Whether a record has the hash looked for (verify's `expect_hash`).
  bool expected_found = false;
};
// One record checked as verify() checks it, with its place in the chain:
// its hash, the record before it (present, unchanged, and named by it), the
// record after it (naming it), and its body (a plan's findings, plan and
// snapshot; a review's plan, an earlier record, and its items). In constant
// time, for the commands that read one plan (audit show, review, why
// --record); "" when it verifies, else "record N does not verify: why".
std::string record_problem(plan_store& s, const record& r);

// `expect_hash`: a record hash kept elsewhere (the whole hash, or its first 12
// or more hex digits); verification then also says whether a record still
// has it.
verification verify(plan_store& s, const std::string& expect_hash = "");

// The current time, UTC, ISO 8601 to the second.
std::string now_utc();

}  // namespace iptplan::store

// The chain: record hashes, snapshot hashes, and verification over any
// plan_store.
#include <ctime>
#include <set>

#include "engine/ruleset.hpp"
#include "store/store.hpp"

namespace iptplan::store {

std::string record_hash(const record& r) {
  std::string all;
  for (const std::string* part : {&r.kind, &r.created, &r.by, &r.body, &r.prev_hash}) {
    all += *part;
    all += '\0';
  }
  return sha256_hex(std::to_string(r.id) + '\0' + all);
}

std::string snapshot_hash(std::vector<snapshot_file> files) {
  std::vector<rule_set_file> rs;
  rs.reserve(files.size());
  for (auto& f : files) rs.push_back({f.base, f.base, std::move(f.text)});
  return files_hash(std::move(rs));
}

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string schema_sql(const std::string& id_type) {
  return R"sql(
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshots (
  sha256  TEXT PRIMARY KEY,
  files   TEXT NOT NULL,
  created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
  id        )sql" + id_type + R"sql( PRIMARY KEY,
  kind      TEXT NOT NULL,
  created   TEXT NOT NULL,
  by        TEXT NOT NULL,
  body      TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL UNIQUE
);
)sql";
}

std::string encode_snapshot(const std::vector<snapshot_file>& files) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& f : files) j.push_back({{"name", f.base}, {"text", f.text}});
  return j.dump();
}

std::optional<std::vector<snapshot_file>> decode_snapshot(const std::string& stored) {
  auto j = nlohmann::json::parse(stored, nullptr, false);
  if (!j.is_array()) return std::nullopt;
  std::vector<snapshot_file> files;
  for (const auto& f : j) {
    if (!f.is_object() || !f.contains("name") || !f.contains("text") || !f["name"].is_string() ||
        !f["text"].is_string()) {
      return std::nullopt;
    }
    files.push_back({f["name"].get<std::string>(), f["text"].get<std::string>()});
  }
  return files;
}

verification verify(plan_store& s) {
  verification v;
  // Snapshots first: a plan's replay rests on them.
  std::set<std::string> good_snapshots;
  for (const auto& sha : s.snapshot_hashes()) {
    ++v.snapshots;
    auto files = s.snapshot(sha);
    if (files && snapshot_hash(*files) == sha) {
      good_snapshots.insert(sha);
    } else if (v.problem.empty()) {
      v.problem = "the rule set snapshot " + sha.substr(0, 12) + " does not match its hash";
    }
  }
  std::set<std::string> used;
  std::string prev = kGenesis;
  std::int64_t expect = 1;
  auto fail = [&](const record& r, const std::string& why) {
    v.first_bad = r.id;
    v.problem = "record " + std::to_string(r.id) + " does not verify: " + why;
  };
  const std::size_t kPage = 512;
  for (std::int64_t from = 1;;) {
    auto page = s.scan(from, kPage);
    for (const auto& r : page) {
      ++v.records;
      if (r.id != expect) {
        fail(r, "record " + std::to_string(expect) + " before it is missing");
        return v;
      }
      if (r.prev_hash != prev) {
        fail(r, r.id == 1 ? std::string("the first record does not start the chain (records were removed or "
                                        "inserted)")
                          : "it does not name the hash of record " + std::to_string(r.id - 1) +
                                " (that record was changed after it was written, or records were removed or "
                                "inserted)");
        return v;
      }
      if (record_hash(r) != r.hash) {
        fail(r, "its contents do not match its hash (it was changed after it was written)");
        return v;
      }
      if (r.kind == "plan") {
        auto body = nlohmann::json::parse(r.body, nullptr, false);
        std::string sha = body.is_object() ? body.value("/rule_set/snapshot"_json_pointer, std::string()) : "";
        used.insert(sha);
        if (!good_snapshots.count(sha)) {
          fail(r, "the rule set it was planned with (" + sha.substr(0, 12) + ") is missing or damaged");
          return v;
        }
      }
      prev = r.hash;
      ++expect;
    }
    if (page.size() < kPage) break;
    from = page.back().id + 1;
  }
  for (const auto& sha : good_snapshots) v.unused_snapshots += used.count(sha) ? 0 : 1;
  return v;
}

}  // namespace iptplan::store

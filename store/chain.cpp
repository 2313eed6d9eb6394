// The chain: record hashes, snapshot hashes, and verification over any
// plan_store.
#include <ctime>
#include <map>
#include <set>

#include "engine/ruleset.hpp"
#include "store/plan_compare.hpp"
#include "store/records.hpp"
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

namespace {

// A record whose hash verifies must also agree with itself: its findings
// with their hash, its plan with its hash (a record rewritten with its hash
// recomputed is caught here when it is the last one, which the chain alone
// cannot show). "" when it does.
std::string plan_body_problem(const nlohmann::json& body) {
  plan_facts f;
  try {
    f = read_plan_body(body);
  } catch (const store_error&) {
    return "its body is not a plan record";
  }
  if (sha256_hex(f.findings) != f.findings_sha256) {
    return "its findings do not match their recorded hash (they were changed after the plan was made)";
  }
  if (string_at(body, "/plan/sha256") != sha256_hex(f.plan_json)) {
    return "its plan does not match its recorded hash (it was changed after it was made)";
  }
  auto plan = nlohmann::json::parse(f.plan_json, nullptr, false);
  if (!plan.is_object() || string_at(plan, "/provenance/findings/sha256") != f.findings_sha256) {
    return "its plan was not made from its findings";
  }
  return "";
}

// A review names an earlier plan record by id and hash, and decides only
// items that plan holds.
std::string review_body_problem(plan_store& s, const std::map<std::int64_t, std::string>& plans,
                                 const std::string& body) {
  review_facts f;
  try {
    f = read_review_body(body);
  } catch (const store_error&) {
    return "its body is not a review record";
  }
  auto at = plans.find(f.plan_id);
  if (at == plans.end() || at->second != f.plan_hash) {
    return "it reviews plan " + std::to_string(f.plan_id) + ", which is not an earlier plan record with the hash it names";
  }
  auto plan = s.get(f.plan_id);
  if (!plan) return "the plan it reviews cannot be read";
  auto items = items_of(nlohmann::json::parse(read_plan_body(plan->body).plan_json, nullptr, false));
  for (const auto& d : f.decisions) {
    if (!items.by_id.count(d.item)) {
      return "it decides an item that plan " + std::to_string(f.plan_id) + " does not hold";
    }
    if (d.action != "accept" && d.action != "reject" && d.action != "edit") {
      return "it records a decision that is not accept, reject or edit";
    }
  }
  return "";
}

}  // namespace

std::string tail_problem(const record& last, const std::optional<record>& before, std::int64_t count) {
  std::string why;
  if (count != last.id) {
    why = "it holds " + std::to_string(count) + " records but the last is numbered " + std::to_string(last.id) +
          " (records were removed or inserted)";
  } else if (record_hash(last) != last.hash) {
    why = "record " + std::to_string(last.id) + " was changed after it was written";
  } else if (last.id == 1 ? last.prev_hash != kGenesis : !before || before->hash != last.prev_hash) {
    why = "record " + std::to_string(last.id) + " does not name the hash of the record before it";
  } else if (before && record_hash(*before) != before->hash) {
    why = "record " + std::to_string(before->id) + " was changed after it was written";
  }
  if (why.empty()) return why;
  return "the store does not verify: " + why +
         "; nothing is added to a store that does not verify (see 'iptplan audit verify')";
}

verification verify(plan_store& s, const std::string& expect_hash) {
  verification v;
  std::map<std::int64_t, std::string> plans;  // plan records so far: id -> hash
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
  std::int64_t expect_id = 1;
  auto fail = [&](const record& r, const std::string& why) {
    v.first_bad = r.id;
    v.problem = "record " + std::to_string(r.id) + " does not verify: " + why;
  };
  const std::size_t kPage = 512;
  for (std::int64_t from = 1;;) {
    auto page = s.scan(from, kPage);
    for (const auto& r : page) {
      ++v.records;
      if (r.id != expect_id) {
        fail(r, "record " + std::to_string(expect_id) + " before it is missing");
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
        std::string sha = string_at(body, "/rule_set/snapshot");
        used.insert(sha);
        if (!good_snapshots.count(sha)) {
          fail(r, "the rule set it was planned with (" + sha.substr(0, 12) + ") is missing or damaged");
          return v;
        }
        if (auto why = plan_body_problem(body); !why.empty()) {
          fail(r, why);
          return v;
        }
        plans.emplace(r.id, r.hash);
      } else if (r.kind == "review") {
        if (auto why = review_body_problem(s, plans, r.body); !why.empty()) {
          fail(r, why);
          return v;
        }
      } else {
        fail(r, "it is of no kind a store holds (a plan or a review)");
        return v;
      }
      prev = r.hash;
      v.last_id = r.id;
      v.last_hash = r.hash;
      if (!expect_hash.empty() && r.hash.compare(0, expect_hash.size(), expect_hash) == 0) v.expected_found = true;
      ++expect_id;
    }
    if (page.size() < kPage) break;
    from = page.back().id + 1;
  }
  for (const auto& sha : good_snapshots) v.unused_snapshots += used.count(sha) ? 0 : 1;
  return v;
}

}  // namespace iptplan::store

// The chain: record hashes, snapshot hashes, and verification over any
// plan_store.
#include <openssl/evp.h>
#include <simdjson.h>

#include <ctime>
#include <map>
#include <memory>
#include <set>

#include "engine/ruleset.hpp"
#include "store/plan_compare.hpp"
#include "store/records.hpp"
#include "store/recording.hpp"
#include "store/store.hpp"

namespace iptplan::store {

std::string record_hash(const record& r) {
  // Hashed in pieces, with no copy of the body (a plan record's is some
  // 100 KB, and verify hashes every record).
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const char nul = '\0';
  const std::string id = std::to_string(r.id);
  bool ok = ctx && EVP_DigestInit_ex(ctx.get(), sha256 ? sha256 : EVP_sha256(), nullptr) == 1;
  for (const std::string* part : {&id, &r.kind, &r.created, &r.by, &r.body, &r.prev_hash}) {
    ok = ok && EVP_DigestUpdate(ctx.get(), part->data(), part->size()) == 1 &&
         EVP_DigestUpdate(ctx.get(), &nul, 1) == 1;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ok || EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1) throw store_error("SHA-256 is not available");
  return to_hex(digest, len);
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
// cannot show). Read with simdjson: verify reads every plan record, each
// some 100 KB of JSON holding a plan's JSON as a string, and nlohmann
// parsed the two at some 1.5 ms a record (16 s for 10,000).
class plan_checker {
 public:
  // "" when the body agrees with itself; `snapshot` is the snapshot it
  // names, `rule_set` the rule set's own hash (the one plans show).
  std::string problem(const std::string& body, std::string& snapshot) {
    std::string rule_set;
    return problem(body, snapshot, rule_set);
  }
  std::string problem(const std::string& body, std::string& snapshot, std::string& rule_set_sha) {
    snapshot.clear();
    rule_set_sha.clear();
    simdjson::dom::element b;
    if (body_.parse(body).get(b) || !b.is_object()) return "its body is not a plan record";
    auto text = [](simdjson::dom::element e, std::string_view pointer) -> std::optional<std::string_view> {
      std::string_view v;
      if (e.at_pointer(pointer).get_string().get(v)) return std::nullopt;
      return v;
    };
    if (auto snap = text(b, "/rule_set/snapshot")) snapshot = *snap;
    auto rule_set = text(b, "/rule_set/sha256");
    if (rule_set) rule_set_sha = *rule_set;
    auto plan_json = text(b, "/plan/json");
    if (!rule_set || rule_set->empty() || !plan_json || plan_json->empty()) return "its body is not a plan record";
    std::string_view findings_sha = text(b, "/findings/sha256").value_or("");
    if (sha256_hex(text(b, "/findings/text").value_or("")) != findings_sha) {
      return "its findings do not match their recorded hash (they were changed after the plan was made)";
    }
    if (text(b, "/plan/sha256").value_or("") != sha256_hex(*plan_json)) {
      return "its plan does not match its recorded hash (it was changed after it was made)";
    }
    simdjson::dom::element p;
    if (plan_.parse(plan_json->data(), plan_json->size()).get(p) || !p.is_object() ||
        text(p, "/provenance/findings/sha256") != findings_sha) {
      return "its plan was not made from its findings";
    }
    return "";
  }

 private:
  simdjson::dom::parser body_, plan_;
};

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
  auto plan_json = nlohmann::json::parse(read_plan_body(plan->body).plan_json, nullptr, false);
  auto items = items_of(plan_json);
  for (const auto& d : f.decisions) {
    auto item = items.by_id.find(d.item);
    if (item == items.by_id.end()) {
      return "it decides an item that plan " + std::to_string(f.plan_id) + " does not hold";
    }
    if (d.action != "accept" && d.action != "reject" && d.action != "edit") {
      return "it records a decision that is not accept, reject or edit";
    }
    // What the decision was about is the plan's: the item's text and the
    // rules behind it (a review rewritten to blame another rule in
    // `audit overrides` is found here, even with every hash recomputed).
    if (d.original_text != text_of(item->second)) {
      return "its decision on " + d.item + " quotes a text that plan " + std::to_string(f.plan_id) +
             " does not give that item";
    }
    if (d.rules != rules_of(plan_json, item->second)) {
      return "its decision on " + d.item + " names rules that plan " + std::to_string(f.plan_id) +
             " does not give behind that item";
    }
  }
  return "";
}

// A plan's snapshot that is not there, or whose files changed: said with
// the rule set's hash that plans and `audit show` print, beside the
// snapshot's own (which covers the approval file too).
std::string snapshot_problem(const std::string& snapshot, const std::string& rule_set, bool present) {
  std::string which = "the rule set it was planned with (rule set sha256 " + rule_set.substr(0, 12) +
                      ", snapshot " + snapshot.substr(0, 12) + ")";
  return present ? which + " no longer matches its snapshot's hash: a file of it was changed after it was stored"
                 : which + " is not in the store";
}

}  // namespace

std::string changed_before(std::int64_t next) {
  return "record " + std::to_string(next) + ", written after it, names another hash for it: it was changed after " +
         "record " + std::to_string(next) + " was written (its own hash recomputed), or another record was put in "
         "its place";
}

// A plan record that a later review names by another hash: the review was
// written when the plan had that hash, so the plan is the one to doubt
// (every hash from it on recomputed), unless the review was forged.
std::string reviewed_by_another_hash(std::int64_t review) {
  return "record " + std::to_string(review) + ", a review written after it, names it by another hash: it was " +
         "changed after record " + std::to_string(review) + " was written (its hash and those after it recomputed), "
         "or record " + std::to_string(review) + " names a hash the plan never had";
}

namespace {

// A record's time as the store writes it (now_utc): 2026-11-29T18:02:03Z.
bool is_record_time(const std::string& t) {
  if (t.size() != 20) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    bool ok = i == 4 || i == 7 ? c == '-' : i == 10 ? c == 'T' : i == 13 || i == 16 ? c == ':' : i == 19 ? c == 'Z'
                                                                                              : c >= '0' && c <= '9';
    if (!ok) return false;
  }
  int month = std::stoi(t.substr(5, 2)), day = std::stoi(t.substr(8, 2));
  int hour = std::stoi(t.substr(11, 2)), minute = std::stoi(t.substr(14, 2)), second = std::stoi(t.substr(17, 2));
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60;
}

// Seconds since 1970 of a record time (is_record_time holds).
std::int64_t epoch_of(const std::string& t) {
  std::tm tm{};
  tm.tm_year = std::stoi(t.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(t.substr(5, 2)) - 1;
  tm.tm_mday = std::stoi(t.substr(8, 2));
  tm.tm_hour = std::stoi(t.substr(11, 2));
  tm.tm_min = std::stoi(t.substr(14, 2));
  tm.tm_sec = std::stoi(t.substr(17, 2));
  return static_cast<std::int64_t>(timegm(&tm));
}

// Machines of one clinic writing to one store may disagree on the time by
// a little (and a clock may be set back): a record may seem to come a
// while before the one it follows, but not by more than this.
constexpr std::int64_t kClockSkew = 3600;

// Whether `later` is dated more than kClockSkew before `earlier`.
bool dated_before(const record& later, const record& earlier) {
  return is_record_time(later.created) && is_record_time(earlier.created) &&
         epoch_of(later.created) + kClockSkew < epoch_of(earlier.created);
}

// What the store itself writes: a time of now_utc's form, never more than
// kClockSkew before the record it follows, and an author the store
// accepts. A record rewritten with its chain recomputed (backdated, say)
// shows here, even without a hash kept elsewhere. "" when it holds.
std::string written_form_problem(const record& r, const record* before) {
  if (!is_record_time(r.created)) {
    return "its time is not one the store writes (YYYY-MM-DDThh:mm:ssZ): it was written by something else, or "
           "changed";
  }
  if (before && dated_before(r, *before)) {
    return "it is dated more than an hour before record " + std::to_string(before->id) +
           ", which it follows: records are written in time order, so a time was changed";
  }
  if (auto bad = author_problem(r.by); !bad.empty()) {
    return "its author's name " + bad.substr(18) + ": it was written by something else, or changed";
  }
  return "";
}

}  // namespace

std::string next_record_problem(const record& next, const record& tail) {
  // What verify would say of the record about to be written, said before
  // it is: a record it would refuse would lock the store for every later
  // append (from a review: a machine whose clock ran over an hour slow).
  if (dated_before(next, tail)) {
    return "this machine's clock reads " + next.created + ", more than an hour before the last record of the " +
           "store (" + std::to_string(tail.id) + ", " + tail.created + "): set the clock right and record " +
           "again; nothing was recorded";
  }
  if (auto w = written_form_problem(next, nullptr); !w.empty()) {
    return "the record would not verify: " + w + "; nothing was recorded";
  }
  return "";
}

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
  } else if (auto w = written_form_problem(last, before ? &*before : nullptr); !w.empty()) {
    why = "record " + std::to_string(last.id) + " does not verify: " + w;
  } else if (auto b = before ? written_form_problem(*before, nullptr) : std::string(); !b.empty()) {
    why = "record " + std::to_string(before->id) + " does not verify: " + b;
  }
  if (why.empty()) return why;
  return "the store does not verify: " + why +
         "; nothing is added to a store that does not verify (see 'iptplan audit verify')";
}

std::string record_problem(plan_store& s, const record& r) {
  auto bad = [&](std::int64_t id, const std::string& why) {
    return "record " + std::to_string(id) + " does not verify: " + why;
  };
  if (record_hash(r) != r.hash) return bad(r.id, "its contents do not match its hash (it was changed after it was written)");
  std::optional<record> before;
  if (r.id == 1) {
    if (r.prev_hash != kGenesis) return bad(r.id, "the first record does not start the chain (records were removed or inserted)");
  } else {
    before = s.get(r.id - 1);
    if (!before) return bad(r.id, "record " + std::to_string(r.id - 1) + " before it is missing");
    if (record_hash(*before) != before->hash) {
      return bad(before->id, "its contents do not match its hash (it was changed after it was written)");
    }
    if (before->hash != r.prev_hash) {
      // This record's hash holds, so the hash it names is the one the
      // record before had when this one was written: that one changed.
      return bad(before->id, changed_before(r.id));
    }
  }
  if (auto w = written_form_problem(r, before ? &*before : nullptr); !w.empty()) return bad(r.id, w);
  if (auto after = s.get(r.id + 1); after && after->prev_hash != r.hash) {
    return bad(record_hash(*after) == after->hash ? r.id : after->id,
               record_hash(*after) == after->hash ? changed_before(after->id)
                                                  : "its contents do not match its hash (it was changed after it was "
                                                    "written)");
  }
  if (r.kind == "plan") {
    plan_checker checker;
    std::string sha, rule_set;
    auto why = checker.problem(r.body, sha, rule_set);
    auto files = sha.empty() ? std::nullopt : s.snapshot(sha);
    if (!files || snapshot_hash(*files) != sha) why = snapshot_problem(sha, rule_set, files.has_value());
    if (!why.empty()) return bad(r.id, why);
    // The reviews of it, each as written (its own hash holding), name the
    // hash it has.
    constexpr std::size_t kPage = 512;
    for (std::int64_t from = r.id + 1;;) {
      auto page = s.scan_kind("review", from, kPage);
      for (const auto& x : page) {
        if (record_hash(x) != x.hash) continue;  // that record's own problem
        try {
          auto f = read_review_body(x.body);
          if (f.plan_id == r.id && f.plan_hash != r.hash) return bad(r.id, reviewed_by_another_hash(x.id));
        } catch (const store_error&) {
        }
      }
      if (page.size() < kPage) break;
      from = page.back().id + 1;
    }
    return "";
  }
  if (r.kind == "review") {
    // The plan it names, itself unchanged, and before it.
    std::map<std::int64_t, std::string> plans;
    try {
      auto f = read_review_body(r.body);
      if (f.plan_id > 0 && f.plan_id < r.id) {
        if (auto p = s.get(f.plan_id); p && p->kind == "plan" && record_hash(*p) == p->hash) plans.emplace(p->id, p->hash);
      }
    } catch (const store_error&) {
    }
    auto why = review_body_problem(s, plans, r.body);
    return why.empty() ? "" : bad(r.id, why);
  }
  return bad(r.id, "it is of no kind a store holds (a plan or a review)");
}

std::optional<std::vector<plan_review>> reviews_of(plan_store& s, std::int64_t plan_id, std::string& problem) {
  std::vector<plan_review> out;
  constexpr std::size_t kPage = 512;
  for (std::int64_t from = plan_id + 1;;) {
    auto page = s.scan_kind("review", from, kPage);
    for (auto& x : page) {
      std::optional<review_facts> f;
      try {
        f = read_review_body(x.body);
      } catch (const store_error&) {
      }
      if (f && f->plan_id != plan_id) continue;
      if (problem = record_problem(s, x); !problem.empty()) return std::nullopt;
      if (f) out.push_back({std::move(x), std::move(*f)});
    }
    if (page.size() < kPage) break;
    from = page.back().id + 1;
  }
  return out;
}


verification verify(plan_store& s, const std::string& expect_hash) {
  verification v;
  std::optional<record> prev_record;  // its id and time: records are appended in time order
  std::map<std::int64_t, std::string> plans;  // plan records so far: id -> hash
  // Snapshots first: a plan's replay rests on them.
  std::set<std::string> good_snapshots, all_snapshots;
  for (const auto& sha : s.snapshot_hashes()) {
    ++v.snapshots;
    all_snapshots.insert(sha);
    auto files = s.snapshot(sha);
    if (files && snapshot_hash(*files) == sha) {
      good_snapshots.insert(sha);
    } else if (v.problem.empty()) {
      v.problem = "the rule set snapshot " + sha.substr(0, 12) + " does not match its hash";
    }
  }
  std::set<std::string> used;
  plan_checker checker;
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
        if (r.id > 1 && record_hash(r) == r.hash) {
          // This record is as it was written, and names the hash the one
          // before had then: that one was rewritten, its hash recomputed.
          v.first_bad = r.id - 1;
          v.problem = "record " + std::to_string(r.id - 1) + " does not verify: " + changed_before(r.id);
          return v;
        }
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
      if (auto w = written_form_problem(r, prev_record ? &*prev_record : nullptr); !w.empty()) {
        fail(r, w);
        return v;
      }
      prev_record = record{};
      prev_record->id = r.id;
      prev_record->created = r.created;
      if (r.kind == "plan") {
        std::string sha, rule_set;
        auto why = checker.problem(r.body, sha, rule_set);
        used.insert(sha);
        if (!good_snapshots.count(sha)) why = snapshot_problem(sha, rule_set, all_snapshots.count(sha) > 0);
        if (!why.empty()) {
          fail(r, why);
          return v;
        }
        plans.emplace(r.id, r.hash);
      } else if (r.kind == "review") {
        try {
          auto f = read_review_body(r.body);
          if (auto at = plans.find(f.plan_id); at != plans.end() && at->second != f.plan_hash) {
            // The plan it names is an earlier record, whose hash is no
            // longer the one the review was given: the plan is named.
            v.first_bad = f.plan_id;
            v.problem = "record " + std::to_string(f.plan_id) + " does not verify: " + reviewed_by_another_hash(r.id);
            return v;
          }
        } catch (const store_error&) {
        }
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

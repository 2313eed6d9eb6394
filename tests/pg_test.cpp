// The PostgreSQL store: a real PostgreSQL 15 (Debian's binaries), started
// by the test in a temporary folder on a private socket, no network. The
// same records, chain and verification as the SQLite store; several
// processes recording at once keep one chain, `iptplan serve` processes
// too. Skipped, saying so, only where the binaries are absent.
#include <catch2/catch.hpp>

#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>
#include <filesystem>
#include <fstream>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "server/service.hpp"
#include "engine/ruleset.hpp"
#include "store/records.hpp"
#include "store/store.hpp"

using namespace iptplan;
using namespace iptplan::testing_cli;
namespace fs = std::filesystem;

namespace {

const char* kBin = "/usr/lib/postgresql/15/bin";

// One server for the whole test program.
struct pg_server {
  std::string dir, url, why_not;
  std::string as;  // "runuser -u postgres -- " when run as root (initdb refuses root)

  pg_server() {
    if (!fs::exists(std::string(kBin) + "/initdb") || !fs::exists(std::string(kBin) + "/pg_ctl")) {
      why_not = std::string("PostgreSQL 15 binaries are absent (") + kBin + "); tools/deps.sh installs postgresql-15";
      return;
    }
    char tmpl[] = "/tmp/iptplan-pg-XXXXXX";
    if (!::mkdtemp(tmpl)) {
      why_not = "no temporary folder";
      return;
    }
    dir = tmpl;
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (!pw) {
        why_not = "running as root and there is no postgres user to run PostgreSQL as";
        return;
      }
      if (::chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        why_not = "cannot give the temporary folder to the postgres user";
        return;
      }
      as = "runuser -u postgres -- ";
    }
    std::string init = as + kBin + "/initdb -D " + dir + "/data -A trust -U iptplan -E UTF8 --no-sync > " + dir +
                       "/initdb.log 2>&1";
    std::string start = as + kBin + "/pg_ctl -D " + dir + "/data -l " + dir + "/server.log -w -o \"-k " + dir +
                        " -c listen_addresses='' -c fsync=off\" start > /dev/null 2>&1";
    if (std::system(init.c_str()) != 0 || std::system(start.c_str()) != 0) {
      why_not = "PostgreSQL did not start (see " + dir + "/server.log)";
      return;
    }
    url = "postgresql://iptplan@/postgres?host=" + dir;
  }
  ~pg_server() {
    if (!url.empty()) {
      std::string stop = as + kBin + "/pg_ctl -D " + dir + "/data -m immediate stop > /dev/null 2>&1";
      (void)std::system(stop.c_str());
    }
    std::error_code ec;
    if (!dir.empty() && why_not.find("did not start") == std::string::npos) fs::remove_all(dir, ec);
  }
  // A fresh database for one test, as a URL.
  std::string database(const std::string& name) {
    std::string create = as + kBin + "/../bin/createdb -h " + dir + " -U iptplan " + name + " > /dev/null 2>&1";
    (void)std::system(create.c_str());
    return "postgresql://iptplan@/" + name + "?host=" + dir;
  }
};

pg_server& pg() {
  static pg_server s;
  return s;
}

#define NEED_POSTGRESQL()                                         \
  if (!pg().why_not.empty()) {                                \
    WARN("skipped: " << pg().why_not);                        \
    return;                                                       \
  }

// A plan record that verifies: its snapshot stored, its findings and plan
// agreeing with their hashes. Returns the record's hash.
std::string seed_plan(store::plan_store& s) {
  std::vector<store::snapshot_file> files{{"seed.rules", "rule seed"}, {"ruleset.toml", "name = \"seed\""}};
  store::plan_facts f;
  f.snapshot = store::snapshot_hash(files);
  s.put_snapshot(f.snapshot, files);
  f.program_version = "test";
  f.rule_set_name = "seed";
  f.rule_set_version = "1";
  f.rule_set_sha256 = f.snapshot;
  f.findings = "a = true\n";
  f.findings_sha256 = sha256_hex(f.findings);
  f.plan_json = nlohmann::json{{"provenance", {{"findings", {{"sha256", f.findings_sha256}}}}},
                               {"flags", nlohmann::json::array({{{"id", "f"}, {"kind", "flag"}, {"text", "F"}}})}}
                    .dump();
  return s.append("plan", store::now_utc(), "clinician 7", store::plan_body(f)).hash;
}

// A review of plan 1 (seed_plan) that verifies, its decisions on item f.
std::string review_of_seed(const std::string& plan_hash, const std::string& reason) {
  store::review_facts r;
  r.plan_id = 1;
  r.plan_hash = plan_hash;
  r.decisions.push_back({"f", "reject", reason, "", "F", {}});
  return store::review_body(r);
}

}  // namespace

TEST_CASE("postgresql: records, snapshots and the chain as in the SQLite store") {
  NEED_POSTGRESQL();
  std::string url = pg().database("records");
  auto s = store::open_store(url, true);
  const std::string plan_hash = seed_plan(*s);
  for (int i = 0; i < 4; ++i) {
    auto r = s->append("review", store::now_utc(), "clinician 7", review_of_seed(plan_hash, "n" + std::to_string(i)));
    CHECK(r.id == i + 2);
  }
  std::vector<store::snapshot_file> files{{"a.rules", "rule x"}, {"ruleset.toml", "name = \"t\""}};
  const std::string key = store::snapshot_hash(files);
  s->put_snapshot(key, files);
  s->put_snapshot(key, files);  // stored once
  auto snap = s->snapshot(key);
  REQUIRE(snap);
  CHECK(snap->size() == 2);
  CHECK((*snap)[0].text == "rule x");
  CHECK_FALSE(s->snapshot("nope"));
  auto rec = s->get(3);
  REQUIRE(rec);
  CHECK(rec->body == review_of_seed(plan_hash, "n1"));
  CHECK(rec->prev_hash == s->get(2)->hash);
  CHECK_FALSE(s->get(6));
  CHECK(s->scan(2, 2).size() == 2);
  CHECK(s->snapshot_hashes().size() == 2);
  // A reopened store is the same store.
  auto again = store::open_store(url, false);
  CHECK(again->get(3)->hash == rec->hash);
  // Verification sees records and a snapshot no record uses.
  auto v = store::verify(*again);
  CHECK(v.problem.empty());
  CHECK(v.records == 5);
  CHECK(v.unused_snapshots == 1);
}

TEST_CASE("postgresql: processes recording at once keep one chain, every record verifies") {
  NEED_POSTGRESQL();
  std::string url = pg().database("concurrent");
  const std::string plan_hash = seed_plan(*store::open_store(url, true));  // before the writers race
  const int writers = 4, each = 25;
  std::vector<pid_t> pids;
  for (int w = 0; w < writers; ++w) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      try {
        auto s = store::open_store(url, true);
        for (int i = 0; i < each; ++i) {
          s->append("review", store::now_utc(), "writer " + std::to_string(w), review_of_seed(plan_hash, "r"));
        }
        ::_exit(0);
      } catch (...) {
        ::_exit(1);
      }
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  auto s = store::open_store(url, false);
  auto v = store::verify(*s);
  CHECK(v.problem.empty());
  CHECK(v.records == writers * each + 1);
  auto all = s->scan(1, 1000);
  REQUIRE(all.size() == static_cast<std::size_t>(writers * each + 1));
  for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i].id == static_cast<std::int64_t>(i + 1));
}

TEST_CASE("postgresql: plan --record, audit verify, replay and review through the CLI, and the service") {
  NEED_POSTGRESQL();
  std::string url = pg().database("cli");
  auto rec = run({"plan", "examples/jane.toml", "--record", "--store", url, "--by", "clinician 7"});
  INFO(rec.err);
  CHECK(rec.code == 0);
  CHECK(rec.err.find("recorded as plan 1") != std::string::npos);
  CHECK(run({"audit", "verify", "--store", url}).code == 0);
  CHECK(run({"verify", "1", "--store", url}).code == 0);
  CHECK(run({"review", "1", "--store", url, "--by", "clinician 7", "--accept", "weak_relationship"}).code == 0);
  // The service records into the same chain.
  std::vector<diagnostic> diags;
  auto files = builtin_rule_files();
  auto rs = load_rule_set(files, "built-in", diags);
  server::service svc(std::move(*rs), files, url);
  server::request req;
  req.method = "POST";
  req.path = "/api/plan";
  req.query = {{"record", "1"}, {"by", "clinician 8"}};
  std::ifstream in(std::string(IPTPLAN_SOURCE_DIR) + "/examples/jane.toml");
  req.body = std::string(std::istreambuf_iterator<char>(in), {});
  auto r = svc.handle(req);
  CHECK(r.status == 201);
  CHECK(nlohmann::json::parse(r.body)["record"] == 3);
  auto v = run({"audit", "verify", "--store", url});
  CHECK(v.code == 0);
  CHECK(v.out.find("3 records") != std::string::npos);
  // Messages never show a password in the URL.
  auto bad = run({"audit", "verify", "--store", "postgresql://iptplan:hunter2@/nodb?host=" + pg().dir});
  CHECK(bad.code != 0);
  CHECK(bad.err.find("hunter2") == std::string::npos);
  // Nor where libpq quotes the URL or a part of it back (from a hostile
  // trial: a malformed URI, a bad percent-encoding).
  for (const std::string u : {"postgresql://u:hunter2@[bad/db", "postgresql://u:hunter%2@127.0.0.1:1/db",
                              "postgresql://u:hunter%32@[bad/db"}) {
    auto r = run({"audit", "list", "--store", u});
    INFO(r.err);
    CHECK(r.code != 0);
    CHECK(r.err.find("the PostgreSQL store cannot be reached") != std::string::npos);
    CHECK(r.err.find("hunter") == std::string::npos);
  }
  // libpq's keyword form names the same database: a PostgreSQL store, never
  // an SQLite file of that name, and its password never shown.
  auto kw = run({"audit", "verify", "--store", "host=" + pg().dir + " dbname=cli user=iptplan"});
  INFO(kw.err);
  CHECK(kw.code == 0);
  CHECK(kw.out.find("3 records") != std::string::npos);
  auto kw_bad = run({"audit", "list", "--store", "host=" + pg().dir + " dbname=nodb user=iptplan password=hunter2"});
  CHECK(kw_bad.code != 0);
  CHECK(kw_bad.err.find("the PostgreSQL store cannot be reached") != std::string::npos);
  CHECK(kw_bad.err.find("hunter2") == std::string::npos);
  CHECK(kw_bad.err.find('\\') == std::string::npos);  // one line: no escaped line break
  CHECK_FALSE(std::filesystem::exists("host=" + pg().dir + " dbname=nodb user=iptplan password=hunter2"));
}

namespace {

// `iptplan serve --store URL` as a process, on a port of its choosing.
struct serve_process {
  pid_t pid = -1;
  int port = 0;
  int err = -1;
  std::string log;

  explicit serve_process(const std::string& store) {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::dup2(p[1], 2);
      ::close(p[0]);
      ::execl(IPTPLAN_BINARY, IPTPLAN_BINARY, "serve", "--listen", "127.0.0.1:0", "--store", store.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(p[1]);
    err = p[0];
    char buf[512];
    while (port == 0) {
      ssize_t n = ::read(err, buf, sizeof buf);
      INFO(log);
      REQUIRE(n > 0);
      log.append(buf, static_cast<std::size_t>(n));
      auto at = log.find("http://127.0.0.1:");
      if (at != std::string::npos && log.find('/', at + 17) != std::string::npos) port = std::stoi(log.substr(at + 17));
    }
  }
  // SIGTERM: it finishes what is in flight and exits 0.
  int stop() {
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    char buf[512];
    for (ssize_t n; (n = ::read(err, buf, sizeof buf)) > 0;) log.append(buf, static_cast<std::size_t>(n));
    ::close(err);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

}  // namespace

TEST_CASE("postgresql: several serve processes recording at once keep one chain") {
  NEED_POSTGRESQL();
  // A fresh database: the servers race to create the tables too.
  std::string url = pg().database("servers");
  std::ifstream in(std::string(IPTPLAN_SOURCE_DIR) + "/examples/jane.toml");
  const std::string jane(std::istreambuf_iterator<char>(in), {});
  const int servers = 3, clients_each = 2, requests_each = 8;
  std::vector<std::unique_ptr<serve_process>> procs;
  for (int i = 0; i < servers; ++i) procs.push_back(std::make_unique<serve_process>(url));
  std::mutex m;
  std::vector<std::int64_t> ids;
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  for (int sv = 0; sv < servers; ++sv) {
    for (int c = 0; c < clients_each; ++c) {
      int port = procs[static_cast<std::size_t>(sv)]->port;
      clients.emplace_back([&, port, sv] {
        httplib::Client client("127.0.0.1", port);
        client.set_read_timeout(60, 0);
        for (int i = 0; i < requests_each; ++i) {
          auto res = client.Post("/api/plan?record=1&by=server+" + std::to_string(sv), jane, "application/toml");
          std::lock_guard<std::mutex> lock(m);
          if (!res || res->status != 201) {
            failures.push_back(res ? std::to_string(res->status) + " " + res->body : "no answer");
            continue;
          }
          ids.push_back(nlohmann::json::parse(res->body)["record"].get<std::int64_t>());
        }
      });
    }
  }
  for (auto& t : clients) t.join();
  for (auto& p : procs) {
    INFO(p->log);
    CHECK(p->stop() == 0);
  }
  const auto total = static_cast<std::size_t>(servers * clients_each * requests_each);
  std::string failed;
  for (const auto& f : failures) failed += f + "\n";
  INFO(failed);
  CHECK(failures.empty());
  // Every request got its own record, numbered 1..N without a gap.
  std::set<std::int64_t> distinct(ids.begin(), ids.end());
  CHECK(distinct.size() == total);
  CHECK(*distinct.begin() == 1);
  CHECK(*distinct.rbegin() == static_cast<std::int64_t>(total));
  auto s = store::open_store(url, false);
  auto v = store::verify(*s);
  CHECK(v.problem.empty());
  CHECK(v.records == total);
  auto audit = run({"audit", "verify", "--store", url});
  CHECK(audit.code == 0);
  // Any server answers for a plan another one recorded.
  serve_process reader(url);
  httplib::Client client("127.0.0.1", reader.port);
  auto got = client.Get("/api/why?plan=" + std::to_string(total) + "&item=role_dispute");
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(reader.stop() == 0);
}

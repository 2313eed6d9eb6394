// Safe files and privacy: what -o writes and with which permissions, what
// happens when output cannot be written, findings from standard input, plans
// that name no file, and messages that never quote a findings value or line.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <thread>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "tests/cli_support.hpp"

namespace fs = std::filesystem;
using namespace iptplan::testing_cli;

namespace {

const std::string kSrc = IPTPLAN_SOURCE_DIR;
const std::string kJane = kSrc + "/examples/jane.toml";

unsigned mode_of(const std::string& path) {
  struct ::stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A stream whose every write fails, as on a full disk or a closed pipe.
struct failing_buf : std::streambuf {
  int overflow(int) override { return traits_type::eof(); }
  std::streamsize xsputn(const char*, std::streamsize) override { return 0; }
};

result run_failing_out(std::vector<std::string> args) {
  std::vector<const char*> argv{"iptplan"};
  for (const auto& a : args) argv.push_back(a.c_str());
  failing_buf buf;
  std::ostream out(&buf);
  std::istringstream in;
  std::ostringstream err;
  result r;
  r.code = iptplan::cli::run_main(static_cast<int>(argv.size()), argv.data(), in, out, err);
  r.err = err.str();
  return r;
}

// Exit status of a shell command line.
int shell(const std::string& cmd) {
  int st = std::system(cmd.c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace

TEST_CASE("output file (-o): a new plan file is readable by its owner only, an existing one keeps its mode") {
  scratch s;
  std::string out = (s.dir / "plan.txt").string();
  ::umask(022);
  REQUIRE(run({"plan", kJane, "-o", out}).code == 0);
  CHECK(mode_of(out) == 0600);
  ::chmod(out.c_str(), 0640);
  REQUIRE(run({"plan", kJane, "-o", out}).code == 0);
  CHECK(mode_of(out) == 0640);
  ::chmod(out.c_str(), 0604);
  REQUIRE(run({"plan", kJane, "-o", out, "--format", "json"}).code == 0);
  CHECK(mode_of(out) == 0604);
  CHECK(slurp(out).rfind("{", 0) == 0);
}

TEST_CASE("output file (-o): a read-only file is not replaced, whoever runs it, and is left as it was") {
  scratch s;
  std::string out = (s.dir / "kept.txt").string();
  {
    std::ofstream f(out);
    f << "signed plan\n";
  }
  for (::mode_t m : {0400, 0444, 0500}) {
    ::chmod(out.c_str(), m);
    auto r = run({"plan", kJane, "-o", out});
    CHECK(r.code == 1);
    CHECK(r.err.find("read-only") != std::string::npos);
    CHECK(mode_of(out) == m);
    ::chmod(out.c_str(), 0600);
    CHECK(slurp(out) == "signed plan\n");
  }
  CHECK(std::distance(std::filesystem::directory_iterator(s.dir), std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("output file (-o): a symbolic link is refused, and --follow-symlinks writes its target") {
  scratch s;
  std::string target = s.write("target.txt", "old\n");
  fs::create_symlink(target, s.dir / "link.txt");
  std::string link = (s.dir / "link.txt").string();
  auto refused = run({"plan", kJane, "-o", link});
  CHECK(refused.code == 1);
  CHECK(refused.err.find("this is a symbolic link") != std::string::npos);
  CHECK(refused.err.find("--follow-symlinks") != std::string::npos);
  CHECK(slurp(target) == "old\n");
  CHECK(fs::is_symlink(link));

  ::chmod(target.c_str(), 0640);
  auto followed = run({"plan", kJane, "-o", link, "--follow-symlinks"});
  CHECK(followed.code == 0);
  CHECK(fs::is_symlink(link));
  CHECK(slurp(target).rfind("DRAFT TREATMENT PLAN", 0) == 0);
  CHECK(mode_of(target) == 0640);
  // No temporary file is left beside either.
  for (const auto& e : fs::directory_iterator(s.dir)) {
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
  }
}

TEST_CASE("output that cannot be written is an error (exit 1), whatever the command") {
  for (auto args : std::vector<std::vector<std::string>>{
           {"plan", kJane},
           {"plan", kJane, "--format", "json"},
           {"check"},
           {"why", "weak_relationship", kJane},
           {"why-not", "low_social_support", kJane}}) {
    INFO(args.front());
    auto r = run_failing_out(args);
    CHECK(r.code == 1);
    CHECK(r.err.find("the output could not be written") != std::string::npos);
  }
}

TEST_CASE("output (-o) never writes over the file the findings come from on standard input") {
  std::string bin = IPTPLAN_BINARY;
  scratch s;
  std::string f = (s.dir / "j.toml").string(), err = (s.dir / "err.txt").string();
  std::filesystem::copy_file(kJane, f);
  std::string before = slurp(f);
  CHECK(shell(bin + " plan - -o " + f + " < " + f + " 2> " + err) == 2);
  CHECK(slurp(f) == before);
  CHECK(slurp(err).find("is the file the findings are read from (standard input); choose another name") !=
        std::string::npos);
  // Another file is written as usual.
  std::string out = (s.dir / "plan.txt").string();
  CHECK(shell(bin + " plan - -o " + out + " < " + f + " 2> " + err) == 0);
  CHECK(slurp(out).rfind("DRAFT TREATMENT PLAN", 0) == 0);
}

TEST_CASE("a closed standard input is an error, not an empty input: nothing planned, nothing recorded") {
  std::string bin = IPTPLAN_BINARY;
  scratch s;
  std::string err = (s.dir / "err.txt").string(), db = (s.dir / "closed.db").string();
  CHECK(shell(bin + " plan - --record --store " + db + " <&- > /dev/null 2> " + err) == 1);
  CHECK(slurp(err).find("<stdin>: error: standard input is closed: there is nothing to read") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(db));
  CHECK(shell(bin + " batch <&- > /dev/null 2> " + err) == 1);
  CHECK(slurp(err).find("standard input is closed: there are no clients to read") != std::string::npos);
  CHECK(shell(bin + " fmt - <&- > /dev/null 2> " + err) == 1);
  CHECK(slurp(err).find("standard input is closed: there is nothing to format [fmt.read]") != std::string::npos);
  // An empty one is still an (empty) input.
  CHECK(shell(bin + " plan - < /dev/null > /dev/null 2> " + err) == 0);
}

TEST_CASE("standard input that cannot be read (a folder given as it) is an error, not an empty input") {
  std::string bin = IPTPLAN_BINARY;
  scratch s;
  std::string err = (s.dir / "err.txt").string(), db = (s.dir / "unread.db").string();
  const std::string folder = s.dir.string();
  CHECK(shell(bin + " plan - --record --store " + db + " < " + folder + " > /dev/null 2> " + err) == 1);
  CHECK(slurp(err).find("<stdin>: error: standard input could not be read (Is a directory) [findings.read]") !=
        std::string::npos);
  CHECK_FALSE(std::filesystem::exists(db));
  CHECK(shell(bin + " fmt - < " + folder + " > /dev/null 2> " + err) == 1);
  CHECK(slurp(err).find("standard input could not be read (Is a directory) [fmt.read]") != std::string::npos);
  // batch: the stream's one line says so, and the exit status is 1 (it
  // was read as an empty caseload, exit 0).
  std::string out = (s.dir / "out.jsonl").string();
  CHECK(shell(bin + " batch < " + folder + " > " + out + " 2> " + err) == 1);
  CHECK(slurp(err).find("<stdin>:1: error: could not be read (Is a directory); nothing in it was planned "
                        "[batch.read]") != std::string::npos);
  CHECK(slurp(out).find("\"code\":\"batch.read\"") != std::string::npos);
}

TEST_CASE("a non-blocking standard input that is slow to arrive is waited on, as a blocking one is") {
  // From a review: plan - read EAGAIN from a pipe set O_NONBLOCK (by a
  // writer sharing it) as "could not be read"; batch waited.
  std::string bin = IPTPLAN_BINARY;
  scratch s;
  std::string out = (s.dir / "out.txt").string(), err = (s.dir / "err.txt").string();
  const std::string nonblocking =
      "/usr/bin/python3 -c 'import os, fcntl, sys; fcntl.fcntl(0, fcntl.F_SETFL, fcntl.fcntl(0, fcntl.F_GETFL) | "
      "os.O_NONBLOCK); os.execv(sys.argv[1], sys.argv[1:])' ";
  CHECK(shell("(sleep 0.5; cat " + kJane + ") | " + nonblocking + bin + " plan - > " + out + " 2> " + err) == 0);
  CHECK(slurp(out).rfind("DRAFT TREATMENT PLAN", 0) == 0);
  CHECK(slurp(err).find("could not be read") == std::string::npos);
  CHECK(shell("(sleep 0.5; cat " + kJane + ") | " + nonblocking + bin + " batch > " + out + " 2> " + err) == 0);
  CHECK(slurp(out).find("\"client_id\":\"C-0001\"") != std::string::npos);
}

TEST_CASE("a full disk and a closed pipe, as a process: exit 1, with a message for the full disk") {
  std::string bin = IPTPLAN_BINARY;
  scratch s;
  std::string err = (s.dir / "err.txt").string();
  CHECK(shell(bin + " plan " + kJane + " > /dev/full 2> " + err) == 1);
  CHECK(slurp(err).find("the output could not be written") != std::string::npos);
  // A recorded plan that cannot be shown is on record all the same: the
  // message says so, so that it is not recorded twice.
  std::string db = (s.dir / "full.db").string();
  CHECK(shell(bin + " plan " + kJane + " --record --store " + db + " > /dev/full 2> " + err) == 1);
  CHECK(slurp(err).find("recorded as plan 1") != std::string::npos);
  CHECK(slurp(err).find("the plan is on record all the same (above): show it with 'iptplan audit show ID' "
                        "rather than recording again") != std::string::npos);
  // A review and an approval, made before their output failed, say so.
  CHECK(shell(bin + " review 1 --store " + db + " --accept weak_relationship --by dr_a > /dev/full 2> " + err) == 1);
  CHECK(slurp(err).find("the review was recorded all the same: see 'iptplan audit list' before running it again") !=
        std::string::npos);
  // The same with an option before the subcommand.
  CHECK(shell(bin + " --log-level warn review 1 --store " + db + " --accept weak_relationship --by dr_a > /dev/full 2> " +
              err) == 1);
  CHECK(slurp(err).find("the review was recorded all the same") != std::string::npos);
  std::string rules = s.rules_copy();
  CHECK(shell(bin + " approve " + rules + " --by lead > /dev/full 2> " + err) == 1);
  CHECK(slurp(err).find("the approval was written all the same") != std::string::npos);
  // batch, in one chunk and across several (read, planned, written in turn).
  CHECK(shell(bin + " batch " + kJane + " > /dev/full 2> " + err) == 1);
  CHECK(slurp(err).find("the output could not be written") != std::string::npos);
  std::string lines;
  for (int i = 0; i < 3000; ++i) lines += "{\"phq9\": {\"total\": 3}}\n";
  auto in = s.write("clients.jsonl", lines);
  CHECK(shell(bin + " batch --jobs 2 " + in + " > /dev/full 2> " + err) == 1);
  CHECK(slurp(err).find("the output could not be written") != std::string::npos);
  // Many plans, far more than a pipe holds, into a reader that stops at once.
  std::string many;
  for (int i = 0; i < 40; ++i) many += " " + kJane;
  // The reader's choice: the exit status says not all was written, but no
  // error is printed (`iptplan audit show 1 | head`).
  CHECK(shell("bash -c '" + bin + " plan" + many + " 2> " + err +
              " | head -c 1 > /dev/null; exit ${PIPESTATUS[0]}'") == 1);
  CHECK(slurp(err).find("could not be written") == std::string::npos);
  CHECK(shell("bash -c '" + bin + " batch --jobs 2 " + in + " 2> " + err +
              " | head -c 1 > /dev/null; exit ${PIPESTATUS[0]}'") == 1);
  CHECK(slurp(err).find("could not be written") == std::string::npos);
}

TEST_CASE("standard input: - reads the findings") {
  auto from_file = run({"plan", kJane, "--format", "json"});
  auto from_stdin = run({"plan", "-", "--format", "json"}, slurp(kJane));
  REQUIRE(from_stdin.code == 0);
  CHECK(from_stdin.out == from_file.out);
  auto why = run({"why", "weak_relationship", "-"}, slurp(kJane));
  CHECK(why.code == 0);
  CHECK(why.out.find("weak_relationship is in the plan") != std::string::npos);
  // Errors name standard input as the file.
  auto bad = run({"plan", "-"}, "[phq9]\ntotal = 4747\n");
  CHECK(bad.code == 1);
  CHECK(bad.err.find("<stdin>:2:9: error: 'phq9.total' is outside its range") != std::string::npos);
  // Once only.
  auto twice = run({"plan", "-", "-"}, slurp(kJane));
  CHECK(twice.code == 2);
}

TEST_CASE("a plan names no file: the same bytes whatever the findings file or rule folder is called") {
  scratch s;
  std::string renamed = s.write("Mary_Smith_intake.toml", slurp(kJane));
  std::string rules = s.rules_copy();
  for (const char* fmt : {"text", "markdown", "json"}) {
    INFO(fmt);
    auto a = run({"plan", kJane, "--format", fmt});
    auto b = run({"plan", renamed, "--format", fmt, "--rules", rules});
    auto c = run({"plan", renamed, "--format", fmt, "--rules", kSrc + "/rules"});
    REQUIRE(a.code == 0);
    CHECK(b.out == a.out);
    CHECK(c.out == a.out);
    CHECK(b.out.find("Mary_Smith") == std::string::npos);
    CHECK(b.out.find(s.dir.string()) == std::string::npos);
  }
}

TEST_CASE("a plan's warnings name 'findings', not the file, and stop at fifty with a count") {
  scratch s;
  std::string many = slurp(kJane);
  for (int i = 0; i < 120; ++i) many += "\n[extra_" + std::to_string(i) + "]\nx = 1";
  std::string named = s.write("Mary_Smith_DOB_1980.toml", many + "\n");
  for (const char* fmt : {"text", "markdown", "json"}) {
    INFO(fmt);
    auto r = run({"plan", named, "--allow-unknown", "--format", fmt});
    REQUIRE(r.code == 0);
    CHECK(r.out.find("Mary_Smith") == std::string::npos);
    if (std::string(fmt) == "json") {
      auto j = nlohmann::json::parse(r.out);
      REQUIRE(j["diagnostics"].size() == 51);
      CHECK(j["diagnostics"][0]["file"] == "findings");
      CHECK(j["diagnostics"][50]["code"] == "plan.more-warnings");
      CHECK(j["diagnostics"][50]["message"] == "and 70 more warnings about the findings, not listed");
    }
  }
  // Standard error is the user's own terminal: it names the file.
  auto r = run({"plan", named, "--allow-unknown"});
  CHECK(r.err.find("Mary_Smith_DOB_1980.toml:") != std::string::npos);
  CHECK(r.out.find("findings:") != std::string::npos);
}

TEST_CASE("no message or log line quotes a findings value or line, at the most verbose log level") {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(kSrc + "/examples")) {
    if (e.path().extension() == ".toml") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 30);
  const std::regex value_line(R"(^(\s*[A-Za-z0-9_."-]+\s*=\s*)(.+?)\s*(#.*)?$)");
  int runs = 0;
  for (const auto& f : files) {
    INFO(f);
    std::string text = slurp(f);
    // As written: every command, at trace level. No line of the file and
    // no text value of it reaches stderr.
    std::vector<std::string> lines, texts;
    {
      std::istringstream in(text);
      std::string line;
      std::smatch m;
      while (std::getline(in, line)) {
        if (!std::regex_match(line, m, value_line)) continue;
        lines.push_back(line);
        std::string v = m[2];
        if (v.size() > 4 && v.front() == '"') texts.push_back(v.substr(1, v.size() - 2));
      }
    }
    for (auto args : std::vector<std::vector<std::string>>{
             {"--log-level", "trace", "plan", f},
             {"--log-level", "trace", "plan", f, "--format", "json"},
             {"--log-level", "trace", "why", "weak_relationship", f},
             {"--log-level", "trace", "why-not", "low_social_support", f}}) {
      auto r = run(args);
      ++runs;
      for (const auto& l : lines) CHECK(r.err.find(l) == std::string::npos);
      for (const auto& t : texts) CHECK(r.err.find(t) == std::string::npos);
    }
    // Every value made wrong at once (a sentinel text, or a number out of
    // every range), in groups: each is reported, none is quoted.
    std::istringstream in(text);
    std::string line, mangled;
    int n = 0;
    std::vector<std::string> sentinels;
    auto flush = [&] {
      if (sentinels.empty()) return;
      auto r = run({"--log-level", "trace", "plan", "-"}, mangled);
      ++runs;
      CHECK(r.code == 1);
      for (const auto& s : sentinels) {
        INFO(s);
        CHECK(r.err.find(s) == std::string::npos);
      }
      sentinels.clear();
    };
    std::smatch m;
    std::string head;
    while (std::getline(in, line)) {
      if (std::regex_match(line, m, value_line) && m[1].str().find("id") != 0) {
        ++n;
        std::string v = m[2];
        bool number = !v.empty() && (std::isdigit(static_cast<unsigned char>(v[0])) || v[0] == '-');
        std::string s = number ? std::to_string(987654000 + n) : "Zq Sentinel " + std::to_string(n);
        mangled += m[1].str() + (number ? s : "\"" + s + "\"") + "\n";
        sentinels.push_back(s);
      } else {
        mangled += line + "\n";
      }
    }
    flush();
  }
  CHECK(runs > 150);
}

TEST_CASE("a syntax error in findings names the place, never the text it could not read") {
  for (const char* text : {"a = 98765432109876543210\n", "a = 0x9876543210ABCDEF0123\n", "a = 9.87654e400\n",
                           "a = 12:34:98\n", "a = 0b107\n", "a = \"\\q\"\n", "[client]\nid = \"C-98765\n"}) {
    INFO(text);
    auto r = run({"plan", "-"}, text);
    CHECK(r.code == 1);
    CHECK(r.err.find("this is not valid TOML") != std::string::npos);
    for (const char* secret : {"98765", "9876543210", "98", "107", "\\q"}) CHECK(r.err.find(secret) == std::string::npos);
  }
}

TEST_CASE("output file (-o): --follow-symlinks creates the file a dangling link names, -o - is standard output") {
  scratch s;
  fs::create_symlink("made.txt", s.dir / "dangling.txt");
  auto r = run({"plan", kJane, "-o", (s.dir / "dangling.txt").string(), "--follow-symlinks"});
  CHECK(r.code == 0);
  CHECK(fs::is_symlink(s.dir / "dangling.txt"));
  CHECK(slurp((s.dir / "made.txt").string()).rfind("DRAFT TREATMENT PLAN", 0) == 0);
  auto dash = run({"plan", kJane, "-o", "-"});
  CHECK(dash.code == 0);
  CHECK(dash.out.rfind("DRAFT TREATMENT PLAN", 0) == 0);
  CHECK_FALSE(fs::exists("-"));
}

TEST_CASE("standard input that is empty gives a warning, and a failed write is reported once") {
  auto r = run({"plan", "-"}, "");
  CHECK(r.code == 0);
  CHECK(r.err.find("standard input was empty") != std::string::npos);
  auto f = run_failing_out({"plan", kJane});
  CHECK(f.code == 1);
  CHECK(f.err.find("could not be written") == f.err.rfind("could not be written"));
}

TEST_CASE("output file (-o): a temporary file a killed run left is removed by the next write, another run's kept") {
  scratch s;
  std::string out = (s.dir / "plan.txt").string();
  // PID 0x3fffff+1 cannot exist (pid_max is at most 4194304).
  std::string orphan = out + ".tmp-4194305-17", mine = out + ".tmp-" + std::to_string(::getpid()) + "-18",
              other = out + ".other.tmp-4194305-1", odd = out + ".tmp-x-1";
  for (const auto& f : {orphan, mine, other, odd}) std::ofstream(f) << "partial";
  REQUIRE(run({"plan", "examples/jane.toml", "-o", out}).code == 0);
  CHECK_FALSE(fs::exists(orphan));
  CHECK(fs::exists(mine));   // a run still running (this one) keeps its file
  CHECK(fs::exists(other));  // another file's
  CHECK(fs::exists(odd));    // not a name iptplan gives
  CHECK(fs::exists(out));
}

TEST_CASE("a plan written with -o and interrupted (SIGTERM, SIGINT, SIGKILL) at random moments, 60 times, leaves no temporary file and no partial plan") {
  scratch s;
  std::string out = (s.dir / "plans.json").string();
  std::string bin = IPTPLAN_BINARY;
  std::vector<std::string> args{bin, "plan"};
  for (const auto& e : fs::directory_iterator("examples")) {
    if (e.path().extension() == ".toml") args.push_back(e.path().string());
  }
  for (const char* a : {"--format", "json", "-o"}) args.emplace_back(a);
  args.push_back(out);
  std::mt19937 rng(20261127);
  std::uniform_int_distribution<int> delay_us(0, 150000);
  int interrupted = 0;
  std::vector<std::string> left;  // what the run before left
  for (int i = 0; i < 61; ++i) {
    // The last run is not interrupted: it must remove what a kill left.
    pid_t pid = spawn_quiet(args, false);
    REQUIRE(pid > 0);
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    // SIGKILL cannot be caught: the plan is written to a file with no name
    // (O_TMPFILE) until it is complete, so there is nothing to clean up.
    if (i < 60) ::kill(pid, i % 3 == 0 ? SIGINT : i % 3 == 1 ? SIGTERM : SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    interrupted += WIFSIGNALED(status) ? 1 : 0;
    // A SIGKILL between the two calls that name the temporary file and
    // rename it (microseconds) may leave it; the next run that gets as far
    // as writing removes it (one killed before then, on a loaded machine,
    // may not have).
    const bool finished = WIFEXITED(status);
    if (finished) {
      for (const auto& name : left) {
        INFO("run " << i << " did not remove " << name);
        CHECK_FALSE(fs::exists(s.dir / name));
      }
      left.clear();
    }
    for (const auto& e : fs::directory_iterator(s.dir)) {
      std::string name = e.path().filename().string();
      INFO("run " << i << " left " << name);
      if (name == "plans.json") continue;
      if (std::find(left.begin(), left.end(), name) != left.end()) continue;  // an earlier run's, said above
      CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && name.rfind("plans.json.tmp-", 0) == 0));
      left.push_back(name);
    }
    // The plan file, when there is one, is whole.
    if (fs::exists(out)) CHECK_FALSE(nlohmann::json::parse(slurp(out), nullptr, false).is_discarded());
  }
  INFO(interrupted << " of 60 runs were interrupted before they finished");
  CHECK(interrupted > 0);
}


// Golden tests of the three renderers on the examples: the plan printed for
// each example must match the file kept beside it, byte for byte. After an
// intended change, regenerate with tests/update_golden.sh and review the diff.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/commands.hpp"

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string run(std::vector<std::string> args, int& code) {
  std::vector<const char*> argv{"iptplan"};
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  code = iptplan::cli::run_main(static_cast<int>(argv.size()), argv.data(), out, err);
  return out.str();
}

}  // namespace

TEST_CASE("the markdown plan beside every example matches") {
  namespace fs = std::filesystem;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator("examples")) {
    if (e.path().extension() == ".toml") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  REQUIRE(names.size() >= 25);
  for (const auto& name : names) {
    INFO("example " << name);
    int code = -1;
    std::string got = run({"plan", "examples/" + name + ".toml", "--format", "markdown"}, code);
    CHECK(code == 0);
    CHECK(got == slurp("examples/" + name + ".md"));
  }
}

TEST_CASE("every format says of the same items that they are not settled") {
  // What a rule not yet decided would remove or replace (a safety rule, say)
  // is never dropped in one format because a reason is not repeated there.
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator("rules/tests/clients")) {
    if (e.path().extension() == ".toml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::size_t unsettled = 0;
  auto count = [](const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
  };
  for (const auto& f : files) {
    INFO(f.string());
    int code = -1;
    std::string text = run({"plan", f.string()}, code);
    std::string md = run({"plan", f.string(), "--format", "markdown"}, code);
    CHECK(count(text, "not settled: ") == count(md, "Not settled: "));
    unsettled += count(text, "not settled: ");
  }
  CHECK(unsettled > 10);
}

TEST_CASE("rendered plans of the examples match their golden files") {
  auto example = GENERATE(as<std::string>{}, "jane", "couple", "group", "empty");
  struct format {
    std::string name, golden;
  };
  auto fmt = GENERATE_COPY(values<format>({
      {"markdown", "examples/" + example + ".md"},
      {"text", "tests/golden/" + example + ".txt"},
      {"json", "tests/golden/" + example + ".json"},
  }));
  INFO("example " << example << ", format " << fmt.name);
  int code = -1;
  std::string got = run({"plan", "examples/" + example + ".toml", "--format", fmt.name}, code);
  REQUIRE(code == 0);
  std::string want = slurp(fmt.golden);
  REQUIRE_FALSE(want.empty());
  CHECK(got == want);
}

TEST_CASE("why explains an item of Jane's plan down to her findings") {
  int code = -1;
  std::string got = run({"why", "weak_relationship", "examples/jane.toml"}, code);
  CHECK(code == 0);
  CHECK(got == slurp("tests/golden/jane.why-weak_relationship.txt"));
}

TEST_CASE("why-not answers for an item missing from Jane's plan") {
  int code = -1;
  std::string got = run({"why-not", "low_social_support", "examples/jane.toml"}, code);
  CHECK(code == 0);
  CHECK(got == slurp("tests/golden/jane.why-not-low_social_support.txt"));
}

TEST_CASE("a critical flag comes first: the challenges are introduced as work for after it, in text and markdown") {
  int code = -1;
  std::string text = run({"plan", "examples/risk_high_recent_attempt.toml"}, code);
  CHECK(code == 0);
  CHECK(text.find("\nCHALLENGES\n  The critical flag above comes first. The work below is for after it has been "
                  "acted on, once the treating clinician judges the client safe to continue with it.\n  1. ") !=
        std::string::npos);
  std::string md = run({"plan", "examples/risk_high_recent_attempt.toml", "--format", "markdown"}, code);
  CHECK(md.find("## Challenges\n\n*The critical flag above comes first.") != std::string::npos);
  // No critical flag (warnings only): no such note.
  for (const char* calm : {"examples/jane.toml", "examples/risk_moderate.toml"}) {
    std::string plain = run({"plan", calm}, code);
    CHECK(plain.find("comes first. The work below") == std::string::npos);
  }
}

TEST_CASE("every test name can be run by name: it neither starts with a dash nor holds a semicolon") {
  // ctest passes a test's name to Catch2 on the command line: a name
  // starting with '-' is read as an option (-o wrote a file instead of
  // running the test), and ctest cuts a name at ';'.
  std::size_t names = 0;
  for (const auto& e : std::filesystem::directory_iterator("tests")) {
    if (e.path().extension() != ".cpp") continue;
    std::string text = slurp(e.path().string());
    const std::string open = "TEST_CASE(\"";
    for (auto at = text.find(open); at != std::string::npos; at = text.find(open, at + 1)) {
      auto begin = at + open.size();
      auto end = text.find('"', begin);
      REQUIRE(end != std::string::npos);
      std::string name = text.substr(begin, end - begin);
      INFO(e.path().filename().string() << ": " << name);
      CHECK_FALSE(name.empty());
      if (!name.empty()) CHECK(name[0] != '-');
      CHECK(name.find(';') == std::string::npos);
      ++names;
    }
  }
  CHECK(names > 400);
}

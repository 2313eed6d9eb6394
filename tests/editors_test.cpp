// The TextMate grammar for rule files (editors/textmate): every default
// rule file tokenizes with no text left unmatched outside comments and
// strings, and no region left open. A small TextMate-style tokenizer (the
// earliest match wins, ties go to the first pattern; begin/end regions nest)
// over std::regex, enough for the grammar's plain patterns.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kSrc = IPTPLAN_SOURCE_DIR;

struct pattern {
  std::string name;
  std::optional<std::regex> match, begin, end;
  std::vector<std::shared_ptr<pattern>> inner;
};
using patterns = std::vector<std::shared_ptr<pattern>>;

class grammar {
 public:
  explicit grammar(const json& g) : g_(g) { top = compile_list(g["patterns"]); }
  patterns top;

 private:
  const json& g_;

  patterns compile_list(const json& list) {
    patterns out;
    for (const auto& p : list) {
      if (p.contains("include")) {
        std::string key = p["include"].get<std::string>().substr(1);
        const json& target = g_["repository"][key];
        if (target.contains("patterns") && !target.contains("begin")) {
          auto more = compile_list(target["patterns"]);
          out.insert(out.end(), more.begin(), more.end());
        } else {
          out.push_back(compile(target));
        }
      } else {
        out.push_back(compile(p));
      }
    }
    return out;
  }

  std::shared_ptr<pattern> compile(const json& p) {
    auto out = std::make_shared<pattern>();
    out->name = p.value("name", "");
    if (p.contains("match")) out->match.emplace(p["match"].get<std::string>());
    if (p.contains("begin")) {
      out->begin.emplace(p["begin"].get<std::string>());
      out->end.emplace(p["end"].get<std::string>());
      if (p.contains("patterns")) out->inner = compile_list(p["patterns"]);
    }
    return out;
  }
};

struct found {
  std::size_t at = std::string::npos, length = 0;
  std::shared_ptr<pattern> p;
  bool is_end = false;
};

found search(const std::regex& re, const std::string& line, std::size_t pos) {
  std::smatch m;
  auto flags = pos > 0 ? std::regex_constants::match_prev_avail : std::regex_constants::match_default;
  if (!std::regex_search(line.cbegin() + static_cast<std::ptrdiff_t>(pos), line.cend(), m, re, flags)) return {};
  return {pos + static_cast<std::size_t>(m.position(0)), static_cast<std::size_t>(m.length(0)), nullptr, false};
}

// Tokenizes `text`; returns the problems found ("file:line:col: ...").
std::vector<std::string> tokenize(const grammar& g, const std::string& name, const std::string& text,
                                  std::vector<std::pair<std::string, std::string>>* tokens = nullptr) {
  std::vector<std::string> problems;
  std::vector<std::shared_ptr<pattern>> stack;
  std::istringstream in(text);
  std::string line;
  for (int ln = 1; std::getline(in, line); ++ln) {
    std::size_t pos = 0;
    auto unmatched = [&](std::size_t from, std::size_t to) {
      if (!stack.empty()) return;  // inside a string: content
      for (std::size_t i = from; i < to; ++i) {
        if (!std::isspace(static_cast<unsigned char>(line[i]))) {
          problems.push_back(name + ":" + std::to_string(ln) + ":" + std::to_string(i + 1) + ": '" + line.substr(i, to - i) +
                             "' is matched by no pattern");
          return;
        }
      }
    };
    while (true) {
      const patterns& candidates = stack.empty() ? g.top : stack.back()->inner;
      found best;
      if (!stack.empty()) {
        best = search(*stack.back()->end, line, pos);
        best.is_end = best.at != std::string::npos;
      }
      for (const auto& c : candidates) {
        found f = search(c->match ? *c->match : *c->begin, line, pos);
        f.p = c;
        if (f.at < best.at) best = f;
      }
      if (best.at == std::string::npos || pos > line.size()) {
        unmatched(pos, line.size());
        break;
      }
      unmatched(pos, best.at);
      if (tokens && best.p && best.length) tokens->push_back({line.substr(best.at, best.length), best.p->name});
      if (best.is_end) {
        stack.pop_back();
      } else if (best.p->begin) {
        stack.push_back(best.p);
      }
      std::size_t next = best.at + best.length;
      if (best.length == 0) {
        if (!best.is_end) ++next;  // a zero-length match must not loop
        if (best.is_end && next >= line.size()) {
          pos = next;
          if (stack.empty() || best.at >= line.size()) {
            // Closed at the end of the line; look for more regions to close.
            while (!stack.empty()) {
              found e = search(*stack.back()->end, line, line.size());
              if (e.at == std::string::npos) break;
              stack.pop_back();
            }
            break;
          }
        }
      }
      pos = next;
      if (pos > line.size()) break;
    }
  }
  if (!stack.empty()) problems.push_back(name + ": a region (" + stack.back()->name + ") is left open at the end");
  return problems;
}

json load_grammar() {
  std::ifstream in(kSrc + "/editors/textmate/iptplan-rules.tmLanguage.json");
  REQUIRE(in);
  return json::parse(in);
}

}  // namespace

TEST_CASE("the TextMate grammar tokenizes every default rule file with nothing unmatched") {
  json j = load_grammar();
  grammar g(j);
  int files = 0;
  for (const auto& e : fs::directory_iterator(kSrc + "/rules")) {
    if (e.path().extension() != ".rules") continue;
    ++files;
    std::ifstream in(e.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto problems = tokenize(g, e.path().filename().string(), text);
    std::string all;
    for (const auto& p : problems) all += p + "\n";
    INFO(all);
    CHECK(problems.empty());
  }
  CHECK(files >= 10);
}

TEST_CASE("the TextMate grammar gives keywords, names, texts and numbers their scopes") {
  json j = load_grammar();
  grammar g(j);
  std::vector<std::pair<std::string, std::string>> tokens;
  auto problems = tokenize(g, "t.rules",
                           "# a comment\nrule r \"T\"\n  priority 100\nwhen a.b >= param.x and not c\n"
                           "then\n  flag critical f \"x {a.b}\"\nend\n",
                           &tokens);
  CHECK(problems.empty());
  auto scope_of = [&](const std::string& text) {
    for (const auto& [t, s] : tokens) {
      if (t == text) return s;
    }
    return std::string("(none)");
  };
  CHECK(scope_of("# a comment") == "comment.line.number-sign.iptplan-rules");
  CHECK(scope_of("when") == "keyword.control.iptplan-rules");
  CHECK(scope_of("param.x") == "variable.other.constant.parameter.iptplan-rules");
  CHECK(scope_of("a.b") == "variable.other.path.iptplan-rules");
  CHECK(scope_of("100") == "constant.numeric.iptplan-rules");
  CHECK(scope_of("flag") == "storage.type.action.iptplan-rules");
  CHECK(scope_of("critical") == "constant.language.severity.iptplan-rules");
  CHECK(scope_of("not") == "keyword.operator.word.iptplan-rules");
  CHECK(scope_of(">=") == "keyword.operator.iptplan-rules");
  // An unclosed string ends at the end of its line, as the language says.
  CHECK(tokenize(g, "u.rules", "rule r \"open\nwhen a\nthen\n  flag info f \"x\"\nend\n").empty());
  // Text no pattern knows is reported.
  CHECK_FALSE(tokenize(g, "bad.rules", "rule r\nwhen a ~ b\n").empty());
}

TEST_CASE("iptplan completion bash completes subcommands, their options and audit's commands") {
  std::string bin = IPTPLAN_BINARY;
  auto complete = [&](const std::string& words, int cword) {
    std::string script = "source <(" + bin + " completion bash); COMP_WORDS=(" + words + "); COMP_CWORD=" +
                         std::to_string(cword) + "; _iptplan; echo \"${COMPREPLY[*]}\"";
    std::string cmd = "bash -c '" + script + "' 2>&1";
    std::string out;
    FILE* f = ::popen(cmd.c_str(), "r");
    REQUIRE(f != nullptr);
    char buf[4096];
    while (std::fgets(buf, sizeof buf, f)) out += buf;
    ::pclose(f);
    return out;
  };
  CHECK(complete("iptplan pl", 1) == "plan\n");
  CHECK(complete("iptplan plan --fo", 2) == "--format --follow-symlinks\n");
  CHECK(complete("iptplan audit v", 2) == "verify\n");
  CHECK(complete("iptplan audit overrides --si", 3) == "--since\n");
}

#include "grammar/parse.hpp"

#include <regex>

#include "grammar/config.hpp"
#include "grammar/rule_grammar.hpp"

namespace iptplan {

namespace x3 = boost::spirit::x3;
using parser::iterator_type;

namespace {

// A short description of what stands at `at`, for "found ..." in messages.
std::string found_text(const std::string& text, std::size_t at) {
  if (at >= text.size()) return "the end of the file";
  auto c = static_cast<unsigned char>(text[at]);
  if (c == '\n' || c == '\r') return "the end of the line";
  if (c < 0x20 || c == 0x7F) return "a control character";
  std::size_t end = at;
  auto is_word = [](unsigned char ch) {
    return std::isalnum(ch) || ch == '_' || ch >= 0x80;
  };
  if (is_word(c)) {
    while (end < text.size() && end - at < 30 &&
           is_word(static_cast<unsigned char>(text[end]))) {
      ++end;
    }
  } else if (c == '"') {
    return "a quoted text";
  } else {
    end = at + 1;
    if (end < text.size() && std::string("=<>!").find(text[at]) != std::string::npos &&
        text[end] == '=') {
      ++end;
    }
  }
  return "'" + text.substr(at, end - at) + "'";
}

// Offset of the next line whose first word is `rule`: the line holding
// `from` itself when it starts after `floor` (a rule left without its `end`
// is followed by one), else a later line.
std::size_t next_rule_start(const std::string& text, std::size_t from, std::size_t floor) {
  std::size_t line = text.rfind('\n', from == 0 ? 0 : from - 1);
  line = line == std::string::npos ? 0 : line + 1;
  std::size_t i = line;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  if (i > floor && i <= from && text.compare(i, 4, "rule") == 0 &&
      (i + 4 == text.size() || !(std::isalnum(static_cast<unsigned char>(text[i + 4])) ||
                                 text[i + 4] == '_'))) {
    return i;
  }
  std::size_t pos = text.find('\n', from);
  while (pos != std::string::npos) {
    std::size_t i = pos + 1;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (text.compare(i, 4, "rule") == 0 &&
        (i + 4 == text.size() || !(std::isalnum(static_cast<unsigned char>(text[i + 4])) ||
                                   text[i + 4] == '_'))) {
      return i;
    }
    pos = text.find('\n', pos + 1);
  }
  return text.size();
}

// Collects the names a rule that failed to parse would have defined.
void scan_unparsed(const std::string& text, std::size_t from, std::size_t to, unparsed_names& out) {
  static const std::regex conclude(R"(\bconclude\s+([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*))");
  static const std::regex item(R"(\b(challenge|solution|goal)\s+([A-Za-z_]\w*))");
  static const std::regex flag(R"(\bflag\s+\w+\s+([A-Za-z_]\w*))");
  auto begin = text.begin() + static_cast<std::ptrdiff_t>(from);
  auto end = text.begin() + static_cast<std::ptrdiff_t>(std::min(to, text.size()));
  for (std::sregex_iterator it(begin, end, conclude), stop; it != stop; ++it) out.facts.push_back((*it)[1]);
  for (std::sregex_iterator it(begin, end, item), stop; it != stop; ++it) out.items.push_back({(*it)[1], (*it)[2]});
  for (std::sregex_iterator it(begin, end, flag), stop; it != stop; ++it) out.items.push_back({"flag", (*it)[1]});
  static const std::regex param(R"(\bparam\.([A-Za-z_]\w*))");
  for (std::sregex_iterator it(begin, end, param), stop; it != stop; ++it) out.params.push_back((*it)[1]);
}

}  // namespace

parse_result parse_rule_file(const source_file& src, const parse_options& options) {
  parse_result result;
  const std::string& text = src.text();

  if (std::size_t bad = find_invalid_utf8(text); bad != std::string::npos) {
    result.diagnostics.push_back(make_diagnostic(
        src, static_cast<std::uint32_t>(bad), severity::error, "parse.encoding",
        "this file is not valid UTF-8 text; save it as UTF-8"));
    return result;
  }

  parser::parse_state state;
  state.base = text.begin();
  state.max_depth = options.max_depth;
  auto const parser = x3::with<parser::state_tag>(std::ref(state))[parser::rule()];

  iterator_type it = text.begin();
  iterator_type const end = text.end();
  while (true) {
    x3::parse(it, end, *parser::skipper);
    if (it == end) break;
    iterator_type start = it;
    std::size_t resume;
    state.depth = 0;
    try {
      ast::rule r;
      if (x3::phrase_parse(it, end, parser, parser::skipper, r)) {
        result.file.rules.push_back(std::move(r));
        continue;
      }
      auto at = static_cast<std::size_t>(start - text.begin());
      auto d = make_diagnostic(src, static_cast<std::uint32_t>(at), severity::error,
                               "parse.expected",
                               "expected 'rule' but found " + found_text(text, at));
      result.diagnostics.push_back(std::move(d));
      resume = next_rule_start(text, at, at);
    } catch (const x3::expectation_failure<iterator_type>& e) {
      // Point at the next token, not at the whitespace before it.
      iterator_type where = e.where();
      if (e.which().rfind("a closing", 0) != 0) x3::parse(where, end, *parser::skipper);
      auto at = static_cast<std::size_t>(where - text.begin());
      if (e.which() == parser::depth_exceeded) {
        result.diagnostics.push_back(make_diagnostic(
            src, static_cast<std::uint32_t>(at), severity::error, "parse.too-deep",
            "the condition is nested more than " + std::to_string(options.max_depth) +
                " levels deep; split it into simpler rules"));
      } else {
        auto d = make_diagnostic(src, static_cast<std::uint32_t>(at), severity::error,
                                 "parse.expected",
                                 "expected " + e.which() + " but found " + found_text(text, at));
        // A misspelt keyword: `chalenge` for `challenge`, `than` for `then`.
        std::string found = found_text(text, at);
        if (found.size() > 2 && found.front() == '\'') {
          std::string word = found.substr(1, found.size() - 2);
          static const std::vector<std::string> keywords = {
              "rule", "when", "then", "because", "end", "priority", "tags", "source", "for",
              "each", "challenge", "solution", "goal", "flag", "conclude", "exclude", "provisional", "and", "or",
              "not", "contains", "known", "missing"};
          std::string near = nearest_name(word, keywords);
          if (!near.empty() && near != word && e.which().find(near) != std::string::npos) {
            d.notes.push_back("did you mean '" + near + "'?");
          }
        }
        result.diagnostics.push_back(std::move(d));
      }
      resume = next_rule_start(text, at, static_cast<std::size_t>(start - text.begin()));
      scan_unparsed(text, static_cast<std::size_t>(start - text.begin()), resume, result.unparsed);
    }
    it = text.begin() + static_cast<std::ptrdiff_t>(resume);
  }
  return result;
}

}  // namespace iptplan

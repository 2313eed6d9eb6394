#include "grammar/parse.hpp"

#include <cctype>
#include <set>
#include <string>
#include <vector>

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

// If a comment or a quoted text starts at `i`, the offset just past it (a
// quoted text ends at its closing quote or at the end of its line), else
// `i`. Scans that look for words or brackets skip both whole.
std::size_t past_text_or_comment(const std::string& text, std::size_t i, std::size_t to) {
  if (i >= to) return i;
  if (text[i] == '#') {
    while (i < to && text[i] != '\n') ++i;
    return i;
  }
  if (text[i] != '"') return i;
  ++i;
  while (i < to && text[i] != '"' && text[i] != '\n') i += (text[i] == '\\' && i + 1 < to) ? 2 : 1;
  return std::min(i + 1, to);
}

// Collects the names a rule that failed to parse would have defined. A
// plain left-to-right scan of words (no regular expression, whose stack use
// would grow with the length of a word or of a run of spaces): after
// `conclude` a dotted path, after `challenge`, `solution` or `goal` an id,
// after `flag <severity>` an id, and every `param.<name>`. Comments are
// skipped; a quoted text is skipped whole.
void scan_unparsed(const std::string& text, std::size_t from, std::size_t to, unparsed_names& out) {
  to = std::min(to, text.size());
  auto word_start = [](unsigned char c) { return std::isalpha(c) || c == '_'; };
  auto word_char = [](unsigned char c) { return std::isalnum(c) || c == '_'; };
  // The words of [from, to): identifiers and dotted paths, in order; any
  // other character separates them.
  std::vector<std::string> words;
  std::size_t i = from;
  while (i < to) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '#' || c == '"') {
      i = past_text_or_comment(text, i, to);
      if (c == '"') words.emplace_back();  // a text stands between words
      continue;
    }
    if (!word_start(c) || (i > from && word_char(static_cast<unsigned char>(text[i - 1])))) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < to && (word_char(static_cast<unsigned char>(text[j])) ||
                      (text[j] == '.' && j + 1 < to && word_start(static_cast<unsigned char>(text[j + 1]))))) {
      ++j;
    }
    words.push_back(text.substr(i, j - i));
    i = j;
  }
  auto plain = [](const std::string& w) { return !w.empty() && w.find('.') == std::string::npos; };
  for (std::size_t k = 0; k < words.size(); ++k) {
    const std::string& w = words[k];
    if (w.rfind("param.", 0) == 0) {
      std::string name = w.substr(6, w.find('.', 6) == std::string::npos ? std::string::npos : w.find('.', 6) - 6);
      if (!name.empty()) out.params.push_back(name);
    }
    if (k + 1 >= words.size()) continue;
    const std::string& next = words[k + 1];
    if (w == "conclude" && !next.empty()) out.facts.push_back(next);
    if ((w == "challenge" || w == "solution" || w == "goal") && plain(next)) out.items.push_back({w, next});
    if (w == "flag" && plain(next) && k + 2 < words.size() && plain(words[k + 2])) {
      out.items.push_back({"flag", words[k + 2]});
    }
  }
}

}  // namespace

// What a clinical lead is told besides "expected X but found Y", for the
// rule starting at `rule_at`, the error at `at`: a misspelt keyword, the
// '(' left open, the rule without 'end', an operator of another language.
std::vector<std::string> hints(const source_file& src, const std::string& expected, std::size_t rule_at,
                               std::size_t at) {
  const std::string& text = src.text();
  std::vector<std::string> notes;
  const std::string found = found_text(text, at);
  // A misspelt keyword: `chalenge` for `challenge`, `than` for `then`.
  if (found.size() > 2 && found.front() == '\'') {
    std::string word = found.substr(1, found.size() - 2);
    static const std::vector<std::string> keywords = {
        "rule", "when", "then", "because", "end", "priority", "tags", "source", "for",
        "each", "challenge", "solution", "goal", "flag", "conclude", "exclude", "provisional", "and", "or",
        "not", "contains", "known", "missing", "by", "session", "info", "warning", "critical"};
    std::string near = nearest_name(word, keywords);
    // 'provisional when' may stand where 'then' is expected, and so may
    // 'and' or 'or', which go on with the condition.
    bool fits = expected.find(near) != std::string::npos ||
                ((near == "provisional" || near == "and" || near == "or") && expected == "'then'");
    if (!near.empty() && near != word && fits) notes.push_back("did you mean '" + near + "'?");
  }
  // A ')' missing: where the '(' it would close was opened, the place to
  // look (quoted texts and comments skipped).
  if (expected == "')'") {
    std::vector<std::size_t> open;
    for (std::size_t i = rule_at; i < at && i < text.size();) {
      if (std::size_t past = past_text_or_comment(text, i, at); past != i) {
        i = past;
        continue;
      }
      if (text[i] == '(') open.push_back(i);
      if (text[i] == ')' && !open.empty()) open.pop_back();
      ++i;
    }
    if (!open.empty()) {
      location l = src.locate(static_cast<std::uint32_t>(open.back()));
      notes.push_back("the '(' opened on line " + std::to_string(l.line) + ", column " + std::to_string(l.column) +
                      " is not closed");
    }
  }
  // `x is not known`: the language says `is missing`, and the opposite
  // of each test word is written with the other word or 'not (...)'.
  if (expected == "'known', 'missing' or 'provisional'" && found == "'not'") {
    std::size_t w = text.find_first_not_of(" \t", at + 3);
    std::size_t e = w == std::string::npos ? w : text.find_first_not_of("abcdefghijklmnopqrstuvwxyz", w);
    std::string next = w == std::string::npos ? "" : text.substr(w, (e == std::string::npos ? text.size() : e) - w);
    if (next == "missing") {
      notes.push_back("for a finding that is on file write 'x is known' (or 'not (x is missing)')");
    } else if (next == "provisional") {
      notes.push_back("write 'not (x is provisional)'");
    } else {
      notes.push_back("for a finding that is not on file write 'x is missing' (or 'not (x is known)')");
    }
  }
  // The next rule begins where this one's 'end' was expected.
  if (found == "'rule'" && expected.find("'end'") != std::string::npos && rule_at < text.size()) {
    location l = src.locate(static_cast<std::uint32_t>(rule_at));
    notes.push_back("the rule that starts on line " + std::to_string(l.line) + " has no 'end'");
  }
  // The end of the file inside a rule: which rule has no 'end'.
  if (at >= text.size() && rule_at < text.size()) {
    location l = src.locate(static_cast<std::uint32_t>(rule_at));
    notes.push_back("the rule that starts on line " + std::to_string(l.line) + " has no 'end'");
  }
  // A text left open at the end of its line: what to write, not only
  // what was expected.
  if (expected.find("a closing '\"'") != std::string::npos) {
    notes.push_back("end the text with '\"' on this line; a longer text goes on in another quoted part on the "
                    "next line (\"first part \" then \"second part\")");
  }
  // `for` misplaced in an action. The word before the error tells which.
  auto word_before = [&](std::size_t pos) {
    std::size_t e = pos;
    while (e > 0 && (text[e - 1] == ' ' || text[e - 1] == '\t')) --e;
    std::size_t b = e;
    while (b > 0 && (std::isalnum(static_cast<unsigned char>(text[b - 1])) || text[b - 1] == '_')) --b;
    return text.substr(b, e - b);
  };
  std::string before = at <= text.size() ? word_before(at) : "";
  if (found == "'each'" && before == "for") {
    notes.push_back("'for each' goes before 'when', on a line of its own (for each r in relationships); after "
                    "a solution or goal, 'for' names the challenge it answers");
  } else if (found == "'for'" && (before == "solution" || before == "goal")) {
    notes.push_back("the item's id comes first: " + before + " ID for CHALLENGE \"text\"");
  } else if (found == "','" && expected.find("quoted text") != std::string::npos) {
    // `solution s for a, b "..."`: the word before the comma, after 'for'.
    std::size_t w = at;
    while (w > 0 && (text[w - 1] == ' ' || text[w - 1] == '\t')) --w;
    std::string target = word_before(w);
    if (!target.empty() && word_before(w - target.size()) == "for") {
      notes.push_back("an item answers one challenge: write one for each challenge, each with its own id");
    }
  }
  // Operators of other languages: `=` for `==`, `&&`, `||` and `!` for
  // `and`, `or` and `not`.
  if (found == "'='" && (text.compare(at, 2, "=<") == 0 || text.compare(at, 2, "=>") == 0)) {
    // `=<` and `=>`: 'at most' and 'at least' with the signs swapped.
    bool less = text[at + 1] == '<';
    notes.push_back(std::string("did you mean '") + (less ? "<=" : ">=") + "'? '" + (less ? "at most" : "at least") +
                    "' is written " + (less ? "'<='" : "'>='") + ", the '=' second");
  } else if (found == "'='") {
    notes.push_back("did you mean '=='? A comparison is written with two equals signs");
  } else if (found == "'&'" && text.compare(at, 2, "&&") == 0) {
    notes.push_back("did you mean 'and'?");
  } else if (found == "'|'" && text.compare(at, 2, "||") == 0) {
    notes.push_back("did you mean 'or'?");
  } else if (found == "'!'") {
    notes.push_back("did you mean 'not'?");
  }
  // Quotes of other kinds: a single quote, or the curly quotes a word
  // processor types (pasted from a document).
  const bool curly = text.compare(at, 3, "\xE2\x80\x9C") == 0 || text.compare(at, 3, "\xE2\x80\x9D") == 0 ||
                     text.compare(at, 3, "\xE2\x80\x98") == 0 || text.compare(at, 3, "\xE2\x80\x99") == 0;
  if (found == "'''" || found == "'`'") {
    notes.push_back("texts and choices are written in straight double quotes: \"weak\", not 'weak'");
  } else if (curly) {
    notes.push_back("curly quotes (as a word processor types them) are not quotes here: write straight double "
                    "quotes, \"weak\"");
  }
  // A decimal comma: `< 3,5`.
  if (found == "','" && at > 0 && at + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[at - 1])) &&
      std::isdigit(static_cast<unsigned char>(text[at + 1]))) {
    notes.push_back("a number with decimals is written with a point: 3.5, not 3,5");
  }
  // A condition on a line of its own where 'then' was expected: the 'and'
  // or 'or' joining it to the line before is missing.
  if (expected.find("'then'") != std::string::npos && found.size() > 2 && found.front() == '\'' &&
      (std::isalpha(static_cast<unsigned char>(found[1])) || found[1] == '(')) {
    std::size_t b = at;
    while (b > 0 && (text[b - 1] == ' ' || text[b - 1] == '\t')) --b;
    const std::string word = found.substr(1, found.size() - 2);
    static const std::vector<std::string> not_conditions = {"then", "because", "end", "rule", "provisional",
                                                             "and", "or", "challenge", "solution", "goal",
                                                             "flag", "conclude", "exclude"};
    const bool keyword = std::find(not_conditions.begin(), not_conditions.end(), word) != not_conditions.end() ||
                         (word.size() >= 3 && !nearest_name(word, not_conditions).empty());
    if ((b == 0 || text[b - 1] == '\n') && !keyword) {
      notes.push_back("two conditions are joined by 'and' or 'or': is one missing at the end of the line before, "
                      "or at the start of this one?");
    }
  }
  return notes;
}

parse_result parse_rule_file(const source_file& src, const parse_options& options) {
  parse_result result;
  const std::string& text = src.text();

  if (std::size_t bad = find_invalid_utf8(text); bad != std::string::npos) {
    result.diagnostics.push_back(make_diagnostic(
        src, static_cast<std::uint32_t>(bad), severity::error, "parse.encoding",
        "this file is not valid UTF-8 text; save it as UTF-8"));
    return result;
  }

  // A file of thousands of mistakes keeps the first kKept, as a findings
  // file does, and counts the rest on the last one kept: memory stays
  // bounded whatever the file holds.
  constexpr std::size_t kKept = 1000;
  auto add = [&](diagnostic d) {
    if (result.diagnostics.size() < kKept) {
      result.diagnostics.push_back(std::move(d));
    } else {
      ++result.diagnostics.back().more_errors;
    }
  };

  parser::parse_state state;
  state.base = text.begin();
  state.max_depth = options.max_depth;
  auto const parser = x3::with<parser::state_tag>(std::ref(state))[parser::rule()];

  iterator_type it = text.begin();
  iterator_type const end = text.end();
  // A UTF-8 byte-order mark (as some Windows editors save) is not content,
  // as in findings files.
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) it += 3;
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
      add(std::move(d));
      resume = next_rule_start(text, at, at);
    } catch (const x3::expectation_failure<iterator_type>& e) {
      // Every expectation point of the grammar is a named rule; should one
      // be missed, the reader is never shown a C++ type name.
      std::string which = e.which();
      if (which.find("boost") != std::string::npos || which.rfind("N5", 0) == 0) which = "something else";
      // Point at the next token, not at the whitespace before it.
      iterator_type where = e.where();
      if (which.rfind("a closing", 0) != 0) x3::parse(where, end, *parser::skipper);
      auto at = static_cast<std::size_t>(where - text.begin());
      if (which == parser::depth_exceeded) {
        add(make_diagnostic(
            src, static_cast<std::uint32_t>(at), severity::error, "parse.too-deep",
            "the condition is nested more than " + std::to_string(options.max_depth) +
                " levels deep; split it into simpler rules"));
      } else {
        // An operand missing at the end of a line (`phq9.total >` and then
        // `then` on the next line): the place to fix is where the line
        // ends, not the start of the next one.
        auto broke = static_cast<std::size_t>(e.where() - text.begin());
        bool operand = which == "a value" || which == "a condition";
        // Only when what follows is a keyword that no value starts with (a
        // section word, or 'and'/'or' that join conditions): a malformed
        // value on the next line ('weak' in single quotes) is reported
        // where it is.
        static const std::set<std::string> section = {"'then'", "'and'", "'or'", "'because'", "'end'", "'provisional'", "'rule'",
                                                      "'when'", "'challenge'", "'solution'", "'goal'", "'flag'",
                                                      "'conclude'", "'exclude'"};
        // A goal's date missing at the end of `by session`: its text on the
        // next line is never the date.
        bool date = which == "a session number";
        bool next_line = (operand || date) && text.find('\n', broke) < at &&
                         (date || section.count(found_text(text, at)) > 0);
        while (next_line && broke > 0 && (text[broke - 1] == ' ' || text[broke - 1] == '\t')) --broke;
        auto d = next_line
                     ? make_diagnostic(src, static_cast<std::uint32_t>(broke), severity::error, "parse.expected",
                                       "expected " + which + " here, but the line ends (what follows is " +
                                           found_text(text, at) + ", on line " +
                                           std::to_string(src.locate(static_cast<std::uint32_t>(at)).line) + ")")
                     : make_diagnostic(src, static_cast<std::uint32_t>(at), severity::error, "parse.expected",
                                       "expected " + which + " but found " + found_text(text, at));
        d.notes = hints(src, which, static_cast<std::size_t>(start - text.begin()), at);
        add(std::move(d));
      }
      resume = next_rule_start(text, at, static_cast<std::size_t>(start - text.begin()));
      scan_unparsed(text, static_cast<std::size_t>(start - text.begin()), resume, result.unparsed);
    }
    it = text.begin() + static_cast<std::ptrdiff_t>(resume);
  }
  return result;
}

}  // namespace iptplan

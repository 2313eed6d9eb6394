#include "format/format.hpp"

#include <algorithm>

#include "format/layout.hpp"
#include "format/tokens.hpp"
#include "grammar/ast_printer.hpp"
#include "grammar/parse.hpp"

namespace iptplan::formatter {

namespace {

std::string indent_of(const std::string& s) {
  return s.substr(0, s.find_first_not_of(' ') == std::string::npos ? 0 : s.find_first_not_of(' '));
}

// The rules of a parse as comparable text, metadata in canonical order.
std::vector<std::string> meaning(const ast::rule_file& f) {
  std::vector<std::string> out;
  for (ast::rule r : f.rules) {
    std::stable_sort(r.meta.begin(), r.meta.end(),
                     [](const ast::meta_item& a, const ast::meta_item& b) { return a.kind < b.kind; });
    out.push_back(ast::to_string(r));
  }
  return out;
}

// One formatting pass over a text the parser accepts; false if the layout
// could not read it.
bool format_once(const std::string& text, int width, std::string& result) {
  token_stream ts;
  if (!tokenize(text, ts)) return false;
  std::vector<out_line> lines;
  if (!layout_rules(text, ts, width, lines)) return false;

  // Which output line shows each token.
  std::vector<int> line_of(ts.tokens.size(), -1);
  for (std::size_t l = 0; l < lines.size(); ++l) {
    if (lines[l].first_tok < 0) continue;
    for (int t = lines[l].first_tok; t <= lines[l].last_tok; ++t) {
      if (line_of[static_cast<std::size_t>(t)] < 0) line_of[static_cast<std::size_t>(t)] = static_cast<int>(l);
    }
  }

  // Each comment goes after the last token of a line it ended, or before the
  // line holding the token it preceded (or the token it followed, when that
  // token no longer ends a line), or at the end of the file.
  std::vector<std::vector<std::size_t>> before(lines.size());
  std::vector<std::string> trailing(lines.size());
  std::vector<std::size_t> at_end;
  for (std::size_t c = 0; c < ts.comments.size(); ++c) {
    const comment& cm = ts.comments[c];
    auto next = std::lower_bound(ts.tokens.begin(), ts.tokens.end(), cm.begin,
                                 [](const token& t, std::uint32_t v) { return t.begin < v; });
    int next_tok = next == ts.tokens.end() ? -1 : static_cast<int>(next - ts.tokens.begin());
    int prev_tok = (next_tok < 0 ? static_cast<int>(ts.tokens.size()) : next_tok) - 1;
    std::string body(text.substr(cm.begin, cm.end - cm.begin));
    if (!cm.own_line && prev_tok >= 0) {
      int l = line_of[static_cast<std::size_t>(prev_tok)];
      if (l >= 0 && lines[static_cast<std::size_t>(l)].last_tok == prev_tok &&
          trailing[static_cast<std::size_t>(l)].empty()) {
        trailing[static_cast<std::size_t>(l)] = body;
        continue;
      }
      if (l >= 0) {
        before[static_cast<std::size_t>(l)].push_back(c);
        continue;
      }
    }
    if (next_tok < 0) {
      at_end.push_back(c);
      continue;
    }
    int l = line_of[static_cast<std::size_t>(next_tok)];
    if (l < 0) return false;
    before[static_cast<std::size_t>(l)].push_back(c);
  }

  auto body_of = [&](std::size_t c) {
    const comment& cm = ts.comments[c];
    return std::string(text.substr(cm.begin, cm.end - cm.begin));
  };
  std::string out;
  bool any = false;  // something written
  for (std::size_t l = 0; l < lines.size(); ++l) {
    const out_line& ln = lines[l];
    if (ln.rule_start) {
      if (any) out += '\n';
      // Blank lines kept as the source had them, between the comments and
      // before the rule; a comment that ended a line of the rule (moved
      // here) keeps to the rule.
      const bool rule_blank = ts.tokens[static_cast<std::size_t>(ln.first_tok)].blank_before;
      for (std::size_t k = 0; k < before[l].size(); ++k) {
        const comment& cm = ts.comments[before[l][k]];
        if (k > 0) {
          bool prev_own = ts.comments[before[l][k - 1]].own_line;
          if (cm.own_line ? cm.blank_before : prev_own && rule_blank) out += '\n';
        }
        out += body_of(before[l][k]) + '\n';
      }
      if (!before[l].empty() && ts.comments[before[l].back()].own_line && rule_blank) out += '\n';
    } else {
      std::string pad = indent_of(ln.text);
      for (std::size_t c : before[l]) out += pad + body_of(c) + '\n';
    }
    std::string t = ln.text;
    while (!t.empty() && t.back() == ' ') t.pop_back();
    if (!trailing[l].empty()) t += "  " + trailing[l];
    out += t + '\n';
    any = true;
  }
  for (std::size_t k = 0; k < at_end.size(); ++k) {
    const comment& cm = ts.comments[at_end[k]];
    if (any && cm.blank_before) out += '\n';
    out += body_of(at_end[k]) + '\n';
    any = true;
  }
  result = std::move(out);
  return true;
}

diagnostic internal_error(const source_file& src, const std::string& why) {
  diagnostic d;
  d.level = severity::error;
  d.code = "fmt.internal";
  d.file = src.name();
  d.line = 1;
  d.column = 1;
  d.message = "this file could not be formatted without changing its meaning (" + why +
              "), so it was left as it is; please report it";
  return d;
}

}  // namespace

format_result format_rule_file(const source_file& src, const format_options& options) {
  format_result r;
  parse_result parsed = parse_rule_file(src);
  if (has_errors(parsed.diagnostics)) {
    r.diagnostics = std::move(parsed.diagnostics);
    return r;
  }
  const std::vector<std::string> want = meaning(parsed.file);
  std::string current = src.text();
  // A pass can move a comment that sat inside a line to before it, which can
  // change how a later pass breaks that line: repeat until nothing changes.
  for (int pass = 0; pass < 4; ++pass) {
    std::string next;
    if (!format_once(current, options.width, next)) {
      r.diagnostics.push_back(internal_error(src, "the layout could not read its tokens"));
      return r;
    }
    source_file again(src.name(), next);
    parse_result check = parse_rule_file(again);
    if (has_errors(check.diagnostics) || meaning(check.file) != want) {
      r.diagnostics.push_back(internal_error(src, "the formatted rules differ from the original"));
      return r;
    }
    if (next == current && pass > 0) {
      r.text = std::move(next);
      return r;
    }
    current = std::move(next);
  }
  r.diagnostics.push_back(internal_error(src, "the layout does not settle"));
  return r;
}

}  // namespace iptplan::formatter

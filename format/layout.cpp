// The canonical layout:
//
//   rule <id> "<title>"
//     priority <n>                 metadata in this order
//     tags <a>, <b>
//     source "<citation>"
//   for each <v> in <list>
//   when
//     <condition>                  'and' and 'or' start the lines they break;
//   provisional when               a broken group aligns after its '('
//     <condition>
//   then
//     <action>                     one a line; a long text goes below it,
//       "<text, wrapped at spaces>"  as adjacent quoted pieces
//   because "<text>"
//   end
//
// One blank line between rules. The tokens are copied as written.
#include "format/layout.hpp"

#include <algorithm>
#include <string>

namespace iptplan::formatter {

namespace {

class rule_layout {
 public:
  rule_layout(std::string_view text, const token_stream& ts, int width, std::vector<out_line>& out)
      : text_(text), toks_(ts.tokens), comments_(ts.comments), width_(width), out_(out) {}

  bool run() {
    try {
      while (pos_ < toks_.size()) rule();
    } catch (const bad_tokens&) {
      return false;
    }
    return true;
  }

 private:
  struct bad_tokens {};

  std::string_view text_;
  const std::vector<token>& toks_;
  const std::vector<comment>& comments_;
  int width_;
  std::vector<out_line>& out_;
  std::size_t pos_ = 0;

  // --- tokens -----------------------------------------------------------
  std::string_view at(std::size_t i) const {
    if (i >= toks_.size()) return {};
    return text_.substr(toks_[i].begin, toks_[i].end - toks_[i].begin);
  }
  std::string_view peek(std::size_t ahead = 0) const { return at(pos_ + ahead); }
  bool peek_is(std::string_view s, std::size_t ahead = 0) const {
    return pos_ + ahead < toks_.size() && toks_[pos_ + ahead].kind != token_kind::text &&
           peek(ahead) == s;
  }
  bool peek_kind(token_kind k) const { return pos_ < toks_.size() && toks_[pos_].kind == k; }
  int take(std::string_view s) {
    if (!peek_is(s)) throw bad_tokens{};
    return static_cast<int>(pos_++);
  }
  int take_kind(token_kind k) {
    if (!peek_kind(k)) throw bad_tokens{};
    return static_cast<int>(pos_++);
  }
  std::string str(int i) const { return std::string(at(static_cast<std::size_t>(i))); }

  // A quoted text of one or more pieces: [first, last] and its content
  // without the quotes.
  struct text_run {
    int first = -1;
    int last = -1;
    std::string content;
  };
  text_run take_text() {
    text_run r;
    r.first = take_kind(token_kind::text);
    r.last = r.first;
    r.content = piece(r.first);
    while (peek_kind(token_kind::text)) {
      r.last = static_cast<int>(pos_++);
      r.content += piece(r.last);
    }
    return r;
  }
  std::string piece(int i) const {
    std::string_view s = at(static_cast<std::size_t>(i));
    return std::string(s.substr(1, s.size() - 2));
  }

  // Whether a comment lies between tokens `first` and `last`: a group that
  // holds one is broken, so that the comment keeps its line.
  bool comment_inside(int first, int last) const {
    if (first < 0 || last <= first) return false;
    std::uint32_t b = toks_[static_cast<std::size_t>(first)].end;
    std::uint32_t e = toks_[static_cast<std::size_t>(last)].begin;
    auto it = std::lower_bound(comments_.begin(), comments_.end(), b,
                               [](const comment& c, std::uint32_t v) { return c.begin < v; });
    return it != comments_.end() && it->begin < e;
  }

  // --- lines ------------------------------------------------------------
  void emit(std::string s, int first, int last, bool rule_start = false) {
    out_line l;
    l.text = std::move(s);
    l.rule_start = rule_start;
    note_tokens(l, first, last);
    out_.push_back(std::move(l));
  }
  void emit_doc(const doc& d, const std::string& prefix) {
    for (auto& l : render(d, prefix, width_)) out_.push_back(std::move(l));
  }

  // `head` then the text: on one line when it fits, else the text below it,
  // indented `indent`, cut after spaces into pieces that fit.
  void emit_with_text(std::string head, int head_first, const text_run& t, int indent,
                      bool rule_start = false) {
    std::string one = head + " \"" + t.content + "\"";
    if (columns(one) <= width_) {
      emit(std::move(one), head_first, t.last, rule_start);
      return;
    }
    // The head keeps its own tokens (a comment that ended it stays there);
    // the pieces as written go to the first line of the text, the last
    // piece to its last line.
    std::vector<std::string> chunks = wrap(t.content, width_ - indent - 2);
    emit(std::move(head), head_first, t.first - 1, rule_start);
    std::string pad(static_cast<std::size_t>(indent), ' ');
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      out_line l;
      l.text = pad + "\"" + chunks[i] + "\"";
      if (i == 0 && t.last > t.first) note_tokens(l, t.first, t.last - 1);
      if (i + 1 == chunks.size()) note_tokens(l, t.last, t.last);
      out_.push_back(std::move(l));
    }
  }

  // Cuts `s` after runs of spaces into pieces of at most `room` columns
  // (a longer word stands alone).
  static std::vector<std::string> wrap(const std::string& s, int room) {
    std::vector<std::string> units;
    std::size_t i = 0;
    while (i < s.size()) {
      std::size_t b = i;
      while (i < s.size() && s[i] != ' ') ++i;
      while (i < s.size() && s[i] == ' ') ++i;
      units.push_back(s.substr(b, i - b));
    }
    std::vector<std::string> chunks;
    std::string cur;
    for (auto& u : units) {
      if (!cur.empty() && columns(cur) + columns(u) > room) {
        chunks.push_back(std::move(cur));
        cur.clear();
      }
      cur += u;
    }
    chunks.push_back(std::move(cur));
    return chunks;
  }

  // --- rules ------------------------------------------------------------
  struct meta_line {
    int order = 0;
    int first = -1;
    std::string head;
    text_run text;  // source
    int last = -1;
  };

  void rule() {
    int kw = take("rule");
    int id = take_kind(token_kind::word);
    std::string head = "rule " + str(id);
    if (peek_kind(token_kind::text)) {
      emit_with_text(head, kw, take_text(), 2, true);
    } else {
      emit(head, kw, id, true);
    }
    std::vector<meta_line> meta;
    while (peek_is("priority") || peek_is("tags") || peek_is("source")) meta.push_back(meta_item());
    std::stable_sort(meta.begin(), meta.end(),
                     [](const meta_line& a, const meta_line& b) { return a.order < b.order; });
    for (auto& m : meta) {
      if (m.text.first >= 0) {
        emit_with_text("  " + m.head, m.first, m.text, 4);
      } else {
        emit("  " + m.head, m.first, m.last);
      }
    }
    if (peek_is("for")) {
      int f = take("for");
      take("each");
      int var = take_kind(token_kind::word);
      take("in");
      int list = take_kind(token_kind::word);
      emit("for each " + str(var) + " in " + str(list), f, list);
    }
    int w = take("when");
    emit("when", w, w);
    emit_doc(condition(), "  ");
    if (peek_is("provisional")) {
      int p = take("provisional");
      int w2 = take("when");
      emit("provisional when", p, w2);
      emit_doc(condition(), "  ");
    }
    int t = take("then");
    emit("then", t, t);
    do {
      action();
    } while (!peek_is("because") && !peek_is("end"));
    if (peek_is("because")) {
      int b = take("because");
      emit_with_text("because", b, take_text(), 2);
    }
    int e = take("end");
    emit("end", e, e);
  }

  meta_line meta_item() {
    meta_line m;
    m.first = static_cast<int>(pos_);
    if (peek_is("priority")) {
      m.order = 0;
      pos_++;
      std::string n;
      if (peek_is("-")) n = str(take("-"));
      n += str(take_kind(token_kind::number));
      m.head = "priority " + n;
    } else if (peek_is("tags")) {
      m.order = 1;
      pos_++;
      m.head = "tags " + str(take_kind(token_kind::word));
      while (peek_is(",")) {
        take(",");
        m.head += ", " + str(take_kind(token_kind::word));
      }
    } else {
      m.order = 2;
      pos_++;
      m.head = "source";
      m.text = take_text();
    }
    m.last = static_cast<int>(pos_) - 1;
    return m;
  }

  void action() {
    int k = static_cast<int>(pos_);
    std::string kind(peek());
    if (kind == "challenge" || kind == "solution" || kind == "goal" || kind == "flag") {
      pos_++;
      std::string head = "  " + kind;
      if (kind == "flag") head += " " + str(take_kind(token_kind::word));  // severity
      head += " " + str(take_kind(token_kind::word));
      if (peek_is("for")) {
        take("for");
        head += " for " + str(take_kind(token_kind::word));
      }
      if (kind == "goal" && peek_is("by")) {
        // `by session <value>`: the value laid out as in a condition, on
        // the action's line.
        take("by");
        take("session");
        head += " by session ";
        for (const auto& l : render(condition(), "", 1 << 20)) head += l.text;
      }
      emit_with_text(head, k, take_text(), 4);
    } else if (kind == "conclude") {
      pos_++;
      int fact = take_kind(token_kind::word);
      std::vector<doc> parts{text("conclude " + str(fact), k, fact)};
      if (peek_is("=")) {
        int eq = take("=");
        parts.push_back(text(" = ", eq));
        parts.push_back(condition());
      }
      emit_doc(concat(std::move(parts)), "  ");
    } else if (kind == "exclude") {
      pos_++;
      int id = take_kind(token_kind::word);
      emit("  exclude " + str(id), k, id);
    } else {
      throw bad_tokens{};
    }
  }

  // --- conditions -------------------------------------------------------
  doc condition(bool own_align = true) { return chain("or", own_align); }

  // `first op second op third`: flat when it fits, else one operand a line.
  doc chain(std::string_view op, bool own_align) {
    int first = static_cast<int>(pos_);
    doc head = op == "or" ? chain("and", own_align) : negation();
    if (!peek_is(op)) return head;
    std::vector<doc> parts{std::move(head)};
    while (peek_is(op)) {
      int o = take(op);
      parts.push_back(line());
      parts.push_back(text(std::string(op) + " ", o));
      parts.push_back(op == "or" ? chain("and", true) : negation());
    }
    int last = static_cast<int>(pos_) - 1;
    doc body = concat(std::move(parts));
    return group(own_align ? align(std::move(body)) : std::move(body),
                 comment_inside(first, last));
  }

  doc negation() {
    if (peek_is("not")) {
      int n = take("not");
      return concat({text("not ", n), negation()});
    }
    return comparison();
  }

  doc comparison() {
    doc lhs = additive();
    static constexpr std::string_view relops[] = {"==", "!=", "<", "<=", ">", ">="};
    for (auto op : relops) {
      if (peek_is(op)) {
        int o = take(op);
        return concat({std::move(lhs), text(" " + std::string(op) + " ", o), additive()});
      }
    }
    if (peek_is("in")) {
      int o = take("in");
      return concat({std::move(lhs), text(" in ", o), set()});
    }
    if (peek_is("contains")) {
      int o = take("contains");
      return concat({std::move(lhs), text(" contains ", o), additive()});
    }
    if (peek_is("is")) {
      int o = take("is");
      int w = static_cast<int>(pos_);
      std::string what(peek());
      if (what != "known" && what != "missing" && what != "provisional") throw bad_tokens{};
      pos_++;
      return concat({std::move(lhs), text(" is " + what, o, w)});
    }
    return lhs;
  }

  // A chain of operators as one flat sequence, each part moved in once:
  // re-wrapping the chain so far at each operator (through an initializer
  // list, which copies) made fmt quadratic in the chain's length.
  doc additive() {
    std::vector<doc> parts;
    parts.push_back(multiplicative());
    while (peek_is("+") || peek_is("-")) {
      int o = static_cast<int>(pos_++);
      parts.push_back(text(" " + str(o) + " ", o));
      parts.push_back(multiplicative());
    }
    if (parts.size() == 1) return std::move(parts.front());
    return concat(std::move(parts));
  }

  doc multiplicative() {
    std::vector<doc> parts;
    parts.push_back(unary());
    while (peek_is("*") || peek_is("/")) {
      int o = static_cast<int>(pos_++);
      parts.push_back(text(" " + str(o) + " ", o));
      parts.push_back(unary());
    }
    if (parts.size() == 1) return std::move(parts.front());
    return concat(std::move(parts));
  }

  doc unary() {
    if (peek_is("-")) {
      int o = take("-");
      return concat({text("-", o), unary()});
    }
    return primary();
  }

  doc literal_text() {
    text_run t = take_text();
    return text("\"" + t.content + "\"", t.first, t.last);
  }

  doc primary() {
    if (peek_kind(token_kind::number)) {
      int n = static_cast<int>(pos_++);
      return text(str(n), n);
    }
    if (peek_kind(token_kind::text)) return literal_text();
    if (peek_is("(")) {
      int o = take("(");
      doc inner = condition();
      int c = take(")");
      return concat({text("(", o), std::move(inner), text(")", c)});
    }
    if ((peek_is("any") || peek_is("all") || peek_is("count")) && peek_is("(", 1)) {
      int q = static_cast<int>(pos_++);
      take("(");
      int var = take_kind(token_kind::word);
      take("in");
      int list = take_kind(token_kind::word);
      int colon = take(":");
      doc head = text(str(var) + " in " + str(list) + ": ", var, colon);
      doc body = condition(false);
      int c = take(")");
      return concat({text(str(q) + "(", q, q + 1), align(concat({std::move(head), std::move(body)})),
                     text(")", c)});
    }
    int w = take_kind(token_kind::word);  // a path, true or false
    return text(str(w), w);
  }

  doc set() {
    int o = take("{");
    std::vector<doc> items;
    items.push_back(set_item());
    while (peek_is(",")) {
      int comma = take(",");
      items.back() = concat({std::move(items.back()), text(",", comma)});
      items.push_back(set_item());
    }
    int c = take("}");
    return concat({text("{", o), align(fill(std::move(items))), text("}", c)});
  }

  doc set_item() {
    if (peek_kind(token_kind::text)) return literal_text();
    if (peek_kind(token_kind::number) || peek_is("true") || peek_is("false")) {
      int i = static_cast<int>(pos_++);
      return text(str(i), i);
    }
    throw bad_tokens{};
  }
};

}  // namespace

bool layout_rules(std::string_view text, const token_stream& ts, int width,
                  std::vector<out_line>& out) {
  return rule_layout(text, ts, width, out).run();
}

}  // namespace iptplan::formatter

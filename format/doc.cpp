#include "format/doc.hpp"

namespace iptplan::formatter {

doc text(std::string s, int tok_first, int tok_last) {
  doc d;
  d.k = doc::kind::text;
  d.s = std::move(s);
  d.tok_first = tok_first;
  d.tok_last = tok_last < 0 ? tok_first : tok_last;
  return d;
}

doc line() {
  doc d;
  d.k = doc::kind::line;
  return d;
}

doc concat(std::vector<doc> kids) {
  doc d;
  d.k = doc::kind::concat;
  d.kids = std::move(kids);
  return d;
}

doc group(doc inner, bool force_break) {
  doc d;
  d.k = doc::kind::group;
  d.force_break = force_break;
  d.kids.push_back(std::move(inner));
  return d;
}

doc align(doc inner) {
  doc d;
  d.k = doc::kind::align;
  d.kids.push_back(std::move(inner));
  return d;
}

doc fill(std::vector<doc> items) {
  doc d;
  d.k = doc::kind::concat;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      doc sep;
      sep.k = doc::kind::soft_line;
      d.kids.push_back(std::move(sep));
    }
    d.kids.push_back(std::move(items[i]));
  }
  return d;
}

int columns(const std::string& s) {
  int n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

void note_tokens(out_line& l, int first, int last) {
  if (first < 0) return;
  if (l.first_tok < 0 || first < l.first_tok) l.first_tok = first;
  if (last > l.last_tok) l.last_tok = last;
}

namespace {

struct cmd {
  int indent;
  bool flat;
  const doc* d;
};

// Whether the rest of the current line fits in `room` columns when `first`
// is laid out flat, followed by what `rest` holds in its own modes. A group
// that must break never fits flat.
bool fits(int room, cmd first, const std::vector<cmd>& rest) {
  std::vector<cmd> local{first};
  std::size_t next_rest = rest.size();
  while (room >= 0) {
    if (local.empty()) {
      if (next_rest == 0) return true;
      local.push_back(rest[--next_rest]);
    }
    cmd c = local.back();
    local.pop_back();
    switch (c.d->k) {
      case doc::kind::text: room -= columns(c.d->s); break;
      case doc::kind::line:
      case doc::kind::soft_line:
        if (!c.flat) return true;
        room -= 1;
        break;
      case doc::kind::concat:
        for (auto it = c.d->kids.rbegin(); it != c.d->kids.rend(); ++it) {
          local.push_back({c.indent, c.flat, &*it});
        }
        break;
      case doc::kind::group:
        if (c.flat && c.d->force_break) return false;
        local.push_back({c.indent, c.flat, &c.d->kids[0]});
        break;
      case doc::kind::align: local.push_back({c.indent, c.flat, &c.d->kids[0]}); break;
    }
  }
  return false;
}

}  // namespace

std::vector<out_line> render(const doc& d, const std::string& prefix, int width) {
  std::vector<out_line> lines(1);
  lines.back().text = prefix;
  int col = columns(prefix);
  std::vector<cmd> stack{{col, false, &d}};
  // A space, or a new line indented `indent`.
  auto separate = [&](bool flat, int indent) {
    if (flat) {
      lines.back().text += ' ';
      col += 1;
    } else {
      lines.emplace_back();
      lines.back().text.assign(static_cast<std::size_t>(indent), ' ');
      col = indent;
    }
  };
  while (!stack.empty()) {
    cmd c = stack.back();
    stack.pop_back();
    switch (c.d->k) {
      case doc::kind::text:
        lines.back().text += c.d->s;
        col += columns(c.d->s);
        note_tokens(lines.back(), c.d->tok_first, c.d->tok_last);
        break;
      case doc::kind::line: separate(c.flat, c.indent); break;
      case doc::kind::soft_line: {
        // Broken only when the item after it would not fit on this line.
        bool flat = c.flat;
        if (!flat && !stack.empty()) {
          cmd item = stack.back();
          stack.pop_back();
          flat = fits(width - col - 1, {item.indent, true, item.d}, stack);
          stack.push_back({item.indent, flat || item.flat, item.d});
        }
        separate(flat, c.indent);
        break;
      }
      case doc::kind::concat:
        for (auto it = c.d->kids.rbegin(); it != c.d->kids.rend(); ++it) {
          stack.push_back({c.indent, c.flat, &*it});
        }
        break;
      case doc::kind::group: {
        bool flat = c.flat ||
                    (!c.d->force_break && fits(width - col, {c.indent, true, &c.d->kids[0]}, stack));
        stack.push_back({c.indent, flat, &c.d->kids[0]});
        break;
      }
      case doc::kind::align: stack.push_back({col, c.flat, &c.d->kids[0]}); break;
    }
  }
  return lines;
}

}  // namespace iptplan::formatter

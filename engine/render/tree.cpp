// The indented derivation tree shared by the text renderer, `why` and
// `why-not`.
#include <algorithm>
#include <set>

#include "engine/render/render.hpp"

namespace iptplan {

namespace {

// Facts already written in this tree: each is explained once, then
// referred to ("explained above"). Facts that share inputs form a lattice
// whose tree, written out whole, doubles with each level.
using written = std::set<const fact_explanation*>;

void append_fact(std::string& out, const fact_explanation& f, int indent, written& seen);
void append_reason(std::string& out, const reason& r, int indent, bool blocking_only, written& seen);

std::string pad(int n) { return std::string(static_cast<std::size_t>(n), ' '); }

// A condition written over several lines, its later lines moved to
// `column` (keeping their indentation relative to one another), so that
// they stand under the first whatever its depth in the tree.
std::string hang_lines(const std::string& text, int column) {
  if (text.find('\n') == std::string::npos) return text;
  std::vector<std::string> lines;
  std::size_t at = 0;
  while (at <= text.size()) {
    std::size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  std::size_t least = std::string::npos;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::size_t lead = lines[i].find_first_not_of(' ');
    if (lead != std::string::npos) least = std::min(least, lead);
  }
  if (least == std::string::npos) least = 0;
  std::string out = lines[0];
  for (std::size_t i = 1; i < lines.size(); ++i) {
    out += '\n' + pad(column) + (lines[i].size() > least ? lines[i].substr(least) : std::string());
  }
  return out;
}

const char* mark(const std::string& result) {
  return result == "true" ? "[yes]" : result == "false" ? "[no] " : "[?]  ";
}

// "risk.level = low (provisional)", or "risk.elevated: not yet decided".
std::string fact_state(const fact_explanation& f) {
  if (f.undecided) return f.fact + ": not yet decided";
  return f.fact + " = " + f.value + (f.provisional ? " (provisional)" : "");
}

void append_fact(std::string& out, const fact_explanation& f, int indent, written& seen) {
  out += pad(indent) + "derived fact " + fact_state(f);
  if (f.repeated || !seen.insert(&f).second) {
    out += " (explained above)\n";
    return;
  }
  if (f.cut) {
    out += " (at the end of a chain of " + std::to_string(kMaxExplainDepth) +
           " derived facts: 'iptplan why " + f.fact + "' explains it)\n";
    return;
  }
  out += '\n';
  if (!f.missing.empty()) {
    out += pad(indent + 2) + "undecided; would be decided by:";
    for (std::size_t i = 0; i < f.missing.size(); ++i) out += (i ? ", " : " ") + f.missing[i];
    if (f.more_missing) out += " and others";
    out += '\n';
  }
  for (const auto& r : f.reasons) append_reason(out, r, indent + 2, false, seen);
}

}  // namespace

void append_fact_tree(std::string& out, const fact_explanation& f, int indent) {
  written seen;
  append_fact(out, f, indent, seen);
}

void append_reason_tree(std::string& out, const reason& r, int indent, bool blocking_only) {
  written seen;
  append_reason(out, r, indent, blocking_only, seen);
}

namespace {

void append_reason(std::string& out, const reason& r, int indent, bool blocking_only, written& seen) {
  out += pad(indent) + "rule " + r.rule.id;
  if (!r.rule.title.empty()) out += " \"" + hang(r.rule.title, indent + 2) + "\"";
  out += " (" + r.rule.file + ":" + std::to_string(r.rule.line) + ")";
  if (!r.element.empty()) out += " for " + r.element;
  out += '\n';
  if (!r.rule.source.empty()) out += pad(indent + 2) + "source: " + hang(r.rule.source, indent + 10) + '\n';
  if (r.provisional) {
    out += pad(indent + 2) + "provisional: not all the condition needs is on file, and what is on file supports it: " + r.support + '\n';
    out += pad(indent + 2) + "to confirm:";
    for (const auto& m : r.to_confirm) out += " " + m;
    out += '\n';
  }
  if (!r.because.empty()) out += pad(indent + 2) + "because: " + hang(r.because, indent + 11) + '\n';
  for (const auto& e : r.evidence) {
    out += pad(indent + 2 + 2 * e.depth) + mark(e.result) + " ";
    if (!e.group.empty()) {
      // A nested group: its parts follow, one level in.
      out += e.group == "any" ? "any of these:\n" : "all of these:\n";
      continue;
    }
    out += hang_lines(e.condition, indent + 2 + 2 * e.depth + 6);
    if (!e.values.empty()) {
      out += "   with ";
      for (std::size_t i = 0; i < e.values.size(); ++i) {
        // Not a structured binding: clang 14 cannot capture one in a lambda.
        const std::string& path = e.values[i].first;
        const std::string& seen = e.values[i].second;
        // A derived fact no rule has decided is not "missing" like a
        // finding: it may have a provisional value (shown below), which a
        // condition never reads.
        auto fact = std::find_if(r.derived.begin(), r.derived.end(), [&](const auto& f) { return f->fact == path; });
        std::string shown = seen;
        if (fact != r.derived.end() && seen == "missing") {
          // Said as the fact's own explanation below says it: undecided,
          // with the provisional value a condition never reads.
          shown = (*fact)->provisional ? "not yet decided (provisionally " + (*fact)->value + ", which no condition reads)"
                                       : "not yet decided";
        }
        out += (i ? ", " : "") + path + " = " + shown;
      }
    }
    out += '\n';
  }
  if (r.more_evidence > 0) {
    out += pad(indent + 2) + "... and " + std::to_string(r.more_evidence) +
           " more conditions of this rule, not shown (an explanation keeps the first " + std::to_string(kMaxEvidence) +
           ")\n";
  }
  for (const auto& f : r.derived) {
    bool blocking = !blocking_only || std::any_of(r.evidence.begin(), r.evidence.end(), [&](const auto& e) {
      return e.result != "true" && std::any_of(e.values.begin(), e.values.end(),
                                               [&](const auto& v) { return v.first == f->fact; });
    });
    if (blocking) {
      append_fact(out, *f, indent + 2, seen);
    } else {
      out += pad(indent + 2) + "derived fact " + fact_state(*f) + " (not what stopped the rule; 'iptplan why " + f->fact + "' explains it)\n";
    }
  }
}

}  // namespace

}  // namespace iptplan

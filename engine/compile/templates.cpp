// Text templates: `{path}` parts resolved like any path.
#include "engine/compile/compiler.hpp"

namespace iptplan::detail {

void compiler::check_text_characters(const std::string& v, std::uint32_t at) {
  if (const char* what = text_character_problem(v, true)) {
    error(at, "check.text-character",
          std::string("a text holds ") + what + ", which would reach plans, JSON and other systems' screens as it is",
          {"remove it (retype the text if it was pasted)"});
  }
}

text_template compiler::compile_template(const ast::string_literal& s) {
  check_text_characters(s.value, s.begin);
  // Texts are rendered after evaluation, so what they read does not order
  // rules into strata.
  std::size_t reads_before = reads_.size();
  struct restore {
    std::vector<std::pair<std::uint32_t, bool>>& r;
    std::size_t n;
    ~restore() { r.resize(n); }
  } guard{reads_, reads_before};
  text_template t;
  const std::string& v = s.value;
  std::string lit;
  // The source offset of character i of the value.
  const std::vector<std::uint32_t> offsets =
      literal_offsets(p_.sources[file_].text(), s.begin, s.end);
  auto at = [&](std::size_t i) { return offsets[std::min(i, offsets.size() - 1)]; };
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '{' && i + 1 < v.size() && v[i + 1] == '{') { lit += '{'; ++i; continue; }
    if (c == '}' && i + 1 < v.size() && v[i + 1] == '}') { lit += '}'; ++i; continue; }
    if (c == '}') {
      error(at(i), "check.template", "a lone '}' in a text; write '}}' for a brace");
      continue;
    }
    if (c != '{') { lit += c; continue; }
    std::size_t close = v.find('}', i);
    if (close == std::string::npos) {
      error(at(i), "check.template", "'{' is not closed; write '{{' for a brace");
      break;
    }
    std::string name = v.substr(i + 1, close - i - 1);
    ast::path ap;
    ap.begin = at(i + 1);
    ap.end = at(close);
    std::size_t start = 0;
    bool ok = !name.empty();
    std::vector<std::string> parts;
    while (ok) {
      std::size_t dot = name.find('.', start);
      std::string part = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      ok = !part.empty() && std::all_of(part.begin(), part.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
      });
      parts.push_back(part);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (!ok) {
      error(at(i), "check.template",
            "'{" + name + "}' is not a finding path; write '{{' for a literal brace");
    } else {
      ap.head = parts[0];
      ap.tail.assign(parts.begin() + 1, parts.end());
      std::size_t before = diags_.size();
      cx c = path(ap, false);
      // Name unknown template paths as template problems.
      for (std::size_t k = before; k < diags_.size(); ++k) {
        if (diags_[k].code == "check.unknown-path") {
          diags_[k].code = "check.template";
          diags_[k].message = "the text names " + diags_[k].message;
        }
      }
      if (!lit.empty()) t.parts.push_back({std::move(lit), -1});
      lit.clear();
      t.parts.push_back({"", static_cast<std::int32_t>(c.node)});
    }
    i = close;
  }
  if (!lit.empty()) t.parts.push_back({std::move(lit), -1});
  return t;
}

}  // namespace iptplan::detail

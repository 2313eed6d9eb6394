// The compiler's internals, shared by the files of engine/compile/: the
// static types the checker infers, and the compiler class whose methods are
// split by concern (expressions.cpp, templates.cpp, rules.cpp).
#pragma once

#include <optional>

#include <boost/variant/apply_visitor.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/compile.hpp"
#include "grammar/ast_printer.hpp"

namespace iptplan::detail {

enum class tk { error, any, boolean, number, text, enumeration, list, table };

struct typ {
  tk kind = tk::error;
  const finding_decl* decl = nullptr;  // enum values, list or table declaration
};

inline typ type_of_decl(const finding_decl& d) {
  switch (d.type) {
    case finding_type::integer:
    case finding_type::number: return {tk::number, &d};
    case finding_type::boolean: return {tk::boolean, &d};
    case finding_type::string: return {tk::text, &d};
    case finding_type::enumeration: return {tk::enumeration, &d};
    case finding_type::list: return {tk::list, &d};
    case finding_type::table_list: return {tk::table, &d};
  }
  return {};
}

inline const char* describe(tk k) {
  switch (k) {
    case tk::error:
    case tk::any: return "a value";
    case tk::boolean: return "true or false";
    case tk::number: return "a number";
    case tk::text: return "a text";
    case tk::enumeration: return "a choice from a fixed list";
    case tk::list: return "a list of values";
    case tk::table: return "a list of records";
  }
  return "a value";
}

struct binding {
  std::string name;
  const finding_decl* list = nullptr;  // the list or table_list iterated
  std::uint8_t var = 0;
};

struct cx {
  std::uint32_t node = 0;
  typ t;
};

// The most actions one rule may have (see compile_rule).
inline constexpr std::size_t kMaxActionsPerRule = 100;

class compiler {
 public:
  compiler(program& p, const std::vector<parsed_file>& files, std::vector<diagnostic>& diags,
           bool style)
      : p_(p), files_(files), diags_(diags), style_(style) {}

  void run();

 private:
  program& p_;
  const std::vector<parsed_file>& files_;
  std::vector<diagnostic>& diags_;
  bool style_ = false;
  // "Did you mean" for unknown names, within a budget (see suggester).
  suggester suggest_;
  // Parameters rules read that ruleset.toml does not set: a parameter set
  // but never read may be one of them misspelt in ruleset.toml.
  std::set<std::string> unknown_params_;

  // State while compiling one rule.
  std::uint16_t file_ = 0;
  std::vector<binding> scope_;
  std::uint8_t vars_ = 0;
  std::vector<std::pair<std::uint32_t, bool>> reads_;  // (fact, strict)
  std::vector<typ> fact_types_;
  // Where each derived fact is first concluded (file, offset): a misspelt
  // name read elsewhere may be the one concluded there.
  std::map<std::string, std::pair<std::uint16_t, std::uint32_t>> concluded_at_;
  std::vector<std::vector<std::pair<std::uint32_t, bool>>> rule_reads_;

  // Variables in play at once (the `for each` variable and quantifiers
  // placed inside one another): each multiplies a rule's work by the length
  // of its list (up to 200), so three bound the cost of one rule for one
  // client at 200^3 steps, whatever a rule file holds.
  static constexpr int kMaxVars = 3;
  static constexpr std::size_t kMaxChain = 1000;
  // A calculation inside another's operand adds its operators to the
  // depth of the compiled tree, which the passes that follow walk by
  // recursion: at most this many operators from the top of a condition to
  // its deepest value, however they are nested.
  static constexpr std::size_t kMaxCalculationDepth = 2000;
  std::size_t calculation_depth_ = 0;

  void error(std::uint32_t offset, const std::string& code, const std::string& msg,
             std::vector<std::string> notes = {}, severity level = severity::error) {
    auto d = make_diagnostic(p_.sources[file_], offset, level, code, msg);
    d.notes = std::move(notes);
    diags_.push_back(std::move(d));
  }

  std::uint32_t emit(node n) {
    n.file = file_;
    p_.nodes.push_back(n);
    return static_cast<std::uint32_t>(p_.nodes.size() - 1);
  }

  std::string text(std::uint32_t n) const { return std::string(p_.text_of(p_.nodes[n])); }

  // --- expressions -------------------------------------------------------
  cx expression(const ast::expression& e, bool positive);
  cx operand(const ast::operand& o, bool positive);
  cx path(const ast::path& p, bool positive);
  cx binary(ast::optoken op, cx lhs, const ast::operation& rhs);
  cx quantifier(const ast::quantifier& q, bool positive);
  // The list or table_list `list` names, or null after reporting why it
  // cannot be iterated by `who` ("'for each'", "a quantifier").
  const finding_decl* iterable(const ast::path& list, const char* who);
  void want_condition(const cx& c, const char* where);
  // The value of node n when it reads nothing of a client (numbers and
  // parameters, with arithmetic), else nothing; the parameters it reads
  // are added to `params`, and a division by zero sets `by_zero`.
  std::optional<double> constant_number(std::uint32_t n, std::vector<std::uint32_t>& params, bool& by_zero) const;
  void check_comparable(ast::optoken op, const cx& l, const cx& r, std::uint32_t at);
  void check_enum_literal(const typ& t, std::uint32_t lit_node);
  text_template compile_template(const ast::string_literal& s);
  // A text of a rule (title, source, item text, because) holding a control
  // character or one that reorders text on screen is an error: it would
  // reach plans, JSON, FHIR and EHR screens as it is.
  void check_text_characters(const std::string& text, std::uint32_t at);
  void compile_rule(const ast::rule& r, std::uint16_t file);
  void declare_facts();
  void check_items();
};

}  // namespace iptplan::detail

// A compiled rule set: the checked rules lowered to flat expression nodes
// whose findings, derived facts and element fields are slot indices, ordered
// in strata. Built once per rule set; evaluated for many clients without
// looking anything up by name.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/value.hpp"
#include "engine/vocabulary.hpp"
#include "grammar/ast.hpp"
#include "grammar/source.hpp"

namespace iptplan {

enum class opcode : std::uint8_t {
  literal,     // lit
  finding,     // a = finding index in the vocabulary
  param,       // a = parameter index
  fact,        // a = derived fact index
  field,       // var, a = field index of the element bound to var, b = its list
  element,     // var: the value bound to var (a list of plain values)
  op_not,
  op_and, op_or,  // a = first index in program::children, b = how many
  eq, ne, lt, le, gt, ge,
  add, sub, mul, div, neg,
  in_set,      // a = operand; [set_begin, set_end) in program::set_values
  contains,    // a = list, b = value
  is_known, is_missing,  // a = path node
  is_provisional,        // a = fact node: unknown, but concluded provisionally
  any, all, count,       // a = finding index of the list, b = condition, var
};

struct node {
  opcode op = opcode::literal;
  std::uint8_t var = 0;
  bool atom = false;  // a condition reported as evidence
  std::uint32_t a = 0, b = 0;
  std::uint32_t set_begin = 0, set_end = 0;
  value lit;
  std::uint32_t src_begin = 0, src_end = 0;  // source text of the node
  std::uint16_t file = 0;                    // index in program::sources
};

// The fast path's instruction set. Each rule's condition (and support) is
// lowered once, at compile time, into a run of 24-byte instructions in
// preorder, rules laid out one after the other in the order they are
// evaluated: a client's evaluation reads memory front to back instead of
// chasing 64-byte nodes across the heap. Common shapes (a finding compared
// with a constant, a finding in a set, a bare yes/no finding) are one
// instruction. Anything else is `generic`: the node evaluated by the tree
// interpreter, with exactly the same semantics. Explain mode never uses it.
enum class fop : std::uint8_t {
  op_and, op_or,   // b = operand count; operands follow, each `size` long
  op_not,          // operand follows
  test_slot,       // a = finding: its truth
  test_fact,       // a = derived fact: its truth
  constant,        // a literal truth or value: `lit` = node index in a
  cmp_slot_num,    // finding a <cmp> num
  cmp_slot_sym,    // finding a ==/!= symbol b
  in_slot,         // finding a in set_values[b, c)
  cmp,             // two value operands follow
  slot,            // value of finding a
  fact,            // value of derived fact a
  number,          // num
  arith,           // cmp = add|sub|mul|div|neg; one or two operands follow
  generic,         // a = node index, evaluated by the tree interpreter
};

struct instr {
  fop op = fop::generic;
  opcode cmp = opcode::eq;  // the comparison or arithmetic operator
  std::uint32_t size = 1;   // instructions in this subtree, itself included
  std::uint32_t a = 0, b = 0;
  union {
    double num = 0;   // cmp_slot_num, number
    std::uint32_t c;  // in_slot: the end of its set
  };
};
static_assert(sizeof(instr) == 24);

// The fast path's view of a rule, in evaluation order: what running it
// needs (so that the full compiled_rule is not touched), and up to two
// guards. A guard is a leaf of the condition that makes the whole condition
// false when it is false (the condition itself, or an operand of its
// top-level `and`); the two least likely to hold are kept. A rule with a
// false guard is not run at all and has no outcome, as a false rule has
// none on the fast path: a client touches only the rules its findings may
// fire. Only a finding or a derived fact compared with a constant (or a
// yes/no one, negated or not) is a guard; op == fop::constant is none.
// `for each` rules have no guard. Explain mode runs every rule.
struct guarded_rule {
  std::uint32_t rule = 0;
  std::uint32_t code = 0;           // compiled_rule::code
  std::int32_t support_code = -1;   // compiled_rule::support_code
  bool each = false;                // a `for each` rule: run by run_rule
  std::array<bool, 2> negated{};    // `not <guard>`
  std::array<instr, 2> guards;      // test_slot, test_fact, cmp_slot_num, cmp_slot_sym, in_slot
};

// `"Alliance is rated {alliance.strength}"` as literal and value parts.
struct text_template {
  struct part {
    std::string text;        // literal text, when node < 0
    std::int32_t node = -1;  // a path node to render
  };
  std::vector<part> parts;
};

enum class item_kind : std::uint8_t { flag, challenge, solution, goal };
const char* to_string(item_kind k);
// The kind of item an action proposes; none for conclude and exclude.
inline std::optional<item_kind> item_kind_of(ast::action_kind k) {
  switch (k) {
    case ast::action_kind::flag: return item_kind::flag;
    case ast::action_kind::challenge: return item_kind::challenge;
    case ast::action_kind::solution: return item_kind::solution;
    case ast::action_kind::goal: return item_kind::goal;
    default: return std::nullopt;
  }
}

// The latest session a goal may be dated to (`by session`): a course with
// years of maintenance stays well below it.
inline constexpr double kMaxSession = 1000;

struct compiled_action {
  ast::action_kind kind = ast::action_kind::challenge;
  std::string severity;      // flags: info | warning | critical
  std::int8_t severity_rank = 0;  // 3 critical, 2 warning, 1 info, 0 none
  std::string id;            // item id (or the excluded id)
  std::int32_t item = -1;    // `id` interned: index into program::item_ids
  std::string target;        // `for <target>`
  bool target_keyed = false; // the target is raised per element too
  // The target is raised per element by some rule, and this action's rule
  // has no element to pick one: the item is for every instance raised.
  bool target_every = false;
  text_template text;
  std::int32_t fact = -1;        // conclude: derived fact index
  std::int32_t value_node = -1;  // conclude ... = <value>
  std::int32_t due_node = -1;    // goal ... by session <value>
  std::uint32_t src_begin = 0;   // where the action starts in its file
};

struct compiled_rule {
  std::string id, title, source;
  std::uint32_t source_at = 0;  // where `source "..."` starts in its file (0: none)
  std::vector<std::string> tags;
  int priority = 50;
  std::uint16_t file = 0;
  int line = 0;
  std::uint32_t src_begin = 0, src_end = 0;  // the rule's text in its file
  std::int32_t each_list = -1;  // finding index iterated by `for each`
  std::string each_var;
  std::uint32_t condition = 0;  // root node
  std::int32_t support = -1;    // `provisional when`: its root node, or -1
  std::uint32_t code = 0;             // the condition in program::code
  std::int32_t support_code = -1;     // the support in program::code, or -1
  std::string support_text;     // its source text
  std::vector<compiled_action> actions;
  bool has_because = false;
  text_template because;
  std::vector<std::int32_t> facts_read;
  // sha256 of the rule's text, from `rule` to `end`: which rule, exactly,
  // proposed an item, whatever else in its file changed.
  std::string sha256;
};

// A safety rule: priority 100 or the tag `safety`. Its items are never held
// back by a missing answer, and the questions that would decide it are asked
// first.
inline bool is_safety_rule(const compiled_rule& r) {
  return r.priority >= 100 || std::find(r.tags.begin(), r.tags.end(), "safety") != r.tags.end();
}

// A named value a clinical lead sets once in ruleset.toml's [parameters]
// table, read in rules as `param.<name>`: thresholds no publication fixes.
struct parameter {
  std::string name;  // without the `param.` prefix
  value v;           // number, boolean or symbol
  std::string text;  // the text of a text parameter (interned by compile)
  std::string source_line;  // its line of ruleset.toml, for diagnostics
  std::string file;
  int line = 0;
  bool used = false;
  // Declared with it (`name = { value = 3.0, min = 1, max = 7, unit = "..." }`):
  // the range its value must lie in, and what it measures.
  bool declared = false;
  std::optional<double> min, max;
  std::string unit;
  std::string type;  // declared: integer | number | boolean | text; empty when not
};

// A warning about a parameter, at its line of ruleset.toml.
inline diagnostic parameter_warning(const parameter& prm, std::string code, std::string message) {
  diagnostic d;
  d.level = severity::warning;
  d.code = std::move(code);
  d.file = prm.file;
  d.line = prm.line;
  d.column = 1;
  d.message = std::move(message);
  quote_line(d, prm.source_line);
  return d;
}

struct fact_decl {
  std::string path;
  bool valued = false;                  // `conclude x = v` rather than `conclude x`
  std::vector<std::uint32_t> concluders;  // rule indices
};

struct program {
  std::shared_ptr<const vocabulary> vocab;
  // The finding that says which session this is (ruleset.toml's
  // session_finding), or -1: a goal whose `by session` date lies before it
  // is shown as passed.
  std::int32_t session_slot = -1;
  std::vector<source_file> sources;  // the rule files, by index
  // By index: each rule file's name inside its rule set ("safety.rules"),
  // as plans name it whatever folder the rule set was read from.
  std::vector<std::string> source_bases;
  std::vector<node> nodes;
  std::vector<value> set_values;
  std::vector<std::uint32_t> children;  // operands of n-ary and/or
  // By node: for a quantifier that reads no element bound outside it (its
  // value is the same for every element a rule or an outer quantifier
  // iterates), the index of its cached value in one rule's evaluation;
  // -1 for every other node. A rule over a list whose condition counts
  // over a list thus costs n, not n squared.
  std::vector<std::int32_t> cache_slot;
  std::uint32_t cache_slots = 0;
  std::vector<instr> code;  // the fast path's instructions (see fop)
  // Parallel to `strata`: its rules with their guards, in the same order.
  std::vector<std::vector<guarded_rule>> guarded;
  std::vector<compiled_rule> rules;  // sorted by id: never by file order
  std::vector<std::string> item_ids;  // every item id an action names, once
  // Per interned item id: the kind of item the rules propose under it
  // (an item_kind), or -1 when no rule proposes it (an exclude only).
  std::vector<std::int8_t> item_kinds;
  // Per interned item id: its rank in alphabetical order, so that sorting a
  // plan's items by id compares numbers.
  std::vector<std::int32_t> item_order;
  std::vector<fact_decl> facts;      // sorted by path
  std::vector<parameter> params;     // sorted by name
  // Rule indices per stratum, in evaluation order: the rules of one level
  // of the dependency order that do not depend on each other share a
  // stratum; a recursive group has one of its own, iterated to a fixpoint.
  std::vector<std::vector<std::uint32_t>> strata;
  std::vector<bool> recursive;
  // Per stratum: the facts its rules conclude, each with whether this is the
  // last stratum that concludes it (so its value is final after it).
  std::vector<std::vector<std::pair<std::uint32_t, bool>>> stratum_facts;
  symbol_table symbols;

  std::string_view text_of(const node& n) const {
    return sources[n.file].slice(n.src_begin, n.src_end);
  }
  // The source text of a condition without its comments (a `#` outside a
  // quoted text, to the end of its line), for explanations: the lines keep
  // their layout, and a line left empty by a comment is dropped.
  std::string condition_text(const node& n) const { return without_comments(text_of(n)); }
  static std::string without_comments(std::string_view raw);
  const std::string& file_of(const compiled_rule& r) const { return sources[r.file].name(); }
  const std::string& base_of(const compiled_rule& r) const {
    return r.file < source_bases.size() ? source_bases[r.file] : sources[r.file].name();
  }
  int fact_index(const std::string& path) const;
  int param_index(const std::string& name) const;
  // Indices of rules with an action proposing `id` (not merely excluding it).
  std::vector<std::uint32_t> rules_proposing(const std::string& id) const;
  // Indices of rules with an `exclude id`.
  std::vector<std::uint32_t> rules_excluding(const std::string& id) const;
};

}  // namespace iptplan

// The evaluator: stratified forward chaining over a client's findings and
// the facts rules derive, with Kleene's three-valued logic for whatever is
// missing. Rules run stratum by stratum; a recursive stratum is iterated to
// its least fixpoint. The result never depends on the order of rules.
//
// In explain mode every rule's outcome is kept with its evidence (each
// top-level condition, its result and the values it saw) and, when unknown,
// the findings that would decide it. Without it only what the plan needs is
// kept, and no text is built: that is the fast path.
#pragma once

#include <string>
#include <vector>

#include "engine/findings.hpp"
#include "engine/program.hpp"

namespace iptplan {

enum class truth : std::uint8_t { no, yes, unknown };
const char* to_string(truth t);

// The most findings an undecided result lists as what would decide it.
constexpr std::size_t kMaxMissing = 40;
// The most conditions one rule outcome keeps as evidence (explain mode): a
// rule of 100,000 conditions over 200 people would otherwise keep 20
// million. The default rules have at most 30; past the cap the conditions
// are still evaluated, only counted (outcome::more_evidence).
constexpr std::size_t kMaxEvidence = 100;
// The longest text a template renders to, in bytes: a value of a megabyte
// inserted 2,000 times would otherwise make one item 2 GB. The default
// rules' longest text is under 1,000. Past it the text is cut, and says so.
constexpr std::size_t kMaxRenderedText = 8000;

struct condition_evidence {
  std::uint32_t node = 0;  // the condition's node (its source text)
  truth result = truth::unknown;
  std::vector<std::pair<std::string, std::string>> values;  // path, value seen
  std::vector<std::int32_t> facts;                          // derived facts read
  // Where it sits in the condition: 0 for a part of the rule's top-level
  // and/or, one more inside each nested group of the other connective. A
  // group (an `or` inside an `and`, or an `and` inside an `or`) is an entry
  // of its own, before its parts, with `group` set and no values.
  std::uint16_t depth = 0;
  enum class grouping : std::uint8_t { none, any, all } group = grouping::none;
};

struct outcome {
  std::uint32_t rule = 0;
  std::int32_t element = -1;  // index in the iterated list, or -1
  truth result = truth::unknown;
  // Unknown, but the rule's `provisional when` support holds: its items are
  // proposed provisionally and its conclusions are provisional values.
  bool provisional = false;
  std::vector<condition_evidence> evidence;    // explain mode, at most kMaxEvidence
  std::uint32_t more_evidence = 0;             // conditions evaluated past the cap
  // Explain mode, when unknown: the findings that would decide it, sorted,
  // at most kMaxMissing (the first ones), and whether there are more.
  std::vector<std::string> missing;
  bool more_missing = false;
};

struct evaluation {
  std::vector<outcome> outcomes;  // fired and undecided ones (all in explain mode)
  std::vector<value> facts;       // by fact index
  // By fact index: the value concluded provisionally while the fact itself
  // is unknown (unknown when there is none). Never read by conditions;
  // only by `provisional when` supports and `is provisional`.
  std::vector<value> provisional;
  std::vector<std::vector<std::string>> fact_missing;  // explain mode, as above
  std::vector<bool> more_fact_missing;
  std::vector<diagnostic> conflicts;                   // plan.conflict
};

evaluation evaluate(const program& p, const client_data& c, bool explain);

// Renders a value for people: 12, 2.5, weak, true, missing.
std::string show_value(const program& p, const client_data& c, const value& v);

// The skip logic of the vocabulary (`asked_if`) for finding `f`: open when it
// has no gate or its gate is answered with a value that asks it; closed
// when its gate is answered otherwise (the question is skipped); pending
// while the gate is not answered.
enum class gate_state { open, closed, pending };
gate_state gate_of(const program& p, const client_data& c, std::size_t f);
// For a finding the skip logic gives its value (client_data::implied):
// " (not asked: client.age_band is 65_89)", said after the value.
std::string implied_note(const program& p, const client_data& c, std::size_t f);

// "relationships[son].dispute_stage", whose field is asked after another
// field of the same entry (vocabulary `asked_after`) that is missing too:
// that one ("relationships[son].conflict"), asked first; "" for a field not
// asked while another of its entry is recorded (vocabulary `asked_unless`).
// Any other finding as it is.
std::string asked_first(const program& p, const client_data& c, const std::string& m);

// The findings among `missing` as the skip logic asks them: a question
// behind a gate not yet answered is replaced by its gate, one whose gate is
// closed is left out. Entries that are not findings (a conflict between
// rules) are kept when `keep_other`. Sorted, without repeats.
std::vector<std::string> as_asked(const program& p, const client_data& c, const std::vector<std::string>& missing,
                                  bool keep_other);

// The key of element `e` of the list finding `list`: its key field
// ("mother"), its value for a list of plain values, or its 1-based position.
std::string element_key(const program& p, const client_data& c, std::int32_t list, std::int32_t e);

// "relationships[mother]" for element `e` of the list finding `list`.
std::string element_label(const program& p, const client_data& c, std::int32_t list,
                          std::int32_t e);

// Renders a text template for a rule outcome (with its element bound).
std::string render_template(const program& p, const client_data& c, const evaluation& ev,
                            const compiled_rule& r, std::int32_t element,
                            const text_template& t);

// The value of node `n` for a rule outcome (with its element bound): a
// goal's `by session` date. Unknown when a value it reads is.
value evaluate_node(const program& p, const client_data& c, const evaluation& ev,
                    const compiled_rule& r, std::int32_t element, std::uint32_t n);

}  // namespace iptplan

// A draft treatment plan and the explanation of every item in it.
//
// A plan holds flags (risk first), challenges, solutions and goals (each for
// a challenge or for the plan as a whole), the derived conclusions, the items
// an `exclude` removed, the rules left undecided with the findings that would
// decide them, and provenance: which rule set (name, version, SHA-256 over its
// files) and which findings file (SHA-256) produced it, with which program.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/evaluator.hpp"
#include "engine/ruleset.hpp"

namespace iptplan {

struct rule_ref {
  // `file` is the rule file's name inside its rule set (safety.rules);
  // `sha256` the hash of the rule's text.
  std::string id, title, file, source, sha256;
  int line = 0;
  int priority = 50;
  std::vector<std::string> tags;
};

struct evidence_view {
  std::string condition;  // source text of the condition
  std::string result;     // true | false | unknown
  std::vector<std::pair<std::string, std::string>> values;  // path, value seen
  // Nesting: 0 for a part of the rule's top-level and/or; a nested group
  // of the other connective is an entry of its own ("any" for an `or`,
  // "all" for an `and`), followed by its parts at depth + 1.
  int depth = 0;
  std::string group;
};

struct fact_explanation;

// Why a rule proposed (or excluded) an item: the rule, the element it fired
// for, its rendered `because`, the conditions that held with the values they
// saw, and the explanations of the derived facts it read.
struct reason {
  rule_ref rule;
  std::string element;  // "relationships[mother]", or empty
  std::string key;      // "mother": the key its items get, or empty
  // A provisional proposal: the condition is unknown, the rule's
  // `provisional when` support (its text here) holds, and these findings
  // would confirm or rule it out.
  bool provisional = false;
  // Neither fired nor provisional: the rule is still undecided (a rule that
  // would remove an item, in plan_item::removable_by).
  bool undecided = false;
  std::string support;
  std::vector<std::string> to_confirm;
  std::string because;
  // For a rule that would remove an item (plan_item::removable_by): the
  // items of the same kind it proposes instead (a higher tier's flag for a
  // lower one's), which a plan names: "would replace it with X".
  std::vector<std::string> replaced_with;
  std::vector<evidence_view> evidence;
  std::uint32_t more_evidence = 0;  // conditions evaluated but not kept (kMaxEvidence)
  // Shared: a fact read by many rules is explained once, however many
  // items rest on it (a plan's size follows the client's, never its square).
  std::vector<std::shared_ptr<const fact_explanation>> derived;
};

struct fact_explanation {
  std::string fact;
  std::string value;
  bool provisional = false;  // value concluded provisionally; the fact is unknown
  bool undecided = false;    // neither a value nor a provisional value
  bool holds = false;        // a value (confirmed or provisional): not false, not none
  std::vector<reason> reasons;        // the rules that concluded it
  std::vector<std::string> missing;   // when unknown (at most kMaxMissing)
  bool more_missing = false;          // ... and others beyond those
  bool repeated = false;              // already explained higher in the tree
  // Reached past kMaxExplainDepth derived facts down a chain: its own
  // reasons are not given here (`iptplan why FACT` gives them), so that
  // no explanation's depth, or the stack, follows the rule set's size.
  bool cut = false;
};
inline constexpr std::size_t kMaxExplainDepth = 64;

struct plan_item {
  item_kind kind = item_kind::challenge;
  std::string id, key, text, severity;
  int priority = 0;
  std::vector<std::string> for_;  // challenges (full ids) a solution or goal is for
  std::vector<reason> because;
  // Proposed only provisionally (see reason::provisional): shown apart, to
  // confirm, never as part of the confirmed plan.
  bool provisional = false;
  std::vector<std::string> to_confirm;  // findings that would confirm or rule it out
  // Rules not yet decided that would remove it with `exclude` if they
  // fired: what keeps an item proposed outright provisional.
  std::vector<reason> removable_by;  // at most kMaxReasonsKept
  std::size_t more_removable_by = 0;  // undecided excluders past the cap
  // A goal's `by session` date, when its rule gives one and the values it
  // reads are known; passed when the plan's current session is later.
  std::optional<int> due_session;
  bool due_passed = false;

  std::string full_id() const { return key.empty() ? id : id + "[" + key + "]"; }
  // Whether `wanted` names this item: its full id (`role_dispute[mother]`),
  // or, without a key, its id (`role_dispute` names every key).
  bool named_by(const std::string& wanted) const {
    return full_id() == wanted || (wanted.find('[') == std::string::npos && id == wanted);
  }
};

// The most rule outcomes an item keeps as removing it (excluded_by) or as
// able to (removable_by): an `exclude` in a rule over 200 life events,
// removing items proposed for 200 people, would otherwise keep 200 reasons
// for each of thousands of items. The others are counted.
constexpr std::size_t kMaxReasonsKept = 10;

struct excluded_item {
  plan_item item;
  std::vector<reason> excluded_by;  // at most kMaxReasonsKept
  std::size_t more_excluded_by = 0;
  std::string note;  // e.g. "its challenge weak_relationship was excluded"
};

struct undecided_rule {
  rule_ref rule;
  std::string element;  // "relationships[mother]", or empty
  std::string key;      // "mother", or empty
  std::vector<std::string> missing;  // at most kMaxMissing, sorted
  bool more_missing = false;         // ... and others beyond those
};

// A missing finding worth asking next, ranked by how much of the plan its
// answer could decide.
struct assess_item {
  std::string finding;  // e.g. "phq9.total" or "relationships[mother].conflict"
  std::string question;
  std::string component;
  std::vector<std::string> rules;  // rules it would decide
  // Plan items (and facts) those rules would propose, remove or conclude:
  // safety first, then by the priority of the strongest rule behind each,
  // then by name.
  std::vector<std::string> items;
  // Parallel to `items`: what each is, so a plan can say them in words.
  enum class decided_as : std::uint8_t { flag, challenge, solution, goal, fact, removed_only };
  std::vector<decided_as> item_kinds;
  // Parallel to `items`: the answer could only remove it (every rule behind
  // it that waits on this answer excludes it): a plan says "whether to set
  // it aside", never as if the answer would propose it.
  std::vector<bool> item_removed;
  double score = 0;
  int top_priority = 0;            // the highest priority of the rules it would decide
  bool safety = false;             // it would decide a safety rule
  bool scope = false;              // it would decide a rule tagged `scope` (whether IPT fits)
  // A follow-up the skip logic has just opened (its `asked_if` gate, a
  // question of the same group, is answered with a value that leads to
  // it): asked before the other
  // questions of its group, safety or not, as an interview follows up a
  // positive answer at once.
  bool follow_up = false;
  // A question of a screen with skip logic that the client has started
  // (risk.cssrs): asked to complete it, although no rule of this plan
  // waits on the answer any more (Q5 and Q6 once Q4 already gives the
  // high tier). `items` is then empty.
  std::string completes;
  // The vocabulary's `until_answered`: what the rules take meanwhile.
  std::string until_answered;
  // The vocabulary says the clinician records it (`asked_of =
  // "clinician"`): listed apart from the client's questions.
  bool clinician = false;
};

struct provenance {
  std::string rule_set_name, rule_set_version, rule_set_status, rule_set_review_date;
  std::string approved_by, approved_on;  // when the rule set is approved as it is
  // No file names: a plan reads the same whatever folder it was made in,
  // and a findings file is often named after the client.
  std::string rule_set_sha256;
  std::string findings_sha256;
  std::string client_id;
  std::string program_version;
};

struct plan {
  provenance prov;
  std::vector<plan_item> flags, challenges, solutions, goals;  // confirmed
  std::vector<plan_item> provisional;  // to confirm: flags first, then by priority
  std::vector<fact_explanation> conclusions;
  std::vector<excluded_item> excluded;
  std::vector<undecided_rule> undecided;
  std::vector<assess_item> to_assess;  // ask next: highest score first
  std::vector<diagnostic> diagnostics;
  // The derived facts the rule set's `summary` names, shown first, each
  // with its value in words: the value (with " (provisional)"), "no" or
  // "none" when decided without one, "not yet known".
  std::vector<std::pair<std::string, std::string>> summary_facts;
  // Which session this is (the rule set's session_finding), when recorded.
  std::optional<int> current_session;

  // Every flag, challenge, solution or goal that `wanted` names.
  std::vector<const plan_item*> find_all(const std::string& wanted) const;
  // The one item `wanted` names, or null when none or several do.
  const plan_item* find(const std::string& wanted) const;
};

// How many of the findings' warnings a plan carries; past them, one more
// says how many were left out.
inline constexpr std::size_t kMaxPlanDiagnostics = 50;
// The most items one plan holds (confirmed, to confirm and excluded): no
// clinician reads more, and a rule set could otherwise make millions (64
// rules of 100 actions over 200 people). Past it the plan is an error of
// the rule set (plan.too-large), and none is shown.
inline constexpr std::size_t kMaxPlanItems = 20'000;
// The error for a client the rules propose `items` items for, past
// kMaxPlanItems: `plan` and `batch` say it alike.
diagnostic plan_too_large(std::size_t items);

// Adds the findings' warnings to a plan, sorted: named "findings", never by
// the file's name (often the client's), so a plan reads the same whatever
// the file is called; at most kMaxPlanDiagnostics, then a count of the rest
// (code plan.more-warnings).
void add_findings_diagnostics(plan& p, std::vector<diagnostic> ds);

// Builds the plan from an explain-mode evaluation.
plan build_plan(const rule_set& rs, const client_data& c, const evaluation& ev,
                const std::string& findings_sha256);

// Explanation of one rule outcome (used by why and why-not).
reason explain_outcome(const rule_set& rs, const client_data& c, const evaluation& ev,
                       const outcome& o);

// Explanation of the derived fact `path` (risk.level): its value, the rules
// that concluded it, or what would decide it. Nothing when there is no such
// fact.
std::optional<fact_explanation> explain_fact(const rule_set& rs, const client_data& c, const evaluation& ev,
                                             const std::string& path);

const char* program_version();

}  // namespace iptplan

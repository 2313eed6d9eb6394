// Renderers of a plan: `text` for the terminal, `markdown` for a clinician's
// notes (headed as a draft for clinical review), `json` for programs (every
// field, full explanation trees; its shape is documented in docs/json.md).
#pragma once

#include <optional>
#include <string>

#include "engine/plan.hpp"

namespace iptplan {

// A goal or solution for the plan as a whole, from a rule of the highest
// priority (risk): shown right after the flags, before the challenges.
inline bool is_first_step(const plan_item& it) { return it.for_.empty() && it.priority >= 100; }

// A plan-wide item of the schedule: every rule behind it is tagged
// `schedule` (the contract, reviews, re-measurement, the ending). Text and
// markdown list these in one compact section, one line each.
bool is_schedule(const plan_item& it);

// The schedule items of the plan (plan-wide goals and solutions, not first
// steps), in plan order.
std::vector<const plan_item*> schedule_items(const plan& p);

// Plan-wide goals and solutions (neither for a challenge, first steps nor
// schedule),
// grouped by the reasons behind them, so that items proposed by the same
// rules are listed together and their reason is written once. Groups come
// in the order of their first item.
std::vector<std::vector<const plan_item*>> plan_wide_groups(const plan& p);

// How many of the ranked "ask next" findings text and markdown show (JSON
// carries them all).
inline constexpr std::size_t kAskNextShown = 10;
// The findings a "work plan also waits on" line names before "N more".
inline constexpr std::size_t kWaitsOnShown = 5;
// How many of the clinician's own findings to record the plans show.
inline constexpr std::size_t kRecordNextShown = 5;

// How many of p.to_assess are questions for the client (they come first;
// the rest are recorded by the clinician: `asked_of = "clinician"`).
std::size_t client_questions(const plan& p);
// "the 5 ratings and arrangements the clinician records that would decide
// most of the plan" (one, all, or the first kRecordNextShown of more).
std::string record_next_summary(std::size_t total);
// What the ask-next list holds, for its heading: "the 2 missing findings
// whose answers would decide part of the plan, safety first" (one, all, or
// the first kAskNextShown of more).
std::string ask_next_summary(std::size_t total);

// The plan on one screen, for the top of a text or markdown plan: each line
// a label and what follows it (flags by severity and the first of them;
// each fact of the rule set's `summary` with its value; how many items the
// plan and its to-confirm section hold; the first questions to ask).
std::vector<std::pair<std::string, std::string>> summary_lines(const plan& p);
// What an answer decides, in words and grouped by kind (flags,
// challenges, goals, solutions, conclusions), most important first in
// each: "the flags moderate suicide risk, severe suicide risk and low
// suicide risk; the goal safety plan; the conclusions risk.acute and
// risk.level". A group of five or more names three and counts the rest;
// three or more solutions (or goals) are only counted ("24 solutions"):
// they follow the challenges named before them. What the answer could
// only remove comes last: "whether to set aside the goal partner assisted
// format and 3 solutions". Markdown escapes the names.
std::string decides_in_words(const assess_item& a, bool markdown = false);

// An item's text as plans show it: a goal whose `by session` date has
// passed says so, "(session 3 has passed)"; what to do about it is said
// once for the plan, by passed_dates_note() ("" when no date has passed).
std::string shown_text(const plan_item& it);
std::string passed_dates_note(const plan& p);

// A text from a rule or vocabulary file, which may hold line breaks (`\n`
// in a quoted text), with every line after the first indented by `column`
// spaces: a line break stays inside its item and can never start a line
// that reads as a new item, flag or heading of the plan.
std::string hang(const std::string& s, std::size_t column);

// Whether the plan has a critical flag (severe suicide risk, say): its
// challenges and work are then introduced by critical_first_note(), since
// the flag comes before any of them.
std::size_t critical_first(const plan& p);  // how many critical flags
std::string critical_first_note(std::size_t flags);

// The findings in `fs`, each followed by " (ask next N)" when it is among
// the questions the text and markdown plans show under ASK NEXT, so that a
// finding to confirm leads to its question. `code` wraps each in backticks.
std::vector<std::string> with_ask_next_numbers(const plan& p, const std::vector<std::string>& fs, bool code = false);
// The same, shortened for a line that is not the item's own to-confirm
// list (what a work plan also waits on): the findings ranked under ask or
// record next first, in their rank, then the others, `keep` in all, and
// "N more" for the rest (the JSON plan lists them all).
std::vector<std::string> ranked_few(const plan& p, const std::vector<std::string>& fs, std::size_t keep,
                                    bool code = false);
// "ask", "record" (every one of `fs` is recorded by the clinician: the
// setting, the number of sessions) or "ask or record": the verb of "to
// confirm, ...".
std::string confirm_verb(const plan& p, const std::vector<std::string>& fs);

// For an item that rules not yet decided would remove: "rule
// short_format_targets (measurement.rules:165) would remove it and is not yet
// decided"; empty for any other item. `code` wraps rule ids in backticks
// (markdown).
std::string removable_note(const plan_item& it, bool code = false);

// The rules (and elements) behind an item, as one key: items with the same
// key share their reason, which renderers write once.
std::string reason_key(const plan_item& it);

// For each of `challenges`, the items of `items` (in their order) listed
// under it: every solution or goal `for` it, or with `first_only` only those
// whose first such challenge (in the order of `challenges`) it is. One pass:
// plans with hundreds of challenges cost no more than their size.
std::vector<std::vector<const plan_item*>> listed_under(const std::vector<const plan_item*>& challenges,
                                                        const std::vector<const plan_item*>& items,
                                                        bool first_only);

// listed_under for the plan's (confirmed) challenges, its solutions, then its
// goals.
std::vector<std::vector<const plan_item*>> work_by_challenge(const plan& p);

// The "to confirm" section: provisional items not listed under a
// provisional challenge, and for each of them (challenges) the provisional
// solutions and goals listed under it (the first provisional challenge each
// is for).
// Provisional solutions and goals for a confirmed challenge (the work
// waits on, say, the phase of therapy) are grouped under that challenge's
// name instead, in `for_confirmed`.
struct provisional_layout {
  std::vector<const plan_item*> top;
  std::vector<std::vector<const plan_item*>> work;  // parallel to `top`
  std::vector<std::pair<const plan_item*, std::vector<const plan_item*>>> for_confirmed;
};
provisional_layout lay_out_provisional(const plan& p);

// For the provisional work listed under a provisional challenge: the
// findings each item waits on beyond the challenge's own `to_confirm`, and
// whether that list is the same for every item (then renderers say it once).
struct work_extras {
  std::vector<std::vector<std::string>> per_item;
  bool shared = false;
  // After factor_common(): what every item waits on (said once), the rest
  // left in per_item.
  std::vector<std::string> common;
};
work_extras work_plan_extras(const plan_item& challenge, const std::vector<const plan_item*>& work);
// When not every item waits on the same findings but all wait on some in
// common (the choice of focus), moves those into `common`.
void factor_common(work_extras& x);

// "approved by NAME on DATE", "draft" or "retired".
std::string status_words(const provenance& pv);

std::string render_text(const plan& p);
// A text shown as written in markdown: the characters markdown would read
// as formatting are escaped.
std::string markdown_escape(const std::string& s);
std::string render_markdown(const plan& p);
std::string render_json(const plan& p);

// The derivation tree of one reason, indented, down to findings.
// `blocking_only` (why-not, for a rule that did not fire): a derived fact
// is explained in full only where a condition that held it back reads it;
// one that only fed conditions that held is named in a line, with its value.
void append_reason_tree(std::string& out, const reason& r, int indent, bool blocking_only = false);

// `why`: how an item of the plan got there, down to the findings.
std::string render_why(const plan_item& it);

// `why-not`: for an item not in the plan, every rule that could propose it
// and what stopped it (a false condition with the values seen, the missing
// findings, or the exclusion that removed it).
// For a derived fact (`why-not risk.level`), every rule that could conclude
// it and what stopped it.
std::string render_why_not(const rule_set& rs, const client_data& c, const evaluation& ev,
                           const plan& p, const std::string& item);

// A `why` or `why-not` question that names nothing the rules could answer
// about: an item id (or fact) no rule proposes, or a key that names no
// entry of the lists the item's rules go through (role_dispute[daugther]).
// `message` never repeats a text that does not look like a name the
// program uses; `suggestion` is the id likely meant, or "".
struct unknown_query {
  std::string message;
  std::string suggestion;
};
// The name alone (before a plan is made).
std::optional<unknown_query> unknown_item(const rule_set& rs, const std::string& item);
// The key, against the client's entries.
std::optional<unknown_query> unknown_key(const rule_set& rs, const client_data& c, const std::string& item);

// The derivation tree of a derived fact, indented.
void append_fact_tree(std::string& out, const fact_explanation& f, int indent);

// `why` for a derived fact (`why risk.level`): its value and the rules that
// concluded it, or what would decide it.
std::string render_why_fact(const fact_explanation& f);
// Whether the fact has a value (confirmed or provisional) for this client.
bool fact_holds(const fact_explanation& f);

// `why` for a finding of the inventory (`why perinatal.status`,
// `why relationships[mother].conflict`): what is on file, its question,
// and what the plan waits on it for; as JSON with `json`.
bool is_finding_query(const program& p, const std::string& query);
std::string render_why_finding(const program& p, const client_data& c, const plan& pl, const std::string& query,
                               bool json);

// The same answers as data (docs/json.md, "why and why-not").
std::string render_why_json(const std::string& query, const std::vector<const plan_item*>& items);
std::string render_why_fact_json(const std::string& query, const fact_explanation& f);
std::string render_why_not_json(const rule_set& rs, const client_data& c, const evaluation& ev, const plan& p,
                                const std::string& item);

}  // namespace iptplan

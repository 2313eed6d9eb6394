// Recording a plan and a clinician's decisions on it: what `plan --record`,
// `review` and the clinic service (server/) all write, built in one place.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/plan.hpp"
#include "engine/ruleset.hpp"
#include "store/records.hpp"
#include "store/store.hpp"

namespace iptplan::store {

// What is wrong with a name for a record's author ("" when nothing): it
// must not be blank, must be valid UTF-8 of at most 200 bytes, and may hold
// no control character (C0, DEL, C1) and no character that reorders text on
// a screen (bidirectional controls, line and paragraph separators).
std::string author_problem(const std::string& name);
// The same for a clinician's free text (a reason, an edited item text): up
// to `max` bytes; tabs and newlines allowed. The problem reads after the
// text's name: "is longer than 2000 bytes", "holds a control character".
std::string text_problem(const std::string& text, std::size_t max);

// Appends a plan record (and the rule set's snapshot, once per hash).
// `findings`: the bytes the plan was made from. Throws store_error.
record record_plan(plan_store& s, const std::string& by, const rule_set& rs,
                   const std::vector<rule_set_file>& files, const plan& p, const std::string& findings);

struct review_request {
  std::vector<std::string> accept, reject;
  std::vector<std::pair<std::string, std::string>> edit;  // item, new text
  std::string reason;
};

// What is wrong with a request before any plan is read ("" when nothing):
// no decision, a rejection without a reason, an item decided twice, an
// edit without text.
std::string review_request_problem(const review_request& req);

// The decisions of `req` on the items of the plan record `plan_record`;
// false (with one error for each item not in that plan, naming the nearest
// ones) otherwise.
bool make_review(const record& plan_record, const review_request& req, review_facts& out,
                 std::vector<std::string>& errors);

}  // namespace iptplan::store

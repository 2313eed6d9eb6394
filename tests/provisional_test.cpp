// Tests of provisional proposals ('provisional when', 'is provisional'),
// their place in the plan, in JSON, in why / why-not and in test cases, and
// of the ranked "ask next" with the vocabulary's skip logic.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/evaluator.hpp"
#include "engine/findings.hpp"
#include "engine/plan.hpp"
#include "engine/render/render.hpp"
#include "engine/ruleset.hpp"
#include "engine/testing.hpp"
#include "grammar/diagnostic.hpp"
#include "fast_agrees.hpp"
#include "support.hpp"

using namespace iptplan;
using namespace iptplan::test_support;

namespace {

const char* const VOCAB = R"(
[a]
type = "bool"
question = "Is A the case?"

[b]
type = "bool"
question = "Is B the case?"

[c]
type = "bool"
question = "Is C the case?"

[gate]
type = "bool"
question = "The gate question"

[behind]
type = "bool"
asked_if = "gate"
question = "Asked only after a yes to the gate"

[kind]
type = "enum"
values = ["x", "y", "z"]

[only_y]
type = "bool"
asked_if = "kind"
asked_if_values = ["y"]

[mode]
type = "enum"
values = ["off", "on"]
asked_if = "kind"
asked_if_values = ["y"]
skipped_value = "off"

[total]
type = "int"
min = 0
max = 27

[part]
type = "int"
min = 0
max = 3
at_most = "total"

[planned]
type = "int"
min = 1
max = 20

[number]
type = "int"
min = 1
max = 60
at_most = "planned"
at_most_unless = "kind"
at_most_unless_values = ["z"]

[people]
type = "table_list"
key = "label"

[people.fields.label]
type = "string"

[people.fields.conflict]
type = "bool"

[people.fields.mismatch]
type = "bool"
)";

struct result {
  std::optional<rule_set> rs;
  std::optional<client_data> client;
  evaluation ev;
  plan pl;
  std::vector<diagnostic> diags;
};

result run(const std::string& rules, const std::string& findings) {
  result r;
  r.rs = load_rule_set(in_memory_rule_set(VOCAB, {{"a.rules", rules}}), "test", r.diags);
  INFO(all_diags(r.diags));
  REQUIRE(r.rs.has_value());
  REQUIRE_FALSE(has_errors(r.diags));
  r.client = read_findings(*r.rs->prog, "f.toml", findings, {}, r.diags);
  INFO(all_diags(r.diags));
  REQUIRE(r.client.has_value());
  r.ev = evaluate(*r.rs->prog, *r.client, true);
  check_fast_agrees(*r.rs->prog, *r.client, r.ev);
  r.pl = build_plan(*r.rs, *r.client, r.ev, "sha");
  return r;
}

std::vector<std::string> ids(const std::vector<plan_item>& items) {
  std::vector<std::string> out;
  for (const auto& it : items) out.push_back(it.full_id());
  std::sort(out.begin(), out.end());
  return out;
}

const fact_explanation* conclusion(const plan& p, const std::string& fact) {
  for (const auto& c : p.conclusions) {
    if (c.fact == fact) return &c;
  }
  return nullptr;
}

const char* const DISPUTE = R"(
rule dispute "Dispute"
for each p in people
when
  p.conflict == true and p.mismatch == true
provisional when
  p.conflict == true or p.mismatch == true
then
  conclude area.dispute
  challenge dispute "Dispute with {p.label}"
  solution talk for dispute "Talk with {p.label}"
because "Conflict {p.conflict}, mismatch {p.mismatch}"
end

rule reader "Reads the dispute"
when
  area.dispute
then
  flag warning dispute_read "A rule read the dispute as true"
end

rule prov_reader "Tests provisionality"
when
  area.dispute is provisional
then
  flag info dispute_provisional "The dispute is only provisional"
end
)";

}  // namespace

// ---------------------------------------------------------------------------
// The outcome of a rule with a support, over every input

TEST_CASE("provisional: confirmed, provisional, absent or undecided, over all nine inputs") {
  struct row {
    const char* conflict;  // "" = missing
    const char* mismatch;
    const char* want;      // confirmed | provisional | none | undecided
  };
  auto r = GENERATE(values<row>({
      {"true", "true", "confirmed"},
      {"true", "false", "none"},
      {"true", "", "provisional"},
      {"false", "true", "none"},
      {"false", "false", "none"},
      {"false", "", "none"},
      {"", "true", "provisional"},
      {"", "false", "none"},
      {"", "", "undecided"},
  }));
  std::string f = "[[people]]\nlabel = \"mother\"\n";
  if (*r.conflict) f += std::string("conflict = ") + r.conflict + "\n";
  if (*r.mismatch) f += std::string("mismatch = ") + r.mismatch + "\n";
  INFO(f);
  auto x = run(DISPUTE, f);
  std::string want = r.want;
  bool in_plan = !x.pl.challenges.empty();
  bool in_prov = std::any_of(x.pl.provisional.begin(), x.pl.provisional.end(),
                             [](const plan_item& it) { return it.full_id() == "dispute[mother]"; });
  CHECK(in_plan == (want == "confirmed"));
  CHECK(in_prov == (want == "provisional"));
  const auto* c = conclusion(x.pl, "area.dispute");
  CHECK((c != nullptr) == (want == "confirmed" || want == "provisional"));
  if (c) CHECK(c->provisional == (want == "provisional"));
  // A provisional fact is unknown to every condition: never read as true.
  CHECK((x.pl.find("dispute_read") != nullptr) == (want == "confirmed"));
  CHECK((x.pl.find("dispute_provisional") != nullptr) == (want == "provisional"));
  bool undecided = std::any_of(x.pl.undecided.begin(), x.pl.undecided.end(),
                               [](const undecided_rule& u) { return u.rule.id == "dispute"; });
  CHECK(undecided == (want == "provisional" || want == "undecided"));
}

TEST_CASE("provisional: the fast path agrees with explain mode") {
  auto x = run(DISPUTE, "[[people]]\nlabel = \"mother\"\nconflict = true\n");
  auto fast = evaluate(*x.rs->prog, *x.client, false);
  int f = x.rs->prog->fact_index("area.dispute");
  REQUIRE(f >= 0);
  CHECK(fast.facts[static_cast<std::size_t>(f)].is_unknown());
  CHECK(fast.provisional[static_cast<std::size_t>(f)].is_true());
  CHECK(x.ev.provisional[static_cast<std::size_t>(f)].is_true());
  bool prov_outcome = std::any_of(fast.outcomes.begin(), fast.outcomes.end(),
                                  [](const outcome& o) { return o.provisional; });
  CHECK(prov_outcome);
}

TEST_CASE("provisional: an item lists the findings that would confirm it or rule it out") {
  auto x = run(DISPUTE, "[[people]]\nlabel = \"mother\"\nconflict = true\n");
  REQUIRE(x.pl.provisional.size() == 2);
  const plan_item* ch = x.pl.find("dispute[mother]");
  REQUIRE(ch != nullptr);
  CHECK(ch->provisional);
  CHECK(ch->to_confirm == std::vector<std::string>{"people[mother].mismatch"});
  REQUIRE(ch->because.size() == 1);
  CHECK(ch->because[0].provisional);
  CHECK(ch->because[0].support == "p.conflict == true or p.mismatch == true");
  CHECK(ch->because[0].because == "Conflict yes, mismatch not yet known");
  // Its solution is provisional with it.
  const plan_item* s = x.pl.find("talk[mother]");
  REQUIRE(s != nullptr);
  CHECK(s->provisional);
  CHECK(s->for_ == std::vector<std::string>{"dispute[mother]"});
}

TEST_CASE("provisional: the item is confirmed, or gone, once the finding arrives") {
  auto yes = run(DISPUTE, "[[people]]\nlabel = \"mother\"\nconflict = true\nmismatch = true\n");
  CHECK(ids(yes.pl.challenges) == std::vector<std::string>{"dispute[mother]"});
  CHECK(yes.pl.provisional.empty());
  CHECK_FALSE(yes.pl.find("dispute[mother]")->provisional);
  auto no = run(DISPUTE, "[[people]]\nlabel = \"mother\"\nconflict = true\nmismatch = false\n");
  CHECK(no.pl.challenges.empty());
  CHECK(no.pl.provisional.empty());
  CHECK(conclusion(no.pl, "area.dispute") == nullptr);
}

TEST_CASE("provisional: a confirmed proposal wins, and keeps only its confirmed reasons") {
  auto x = run(std::string(DISPUTE) + R"(
rule also "Also proposes the dispute for everyone in conflict"
for each p in people
when
  p.conflict == true and b == true
then
  challenge dispute "Dispute, also"
end
)",
               "b = true\n[[people]]\nlabel = \"mother\"\nconflict = true\n");
  const plan_item* ch = x.pl.find("dispute[mother]");
  REQUIRE(ch != nullptr);
  CHECK_FALSE(ch->provisional);
  REQUIRE(ch->because.size() == 1);
  CHECK(ch->because[0].rule.id == "also");
  CHECK(ch->text == "Dispute, also");
  // Its solution came only from the provisional rule, for a challenge that
  // is now confirmed: the solution stays, confirmed.
  const plan_item* s = x.pl.find("talk[mother]");
  REQUIRE(s != nullptr);
  CHECK(s->provisional);  // proposed only provisionally itself
}

TEST_CASE("provisional: a confirmed flag's severity and priority come from the rules that fired") {
  // A provisional rule proposing the same flag as critical, at a higher
  // priority, in either order of the rules: the confirmed flag keeps the
  // severity and priority of the rule that fired.
  const std::string fired = R"(
rule fired "Fired"
  priority 50
when
  a == true
then
  flag info shared "From the rule that fired"
end
)";
  const std::string maybe = R"(
rule maybe "Provisional"
  priority 99
when
  a == true and b == true
provisional when
  a == true
then
  flag critical shared "From the provisional rule"
end
)";
  for (const auto& rules : {fired + maybe, maybe + fired}) {
    auto x = run(rules, "a = true\n");
    const plan_item* f = x.pl.find("shared");
    REQUIRE(f != nullptr);
    CHECK_FALSE(f->provisional);
    CHECK(f->severity == "info");
    CHECK(f->priority == 50);
    CHECK(f->text == "From the rule that fired");
  }
  // Once the provisional rule fires too, its severity and priority count.
  for (const auto& rules : {fired + maybe, maybe + fired}) {
    auto x = run(rules, "a = true\nb = true\n");
    const plan_item* f = x.pl.find("shared");
    REQUIRE(f != nullptr);
    CHECK(f->severity == "critical");
    CHECK(f->priority == 99);
  }
  // Provisional only: the highest of the provisional proposals.
  auto x = run(maybe + R"(
rule maybe_low "Provisional, low"
  priority 10
when
  a == true and c == true
provisional when
  a == true
then
  flag info shared "Low"
end
)", "a = true\n");
  const plan_item* f = x.pl.find("shared");
  REQUIRE(f != nullptr);
  CHECK(f->provisional);
  CHECK(f->severity == "critical");
  CHECK(f->priority == 99);
}

TEST_CASE("provisional: a confirmed solution for a provisional challenge is provisional") {
  auto x = run(std::string(DISPUTE) + R"(
rule work "Work for any dispute"
for each p in people
when
  b == true
then
  solution listen for dispute "Listen to {p.label}"
end
)",
               "b = true\n[[people]]\nlabel = \"mother\"\nconflict = true\n");
  const plan_item* s = x.pl.find("listen[mother]");
  REQUIRE(s != nullptr);
  CHECK(s->provisional);
  CHECK(s->to_confirm == std::vector<std::string>{"people[mother].mismatch"});
}

TEST_CASE("provisional: a conclude's value reads provisional values, so a provisional proposal passes on") {
  const std::string rules = R"(
rule propose "Propose"
when
  a and b
provisional when
  a
then
  conclude area.kind = "x"
end

rule shown "Shown"
when
  area.kind is known
provisional when
  area.kind is provisional
then
  conclude area.shown = area.kind
end
)";
  // b missing: area.kind is provisionally "x", and so is area.shown.
  auto r = run(rules, "a = true\n");
  const auto* shown = conclusion(r.pl, "area.shown");
  REQUIRE(shown != nullptr);
  CHECK(shown->provisional);
  CHECK(shown->value == "x");
  // Confirmed once b is on file: the value is the confirmed one.
  auto c = run(rules, "a = true\nb = true\n");
  const auto* confirmed = conclusion(c.pl, "area.shown");
  REQUIRE(confirmed != nullptr);
  CHECK_FALSE(confirmed->provisional);
  CHECK(confirmed->value == "x");
}

TEST_CASE("provisional: an exclusion on partial evidence removes nothing") {
  auto x = run(R"(
rule keep "Always"
when
  true
then
  flag warning kept "Kept"
end

rule maybe_exclude "Would exclude"
when
  a == true and b == true
provisional when
  a == true
then
  exclude kept
end
)",
               "a = true\n");
  CHECK(x.pl.find("kept") != nullptr);
  CHECK(x.pl.excluded.empty());
}

const char* const UNSETTLED = R"(
rule keep "Always"
when
  true
then
  flag warning kept "Kept"
  challenge work "Work"
  solution step for work "A step"
end

rule maybe_exclude "Would exclude"
when
  a == true and b == true
then
  exclude kept
  exclude work
end
)";

TEST_CASE("provisional: an item an undecided rule would remove is to confirm, with what decides it") {
  SECTION("undecided: provisional, with the rule and the findings that decide it") {
    auto x = run(UNSETTLED, "a = true\n");
    CHECK(x.pl.flags.empty());
    CHECK(x.pl.challenges.empty());
    CHECK(x.pl.solutions.empty());
    CHECK(x.pl.excluded.empty());
    CHECK(ids(x.pl.provisional) == std::vector<std::string>{"kept", "step", "work"});
    const plan_item* kept = x.pl.find("kept");
    REQUIRE(kept != nullptr);
    CHECK(kept->provisional);
    CHECK(kept->to_confirm == std::vector<std::string>{"b"});
    REQUIRE(kept->removable_by.size() == 1);
    CHECK(kept->removable_by.front().rule.id == "maybe_exclude");
    // Its reason is the rule that fired, not a provisional one.
    REQUIRE(kept->because.size() == 1);
    CHECK_FALSE(kept->because.front().provisional);
    // Work for a challenge that is not settled waits on the same finding.
    const plan_item* step = x.pl.find("step");
    REQUIRE(step != nullptr);
    CHECK(step->provisional);
    CHECK(step->to_confirm == std::vector<std::string>{"b"});
  }
  SECTION("the rule decided: removed, or confirmed") {
    auto gone = run(UNSETTLED, "a = true\nb = true\n");
    CHECK(gone.pl.provisional.empty());
    CHECK(gone.pl.excluded.size() == 3);
    auto kept = run(UNSETTLED, "a = true\nb = false\n");
    CHECK(kept.pl.provisional.empty());
    CHECK(ids(kept.pl.flags) == std::vector<std::string>{"kept"});
    CHECK(ids(kept.pl.solutions) == std::vector<std::string>{"step"});
    auto never = run(UNSETTLED, "a = false\n");
    CHECK(never.pl.provisional.empty());
    CHECK(ids(never.pl.flags) == std::vector<std::string>{"kept"});
  }
  SECTION("a safety item proposed outright stays in the plan") {
    for (const char* meta : {"  priority 100\n", "  tags safety\n"}) {
      std::string rules = UNSETTLED;
      rules.replace(rules.find("rule keep \"Always\"\n"), 19, std::string("rule keep \"Always\"\n") + meta);
      auto x = run(rules, "a = true\n");
      CHECK(ids(x.pl.flags) == std::vector<std::string>{"kept"});
      CHECK(ids(x.pl.challenges) == std::vector<std::string>{"work"});
      CHECK(x.pl.provisional.empty());
    }
  }
  SECTION("an item both proposed provisionally and unsettled waits on the findings of both rules") {
    std::string rules = UNSETTLED;
    const std::string was = "when\n  true\nthen\n  flag warning kept";
    rules.replace(rules.find(was), was.size(),
                  "when\n  c == true and a == true\nprovisional when\n  a == true\nthen\n  flag warning kept");
    auto x = run(rules, "a = true\n");
    const plan_item* kept = x.pl.find("kept");
    REQUIRE(kept != nullptr);
    CHECK(kept->provisional);
    CHECK(kept->to_confirm == std::vector<std::string>{"b", "c"});
    // Work proposed provisionally by the same rule names its own rule's
    // finding; it is listed under its challenge, which names both.
    const plan_item* step = x.pl.find("step");
    REQUIRE(step != nullptr);
    CHECK(step->provisional);
    CHECK(step->to_confirm == std::vector<std::string>{"c"});
  }
  SECTION("an excluding rule that only proposes provisionally leaves items unsettled too") {
    std::string rules = UNSETTLED;
    rules.replace(rules.find("then\n  exclude kept"), 4, "provisional when\n  a == true\nthen");
    auto x = run(rules, "a = true\n");
    CHECK(x.pl.excluded.empty());
    const plan_item* kept = x.pl.find("kept");
    REQUIRE(kept != nullptr);
    CHECK(kept->provisional);
    CHECK(kept->to_confirm == std::vector<std::string>{"b"});
  }
}

TEST_CASE("provisional: a 'for each' exclusion leaves only its own element's item unsettled") {
  auto x = run(R"(
rule per_person "Per person"
for each p in people
when
  true
then
  challenge talk "Talk with {p.label}"
end

rule drop "Drop for some"
for each p in people
when
  p.mismatch == true
then
  exclude talk
end
)",
               "[[people]]\nlabel = \"mother\"\nmismatch = false\n[[people]]\nlabel = \"father\"\n");
  CHECK(ids(x.pl.challenges) == std::vector<std::string>{"talk[mother]"});
  CHECK(ids(x.pl.provisional) == std::vector<std::string>{"talk[father]"});
  CHECK(x.pl.provisional.front().to_confirm == std::vector<std::string>{"people[father].mismatch"});
}

TEST_CASE("provisional: in a work plan, the same rules left to decide as the item just above read 'as above'") {
  auto x = run(R"(
rule keep "Always"
when
  true
then
  challenge work "Work"
  solution s1 for work "Step one"
  solution s2 for work "Step two"
  solution s3 for work "Step three"
end

rule maybe_exclude "Would exclude the steps"
when
  a == true and b == true
then
  exclude s1
  exclude s2
  exclude s3
end
)",
               "a = true\n");
  CHECK(ids(x.pl.challenges) == std::vector<std::string>{"work"});
  CHECK(ids(x.pl.provisional) == std::vector<std::string>{"s1", "s2", "s3"});
  std::string text = render_text(x.pl);
  const std::string note = "not settled: rule maybe_exclude (a.rules:12) would remove it and is not yet decided\n";
  auto first = text.find(note);
  REQUIRE(first != std::string::npos);
  CHECK(text.find(note, first + 1) == std::string::npos);  // said once
  auto again = text.find("not settled: as above\n");
  REQUIRE(again != std::string::npos);
  CHECK(again > first);
  CHECK(text.find("not settled: as above\n", again + 1) != std::string::npos);  // s2 and s3
  std::string md = render_markdown(x.pl);
  const std::string md_note = "Not settled: rule `maybe_exclude` (a.rules:12) would remove it and is not yet decided.";
  auto md_first = md.find(md_note);
  REQUIRE(md_first != std::string::npos);
  CHECK(md.find(md_note, md_first + 1) == std::string::npos);
  CHECK(md.find("Not settled: as above.") != std::string::npos);
}

TEST_CASE("provisional: text, markdown, JSON, why and why-not say what would remove an unsettled item") {
  auto x = run(UNSETTLED, "a = true\n");
  std::string text = render_text(x.pl);
  CHECK(text.find("[WARNING, POSSIBLE] Kept  [kept]\n") != std::string::npos);
  CHECK(text.find("not settled: rule maybe_exclude (a.rules:11) would remove it and is not yet decided\n") !=
        std::string::npos);
  CHECK(text.find("to confirm, ask: b (ask next 1)\n") != std::string::npos);
  CHECK(text.find("TO CONFIRM") < text.find("not settled"));
  std::string md = render_markdown(x.pl);
  CHECK(md.find("Not settled: rule `maybe_exclude` (a.rules:11) would remove it and is not yet decided.") !=
        std::string::npos);
  auto j = nlohmann::json::parse(render_json(x.pl));
  CHECK(j["flags"].empty());
  nlohmann::json kept;
  for (const auto& it : j["provisional"]) {
    if (it["id"] == "kept") kept = it;
  }
  REQUIRE(kept.is_object());
  CHECK(kept["status"] == "provisional");
  CHECK(kept["to_confirm"] == nlohmann::json::array({"b"}));
  REQUIRE(kept["may_be_removed_by"].size() == 1);
  CHECK(kept["may_be_removed_by"][0]["rule"] == "maybe_exclude");
  CHECK(kept["may_be_removed_by"][0]["status"] == "undecided");
  CHECK(kept["because"][0]["status"] == "confirmed");
  std::string why = render_why(*x.pl.find("kept"));
  CHECK(why.find("It is not confirmed: rule maybe_exclude (a.rules:11) would remove it and is not yet decided.") !=
        std::string::npos);
  CHECK(why.find("These findings would confirm it or rule it out: b") != std::string::npos);
  CHECK(why.find("These rules would remove it, and are not yet decided:\n  rule maybe_exclude") != std::string::npos);
  std::string why_not = render_why_not(*x.rs, *x.client, x.ev, x.pl, "kept");
  CHECK(why_not.find("kept is not in the confirmed plan: it is in the to-confirm section") == 0);
  CHECK(why_not.find("=> fired, but a rule not yet decided would remove its item") != std::string::npos);
}

TEST_CASE("provisional: a rule that would put its own item in place of an unsettled one says it would replace it") {
  // A higher tier's flag in place of a lower one's: never read as "dropped".
  auto x = run(std::string(UNSETTLED) + R"(
rule higher "Higher tier"
when
  b == true and c == true
then
  exclude kept
  flag critical higher_kept "Higher"
  flag info note_too "Note"
  goal other "Not a flag"
end
)",
               "a = true\n");
  std::string text = render_text(x.pl);
  INFO(text);
  CHECK(text.find("not settled: rule higher (a.rules:19) would replace it with higher_kept and note_too, and rule "
                  "maybe_exclude (a.rules:11) would remove it; neither is decided yet\n") != std::string::npos);
  std::string md = render_markdown(x.pl);
  CHECK(md.find("Not settled: rule `higher` (a.rules:19) would replace it with `higher_kept` and `note_too`") !=
        std::string::npos);
  auto j = nlohmann::json::parse(render_json(x.pl));
  nlohmann::json kept;
  for (const auto& it : j["provisional"]) {
    if (it["id"] == "kept") kept = it;
  }
  REQUIRE(kept["may_be_removed_by"].size() == 2);
  CHECK(kept["may_be_removed_by"][0]["replaced_with"] == nlohmann::json::array({"higher_kept", "note_too"}));
  CHECK(kept["may_be_removed_by"][1]["replaced_with"] == nlohmann::json::array());
}

TEST_CASE("provisional: values that disagree cancel, values that agree stand") {
  std::string rules = R"(
rule low "Low"
when
  a == true and b == true
provisional when
  a == true
then
  conclude tier = "low"
end

rule high "High"
when
  a == true and c == true
provisional when
  a == true
then
  conclude tier = "{VALUE}"
end
)";
  auto with = [&](const std::string& v) {
    std::string r = rules;
    r.replace(r.find("{VALUE}"), 7, v);
    return r;
  };
  auto differ = run(with("high"), "a = true\n");
  CHECK(conclusion(differ.pl, "tier") == nullptr);
  auto agree = run(with("low"), "a = true\n");
  const auto* c = conclusion(agree.pl, "tier");
  REQUIRE(c != nullptr);
  CHECK(c->provisional);
  CHECK(c->value == "low");
  CHECK(c->reasons.size() == 2);
  // A confirmed value wins over a provisional one.
  auto confirmed = run(with("high"), "a = true\nc = true\n");
  c = conclusion(confirmed.pl, "tier");
  REQUIRE(c != nullptr);
  CHECK_FALSE(c->provisional);
  CHECK(c->value == "high");
}

TEST_CASE("provisional: a support reads provisional values, a condition never does") {
  auto x = run(std::string(DISPUTE) + R"(
rule focus "Focus on the dispute"
when
  area.dispute and c == true
provisional when
  area.dispute
then
  conclude focus = "dispute"
end

rule blocked "Gives way to an established dispute only"
when
  b == true and not (area.dispute is known and area.dispute)
provisional when
  b == true and not (area.dispute is known and area.dispute)
then
  flag info no_dispute "No dispute, even provisionally"
end
)",
               "b = true\n[[people]]\nlabel = \"mother\"\nconflict = true\n");
  const auto* f = conclusion(x.pl, "focus");
  REQUIRE(f != nullptr);
  CHECK(f->provisional);
  CHECK(f->value == "dispute");
  // In the support, the provisional dispute reads true: no_dispute is not
  // even provisional.
  CHECK(x.pl.find("no_dispute") == nullptr);
  // Without any evidence for the dispute, 'is known' in a support is false,
  // not unknown: no_dispute is proposed provisionally.
  auto y = run(std::string(DISPUTE) + R"(
rule blocked "Gives way to an established dispute only"
when
  b == true and not (area.dispute is known and area.dispute)
provisional when
  b == true and not (area.dispute is known and area.dispute)
then
  flag info no_dispute "No dispute, even provisionally"
end
)",
               "b = true\n[[people]]\nlabel = \"mother\"\n");
  const plan_item* nd = y.pl.find("no_dispute");
  REQUIRE(nd != nullptr);
  CHECK(nd->provisional);
  // The support is quoted whole, whatever its outermost operator.
  REQUIRE(nd->because.size() == 1);
  CHECK(nd->because[0].support == "b == true and not (area.dispute is known and area.dispute)");
  CHECK(render_text(y.pl).find("why: provisional: ") != std::string::npos);
}

TEST_CASE("provisional: 'is provisional' applies to derived facts only") {
  std::vector<diagnostic> diags;
  auto rs = load_rule_set(in_memory_rule_set(VOCAB, {{"a.rules", R"(
rule r "R"
when
  a is provisional
then
  flag info f "F"
end
)"}}),
                          "test", diags);
  auto errs = with_code(diags, "check.type");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].message == "'is provisional' applies to a derived fact (one a rule concludes), not to 'a'");
  CHECK(errs[0].line == 4);
  CHECK(errs[0].column == 3);
  CHECK(errs[0].notes == std::vector<std::string>{
                             "a finding is either recorded or missing: use 'is known' or 'is missing'"});
}

TEST_CASE("provisional: a support must be a condition, and 'provisional' needs 'when'") {
  std::vector<diagnostic> diags;
  auto rs = load_rule_set(in_memory_rule_set(VOCAB, {{"a.rules", R"(
rule r "R"
when
  a == true
provisional when
  total + 1
then
  flag info f "F"
end

rule s "S"
when
  a == true
provisional
  b == true
then
  flag info g "G"
end
)"}}),
                          "test", diags);
  INFO(all_diags(diags));
  auto parse = with_code(diags, "parse.expected");
  REQUIRE(parse.size() == 1);
  CHECK(parse[0].line == 15);
  CHECK(parse[0].message.find("expected 'when'") == 0);
  CHECK_FALSE(with_code(diags, "check.type").empty());
}

TEST_CASE("provisional: text, markdown and JSON show provisional items apart, with status") {
  auto x = run(DISPUTE, "[[people]]\nlabel = \"mother\"\nconflict = true\n");
  std::string text = render_text(x.pl);
  auto confirm = text.find("TO CONFIRM");
  REQUIRE(confirm != std::string::npos);
  CHECK(text.find("Dispute with mother", confirm) != std::string::npos);
  CHECK(text.find("to confirm, ask: people[mother].mismatch") != std::string::npos);
  CHECK(text.find("CHALLENGES\n  (none)") != std::string::npos);
  CHECK(text.find("area.dispute = true (provisional)") != std::string::npos);
  std::string md = render_markdown(x.pl);
  CHECK(md.find("## To confirm") != std::string::npos);
  CHECK(md.find("`people[mother].mismatch`") != std::string::npos);
  auto j = nlohmann::json::parse(render_json(x.pl));
  CHECK(j["challenges"].empty());
  REQUIRE(j["provisional"].size() == 2);
  CHECK(j["provisional"][0]["status"] == "provisional");
  CHECK(j["provisional"][0]["to_confirm"] == nlohmann::json::array({"people[mother].mismatch"}));
  CHECK(j["provisional"][0]["because"][0]["status"] == "provisional");
  auto key = j["provisional"][0]["because"][0]["ref"].get<std::string>();
  CHECK(key == "dispute@people[mother]");
  CHECK(j["explanations"][key]["support"] == "p.conflict == true or p.mismatch == true");
  CHECK(j["explanations"][key]["to_confirm"] == nlohmann::json::array({"people[mother].mismatch"}));
  // The challenge and its solution rest on one outcome: one tree, two refs.
  CHECK(j["provisional"][1]["because"][0]["ref"] == key);
  CHECK(j["explanations"].size() == 2);  // and the rule reading "is provisional"
  bool fact_ok = false;
  for (const auto& c : j["conclusions"]) {
    if (c["fact"] == "area.dispute") fact_ok = c["status"] == "provisional";
  }
  CHECK(fact_ok);
  auto y = run(DISPUTE, "[[people]]\nlabel = \"mother\"\nconflict = true\nmismatch = true\n");
  auto k = nlohmann::json::parse(render_json(y.pl));
  CHECK(k["challenges"][0]["status"] == "confirmed");
  CHECK_FALSE(k["challenges"][0].contains("to_confirm"));
  CHECK(k["provisional"].empty());
}

TEST_CASE("provisional: a work plan waiting on more than its challenge says so once, and no rule condition is shown") {
  const std::string work = std::string(DISPUTE) + R"(
rule work "Work on the dispute"
for each p in people
when
  p.conflict == true and p.mismatch == true and a
provisional when
  p.conflict == true or p.mismatch == true
then
  solution plan_it for dispute "Plan the talk with {p.label}"
  goal agreed for dispute "An agreement with {p.label}"
because "The work for the dispute"
end
)";
  auto x = run(work, "[[people]]\nlabel = \"mother\"\nconflict = true\n");
  std::string text = render_text(x.pl);
  INFO(text);
  // `talk` waits on nothing more; `plan_it` and `agreed` on `a` too: said
  // per item, since the items differ.
  CHECK(text.find("to confirm, ask: people[mother].mismatch (ask next 1)\n") != std::string::npos);
  CHECK(text.find("also to confirm: a (ask next 2)\n") != std::string::npos);
  CHECK(text.find("its work plan also waits on") == std::string::npos);
  CHECK(text.find("supported by") == std::string::npos);
  CHECK(text.find("p.conflict == true") == std::string::npos);
  // The reason shared by plan_it and agreed is written once.
  auto first = text.find("why: provisional: The work for the dispute");
  REQUIRE(first != std::string::npos);
  CHECK(text.find("why: provisional: The work for the dispute", first + 1) == std::string::npos);

  // Without `talk` (the dispute's own solution), every work item waits on
  // `a`: said once, under the challenge.
  std::string only_work = work;
  only_work.replace(only_work.find("  solution talk for dispute \"Talk with {p.label}\"\n"),
                    std::string("  solution talk for dispute \"Talk with {p.label}\"\n").size(), "");
  auto y = run(only_work, "[[people]]\nlabel = \"mother\"\nconflict = true\n");
  text = render_text(y.pl);
  INFO(text);
  auto once = text.find("    its work plan also waits on: a (ask next 2)\n");
  CHECK(once != std::string::npos);
  CHECK(text.find("also to confirm") == std::string::npos);
  std::string md = render_markdown(y.pl);
  CHECK(md.find("Its work plan also waits on: `a` (ask next 2)") != std::string::npos);
  CHECK(md.find("Also to confirm") == std::string::npos);
  // The JSON plan keeps each item's own list and the rule's support.
  auto j = nlohmann::json::parse(render_json(y.pl));
  for (const auto& it : j["provisional"]) {
    if (it["kind"] == "challenge") continue;
    CHECK(it["to_confirm"] == nlohmann::json::array({"a", "people[mother].mismatch"}));
  }
}

TEST_CASE("provisional: work for a confirmed challenge that waits on a finding is grouped under the challenge") {
  const char* rules = R"(
rule area "Area"
when a
then
  challenge area "The area"
end

rule work "Work"
when a and b
provisional when a
then
  solution step_one for area "Step one"
  goal step_two for area "Step two"
because "The work needs B"
end
)";
  auto x = run(rules, "a = true\n");
  std::string text = render_text(x.pl);
  INFO(text);
  CHECK(text.find("  work to confirm for the challenge: The area  [area] (listed above, under CHALLENGES):\n    to confirm, ask: b (ask next 1)\n      solution: Step one") !=
        std::string::npos);
  // The shared reason once, what it waits on once.
  auto first = text.find("why: provisional: The work needs B");
  REQUIRE(first != std::string::npos);
  CHECK(text.find("why: provisional: The work needs B", first + 1) == std::string::npos);
  CHECK(text.find("to confirm, ask: b", text.find("to confirm, ask: b") + 1) == std::string::npos);
  std::string md = render_markdown(x.pl);
  CHECK(md.find("- *work to confirm for the challenge:* The area (`area`, listed above, under Challenges)  \n  To confirm, ask: `b`") != std::string::npos);
  // In JSON nothing moves: each item keeps its status and findings.
  auto j = nlohmann::json::parse(render_json(x.pl));
  REQUIRE(j["provisional"].size() == 2);
  CHECK(j["provisional"][0]["to_confirm"] == nlohmann::json::array({"b"}));
}

TEST_CASE("provisional: why and why-not explain a provisional item") {
  auto x = run(DISPUTE, "[[people]]\nlabel = \"mother\"\nconflict = true\n");
  const plan_item* ch = x.pl.find("dispute[mother]");
  REQUIRE(ch != nullptr);
  std::string why = render_why(*ch);
  CHECK(why.rfind("dispute[mother] is not yet in the plan: it is proposed provisionally, as a challenge to confirm: ", 0) == 0);
  CHECK(why.find("people[mother].mismatch") != std::string::npos);
  CHECK(why.find("what is on file supports it: p.conflict == true or p.mismatch == true") != std::string::npos);
  std::string why_not = render_why_not(*x.rs, *x.client, x.ev, x.pl, "dispute[mother]");
  CHECK(why_not.find("proposed provisionally") != std::string::npos);
}

// ---------------------------------------------------------------------------
// Ask next

TEST_CASE("ask next: ranked by the items an answer decides, safety first") {
  auto x = run(R"(
rule small "One item"
when
  a == true
then
  flag info one "One"
end

rule big "Three items"
when
  b == true
then
  flag info two "Two"
  flag info three "Three"
  flag info four "Four"
end

rule safe "Safety"
  priority 100
  tags safety
when
  c == true
then
  flag warning safe "Safe"
end
)",
               "");
  REQUIRE(x.pl.to_assess.size() == 3);
  CHECK(x.pl.to_assess[0].finding == "c");
  CHECK(x.pl.to_assess[0].safety);
  CHECK(x.pl.to_assess[0].score == 1100);
  CHECK(x.pl.to_assess[1].finding == "b");
  CHECK(x.pl.to_assess[1].score == 150);
  CHECK(x.pl.to_assess[1].items == std::vector<std::string>{"four", "three", "two"});
  CHECK(x.pl.to_assess[2].finding == "a");
  CHECK(x.pl.to_assess[2].score == 50);
}

TEST_CASE("ask next: an answer that could only add a reason to what is already proposed or concluded is not asked") {
  const std::string rules = R"(
rule first "Established by a"
when
  a == true
then
  conclude p
  flag info one "One"
end

rule second "The same, from b"
when
  b == true
then
  conclude p
  flag info one "One"
end

rule more "The same, and one more item, from c"
when
  c == true
then
  flag info one "One"
  flag info two "Two"
end
)";
  // 'one' and p are settled by a: b decides nothing; c still decides 'two'.
  auto x = run(rules, "a = true\n");
  std::vector<std::string> asked;
  for (const auto& t : x.pl.to_assess) asked.push_back(t.finding);
  CHECK(asked == std::vector<std::string>{"c"});
  REQUIRE(x.pl.to_assess.size() == 1);
  CHECK(x.pl.to_assess[0].items == std::vector<std::string>{"two"});
  // Until a is answered, b may be what proposes them: asked.
  auto y = run(rules, "");
  asked.clear();
  for (const auto& t : y.pl.to_assess) asked.push_back(t.finding);
  CHECK(std::find(asked.begin(), asked.end(), "b") != asked.end());
}

TEST_CASE("ask next: a finding asked after another is asked as that one while it is missing") {
  const std::string vocab = std::string(VOCAB) + "\n[later]\ntype = \"int\"\nasked_after = \"total\"\n";
  const std::string rules = "rule r \"Reads the later one\"\nwhen\n  later >= 1\nthen\n  flag info f \"F\"\nend\n";
  auto plan_of = [&](const std::string& findings) {
    std::vector<diagnostic> diags;
    auto rs = load_rule_set(in_memory_rule_set(vocab, {{"a.rules", rules}}), "test", diags);
    INFO(all_diags(diags));
    REQUIRE(rs.has_value());
    auto c = read_findings(*rs->prog, "f.toml", findings, {}, diags);
    REQUIRE(c.has_value());
    auto ev = evaluate(*rs->prog, *c, true);
    return build_plan(*rs, *c, ev, "sha");
  };
  auto before = plan_of("");
  REQUIRE(before.to_assess.size() == 1);
  CHECK(before.to_assess[0].finding == "total");
  auto after = plan_of("total = 3\n");
  REQUIRE(after.to_assess.size() == 1);
  CHECK(after.to_assess[0].finding == "later");
}

TEST_CASE("ask next: an answer that decides a rule of priority 90 or more comes before higher scores") {
  auto x = run(R"(
rule fit "Whether the treatment fits"
  priority 90
when
  a == true
then
  flag warning fit_flag "Fit"
end

rule work "Much work"
  priority 89
when
  b == true
then
  flag info w1 "W1"
  flag info w2 "W2"
  flag info w3 "W3"
end
)",
               "");
  REQUIRE(x.pl.to_assess.size() == 2);
  CHECK(x.pl.to_assess[0].finding == "a");
  CHECK(x.pl.to_assess[0].top_priority == 90);
  CHECK(x.pl.to_assess[0].score < x.pl.to_assess[1].score);
  CHECK(x.pl.to_assess[1].finding == "b");
  CHECK(x.pl.to_assess[1].top_priority == 89);
}

TEST_CASE("to confirm: ask the client, record (the clinician's own findings), or both") {
  iptplan::plan p;
  iptplan::assess_item q, r;
  q.finding = "relationships[partner].conflict";
  r.finding = "therapy.sessions_planned";
  r.clinician = true;
  p.to_assess = {q, r};
  CHECK(iptplan::confirm_verb(p, {"relationships[partner].conflict"}) == "ask");
  CHECK(iptplan::confirm_verb(p, {"therapy.sessions_planned"}) == "record");
  CHECK(iptplan::confirm_verb(p, {"therapy.sessions_planned", "relationships[partner].conflict"}) == "ask or record");
  // A finding not among those to assess now (its gate still closed) is asked.
  CHECK(iptplan::confirm_verb(p, {"risk.cssrs.q3"}) == "ask");
  CHECK(iptplan::confirm_verb(p, {}) == "ask");
}

TEST_CASE("ask next: what an answer decides is said in words, grouped by kind, solutions and goals counted") {
  auto x = run(R"(
rule detect "Detect"
when
  a == true
then
  challenge c_one "C"
  solution s_one for c_one "S1"
  solution s_two for c_one "S2"
  solution s_three for c_one "S3"
  goal g_one for c_one "G1"
  goal g_two for c_one "G2"
  flag info f_one "F1"
  flag info f_two "F2"
  flag info f_three "F3"
  flag info f_four "F4"
  flag info f_five "F5"
  conclude t.level = "high"
end

rule other "Other"
when
  b == true
then
  flag info kept_flag "Kept"
end

rule remove "Remove"
when
  a == true
then
  exclude kept_flag
end
)",
               "");
  const auto& a = x.pl.to_assess.at(0);
  REQUIRE(a.finding == "a");
  REQUIRE(a.item_kinds.size() == a.items.size());
  // An item the answer could only remove takes the kind the other rules
  // give it, and is said apart: never as if the answer would propose it.
  auto at = static_cast<std::size_t>(std::find(a.items.begin(), a.items.end(), "kept_flag") - a.items.begin());
  REQUIRE(at < a.items.size());
  REQUIRE(a.item_removed.size() == a.items.size());
  CHECK(a.item_kinds[at] == iptplan::assess_item::decided_as::flag);
  CHECK(a.item_removed[at]);
  CHECK(iptplan::decides_in_words(a) ==
        "the flags f five, f four, f one and 2 more; the challenge c one; the goals g one and g two; 3 solutions of "
        "the work plan; and whether to set aside the flag kept flag");
  // Goals and solutions past two are counted together, once; an item keyed
  // by position is said as one.
  iptplan::assess_item many;
  for (const char* g : {"g1", "g2", "g3"}) many.items.push_back(g);
  for (const char* s : {"s1", "s2", "s3", "s4"}) many.items.push_back(s);
  many.items.push_back("steps[2]");
  many.item_kinds = {iptplan::assess_item::decided_as::goal,     iptplan::assess_item::decided_as::goal,
                     iptplan::assess_item::decided_as::goal,     iptplan::assess_item::decided_as::solution,
                     iptplan::assess_item::decided_as::solution, iptplan::assess_item::decided_as::solution,
                     iptplan::assess_item::decided_as::solution, iptplan::assess_item::decided_as::challenge};
  many.item_removed.assign(many.items.size(), false);
  CHECK(iptplan::decides_in_words(many) == "the challenge steps (no. 2); 3 goals and 4 solutions of the work plan");
  // The conclusion is still carried (JSON, why), and named when nothing
  // else is decided.
  CHECK(std::find(a.items.begin(), a.items.end(), "t.level") != a.items.end());
  iptplan::assess_item only_fact;
  only_fact.items = {"t.level"};
  only_fact.item_kinds = {iptplan::assess_item::decided_as::fact};
  only_fact.item_removed = {false};
  CHECK(iptplan::decides_in_words(only_fact) == "the conclusion t.level");
  // An item one rule proposes and another removes on the same answer is
  // decided either way: said as proposed.
  auto both = run(R"(
rule add "Add"
when
  a == true
then
  flag info x_item "X"
end

rule drop "Drop"
when
  a == false
then
  exclude x_item
end
)",
                  "");
  REQUIRE(both.pl.to_assess.size() == 1);
  CHECK(iptplan::decides_in_words(both.pl.to_assess[0]) == "the flag x item");
}

TEST_CASE("ask next: the skip logic holds a question back until its gate opens it") {
  std::string rules = R"(
rule r "Behind the gates"
when
  behind == true or only_y == true
then
  flag info f "F"
end
)";
  auto none = run(rules, "");
  auto has = [](const plan& p, const std::string& f) {
    return std::any_of(p.to_assess.begin(), p.to_assess.end(),
                       [&](const assess_item& a) { return a.finding == f; });
  };
  CHECK_FALSE(has(none.pl, "behind"));
  CHECK_FALSE(has(none.pl, "only_y"));
  auto open = run(rules, "gate = true\nkind = \"y\"\n");
  CHECK(has(open.pl, "behind"));
  CHECK(has(open.pl, "only_y"));
  auto closed = run(rules, "gate = false\nkind = \"x\"\n");
  CHECK_FALSE(has(closed.pl, "behind"));
  CHECK_FALSE(has(closed.pl, "only_y"));
}

TEST_CASE("ask next: a follow-up its gate has opened comes before higher scores of its group") {
  std::string rules = R"(
rule many "Many items on a"
when
  a == true
then
  flag info one "One"
  flag info two "Two"
  flag info three "Three"
end

rule follow "One item behind the gate"
when
  behind == true
then
  flag info four "Four"
end
)";
  auto x = run(rules, "gate = true\n");
  REQUIRE(x.pl.to_assess.size() == 2);
  CHECK(x.pl.to_assess[0].finding == "behind");
  CHECK(x.pl.to_assess[0].follow_up);
  CHECK(x.pl.to_assess[0].score == 50);
  CHECK(x.pl.to_assess[1].finding == "a");
  CHECK_FALSE(x.pl.to_assess[1].follow_up);
  CHECK(x.pl.to_assess[1].score == 150);
  auto j = nlohmann::json::parse(render_json(x.pl));
  CHECK(j["ask_next"][0]["follow_up"] == true);
  CHECK(j["ask_next"][1]["follow_up"] == false);
}

TEST_CASE("ask next: what the clinician records is listed apart, after the client's questions") {
  std::string vocab = std::string(VOCAB) +
                      "\n[rating]\ntype = \"bool\"\nasked_of = \"clinician\"\nquestion = \"Your own rating\"\n"
                      "\n[told]\ntype = \"bool\"\nasked_of = \"client\"\nquestion = \"Asked of the client\"\n";
  const char* rules = R"(
rule rated "Needs the rating"
  priority 100
when
  rating == true
then
  flag warning rated "Rated"
end

rule told "Needs the client's answer"
when
  told == true and a == true
then
  challenge told_item "Told"
end
)";
  std::vector<diagnostic> diags;
  auto rs = load_rule_set(in_memory_rule_set(vocab, {{"a.rules", rules}}), "test", diags);
  INFO(all_diags(diags));
  REQUIRE(rs.has_value());
  auto client = read_findings(*rs->prog, "f.toml", "", {}, diags);
  REQUIRE(client.has_value());
  auto ev = evaluate(*rs->prog, *client, true);
  auto pl = build_plan(*rs, *client, ev, "sha");
  // A safety rule waits on the rating, yet the client's questions come first.
  REQUIRE(pl.to_assess.size() == 3);
  CHECK(pl.to_assess[0].finding == "a");
  CHECK(pl.to_assess[1].finding == "told");
  CHECK(pl.to_assess[2].finding == "rating");
  CHECK_FALSE(pl.to_assess[1].clinician);
  CHECK(pl.to_assess[2].clinician);
  CHECK(pl.to_assess[2].safety);
  std::string text = render_text(pl);
  CHECK(text.find("ASK NEXT (the 2 missing findings") != std::string::npos);
  CHECK(text.find("\nRECORD NEXT (the one rating or arrangement the clinician records that would decide part of the "
                  "plan)\n  1. rating: Your own rating\n") != std::string::npos);
  CHECK(text.find("ASK NEXT") < text.find("RECORD NEXT"));
  std::string md = render_markdown(pl);
  CHECK(md.find("## Record next\n\nThe one rating or arrangement the clinician records") != std::string::npos);
  auto j = nlohmann::json::parse(render_json(pl));
  CHECK(j["ask_next"][0]["asked_of"] == "client");
  CHECK(j["ask_next"][2]["asked_of"] == "clinician");
}

TEST_CASE("ask next: text shows the top ten with what each decides, JSON has them all") {
  std::string rules;
  for (int i = 0; i < 12; ++i) {
    rules += "rule r" + std::to_string(i) + " \"R\"\nfor each p in people\nwhen\n  p.conflict == true\nthen\n"
             "  flag info f" + std::to_string(i) + " \"F\"\nend\n";
  }
  std::string f;
  for (int i = 0; i < 12; ++i) f += "[[people]]\nlabel = \"p" + std::to_string(i) + "\"\n";
  auto x = run(rules, f);
  REQUIRE(x.pl.to_assess.size() == 12);
  std::string text = render_text(x.pl);
  CHECK(text.find("ASK NEXT (the 10 of 12 missing findings") != std::string::npos);
  CHECK(text.find("  10. ") != std::string::npos);
  CHECK(text.find("  11. ") == std::string::npos);
  auto j = nlohmann::json::parse(render_json(x.pl));
  CHECK(j["ask_next"].size() == 12);
  CHECK(j["ask_next"][0].contains("score"));
  CHECK(j["ask_next"][0]["decides"].size() == 12);
}

// ---------------------------------------------------------------------------
// Findings that contradict each other

TEST_CASE("templates: a question the skip logic leaves out reads 'not asked (skipped)', yes and no for booleans") {
  const char* rules = R"(
rule r "R"
when a
then
  challenge c "C"
because "gate {gate}, behind {behind}"
end
)";
  auto text = [&](const std::string& findings) {
    auto x = run(rules, "a = true\n" + findings);
    REQUIRE(x.pl.challenges.size() == 1);
    return x.pl.challenges[0].because[0].because;
  };
  CHECK(text("gate = false\n") == "gate no, behind not asked (skipped)");
  CHECK(text("") == "gate not yet known, behind not yet known");
  CHECK(text("gate = true\n") == "gate yes, behind not yet known");
  CHECK(text("gate = true\nbehind = false\n") == "gate yes, behind no");
}

TEST_CASE("skip logic: a skipped question with a skipped_value holds it, read by rules and never asked") {
  const std::string rules = R"(rule r "R"
when
  mode == "off"
then
  flag info f "F"
because "mode {mode}"
end
)";
  // The gate skips it: the rules read "off", the explanation says why.
  auto skipped = run(rules, "kind = \"x\"\n");
  REQUIRE(ids(skipped.pl.flags) == std::vector<std::string>{"f"});
  const auto& ev = skipped.pl.flags[0].because[0].evidence;
  REQUIRE(ev.size() == 1);
  REQUIRE(ev[0].values.size() == 1);
  CHECK(ev[0].values[0].second == "off (not asked: kind is x)");
  CHECK(skipped.pl.flags[0].because[0].because == "mode off");
  const int mode = skipped.rs->prog->vocab->index_of("mode");
  CHECK(skipped.client->is_implied(static_cast<std::size_t>(mode)));
  for (const auto& a : skipped.pl.to_assess) CHECK(a.finding != "mode");
  // The gate open or not yet answered: the question is open, the rule too.
  for (const std::string open : {"kind = \"y\"\n", ""}) {
    auto r = run(rules, open);
    CHECK(r.pl.flags.empty());
    CHECK_FALSE(r.client->is_implied(static_cast<std::size_t>(mode)));
  }
  // Recorded, it is an answer like any other.
  auto recorded = run(rules, "kind = \"x\"\nmode = \"off\"\n");
  CHECK(ids(recorded.pl.flags) == std::vector<std::string>{"f"});
  CHECK_FALSE(recorded.client->is_implied(static_cast<std::size_t>(mode)));
  CHECK(recorded.pl.flags[0].because[0].evidence[0].values[0].second == "off");
}

TEST_CASE("a yes/no gate left out whose follow-up is answered is read as yes, with a warning") {
  std::vector<diagnostic> diags;
  auto rs = load_rule_set(
      in_memory_rule_set(VOCAB, {{"a.rules", "rule r \"R\"\nwhen\n  gate == true\nthen\n  flag info f \"F\"\n"
                                             "because\n  \"Gate: {gate}.\"\nend\n"}}),
      "test", diags);
  INFO(all_diags(diags));
  REQUIRE(rs.has_value());
  const int gate = rs->prog->vocab->index_of("gate");
  REQUIRE(gate >= 0);
  // Answered either way, the follow-up was asked, so the gate was yes.
  for (const char* answer : {"true", "false"}) {
    std::vector<diagnostic> d;
    auto c = read_findings(*rs->prog, "f.toml", std::string("a = true\nbehind = ") + answer + "\n", {}, d);
    REQUIRE(c.has_value());
    REQUIRE(d.size() == 1);
    CHECK(d[0].level == severity::warning);
    CHECK(d[0].code == "findings.implied-gate");
    CHECK(d[0].line == 2);  // the follow-up's line
    CHECK(d[0].message ==
          "'gate' is not recorded, but 'behind' is, which is asked only after a yes to it: the plan reads 'gate' as yes");
    REQUIRE(d[0].notes.size() == 1);
    CHECK(d[0].notes[0] == "record 'gate = true', or correct 'behind' if it was not asked");
    CHECK(c->slots[static_cast<std::size_t>(gate)].kind == vkind::boolean);
    CHECK(c->is_implied(static_cast<std::size_t>(gate)));
    // The rule reads it, and its explanation says it was not recorded.
    auto ev = evaluate(*rs->prog, *c, true);
    auto pl = build_plan(*rs, *c, ev, "sha");
    REQUIRE(pl.flags.size() == 1);
    REQUIRE(pl.flags[0].because.at(0).evidence.size() == 1);
    CHECK(pl.flags[0].because[0].evidence[0].values.at(0).second ==
          "true (not recorded: read as yes, since behind is answered)");
    // The reason a plan shows says so too: never taken for an answer given.
    CHECK(pl.flags[0].because[0].because == "Gate: yes (not recorded: implied by the answer to its follow-up question).");
  }
  // Recorded, the gate is the record's; an enum gate is never guessed.
  for (const char* text : {"gate = true\nbehind = true\n", "kind = \"y\"\nonly_y = true\n", "only_y = true\n"}) {
    INFO(text);
    std::vector<diagnostic> d;
    auto c = read_findings(*rs->prog, "f.toml", text, {}, d);
    REQUIRE(c.has_value());
    CHECK(d.empty());
    CHECK_FALSE(c->is_implied(static_cast<std::size_t>(gate)));
  }
}

TEST_CASE("contradictions: a gated answer against its gate, a part above its whole") {
  std::vector<diagnostic> diags;
  auto rs = load_rule_set(
      in_memory_rule_set(VOCAB, {{"a.rules", "rule r \"R\"\nwhen\n  a == true\nthen\n  flag info f \"F\"\nend\n"}}),
      "test", diags);
  INFO(all_diags(diags));
  REQUIRE(rs.has_value());
  struct row {
    std::string text;
    std::string code;  // empty: no error
    int line;
  };
  auto r = GENERATE(values<row>({
      {"gate = false\nbehind = true\n", "findings.skip-logic", 2},
      {"gate = false\nbehind = false\n", "findings.skip-logic", 2},
      {"gate = true\nbehind = true\n", "", 0},
      {"kind = \"x\"\nonly_y = true\n", "findings.skip-logic", 2},
      {"kind = \"y\"\nonly_y = true\n", "", 0},
      // The one answer that holds whatever the gate says may be recorded
      // behind a closed gate; no other.
      {"kind = \"x\"\nmode = \"off\"\n", "", 0},
      {"kind = \"x\"\nmode = \"on\"\n", "findings.skip-logic", 2},
      {"total = 2\npart = 3\n", "findings.contradiction", 2},
      {"total = 3\npart = 3\n", "", 0},
      {"part = 3\n", "", 0},
      // Past its bound only while the exception holds; the exception
      // missing is not taken to hold.
      {"planned = 12\nnumber = 13\n", "findings.contradiction", 2},
      {"planned = 12\nnumber = 13\nkind = \"x\"\n", "findings.contradiction", 2},
      {"planned = 12\nnumber = 13\nkind = \"z\"\n", "", 0},
      {"planned = 12\nnumber = 12\n", "", 0},
      {"number = 40\n", "", 0},
  }));
  INFO(r.text);
  std::vector<diagnostic> d;
  auto c = read_findings(*rs->prog, "f.toml", r.text, {}, d);
  if (r.code.empty()) {
    CHECK(c.has_value());
    CHECK(d.empty());
  } else {
    CHECK_FALSE(c.has_value());
    REQUIRE(d.size() == 1);
    CHECK(d[0].code == r.code);
    CHECK(d[0].line == r.line);
    CHECK(d[0].file == "f.toml");
  }
}

TEST_CASE("vocabulary: 'provisional' is reserved, since no rule could read the finding") {
  std::vector<diagnostic> diags;
  vocabulary::parse("v.toml", "[client.provisional]\ntype = \"bool\"\n", diags);
  auto errs = with_code(diags, "vocabulary.invalid");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].message.find("reserved word 'provisional'") != std::string::npos);
}

TEST_CASE("vocabulary: asked_if and at_most must name suitable findings") {
  auto bad = GENERATE(values<std::pair<std::string, std::string>>({
      {"[q]\ntype = \"bool\"\nasked_if = \"nowhere\"\n", "which is not a finding of the vocabulary"},
      {"[n]\ntype = \"int\"\n[q]\ntype = \"bool\"\nasked_if = \"n\"\n", "must name a yes/no or enum finding"},
      {"[g]\ntype = \"bool\"\n[q]\ntype = \"bool\"\nasked_if = \"g\"\nasked_if_values = [\"maybe\"]\n",
       "holds 'maybe'"},
      {"[g]\ntype = \"bool\"\n[q]\ntype = \"bool\"\nasked_if_values = [true]\n", "needs 'asked_if'"},
      {"[g]\ntype = \"bool\"\n[q]\ntype = \"int\"\nat_most = \"g\"\n", "'at_most' links two numbers"},
      {"[n]\ntype = \"int\"\n[g]\ntype = \"int\"\n[q]\ntype = \"int\"\nat_most = \"n\"\nat_most_unless = \"g\"\n"
       "at_most_unless_values = [\"x\"]\n",
       "'at_most_unless' of 'q' must name a yes/no or enum finding"},
      {"[n]\ntype = \"int\"\n[g]\ntype = \"bool\"\n[q]\ntype = \"int\"\nat_most_unless = \"g\"\n"
       "at_most_unless_values = [true]\n",
       "'at_most_unless' of 'q' needs 'at_most'"},
      {"[n]\ntype = \"int\"\n[g]\ntype = \"bool\"\n[q]\ntype = \"int\"\nat_most = \"n\"\nat_most_unless = \"g\"\n",
       "'at_most_unless' of 'q' needs 'at_most_unless_values'"},
      {"[n]\ntype = \"int\"\n[g]\ntype = \"enum\"\nvalues = [\"a\"]\n[q]\ntype = \"int\"\nat_most = \"n\"\n"
       "at_most_unless = \"g\"\nat_most_unless_values = [\"b\"]\n",
       "'at_most_unless_values' of 'q' holds 'b'"},
      {"[q]\ntype = \"bool\"\nasked_if = \"q\"\n", "cannot name itself"},
      {"[g]\ntype = \"bool\"\n[q]\ntype = \"bool\"\nasked_if = \"g\"\nskipped_value = \"false\"\n",
       "'skipped_value' of 'q' must be one of its own values"},
      {"[g]\ntype = \"bool\"\n[q]\ntype = \"enum\"\nvalues = [\"a\"]\nasked_if = \"g\"\nskipped_value = \"b\"\n",
       "'skipped_value' of 'q' must be one of its own values"},
      {"[q]\ntype = \"enum\"\nvalues = [\"a\"]\nskipped_value = \"a\"\n", "'skipped_value' of 'q' needs 'asked_if'"},
      {"[a]\ntype = \"bool\"\nasked_if = \"c\"\n[b]\ntype = \"bool\"\nasked_if = \"a\"\n[c]\ntype = \"bool\"\n"
       "asked_if = \"b\"\n",
       "'asked_if' links go round in a circle (a -> c -> b -> a)"},
      {"[n]\ntype = \"int\"\nat_most = \"m\"\n[m]\ntype = \"int\"\nat_most = \"n\"\n",
       "'at_most' links go round in a circle (m -> n -> m)"},
      {"[q]\ntype = \"bool\"\nasked_of = \"nurse\"\n", "'asked_of' of 'q' must be \"client\" or \"clinician\""},
      {"[q]\ntype = \"bool\"\nasked_of = true\n", "'asked_of' of 'q' must be \"client\" or \"clinician\""},
      {"[t]\ntype = \"table_list\"\n[t.fields.f]\ntype = \"bool\"\nasked_of = \"clinician\"\n",
       "on a finding (not a field)"},
      {"[t]\ntype = \"table_list\"\n[t.fields.f]\ntype = \"bool\"\nasked_after = \"g\"\n",
       "'asked_after' of 't.f' names 'g', which is not a field of 't'"},
      {"[t]\ntype = \"table_list\"\n[t.fields.f]\ntype = \"bool\"\nasked_after = \"f\"\n",
       "'asked_after' of 't.f' cannot name itself"},
      {"[t]\ntype = \"table_list\"\n[t.fields.f]\ntype = \"bool\"\nasked_after = \"g\"\n[t.fields.g]\n"
       "type = \"bool\"\nasked_after = \"f\"\n",
       "name each other"},
      {"[q]\ntype = \"bool\"\nasked_after = \"x\"\n", "'asked_after' of 'q' names 'x', which is not a finding of the vocabulary"},
      {"[q]\ntype = \"bool\"\nasked_after = \"q\"\n", "'asked_after' of 'q' cannot name itself"},
      {"[t]\ntype = \"table_list\"\n[t.fields.f]\ntype = \"bool\"\n[q]\ntype = \"bool\"\nasked_after = \"t\"\n",
       "'asked_after' of 'q' names 't', a list of records: name one finding"},
      {"[p]\ntype = \"bool\"\nasked_after = \"q\"\n[q]\ntype = \"bool\"\nasked_after = \"p\"\n", "name each other"},
      {"[q]\ntype = \"bool\"\nasked_unless = \"x\"\n", "on a field of a table_list"},
      {"[q]\ntype = \"bool\"\nasked_after_values = [\"a\"]\n",
       "'asked_after_values' of 'q' must be a list of quoted values of the field named by 'asked_after', on a field "
       "of a table_list"},
      {"[t]\ntype = \"table_list\"\n[t.fields.f]\ntype = \"bool\"\nasked_after_values = []\n",
       "'asked_after_values' of 'f' must be a list of quoted values"},
      {"[t]\ntype = \"table_list\"\n[t.fields.f]\ntype = \"bool\"\nasked_after_values = [\"true\"]\n",
       "'asked_after_values' of 't.f' needs 'asked_after'"},
      {"[t]\ntype = \"table_list\"\n[t.fields.f]\ntype = \"bool\"\nasked_after = \"g\"\nasked_after_values = "
       "[\"c\"]\n[t.fields.g]\ntype = \"enum\"\nvalues = [\"a\", \"b\"]\n",
       "'asked_after_values' of 't.f' holds 'c', which 't.g' cannot take"},
      {"[t]\ntype = \"table_list\"\n[t.fields.f]\ntype = \"bool\"\nasked_after = \"g\"\nasked_after_values = "
       "[\"yes\"]\n[t.fields.g]\ntype = \"bool\"\n",
       "'asked_after_values' of 't.f' holds 'yes', which 't.g' cannot take"},
      {"[t]\ntype = \"table_list\"\n[t.fields.f]\ntype = \"bool\"\nasked_unless = \"f\"\n",
       "'asked_unless' of 't.f' names 'f', which is not another field of 't'"},
      {"[q]\ntype = \"bool\"\nuntil_answered = 3\n", "'until_answered' of 'q' must be a text in quotes"},
      {"[q]\ntype = \"bool\"\nuntil_answered = \"\"\n", "'until_answered' of 'q' must be a text in quotes"},
      {"[t]\ntype = \"table_list\"\n[t.fields.f]\ntype = \"bool\"\nuntil_answered = \"x\"\n",
       "'until_answered' of 'f' is for a finding, not a field of a table_list"},
      {"[t]\ntype = \"table_list\"\n[t.fields.f]\ntype = \"string\"\nrefers_to = \"people\"\n",
       "'refers_to' of field 'f' names 'people', which is not a table_list with a key in the vocabulary"},
      {"[p]\ntype = \"table_list\"\n[p.fields.x]\ntype = \"bool\"\n[t]\ntype = \"table_list\"\n[t.fields.f]\n"
       "type = \"string\"\nrefers_to = \"p\"\n",
       "'refers_to' of field 'f' names 'p', which is not a table_list with a key in the vocabulary"},
      {"[t]\ntype = \"table_list\"\n[t.fields.f]\ntype = \"bool\"\nrefers_to = \"t\"\n",
       "'refers_to' of 'f' must name a list with a key, in quotes, on a text field of a table_list"},
      {"[q]\ntype = \"string\"\nrefers_to = \"t\"\n",
       "'refers_to' of 'q' must name a list with a key, in quotes, on a text field of a table_list"},
      {"[t]\ntype = \"table_list\"\nask_order = \"f\"\n[t.fields.f]\ntype = \"bool\"\n",
       "'ask_order' of 't' must name a number field of its entries, in quotes"},
      {"[t]\ntype = \"table_list\"\nask_order = \"g\"\n[t.fields.f]\ntype = \"int\"\n",
       "'ask_order' of 't' must name a number field of its entries, in quotes"},
      {"[q]\ntype = \"int\"\nmin = 1.5\nmax = 3\n", "'min' of 'q' must be a whole number, as 'q' is an int"},
      {"[q]\ntype = \"int\"\nmin = 1\nmax = 2.5\n", "'max' of 'q' must be a whole number, as 'q' is an int"},
      {"[q]\ntype = \"int\"\nask_order = \"q\"\n",
       "'ask_order' of 'q' belongs on a table_list (it orders the questions about its entries)"},
  }));
  INFO(bad.first);
  std::vector<diagnostic> diags;
  vocabulary::parse("v.toml", bad.first, diags);
  auto errs = with_code(diags, "vocabulary.invalid");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].message.find(bad.second) != std::string::npos);
}

// ---------------------------------------------------------------------------
// Test cases

TEST_CASE("test cases: 'provisional' matches provisional items and conclusions only") {
  std::vector<diagnostic> diags;
  auto rs = load_rule_set(in_memory_rule_set(VOCAB, {{"a.rules", DISPUTE}}), "test", diags);
  REQUIRE(rs.has_value());
  auto make = [&](const std::string& body) {
    std::vector<diagnostic> d;
    auto tc = read_test_case("c.toml",
                             body + "\n[findings]\n[[findings.people]]\nlabel = \"mother\"\nconflict = true\n",
                             [](const std::string&) { return std::nullopt; }, d);
    REQUIRE(tc.has_value());
    return run_test_case(*rs, *tc, d);
  };
  CHECK(make("[expect]\nprovisional = [\"dispute[mother]\", \"area.dispute\", \"talk\"]").passed);
  auto only_provisional = make("[expect]\nchallenges = [\"dispute[mother]\"]");
  CHECK_FALSE(only_provisional.passed);
  CHECK(only_provisional.report.find("it is in the plan only provisionally") != std::string::npos);
  CHECK_FALSE(make("[expect]\nconclusions = [\"area.dispute\"]").passed);
  CHECK(make("[absent]\nchallenges = [\"dispute\"]\nconclusions = [\"area.dispute\"]").passed);
  auto misspelt = make("[expect]\nprovisional = [\"dispte\"]");
  CHECK_FALSE(misspelt.passed);
  CHECK(misspelt.report.find("did you mean 'dispute'?") != std::string::npos);
}

// --- dated goals: `goal ... by session <value>` -----------------------------

namespace {

const char* const DATED_VOCAB = R"(
[session]
type = "int"
min = 1
max = 40

[planned]
type = "int"
min = 1
max = 40

[low]
type = "bool"
)";

const char* const DATED = R"(
rule work "Work"
when
  low == true
then
  challenge c "A challenge"
  solution s for c "A solution"
  goal late for c by session planned "By the last session"
  goal early for c by session 4 "By session 4"
  goal undated for c "Whenever"
  goal middle for c by session (planned + 4) / 2 "Half-way"
end

rule plan_wide "Plan-wide"
when
  low == true
then
  goal pw_a "PW at every session"
  goal pw_b by session 2 "PW by two"
  goal pw_c by session 1 "PW by one"
end
)";

plan dated_plan(const std::string& findings, bool with_session = true) {
  auto files = in_memory_rule_set(DATED_VOCAB, {{"a.rules", DATED}});
  if (with_session) files[0].text += "session_finding = \"session\"\n";
  std::vector<diagnostic> diags;
  auto rs = load_rule_set(files, "test", diags);
  INFO(all_diags(diags));
  REQUIRE(rs.has_value());
  auto client = read_findings(*rs->prog, "f.toml", findings, {}, diags);
  REQUIRE(client.has_value());
  auto ev = evaluate(*rs->prog, *client, true);
  return build_plan(*rs, *client, ev, "sha");
}

const plan_item& goal(const plan& p, const std::string& id) {
  for (const auto& g : p.goals) {
    if (g.id == id) return g;
  }
  FAIL("no goal " << id);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("dated goals: the date is evaluated with the client's values, rounded down") {
  auto p = dated_plan("low = true\nplanned = 11\nsession = 2\n");
  CHECK(goal(p, "early").due_session == 4);
  CHECK(goal(p, "late").due_session == 11);
  CHECK(goal(p, "middle").due_session == 7);  // (11 + 4) / 2 = 7.5
  CHECK_FALSE(goal(p, "undated").due_session.has_value());
  CHECK(p.current_session == 2);
  // A value the date reads that is not recorded: no date, not a guess.
  auto unknown = dated_plan("low = true\nsession = 2\n");
  CHECK_FALSE(goal(unknown, "late").due_session.has_value());
  CHECK_FALSE(goal(unknown, "middle").due_session.has_value());
  CHECK(goal(unknown, "early").due_session == 4);
}

TEST_CASE("dated goals: passed only when the session is later than the date") {
  auto at = [](int session) {
    return dated_plan("low = true\nplanned = 12\nsession = " + std::to_string(session) + "\n");
  };
  CHECK_FALSE(goal(at(3), "early").due_passed);
  CHECK_FALSE(goal(at(4), "early").due_passed);  // due by this session: not passed
  CHECK(goal(at(5), "early").due_passed);
  CHECK_FALSE(goal(at(5), "middle").due_passed);  // (12 + 4) / 2 = 8
  CHECK(goal(at(9), "middle").due_passed);
  CHECK_FALSE(goal(at(12), "late").due_passed);
  CHECK_FALSE(goal(at(40), "undated").due_passed);
  // The session not recorded, or no session_finding: never passed.
  CHECK_FALSE(goal(dated_plan("low = true\nplanned = 12\n"), "early").due_passed);
  CHECK_FALSE(goal(dated_plan("low = true\nplanned = 12\nsession = 9\n", false), "early").due_passed);
  CHECK_FALSE(dated_plan("low = true\nsession = 9\n", false).current_session.has_value());
}

TEST_CASE("dated goals: listed in the order they fall due, undated last under a challenge and in place elsewhere") {
  auto p = dated_plan("low = true\nplanned = 12\nsession = 6\n");
  auto text = render_text(p);
  auto at = [&](const std::string& s) {
    auto i = text.find(s);
    INFO(text);
    REQUIRE(i != std::string::npos);
    return i;
  };
  // Plan order is by id (early, late, middle, undated): the dated ones are
  // re-ordered 4, 8, 12 in the places dated goals hold, the undated one
  // stays last.
  CHECK(at("goal: By session 4") < at("goal: Half-way"));
  CHECK(at("goal: Half-way") < at("goal: By the last session"));
  CHECK(at("goal: By the last session") < at("goal: Whenever"));
  CHECK(text.find("goal: By session 4 (session 4 has passed)") != std::string::npos);
  CHECK(text.find("Half-way (session") == std::string::npos);
  // Plan-wide: the undated goal keeps its place (first, as in plan order),
  // the dated ones follow by date.
  CHECK(at("goal: PW at every session") < at("goal: PW by one"));
  CHECK(at("goal: PW by one") < at("goal: PW by two"));
  // The course length not recorded: under the challenge, the goals it
  // dates have no date and come after the dated one.
  auto open = render_text(dated_plan("low = true\nsession = 2\n"));
  auto early = open.find("goal: By session 4");
  auto last = open.find("goal: By the last session");
  auto half = open.find("goal: Half-way");
  REQUIRE(early != std::string::npos);
  REQUIRE(last != std::string::npos);
  REQUIRE(half != std::string::npos);
  CHECK(early < last);
  CHECK(early < half);
  auto md = render_markdown(p);
  CHECK(md.find("- By session 4 (session 4 has passed)") != std::string::npos);
  CHECK(md.find("By session 4 (session 4 has passed)") < md.find("Half-way"));
  CHECK(md.find("- Note: Items marked '(session N has passed)'") != std::string::npos);
  auto j = nlohmann::json::parse(render_json(p));
  CHECK(j["current_session"] == 6);
  for (const auto& g : j["goals"]) {
    if (g["base_id"] == "early") {
      CHECK(g["due_session"] == 4);
      CHECK(g["due_passed"] == true);
    }
    if (g["base_id"] == "undated") {
      CHECK(g["due_session"].is_null());
      CHECK(g["due_passed"] == false);
    }
  }
}

TEST_CASE("dated goals: a date that is not a number is an error") {
  std::vector<diagnostic> diags;
  auto rs = load_rule_set(in_memory_rule_set(DATED_VOCAB, {{"a.rules", R"(rule r
when
  low == true
then
  goal g by session low "x"
end
)"}}),
                          "test", diags);
  CHECK_FALSE(rs.has_value());
  auto d = with_code(diags, "check.type");
  REQUIRE(d.size() == 1);
  CHECK(d[0].message == "'by session' needs a session number, but 'low' is true or false");
  CHECK(d[0].line == 5);
  CHECK(d[0].column == 21);
}

TEST_CASE("dated goals: a constant date must be a session, 1 to 1000") {
  auto date_error = [](const std::string& date) -> std::string {
    std::vector<diagnostic> diags;
    auto rs = load_rule_set(
        in_memory_rule_set(DATED_VOCAB, {{"a.rules", "rule r\nwhen\n  low == true\nthen\n  goal g by session " +
                                                         date + " \"x\"\nend\n"}}),
        "test", diags);
    auto d = with_code(diags, "check.goal-date");
    if (rs.has_value()) CHECK(d.empty());
    return d.empty() ? std::string() : d[0].message;
  };
  CHECK(date_error("-5") ==
        "'by session' needs a session number (a whole number from 1 to 1000), but '-5' is -5, before the first "
        "session");
  CHECK(date_error("0") ==
        "'by session' needs a session number (a whole number from 1 to 1000), but '0' is 0, before the first session");
  CHECK(date_error("2.5") ==
        "'by session' needs a session number (a whole number from 1 to 1000), but '2.5' is 2.5, not a whole number");
  CHECK(date_error("1001") == "'by session' needs a session number (a whole number from 1 to 1000), but '1001' is "
                              "1001, past any course");
  CHECK(date_error("1").empty());
  CHECK(date_error("1000").empty());
  // Arithmetic on fixed values is worked out when the rules are checked.
  CHECK(date_error("2 - 3") == "'by session' needs a session number (a whole number from 1 to 1000), but '2 - 3' "
                               "is -1, before the first session");
  CHECK(date_error("7 / 2").find("is 3.5, not a whole number") != std::string::npos);
  CHECK(date_error("(3 + 5) / 2").empty());
  CHECK(date_error("4 / 0") ==
        "'by session' needs a session number (a whole number from 1 to 1000), but '4 / 0' divides by zero");
  CHECK(date_error("planned / 0").find("divides by zero") != std::string::npos);
  // A value read from the client: checked when it is worked out.
  CHECK(date_error("planned - 20").empty());
}

TEST_CASE("dated goals: a date worked out to no session is dropped, with a warning that quotes no value") {
  std::vector<diagnostic> diags;
  auto rs = load_rule_set(in_memory_rule_set(DATED_VOCAB, {{"a.rules", R"(rule r
when
  low == true
then
  goal g by session planned - 20 "x"
  goal h by session planned / (planned - 12) "y"
end
)"}}),
                          "test", diags);
  REQUIRE(rs.has_value());
  auto client = read_findings(*rs->prog, "f.toml", "low = true\nplanned = 12\n", {}, diags);
  REQUIRE(client.has_value());
  auto ev = evaluate(*rs->prog, *client, true);
  auto p = build_plan(*rs, *client, ev, "sha");
  REQUIRE(p.goals.size() == 2);
  CHECK_FALSE(p.goals[0].due_session.has_value());
  CHECK_FALSE(p.goals[1].due_session.has_value());
  auto d = with_code(p.diagnostics, "plan.goal-date");
  REQUIRE(d.size() == 1);  // a division by zero is unknown: no date, no value to warn about
  CHECK(d[0].level == severity::warning);
  CHECK(d[0].message ==
        "rule 'r' dates goal 'g' to a value that is not a session number (1 to 1000): the goal is shown without a "
        "date");
  CHECK(d[0].message.find("-8") == std::string::npos);
  CHECK(d[0].file == "a.rules");
  CHECK(d[0].line == 5);  // the goal's line, not the rule's
  CHECK(d[0].column == 3);
}

TEST_CASE("templates: an entry without its key field is named by its position, not 'not yet known'") {
  auto x = run(DISPUTE, "[[people]]\nconflict = true\nmismatch = true\n");
  const plan_item* ch = x.pl.find("dispute[1]");
  REQUIRE(ch != nullptr);
  CHECK(ch->text == "Dispute with entry 1 (no label)");
}

TEST_CASE("templates: a word in parentheses that repeats the word before it is left out (answers and unknowns stay)") {
  auto x = run(R"rules(
rule named "Names each person"
for each p in people
when
  p.conflict == true
then
  flag info plain "{p.label} ({p.label}): text"
  flag info listed "{p.label} ({p.label}, more)"
  flag info last "With {p.label} ({p.label})"
  flag info kept "{p.label} ({p.conflict})"
  flag info spaced "{p.label} and ({p.label})"
  flag info answers "{p.conflict} ({p.conflict})"
  flag info unknowns "{p.mismatch} ({p.mismatch})"
  flag info unknown_after "{p.label} ({p.mismatch}): text"
  flag info unknown_listed "{p.label} ({p.mismatch}, more)"
  flag info unknown_kept "{p.label} and ({p.mismatch})"
end
)rules",
               "[[people]]\nlabel = \"mother_in_law\"\nconflict = true\n");
  auto text = [&](const std::string& id) {
    const plan_item* it = x.pl.find(id + "[mother_in_law]");
    REQUIRE(it != nullptr);
    return it->text;
  };
  CHECK(text("plain") == "mother in law: text");
  CHECK(text("listed") == "mother in law (more)");
  CHECK(text("last") == "With mother in law");
  CHECK(text("kept") == "mother in law (yes)");
  CHECK(text("spaced") == "mother in law and (mother in law)");
  // Only words echo: two answers, or two findings not on file, are two facts.
  CHECK(text("answers") == "yes (yes)");
  CHECK(text("unknowns") == "not yet known (not yet known)");
  // A word followed by an answer not yet known in parentheses: the word
  // alone (a person recorded without a role reads "boyfriend").
  CHECK(text("unknown_after") == "mother in law: text");
  CHECK(text("unknown_listed") == "mother in law (more)");
  CHECK(text("unknown_kept") == "mother in law and (not yet known)");
}

TEST_CASE("templates: an entry's key reads as words in a text, and stays as it is in the item's id") {
  auto x = run(std::string(DISPUTE) + R"(
rule named "Names the person through a fact"
for each p in people
when
  p.conflict == true
then
  conclude focus.who = p.label
  flag info named "With the {focus.who}"
end
)",
               "[[people]]\nlabel = \"mother_in_law\"\nconflict = true\nmismatch = true\n");
  const plan_item* ch = x.pl.find("dispute[mother_in_law]");
  REQUIRE(ch != nullptr);
  CHECK(ch->text == "Dispute with mother in law");
  const plan_item* f = x.pl.find("named[mother_in_law]");
  REQUIRE(f != nullptr);
  CHECK(f->text == "With the mother in law");
}

TEST_CASE("what a work plan also waits on: the ranked findings first, five in all, then how many more") {
  iptplan::plan p;
  for (const char* f : {"q", "r", "s"}) {
    iptplan::assess_item a;
    a.finding = f;
    p.to_assess.push_back(a);
  }
  const std::vector<std::string> fs{"a", "b", "s", "c", "q", "d", "e"};
  CHECK(iptplan::ranked_few(p, fs, 5) ==
        std::vector<std::string>{"q (ask next 1)", "s (ask next 3)", "a", "b", "c", "2 more findings"});
  // Five or fewer: all, nothing counted.
  CHECK(iptplan::ranked_few(p, {"a", "r"}, 5) == std::vector<std::string>{"r (ask next 2)", "a"});
  CHECK(iptplan::ranked_few(p, {"a", "b", "c", "d", "e"}, 5).size() == 5);
}

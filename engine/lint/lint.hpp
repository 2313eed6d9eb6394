// `iptplan lint`: what a clinical lead should know about a rule set that
// `check` accepts. Each finding is a warning with a stable code:
//
//   lint.never-true          a condition no recorded values can make true
//   lint.always-true         a comparison every recorded value satisfies
//   lint.safety-exclude      a rule that is not a safety rule in safety.rules excludes a safety item
//   lint.shadowed            every item of a rule is proposed by a rule with a part of its conditions
//   lint.orphan-solution     a solution or goal for a challenge no rule can raise with it
//   lint.unknown-source      a rule cites a fact sources.toml does not list
//   lint.no-sources          rules cite facts and there is no sources.toml
//   lint.parameter-undeclared  a parameter without a declared range and unit
//   lint.fact-unread         a derived fact no rule reads, named like another (a misspelt conclude)
//   lint.free-text           a text finding or field with no pattern: it could hold a name
//
// A rule silences one with a comment in or just above it, giving the
// reason: `# lint: allow lint.never-true because ...`.
#pragma once

#include <optional>
#include <vector>

#include "engine/ruleset.hpp"

namespace iptplan {

// The one rule file whose safety rules may remove a safety item.
inline constexpr const char* kSafetyFile = "safety.rules";

std::vector<diagnostic> lint(const rule_set& rs);
// lint.safety-exclude and lint.fact-unread alone (a safety item a rule
// could remove; a misspelt `conclude`, which leaves the fact meant
// unconcluded while every check passes): what every command that loads a
// rule-set folder warns about.
std::vector<diagnostic> lint_on_load(const rule_set& rs);

// Whether rule `r` silences `code` with its reason (`# lint: allow CODE
// because ...`, in the rule or in the comments just above it).
bool lint_allowed(const program& p, const compiled_rule& r, const std::string& code);
// The reason it gives (the rest of the marker's line after "because "), or
// none when it does not silence `code`.
std::optional<std::string> lint_allow_reason(const program& p, const compiled_rule& r, const std::string& code);

}  // namespace iptplan

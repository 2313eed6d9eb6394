// One input through one part of iptplan, as a fuzzer or a regression test
// feeds it. Each driver must return normally whatever the bytes: any crash,
// hang, sanitizer report or exception escaping is a bug.
//
//   rules     a rule file, checked against the default vocabulary and formatted
//   findings  a findings file (TOML, and the same bytes as JSON or a FHIR QuestionnaireResponse), planned
//             with the default rules and rendered in every format, with why and why-not; the fast
//             path must select exactly the items explain mode selects (else abort)
//   config    the same bytes as a vocabulary, a ruleset.toml and a test case
#pragma once

#include <string>

namespace iptplan::fuzz {

void run_rules(const std::string& bytes);
void run_findings(const std::string& bytes);
void run_config(const std::string& bytes);

// By target name ("rules", "findings", "config"); false for another name.
bool run(const std::string& target, const std::string& bytes);

}  // namespace iptplan::fuzz

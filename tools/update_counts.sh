#!/bin/sh
# Puts the default rule set's current counts (rules, derived facts, test
# cases, coverage) into the docs that quote them. Run after adding or
# removing a rule or a test case: ./tools/update_counts.sh [build/cli/iptplan]
set -eu
cd "$(dirname "$0")/.."
bin=${1:-build/cli/iptplan}
check=$("$bin" check rules)
rules=$(echo "$check" | sed -n 's/.*), \([0-9]*\) rules in.*/\1/p')
facts=$(echo "$check" | sed -n 's/.* \([0-9]*\) derived facts.*/\1/p')
cov=$("$bin" test rules --coverage 2>&1)
cases=$(echo "$cov" | sed -n 's/^\([0-9]*\) passed, 0 failed$/\1/p')
false=$(echo "$cov" | sed -n 's/.*; \([0-9]*\) of [0-9]* were false.*/\1/p')
pct=$(echo "$cov" | sed -n 's/.*were false in some case (\([0-9.]*\)%).*/\1/p')
line=$(echo "$cov" | sed -n 's/^ *[0-9]* *0 *0 *measurement_schedule (rules\/measurement.rules:\([0-9]*\)).*/\1/p')
[ -n "$rules" ] && [ -n "$facts" ] && [ -n "$cases" ] && [ -n "$false" ] || { echo "cannot read the counts" >&2; exit 1; }
sed -i "s/[0-9]* rules in 12 files (safety,/$rules rules in 12 files (safety,/; s/\`rules\/tests\/\` holds [0-9]* test cases/\`rules\/tests\/\` holds $cases test cases/" README.md
sed -i "s/loaded: [0-9]* rules, [0-9]* derived facts/loaded: $rules rules, $facts derived facts/" docs/api.md
sed -i "s/\"rules\": [0-9]*, \"files\": 12, \"findings\": 60, \"facts\": [0-9]*/\"rules\": $rules, \"files\": 12, \"findings\": 60, \"facts\": $facts/; s/\"passed\": [0-9]*, \"failed\": 0/\"passed\": $cases, \"failed\": 0/; s/\"coverage\": {\"rules\": [0-9]*, \"fired\": [0-9]*, \"left_false\": [0-9]*/\"coverage\": {\"rules\": $rules, \"fired\": $rules, \"left_false\": $false/" docs/json.md
sed -i "s/[0-9]* rules in 12 files, 60 findings, [0-9]* derived facts/$rules rules in 12 files, 60 findings, $facts derived facts/" docs/rule-language.md
sed -i "s/Rule coverage over [0-9]* cases:/Rule coverage over $cases cases:/; s/^  [0-9]*      0        0          measurement_schedule (rules\/measurement.rules:[0-9]*)/  $cases      0        0          measurement_schedule (rules\/measurement.rules:$line)/; s/Coverage: [0-9]* of [0-9]* rules fired in some case (100.0%); [0-9]* of [0-9]* were false in some case ([0-9.]*%)./Coverage: $rules of $rules rules fired in some case (100.0%); $false of $rules were false in some case ($pct%)./" docs/testing.md
sed -i "s/0 of [0-9]* cases/0 of $cases cases/" docs/workbench.md
echo "$rules rules, $facts derived facts, $cases cases, $false of $rules false in some case"

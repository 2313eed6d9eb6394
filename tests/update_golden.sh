#!/bin/sh
# Regenerates the golden plans after an intended change: the markdown plan
# beside every example, and text, JSON, why and why-not for the seed cases.
# Review the diff (git diff examples tests/golden) before committing.
set -eu
cd "$(dirname "$0")/.."
bin=${1:-build/cli/iptplan}
mkdir -p tests/golden
for f in examples/*.toml; do
  "$bin" plan "$f" --format markdown > "${f%.toml}.md"
done
for ex in jane couple group empty; do
  "$bin" plan "examples/$ex.toml" --format text > "tests/golden/$ex.txt"
  "$bin" plan "examples/$ex.toml" --format json > "tests/golden/$ex.json"
done
"$bin" why weak_relationship examples/jane.toml > tests/golden/jane.why-weak_relationship.txt
"$bin" why-not low_social_support examples/jane.toml > tests/golden/jane.why-not-low_social_support.txt

#!/bin/sh
# The suite's last test (the cleanup of the ctest fixture 'transcript'):
# every test ran at log level debug with every message and log line copied
# to TRANSCRIPT (tests/cli_support.hpp). No such line may quote a line of an
# example findings file (a key with its value) or a client id recorded in
# one: messages name places and keys, never what a clinician recorded.
#
#   tests/leak_check.sh TRANSCRIPT SOURCE_DIR
set -eu
transcript=$1
src=$2
# Run alone (ctest -R leaks), no command has written to it: nothing to
# check. That commands do write to it is a test of its own (cli_test).
if [ ! -s "$transcript" ]; then
  echo "leak check: no command wrote to $transcript in this run: nothing to check"
  exit 0
fi
patterns=$(mktemp)
found=$(mktemp)
trap 'rm -f "$patterns" "$found"' EXIT
# Lines that record a value ('key = value'), without their comment, at least
# 10 characters long; and the client ids.
for f in "$src"/examples/*.toml; do
  sed -n 's/[[:space:]]*#.*$//; s/[[:space:]]*$//; /^[A-Za-z_][A-Za-z0-9_.]* *= *[^[:space:]]/p' "$f"
done | awk 'length($0) >= 10' >"$patterns"
sed -n 's/^id *= *"\([^"]*\)".*/\1/p' "$src"/examples/*.toml >>"$patterns"
sort -u -o "$patterns" "$patterns"
lines=$(wc -l <"$transcript")
if grep -F -n -f "$patterns" "$transcript" >"$found"; then
  echo "leak check: $(wc -l <"$found") of $lines message and log lines quote an example's findings:"
  head -20 "$found" | cut -c1-300
  exit 1
fi
echo "leak check: $lines message and log lines, none quotes any of $(wc -l <"$patterns") example findings lines and ids"

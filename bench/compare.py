#!/usr/bin/env python3
"""Check that iptplan and CLIPS proposed the same items for every client.

    compare.py IPTPLAN CLIPS_OUT [--subset] [--show N]

IPTPLAN is either
  * the output of `iptplan batch` (JSON Lines, one object per client:
    {"client_id", "items": [{"id", "kind", "status", "rules": [...]}],
     "undecided": [...], "errors": [...], ...}), or
  * a folder of `iptplan plan --format json` outputs named <client>.json
    (the check used before `batch` existed, and on a sample since).
CLIPS_OUT is the output of the generated CLIPS program: one line
`<client> <item id> <rule id>` per item each firing proposes.

For each client the two sets of (item id, rule id) pairs must be equal.
iptplan must moreover have planned every client without errors, left no
rule undecided and proposed nothing provisionally or excluded anything: the
generated findings are complete, so any of those is a difference too.
With --subset only the clients iptplan has are compared (a sample); by
default both sides must cover the same clients.

Prints a summary, and the first differences (--show, default 10). Exit
status 0 when everything agrees, 1 on any difference, 2 on unreadable input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict

Pairs = set  # of (item id, rule id)


class Report:
    """Differences, counted in full, the first few kept for printing."""

    def __init__(self, show: int):
        self.show = show
        self.count = 0
        self.lines: list[str] = []

    def add(self, client: str, what: str) -> None:
        self.count += 1
        if len(self.lines) < self.show:
            self.lines.append(f"  {client}: {what}")


def iptplan_batch(path: str, report: Report) -> dict[str, Pairs]:
    """Items by client from `iptplan batch` output."""
    result: dict[str, Pairs] = {}
    with open(path) as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"compare.py: {path}:{number}: not JSON: {e}")
            client = record.get("client_id") or f"<line {number}>"
            for error in record.get("errors") or []:
                report.add(client, f"iptplan error: {error.get('message', error)}")
            if record.get("undecided"):
                report.add(client, f"iptplan left rules undecided: {', '.join(map(str, record['undecided'][:5]))}")
            pairs = set()
            for item in record.get("items") or []:
                if item.get("status", "confirmed") != "confirmed":
                    report.add(client, f"item {item['id']} is {item['status']}")
                pairs.update((item["id"], rule) for rule in item.get("rules", []))
            if client in result:
                report.add(client, "planned twice by iptplan")
            result[client] = pairs
    return result


def iptplan_plans(folder: str, report: Report) -> dict[str, Pairs]:
    """Items by client from a folder of `plan --format json` files."""
    result: dict[str, Pairs] = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json"):
            continue
        client = name[: -len(".json")]
        with open(os.path.join(folder, name)) as f:
            try:
                plan = json.load(f)
            except json.JSONDecodeError as e:
                raise SystemExit(f"compare.py: {folder}/{name}: not JSON: {e}")
        for key in ("undecided", "provisional", "excluded", "diagnostics"):
            if plan.get(key):
                report.add(client, f"the plan's {key} is not empty ({len(plan[key])})")
        pairs = set()
        for kind in ("flags", "challenges", "solutions", "goals"):
            for item in plan.get(kind, []):
                pairs.update((item["id"], reason["rule"]) for reason in item.get("because", []))
        result[client] = pairs
    return result


def clips_output(path: str, report: Report) -> dict[str, Pairs]:
    """Items by client from the CLIPS program's output. Any other line
    (a CLIPS error or warning) is a difference."""
    result: dict[str, Pairs] = defaultdict(set)
    with open(path) as lines:
        for number, line in enumerate(lines, 1):
            fields = line.split()
            if len(fields) == 3:
                result[fields[0]].add((fields[1], fields[2]))
            elif fields:
                report.add(f"CLIPS line {number}", line.rstrip()[:120])
    return result


def describe(pairs: Pairs) -> str:
    """{(ch_3, r1), (ch_3, r7), (so_2, r4)} as "ch_3 (r1, r7), so_2 (r4)"."""
    by_item: dict[str, list[str]] = defaultdict(list)
    for item, rule in pairs:
        by_item[item].append(rule)
    key = lambda s: (s.rstrip("0123456789"), int("0" + s[len(s.rstrip("0123456789")):]))
    return ", ".join(f"{item} ({', '.join(sorted(rules, key=key))})"
                     for item, rules in sorted(by_item.items(), key=lambda kv: key(kv[0])))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("iptplan", help="`iptplan batch` output (.jsonl), or a folder of plan JSON files")
    ap.add_argument("clips", help="output of the generated CLIPS program")
    ap.add_argument("--subset", action="store_true", help="compare only the clients iptplan has")
    ap.add_argument("--show", type=int, default=10, help="differences to print (default 10)")
    args = ap.parse_args(argv)

    report = Report(args.show)
    try:
        ours = (iptplan_plans if os.path.isdir(args.iptplan) else iptplan_batch)(args.iptplan, report)
        theirs = clips_output(args.clips, report)
    except OSError as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 2

    clients = sorted(ours) if args.subset else sorted(set(ours) | set(theirs))
    pairs = items = 0
    for client in clients:
        a, b = ours.get(client), theirs.get(client, set())
        if a is None:
            report.add(client, f"not planned by iptplan (CLIPS: {len(b)} items)")
            continue
        pairs += len(a)
        items += len({item for item, _ in a})
        if a != b:
            parts = []
            if a - b:
                parts.append("only iptplan: " + describe(a - b))
            if b - a:
                parts.append("only CLIPS: " + describe(b - a))
            report.add(client, "; ".join(parts))

    print(f"compared {len(clients)} clients, {items} items, {pairs} (item, rule) pairs: "
          + ("the same" if report.count == 0 else f"{report.count} differences"))
    for line in report.lines:
        print(line)
    if report.count > len(report.lines):
        print(f"  ... and {report.count - len(report.lines)} more")
    return 0 if report.count == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

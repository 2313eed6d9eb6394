#!/usr/bin/env python3
"""Generate one size of the iptplan-versus-CLIPS benchmark.

    generate.py RULES FINDINGS CLIENTS OUTDIR [--seed N] [--toml [N]]

writes, from nothing but the seed (the same arguments give the same bytes):

  OUTDIR/rules/           an iptplan rule-set folder: ruleset.toml,
                          vocabulary.toml (client.id, and FINDINGS findings
                          in a few sections) and RULES rules over several
                          .rules files
  OUTDIR/clients.jsonl    CLIENTS clients, one findings document (JSON) a
                          line, each naming its client by the finding
                          client.id: the input of `iptplan batch`
                          (--wrapped: {"client_id": ..., "findings": ...})
  OUTDIR/clients/         the same clients as TOML findings files, for
                          `iptplan plan` (only with --toml; --toml N: the
                          first N clients only)
  OUTDIR/clips/           the same rules and clients for CLIPS 6.30:
                          rules.clp, facts.clp, and two batch files for
                          `clips -f2`: run.clp (every client at once, one
                          run) and stream.clp (one client at a time)
  OUTDIR/summary.json     what was generated, and how many rules and items a
                          client gets on average (from a sample of clients)

The rule set is meant to look like a real one, not like a micro-benchmark:
integer, yes/no and choice findings; comparisons, `in` sets, sums, clinic-set
parameters, and/or/not; derived facts that later rules read, positively and
under `not`, so the rules fall into several strata; and item ids shared by
several rules, so that one item often has several reasons.

Every client records every finding, so iptplan's three-valued logic never
meets "unknown": no rule is undecided, every derived fact is true or false,
and iptplan's answer must equal the two-valued answer CLIPS gives. Rules use
neither `exclude`, `for each` nor `provisional when`, which CLIPS has no
counterpart for that would not be a re-implementation of iptplan.

The CLIPS translation (see ClipsWriter below for the details):

  * one deftemplate `client` with a slot per finding (same names as the
    findings, `s1.f3`), one `client` fact per client;
  * a derived fact `fact.dN` of a client is the ordered fact `(fact.dN <id>)`;
  * each rule is one defrule; its salience is its stratum counted from the
    top, so every rule that concludes a fact fires before any rule that reads
    it, which makes `(not (fact.dN ?c))` safe: when the reader fires, the
    fact has its final value;
  * a condition that mixes findings and derived facts is expanded on its
    derived facts (Shannon expansion) into disjuncts that exclude each other,
    each a conjunction of fact literals and a condition on findings only; so
    a rule fires at most once per client, however its `or`s are nested;
  * the condition on findings sits inside the `client` pattern (literal and
    predicate constraints), where CLIPS tests it once per client;
  * each firing prints one line per item: `<client> <item id> <rule id>`,
    all of a firing's lines in one printout of one string.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
from dataclasses import dataclass, field
from typing import Iterable, Union

# --------------------------------------------------------------- vocabulary ---

# Choice findings draw their values from one of these scales.
ENUM_SCALES = [
    ("low", "moderate", "high"),
    ("none", "mild", "moderate", "severe"),
    ("never", "rarely", "sometimes", "often", "always"),
    ("weak", "moderate", "strong"),
    ("absent", "partial", "present"),
    ("daily", "weekly", "monthly", "rarely"),
]
INT_MAXIMA = (10, 20, 27, 50, 100)


@dataclass(frozen=True)
class Finding:
    """One declared finding: `s2.f7`, an int in [lo, hi], a bool or an enum."""

    index: int  # 1-based, global: the `7` of s2.f7
    section: int  # the `2` of s2.f7
    type: str  # "int" | "bool" | "enum"
    lo: int = 0
    hi: int = 0
    values: tuple = ()
    weights: tuple = ()  # how often clients hold each value (enum, bool)

    @property
    def path(self) -> str:
        return f"s{self.section}.f{self.index}"



def make_vocabulary(rng: random.Random, n: int) -> list[Finding]:
    """`n` findings, about 45% integers, 25% yes/no, 30% choices, in
    contiguous blocks of sections (s1.f1 ... s1.f10, s2.f11, ...)."""
    sections = max(2, min(10, round(n / 12)))
    per_section = -(-n // sections)
    findings = []
    for i in range(1, n + 1):
        section = (i - 1) // per_section + 1
        r = rng.random()
        if r < 0.45:
            findings.append(Finding(i, section, "int", 0, rng.choice(INT_MAXIMA)))
        elif r < 0.70:
            p = rng.uniform(0.25, 0.75)
            findings.append(Finding(i, section, "bool", values=(True, False), weights=(p, 1 - p)))
        else:
            values = rng.choice(ENUM_SCALES)
            weights = tuple(rng.uniform(0.5, 1.5) for _ in values)
            findings.append(Finding(i, section, "enum", values=values, weights=weights))
    return findings


# ------------------------------------------------------------ condition AST ---
#
# Conditions are small immutable trees. Atoms about findings are NumCmp
# (a number, a finding or a sum of two, compared with a literal or a
# parameter), NumIn, EnumTest and BoolTest; Fact reads a derived fact;
# And, Or, Not combine; Const is what simplification leaves behind.


@dataclass(frozen=True)
class Param:
    name: str
    value: int


@dataclass(frozen=True)
class Sum:
    """`a + b` or `a - b` over two integer findings."""

    a: Finding
    op: str
    b: Finding


@dataclass(frozen=True)
class NumCmp:
    lhs: Union[Finding, Sum]
    op: str  # == != < <= > >=
    rhs: Union[int, Param]


@dataclass(frozen=True)
class NumIn:
    f: Finding
    values: tuple
    negated: bool = False  # only made by negation (NNF); iptplan text: not (x in {...})


@dataclass(frozen=True)
class EnumTest:
    f: Finding
    op: str  # "==" | "!=" | "in" | "notin" (notin only made by negation)
    values: tuple


@dataclass(frozen=True)
class BoolTest:
    f: Finding
    value: bool
    bare: bool  # written `s1.f2` / `not s1.f2` rather than `s1.f2 == true`


@dataclass(frozen=True)
class Fact:
    name: str  # "fact.d12"


@dataclass(frozen=True)
class Not:
    x: "Cond"


@dataclass(frozen=True)
class And:
    xs: tuple


@dataclass(frozen=True)
class Or:
    xs: tuple


@dataclass(frozen=True)
class Const:
    value: bool


Cond = Union[NumCmp, NumIn, EnumTest, BoolTest, Fact, Not, And, Or, Const]
ATOMS = (NumCmp, NumIn, EnumTest, BoolTest)
NEGATED_OP = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


def numeric(x: Union[int, Param]) -> int:
    return x.value if isinstance(x, Param) else x


def evaluate(c: Cond, client: dict, facts: set) -> bool:
    """Two-valued meaning of a condition (every finding is recorded)."""
    if isinstance(c, NumCmp):
        if isinstance(c.lhs, Sum):
            a, b = client[c.lhs.a.path], client[c.lhs.b.path]
            lhs = a + b if c.lhs.op == "+" else a - b
        else:
            lhs = client[c.lhs.path]
        rhs = numeric(c.rhs)
        return {"==": lhs == rhs, "!=": lhs != rhs, "<": lhs < rhs,
                "<=": lhs <= rhs, ">": lhs > rhs, ">=": lhs >= rhs}[c.op]
    if isinstance(c, NumIn):
        return (client[c.f.path] in c.values) != c.negated
    if isinstance(c, EnumTest):
        inside = client[c.f.path] in c.values
        return inside if c.op in ("==", "in") else not inside
    if isinstance(c, BoolTest):
        return client[c.f.path] == c.value
    if isinstance(c, Fact):
        return c.name in facts
    if isinstance(c, Not):
        return not evaluate(c.x, client, facts)
    if isinstance(c, And):
        return all(evaluate(x, client, facts) for x in c.xs)
    if isinstance(c, Or):
        return any(evaluate(x, client, facts) for x in c.xs)
    return c.value


def facts_in(c: Cond) -> list[str]:
    """The derived facts a condition reads, in order of first appearance."""
    out: list[str] = []

    def walk(x):
        if isinstance(x, Fact):
            if x.name not in out:
                out.append(x.name)
        elif isinstance(x, Not):
            walk(x.x)
        elif isinstance(x, (And, Or)):
            for y in x.xs:
                walk(y)

    walk(c)
    return out


def paths_read(c: Cond) -> Iterable[str]:
    """Paths a condition reads, findings and derived facts, in order."""
    if isinstance(c, NumCmp):
        if isinstance(c.lhs, Sum):
            yield c.lhs.a.path
            yield c.lhs.b.path
        else:
            yield c.lhs.path
    elif isinstance(c, (NumIn, EnumTest, BoolTest)):
        yield c.f.path
    elif isinstance(c, Fact):
        yield c.name
    elif isinstance(c, Not):
        yield from paths_read(c.x)
    elif isinstance(c, (And, Or)):
        for x in c.xs:
            yield from paths_read(x)


def substitute(c: Cond, name: str, value: bool) -> Cond:
    """`c` with the derived fact `name` replaced by a constant, simplified."""
    if isinstance(c, Fact):
        return Const(value) if c.name == name else c
    if isinstance(c, Not):
        x = substitute(c.x, name, value)
        return Const(not x.value) if isinstance(x, Const) else Not(x)
    if isinstance(c, (And, Or)):
        absorbing = isinstance(c, Or)  # true absorbs an or, false an and
        kept = []
        for y in c.xs:
            y = substitute(y, name, value)
            if isinstance(y, Const):
                if y.value == absorbing:
                    return Const(absorbing)
                continue
            kept.append(y)
        if not kept:
            return Const(not absorbing)
        return kept[0] if len(kept) == 1 else type(c)(tuple(kept))
    return c


def negate_atom(a: Cond) -> Cond:
    if isinstance(a, NumCmp):
        return NumCmp(a.lhs, NEGATED_OP[a.op], a.rhs)
    if isinstance(a, NumIn):
        return NumIn(a.f, a.values, not a.negated)
    if isinstance(a, EnumTest):
        op = {"==": "!=", "!=": "==", "in": "notin", "notin": "in"}[a.op]
        return EnumTest(a.f, op, a.values)
    if isinstance(a, BoolTest):
        return BoolTest(a.f, not a.value, a.bare)
    raise TypeError(a)


def nnf(c: Cond, negate: bool = False) -> Cond:
    """Negation normal form over findings: `not` pushed into the atoms.
    Exact here because every finding is recorded (two-valued logic)."""
    if isinstance(c, Not):
        return nnf(c.x, not negate)
    if isinstance(c, (And, Or)):
        kind = type(c) if not negate else (Or if isinstance(c, And) else And)
        xs = []
        for x in (nnf(y, negate) for y in c.xs):
            xs.extend(x.xs if isinstance(x, kind) else (x,))  # (a or (b or c)) is (a or b or c)
        return kind(tuple(xs))
    if isinstance(c, Const):
        return Const(c.value != negate)
    if isinstance(c, Fact):
        raise ValueError("derived facts are expanded before NNF")
    return negate_atom(c) if negate else c


def shannon(c: Cond, literals: tuple = ()) -> Iterable[tuple[tuple, Cond]]:
    """Expand `c` on the derived facts it reads: yields (literals, rest),
    where literals is a tuple of (fact, holds) and rest reads findings only.
    The disjuncts exclude each other and their or is `c`."""
    if isinstance(c, Const) and not c.value:
        return
    names = facts_in(c)
    if not names:
        yield literals, c
        return
    name = names[0]
    for value in (True, False):
        yield from shannon(substitute(c, name, value), literals + ((name, value),))


def domain(f: Finding) -> list:
    """Every value a finding can take: domains are small and finite."""
    return list(range(f.lo, f.hi + 1)) if f.type == "int" else list(f.values)


def allowed_values(f: Finding, conjuncts: list) -> list:
    """The values of `f` that every one of `conjuncts` (each reading `f`
    alone) accepts."""
    return [v for v in domain(f) if all(evaluate(c, {f.path: v}, set()) for c in conjuncts)]


def split_conjuncts(rest: Cond, finding_of) -> tuple[dict, list]:
    """A finding-only condition in NNF as ({finding: [conjuncts about it
    alone]}, [conjuncts reading several findings])."""
    conjuncts = () if isinstance(rest, Const) else (rest.xs if isinstance(rest, And) else (rest,))
    per_slot: dict = {}
    several = []
    for c in conjuncts:
        read = {finding_of(p) for p in paths_read(c)}
        if len(read) == 1:
            per_slot.setdefault(read.pop(), []).append(c)
        else:
            several.append(c)
    return per_slot, several


def may_fire(c: Cond, finding_of) -> bool:
    """False when no client can satisfy `c`: every disjunct of its
    expansion has contradictory derived facts or a finding no value of
    which passes (`x == "a" and x == "b"`). Conjuncts over several findings
    are not looked at, so true means "not refuted"."""
    for _, rest in shannon(c):
        rest = nnf(rest)
        if isinstance(rest, Const):
            if rest.value:
                return True
            continue
        per_slot, _ = split_conjuncts(rest, finding_of)
        if all(allowed_values(f, cs) for f, cs in per_slot.items()):
            return True
    return False


# --------------------------------------------------------------- rule model ---


@dataclass
class Item:
    kind: str  # flag | challenge | solution | goal
    id: str
    number: int
    severity: str = ""  # flags
    for_: str = ""  # solutions (always) and goals (sometimes): a challenge id


@dataclass
class Rule:
    id: str
    stratum: int
    priority: int
    file: int
    cond: Cond
    items: list = field(default_factory=list)  # list[Item]
    concludes: str = ""  # a derived fact, or ""


# ---------------------------------------------------------------- generator ---


class RuleSetGenerator:
    """Draws a vocabulary, parameters, rules and clients from one seed."""

    def __init__(self, n_rules: int, n_findings: int, seed: int):
        self.rng = random.Random(seed)
        self.findings = make_vocabulary(self.rng, n_findings)
        self.ints = [f for f in self.findings if f.type == "int"]
        self.params = self._make_params()
        self.used_params: set[str] = set()
        self.n_rules = n_rules
        # A few strata more for larger rule sets: 50 -> 4, 1,000 -> 6, 10,000 -> 7.
        self.n_strata = 2 + len(str(n_rules))
        self.n_files = max(3, min(20, n_rules // 100))
        # Larger rule sets are more specific: each rule tests more findings
        # (one more conjunct per tenfold above 99 rules), so that a client
        # still gets a plan of plausible size rather than thousands of items.
        self.specificity = max(0, min(3, len(str(n_rules)) - 2))
        self.items = self._make_item_pools(n_rules)
        self.facts_by_stratum: list[list[str]] = []
        self.rules = self._make_rules()
        self.by_stratum = [[r for r in self.rules if r.stratum == s] for s in range(self.n_strata)]
        self._attach_solutions_and_goals()

    def finding_of(self, path: str) -> Finding:
        return self.findings[int(path.split(".f")[1]) - 1]

    # -- parameters and items --

    def _make_params(self) -> list[Param]:
        """Clinic-set thresholds, read as param.pN by some comparisons."""
        count = max(2, min(10, len(self.findings) // 10))
        return [Param(f"p{i}", self.rng.randint(5, 40)) for i in range(1, count + 1)]

    def _make_item_pools(self, n_rules: int) -> dict[str, list[Item]]:
        """Ids of each kind; a pool smaller than the rule count, so that an
        item is usually proposed by several rules."""
        sizes = {"challenge": max(5, n_rules // 4), "solution": max(5, n_rules // 4),
                 "goal": max(5, n_rules // 5), "flag": max(3, n_rules // 10)}
        prefix = {"challenge": "ch", "solution": "so", "goal": "go", "flag": "fl"}
        severities = ("info", "warning", "critical")
        return {kind: [Item(kind, f"{prefix[kind]}_{i}", i, severity=severities[i % 3] if kind == "flag" else "")
                       for i in range(1, size + 1)]
                for kind, size in sizes.items()}

    # -- atoms --

    def _threshold(self, f: Finding) -> int:
        """A cut-off that leaves between a fifth and four fifths of clients on
        each side: conditions neither always nor never true."""
        span = f.hi - f.lo
        t = f.lo + round(span * self.rng.uniform(0.2, 0.8))
        return max(f.lo + 1, min(f.hi - 1, t))

    def _num_atom(self, f: Finding) -> Cond:
        r = self.rng.random()
        if r < 0.07 and len(self.ints) > 1:  # a sum or difference of two scores
            g = self.rng.choice([x for x in self.ints if x is not f])
            op = self.rng.choice("+-")
            if op == "+":
                t = round((f.hi + g.hi) * self.rng.uniform(0.3, 0.7))
            else:
                t = round((f.hi - g.hi) / 2 + self.rng.uniform(-0.2, 0.2) * max(f.hi, g.hi))
            return NumCmp(Sum(f, op, g), self.rng.choice((">=", ">", "<")), t)
        if r < 0.14:  # a clinic-set threshold, when one fits the range
            fitting = [p for p in self.params if f.lo + 0.2 * (f.hi - f.lo) <= p.value <= f.lo + 0.8 * (f.hi - f.lo)]
            if fitting:
                p = self.rng.choice(fitting)
                self.used_params.add(p.name)
                return NumCmp(f, self.rng.choice((">=", "<")), p)
        if r < 0.20 and f.hi <= 27:  # a few exact values
            k = self.rng.randint(2, max(2, (f.hi - f.lo) // 3))
            return NumIn(f, tuple(sorted(self.rng.sample(range(f.lo, f.hi + 1), k))))
        if r < 0.25:
            return NumCmp(f, self.rng.choice(("==", "!=")), self.rng.randint(f.lo, f.hi))
        return NumCmp(f, self.rng.choice((">=", ">", "<", "<=")), self._threshold(f))

    def _finding_atom(self) -> Cond:
        f = self.rng.choice(self.findings)
        if f.type == "int":
            return self._num_atom(f)
        if f.type == "bool":
            return BoolTest(f, self.rng.random() < 0.6, bare=self.rng.random() < 0.7)
        r = self.rng.random()
        if r < 0.55:
            return EnumTest(f, "==", (self.rng.choice(f.values),))
        if r < 0.70:
            return EnumTest(f, "!=", (self.rng.choice(f.values),))
        picked = set(self.rng.sample(f.values, self.rng.randint(2, len(f.values) - 1)))
        return EnumTest(f, "in", tuple(v for v in f.values if v in picked))

    def _finding_term(self) -> Cond:
        """One conjunct about findings: mostly a plain test, sometimes an
        alternative, a negated pair or a small nested condition."""
        r = self.rng.random()
        if r < 0.65:
            return self._finding_atom()
        if r < 0.85:
            return Or((self._finding_atom(), self._finding_atom()))
        if r < 0.95:
            return Not(And((self._finding_atom(), self._finding_atom())))
        return Or((And((self._finding_atom(), self._finding_atom())), self._finding_atom()))

    def _fact_term(self, near: list[str], below: list[str]) -> Cond:
        """One conjunct about derived facts: `near` are the facts of the
        stratum just below (at least one such read keeps the strata
        apart), `below` all facts of lower strata."""
        a = self.rng.choice(near)
        r = self.rng.random()
        if r < 0.45:
            return Fact(a)
        if r < 0.75:
            return Not(Fact(a))
        if r < 0.85 and len(below) > 1:
            b = self.rng.choice([x for x in below if x != a])
            return Or((Fact(a), Fact(b)))
        if r < 0.95:
            return Or((Fact(a), self._finding_atom()))
        return Not(And((Fact(a), self._finding_atom())))

    # -- rules --

    def _stratum_sizes(self) -> list[int]:
        """About 40% of the rules read findings only; the rest are spread
        evenly over the strata above them."""
        first = max(1, round(self.n_rules * 0.4))
        rest = self.n_rules - first
        upper = self.n_strata - 1
        return [first] + [rest // upper + (1 if s < rest % upper else 0) for s in range(upper)]

    def _make_rules(self) -> list[Rule]:
        rules: list[Rule] = []
        number = 0
        sizes = self._stratum_sizes()
        for stratum, size in enumerate(sizes):
            below = [f for fs in self.facts_by_stratum for f in fs]
            near = self.facts_by_stratum[-1] if self.facts_by_stratum else []
            # Facts this stratum concludes (the top one concludes none); each
            # is concluded by one or more of the stratum's rules.
            n_facts = 0 if stratum == len(sizes) - 1 else max(2, size // 6)
            first_fact = sum(len(fs) for fs in self.facts_by_stratum) + 1
            concluders = sorted(self.rng.sample(range(size), min(size, max(n_facts, round(size * 0.35)))))
            n_facts = min(n_facts, len(concluders))  # every fact has a rule concluding it
            facts = [f"fact.d{first_fact + i}" for i in range(n_facts)]
            concludes = {j: facts[k % n_facts] for k, j in enumerate(concluders)} if facts else {}
            for j in range(size):
                number += 1
                cond = self._condition(near, below)
                rules.append(Rule(f"r{number}", stratum, self.rng.randint(10, 95),
                                  self.rng.randrange(self.n_files), cond,
                                  self._pick_items(), concludes.get(j, "")))
            self.facts_by_stratum.append(facts)
        return rules

    def _condition(self, near: list[str], below: list[str]) -> Cond:
        """One to three conjuncts about findings (more in a larger rule set:
        `specificity`) and, above the first stratum, one or two about
        derived facts, in random order. Drawn again in the rare
        case where the facts contradict each other (`fact.d1 and not
        fact.d1`, `x == "a" and x == "b"`), a rule that could never fire."""
        while True:
            n_terms = self.rng.choice((1, 2, 2, 3)) + self.specificity
            terms = [self._finding_term() for _ in range(n_terms)]
            if near:
                terms.append(self._fact_term(near, below))
                if len(below) > 2 and self.rng.random() < 0.3:
                    terms.append(self._fact_term(below, below))
            self.rng.shuffle(terms)
            cond = terms[0] if len(terms) == 1 else And(tuple(terms))
            if may_fire(cond, self.finding_of):
                return cond

    def _pick_items(self) -> list[Item]:
        kinds = self.rng.choices(("challenge", "solution", "goal", "flag"), (4, 3, 2, 1),
                                 k=self.rng.choice((1, 1, 2, 2, 3)))
        chosen: dict[str, Item] = {}
        for kind in kinds:
            item = self.rng.choice(self.items[kind])
            chosen.setdefault(item.id, item)  # a rule proposes an id once
        return list(chosen.values())

    def _attach_solutions_and_goals(self) -> None:
        """A solution is for a challenge some rule raises; so is about half
        of the goals. The choice is fixed per id, so merged items agree."""
        raised = sorted({i.id for r in self.rules for i in r.items if i.kind == "challenge"},
                        key=lambda s: int(s.split("_")[1]))
        if not raised:  # a tiny rule set: let the first rule raise one
            self.rules[0].items.append(self.items["challenge"][0])
            raised = [self.items["challenge"][0].id]
        for item in self.items["solution"]:
            item.for_ = self.rng.choice(raised)
        for item in self.items["goal"]:
            item.for_ = self.rng.choice(raised) if self.rng.random() < 0.5 else ""

    # -- clients --

    def clients(self, n: int, seed: int) -> Iterable[tuple[str, dict]]:
        """(id, {path: value}) for n clients, every finding recorded. Their
        own generator, so the clients do not shift when the rules change."""
        rng = random.Random(seed * 7919 + 1)
        for k in range(1, n + 1):
            values = {}
            for f in self.findings:
                if f.type == "int":
                    values[f.path] = rng.randint(f.lo, f.hi)
                else:
                    values[f.path] = rng.choices(f.values, f.weights)[0]
            yield f"c{k:07d}", values

    def fire(self, client: dict) -> list[Rule]:
        """The rules that fire for a client, stratum by stratum (the same
        answer both engines must give; used for the summary only)."""
        facts: set[str] = set()
        fired = []
        for stratum in self.by_stratum:
            now = [rule for rule in stratum if evaluate(rule.cond, client, facts)]
            facts.update(r.concludes for r in now if r.concludes)
            fired += now
        return fired


# ------------------------------------------------------------ iptplan text ---


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    return str(v)


def iptplan_rhs(x: Union[int, Param]) -> str:
    return f"param.{x.name}" if isinstance(x, Param) else str(x)


def iptplan_cond(c: Cond, parent: str = "") -> str:
    """The rule-language text of a condition. `parent` is the operator
    around it: an `or` inside an `and` needs brackets, and an `and` inside
    an `or` gets them for the reader's sake."""
    if isinstance(c, NumCmp):
        lhs = (f"{c.lhs.a.path} {c.lhs.op} {c.lhs.b.path}" if isinstance(c.lhs, Sum) else c.lhs.path)
        return f"{lhs} {c.op} {iptplan_rhs(c.rhs)}"
    if isinstance(c, NumIn):
        text = f"{c.f.path} in {{{', '.join(map(str, c.values))}}}"
        return f"not ({text})" if c.negated else text
    if isinstance(c, EnumTest):
        if c.op in ("==", "!="):
            return f"{c.f.path} {c.op} {json.dumps(c.values[0])}"
        text = f"{c.f.path} in {{{', '.join(json.dumps(v) for v in c.values)}}}"
        return text if c.op == "in" else f"not ({text})"
    if isinstance(c, BoolTest):
        if c.bare:
            return c.f.path if c.value else f"not {c.f.path}"
        return f"{c.f.path} == {toml_value(c.value)}"
    if isinstance(c, Fact):
        return c.name
    if isinstance(c, Not):
        if isinstance(c.x, Fact) or (isinstance(c.x, BoolTest) and c.x.bare and c.x.value):
            return f"not {iptplan_cond(c.x)}"
        return f"not ({iptplan_cond(c.x)})"
    if isinstance(c, (And, Or)):
        word = "and" if isinstance(c, And) else "or"
        text = f" {word} ".join(iptplan_cond(x, word) for x in c.xs)
        return f"({text})" if parent else text
    raise TypeError(c)


def rule_text(rule: Rule) -> str:
    """One rule in the canonical layout: the top-level conjuncts one a line."""
    conjuncts = rule.cond.xs if isinstance(rule.cond, And) else (rule.cond,)
    read = list(paths_read(rule.cond))
    first = next((p for p in read if not p.startswith("fact.")), read[0])
    lines = [
        f'rule {rule.id} "Generated rule {rule.id[1:]} (stratum {rule.stratum})"',
        f"  priority {rule.priority}",
        f"  tags generated, stratum_{rule.stratum}",
        '  source "bench/generate.py"',
        "when",
    ]
    for k, c in enumerate(conjuncts):
        lines.append(("  " if k == 0 else "  and ") + iptplan_cond(c, "and" if len(conjuncts) > 1 else ""))
    lines.append("then")
    if rule.concludes:
        lines.append(f"  conclude {rule.concludes}")
    for item in rule.items:
        text = json.dumps(f"{item.kind.capitalize()} {item.number}")
        if item.kind == "flag":
            lines.append(f"  flag {item.severity} {item.id} {text}")
        elif item.kind == "challenge":
            lines.append(f"  challenge {item.id} {text}")
        elif item.for_:
            lines.append(f"  {item.kind} {item.id} for {item.for_} {text}")
        else:
            lines.append(f"  {item.kind} {item.id} {text}")
    lines.append(f'because "Generated: {first} is {{{first}}}."')
    lines.append("end")
    return "\n".join(lines) + "\n"


def write_rule_set(gen: RuleSetGenerator, folder: str, args) -> None:
    os.makedirs(folder)
    with open(os.path.join(folder, "ruleset.toml"), "w") as out:
        out.write("# Generated by bench/generate.py; do not edit, regenerate.\n")
        out.write('name = "bench-generated"\n')
        out.write(f'version = "{args.rules}.{args.findings}.{args.seed}"\n')
        out.write('authors = ["bench/generate.py"]\n')
        out.write('status = "draft"\n')
        out.write(f'description = "Generated benchmark rule set: {args.rules} rules over '
                  f'{args.findings} findings, seed {args.seed}. Not clinical content."\n')
        used = [p for p in gen.params if p.name in gen.used_params]
        if used:
            out.write("\n[parameters]\n\n")
            for p in used:
                out.write(f'{p.name} = {{ value = {p.value}, min = 0, max = 100, unit = "points" }}\n')

    with open(os.path.join(folder, "vocabulary.toml"), "w") as out:
        out.write("# Generated by bench/generate.py. Derived facts (fact.dN) are concluded\n"
                  "# by rules and so are not declared here.\n")
        # The client's pseudonymous id: `iptplan batch` names each line by it.
        out.write('\n[client.id]\ntype = "string"\npattern = "c[0-9]+"\ncomponent = "client"\n'
                  'question = "Generated client id (c and digits)."\n')
        section = 0
        for f in gen.findings:
            if f.section != section:
                section = f.section
                out.write(f"\n# {'-' * 60} s{section} ---\n")
            out.write(f"\n[{f.path}]\n")
            if f.type == "int":
                out.write(f'type = "int"\nmin = {f.lo}\nmax = {f.hi}\n')
            elif f.type == "bool":
                out.write('type = "bool"\n')
            else:
                out.write(f'type = "enum"\nvalues = [{", ".join(json.dumps(v) for v in f.values)}]\n')
            out.write(f'component = "s{f.section}"\n')
            out.write(f'question = "Generated finding {f.index} of section {f.section}."\n')

    for k in range(gen.n_files):
        with open(os.path.join(folder, f"area{k + 1:02d}.rules"), "w") as out:
            out.write(f"# Generated by bench/generate.py: area {k + 1} of {gen.n_files}.\n")
            for rule in gen.rules:
                if rule.file == k:
                    out.write("\n" + rule_text(rule))


# ---------------------------------------------------------------- clients ---


def findings_tree(cid: str, values: dict) -> dict:
    """A client as its findings document: {'client': {'id': cid},
    's1': {'f3': 12, ...}, ...}, as the TOML file has it."""
    tree: dict = {"client": {"id": cid}}
    for path, v in values.items():
        section, key = path.split(".")
        tree.setdefault(section, {})[key] = v
    return tree


def write_clients(gen: RuleSetGenerator, n: int, outdir: str, seed: int, toml: int,
                  wrapped: bool) -> None:
    """clients.jsonl, clips/facts.clp and, for the first `toml` clients,
    clients/<id>.toml. A line of clients.jsonl is the findings document
    itself (what `iptplan batch` reads, docs/batch.md), or with `wrapped`
    {"client_id": ..., "findings": document}."""
    clients_dir = os.path.join(outdir, "clients")
    if toml > 0:
        os.makedirs(clients_dir)
    with open(os.path.join(outdir, "clients.jsonl"), "w") as jsonl, \
            open(os.path.join(outdir, "clips", "facts.clp"), "w") as facts:
        for k, (cid, values) in enumerate(gen.clients(n, seed)):
            tree = findings_tree(cid, values)
            line = {"client_id": cid, "findings": tree} if wrapped else tree
            jsonl.write(json.dumps(line, separators=(",", ":")) + "\n")
            slots = " ".join(f"({p} {clips_literal(v)})" for p, v in values.items())
            facts.write(f"(client (id {cid}) {slots})\n")
            if k < toml:
                with open(os.path.join(clients_dir, cid + ".toml"), "w") as out:
                    out.write(f"# Generated client {cid}.\n")
                    for section, kv in tree.items():
                        out.write(f"\n[{section}]\n")
                        for key, v in kv.items():
                            out.write(f"{key} = {toml_value(v)}\n")


# ------------------------------------------------------------------- CLIPS ---


def clips_literal(v) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    return str(v)  # integers, and enum values, which are plain symbols


def var(f: Finding) -> str:
    return "?" + f.path


class ClipsWriter:
    """Translates the rule set to CLIPS 6.30.

    Strata. Stratum s of S becomes salience 10 * (S - 1 - s): for every
    client, every rule concluding fact.dN fires before any rule reading it.
    A reader's `(not (fact.dN ?c))` may be activated early, while the fact is
    still absent, but that activation is withdrawn the moment a concluding
    rule asserts the fact, and none of those is left on the agenda when the
    reader's salience is reached. Positive reads would need no salience;
    they get it anyway, one scheme for all.

    Derived facts. A rule's condition is expanded on the derived facts it
    reads (shannon()). Each disjunct becomes

        (client (id ?c) <constraints on findings>)
        (fact.dA ?c)            ; a fact that must hold
        (not (fact.dB ?c))      ; a fact that must not

    and several disjuncts an `(or (and ...) (and ...))`. They exclude each
    other, so one client activates a rule at most once, however the rule's
    `or`s are nested, and one firing prints the rule's items once.

    Findings. The rest of a disjunct reads findings only; it is put in
    negation normal form and split into its conjuncts. A conjunct about one
    finding becomes a constraint on that finding's slot, computed from the
    set of values it allows (domains are small and finite): `high`,
    `~high`, `low|high`, `TRUE`, `?s1.f3&:(>= ?s1.f3 12)`. A disjunct whose
    constraints allow no value is dropped (CLIPS refuses a pattern it can
    prove unmatchable). The other conjuncts (sums, alternatives over two
    findings) become one predicate on the id slot, written last so that the
    variables it reads are bound. All of it is tested in CLIPS's pattern
    network, once per client fact, never in the joins. A client pattern
    with no constraint at all comes after the positive derived facts, which
    match fewer clients.

    Output. The RHS asserts the rule's derived fact, if any, and prints one
    line per item with a single `(printout t (str-cat ...))`: CLIPS writes
    each printout argument with its own system call, which would otherwise
    cost the CLIPS side a second or two of kernel time at the larger sizes.
    """

    def __init__(self, gen: RuleSetGenerator):
        self.gen = gen
        self.top = gen.n_strata - 1
        self.never = 0  # rules that can never fire, left out

    # -- findings --

    def _num(self, lhs: Union[Finding, Sum]) -> str:
        if isinstance(lhs, Sum):
            return f"({lhs.op} {var(lhs.a)} {var(lhs.b)})"
        return var(lhs)

    def expr(self, c: Cond) -> str:
        """A CLIPS boolean expression for a finding-only condition in NNF.
        A parameter is a constant in a compiled rule."""
        if isinstance(c, NumCmp):
            op = {"==": "=", "!=": "<>"}.get(c.op, c.op)
            return f"({op} {self._num(c.lhs)} {numeric(c.rhs)})"
        if isinstance(c, NumIn):
            test = f"(or {' '.join(f'(= {var(c.f)} {v})' for v in c.values)})"
            return f"(not {test})" if c.negated else test
        if isinstance(c, EnumTest):
            if c.op in ("==", "in"):
                tests = [f"(eq {var(c.f)} {v})" for v in c.values]
                return tests[0] if len(tests) == 1 else f"(or {' '.join(tests)})"
            return f"(neq {var(c.f)} {' '.join(c.values)})"  # neq: differs from each
        if isinstance(c, BoolTest):
            return f"(eq {var(c.f)} {clips_literal(c.value)})"
        if isinstance(c, And):
            return f"(and {' '.join(self.expr(x) for x in c.xs)})"
        if isinstance(c, Or):
            return f"(or {' '.join(self._alternatives(c))})"
        raise TypeError(c)

    def _alternatives(self, c: Cond) -> list[str]:
        """The operands of one flat `(or ...)` for `c`: an `in` set and a
        nested or contribute theirs."""
        if isinstance(c, Or):
            return [e for x in c.xs for e in self._alternatives(x)]
        if isinstance(c, EnumTest) and c.op in ("==", "in"):
            return [f"(eq {var(c.f)} {v})" for v in c.values]
        if isinstance(c, NumIn) and not c.negated:
            return [f"(= {var(c.f)} {v})" for v in c.values]
        return [self.expr(c)]

    def slot_constraint(self, f: Finding, conjuncts: list) -> list[str] | None:
        """The constraint pieces, joined by `&`, that let through exactly
        the values of `f` all `conjuncts` accept; [] for any value, None
        for none. The shortest of: an interval (predicates), the allowed
        values (`a|b`), the excluded ones (`~a&~b`)."""
        values = domain(f)
        allowed = allowed_values(f, conjuncts)
        if not allowed:
            return None
        if len(allowed) == len(values):
            return []
        excluded = [v for v in values if v not in allowed]
        if len(allowed) == 1 or (f.type != "int" and len(allowed) <= len(excluded)):
            return ["|".join(map(clips_literal, allowed))]
        if f.type != "int" or len(excluded) <= 2:
            return ["~" + clips_literal(v) for v in excluded]
        lo, hi = allowed[0], allowed[-1]
        if allowed == list(range(lo, hi + 1)):
            bounds = ([f":(>= {var(f)} {lo})"] if lo > f.lo else []) + ([f":(<= {var(f)} {hi})"] if hi < f.hi else [])
            return bounds
        if len(allowed) <= len(excluded):
            return ["|".join(map(str, allowed))]
        return ["~" + str(v) for v in excluded]

    def client_pattern(self, rest: Cond) -> str | None:
        """The client pattern for a finding-only condition, or None when no
        client can match it."""
        if isinstance(rest, Const) and not rest.value:
            return None
        per_slot, several = split_conjuncts(rest, self.gen.finding_of)
        complex_tests = [self.expr(c) for c in several]
        complex_slots = {self.gen.finding_of(p) for c in several for p in paths_read(c)}
        slots = []
        for f in sorted(set(per_slot) | complex_slots, key=lambda f: f.index):
            pieces = self.slot_constraint(f, per_slot.get(f, []))
            if pieces is None:
                return None
            if not pieces and f not in complex_slots:
                continue
            if f in complex_slots or any(p.startswith(":") for p in pieces):
                pieces = [var(f)] + pieces
            slots.append(f"({f.path} {'&'.join(pieces)})")
        if complex_tests:
            test = complex_tests[0] if len(complex_tests) == 1 else f"(and {' '.join(complex_tests)})"
            slots.append(f"(id ?c&:{test})")
        else:
            slots.insert(0, "(id ?c)")
        return f"(client {' '.join(slots)})"

    # -- rules --

    def disjunct(self, literals: tuple, rest: Cond) -> list[str] | None:
        client = self.client_pattern(nnf(rest))
        if client is None:
            return None
        positive = [f"({name} ?c)" for name, holds in literals if holds]
        negative = [f"(not ({name} ?c))" for name, holds in literals if not holds]
        if client == "(client (id ?c))":
            # Matches every client: after a derived fact, which matches fewer
            # (CLIPS BPG, appendix D: most specific pattern first).
            return positive + [client] + negative
        return [client] + positive + negative

    def defrule(self, rule: Rule) -> str:
        disjuncts = [d for d in (self.disjunct(lits, rest) for lits, rest in shannon(rule.cond)) if d]
        if not disjuncts:
            self.never += 1
            return f";; {rule.id} can never fire: no defrule.\n"
        lines = [f"(defrule {rule.id}", f"  (declare (salience {10 * (self.top - rule.stratum)}))"]
        if len(disjuncts) == 1:
            lines += ["  " + ce for ce in disjuncts[0]]
        else:
            lines.append("  (or")
            for d in disjuncts:
                lines.append("    (and " + "\n         ".join(d) + ")")
            lines[-1] += ")"
        lines.append("  =>")
        if rule.concludes:
            lines.append(f"  (assert ({rule.concludes} ?c))")
        # One string, one write: CLIPS writes every printout argument
        # unbuffered, a system call each.
        printed = " ".join(f'?c " {item.id} {rule.id}" ?*nl*' for item in rule.items)
        lines.append(f"  (printout t (str-cat {printed})))")
        return "\n".join(lines) + "\n"

    def write(self, folder: str) -> None:
        with open(os.path.join(folder, "rules.clp"), "w") as out:
            out.write(";; Generated by bench/generate.py from the iptplan rule set in ../rules/.\n"
                      ";; Salience is the stratum counted from the top: a derived fact is\n"
                      ";; final before any rule that reads it fires. Each firing prints\n"
                      ";; '<client> <item> <rule>', one line per item.\n\n")
            out.write('(defglobal ?*nl* = (format nil "%n"))\n\n')
            out.write("(deftemplate client\n  (slot id (type SYMBOL))\n")
            for f in self.gen.findings:
                if f.type == "int":
                    out.write(f"  (slot {f.path} (type INTEGER) (range {f.lo} {f.hi}))\n")
                else:
                    symbols = " ".join(map(clips_literal, f.values))
                    out.write(f"  (slot {f.path} (type SYMBOL) (allowed-symbols {symbols}))\n")
            out.write(")\n")
            for rule in self.gen.rules:
                out.write("\n" + self.defrule(rule))
        with open(os.path.join(folder, "run.clp"), "w") as out:
            out.write(RUN_CLP)
        with open(os.path.join(folder, "stream.clp"), "w") as out:
            out.write(STREAM_CLP)


# The two ways of running the CLIPS side, each `clips -f2 FILE` from the
# clips/ folder. Both print the same lines (in another order).
RUN_CLP = """\
;; Every client in working memory at once, one (run): the classic way.
;; Memory grows with clients x rules (CLIPS keeps every partial match).
(load* "rules.clp")
(reset)
(load-facts "facts.clp")
(run)
(exit)
"""

STREAM_CLP = """\
;; One client at a time: assert it, run, reset (which retracts it and its
;; derived facts). Memory stays that of the rules, as for `iptplan batch`.
(load* "rules.clp")
(deffunction stream-clients (?file)
  (open ?file clients "r")
  (bind ?line (readline clients))
  (while (neq ?line EOF)
    (assert-string ?line)
    (run)
    (reset)
    (bind ?line (readline clients)))
  (close clients))
(stream-clients "facts.clp")
(exit)
"""


# -------------------------------------------------------------------- main ---


def summarise(gen: RuleSetGenerator, n_clients: int, seed: int, sample: int = 100) -> dict:
    fired = items = 0
    counted = 0
    for _, client in gen.clients(min(sample, n_clients), seed):
        rules = gen.fire(client)
        fired += len(rules)
        items += len({i.id for r in rules for i in r.items})
        counted += 1
    strata = [sum(1 for r in gen.rules if r.stratum == s) for s in range(gen.n_strata)]
    return {
        "rules": len(gen.rules), "findings": len(gen.findings), "clients": n_clients,
        "rule_files": gen.n_files, "strata": strata,
        "derived_facts": sum(len(fs) for fs in gen.facts_by_stratum),
        "parameters": sorted(gen.used_params, key=lambda p: int(p[1:])),
        "finding_types": {t: sum(1 for f in gen.findings if f.type == t) for t in ("int", "bool", "enum")},
        "sample_clients": counted,
        "mean_rules_fired": round(fired / max(1, counted), 2),
        "mean_items": round(items / max(1, counted), 2),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rules", type=int, help="number of rules")
    ap.add_argument("findings", type=int, help="number of findings in the vocabulary")
    ap.add_argument("clients", type=int, help="number of clients")
    ap.add_argument("outdir", help="output folder (replaced if it exists)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--toml", type=int, nargs="?", const=-1, default=0, metavar="N",
                    help="also write clients/ as TOML findings files (all, or the first N)")
    ap.add_argument("--wrapped", action="store_true",
                    help='write clients.jsonl lines as {"client_id": ..., "findings": {...}}')
    args = ap.parse_args(argv)
    if args.rules < 2 or args.findings < 4 or args.clients < 1:
        ap.error("need at least 2 rules, 4 findings and 1 client")

    gen = RuleSetGenerator(args.rules, args.findings, args.seed)
    if os.path.exists(args.outdir):
        shutil.rmtree(args.outdir)
    os.makedirs(os.path.join(args.outdir, "clips"))
    write_rule_set(gen, os.path.join(args.outdir, "rules"), args)
    clips = ClipsWriter(gen)
    clips.write(os.path.join(args.outdir, "clips"))
    toml = args.clients if args.toml < 0 else args.toml
    write_clients(gen, args.clients, args.outdir, args.seed, toml, args.wrapped)
    summary = summarise(gen, args.clients, args.seed)
    summary["rules_never_firing"] = clips.never
    summary["seed"] = args.seed
    with open(os.path.join(args.outdir, "summary.json"), "w") as out:
        json.dump(summary, out, indent=2)
        out.write("\n")
    print(json.dumps(summary, separators=(", ", ": ")), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

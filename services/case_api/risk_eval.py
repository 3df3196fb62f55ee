"""Precision and recall of the risk scorer per rule on the labelled set (issue 18 item 6).

    python -m services.case_api.risk_eval              # the held-out part (what docs/monitoring.md reports)
    python -m services.case_api.risk_eval --part tune  # the part the rules may be tuned on

A post counts as flagged for a rule when the scorer's hits include that rule.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from services.case_api.domain.risk import RULES, Scorer, default_scorer

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
PARTS = {"tune": DATA / "monitoring_labelled_tune.tsv", "heldout": DATA / "monitoring_labelled_heldout.tsv"}


@dataclass(frozen=True)
class Example:
    lang: str
    kind: str
    labels: frozenset[str]
    text: str
    replying_to: str | None


def load(part: str) -> list[Example]:
    out = []
    for line in PARTS[part].read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        lang, kind, labels, text, reply = line.split("\t")
        out.append(Example(lang, kind, frozenset() if labels == "-" else frozenset(labels.split(",")), text,
                           None if reply == "-" else reply))
    return out


@dataclass(frozen=True)
class RuleScore:
    rule: str
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def evaluate(examples: list[Example], scorer: Scorer, *, lang: str | None = None) -> list[RuleScore]:
    counts = {r: [0, 0, 0] for r in RULES}
    for ex in examples:
        if lang and ex.lang != lang:
            continue
        got = set(scorer.assess(ex.text, replying_to=ex.replying_to).rules)
        for r in RULES:
            if r in got and r in ex.labels:
                counts[r][0] += 1
            elif r in got:
                counts[r][1] += 1
            elif r in ex.labels:
                counts[r][2] += 1
    return [RuleScore(r, *counts[r]) for r in RULES]


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=sorted(PARTS), default="heldout")
    ap.add_argument("--errors", action="store_true", help="print every misclassified example")
    args = ap.parse_args()
    examples = load(args.part)
    scorer = default_scorer()
    print(f"{args.part}: {len(examples)} examples, scorer {scorer.name}")
    for lang in (None, "en", "es"):
        n = sum(1 for e in examples if lang is None or e.lang == lang)
        print(f"\n{lang or 'all'} ({n})\n| rule | precision | recall | tp | fp | fn |\n|---|---:|---:|---:|---:|---:|")
        for s in evaluate(examples, scorer, lang=lang):
            print(f"| {s.rule} | {_fmt(s.precision)} | {_fmt(s.recall)} | {s.tp} | {s.fp} | {s.fn} |")
    if args.errors:
        print()
        for ex in examples:
            got = set(scorer.assess(ex.text, replying_to=ex.replying_to).rules)
            if got != set(ex.labels):
                print(f"{ex.lang} {ex.kind:13} want={sorted(ex.labels)} got={sorted(got)}  {ex.text}")


if __name__ == "__main__":
    main()

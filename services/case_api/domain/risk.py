"""Risk scoring of posts and replies against the content rules of R-24-89 (§1.A.1-§1.A.4).

One small interface, ``Scorer``: ``assess(text, replying_to=...) -> Assessment``. A City can swap
in its own (a hosted classifier, a fine-tuned model) by passing another ``Scorer`` to the import
and to the draft check; nothing else depends on how the score is made.

The built-in ``PolicyRuleScorer`` runs offline: nothing is downloaded at run time. It combines

* rules written for each content rule of the policy, in English and Spanish (the patterns below:
  insults, confrontational or mocking replies, first-person opinions, electoral endorsement,
  private data of a person), and
* VADER (``vaderSentiment``, which ships its lexicon inside the package): a reply addressed to
  the reader ("you", "your") whose sentiment is strongly negative is scored as arguing with the
  public even when no pattern matched. VADER is English-only; Spanish relies on the patterns.

Why patterns of our own and not only a package: no offline package we could find knows what an
argumentative reply from a City account looks like, and the rules must quote the policy section
they enforce. The patterns were tuned on ``tests/data/monitoring_labelled_tune.tsv`` only; the
numbers on the held-out part are in docs/monitoring.md (``make eval-monitoring``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

PERSONAL_ATTACK = "personal_attack"
ARGUING = "arguing_with_public"
OPINION = "personal_opinion"
POLITICAL = "political_endorsement"
PRIVATE = "private_information"
RULES = (PERSONAL_ATTACK, ARGUING, OPINION, POLITICAL, PRIVATE)


@dataclass(frozen=True)
class RuleHit:
    rule: str
    weight: float
    evidence: str  # the words that matched (at most 80 characters)


@dataclass(frozen=True)
class Assessment:
    score: float  # 0 (nothing found) .. 1
    hits: tuple[RuleHit, ...]

    @property
    def rules(self) -> list[str]:
        return [h.rule for h in self.hits]


class Scorer(Protocol):
    """What the import, the review sampler and the draft check need from a scorer."""

    name: str

    def assess(self, text: str, *, replying_to: str | None = None) -> Assessment: ...


def _rx(*parts: str) -> re.Pattern[str]:
    """One pattern for many alternatives; the leading ``\\b`` is factored out, which makes the
    search about 20 times faster (the engine tests the word boundary once per position)."""
    bounded = [p[2:] for p in parts if p.startswith(r"\b")]
    other = [p for p in parts if not p.startswith(r"\b")]
    alternatives = ([r"\b(?:" + "|".join(f"(?:{p})" for p in bounded) + ")"] if bounded else []) + \
        [f"(?:{p})" for p in other]
    return re.compile("|".join(alternatives), re.IGNORECASE)


# Word lists: an insult aimed at a person. Kept to words that are insults in any context.
_INSULTS_EN = (r"idiots?|morons?|imbeciles?|fools?|clowns?|losers?|liars?|trolls?|lunatics?|crackpots?|"
               r"stupid|pathetic|disgusting|clueless|incompetent|ignorant|karens?|jerks?|dumbass|"
               r"hacks?|lazy")
_INSULTS_ES = (r"idiotas?|imb[eé]cil(?:es)?|est[uú]pid[oa]s?|tont[oa]s?|payas[oa]s?|mentiros[oa]s?|ignorantes?|"
               r"pat[eé]tic[oa]s?|asqueros[oa]s?|in[uú]til(?:es)?|flojos?|loc[oa]s?|trol(?:es)?|"
               r"vergüenza|babos[oa]s?|pendej[oa]s?")

_ATTACK = _rx(
    rf"\b(?:{_INSULTS_EN})\b",
    r"\bpeople like you\b", r"\bshut (?:up|your mouth)\b", r"\bgo away\b", r"\bnobody likes you\b",
    rf"\b(?:{_INSULTS_ES})\b",
    r"\bgente como usted\b", r"\bc[aá]llese\b", r"\bl[aá]rguese\b",
)

_ARGUING = _rx(
    # telling the resident they are wrong, combatively
    r"\byou(?:'re| are) (?:wrong|mistaken)\b", r"\bwrong again\b",
    r"\bthat(?:'s| is) (?:simply |just )?(?:wrong|false)\b",
    r"\bcheck your facts\b", r"\bget your facts\b", r"\b(?:don't|do not) know what you(?:'re| are) talking about\b",
    r"\byou (?:obviously|clearly) (?:didn't|did not|don't|do not|have no)\b", r"\bif you had (?:read|paid)\b",
    r"\bread the (?:faq|post|notice|sign|website)\b", r"\bnot going to keep explaining\b",
    r"\bshould know better\b", r"\bthat's not how any of this works\b",
    # telling them off
    r"\bstop (?:whining|complaining|spreading)\b", r"\bquit (?:whining|complaining|spreading)\b",
    r"\bnobody asked\b", r"\bno one asked\b", r"\bno one cares\b", r"\bnobody cares\b",
    r"\bfeel free to (?:move|leave)\b", r"\bif you don't like\b", r"\bcomplaining\b.*\bwon't\b",
    r"\bonly an? \w+ would\b", r"\bsolo un[ao]? \w+ como usted\b", r"\bwastes? everyone's time\b",
    r"\btake some responsibility\b", r"\bdo something useful\b", r"\bdumb question\b", r"\bnonsense\b",
    # mocking
    r"\blol\b", r"\blmao\b", r"\bha(?:ha)+\b", r"\bnice try\b", r"\bcool story\b", r"\bbless your heart\b",
    r"\bcaptain obvious\b", r"\bthanks,? genius\b", r"\bgroundbreaking\b", r"\btouch grass\b", r"\bimagine being\b",
    r"\bgood luck with that\b", r"\breading is hard\b", r"\bbecause you know more\b", r"\bwhatever you (?:say|think)\b",
    r"🙄", r"😂", r"🤡",
    # Spanish
    r"\busted est[aá] equivocad[oa]\b", r"\best[aá] (?:usted )?equivocad[oa]\b", r"\bes (?:simplemente )?falso\b",
    r"\brevise sus datos\b", r"\bsi hubiera le[ií]do\b", r"\blo sabr[ií]a\b", r"\bno se molest[oó] en leer\b",
    r"\blea (?:las preguntas|el aviso|la publicaci[oó]n)\b", r"\bdeje de (?:quejarse|difundir)\b",
    r"\bnadie le pidi[oó]\b", r"\ba nadie le importa\b", r"\bv[aá]yase\b", r"\bm[uú]dese\b",
    r"\bsi no le gusta\b", r"\bno tiene idea\b", r"\bno vamos a seguir explic[aá]ndole\b",
    r"\bquejarse en\b", r"\bh[aá]gase responsable\b", r"\bja(?:ja)+\b", r"\bbuen intento\b", r"\bgenio\b",
    r"\bsuerte con eso\b", r"\bporque usted sabe m[aá]s\b", r"\bpobrecit[oa]\b",
)

_OPINION = _rx(
    r"\bI (?:personally )?(?:think|believe|feel|hate|love|can't stand)\b", r"\bin my (?:opinion|view)\b",
    r"\bpersonally\b", r"\bif you ask me\b", r"\bmy two cents\b", r"\bIMO\b", r"\bIMHO\b",
    r"\ben mi opini[oó]n\b", r"\bpersonalmente\b", r"\ba mi parecer\b", r"\byo (?:pienso|creo|opino)\b",
)

_POLITICAL = _rx(
    r"\bvote (?:for|yes|no|against)\b", r"\bendorse(?:s|d)?\b", r"\bre-?elect\b",
    r"\b(?:support|back) the (?:democratic|republican)\b", r"\b(?:democrats?|republicans?|GOP)\b",
    r"\bvote?n? por\b", r"\bvote s[ií]\b", r"\breel[ií]j?(?:an|a|ir)\b", r"\b(?:dem[oó]cratas?|republicanos?)\b",
    r"\bcampaign\b", r"\bcampa[ñn]a (?:de|electoral)\b",
)
_VOTE_NAME = re.compile(r"\b[Vv]ote\s+(?:for\s+)?[A-Z][a-z]+\s+[A-Z][a-z]+")

_PRIVATE = _rx(
    r"\b\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b",                                  # phone number
    r"\b[\w.+-]+@[\w-]+\.[\w.]+\b",                                          # e-mail address
    r"\b\d{3}-\d{2}-\d{4}\b",                                                # social security number
    r"\b\d{2,6} [A-Z][\w]+ (?:St|Ave|Blvd|Rd|Dr|Ln|Way|Ct|Pl)\b",           # street address
    r"\b(?:date of birth|DOB|fecha de nacimiento|license plate|placa)\b",
    r"\b(?:lives at|vive en)\b",
)

_ADDRESSED = re.compile(r"\b(?:you|your|you're|yourself)\b", re.IGNORECASE)

WEIGHTS = {PERSONAL_ATTACK: 0.9, PRIVATE: 0.9, ARGUING: 0.75, POLITICAL: 0.7, OPINION: 0.5}
VADER_THRESHOLD = -0.6  # compound score under which an addressed reply counts as arguing


@lru_cache(maxsize=1)
def _vader() -> object:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()  # reads the lexicon shipped inside the package


def _negativity(text: str) -> float:
    scores = _vader().polarity_scores(text)  # type: ignore[attr-defined]
    return float(scores["compound"])


class PolicyRuleScorer:
    """The built-in scorer: patterns per content rule plus VADER on English replies."""

    name = "policy-rules+vader-3.3"

    def assess(self, text: str, *, replying_to: str | None = None) -> Assessment:
        text = text[:10000]
        hits: list[RuleHit] = []
        for rule, rx in ((PERSONAL_ATTACK, _ATTACK), (ARGUING, _ARGUING), (OPINION, _OPINION),
                         (POLITICAL, _POLITICAL), (PRIVATE, _PRIVATE)):
            m = rx.search(text) or (_VOTE_NAME.search(text) if rule == POLITICAL else None)
            if m:
                hits.append(RuleHit(rule, WEIGHTS[rule], m.group(0)[:80]))
        addressed = _ADDRESSED.search(text) is not None
        # VADER costs ~0.5 ms a text: only for replies addressed to the reader, or posts already hit
        compound = _negativity(text) if addressed or hits else 0.0
        if not any(h.rule == ARGUING for h in hits) and addressed and compound <= VADER_THRESHOLD:
            hits.append(RuleHit(ARGUING, 0.6, f"strongly negative reply addressed to the reader ({compound:.2f})"))
        base = max((h.weight for h in hits), default=0.0)
        # a second rule or a hostile tone raise the score; a negative tone alone ranks low posts
        score = base + 0.05 * max(0, len(hits) - 1) + 0.1 * max(0.0, -compound)
        return Assessment(score=round(min(1.0, score), 3), hits=tuple(sorted(hits, key=lambda h: -h.weight)))


@lru_cache(maxsize=1)
def default_scorer() -> Scorer:
    return PolicyRuleScorer()

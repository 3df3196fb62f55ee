"""The draft check for PIOs (issue 18 item 5): before a post or reply goes out, say what in it
would break the policy, quote the section, and give the response guideline to follow instead.

Pure: no database, no I/O. The words quoted come from the policy in force (read from policy_api by
the router, ``clients.policy_quotes``) or, when policy_api does not answer, from the wording of
R-24-89 built in here; the answer says which. Nothing about the draft is stored or logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.case_api.domain import risk
from services.case_api.domain.risk import Scorer

# rule -> the policy element (policy_api's catalogue key) whose section it would break
ELEMENT_OF: dict[str, str] = {
    risk.PERSONAL_ATTACK: "prohibition_on_personal_attacks",
    risk.ARGUING: "prohibition_on_personal_attacks",
    risk.OPINION: "content_specifications",
    risk.POLITICAL: "content_specifications",
    risk.PRIVATE: "behavioral_expectations",
}

TITLES: dict[str, dict[str, str]] = {
    "en": {risk.PERSONAL_ATTACK: "Personal attack", risk.ARGUING: "Arguing with or mocking a member of the public",
           risk.OPINION: "Personal opinion", risk.POLITICAL: "Political endorsement",
           risk.PRIVATE: "Private information about a person"},
    "es": {risk.PERSONAL_ATTACK: "Ataque personal", risk.ARGUING: "Discutir con o burlarse de un residente",
           risk.OPINION: "Opinión personal", risk.POLITICAL: "Respaldo político",
           risk.PRIVATE: "Información privada de una persona"},
}

# R-24-89 §1.A, as adopted: the fallback when policy_api cannot be read
BUILT_IN_SECTIONS: dict[str, tuple[str, str]] = {
    "behavioral_expectations": (
        "R-24-89 §1.A.1 Behavioral Expectations",
        "Outline the expected standards of behavior on social media, including respectfulness, "
        "professionalism, and adherence to the City's values."),
    "content_specifications": (
        "R-24-89 §1.A.2 Content Specifications",
        "Specify of the types of content that are appropriate (e.g., public service announcements, event "
        "promotions, emergency information) and what should not be posted (e.g., personal opinions, personal "
        "attacks, argumentative or confrontational responses)."),
    "prohibition_on_personal_attacks": (
        "R-24-89 §1.A.3 Prohibition on Personal Attacks",
        "Explicitly require that City social media accounts refrain from posting personal attacks, arguing with "
        "members of the public, or otherwise posting in a manner that is disrespectful or could erode public "
        "trust in the City."),
    "response_guidelines": (
        "R-24-89 §1.A.4 Response Guidelines",
        "Provide guidelines on how to appropriately and respectfully respond to comments and messages, including "
        "handling negative, misleading, or inflammatory posts from members of the public without being "
        "confrontational."),
}

GUIDELINES: dict[str, dict[str, str]] = {
    "en": {
        risk.PERSONAL_ATTACK: "Remove words about the person. Address the question or the facts only; if the "
                              "comment breaks the posted comment policy, hide it under that policy and say so "
                              "neutrally.",
        risk.ARGUING: "Do not push back on the resident. Acknowledge the concern, give the correct information "
                      "once with a link to the source, and offer a way to follow up (311, a direct message, the "
                      "department's contact). No sarcasm, no 'you should have read'.",
        risk.OPINION: "Say what the City is doing or offering, not what you think. Personal views belong on "
                      "personal accounts, under your own name.",
        risk.POLITICAL: "City accounts do not endorse or oppose candidates, parties or ballot measures. For "
                        "elections, link to neutral information (the County Clerk's voting page).",
        risk.PRIVATE: "Remove the person's contact details, address or identifying data. Ask them to send details "
                      "by direct message or through the City's complaint form instead.",
    },
    "es": {
        risk.PERSONAL_ATTACK: "Quite las palabras sobre la persona. Responda solo a la pregunta o a los hechos; si el "
                              "comentario infringe la política de comentarios, ocúltelo conforme a ella y dígalo con "
                              "neutralidad.",
        risk.ARGUING: "No discuta con el residente. Reconozca su inquietud, dé la información correcta una vez con "
                      "el enlace a la fuente y ofrezca cómo dar seguimiento (311, mensaje directo, contacto del "
                      "departamento). Sin sarcasmo.",
        risk.OPINION: "Diga lo que la Ciudad hace u ofrece, no lo que usted piensa. Las opiniones personales van en "
                      "cuentas personales, con su propio nombre.",
        risk.POLITICAL: "Las cuentas de la Ciudad no respaldan ni se oponen a candidatos, partidos ni propuestas. "
                        "Para elecciones, enlace a información neutral (la página de votación del condado).",
        risk.PRIVATE: "Quite los datos de contacto, la dirección o los datos que identifican a la persona. Pídale "
                      "que envíe los detalles por mensaje directo o por el formulario de quejas de la Ciudad.",
    },
}


@dataclass(frozen=True)
class PolicyQuotes:
    """Section headings and words per element key, and where they came from."""

    source: str  # "policy_api" | "built_in"
    sections: dict[str, tuple[str, str]] = field(default_factory=dict)
    version: str | None = None

    def section(self, element: str) -> tuple[str, str]:
        return self.sections.get(element) or BUILT_IN_SECTIONS[element]


BUILT_IN = PolicyQuotes(source="built_in", sections=dict(BUILT_IN_SECTIONS))
MAX_QUOTE = 600


@dataclass(frozen=True)
class Problem:
    rule: str
    title: str
    evidence: str
    section: str
    quote: str
    guideline: str


@dataclass(frozen=True)
class DraftResult:
    ok: bool
    score: float
    problems: list[Problem]
    policy_source: str
    policy_version: str | None
    scorer: str


def check_draft(*, text: str, replying_to: str | None, quotes: PolicyQuotes, scorer: Scorer,
                lang: str = "en") -> DraftResult:
    """Each rule the draft matches becomes one problem with its section quoted; when the draft is a
    reply, every problem also carries the response guidelines' own words."""
    lang = lang if lang in GUIDELINES else "en"
    assessment = scorer.assess(text, replying_to=replying_to)
    problems = []
    seen: set[str] = set()
    for hit in assessment.hits:
        if hit.rule in seen:
            continue
        seen.add(hit.rule)
        heading, words = quotes.section(ELEMENT_OF[hit.rule])
        guideline = GUIDELINES[lang][hit.rule]
        if replying_to:
            rg_heading, rg_words = quotes.section("response_guidelines")
            guideline += f" ({rg_heading}: \u201c{_clip(rg_words)}\u201d)"
        problems.append(Problem(rule=hit.rule, title=TITLES[lang][hit.rule], evidence=hit.evidence, section=heading,
                                quote=_clip(words), guideline=guideline))
    return DraftResult(ok=not problems, score=assessment.score, problems=problems, policy_source=quotes.source,
                       policy_version=quotes.version, scorer=scorer.name)


def _clip(words: str) -> str:
    words = " ".join(words.split())
    return words if len(words) <= MAX_QUOTE else words[: MAX_QUOTE - 1].rsplit(" ", 1)[0] + "\u2026"

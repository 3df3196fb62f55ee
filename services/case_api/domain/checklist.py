"""The compliance checklist for monitoring reviews (R-24-89 §1.A.5): items derived from the
policy elements that apply to individual posts and replies. Each item names its element key
(policy_api's element catalogue) and the violation category a failed item opens a case under."""

from __future__ import annotations

from dataclasses import dataclass

from shared.schemas.intake import ViolationCategory


@dataclass(frozen=True)
class Item:
    key: str
    element: str
    text: str
    category: ViolationCategory


ITEMS: tuple[Item, ...] = (
    Item("no_personal_attacks", "prohibition_on_personal_attacks",
         "No personal attacks and no arguing with members of the public", ViolationCategory.personal_attack),
    Item("responses_follow_guidelines", "response_guidelines",
         "Responses to negative, misleading or inflammatory comments follow the response guidelines",
         ViolationCategory.disrespectful_response),
    Item("no_personal_opinions", "content_specifications",
         "No personal opinions under the City's name", ViolationCategory.personal_opinion),
    Item("content_fits_specifications", "content_specifications",
         "Content fits the content specifications (public service, events, emergency information)",
         ViolationCategory.other),
    Item("respectful_and_professional", "behavioral_expectations",
         "Respectful, professional and true, helpful and necessary", ViolationCategory.disrespectful_response),
)

BY_KEY: dict[str, Item] = {i.key: i for i in ITEMS}


def checklist(elements: set[str] | None = None) -> list[dict[str, str]]:
    """The items for the given policy elements (all when unknown), as stored on a review."""
    return [{"key": i.key, "element": i.element, "text": i.text}
            for i in ITEMS if elements is None or i.element in elements]

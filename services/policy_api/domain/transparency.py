"""What the Transparency page (R-24-89 §1.B) shows, read in a fixed number of statements whatever
the number of policies, versions or accounts: the page's use-cases. Rendering is the router's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from services.policy_api.domain import completeness, elements, reviews, translations, versions
from services.policy_api.domain.models import Account, PolicyReview, PolicyVersion, Section
from services.policy_api.domain.policies import PolicyRow, get_policy_row, policy_rows, versions_of
from services.policy_api.domain.registry import accounts_page
from services.policy_api.domain.translation_models import SectionTranslation
from shared.db import Database
from shared.errors import NotFound
from shared.schemas.metrics import PublicMetrics

MAX_POLICIES = 1000
MAX_ACCOUNTS = 500
MAX_REVIEWS = 50


@dataclass(frozen=True)
class PolicyCard:
    row: PolicyRow
    versions: list[PolicyVersion]  # public versions, newest first

    @property
    def previous(self) -> PolicyVersion | None:
        """The version before the current one (for "what changed")."""
        current = self.row.current
        return next((v for v in self.versions if current and v.number < current.number), None)


@dataclass(frozen=True)
class IndexData:
    cards: list[PolicyCard]
    accounts: list[Account]  # retired ones left out
    metrics: PublicMetrics | None  # None: case_api did not answer (the section is left out)


def index(db: Database, *, metrics: Callable[[], PublicMetrics | None]) -> IndexData:
    """Five statements: policies (count, page), their versions, accounts (count, page); then case_api's
    public metrics (``metrics``, cached by its source), asked with no transaction open."""
    with db.read() as s:
        page = policy_rows(s, public=True, kind=None, limit=MAX_POLICIES, offset=0)
        by_policy = versions_of(s, [r.policy.id for r in page.rows], public=True)
        accounts, _ = accounts_page(s, exclude_status="retired", limit=MAX_ACCOUNTS, offset=0)
    return IndexData(cards=[PolicyCard(row=r, versions=by_policy[r.policy.id]) for r in page.rows],
                     accounts=accounts, metrics=metrics())


@dataclass(frozen=True)
class VersionPage:
    card: PolicyCard
    version: PolicyVersion
    sections: list[Section]
    checklist: completeness.Checklist
    reviews: list[PolicyReview]
    # the Spanish text of the sections, when the page is in Spanish (issue 20 item 3); by section id
    translations: dict[str, SectionTranslation] = field(default_factory=dict)


def version_page(db: Database, *, policy_id: str, version_id: str | None, lang: str | None = None) -> VersionPage:
    """A policy's page (its current version, else its latest public one) or one public version's.
    Six statements: the policy, its versions, the sections, the catalogue, the reviews (count, page)."""
    with db.read() as s:
        row = get_policy_row(s, policy_id, public=True)
        public_versions = versions_of(s, [row.policy.id], public=True)[row.policy.id]
        if version_id is None:
            version = row.current or public_versions[0]
        else:
            found = next((v for v in public_versions if v.id == version_id), None)
            if found is None:
                raise NotFound(f"No version {version_id!r} of policy {policy_id!r}.")
            version = found
        rows = versions.sections(s, version.id)
        checklist = versions.checklist_for(row.policy.kind, elements.catalogue(s), rows)
        recorded, _ = reviews.reviews_page(s, row.policy.id, limit=MAX_REVIEWS, offset=0)
        translated = translations.of_version(s, version.id, lang) if lang in translations.LANGUAGES else {}
    return VersionPage(card=PolicyCard(row=row, versions=public_versions), version=version, sections=rows,
                       checklist=checklist, reviews=recorded, translations=translated)


@dataclass(frozen=True)
class DiffPage:
    card: PolicyCard
    diff: versions.VersionDiff


def diff_page(db: Database, *, policy_id: str, from_id: str, to_id: str) -> DiffPage:
    """Four statements: the policy, its versions, both versions, their sections."""
    with db.read() as s:
        row = get_policy_row(s, policy_id, public=True)
        public_versions = versions_of(s, [row.policy.id], public=True)[row.policy.id]
        d = versions.compare(s, row.policy, from_id, to_id, public=True)
    return DiffPage(card=PolicyCard(row=row, versions=public_versions), diff=d)

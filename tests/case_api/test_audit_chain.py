"""The audit chain as a pure module: any edit, deletion, insertion or reordering is found, and
the first broken link is named."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.case_api.domain import audit_chain
from services.case_api.domain.audit_chain import GENESIS, seal, verify

T0 = datetime(2026, 1, 1, tzinfo=UTC)

details = st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=10), st.none()), max_size=3)


def build(n_details: list[dict]) -> list[audit_chain.ChainEntry]:
    chain, prev = [], GENESIS
    for i, d in enumerate(n_details, start=1):
        e = seal(seq=i, at=T0 + timedelta(seconds=i), actor=f"a{i % 3}", action="x", case_id=None, detail=d,
                 prev_hash=prev)
        chain.append(e)
        prev = e.hash
    return chain


def head(chain):
    return (chain[-1].seq, chain[-1].hash) if chain else None


@given(st.lists(details, max_size=20))
def test_an_untouched_chain_verifies(ds):
    chain = build(ds)
    result = verify(chain, head=head(chain))
    assert result.ok and result.entries_checked == len(chain)


@given(st.lists(details, min_size=1, max_size=20), st.data())
def test_any_edit_is_found_at_that_entry(ds, data):
    chain = build(ds)
    i = data.draw(st.integers(0, len(chain) - 1))
    field = data.draw(st.sampled_from(["actor", "action", "detail", "at"]))
    new = {"actor": "mallory", "action": "y", "detail": {"edited": True}, "at": T0 - timedelta(days=1)}[field]
    tampered = list(chain)
    tampered[i] = dataclasses.replace(chain[i], **{field: new})
    result = verify(tampered, head=head(chain))
    assert not result.ok and result.first_broken_seq == chain[i].seq


@given(st.lists(details, min_size=1, max_size=20), st.data())
def test_any_deletion_is_found(ds, data):
    chain = build(ds)
    i = data.draw(st.integers(0, len(chain) - 1))
    result = verify(chain[:i] + chain[i + 1:], head=head(chain))
    assert not result.ok and result.first_broken_seq == chain[i].seq


@given(st.lists(details, min_size=2, max_size=20))
def test_recomputing_one_hash_does_not_hide_an_edit(ds):
    chain = build(ds)
    forged = dataclasses.replace(chain[0], actor="mallory")
    forged = dataclasses.replace(forged, hash=audit_chain.compute_hash(forged))
    result = verify([forged, *chain[1:]], head=head(chain))
    assert not result.ok and result.first_broken_seq == 2

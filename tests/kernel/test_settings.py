"""Settings refuse variables they do not know, so a typo cannot silently fall back to a default."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.feedback_api.settings import FeedbackSettings
from services.policy_api.settings import PolicySettings


def test_a_misspelt_variable_stops_the_service_and_is_named(monkeypatch):
    monkeypatch.setenv("FEEDBACK_API_RECIEPT_PEPPER", "x")
    with pytest.raises(ValidationError, match="FEEDBACK_API_RECIEPT_PEPPER"):
        FeedbackSettings()


def test_a_misspelt_nested_variable_is_named(monkeypatch):
    monkeypatch.setenv("POLICY_API_AUTH__ISUER", "x")
    with pytest.raises(ValidationError, match="POLICY_API_AUTH__ISUER"):
        PolicySettings()


def test_known_variables_and_other_prefixes_are_accepted(monkeypatch):
    monkeypatch.setenv("POLICY_API_AUTH__ISSUER", "https://idp.example")
    monkeypatch.setenv("POLICY_API_log_level", "DEBUG")
    monkeypatch.setenv("CASE_API_WHATEVER", "not policy_api's business")
    s = PolicySettings()
    assert s.auth.issuer == "https://idp.example" and s.log_level == "DEBUG"

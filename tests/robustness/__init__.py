"""Robustness (issue #9): schemathesis against each service's OpenAPI, hostile inputs, forged tokens."""

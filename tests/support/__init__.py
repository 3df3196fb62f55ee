"""Test harness shared by every test folder: databases, apps, tokens, live servers."""

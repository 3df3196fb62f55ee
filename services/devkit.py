"""Dev-only helpers: what a service's ``demo.py`` receives to load demo data over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx


@dataclass
class DemoContext:
    """``urls`` maps service name to base URL; ``token(roles, department, subject)`` signs a
    dev token. Demo loaders talk to the services over their public APIs only."""

    urls: dict[str, str]
    token: Callable[..., str]

    def client(self, service: str, *, roles: list[str] | None = None, department: str | None = None,
               subject: str = "demo-loader") -> httpx.Client:
        headers = {}
        if roles:
            headers["Authorization"] = f"Bearer {self.token(roles=roles, department=department, subject=subject)}"
        return httpx.Client(base_url=self.urls[service], headers=headers, timeout=30.0)

"""Rendering, forms and errors: what every screen of the console shares."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from services.staff_console import roles as R
from services.staff_console.messages import MESSAGES, t
from services.staff_console.sessions import Session
from services.staff_console.upstream import Api, ApiProblem

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(t=t, R=R, may=R.may)
templates.env.autoescape = True


def _when(value: Any) -> str:
    if not value:
        return "—"
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return dt.strftime("%Y-%m-%d %H:%M UTC")


def _day(value: Any) -> str:
    if not value:
        return "—"
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%Y-%m-%d")
    except ValueError:
        return str(value)


def _label(value: Any, group: str) -> str:
    key = f"{group}.{value}"
    return MESSAGES.get(key, str(value).replace("_", " ")) if value is not None else "—"


templates.env.filters.update(when=_when, day=_day, label=_label)


class NotSignedIn(Exception):
    """No user in the session (or their token was refused): to the sign-in page."""

    def __init__(self, next_path: str = "/", expired: bool = False) -> None:
        self.next_path = next_path
        self.expired = expired


class CsrfFailed(Exception):
    pass


def session_of(request: Request) -> Session:
    session: Session = request.state.session
    return session


def render(request: Request, template: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    session = session_of(request)
    form = session.pop_form()
    context = {"request": request, "session": session, "user": session.user, "roles": set(
        (session.user or {}).get("roles", [])), "csrf": session.csrf, "flash": session.pop_flash(),
        "form": form, "mode": request.app.state.settings.mode, **ctx}
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def require_user(request: Request) -> Session:
    session = session_of(request)
    if session.user is None or session.access_token is None:
        raise NotSignedIn(request.url.path, expired=session.expired)
    request.app.state.tokens.ensure_fresh(session)
    return session


User = Annotated[Session, Depends(require_user)]


async def api_for(request: Request, session: User) -> Api:  # no I/O: no thread hop
    return Api(request.app.state.peers, session.access_token or "")


UserApi = Annotated[Api, Depends(api_for)]


async def checked_form(request: Request) -> FormData:
    form = await request.form()
    if not session_of(request).csrf_ok(str(form.get("csrf_token") or "")):
        raise CsrfFailed()
    return form


Form = Annotated[FormData, Depends(checked_form)]


def values(form: FormData) -> dict[str, str]:
    return {k: str(v) for k, v in form.items() if k != "csrf_token" and isinstance(v, str)}


def opt(form: FormData, name: str) -> str | None:
    value = str(form.get(name) or "").strip()
    return value or None


def submit(request: Request, *, form_id: str, back: str, call: Callable[[], Any], success: str,
           form: FormData, after: Callable[[Any], str] | None = None) -> Response:
    """Run an API call for a form. Refused: back to the page with the error summary and the values
    typed; accepted: to ``after(result)`` or back, with a success message."""
    session = session_of(request)
    try:
        result = call()
    except ApiProblem as problem:
        if problem.status in (401, 404):
            raise
        session.form = {"id": form_id, "status": problem.status, "detail": problem.detail,
                        "errors": [[f, m] for f, m in problem.field_errors()], "values": values(form)}
        return redirect(back)
    session.add_flash(success)
    return redirect(after(result) if after else back)


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")

"""The built-in review page (``--serve``): one item at a time, keyboard shortcuts, progress.

- Loopback only. Each reviewer signs in with their own token: the link printed for them carries
  it in the URL's fragment (``/#token=...``), which browsers never send to a server; the page's
  script posts it once and the server answers with an HttpOnly, SameSite=Strict cookie. Tokens
  are compared by SHA-256; none is ever written into a page.
- Everything a reviewer sees of a record or an answer is escaped (Jinja2 autoescaping, Pygments
  for code), and every response carries a Content-Security-Policy that allows only the page's
  own script and style files, so text from a model or a data set cannot run as script.
- Posts must come from the page itself (Origin and Host checked; DNS rebinding finds no Host it
  accepts) and stay small.
- Each answer is committed before the next item is served (``ReviewStore.record``): closing the
  browser or killing the server loses nothing answered, and the next visit resumes at the
  reviewer's first unanswered item. Reviewers share one WAL database and write only their own
  rows.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined

from tripwire.review._answers import CHOICES, DECISIONS, DROP_REASONS, check_answer
from tripwire.review._highlight import code_html, stylesheet
from tripwire.review._pairwise import QUESTIONS
from tripwire.review._store import Decision, ReviewStore, now

COOKIE = "tripwire_review"
MAX_BODY = 64 * 1024
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'none'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("tripwire.review", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["code"] = code_html
    return env


def _static(name: str) -> str:
    return resources.files("tripwire.review").joinpath("static", name).read_text("utf-8")


def _refuse(request: Request) -> Response | None:
    """The answer to a request the page does not take: a foreign host, a cross-origin post, a
    body too large (or with a length that is not one)."""
    host = request.headers.get("host", "").rsplit(":", 1)[0]
    if host not in LOOPBACK:
        return PlainTextResponse("unknown host", status_code=421, headers=_HEADERS)
    if request.method != "POST":
        return None
    origin = request.headers.get("origin")
    if origin not in (None, "null") and origin.split("://", 1)[-1] != request.headers.get("host"):
        return PlainTextResponse("cross-origin post", status_code=403, headers=_HEADERS)
    length = request.headers.get("content-length") or "0"
    if not (length.isascii() and length.isdigit()):
        return PlainTextResponse("bad content-length", status_code=400, headers=_HEADERS)
    if int(length) > MAX_BODY:
        return PlainTextResponse("too large", status_code=413, headers=_HEADERS)
    return None


def create_app(directory: str | Path) -> FastAPI:
    """The review page of the review in ``directory``."""
    store = ReviewStore(directory)
    kind = store.meta()["kind"]
    env = _env()
    static = {
        "review.js": (_static("review.js"), "text/javascript"),
        "review.css": (_static("review.css") + "\n" + stylesheet(), "text/css"),
    }
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(template).render(kind=kind, **context)
        return HTMLResponse(html, status_code=status, headers=_HEADERS)

    def who(request: Request) -> str | None:
        token = request.cookies.get(COOKIE)
        return store.reviewer_for(token) if token else None

    def see_other(url: str, **headers: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303, headers={**_HEADERS, **headers})

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        refused = _refuse(request)
        if refused is not None:
            return refused
        response: Response = await call_next(request)
        for k, v in _HEADERS.items():  # FastAPI's own 404/405/422 answers too
            response.headers.setdefault(k, v)
        return response

    async def form(request: Request) -> dict[str, str]:
        # read as it arrives: a chunked body has no length to refuse up front
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                raise HTTPException(413, "too large")
        parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[-1] for k, v in parsed.items()}

    @app.get("/healthz")
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok", headers=_HEADERS)

    @app.get("/static/{name}")
    def asset(name: str) -> Response:
        if name not in static:
            return PlainTextResponse("not found", status_code=404, headers=_HEADERS)
        text, media = static[name]
        return Response(text, media_type=media, headers=_HEADERS)

    @app.get("/")
    def home(request: Request) -> Response:
        if who(request):
            return see_other("/next")
        return page("login.html.j2", error="")

    @app.post("/login")
    async def login(request: Request) -> Response:
        token = (await form(request)).get("token", "")
        name = store.reviewer_for(token) if token else None
        if name is None:
            return page("login.html.j2", status=403, error="That token is not a reviewer's.")
        response = see_other("/next")
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
        return response

    @app.post("/logout")
    def logout() -> Response:
        response = see_other("/")
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get("/next")
    def next_item(request: Request) -> Response:
        name = who(request)
        if name is None:
            return see_other("/")
        queue, done = store.queue(name), store.decided_by(name)
        for n, item_id in enumerate(queue, 1):
            if item_id not in done:
                return see_other(f"/item/{n}")
        return page("done.html.j2", reviewer=name, total=len(queue))

    def show(name: str, n: int, status: int = 200, error: str = "") -> Response:
        queue = store.queue(name)
        if not 1 <= n <= len(queue):
            return see_other("/next")
        item = store.item(queue[n - 1])
        assert item is not None
        done = store.decided_by(name)
        return page(
            "item.html.j2",
            status=status,
            reviewer=name,
            n=n,
            total=len(queue),
            decided=sum(1 for i in queue if i in done),
            item=item.shown,
            answer=done.get(item.item_id, {}),
            error=error,
            decisions=DECISIONS,
            reasons=DROP_REASONS,
            questions=QUESTIONS,
            choices=CHOICES,
        )

    @app.get("/item/{n}")
    def item_page(request: Request, n: int) -> Response:
        name = who(request)
        return see_other("/") if name is None else show(name, n)

    @app.post("/item/{n}")
    async def decide(request: Request, n: int) -> Response:
        name = who(request)
        if name is None:
            return see_other("/")
        queue = store.queue(name)
        if not 1 <= n <= len(queue):  # an answer for nothing: say so rather than drop it
            return PlainTextResponse(
                f"no item {n} in your queue of {len(queue)}", status_code=404, headers=_HEADERS
            )
        fields = await form(request)
        try:
            answer = check_answer(kind, fields)
        except ValueError as exc:
            return show(name, n, status=422, error=str(exc))
        store.record(Decision(queue[n - 1], name, answer, now(), "page"))
        return see_other("/next" if fields.get("then") != "stay" else f"/item/{n}")

    return app


def serve(
    directory: str | Path,
    port: int = 8765,
    host: str = "127.0.0.1",
    announce: Callable[[str], None] = print,
) -> None:
    """Run the page until interrupted, on loopback only; ``announce`` gets its URL once the
    port is bound (``port`` 0: any free port)."""
    import socket

    import uvicorn

    if host not in LOOPBACK:
        raise ValueError("the review page listens on loopback only")
    app = create_app(directory)
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    bound = sock.getsockname()[1]
    name = f"[{host.strip('[]')}]" if family == socket.AF_INET6 else host
    announce(f"http://{name}:{bound}")
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])

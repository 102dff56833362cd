"""The HTTP service: ingestion, feedback, deploy notices, read APIs, dashboard and /metrics.

Writers send events, feedback and deploys with a write token; the dashboard and Prometheus read
with a read token (a write token reads too). Tokens are read from the ``Authorization`` header
only, as ``Bearer TOKEN`` or, for a browser, HTTP Basic with the token as the password: a token
in a URL ends up in logs, histories and the page itself. Bodies over ``MAX_BODY`` bytes are
refused (413) before any of them is parsed (a gzip body is decompressed up to the same limit),
and every input is validated (``_schema``): bad input is a 4xx with a message naming the field,
never a 500. Every error, the router's 404 and 405 included, is ``{"error": ...}``.

What the detectors watch (``Detector.coverage()``) is served beside the alerts, at
``/v1/coverage``, as ``/metrics`` gauges and on the dashboard: an empty alert list speaks only
for what was watched.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import secrets
import zlib
from collections.abc import AsyncIterator, Sequence
from importlib import resources
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FunctionLoader, select_autoescape
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tripwire.monitor._charts import bucket_for, count_chart, rate_chart
from tripwire.monitor._checks import FLAGS
from tripwire.monitor._coverage import Coverage
from tripwire.monitor._replay import validation_problem
from tripwire.monitor._schema import Deploy, EventBatch, Feedback, TriageBatch
from tripwire.monitor._service import ServerConfig, Service

MAX_BODY = 8 * 1024 * 1024
"""Largest request body accepted, in bytes (a batch of 1,000 typical events is about 1 MB)."""
_REALM = 'Basic realm="tripwire monitor", charset="UTF-8"'
log = logging.getLogger("tripwire.monitor")


def _template(name: str) -> str:
    return resources.files("tripwire.monitor").joinpath("templates", name).read_text("utf-8")


_JINJA = Environment(loader=FunctionLoader(_template), autoescape=select_autoescape(default=True))


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, by the declared length before the
    application runs and by counting what arrives for chunked bodies, so an oversized body is
    never buffered whole or parsed."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"error": f"request body over {self.limit} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await self._refuse(send)


def _problem(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request"
    e = errors[0]
    where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {e.get('msg', 'invalid')}{more}"


def presented_token(request: Request) -> str | None:
    """The token in the ``Authorization`` header (Bearer, or Basic's password); never a query
    parameter."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def _matches(token: str | None, allowed: Sequence[str]) -> bool:
    return token is not None and any(
        secrets.compare_digest(token.encode(), t.encode()) for t in allowed
    )


def _gunzip(body: bytes, encoding: str) -> bytes:
    """A gzip (or zlib) body, decompressed to at most ``MAX_BODY`` bytes: the limit holds for
    what is parsed, not only for what crossed the wire."""
    out, rest = b"", body
    while rest:  # gzip allows several members, one after the other
        d = zlib.decompressobj(wbits=47)  # 32 + 15: a gzip or zlib header, detected
        try:
            out += d.decompress(rest, MAX_BODY + 1 - len(out))
        except zlib.error as exc:
            why = f"Content-Encoding says {encoding}, but the body is not ({exc})"
            raise HTTPException(400, why) from exc
        if len(out) > MAX_BODY or d.unconsumed_tail:
            raise HTTPException(413, f"request body over {MAX_BODY} bytes once decompressed")
        if not d.eof:
            raise HTTPException(400, f"Content-Encoding says {encoding}, but the body is cut short")
        rest = d.unused_data
    return out


async def _body(request: Request) -> bytes:
    """The body as sent, decompressed when the client says gzip (log shippers do by default),
    without a UTF-8 byte order mark (JSON parsers may ignore one; Windows tools write it)."""
    body = await request.body()
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        body = _gunzip(body, encoding)
    elif encoding not in ("", "identity"):
        raise HTTPException(
            415, f"Content-Encoding {encoding[:40]!r} is not supported (gzip, deflate)"
        )
    return body.removeprefix(b"\xef\xbb\xbf")


async def _parse(request: Request, model: type[BaseModel]) -> Any:
    body = await _body(request)
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise HTTPException(422, validation_problem(exc, "body")) from exc


def create_app(config: ServerConfig) -> FastAPI:
    """The FastAPI application for one database (state is built, and rebuilt, on startup)."""
    service = Service(config)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    app = FastAPI(title="tripwire monitor", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)  # fmt: skip
    app.add_middleware(BodyLimit, limit=MAX_BODY)
    app.state.monitor = service
    open_ = not config.write_tokens and not config.read_tokens

    def _unauthorized(detail: str) -> HTTPException:
        return HTTPException(401, detail, headers={"WWW-Authenticate": _REALM})

    def writer(request: Request) -> None:
        if open_:
            return
        token = presented_token(request)
        if _matches(token, config.write_tokens):
            return
        if _matches(token, config.read_tokens):
            raise HTTPException(403, "this token may only read")
        raise _unauthorized("a write token is required (Authorization: Bearer ...)")

    def reader(request: Request) -> None:
        if open_ or _matches(presented_token(request), (*config.read_tokens, *config.write_tokens)):
            return
        raise _unauthorized("a read token is required (Authorization: Bearer ...)")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": _problem(exc)}, status_code=422)

    # the router's own 404 and 405 too: every error a client gets is {"error": ...}
    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code,
                            headers=exc.headers)  # fmt: skip

    @app.exception_handler(Exception)
    async def _internal(_request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error", exc_info=exc)
        return JSONResponse({"error": "internal error (logged by the server)"}, status_code=500)

    def get(path: str, **kw: Any) -> Any:
        """A GET route that answers HEAD too (uptime checks, ``curl -I``): FastAPI's own
        routes refuse HEAD with 405."""
        return app.api_route(path, methods=["GET", "HEAD"], **kw)

    @get("/healthz")
    def healthz() -> dict[str, Any]:
        with service.lock:
            service.refresh()
            # replicas: whether this one detects, and the last stored event its detectors saw
            return {"ok": True, "events": service.monitor.detector.observed,
                    "detecting": service.detecting, "cursor": service.cursor}  # fmt: skip

    @app.post("/v1/events", dependencies=[Depends(writer)])
    async def post_events(request: Request) -> dict[str, Any]:
        batch = await _parse(request, EventBatch)
        return await run_in_threadpool(service.ingest, batch)

    @app.post("/v1/feedback", dependencies=[Depends(writer)])
    async def post_feedback(request: Request) -> dict[str, Any]:
        fb = await _parse(request, Feedback)
        return await run_in_threadpool(service.feedback, fb)

    @app.post("/v1/triage", dependencies=[Depends(writer)])
    async def post_triage(request: Request) -> dict[str, Any]:
        from tripwire.triage._batch import summary, triage_many

        batch = await _parse(request, TriageBatch)
        # {"text": ...} items too, as `monitor triage` reads them from a file
        items = [i["text"] if isinstance(i, dict) and "text" in i else i for i in batch.reports]
        results = await run_in_threadpool(triage_many, items, config.triage)  # type: ignore[arg-type]
        return {"summary": summary(results), "results": results}

    @app.post("/v1/deploys", dependencies=[Depends(writer)])
    async def post_deploy(request: Request) -> dict[str, Any]:
        d = await _parse(request, Deploy)
        await run_in_threadpool(service.deploy, d)
        return {"ok": True}

    def coverage() -> Coverage:
        with service.lock:  # the detector's dicts change while a batch is observed
            service.refresh()
            if service.pending:
                service.retry()
            return service.monitor.detector.coverage()

    @get("/v1/alerts", dependencies=[Depends(reader)])
    def get_alerts(limit: int = Query(200, ge=1, le=10_000)) -> dict[str, Any]:
        # beside the alerts, what was watched: an empty list means nothing only where it was
        cov = coverage()
        return {"alerts": service.store.alert_list(limit), "coverage": cov.to_dict()}

    @get("/v1/coverage", dependencies=[Depends(reader)])
    def get_coverage() -> dict[str, Any]:
        cov = coverage()
        return {**cov.to_dict(), "notices": cov.notices()}

    def _metric(metric: str) -> str:
        if metric not in FLAGS:
            raise HTTPException(422, f"metric: unknown {metric[:50]!r} (one of {', '.join(FLAGS)})")
        return metric

    @get("/v1/series", dependencies=[Depends(reader)])
    def get_series(
        metric: str = Query("unexpected_script", max_length=40),
        bucket_minutes: int = Query(1, ge=1, le=525_600),
    ) -> dict[str, Any]:
        m = _metric(metric)
        return {"metric": m, "points": service.store.series(m, bucket_minutes)}

    @get("/v1/feedback/categories", dependencies=[Depends(reader)])
    def get_feedback_counts(bucket_minutes: int = Query(60, ge=1, le=525_600)) -> dict[str, Any]:
        points = service.store.feedback_counts(bucket_minutes)
        return {"totals": dict(service.feedback_totals()), "points": points}

    @get("/metrics", dependencies=[Depends(reader)])
    def metrics(request: Request) -> Response:
        cov = coverage()
        with service.lock:
            body, media = service.counters.render(cov, request.headers.get("accept", ""))
        return Response(body, media_type=media)

    @get("/v1/feedback/clusters", dependencies=[Depends(reader)])
    def get_feedback_clusters(limit: int = Query(2000, ge=2, le=20_000)) -> dict[str, Any]:
        return {"clusters": service.feedback_clusters(limit)}

    @get("/", dependencies=[Depends(reader)], response_class=HTMLResponse)
    def dashboard(metric: str | None = Query(None, max_length=40)) -> str:
        return _dashboard(service, coverage(), metric)

    return app


def _default_metric(service: Service) -> str:
    """The metric of the latest alert, else the one with the most defects: the chart a reader
    opening the page should see (a metric nothing flagged draws a flat line at zero)."""
    latest = service.store.alert_list(1)
    if latest:
        return str(latest[0]["metric"])
    totals = service.store.defect_totals()
    return max(FLAGS, key=lambda f: (totals[f], -FLAGS.index(f)))


def _dashboard(service: Service, cov: Coverage, metric: str | None) -> str:
    chosen = metric if metric in FLAGS else _default_metric(service)
    store = service.store
    bucket = bucket_for(*store.minute_span(chosen))
    chart = rate_chart(store.series(chosen, bucket), bucket)
    fb_bucket = bucket_for(*store.minute_span(None))
    fb_chart = count_chart(store.feedback_counts(fb_bucket), fb_bucket)
    return _JINJA.get_template("dashboard.html").render(
        events=store.count_events(), streams=cov.streams, coverage=cov,
        config=service.monitor.config, alerts=store.alert_list(50), metrics=FLAGS, metric=chosen,
        chart=chart, bucket=bucket, feedback_chart=fb_chart, fb_bucket=fb_bucket,
        categories=service.feedback_totals().most_common(), feedback=store.recent_feedback(),
        flagged=store.recent_flagged(),
        # only where the model triages: a rules-only service never loads the encoder
        clusters=service.feedback_clusters() if service.config.triage == "model" else None,
    )  # fmt: skip

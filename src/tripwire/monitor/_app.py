"""The HTTP service: ingestion, feedback, deploy notices, read APIs, dashboard and /metrics.

Writers send events, feedback and deploys with a write token; the dashboard and Prometheus read
with a read token (a write token reads too). An event batch is checked, committed to the
database, and only then acknowledged; the detectors are rebuilt from the database on start, so a
restart (or a crash) loses neither events nor detector state.

What the detectors watch (``Detector.coverage()``) is served beside the alerts, at
``/v1/coverage``, as ``/metrics`` gauges and on the dashboard: an empty alert list speaks only
for what was watched.
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from jinja2 import Environment, FunctionLoader, select_autoescape

from tripwire.artifacts import Registry
from tripwire.monitor._alerts import build_alert
from tripwire.monitor._checks import FLAGS
from tripwire.monitor._coverage import Coverage
from tripwire.monitor._detect import DetectorConfig
from tripwire.monitor._metrics import Counters, slice_of_alert
from tripwire.monitor._monitor import Monitor, triage_feedback
from tripwire.monitor._schema import Deploy, EventBatch, Feedback
from tripwire.monitor._slices import Slice
from tripwire.monitor._store import Store


@dataclass(frozen=True)
class ServerConfig:
    db_url: str
    write_tokens: tuple[str, ...] = ()
    read_tokens: tuple[str, ...] = ()
    """No tokens at all: the service is open (meant for loopback only)."""
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    registry_url: str | None = None


def _template(name: str) -> str:
    return resources.files("tripwire.monitor").joinpath("templates", name).read_text("utf-8")


_JINJA = Environment(loader=FunctionLoader(_template), autoescape=select_autoescape(default=True))


class _State:
    """The monitor and counters behind one lock: batches are stored and observed in order."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.store = Store(config.db_url)
        registry = Registry(config.registry_url) if config.registry_url else None
        self.monitor = Monitor(config.detector, registry)
        self.counters = Counters()
        self.lock = threading.Lock()
        self._rebuild()

    def _rebuild(self) -> None:
        for d in self.store.deploy_list():
            self.monitor.deploy(d)
        for sl, flags, ts, stratum in self.store.iter_flags():
            self.counters.event(sl, flags)
            for alarm in self.monitor.detector.observe(sl, flags, ts, stratum):
                self.store.add_alert(
                    build_alert(alarm, self.monitor.deploys, self.monitor.registry)
                )
        for a in self.store.alert_list(limit=100_000):
            self.counters.alerts[(a["metric"], slice_of_alert(a))] += 1
        for row in self.store.feedback_counts(10**9):
            self.counters.feedback[row["category"]] += row["count"]


def _problem(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request"
    e = errors[0]
    where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {e.get('msg', 'invalid')}{more}"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.query_params.get("token")


def _matches(token: str | None, allowed: Sequence[str]) -> bool:
    return token is not None and any(secrets.compare_digest(token, t) for t in allowed)


def create_app(config: ServerConfig) -> FastAPI:
    """The FastAPI application for one database (state is built, and rebuilt, on startup)."""
    app = FastAPI(title="tripwire monitor", docs_url=None, redoc_url=None)
    state = _State(config)
    app.state.monitor = state
    open_ = not config.write_tokens and not config.read_tokens

    def writer(request: Request) -> None:
        if open_:
            return
        token = _bearer(request)
        if _matches(token, config.write_tokens):
            return
        if _matches(token, config.read_tokens):
            raise HTTPException(403, "this token may only read")
        raise HTTPException(401, "a write token is required (Authorization: Bearer ...)")

    def reader(request: Request) -> None:
        if open_ or _matches(_bearer(request), (*config.read_tokens, *config.write_tokens)):
            return
        raise HTTPException(401, "a read token is required (Authorization: Bearer ...)")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": _problem(exc)}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"ok": True, "events": state.monitor.detector.observed}

    @app.post("/v1/events", dependencies=[Depends(writer)])
    def post_events(batch: EventBatch) -> dict[str, Any]:
        for ev in batch.events:
            if ev.event_id is None:
                ev.event_id = uuid.uuid4().hex
        checked = [(ev, state.monitor.check(ev)) for ev in batch.events]
        with state.lock:
            stored = state.store.add_events(checked)  # committed: safe to acknowledge
            fresh = set(stored.accepted)
            raised: list[dict[str, Any]] = []
            for ev, result in checked:
                if ev.event_id not in fresh:
                    continue
                state.counters.event(Slice.of(ev), result.flags)
                for alert in state.monitor.observe(ev, result):
                    if state.store.add_alert(alert):
                        state.counters.alerts[(alert["metric"], slice_of_alert(alert))] += 1
                        raised.append(alert)
        return {
            "accepted": stored.accepted,
            "duplicates": stored.duplicates,
            "defects": {ev.event_id: r.defects for ev, r in checked if r.defects},
            "alerts": raised,
        }

    @app.post("/v1/feedback", dependencies=[Depends(writer)])
    def post_feedback(fb: Feedback) -> dict[str, Any]:
        t = triage_feedback(fb)
        with state.lock:
            seq = state.store.add_feedback(fb, t.category, t.source, t.evidence)
            state.counters.feedback[t.category] += 1
        return {"id": seq, "category": t.category, "source": t.source, "evidence": t.evidence}

    @app.post("/v1/deploys", dependencies=[Depends(writer)])
    def post_deploy(d: Deploy) -> dict[str, Any]:
        with state.lock:
            state.store.add_deploy(d)
            state.monitor.deploy(d)
        return {"ok": True}

    def coverage() -> Coverage:
        with state.lock:  # the detector's dicts change while a batch is observed
            return state.monitor.detector.coverage()

    @app.get("/v1/alerts", dependencies=[Depends(reader)])
    def get_alerts(limit: int = Query(200, ge=1, le=10_000)) -> dict[str, Any]:
        # beside the alerts, what was watched: an empty list means nothing only where it was
        return {"alerts": state.store.alert_list(limit), "coverage": coverage().to_dict()}

    @app.get("/v1/coverage", dependencies=[Depends(reader)])
    def get_coverage() -> dict[str, Any]:
        cov = coverage()
        return {**cov.to_dict(), "notices": cov.notices()}

    @app.get("/v1/series", dependencies=[Depends(reader)])
    def get_series(
        metric: str = Query("unexpected_script"), bucket_minutes: int = Query(1, ge=1, le=10_080)
    ) -> dict[str, Any]:
        if metric not in FLAGS:
            raise HTTPException(422, f"metric: unknown {metric!r} (one of {', '.join(FLAGS)})")
        return {"metric": metric, "points": state.store.series(metric, bucket_minutes)}

    @app.get("/v1/feedback/categories", dependencies=[Depends(reader)])
    def get_feedback_counts(bucket_minutes: int = Query(60, ge=1)) -> dict[str, Any]:
        points = state.store.feedback_counts(bucket_minutes)
        totals: Counter[str] = Counter()
        for p in points:
            totals[p["category"]] += p["count"]
        return {"totals": dict(totals), "points": points}

    @app.get("/metrics", dependencies=[Depends(reader)], response_class=PlainTextResponse)
    def metrics() -> str:
        with state.lock:
            return state.counters.render(state.monitor.detector.coverage())

    @app.get("/", dependencies=[Depends(reader)], response_class=HTMLResponse)
    def dashboard(request: Request, metric: str = Query("unexpected_script")) -> str:
        alerts = state.store.alert_list(50)
        totals: Counter[str] = Counter()
        for p in state.store.feedback_counts(10**9):
            totals[p["category"]] += p["count"]
        token = _bearer(request) if request.query_params.get("token") else None
        cov = coverage()
        return _JINJA.get_template("dashboard.html").render(
            nonce=secrets.token_urlsafe(16),
            token_json=json.dumps(token).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"),
            events=state.store.count_events(),
            streams=cov.streams,
            coverage=cov,
            config=state.monitor.config,
            alerts=alerts,
            metrics=FLAGS,
            metric=metric if metric in FLAGS else FLAGS[0],
            categories=totals.most_common(),
            feedback=state.store.recent_feedback(),
            flagged=state.store.recent_flagged(),
        )  # fmt: skip

    return app

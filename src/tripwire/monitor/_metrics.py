"""``/metrics``: the monitor's counters, coverage gauges and latency histograms, written by
``prometheus_client`` in the Prometheus text format (or OpenMetrics, when a scraper asks).

Counts are kept in plain counters that the service rebuilds from its database on start (an
event or alert is never counted twice across a restart) and handed to the client library by a
collector at scrape time. Latencies are ``prometheus_client`` histograms observed as events
arrive: the completion latency each event reports (per model version, deployment, hardware and
route; rebuilt from the database on start, like the counts) and the service's own time to
check and store a batch (since this process started: Prometheus' ``rate()`` handles the reset).

Each service has its own ``CollectorRegistry``: nothing goes to the library's global one, so
several services in one process (tests, an embedding application) never share series.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from tripwire.monitor._coverage import Coverage
from tripwire.monitor._slices import DIMENSIONS, Slice

# completions take from tens of milliseconds (a cached short answer) to minutes (long code)
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
# one batch of up to 1,000 events through the online checks and into the database
BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

_RESERVED = frozenset({"check", "metric", "category", "route", *DIMENSIONS})


def _label_name(name: str, fixed: frozenset[str] = frozenset()) -> str:
    """A refining attribute as a Prometheus label name (``[a-zA-Z_][a-zA-Z0-9_]*``), kept apart
    from the labels the exposition sets itself."""
    clean = re.sub(r"[^a-zA-Z0-9_]", "_", name)
    return f"slice_{clean}" if clean in _RESERVED or clean in fixed else clean


def _slice_labels(sl: Slice) -> dict[str, str]:
    return {**sl.base.to_dict(), **{_label_name(k): v for k, v in sl.extra}}


def _family(
    family: type[CounterMetricFamily] | type[GaugeMetricFamily],
    name: str,
    doc: str,
    rows: list[tuple[dict[str, str], float]],
) -> Metric:
    """One metric family; the label names of each sample are its own (alerts on refined slices
    carry extra labels), so samples are added one by one."""
    metric = family(name, doc, labels=())
    for labels, value in rows:
        metric.add_sample(name + ("_total" if family is CounterMetricFamily else ""),
                          labels, float(value))  # fmt: skip
    return metric


class Counters:
    """What ``/metrics`` exposes; updated as events, feedback and alerts arrive."""

    def __init__(self) -> None:
        self.events: Counter[Slice] = Counter()
        self.defects: Counter[tuple[str, Slice]] = Counter()
        self.feedback: Counter[str] = Counter()
        self.alerts: Counter[tuple[str, Slice]] = Counter()
        self.coverage: Coverage | None = None
        """What the detectors watch, as of the scrape being rendered (see ``render``)."""
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Collector(self))
        self.latency = Histogram(
            "tripwire_monitor_completion_latency_seconds",
            "Completion latency the events report (latency_ms), per slice.",
            labelnames=DIMENSIONS, buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.batch_seconds = Histogram(
            "tripwire_monitor_ingest_batch_seconds",
            "Time the service took to check and store one batch of events.",
            buckets=BATCH_BUCKETS, registry=self.registry,
        )  # fmt: skip

    def event(
        self, sl: Slice, flags: dict[str, bool | None], latency_ms: float | None = None
    ) -> None:
        self.events[sl] += 1
        for metric, v in flags.items():
            if v:
                self.defects[(metric, sl)] += 1
        if latency_ms is not None:  # events replayed from the database on start are not timed
            self.latency.labels(*sl.base[:4]).observe(latency_ms / 1000.0)

    def render(self, coverage: Coverage | None = None, accept: str = "") -> tuple[bytes, str]:
        """The exposition and its content type: OpenMetrics when ``accept`` asks for it. Call
        with the service's lock held (the counters must not change mid-scrape)."""
        self.coverage = coverage
        if "application/openmetrics-text" in accept:
            return generate_openmetrics(self.registry), OPENMETRICS
        return generate_latest(self.registry), "text/plain; version=0.0.4; charset=utf-8"


class _Collector:
    """The plain counters and the coverage gauges, as metric families at scrape time."""

    def __init__(self, counters: Counters) -> None:
        self.c = counters

    def collect(self) -> Iterator[Metric]:
        c = self.c
        yield _family(CounterMetricFamily, "tripwire_monitor_events",
                      "Completions received, per slice.",
                      [(sl.to_dict(), n) for sl, n in sorted(c.events.items())])  # fmt: skip
        yield _family(CounterMetricFamily, "tripwire_monitor_defects",
                      "Completions an online check flagged.",
                      [({"check": m, **sl.to_dict()}, n)
                       for (m, sl), n in sorted(c.defects.items())])  # fmt: skip
        yield _family(CounterMetricFamily, "tripwire_monitor_feedback",
                      "User feedback reports, per triaged category.",
                      [({"category": k}, n) for k, n in sorted(c.feedback.items())])  # fmt: skip
        yield _family(CounterMetricFamily, "tripwire_monitor_alerts",
                      "Change alerts raised, per metric and slice.",
                      [({"metric": m, **_slice_labels(sl)}, n)
                       for (m, sl), n in sorted(c.alerts.items())])  # fmt: skip
        if c.coverage is not None:
            yield from _coverage(c.coverage)


def _coverage(coverage: Coverage) -> Iterator[Metric]:
    """Gauges to alert on the monitor itself: an unwatched metric raises no alert of its own."""
    yield _family(GaugeMetricFamily, "tripwire_monitor_warmup_events_needed",
                  "Events a route still needs before its detectors start (0: watching).",
                  [({"route": r.route}, r.needed) for r in coverage.routes])  # fmt: skip
    yield _family(GaugeMetricFamily, "tripwire_monitor_metric_watched",
                  "1 when a metric has a detector on a route past its warm-up, 0 when too few "
                  "warm-up events had it applicable.",
                  [({"route": r.route, "metric": m.metric}, int(m.watched))
                   for r in coverage.routes for m in r.metrics])  # fmt: skip


def slice_of_alert(alert: dict[str, object]) -> Slice:
    sl = alert["slice"]
    assert isinstance(sl, dict)
    return Slice.from_dict(sl)

"""What clients send: events, feedback and deploy notices, validated by pydantic.

The same models validate HTTP bodies and the lines of a recorded ``EVENTS.jsonl``, so a stream
replayed offline is read exactly as the server read it. Every field is range checked here, so
nothing a client sends can reach the database or the detectors unchecked (a bad value is a 422
naming the field, never a 500):

- Timestamps are timezone-aware UTC. One without an offset is taken as UTC (documented: clients
  that log naive UTC times need no change); one with an offset is converted. Only 1970 to 2199 is
  accepted (``0001-01-01`` cannot be bucketed by minute on every database).
- Numbers must be finite (``NaN``, ``Infinity`` are refused) and within bounds a real completion
  can have.
- Numbers are JSON numbers: ``true`` or ``"12"`` for a latency is a client's bug, refused
  rather than stored as 1.0 or 12.0 (a count takes ``3.0``, not ``3.5``).
- Names (slice coordinates, ids, attributes) may not contain NUL, which PostgreSQL cannot store.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    field_validator,
    model_validator,
)

MAX_COMPLETION_CHARS = 200_000
MAX_BATCH = 1000
MAX_TOKENS = 10_000_000
"""Token counts above this are refused (also keeps them inside a 32-bit database column)."""
MAX_LATENCY_MS = 1e8
MAX_ATTRIBUTES = 16
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
Category = Literal[
    "compilation_error",
    "runtime_error",
    "logic_error",
    "incomplete_code",
    "incorrect_api_usage",
    "instructions_not_followed",
    "performance_regression",
    "other",
]
FEEDBACK_CATEGORIES: tuple[str, ...] = get_args(Category)
ATTRIBUTE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,39}")


def utc_now() -> datetime:
    return datetime.now(UTC)


def _utc(ts: datetime) -> datetime:
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    if not EARLIEST <= ts < LATEST:
        raise ValueError(f"must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)")
    return ts


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
"""A timestamp normalised to aware UTC (naive ones are taken as UTC)."""
_NO_NUL = r"^[^\x00]*$"  # a pattern, not a validator function: checked in pydantic's Rust core
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=_NO_NUL)]
OptionalText = Annotated[str, Field(max_length=200, pattern=_NO_NUL)]
Short = Annotated[str, Field(max_length=40, pattern=_NO_NUL)]


def _json_number(value: Any) -> Any:
    if isinstance(value, (bool, str)):
        raise ValueError(f"must be a JSON number, not {type(value).__name__} {value!r:.40}")
    return value


Number = Annotated[float, Strict()]
"""A JSON number (an integer too): ``true`` and ``"12"`` are refused (in Rust, per value)."""
Count = Annotated[int, BeforeValidator(_json_number)]
"""A whole JSON number: ``3.0`` is taken (pandas writes counts so), ``true`` and ``"3"`` not."""
LogProb = Annotated[Number, Field(ge=-1e6, le=1e-6)]
Tokens = Annotated[Count, Field(ge=0, le=MAX_TOKENS)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, allow_inf_nan=False)


class SliceFields(_Strict):
    """Where a completion was served: the four coordinates a slice is made of."""

    model_version: Name
    deployment: Name
    hardware: Name
    route: Name


class Event(SliceFields):
    """One served completion."""

    type: Literal["event"] = "event"
    event_id: OptionalText | None = None
    """Client-chosen id; a resent event with the same id is stored once."""
    ts: UtcDatetime = Field(default_factory=utc_now)
    completion: str = Field(max_length=MAX_COMPLETION_CHARS)
    prompt_hash: str = Field(min_length=1, max_length=128, pattern=_NO_NUL)
    language: Short | None = None
    """The language the request asked for, when known (unfenced code is then checked as it)."""
    latency_ms: Number = Field(ge=0, le=MAX_LATENCY_MS)
    prompt_tokens: Tokens
    completion_tokens: Tokens
    max_tokens: Annotated[Count, Field(ge=1, le=MAX_TOKENS)] | None = None
    finish_reason: Short | None = None
    temperature: Number | None = Field(None, ge=0, le=100)
    logprobs: list[LogProb] | None = Field(None, max_length=100_000)
    """Log-probability of each sampled token."""
    top1: list[bool] | None = Field(None, max_length=100_000)
    """Per sampled token: was it the most probable one?"""
    attributes: dict[str, OptionalText] | None = Field(None, max_length=MAX_ATTRIBUTES)
    """Other things the client knows about the request (customer tier, editor, region...):
    names for ``--slice-by``."""

    @field_validator("attributes")
    @classmethod
    def _attribute_names(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        for k in v or {}:
            if not ATTRIBUTE_NAME.fullmatch(k):
                raise ValueError(f"attribute name {k[:50]!r}: letters, digits, _ . - (max 40)")
        return v

    @model_validator(mode="after")
    def _aligned(self) -> Event:
        if (
            self.logprobs is not None
            and self.top1 is not None
            and len(self.logprobs) != len(self.top1)
        ):
            raise ValueError("logprobs and top1 must have one entry per sampled token")
        return self


class EventBatch(_Strict):
    events: list[Event] = Field(min_length=1, max_length=MAX_BATCH)


class Feedback(_Strict):
    """A user's verdict on a completion: thumbs and/or a free-text report."""

    type: Literal["feedback"] = "feedback"
    event_id: OptionalText | None = None
    ts: UtcDatetime = Field(default_factory=utc_now)
    thumbs: Literal["up", "down"] | None = None
    text: str = Field("", max_length=20_000, pattern=_NO_NUL)
    category: Category | None = None
    """The reporter's own category; triage fills it in from the text when absent."""
    model_version: OptionalText | None = None
    deployment: OptionalText | None = None
    hardware: OptionalText | None = None
    route: OptionalText | None = None

    @model_validator(mode="after")
    def _something(self) -> Feedback:
        if self.thumbs is None and not self.text.strip() and self.category is None:
            raise ValueError("feedback needs thumbs, text or a category")
        return self


class TriageBatch(_Strict):
    """Reports to categorise without storing them. Items are not checked here: an unreadable
    one (not a string, empty, binary) comes back ``other`` with its reason, and the rest of
    the batch is triaged as usual."""

    reports: list[Any] = Field(min_length=1, max_length=MAX_BATCH)


class Deploy(_Strict):
    """A model version going live on a deployment (what an alert looks for near a change)."""

    type: Literal["deploy"] = "deploy"
    ts: UtcDatetime = Field(default_factory=utc_now)
    model_version: Name
    deployment: Name
    hardware: OptionalText | None = None
    note: str = Field("", max_length=2000, pattern=_NO_NUL)

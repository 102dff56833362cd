"""What clients send: events, feedback and deploy notices, validated by pydantic.

The same models validate HTTP bodies and the lines of a recorded ``EVENTS.jsonl``, so a stream
replayed offline is read exactly as the server read it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_COMPLETION_CHARS = 200_000
MAX_BATCH = 1000
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
_Name = Field(min_length=1, max_length=200)


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class SliceFields(_Strict):
    """Where a completion was served: the four coordinates a slice is made of."""

    model_version: str = _Name
    deployment: str = _Name
    hardware: str = _Name
    route: str = _Name


class Event(SliceFields):
    """One served completion."""

    type: Literal["event"] = "event"
    event_id: str | None = Field(None, max_length=200)
    """Client-chosen id; a resent event with the same id is stored once."""
    ts: datetime = Field(default_factory=utc_now)
    completion: str = Field(max_length=MAX_COMPLETION_CHARS)
    prompt_hash: str = Field(min_length=1, max_length=128)
    language: str | None = Field(None, max_length=40)
    """The language the request asked for, when known (unfenced code is then checked as it)."""
    latency_ms: float = Field(ge=0)
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    max_tokens: int | None = Field(None, ge=1)
    finish_reason: str | None = Field(None, max_length=40)
    temperature: float | None = Field(None, ge=0)
    logprobs: list[float] | None = Field(None, max_length=100_000)
    """Log-probability of each sampled token."""
    top1: list[bool] | None = Field(None, max_length=100_000)
    """Per sampled token: was it the most probable one?"""

    @model_validator(mode="after")
    def _aligned(self) -> Event:
        if (
            self.logprobs is not None
            and self.top1 is not None
            and len(self.logprobs) != len(self.top1)
        ):
            raise ValueError("logprobs and top1 must have one entry per sampled token")
        if self.logprobs is not None and any(lp > 1e-6 for lp in self.logprobs):
            raise ValueError("logprobs must be <= 0")
        return self


class EventBatch(_Strict):
    events: list[Event] = Field(min_length=1, max_length=MAX_BATCH)


class Feedback(_Strict):
    """A user's verdict on a completion: thumbs and/or a free-text report."""

    type: Literal["feedback"] = "feedback"
    event_id: str | None = Field(None, max_length=200)
    ts: datetime = Field(default_factory=utc_now)
    thumbs: Literal["up", "down"] | None = None
    text: str = Field("", max_length=20_000)
    category: Category | None = None
    """The reporter's own category; triage fills it in from the text when absent."""
    model_version: str | None = Field(None, max_length=200)
    deployment: str | None = Field(None, max_length=200)
    hardware: str | None = Field(None, max_length=200)
    route: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _something(self) -> Feedback:
        if self.thumbs is None and not self.text.strip() and self.category is None:
            raise ValueError("feedback needs thumbs, text or a category")
        return self


class Deploy(_Strict):
    """A model version going live on a deployment (what an alert looks for near a change)."""

    type: Literal["deploy"] = "deploy"
    ts: datetime = Field(default_factory=utc_now)
    model_version: str = _Name
    deployment: str = _Name
    hardware: str | None = Field(None, max_length=200)
    note: str = Field("", max_length=2000)

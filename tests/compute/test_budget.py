"""--max-memory sizes, the default budget and refusals before loading."""

from __future__ import annotations

import pytest

from tripwire.compute import (
    ENV,
    RUNTIME_BYTES,
    MemoryBudget,
    available_memory,
    current_budget,
    parse_memory,
    require_fits,
    use_budget,
)
from tripwire.errors import BadInputError


@pytest.mark.parametrize(
    ("text", "expected"),
    [("6GB", 6e9), ("6 gb", 6e9), ("512MiB", 512 * 2**20), ("1.5G", 1.5e9), ("4000000000", 4e9)],
)
def test_sizes(text, expected) -> None:
    assert parse_memory(text).bytes == int(expected)


def test_a_share_is_of_the_memory_available_now() -> None:
    got = parse_memory("50%")
    assert 0 < got.bytes <= available_memory() and "50%" in got.source


@pytest.mark.parametrize("text", ["", "lots", "6XB", "0", "0%", "150%", "-3GB"])
def test_bad_sizes_name_the_option(text) -> None:
    with pytest.raises(BadInputError, match="--max-memory"):
        parse_memory(text)


def test_the_environment_then_the_command_set_the_budget(monkeypatch) -> None:
    monkeypatch.setenv(ENV, "3GB")
    assert current_budget().bytes == 3_000_000_000
    with use_budget("2GB"):
        assert current_budget().bytes == 2_000_000_000
    assert current_budget().bytes == 3_000_000_000
    monkeypatch.delenv(ENV)
    assert current_budget().bytes < available_memory()


def test_refusal_is_one_line_naming_the_option_and_the_parts() -> None:
    budget = MemoryBudget(RUNTIME_BYTES + 100_000_000, "--max-memory test")
    require_fits("scoring", {"for its weights": 99_000_000}, budget)
    with pytest.raises(BadInputError) as exc:
        require_fits("scoring", {"for its weights": 200_000_000}, budget)
    message = str(exc.value)
    assert message.startswith("--max-memory: scoring needs about") and "\n" not in message
    assert "200 MB for its weights" in message and "--max-memory test" in message

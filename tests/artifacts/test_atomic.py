from __future__ import annotations

from pathlib import Path

import pytest

from tripwire.artifacts import atomic_path, write_json_atomic


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("crash mid-write")
    assert list(tmp_path.iterdir()) == []


def test_failed_directory_write_keeps_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "new.txt").write_text("new")
        raise RuntimeError("crash")
    assert [p.name for p in target.iterdir()] == ["old.txt"]
    with atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "new.txt").write_text("new")
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_json_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.json"
    write_json_atomic(target, {"verdict": "pass"})
    assert target.read_text() == '{\n  "verdict": "pass"\n}\n'


def test_writing_to_a_device_or_a_pipe_writes_through_it(tmp_path: Path) -> None:
    # renaming onto /dev/null would replace the device itself (as root); a fifo stands in for
    # /dev/stdout or a shell's >(...)
    import os
    import stat
    import threading

    write_json_atomic("/dev/null", {"ok": True})
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_json_atomic(fifo, {"ok": True})
    reader.join(timeout=10)
    assert got == [b'{\n  "ok": true\n}\n'] and stat.S_ISFIFO(os.stat(fifo).st_mode)

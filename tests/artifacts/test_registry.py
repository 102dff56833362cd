from __future__ import annotations

from pathlib import Path

import pytest

from tripwire.artifacts import Manifest, Registry
from tripwire.errors import BadInputError


def _artifact(root: Path, name: str, content: str, parents: tuple[str, ...] = ()) -> Manifest:
    d = root / name
    d.mkdir()
    (d / "w.txt").write_text(content)
    m = Manifest.build(d, "model", name=name, parents=parents, command=f"make {name}")
    m.write(d)
    return m


def test_round_trip_and_lineage(tmp_path: Path) -> None:
    reg = Registry(f"sqlite:///{tmp_path / 'r.db'}")
    base = _artifact(tmp_path, "base", "0")
    data = _artifact(tmp_path, "data", "d")
    ft = _artifact(tmp_path, "ft", "1", parents=(base.id, data.id))
    ft2 = _artifact(tmp_path, "ft2", "2", parents=(ft.id,))
    for m in (base, data, ft, ft2):
        reg.register(m, tmp_path / m.name)
    reg.register(ft, tmp_path / "ft")  # idempotent
    assert [a.manifest.name for a in reg.list()] == ["base", "data", "ft", "ft2"]
    assert reg.get(ft.id).manifest == ft
    assert reg.get(ft.id[:10]).id == ft.id
    assert reg.get("ft2").id == ft2.id
    assert reg.get("ft").path == str((tmp_path / "ft").resolve())
    assert sorted(reg.parents(ft.id)) == sorted([base.id, data.id])
    assert reg.children(base.id) == [ft.id]
    assert reg.ancestors(ft2.id)[0] == ft.id
    assert set(reg.ancestors(ft2.id)) == {ft.id, base.id, data.id}
    reg.mark(base.id, "good", line="code-model", note="released")
    assert [m.mark for m in reg.marks(base.id)] == ["good"]
    assert reg.marks(mark="good")[0].line == "code-model"
    reg.close()
    # a second connection sees the same state (it is a real database file)
    again = Registry(f"sqlite:///{tmp_path / 'r.db'}")
    assert len(again.list(kind="model")) == 4
    assert again.list(kind="dataset") == []


def test_default_registry_lives_in_tripwire_home(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TRIPWIRE_HOME", str(tmp_path / "home"))
    reg = Registry()
    assert reg.url == f"sqlite:///{tmp_path / 'home' / 'registry.db'}"
    reg.register(_artifact(tmp_path, "m", "x"))
    assert (tmp_path / "home" / "registry.db").is_file()


def test_unknown_reference(tmp_path: Path) -> None:
    reg = Registry(f"sqlite:///{tmp_path / 'r.db'}")
    with pytest.raises(BadInputError, match="not in the registry"):
        reg.get("deadbeef")
    with pytest.raises(BadInputError, match="not in the registry"):
        reg.mark("deadbeef", "good")


@pytest.mark.parametrize(
    "url",
    ["sqlite:////nonexistent-dir/sub/registry.db", "nosuchdialect://host/db", "not a url"],
)
def test_unopenable_registry_url(url: str) -> None:
    with pytest.raises(BadInputError, match="cannot open registry") as exc:
        Registry(url)
    assert url in str(exc.value)

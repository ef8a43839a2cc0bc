"""memo: the cache folder and memos kept between runs; the explanation catalogs use it."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from wssviz import explain, memo
from wssviz.explain import render

CATALOG = Path(explain.__file__).with_name("en.toml")


def test_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert memo.cache_dir() == tmp_path / "wssviz"


def test_a_memo_round_trips_and_replaces_older_versions(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert memo.read("thing-1.json") is None
    memo.write("thing-1.json", {"a": [1, "二"]})
    memo.write("thing-2.json", {"b": 2}, replaces="thing-*.json")
    assert memo.read("thing-2.json") == {"b": 2}
    assert sorted(p.name for p in (tmp_path / "wssviz").iterdir()) == ["thing-2.json"]


def test_an_unwritable_cache_or_a_broken_memo_is_no_memo(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    memo.write("x.json", {"a": 1})  # nowhere to write: quietly not memoised
    assert memo.read("x.json") is None
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    memo.write("y.json", {"a": {1, 2}})  # not JSON: not memoised, no exception
    assert memo.read("y.json") is None
    (tmp_path / "wssviz" / "z.json").write_text("{not json")
    assert memo.read("z.json") is None


def test_catalogs_are_memoised_and_an_edited_catalog_is_read_anew(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    load = render._load.__wrapped__  # the uncached reader
    truth = tomllib.loads(CATALOG.read_text(encoding="utf-8"))
    assert load("en") == truth
    memos = list((tmp_path / "wssviz").glob("explain-en-*.json"))
    assert len(memos) == 1 and json.loads(memos[0].read_text(encoding="utf-8")) == truth
    # the next start reads the memo, not the TOML
    memos[0].write_text(json.dumps({"ui": {"key_next": "from the memo"}}), encoding="utf-8")
    assert load("en") == {"ui": {"key_next": "from the memo"}}
    # a broken memo: the TOML again, and a good memo in its place
    memos[0].write_text("{not json", encoding="utf-8")
    assert load("en") == truth and json.loads(memos[0].read_text(encoding="utf-8")) == truth
    # a memo of another version of the catalog (another length and checksum) is not read,
    # and goes when the current one is written
    memos[0].unlink()
    stale = tmp_path / "wssviz" / "explain-en-1-00000000.json"
    stale.write_text(json.dumps({"ui": {"key_next": "stale"}}), encoding="utf-8")
    assert load("en") == truth
    assert [p.name for p in (tmp_path / "wssviz").glob("explain-en-*.json")] == [memos[0].name]


def test_invalid_toml_raises_and_leaves_no_memo(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    try:
        memo.toml(b"[client\nkey = 1", "scenario-broken")
    except ValueError as exc:  # tomllib.TOMLDecodeError
        assert "line" in str(exc)
    else:
        raise AssertionError("invalid TOML must raise")
    assert not list(tmp_path.glob("**/scenario-broken-*"))
    assert memo.toml(b"[client]\nkey = 1\n", "scenario-fixed") == {"client": {"key": 1}}
    assert len(list(tmp_path.glob("**/scenario-fixed-*.json"))) == 1

"""Handouts (wssviz/export/handout.py, ``wssviz export --html / --markdown``): one
self-contained page with the ladder in phase bands and a lock on encrypted arrows,
each step at #step-N with its annotated bytes, fields and explanation, in the chosen
language; opened in headless Chromium with no network."""

from __future__ import annotations

import dataclasses
import html.parser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wssviz import scenarios
from wssviz.dissect import dissect
from wssviz.export.handout import Handout, encrypted, to_html, to_markdown
from wssviz.live.pair import LiveSession
from wssviz.live.settings import Message

ROOT = Path(__file__).resolve().parents[1]


class Page(html.parser.HTMLParser):
    """What a page holds: ids, links, external references, hex spans, text."""

    def __init__(self) -> None:
        super().__init__()
        self.ids, self.links, self.external, self.titles, self.text = [], [], [], [], []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        for key in ("src", "href"):
            if a.get(key) and not a[key].startswith("#"):
                self.external.append(a[key])
        if tag == "span" and a.get("title"):
            self.titles.append(a["title"])

    def handle_data(self, data):
        self.text.append(data)


def _steps(name="seed-example", messages=None):
    settings = scenarios.load(name)
    if messages is not None:
        settings = dataclasses.replace(settings, messages=messages)
    live = LiveSession(settings)
    live.run_all()
    return live.capture, dissect(live.capture)


def _page(doc: str) -> Page:
    p = Page()
    p.feed(doc)
    return p


def test_the_page_holds_the_ladder_every_step_and_nothing_from_outside():
    cap, steps = _steps()
    doc = to_html(Handout("T", "G", "seed-example", "en", cap.scheme, steps))
    p = _page(doc)
    assert [f"step-{s.index}" for s in steps] == [i for i in p.ids if i.startswith("step-")]
    ladder = [link for link in p.links if link.startswith("#step-")]
    assert ladder[:len(steps)] == [f"#step-{s.index}" for s in steps]  # one ladder row a step, in order
    assert p.external == [] and "script" not in p.tags and "<link" not in doc
    # a lock on each arrow whose bytes were inside encrypted records, none elsewhere
    locked = [s.index for s in steps if encrypted(s, cap.scheme)]
    assert locked and doc.count('class="lock"') == 2 * len(locked)  # (the ladder row and the step's line)
    kinds = {s.index: s.kind for s in steps}
    assert all(kinds[i] not in ("tcp.connect", "tls.client_hello", "tls.server_hello") for i in locked)
    text = "".join(p.text)
    for band in ("TCP", "TLS", "HTTP", "WebSocket"):
        assert f">{band}<" in doc
    # the ClientHello's bytes are annotated field by field
    hello = next(s for s in steps if s.kind == "tls.client_hello")
    section = doc[doc.index(f'id="step-{hello.index}"'):doc.index(f'id="step-{hello.index + 1}"')]
    assert 'title="cipher suites: ' in section and 'title="random: ' in section
    assert "server_name: server.example.com" in section
    assert "What happened" in text and "Eavesdropper sees" in text


def test_a_chinese_handout():
    cap, steps = _steps()
    doc = to_html(Handout("标题", "目标", "seed-example", "zh", cap.scheme, steps))
    assert '<html lang="zh-Hans">' in doc and "连接的每一步" in doc and "客户端" in doc
    assert "发生了什么" in doc or "讲解" in doc
    assert "What happened" not in doc and "The connection, step by step" not in doc


def test_peer_text_is_escaped_never_markup():
    cap, steps = _steps(messages=[Message("text", "<script>alert(1)</script> [b]x[/b]"),
                                  Message("close", "bye", code=1000)])
    doc = to_html(Handout("<i>t</i>", "g", "x", "en", cap.scheme, steps))
    assert "<script>" not in doc and "&lt;script&gt;" in doc and "<i>t</i>" not in doc
    md = to_markdown(Handout("t", "g", "x", "en", cap.scheme, steps))
    for line in md.splitlines():  # in Markdown, only inside code spans (shown as text)
        at = line.find("<script>")
        assert at < 0 or line[:at].count("`") % 2 == 1, line


def test_markdown_has_the_ladder_and_an_anchor_a_step():
    cap, steps = _steps()
    md = to_markdown(Handout("T", "G", "seed-example", "en", cap.scheme, steps))
    for s in steps:
        assert f'<a id="step-{s.index}"></a>' in md and f"](#step-{s.index})" in md
    assert "**TLS**" in md and "```" in md


def _wssviz(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "wssviz", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_export_writes_the_handouts_and_says_where(tmp_path):
    out = _wssviz("export", "seed-example", "--html", "h.html", "--markdown", "h.md", "--lang", "zh", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip() == "wrote h.html and h.md"
    assert "连接的每一步" in (tmp_path / "h.html").read_text(encoding="utf-8")
    none = _wssviz("export", "seed-example", cwd=tmp_path)
    assert none.returncode == 2 and "--html OUT" in none.stderr


@pytest.mark.skipif(not shutil.which("chromium"), reason="needs chromium")
@pytest.mark.parametrize("lang, words", [("en", ("The connection, step by step", "ClientHello")),
                                         ("zh", ("连接的每一步", "ClientHello"))])
def test_headless_chromium_opens_the_handout_with_no_network(tmp_path, lang, words):
    """The must-show: the page opens in a browser that can reach nothing (its proxy is
    a closed port) and shows the ladder and the annotated ClientHello."""
    assert _wssviz("export", "seed-example", "--html", "h.html", "--lang", lang, cwd=tmp_path).returncode == 0
    got = subprocess.run(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                          "--proxy-server=127.0.0.1:9", "--dump-dom", (tmp_path / "h.html").as_uri() + "#step-1"],
                         capture_output=True, text=True, timeout=90)
    dom = got.stdout
    assert all(w in dom for w in words), got.stderr[-500:]
    assert 'id="step-1"' in dom and 'class="ladder"' in dom
    assert ('title="cipher suites: ' if lang == "en" else 'title="密码套件') in dom

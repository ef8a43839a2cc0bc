"""The CJK-aware wrap shared by --plain and the interface (wssviz.textwrap_cjk), and its use on screen."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ui_fixtures import replay
from wssviz.explain import explain
from wssviz.explain import title as explain_title
from wssviz.textwrap_cjk import NO_LINE_END, NO_LINE_START, cells, wrap
from wssviz.ui.app import WssvizApp
from wssviz.ui.widgets.detail import DetailView
from wssviz.ui.widgets.timeline import Timeline

SAMPLE = ("这些密钥保护握手的剩余部分，从 EncryptedExtensions 一直到 Finished，这就是 TLS 1.3 "
          "中证书不可见的原因（key_share 扩展）。每条记录的 nonce 是 IV 与记录序号的异或。")


def test_cells_counts_wide_characters_twice():
    assert cells("abc") == 3 and cells("中文") == 4 and cells("（a）") == 5


def test_latin_text_wraps_like_textwrap():
    text = "The client opens a TCP connection with the three-way handshake (SYN, SYN-ACK, ACK)."
    assert wrap(text, 30, "  ", "    ") == textwrap.wrap(text, 30, initial_indent="  ",
                                                         subsequent_indent="    ")


@pytest.mark.parametrize("width", [21, 30, 44, 60, 77])
def test_cjk_lines_fit_keep_words_and_punctuation_rules(width):
    lines = wrap(SAMPLE, width)
    assert "".join(lines).replace(" ", "") == SAMPLE.replace(" ", "")  # nothing lost
    for line in lines:
        assert cells(line) <= width
        assert line[:1] not in NO_LINE_START and line[-1:] not in NO_LINE_END
    for word in ("EncryptedExtensions", "Finished", "key_share"):
        assert any(word in line for line in lines)  # Latin words are never split


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="中文字，。（）「」abc xyz", min_size=1, max_size=80), st.integers(8, 40))
@example("aaaaa。。", 8)  # a Latin word that cannot split, then closers: one must start a line
@example("a。 。。。", 8)  # carrying the whole run of closers down would overflow the next line
def test_cjk_wrap_never_overflows_or_loses_text(text, width):
    lines = wrap(text, width, "", "")
    assert "".join("".join(lines).split()) == "".join(text.split())
    assert all(cells(line) <= width for line in lines)
    if any(cells(ch) == 2 for ch in text):
        # a break never puts closing punctuation first when the character before could move
        for prev, line in zip(lines, lines[1:]):
            if line[:1] in NO_LINE_START:  # allowed only when nothing could move down with it
                last = prev.split()[-1]
                assert (prev[-1:] in NO_LINE_START or len(last) == 1 or last.isascii()
                        or cells(prev) + 2 > width), (prev, line)


@pytest.mark.parametrize("index", [2, 3, 6, 13, 27])  # Rich alone starts a line with 。 or ： on 2, 6, 13, 27
async def test_chinese_explanation_on_screen_follows_the_rule(index):
    app = WssvizApp(replay(), lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g", *str(index), "enter", "6")
        await pilot.pause()
        view = app.screen.query_one("#pane", DetailView)
        body = view.section("body")
        lines = [body.line(r, view.inner_width, view.palette, app.console).text.rstrip()
                 for r in range(body.rows(view.inner_width))]
        why = explain(app.session.steps[index], "zh").why
        assert why[:6] in "".join(lines)
        text_lines = [line for line in lines if any(cells(c) == 2 for c in line)]
        assert len(text_lines) > 4
        for line in text_lines:
            assert line[:1] not in NO_LINE_START, line
            assert line[-1:] not in NO_LINE_END, line
            assert cells(line) <= view.inner_width


async def test_chinese_ladder_keeps_its_rails_and_uses_catalog_names():
    app = WssvizApp(replay(steps=None), lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        timeline = app.screen.query_one(Timeline)
        rows = [timeline.render_line(y).text for y in range(timeline.size.height)]
        first = app.session.steps[0]
        assert explain_title(first, "zh") in rows[0]  # the catalog's name, not the English title
        assert explain_title(first, "en") not in rows[0]
        rails = {cells(row.rstrip()[: row.rstrip().rindex("│") + 1]) for row in rows if "│" in row}
        assert len(rails) == 1  # every rung ends at the same cell
        # the frontier row of a live-like session, in Chinese
        timeline.show(app.session.steps[:3], 2, True)
        await pilot.pause()
        row = timeline.render_line(3).text
        assert "尚未执行" in row and row.rstrip().endswith("│")
        assert cells(row.rstrip()) == cells(timeline.render_line(0).text.rstrip())

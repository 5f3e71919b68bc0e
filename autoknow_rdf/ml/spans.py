"""Character-offset spans, shared by the taxonomy's type tagger and the imputation's value tagger."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

__all__ = ["Span", "snap_to_words", "unescape_spans"]


@dataclass(frozen=True)
class Span:
    label: str
    start: int
    end: int
    score: float = 1.0


def snap_to_words(text: str, spans: list[Span]) -> list[Span]:
    """Widen spans to whole words (a word-piece tag must not cut 'Truffles' to 'uffles') and
    merge spans of one label that then touch or overlap.

    >>> snap_to_words("Chocolate Truffles 5oz", [Span("TYPE", 12, 18, 0.9)])
    [Span(label='TYPE', start=10, end=18, score=0.9)]
    """
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: s.start):
        a, b = s.start, s.end
        while a > 0 and text[a - 1].isalnum():
            a -= 1
        while b < len(text) and text[b].isalnum():
            b += 1
        if out and out[-1].label == s.label and a <= out[-1].end:
            prev = out.pop()
            out.append(Span(s.label, prev.start, max(b, prev.end), (prev.score + s.score) / 2))
        else:
            out.append(Span(s.label, a, b, s.score))
    return out




_ENTITY = re.compile(r"&(?:#\d+;?|#x[0-9a-fA-F]+;?|(?:amp|quot|lt|gt|nbsp);?|[A-Za-z][A-Za-z0-9]*;)")  # "&amp" without ";" too


def unescape_spans(text: str, spans: list[Span]) -> tuple[str, list[Span]]:
    """HTML entities decoded, with span offsets moved to the decoded text (not dropped).

    >>> unescape_spans("Tom &amp; Jerry Tee", [Span("Brand", 0, 15), Span("Type", 16, 19)])
    ('Tom & Jerry Tee', [Span(label='Brand', start=0, end=11, score=1.0), Span(label='Type', start=12, end=15, score=1.0)])
    >>> unescape_spans("Hats &amp Caps", [Span("Type", 10, 14)])
    ('Hats & Caps', [Span(label='Type', start=7, end=11, score=1.0)])
    """
    if "&" not in text:
        return text, spans
    pieces, at, pos, last = [], [0] * (len(text) + 1), 0, 0  # at[i]: decoded offset of raw boundary i
    for m in _ENTITY.finditer(text):
        for i in range(last, m.start()):
            at[i], pos = pos, pos + 1
        decoded = html.unescape(m.group(0))
        at[m.start()] = pos
        for i in range(m.start() + 1, m.end()):
            at[i] = pos + len(decoded)  # an end inside an entity takes the whole character
        pieces.append(text[last:m.start()] + decoded)
        pos, last = pos + len(decoded), m.end()
    for i in range(last, len(text) + 1):
        at[i], pos = pos, pos + 1
    pieces.append(text[last:])
    return "".join(pieces), [Span(s.label, at[s.start], at[s.end], s.score) for s in spans]


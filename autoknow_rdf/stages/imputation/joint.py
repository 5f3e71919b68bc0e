"""All of a text's attributes in one pass: "type: T ; attributes: a | b | c" against the text.

The QA extractor (qa.py) asks one question per applicable attribute: about 8 forward passes a
title, and nothing stops one span from answering two questions. Here (MAVEQA-style) the
applicable attributes are named together in one question, and each text token is tagged O, or
B / I of one of them: its state is scored against each attribute's own vector (the mean of the
attribute name's token states in the same pass, so the vector reads the type and the other
attributes too) by two bilinear maps, and O by a linear head. One forward pass per text (per
ATTRIBUTES_PER_PASS attributes), and a token answers at most one attribute by construction.

Training asks every applicable attribute of a human-labelled text (distant labels, only those
they know), in a seeded random order; prediction asks them in sorted order. The same `fit` /
`predict` / `save` / `load` as the other extractors.
"""

from __future__ import annotations

import random

import numpy as np

from ...ml.spans import Span, snap_to_words
from .decoding import one_attribute_per_span
from .model import HEAD_LR, ValueExample, keep_best_value, single_valued, trim_span
from .qa import LR, SavedExtractor, attribute_words, key_words

__all__ = ["JointExtractor", "joint_question", "decode_joint"]

ATTRIBUTES_PER_PASS = 24  # a type with more applicable attributes is asked in several passes
TYPE_WORDS = 12  # the type's words nearest the leaf that a question keeps


def joint_question(type_words: str, attributes: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """The question and each attribute's character span in it.

    >>> joint_question("coffee > ground coffee", ["Roast Level", "brand"])
    ('type: coffee > ground coffee ; attributes: roast level | brand', [(43, 54), (57, 62)])
    """
    words = " ".join(type_words.strip().lower().split()[-TYPE_WORDS:]) or "product"
    q, spans = f"type: {words} ; attributes: ", []
    for i, a in enumerate(attributes):
        q += " | " if i else ""
        name = attribute_words(a)
        spans.append((len(q), len(q) + len(name)))
        q += name
    return q, spans


def decode_joint(text: str, offsets, probs: np.ndarray, attributes: list[str]) -> list[Span]:
    """Spans from per-token probabilities over [O, B of each attribute, I of each]: B starts a
    value, I of the same attribute extends it (an I of another starts one); the score is the
    mean probability of the chosen tags; spans are widened to whole words and trimmed.

    >>> p = np.array([[.9, .05, 0, .05, 0], [.1, .8, 0, .1, 0], [.1, 0, .1, .8, 0], [.1, 0, .8, 0, .1]])
    >>> decode_joint("Acme Dark Roast Tea", [(0, 4), (5, 9), (10, 15), (16, 19)], p, ["Roast", "Type"])
    [Span(label='Roast', start=5, end=15, score=0.8), Span(label='Type', start=16, end=19, score=0.8)]
    """
    n = len(attributes)
    found: list[list] = []
    cur = None
    for (a, b), row in zip(offsets, probs):
        if a == b:
            continue
        k = int(row.argmax())
        if k == 0:
            cur = None
        elif k > n and cur is not None and cur[0] == k - 1 - n:
            cur[2], cur[3] = b, cur[3] + [float(row[k])]
        else:
            cur = [(k - 1) % n, a, b, [float(row[k])]]
            found.append(cur)
    spans = []
    for i, attribute in enumerate(attributes):
        mine = [Span(attribute, a, b, sum(ps) / len(ps)) for j, a, b, ps in found if j == i]
        spans += [Span(s.label, *trim_span(text, s.start, s.end), s.score) for s in snap_to_words(text, mine)]
    return sorted((s for s in spans if s.end > s.start), key=lambda s: (s.start, s.label))


def _net(path: str):
    """MiniLM; O from a linear head, B and I of an attribute bilinear in the token and the attribute."""
    import torch
    from torch import nn
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = AutoModel.from_pretrained(path)
            d = self.bert.config.hidden_size
            self.drop = nn.Dropout(0.1)
            self.head_o = nn.Linear(d, 1)
            self.head_b = nn.Linear(d, d)
            self.head_i = nn.Linear(d, d)
            self.scale = d ** -0.5

        def forward(self, input_ids, attention_mask, token_type_ids, pools, slots):
            h = self.drop(self.bert(input_ids=input_ids, attention_mask=attention_mask,
                                    token_type_ids=token_type_ids).last_hidden_state)
            v = torch.bmm(pools.to(h.dtype), h)  # [batch, attributes, d]: each attribute's name, pooled
            off = (~slots)[:, None, :].to(h.dtype) * -1e4  # empty attribute slots are never chosen
            b = torch.einsum("btd,bad->bta", self.head_b(h), v) * self.scale + off
            i = torch.einsum("btd,bad->bta", self.head_i(h), v) * self.scale + off
            return torch.cat([self.head_o(h), b, i], dim=-1)

    return Net()


class JointExtractor(SavedExtractor):
    """Value spans of every applicable attribute of a text in one pass (see the module)."""

    FILES = ("joint_extractor.pt", "joint_extractor.json")
    build_net = staticmethod(_net)
    reads_attributes_together = True  # the stage asks it every applicable attribute, not only the missing ones

    def __init__(self, attributes: list[str], epochs: int = 3, batch_size: int = 16, lr: float = LR,
                 max_length: int = 192, seed: int = 0):
        self.attributes, self.epochs, self.batch_size, self.lr = sorted(attributes), epochs, batch_size, lr
        self.max_length, self.seed = max_length, seed
        self.single_valued_: set[str] = set()
        self.conditioned = True  # on the type, by construction

    def _encode(self, asks: list[tuple[str, list[str], str]], pad_to: int | None = None):
        """Token ids for (type words, attributes, text) asks; each ask's text-token offsets, and its
        pooling matrix over the question's tokens ([asks, attributes, tokens]) with the slots used."""
        import torch

        questions = [joint_question(w, attrs) for w, attrs, _ in asks]
        padding = {"padding": "max_length", "max_length": pad_to} if pad_to else {"padding": True, "max_length": self.max_length}
        enc = self.tokenizer_([q for q, _ in questions], [t for _, _, t in asks], truncation="only_second",
                              return_offsets_mapping=True, return_tensors="pt", **padding)
        raw = enc.pop("offset_mapping").tolist()
        width = max(1, max(len(attrs) for _, attrs, _ in asks))
        pools = np.zeros((len(asks), width, len(raw[0])), dtype=np.float32)
        offsets = []
        for i, (offs, (_, spans)) in enumerate(zip(raw, questions)):
            seq = enc.sequence_ids(i)
            offsets.append([tuple(o) if s == 1 else (0, 0) for o, s in zip(offs, seq)])
            for j, (a, b) in enumerate(spans):
                tokens = [t for t, (o, s) in enumerate(zip(offs, seq)) if s == 0 and o[0] < b and o[1] > a]
                pools[i, j, tokens] = 1.0 / max(1, len(tokens))
        enc["pools"] = torch.tensor(pools)
        enc["slots"] = torch.tensor(pools.sum(-1) > 0)
        return enc, offsets

    def _asks(self, attributes: list[str]) -> list[list[str]]:
        return [attributes[i:i + ATTRIBUTES_PER_PASS] for i in range(0, len(attributes), ATTRIBUTES_PER_PASS)] or [[]]

    def fit(self, examples: list[ValueExample], vectors: dict | None, allowed: dict[str, set[str]], progress=None,
            type_words: dict[str, str] | None = None) -> "JointExtractor":
        """Fine-tune on labelled texts: every text asked all its applicable attributes (a distant
        one, those it knows), in a seeded order, a pass per ATTRIBUTES_PER_PASS of them."""
        import torch
        from torch.nn import functional as F

        from ...ml.encoder import encoder_path
        from ...ml.trainer import fit

        self._load(encoder_path())
        self.single_valued_ = single_valued(examples) & set(self.attributes)
        rng, known, words = random.Random(self.seed), set(self.attributes), type_words or {}
        asked = []  # (type words, attributes, text, spans)
        for e in examples:
            attrs = sorted((allowed.get(e.type_key, set()) if e.known is None else e.known) & known)
            if not attrs:
                continue
            rng.shuffle(attrs)
            for chunk in self._asks(attrs):
                asked.append((words.get(e.type_key, key_words(e.type_key)), chunk, e.text,
                              tuple(s for s in e.spans if s.label in chunk)))
        if not asked:
            raise ValueError("no labelled value of a known attribute to learn from")

        def loss_of(idx: list[int]):
            batch = [asked[j] for j in idx]
            enc, offsets = self._encode([(w, attrs, t) for w, attrs, t, _ in batch])
            width = enc["pools"].shape[1]  # the batch's attribute slots: I of slot k is column 1 + width + k
            y = np.full((len(batch), enc["input_ids"].shape[1]), -100, dtype=np.int64)
            for r, ((_, attrs, _, spans), offs) in enumerate(zip(batch, offsets)):
                for t, (a, b) in enumerate(offs):
                    if a != b:
                        y[r, t] = 0
                for s in sorted(spans, key=lambda s: (s.start, s.label)):
                    k, first = attrs.index(s.label), True
                    for t, (a, b) in enumerate(offs):
                        if a != b and a < s.end and b > s.start and y[r, t] == 0:
                            y[r, t] = 1 + k if first else 1 + width + k
                            first = False
            logits = self.net_(**{k: v.to(self.device_) for k, v in enc.items()})
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), torch.tensor(y).to(self.device_).reshape(-1),
                                   ignore_index=-100)

        head = [p for n, p in self.net_.named_parameters() if n.startswith("head_")]
        encoder = [p for n, p in self.net_.named_parameters() if not n.startswith("head_")]
        fit(self.net_, len(asked), loss_of, epochs=self.epochs, batch_size=self.batch_size, seed=self.seed,
            param_groups=[{"params": encoder, "lr": self.lr}, {"params": head, "lr": self.lr * HEAD_LR}],
            lengths=[len(t) + 12 * len(attrs) for _, attrs, t, _ in asked], progress=progress)
        return self

    def predict(self, texts: list[str], keys: list[str], vectors: dict | None, allowed: dict[str, set[str]],
                batch_size: int = 64, type_words: dict[str, str] | None = None, best_only: bool = True) -> list[list[Span]]:
        """Value spans per text (label = attribute): one pass per ATTRIBUTES_PER_PASS allowed attributes
        (`best_only` as `ValueTagger.predict`)."""
        from ...ml.trainer import predict_in_buckets

        known, words = set(self.attributes), type_words or {}
        asks = [(i, chunk) for i, k in enumerate(keys) for chunk in self._asks(sorted(allowed.get(k, set()) & known)) if chunk]

        def ask(j: int) -> tuple[str, list[str], str]:
            i, chunk = asks[j]
            return words.get(keys[i], key_words(keys[i])), chunk, texts[i]

        def run(idx: list[int], bucket: int) -> list[list[Span]]:
            enc, offsets = self._encode([ask(j) for j in idx], pad_to=bucket)
            width = enc["pools"].shape[1]
            logits = self.net_(**{k: v.to(self.device_) for k, v in enc.items()})
            probs = logits.float().softmax(-1).cpu().numpy()
            out = []
            for j, offs, p in zip(idx, offsets, probs):
                chunk = asks[j][1]
                n = len(chunk)  # this ask's own columns: O, its B's, its I's (the batch pads to `width`)
                cols = [0] + list(range(1, 1 + n)) + list(range(1 + width, 1 + width + n))
                out.append(decode_joint(texts[asks[j][0]], offs, p[:, cols], chunk))
            return out

        if not asks:
            return [[] for _ in texts]
        sizes = self.tokenizer_([joint_question(*ask(j)[:2])[0] for j in range(len(asks))], [ask(j)[2] for j in range(len(asks))],
                                truncation="only_second", max_length=self.max_length)["input_ids"]
        buckets = [min(self.max_length, -(-len(ids) // 16) * 16) for ids in sizes]
        found = predict_in_buckets(buckets, batch_size, run)
        spans: list[list[Span]] = [[] for _ in texts]
        for (i, _), f in zip(asks, found):
            spans[i] += f
        # two word pieces of one word tagged for two attributes (or two passes of a long attribute
        # list) meet once spans are whole words: the more confident keeps the words
        spans = [one_attribute_per_span(s) for s in spans]
        return [sorted(keep_best_value(t, s, self.single_valued_) if best_only else s, key=lambda x: (x.start, x.label))
                for t, s in zip(texts, spans)]

    # ---- persistence ---------------------------------------------------------------------------
    def config(self) -> dict:
        return {"attributes": self.attributes, "epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                "max_length": self.max_length, "seed": self.seed}

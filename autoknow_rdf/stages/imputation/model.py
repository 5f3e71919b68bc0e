"""A type-conditioned attribute-value tagger (after TXtract): MiniLM token states + the product type.

Every attribute has its own O/B/I decision per token (one multi-label head, not one BIO tag per
token), so one value can carry two attributes (AE-110K's overlapping spans) and a type's
applicable attributes are a mask over the head: the loss and the decoding only look at the
attributes that apply to the example's type. With `conditioned`, the type's embedding (a 384-d
MiniLM vector of its name, borrowed from its parents by the caller) is added to every token's
input embedding and modulates the output states (FiLM); both projections start at zero, so
training begins from the unconditioned tagger and learns how much the type matters. With
`type_task`, training is multi-task: a training-only head also predicts the example's type from
its mean token state, so the encoder must tell types apart without being given the type.

An attribute whose labelled texts (almost) never hold two different values is single-valued:
decoding keeps its most confident value per text, as the labels say a text has one brand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...vocab import slug
from ...ml.spans import Span, snap_to_words

__all__ = ["ValueExample", "ValueTagger", "trim_span", "single_valued", "keep_best_value", "decode_tags", "targets"]

TYPE_DIM = 384
HEAD_LR = 10  # the output head starts from scratch: it learns at 10x the encoder's rate
SINGLE_VALUED_SHARE = 0.05  # below this share of labelled texts with two values, an attribute has one per text


@dataclass(frozen=True)
class ValueExample:
    """A text (title or description) of a product of type `type_key`, with its labelled values."""

    text: str
    type_key: str
    spans: tuple[Span, ...]  # label = attribute name
    # the attributes this text is labelled for (None: every attribute its type allows). Distant
    # labels know only the attributes the product has a value of: a brand that is not in the
    # title teaches "no brand here", an attribute the product lacks teaches nothing.
    known: frozenset[str] | None = None



_EDGE = " \t&,;:/+|-\u2013"  # what a value does not begin or end with


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """A tagged span without the connectors a token boundary left at its edges ("& Caramel").

    >>> text = "Classic Nuts & Caramel, 12 oz"
    >>> [text[a:b] for a, b in (trim_span(text, 13, 23), trim_span(text, 8, 14), trim_span(text, 12, 14))]
    ['Caramel', 'Nuts', '']
    """
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    if text[start:end].lower().startswith("and "):
        start += 4
    if text[start:end].lower().endswith(" and"):
        end -= 4
    return start, end


def single_valued(examples: list[ValueExample]) -> set[str]:
    """Attributes of which under SINGLE_VALUED_SHARE of the labelled texts that carry them hold
    two different values.

    >>> single_valued([ValueExample("Acme red or blue cup", "t", (Span("Brand", 0, 4), Span("Color", 5, 8),
    ...                Span("Color", 12, 16)))])
    {'Brand'}
    """
    carrying, several = {}, {}
    for e in examples:
        values: dict[str, set[str]] = {}
        for sp in e.spans:
            values.setdefault(sp.label, set()).add(slug(e.text[sp.start:sp.end]))
        for a, v in values.items():
            carrying[a] = carrying.get(a, 0) + 1
            several[a] = several.get(a, 0) + (len(v) > 1)
    return {a for a, n in carrying.items() if several[a] < SINGLE_VALUED_SHARE * n}


def keep_best_value(text: str, spans: list[Span], single: set[str]) -> list[Span]:
    """The spans of each single-valued attribute's most confident value (all its mentions, compared
    by `vocab.slug`, as the store mints value individuals), the other attributes' spans as they are.

    >>> text = "Acme cup by Acme, Zeta"
    >>> keep_best_value(text, [Span("Brand", 0, 4, 0.9), Span("Brand", 12, 16, 0.6), Span("Brand", 18, 22, 0.7)], {"Brand"})
    [Span(label='Brand', start=0, end=4, score=0.9), Span(label='Brand', start=12, end=16, score=0.6)]
    """
    best: dict[str, tuple[float, str]] = {}
    for sp in spans:
        if sp.label in single and (sp.label not in best or sp.score > best[sp.label][0]):
            best[sp.label] = (sp.score, slug(text[sp.start:sp.end]))
    return [sp for sp in spans if sp.label not in single or slug(text[sp.start:sp.end]) == best[sp.label][1]]


def decode_tags(text: str, offsets, probs: np.ndarray, label: str) -> list[Span]:
    """Value spans of one attribute from its O/B/I probabilities per token ([tokens, 3]; tokens
    with an empty offset are skipped): B starts a value, I extends it (an I after O starts one
    too); confidence is the mean probability of the chosen tags; spans are widened to whole
    words and lose the connectors at their edges.

    >>> probs = np.array([[.9, .05, .05], [.1, .8, .1], [.2, .1, .7], [.9, .05, .05]])
    >>> decode_tags("Acme Dark Roast 12oz", [(0, 4), (5, 9), (10, 15), (16, 20)], probs, "Roast")
    [Span(label='Roast', start=5, end=15, score=0.75)]
    """
    tags = probs.argmax(-1)
    found, cur = [], None
    for (a, b), t, row in zip(offsets, tags, probs):
        if a == b:
            continue
        if t == 0:
            cur = None
        elif t == 2 and cur is not None:
            cur[1], cur[2] = b, cur[2] + [float(row[t])]
        else:
            cur = [a, b, [float(row[t])]]
            found.append(cur)
    snapped = snap_to_words(text, [Span(label, a, b, sum(ps) / len(ps)) for a, b, ps in found])
    return [s for s in (Span(s.label, *trim_span(text, s.start, s.end), s.score) for s in snapped) if s.end > s.start]


def _net(path: str, n_labels: int, conditioned: bool):
    """MiniLM encoder + a 3-way (O/B/I) head per attribute; with the type's vector as an input."""
    import torch
    from torch import nn
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()  # the encoder is local: a loading bar is noise

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = AutoModel.from_pretrained(path)
            hidden = self.bert.config.hidden_size
            self.conditioned = conditioned
            if conditioned:
                self.type_in, self.gate, self.shift = (nn.Linear(TYPE_DIM, hidden) for _ in range(3))
                for layer in (self.type_in, self.gate, self.shift):
                    nn.init.zeros_(layer.weight)
                    nn.init.zeros_(layer.bias)
            self.drop = nn.Dropout(0.1)
            self.head = nn.Linear(hidden, n_labels * 3)

        def forward(self, input_ids, attention_mask, type_vec, states: bool = False):
            if self.conditioned:
                tokens = self.bert.embeddings.word_embeddings(input_ids) + self.type_in(type_vec)[:, None, :]
                h = self.bert(inputs_embeds=tokens, attention_mask=attention_mask).last_hidden_state
                h = h * (1 + torch.tanh(self.gate(type_vec)))[:, None, :] + self.shift(type_vec)[:, None, :]
            else:
                h = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            logits = self.head(self.drop(h))
            logits = logits.view(*logits.shape[:2], -1, 3)
            return (logits, h) if states else logits

    return Net()


def targets(offsets, spans: tuple[Span, ...], label_id: dict[str, int], n_labels: int) -> np.ndarray:
    """[tokens, labels] of 0 (O), 1 (B), 2 (I); -100 on special tokens.

    >>> targets([(0, 0), (0, 3), (4, 9), (0, 0)], (Span("A", 0, 9), Span("B", 4, 9)), {"A": 0, "B": 1}, 2).tolist()
    [[-100, -100], [1, 0], [2, 1], [-100, -100]]
    """
    out = np.zeros((len(offsets), n_labels), dtype=np.int64)
    for i, (a, b) in enumerate(offsets):
        if a == b:
            out[i] = -100
    for s in spans:
        if s.label not in label_id:
            continue
        first = True
        for i, (a, b) in enumerate(offsets):
            if a != b and a < s.end and b > s.start:
                out[i, label_id[s.label]] = 1 if first else 2
                first = False
    return out


class ValueTagger:
    """Extract attribute values (spans with char offsets) from product texts, given the type."""

    def __init__(self, attributes: list[str], conditioned: bool = True, epochs: int = 5, batch_size: int = 16,
                 lr: float = 2e-4, max_length: int = 128, seed: int = 0, type_task: float = 0.0):
        self.attributes, self.conditioned, self.epochs = sorted(attributes), conditioned, epochs
        # > 0: multi-task, the mean token state also predicts the example's type (a training-only
        # head, weighted so in the loss), so the encoder must tell types apart (after TXtract)
        self.type_task = type_task
        self.batch_size, self.lr, self.max_length, self.seed = batch_size, lr, max_length, seed
        self.single_valued_: set[str] = set()

    def _load(self, path: str):
        import torch
        from transformers import AutoTokenizer

        from ...ml.encoder import device

        torch.manual_seed(self.seed)
        self.tokenizer_ = AutoTokenizer.from_pretrained(path)
        self.net_ = _net(path, len(self.attributes), self.conditioned)
        self.device_ = device()
        self.net_.to(self.device_)

    def _batch(self, texts: list[str], keys: list[str], vectors: dict[str, np.ndarray],
               allowed: dict[str, set[str]]):
        import torch

        enc = self.tokenizer_(texts, return_offsets_mapping=True, truncation=True, max_length=self.max_length,
                              padding=True, return_tensors="pt")
        offsets = enc.pop("offset_mapping").tolist()
        zero = np.zeros(TYPE_DIM, dtype=np.float32)
        tv = torch.tensor(np.stack([vectors.get(k, zero) for k in keys]))
        mask = torch.tensor([[a in allowed.get(k, ()) for a in self.attributes] for k in keys])
        return enc, offsets, tv, mask

    def fit(self, examples: list[ValueExample], vectors: dict[str, np.ndarray], allowed: dict[str, set[str]],
            progress=None) -> "ValueTagger":
        """Fine-tune on labelled texts; `allowed` maps each type key to the attributes that apply."""
        import torch
        from torch.nn import functional as F

        from ...ml.encoder import encoder_path
        from ...ml.trainer import fit

        self._load(encoder_path())
        self.single_valued_ = single_valued(examples) & set(self.attributes)
        label_id = {a: i for i, a in enumerate(self.attributes)}
        # the head learns at HEAD_LR x the encoder's rate; the type layers, which modulate every
        # token state, at the encoder's own (at HEAD_LR x, conditioning cost 1.7 value-F1 points
        # on dev; at this rate it is level with the untyped tagger)
        head = [p for n, p in self.net_.named_parameters() if n.startswith("head.")]
        encoder = [p for n, p in self.net_.named_parameters() if not n.startswith("head.")]
        if self.type_task > 0:  # created only then, so the single-task tagger draws the same random numbers
            type_id = {k: i for i, k in enumerate(sorted({e.type_key for e in examples}))}
            type_head = torch.nn.Linear(self.net_.bert.config.hidden_size, len(type_id)).to(self.device_)
            head += list(type_head.parameters())

        def loss_of(idx: list[int]):
            batch = [examples[j] for j in idx]
            enc, offsets, tv, mask = self._batch([e.text for e in batch], [e.type_key for e in batch], vectors, allowed)
            y = torch.tensor(np.stack([targets(o, e.spans, label_id, len(self.attributes)) for o, e in zip(offsets, batch)]))
            known = torch.tensor([[e.known is None or a in e.known for a in self.attributes] for e in batch])
            y = torch.where((mask & known)[:, None, :], y, torch.full_like(y, -100)).to(self.device_)
            if not bool((y != -100).any()):  # nothing labelled in this batch: no gradient (a NaN loss)
                return None
            attention = enc["attention_mask"].to(self.device_)
            logits, states = self.net_(enc["input_ids"].to(self.device_), attention, tv.to(self.device_), states=True)
            loss = F.cross_entropy(logits.reshape(-1, 3), y.reshape(-1), ignore_index=-100)
            if self.type_task > 0:
                pooled = (states * attention[..., None]).sum(1) / attention.sum(1, keepdim=True)
                types = torch.tensor([type_id[e.type_key] for e in batch], device=self.device_)
                loss = loss + self.type_task * F.cross_entropy(type_head(pooled), types)
            return loss

        fit(self.net_, len(examples), loss_of, epochs=self.epochs, batch_size=self.batch_size, seed=self.seed,
            param_groups=[{"params": encoder, "lr": self.lr}, {"params": head, "lr": self.lr * HEAD_LR}],
            lengths=[len(e.text) for e in examples], progress=progress)
        return self

    def predict(self, texts: list[str], keys: list[str], vectors: dict[str, np.ndarray], allowed: dict[str, set[str]],
                batch_size: int = 64, best_only: bool = True) -> list[list[Span]]:
        """Value spans per text (label = attribute), only for the attributes allowed for its type;
        with `best_only`, a single-valued attribute's best value only (else the caller, which
        decodes the spans first, keeps it: `decoding.decode_text`)."""
        from ...ml.trainer import predict_in_length_order

        def run(idx: list[int]) -> list[list[Span]]:
            chunk = [texts[j] for j in idx]
            enc, offsets, tv, mask = self._batch(chunk, [keys[j] for j in idx], vectors, allowed)
            logits = self.net_(enc["input_ids"].to(self.device_), enc["attention_mask"].to(self.device_), tv.to(self.device_))
            probs = logits.float().softmax(-1).cpu().numpy()
            return [self._decode(text, offs, p, m, best_only) for text, offs, p, m in zip(chunk, offsets, probs, mask.numpy())]

        return predict_in_length_order([len(t) for t in texts], batch_size, run)

    def _decode(self, text: str, offsets, probs: np.ndarray, mask: np.ndarray, best_only: bool = True) -> list[Span]:
        """Per allowed attribute, the spans `decode_tags` reads; single-valued attributes keep their best."""
        spans: list[Span] = []
        tags = probs.argmax(-1)  # [tokens, labels]
        for li in np.flatnonzero(mask & tags.any(0)):
            spans += decode_tags(text, offsets, probs[:, li], self.attributes[li])
        kept = keep_best_value(text, spans, self.single_valued_) if best_only else spans
        return sorted(kept, key=lambda s: (s.start, s.label))

    # ---- persistence ---------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Weights, tokenizer and config."""
        import torch

        folder.mkdir(parents=True, exist_ok=True)
        torch.save(self.net_.state_dict(), folder / "imputer.pt")
        self.tokenizer_.save_pretrained(folder)
        self.net_.bert.config.save_pretrained(folder)
        config = {"attributes": self.attributes, "conditioned": self.conditioned, "type_task": self.type_task, "epochs": self.epochs,
                  "batch_size": self.batch_size, "lr": self.lr, "max_length": self.max_length, "seed": self.seed,
                  "single_valued": sorted(self.single_valued_)}
        (folder / "imputer.json").write_text(json.dumps(config, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "ValueTagger":
        import torch

        config = json.loads((folder / "imputer.json").read_text(encoding="utf-8"))
        single = set(config.pop("single_valued", ()))
        tagger = cls(**config)
        tagger.single_valued_ = single
        from ...ml.encoder import encoder_path

        tagger._load(encoder_path())
        tagger.net_.load_state_dict(torch.load(folder / "imputer.pt", map_location=tagger.device_))
        tagger.net_.eval()
        return tagger

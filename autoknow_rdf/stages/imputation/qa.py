"""Attribute extraction as a question: "type: T ; attribute: A" against the product text.

One MiniLM cross-encoder reads the question and the text together and tags the text's tokens
O/B/I for the one attribute asked (AVEQA/MAVEQA-style, with tags instead of one start/end pair,
so a text may answer with several values and "absent" is every token O). The type and the
attribute are words in the input, so the model is conditioned on the type by construction,
shares everything across attributes and data sets, and can be asked about an attribute or a
type it never saw labelled. The type's words are its name, or its path from the taxonomy's root
where the caller gives one (an unseen type then borrows its parents' words).

Training asks every labelled attribute a text has a value of, and a share of the applicable
attributes it has none of ("absent"; up to ABSENT_PER_VALUE of them per answered question, by a
seeded draw); distant labels (`ValueExample.known`) ask only the attributes they know.
"""

from __future__ import annotations

import json
import logging
import random
import re
from pathlib import Path

import numpy as np

from ...ml.spans import Span
from .model import HEAD_LR, ValueExample, decode_tags, keep_best_value, single_valued, targets

__all__ = ["QAExtractor", "SavedExtractor", "question", "attribute_words", "key_words"]

# 1.5e-4 took the dev value F1 from 0.337 ± 0.027 (5e-5, the cross-encoders' rate) to 0.534 ± 0.014,
# 3 seeds each at the quick profile's sizes (dev split carved from the training data; the test
# splits are held out)
LR = 1.5e-4
ABSENT_PER_VALUE = 2  # "absent" questions per answered one in training (the rest of the applicable attributes)
MAX_QUESTION_TOKENS = 32  # a longer type path or attribute name is cut to this, with a warning
LOG = logging.getLogger(__name__)


def attribute_words(attribute: str) -> str:
    """An attribute key (a name or an IRI) as the words a question uses.

    >>> attribute_words("https://w3id.org/autoknow/id/attribute/roast-level"), attribute_words("Net Content")
    ('roast level', 'net content')
    """
    name = attribute.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return re.sub(r"[-_\s]+", " ", name).strip().lower()


def question(type_words: str, attribute: str) -> str:
    """The question half of an input.

    >>> question("coffee > ground coffee", "Roast Level")
    'type: coffee > ground coffee ; attribute: roast level'
    """
    words = attribute_words(attribute)
    if not words:
        raise ValueError(f"attribute {attribute!r} has no name to ask about")
    return f"type: {type_words.strip().lower() or 'product'} ; attribute: {words}"


def _net(path: str):
    """MiniLM + one O/B/I head over the text's tokens."""
    from torch import nn
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = AutoModel.from_pretrained(path)
            self.drop = nn.Dropout(0.1)
            self.head = nn.Linear(self.bert.config.hidden_size, 3)

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            h = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            return self.head(self.drop(h))

    return Net()


class SavedExtractor:
    """Building, saving and loading for the MiniLM extractors: weights, tokenizer and constructor
    config (`FILES`: the weights' and the config's file names; `config`: the constructor's
    arguments; `build_net`: the network on a MiniLM path)."""

    FILES = ("", "")
    build_net = None

    def config(self) -> dict:
        raise NotImplementedError

    def _load(self, path: str) -> None:
        import torch
        from transformers import AutoTokenizer

        from ...ml.encoder import device

        torch.manual_seed(self.seed)
        self.tokenizer_ = AutoTokenizer.from_pretrained(path)
        self.net_ = type(self).build_net(path)
        self.device_ = device()
        self.net_.to(self.device_)

    def save(self, folder: Path) -> None:
        import torch

        folder.mkdir(parents=True, exist_ok=True)
        torch.save(self.net_.state_dict(), folder / self.FILES[0])
        self.tokenizer_.save_pretrained(folder)
        config = self.config() | {"single_valued": sorted(self.single_valued_)}
        (folder / self.FILES[1]).write_text(json.dumps(config, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path):
        import torch

        from ...ml.encoder import encoder_path

        config = json.loads((folder / cls.FILES[1]).read_text(encoding="utf-8"))
        single = set(config.pop("single_valued", ()))
        model = cls(**config)
        model.single_valued_ = single
        model._load(encoder_path())
        model.net_.load_state_dict(torch.load(folder / cls.FILES[0], map_location=model.device_))
        model.net_.eval()
        return model


class QAExtractor(SavedExtractor):
    """Value spans per (text, applicable attribute), one question each; the same `fit`/`predict`
    as `ValueTagger`. The imputation stage runs it (three seeds put it ahead of the tagger on the
    dev splits); `evaluate imputation` measures it beside the tagger and the dictionary."""

    FILES = ("qa_extractor.pt", "qa_extractor.json")
    build_net = staticmethod(_net)

    def __init__(self, attributes: list[str], epochs: int = 3, batch_size: int = 32, lr: float = LR,
                 max_length: int = 160, seed: int = 0, absent_per_value: float = ABSENT_PER_VALUE):
        self.attributes, self.epochs, self.batch_size, self.lr = sorted(attributes), epochs, batch_size, lr
        self.max_length, self.seed, self.absent_per_value = max_length, seed, absent_per_value
        self.single_valued_: set[str] = set()
        self.conditioned = True  # on the type, by construction
        self._warned = False  # a question was cut (warned once per model)
        self._asked: dict[tuple[str, str], str] = {}  # (type words, attribute) -> question

    def _question(self, type_words: str, attribute: str) -> str:
        """The question, at most MAX_QUESTION_TOKENS long: a longer type path loses its words
        nearest the root first, then an attribute name its last words, with a warning (once)."""
        cached = self._asked.get((type_words, attribute))
        if cached is not None:
            return cached
        self._asked[(type_words, attribute)] = q = self._cut(type_words, attribute)
        return q

    def _cut(self, type_words: str, attribute: str) -> str:
        q = question(type_words, attribute)
        length = lambda text: len(self.tokenizer_(text, add_special_tokens=False)["input_ids"])  # noqa: E731
        if length(q) <= MAX_QUESTION_TOKENS:
            return q
        if not self._warned:  # once per model: a taxonomy with deep paths would repeat it for each type
            LOG.warning("questions longer than %d tokens are cut, the type's words nearest the root first (first: %r)",
                        MAX_QUESTION_TOKENS, q)
            self._warned = True
        type_part, attribute_part = type_words.split(), attribute_words(attribute).split()
        while type_part and length(question(" ".join(type_part), " ".join(attribute_part))) > MAX_QUESTION_TOKENS:
            type_part = type_part[1:]
        while len(attribute_part) > 1 and length(question(" ".join(type_part), " ".join(attribute_part))) > MAX_QUESTION_TOKENS:
            attribute_part = attribute_part[:-1]
        return question(" ".join(type_part), " ".join(attribute_part))

    def _encode(self, questions: list[str], texts: list[str], pad_to: int | None = None):
        """Token ids (padded to the longest of the batch, or to `pad_to`) and each token's offsets."""
        padding = {"padding": "max_length", "max_length": pad_to} if pad_to else {"padding": True, "max_length": self.max_length}
        enc = self.tokenizer_(questions, texts, truncation="only_second", return_offsets_mapping=True,
                              return_tensors="pt", **padding)
        offsets = enc.pop("offset_mapping").tolist()
        # only the text's tokens carry tags: the question's and the special tokens get an empty offset
        offsets = [[tuple(o) if s == 1 else (0, 0) for o, s in zip(offs, enc.sequence_ids(i))] for i, offs in enumerate(offsets)]
        return enc, offsets

    def questions_for_training(self, examples: list[ValueExample], allowed: dict[str, set[str]],
                               type_words: dict[str, str]) -> list[tuple[str, str, tuple[Span, ...]]]:
        """(question, text, gold spans of the attribute) for training: every answered attribute of
        a text and up to `absent_per_value` absent ones per answered (at least one per text)."""
        rng = random.Random(self.seed)
        known_attributes = set(self.attributes)
        out = []
        for e in examples:
            asked = sorted((allowed.get(e.type_key, set()) & known_attributes) if e.known is None else (e.known & known_attributes))
            answered = sorted({s.label for s in e.spans if s.label in asked})
            absent = [a for a in asked if a not in answered]
            rng.shuffle(absent)
            absent = absent[: max(1, round(self.absent_per_value * len(answered)))]
            words = type_words.get(e.type_key, key_words(e.type_key))
            for a in answered + absent:
                out.append((self._question(words, a), e.text, tuple(s for s in e.spans if s.label == a)))
        return out

    def fit(self, examples: list[ValueExample], vectors: dict | None, allowed: dict[str, set[str]], progress=None,
            type_words: dict[str, str] | None = None) -> "QAExtractor":
        """Fine-tune on labelled texts; `allowed` maps each type key to the attributes that apply,
        `type_words` each type key to the words its questions use (default: the key's name)."""
        import torch
        from torch.nn import functional as F

        from ...ml.encoder import encoder_path
        from ...ml.trainer import fit

        self._load(encoder_path())
        self.single_valued_ = single_valued(examples) & set(self.attributes)
        asked = self.questions_for_training(examples, allowed, type_words or {})
        if not asked:
            raise ValueError("no labelled value of a known attribute to learn from")

        def loss_of(idx: list[int]):
            batch = [asked[j] for j in idx]
            enc, offsets = self._encode([q for q, _, _ in batch], [t for _, t, _ in batch])
            # the attribute's spans as one label: O/B/I per text token, -100 on the rest
            y = torch.tensor(np.stack([targets(o, tuple(Span("", s.start, s.end) for s in spans), {"": 0}, 1)[:, 0]
                                       for o, (_, _, spans) in zip(offsets, batch)]))
            logits = self.net_(**{k: v.to(self.device_) for k, v in enc.items()})
            return F.cross_entropy(logits.reshape(-1, 3), y.to(self.device_).reshape(-1), ignore_index=-100)

        head = [p for n, p in self.net_.named_parameters() if n.startswith("head.")]
        encoder = [p for n, p in self.net_.named_parameters() if not n.startswith("head.")]
        fit(self.net_, len(asked), loss_of, epochs=self.epochs, batch_size=self.batch_size, seed=self.seed,
            param_groups=[{"params": encoder, "lr": self.lr}, {"params": head, "lr": self.lr * HEAD_LR}],
            lengths=[len(q) + len(t) for q, t, _ in asked], progress=progress)
        self.questions_ = len(asked)
        return self

    def predict(self, texts: list[str], keys: list[str], vectors: dict | None, allowed: dict[str, set[str]],
                batch_size: int = 128, type_words: dict[str, str] | None = None, best_only: bool = True) -> list[list[Span]]:
        """Value spans per text (label = attribute): one question per attribute allowed for its type
        (`best_only` as `ValueTagger.predict`)."""
        from ...ml.trainer import predict_in_buckets

        known = set(self.attributes)
        type_words = type_words or {}
        asks = [(i, a) for i, k in enumerate(keys) for a in sorted(allowed.get(k, set()) & known)]
        questions = {(k, a): self._question(type_words.get(k, key_words(k)), a) for k in set(keys)
                     for a in allowed.get(k, set()) & known}

        def run(idx: list[int], bucket: int) -> list[list[Span]]:
            chunk = [asks[j] for j in idx]
            enc, offsets = self._encode([questions[(keys[i], a)] for i, a in chunk], [texts[i] for i, _ in chunk], pad_to=bucket)
            logits = self.net_(**{k: v.to(self.device_) for k, v in enc.items()})
            probs = logits.float().softmax(-1).cpu().numpy()
            return [decode_tags(texts[i], offs, p, a) for (i, a), offs, p in zip(chunk, offsets, probs)]

        # each question is padded to its own length rounded up to 16 tokens: its scores do not depend
        # on the other questions of its batch (bf16), so a run gives the same facts however it is split
        sizes = self.tokenizer_([questions[(keys[i], a)] for i, a in asks], [texts[i] for i, _ in asks],
                                truncation="only_second", max_length=self.max_length)["input_ids"]
        buckets = [min(self.max_length, -(-len(ids) // 16) * 16) for ids in sizes]
        found = predict_in_buckets(buckets, batch_size, run)
        spans: list[list[Span]] = [[] for _ in texts]
        for (i, _), f in zip(asks, found):
            spans[i] += f
        return [sorted(keep_best_value(t, s, self.single_valued_) if best_only else s, key=lambda x: (x.start, x.label))
                for t, s in zip(texts, spans)]

    # ---- persistence ---------------------------------------------------------------------------
    def config(self) -> dict:
        return {"attributes": self.attributes, "epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                "max_length": self.max_length, "seed": self.seed, "absent_per_value": self.absent_per_value}


def key_words(key: str) -> str:
    """A type key's own words: "oa-mine:Coffee Beans" -> "Coffee Beans"; an IRI's last segment."""
    return attribute_words(key.split(":", 1)[1] if ":" in key and "://" not in key else key)


"""Contextual metadata: the Interactions dataset's categorical fields (DEVICE, LOCATION, ...).

AWS's User-Personalization and Personalized-Ranking learn from the context of every event
and take the request's `context` map at serving. Here each context field's values get a
code (0 = unknown or missing) and two small embedding tables per field:
- `context_in` is added to the step input of the event it belongs to (z_i + c_in): the
  sequence model reads where and how each past item was consumed;
- `context_out` is added to the sequence state before scoring (h_u + c_out(next)): the
  context of the step being predicted, which at serving is the request's context.
Code 0 is the zero vector, so an unknown value or a missing context leaves the model as
it would be without context; the trainer drops a share of the contexts to 0 so that the
model also learns to predict without them.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import torch
from torch import nn

from chalicelib.models.data import CATEGORICAL, STRING, Table

# Interactions columns that are not context: ids, time, the event's own members.
NOT_CONTEXT = {"USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE", "IMPRESSION",
               "RECOMMENDATION_ID", "EVENT_ATTRIBUTION_SOURCE", "EVENT_ID", "SESSION_ID",
               "ACTION_ID"}
MAX_VALUES = 1000   # per field: its most frequent values; rarer ones read as unknown
MIN_COUNT = 2       # a value seen once teaches nothing (and id-like fields drop out)


def normal_value(value) -> str:
    """Context values compare case-insensitively, ignoring surrounding space."""
    return "" if value is None else str(value).strip().lower()


@dataclass
class ContextSpec:
    """The context fields a model learned and each one's vocabulary (code = position + 1)."""
    fields: list[str] = field(default_factory=list)
    vocabularies: list[list[str]] = field(default_factory=list)

    def __post_init__(self):
        self._codes = [{value: code for code, value in enumerate(vocabulary, start=1)}
                       for vocabulary in self.vocabularies]

    def __bool__(self) -> bool:
        return bool(self.fields)

    @property
    def sizes(self) -> list[int]:
        return [len(vocabulary) + 1 for vocabulary in self.vocabularies]

    def encode(self, context: Mapping | None) -> list[int]:
        """One event's or request's context -> a code per field (0: unknown / missing)."""
        if not context:
            return [0] * len(self.fields)
        upper = {str(k).upper(): v for k, v in context.items()}
        return [codes.get(normal_value(upper.get(name)), 0)
                for name, codes in zip(self.fields, self._codes)]

    def encode_many(self, contexts) -> np.ndarray:
        """[len(contexts), fields] codes of a list of context maps (None: missing)."""
        out = np.zeros((len(contexts), len(self.fields)), dtype=np.int64)
        for row, context in enumerate(contexts):
            out[row] = self.encode(context)
        return out

    def encode_table(self, table: Table) -> np.ndarray:
        """[events, fields] codes of the interactions table's context columns."""
        out = np.zeros((len(table), len(self.fields)), dtype=np.int64)
        for column, (name, codes) in enumerate(zip(self.fields, self._codes)):
            values = table.columns.get(name)
            if values is not None:
                out[:, column] = [codes.get(normal_value(v), 0) for v in values]
        return out

    def to_json(self) -> dict:
        return {"fields": self.fields, "vocabularies": self.vocabularies}

    @classmethod
    def from_json(cls, doc: dict | None) -> "ContextSpec":
        doc = doc or {}
        return cls(list(doc.get("fields", [])), [list(v) for v in doc.get("vocabularies", [])])


def context_columns(table: Table) -> list[str]:
    """Interactions columns that carry context: categorical or plain string fields of the
    schema (object columns when the kinds are unknown, as in live events)."""
    out = []
    for name, values in table.columns.items():
        if name in NOT_CONTEXT:
            continue
        kind = table.kinds.get(name)
        if kind in (CATEGORICAL, STRING) or (kind is None and np.asarray(values).dtype == object):
            out.append(name)
    return sorted(out)


def fit_context_spec(interactions: Table) -> ContextSpec:
    fields, vocabularies = [], []
    for name in context_columns(interactions):
        counts = Counter(normal_value(v) for v in interactions.columns[name])
        counts.pop("", None)
        vocabulary = sorted(v for v, n in counts.most_common(MAX_VALUES) if n >= MIN_COUNT)
        if vocabulary:
            fields.append(name)
            vocabularies.append(vocabulary)
    return ContextSpec(fields, vocabularies)


class ContextEmbedding(nn.Module):
    """Codes [..., fields] -> the sum over fields of their value embeddings [..., dim];
    code 0 is the zero vector (unknown or missing)."""

    def __init__(self, sizes: list[int], dim: int):
        super().__init__()
        self.tables = nn.ModuleList(nn.Embedding(size, dim, padding_idx=0) for size in sizes)
        for table in self.tables:
            nn.init.normal_(table.weight, std=0.05)
            with torch.no_grad():
                table.weight[0].zero_()

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        out = self.tables[0](codes[..., 0])
        for position, table in enumerate(self.tables[1:], start=1):
            out = out + table(codes[..., position])
        return out


def drop_contexts(codes: torch.Tensor | None, share: float,
                  generator: torch.Generator) -> torch.Tensor | None:
    """Training: a `share` of the codes set to 0 (unknown), so that requests without a
    context (or with a value never seen) get what the model predicts without one."""
    if codes is None or share <= 0:
        return codes
    keep = torch.rand(codes.shape, generator=generator) >= share
    return codes * keep

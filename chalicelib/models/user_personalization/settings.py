"""The recipe's hyperparameters: AWS's names and defaults, plus this implementation's
training knobs, parsed once into typed TrainingSettings."""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HYPERPARAMETERS = {
    # the recipe's own (names and defaults as AWS documents them)
    "hidden_dimension": "149",
    "bptt": "32",
    "recency_mask": "true",
    "min_user_history_length_percentile": "0.0",
    "max_user_history_length_percentile": "0.99",
    # training knobs of this implementation
    "epochs": "10",                   # at most: early stopping picks the epoch
    "early_stopping_patience": "2",   # epochs without a better validation score; 0 = off
    # what picks the epoch: the held-out events' cross-entropy (lower is better) or their
    # NDCG@10. Cross-entropy, because NDCG@10 of ~1,000 held-out events moves by about its
    # standard error (0.008) from one epoch to the next on ML-100K, so it chose anywhere from
    # epoch 3 to 9 on nearly the same data; cross-entropy falls smoothly to one minimum
    # (measured: bench/README "Choosing the epoch").
    "early_stopping_metric": "cross-entropy",
    "validation_users": "2000",       # users whose last event is held out to pick the epoch
    "learning_rate": "0.005",
    "batch_size": "64",
    "num_negatives": "auto",          # auto = sqrt(V), at least 2,048 (sampling.py)
    # the proposal negatives are drawn from: (count + 1)^power; 1 = unigram, 0 = uniform
    "negative_sampling_power": "1.0",
    "softmax": "auto",                # auto | full | sampled
    "id_dropout": "0.2",              # share of items scored from metadata only per step
    "dropout": "0.2",                 # on the GRU's inputs and outputs while training
    "context_dropout": "0.25",        # share of event contexts hidden while training
    "shift_windows": "true",          # epochs after the first cut windows at random offsets
    "max_impression_negatives": "8",
    "popularity_half_life_days": "7",
    "max_steps": "0",                 # 0 = no limit (benchmarks cap it)
    "log_every_steps": "100",
    # v2's sequence model (aws-user-personalization-v2 only)
    "num_blocks": "2",
    "num_heads": "1",
}

# aws-user-personalization-v2: AWS documents only apply_recency_bias (default true; more weight
# on recent interactions). The rest are this implementation's: SASRec's shape (2 blocks, 1
# head; 32 positions, the most the v1 bptt range allows). lr 0.001 (SASRec's) with up to 100
# epochs and patience 6, measured on bench/sasrec_table.py's ML-100K protocol (c): test
# NDCG@10 0.0997 (kept epoch 41 of 47, 175 s) against 0.0841 with lr 0.01 / 40 epochs /
# patience 4, which stopped at epoch 9 (lr 0.01 is too high for the attention blocks); 100
# positions instead of 32 at lr 0.001 did worse (0.0927). On SASRec's sampled protocol on
# the Amazon video games the same defaults reach NDCG@10 0.5541 / HR@10 0.7502 (kept epoch
# 42 of 48), against 0.3707 / 0.5940 at lr 0.01 (bench/README "SASRec's table").
V2_DEFAULT_HYPERPARAMETERS = {
    **{k: v for k, v in DEFAULT_HYPERPARAMETERS.items() if k != "recency_mask"},
    "apply_recency_bias": "true",
    "hidden_dimension": "64",
    "bptt": "32",
    "epochs": "100",
    "learning_rate": "0.001",
    "batch_size": "128",
    "dropout": "0.2",
    "early_stopping_patience": "6",
    "early_stopping_metric": "ndcg@10",
    # more negatives than v1's floor of 2,048 (sampling.py): on the video games v2 with 8,192
    # draws keeps epoch 20 at sampled NDCG@10 0.5615 / HR@10 0.7548 and full-ranking 0.0589,
    # against 0.5561 / 0.7491 / 0.0585 with 2,048 and 0.5541 / 0.7502 / 0.0549 with sqrt(V)
    # = 152; it trains at 0.38x the events/s of sqrt(V) at 1M items (bench/README "SASRec's
    # table", session 12)
    "num_negatives": "8192",
}


@dataclass
class TrainingSettings:
    hidden_dimension: int
    bptt: int
    recency_mask: bool
    min_percentile: float
    max_percentile: float
    epochs: int
    learning_rate: float
    batch_size: int
    num_negatives: int | None
    softmax: str
    id_dropout: float
    dropout: float
    shift_windows: bool
    max_impression_negatives: int
    popularity_half_life_days: float
    max_steps: int
    log_every_steps: int
    early_stopping_patience: int = 0
    validation_users: int = 0
    num_blocks: int = 2
    num_heads: int = 1
    sequence_model: str = "gru"   # set by the recipe (network.GRU | network.TRANSFORMER)
    context_dropout: float = 0.25   # a default: models saved before it existed still load
    early_stopping_metric: str = "ndcg@10"   # likewise
    negative_sampling_power: float = 1.0   # likewise

    @classmethod
    def parse(cls, hyperparameters: dict[str, str], defaults: dict[str, str] | None = None,
              sequence_model: str = "gru") -> "TrainingSettings":
        values = {**DEFAULT_HYPERPARAMETERS, **(defaults or {}),
                  **{k: str(v) for k, v in (hyperparameters or {}).items()}}
        negatives = values["num_negatives"].strip().lower()
        return cls(
            hidden_dimension=max(2, int(float(values["hidden_dimension"]))),
            bptt=max(1, int(float(values["bptt"]))),
            # v2 names the same switch apply_recency_bias
            recency_mask=values.get("apply_recency_bias", values["recency_mask"])
            .strip().lower() in ("true", "1", "yes"),
            min_percentile=float(values["min_user_history_length_percentile"]),
            max_percentile=float(values["max_user_history_length_percentile"]),
            epochs=max(1, int(float(values["epochs"]))),
            learning_rate=float(values["learning_rate"]),
            batch_size=max(1, int(float(values["batch_size"]))),
            num_negatives=None if negatives in ("auto", "", "0") else int(float(negatives)),
            softmax=values["softmax"].strip().lower(),
            negative_sampling_power=min(max(float(values["negative_sampling_power"]), 0.0),
                                        1.0),
            id_dropout=min(max(float(values["id_dropout"]), 0.0), 0.95),
            dropout=min(max(float(values["dropout"]), 0.0), 0.9),
            context_dropout=min(max(float(values["context_dropout"]), 0.0), 1.0),
            shift_windows=values["shift_windows"].strip().lower() in ("true", "1", "yes"),
            max_impression_negatives=max(0, int(float(values["max_impression_negatives"]))),
            popularity_half_life_days=float(values["popularity_half_life_days"]),
            max_steps=max(0, int(float(values["max_steps"]))),
            log_every_steps=max(1, int(float(values["log_every_steps"]))),
            early_stopping_patience=max(0, int(float(values["early_stopping_patience"]))),
            validation_users=max(0, int(float(values["validation_users"]))),
            early_stopping_metric=_stopping_metric(values["early_stopping_metric"]),
            num_blocks=max(1, int(float(values["num_blocks"]))),
            num_heads=max(1, int(float(values["num_heads"]))),
            sequence_model=sequence_model,
        )

    def to_json(self) -> dict:
        return dict(self.__dict__)


STOPPING_METRICS = ("cross-entropy", "ndcg@10")


def _stopping_metric(value: str) -> str:
    metric = value.strip().lower()
    if metric not in STOPPING_METRICS:
        raise ValueError(f"early_stopping_metric must be one of {', '.join(STOPPING_METRICS)}")
    return metric

"""Loaders for the shared benchmark data (/work/shared/data, see its README.md).

Each loader returns (users, items, timestamps) as arrays: ids as strings, time in seconds.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from chalicelib.models.data import TrainingData

DATA = Path("/work/shared/data")
DATASETS = ("ml-100k", "amazon-video-games")


def movielens_100k(root: Path = DATA):
    """u.data: user \\t item \\t rating \\t unix time. Every rating is an interaction."""
    table = np.loadtxt(root / "ml-100k" / "u.data", dtype=np.int64)
    return table[:, 0].astype(str), table[:, 1].astype(str), table[:, 3].astype(np.float64)


def movielens_movies(root: Path = DATA) -> list[tuple[str, str, list[str], float]]:
    """u.item: (movie id, title, its genres, release year or NaN) per movie."""
    genres = [line.split("|")[0] for line in
              (root / "ml-100k" / "u.genre").read_text(encoding="latin-1").splitlines()
              if line]
    out = []
    for line in (root / "ml-100k" / "u.item").read_text(encoding="latin-1").splitlines():
        if not line:
            continue
        fields = line.split("|")
        flags = fields[5:5 + len(genres)]
        year = fields[2][-4:]
        out.append((fields[0], fields[1], [g for g, f in zip(genres, flags) if f == "1"],
                    float(year) if year.isdigit() else np.nan))
    return out


def amazon_video_games(root: Path = DATA):
    """Video.txt: 'user item' per line, each user's lines in time order, no timestamps.
    TIMESTAMP is synthesised: one second per line, so the per-user order is kept."""
    table = np.loadtxt(root / "amazon-video-games" / "Video.txt", dtype=np.int64)
    return (table[:, 0].astype(str), table[:, 1].astype(str),
            np.arange(len(table), dtype=np.float64))


def k_core(users, items, stamps, k: int = 5):
    """Drop users and items with fewer than k interactions until none is left (removing
    an item can push a user under k, and back)."""
    keep = np.ones(len(users), dtype=bool)
    while True:
        _, user_inverse, user_counts = np.unique(users[keep], return_inverse=True,
                                                 return_counts=True)
        _, item_inverse, item_counts = np.unique(items[keep], return_inverse=True,
                                                 return_counts=True)
        ok = (user_counts[user_inverse] >= k) & (item_counts[item_inverse] >= k)
        if ok.all():
            return users[keep], items[keep], stamps[keep]
        keep[np.flatnonzero(keep)[~ok]] = False


def load(name: str, min_interactions: int = 5) -> TrainingData:
    loader = {"ml-100k": movielens_100k, "amazon-video-games": amazon_video_games}[name]
    users, items, stamps = k_core(*loader(), k=min_interactions)
    return TrainingData.from_interactions(users, items, stamps)

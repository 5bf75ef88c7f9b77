"""How the count-based recipes keep a model: numpy arrays in one .npz, the rest in JSON."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def save_arrays(directory: Path, arrays_file: str, meta_file: str,
                arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write `arrays` (by name) to directory/arrays_file and `meta` to directory/meta_file,
    creating the directory."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    np.savez(directory / arrays_file, **arrays)
    (directory / meta_file).write_text(json.dumps(meta))


def load_arrays(directory: Path, arrays_file: str,
                meta_file: str) -> tuple[dict, dict[str, np.ndarray]]:
    """What save_arrays wrote: (meta, arrays by name), the arrays read into memory."""
    directory = Path(directory)
    meta = json.loads((directory / meta_file).read_text())
    with np.load(directory / arrays_file) as stored:
        arrays = {name: stored[name] for name in stored.files}
    return meta, arrays

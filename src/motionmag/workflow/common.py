"""Small helpers the stage modules share: the log line, atomic writes, a clip's meta, threads.

Each step function logs to ``sys.stderr``, which the Snakemake script points at the rule's log
file before it calls the step (``sys.stderr`` is looked up at each call, not bound at import).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def write_json(path: str | Path, payload: dict) -> None:
    """``payload`` as JSON, renamed into place (a killed job leaves no half-written file)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    os.replace(tmp, path)


def write_csv(rows: list[dict], path: str | Path) -> None:
    """Result rows as CSV, renamed into place."""
    import pandas as pd

    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.6g")
    os.replace(tmp, path)


def read_meta(path: str | Path) -> dict:
    """A clip's ``meta.json`` (fps, size, frames; for rendered clips the renderer settings)."""
    return json.loads(Path(path).read_text())


def with_checkpoint(settings: dict, checkpoint: str | Path | None) -> dict:
    """A learned method's settings with the checkpoint file the rule gives it (a copy)."""
    settings = dict(settings)
    if checkpoint:
        settings["checkpoint"] = str(checkpoint)
    return settings


def set_threads(threads: int | None) -> None:
    """torch's intra-op threads for the steps that run networks (``None``: leave them)."""
    if threads:
        import torch

        torch.set_num_threads(int(threads))

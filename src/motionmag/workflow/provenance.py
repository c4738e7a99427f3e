"""What a result cell was made from: a hash of its settings, the code version, the checkpoint."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from motionmag import __version__


def code_version() -> str:
    """Package version plus the git commit when run from a checkout."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True,
                                cwd=Path(__file__).parent).stdout.strip()
        return f"{__version__}+g{commit}"
    except (OSError, subprocess.CalledProcessError):
        return __version__


def settings_hash(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def checkpoint_sha256(checkpoint: str | Path | None) -> str:
    """The sha256 of a learned method's checkpoint; empty for the classical methods (none)."""
    if not checkpoint:
        return ""
    from motionmag.io.download import sha256sum

    return sha256sum(checkpoint)


def provenance(checkpoint_digest: str, *settings) -> dict:
    """The provenance columns of a result cell."""
    return dict(config_hash=settings_hash(*settings), code_version=code_version(), checkpoint_sha256=checkpoint_digest)

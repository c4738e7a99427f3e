"""Stage ``synthetic``: Oh-style synthetic sets (frames A, B, C, amplified) for training and the
paper's evaluation sweeps, one shard per job.

Rules: ``synth_index``, ``synth_shard``, ``synth_manifest``, ``synth_preview``. ``synth_index``
does not load torch; the others do, through motionmag.synth.samples (its SyntheticSet is a
torch Dataset, imported at module level there and by motionmag.synth.generate and .preview).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from motionmag.workflow.common import log


def synth_index(source: dict, out: str | Path) -> None:
    """The source index of a set (``source``: kind, and the COCO / VOC folders for coco-voc)."""
    from motionmag.synth.sources import build_index, write_index

    source = dict(source)
    kind = source.pop("kind")
    index = build_index(kind, **source)
    write_index(index, out)
    log(f"{kind} source: {len(index.get('backgrounds', []))} backgrounds -> {out}")


def synth_shard(settings: dict, index: str | Path, shard: int, out: str | Path, threads: int = 1) -> int:
    """Generate shard ``shard`` of a set (``settings``: the set's, its size cut at the shard's end)."""
    from motionmag.synth.generate import write_shard

    count = write_shard(out, settings, index, shard, progress=True, threads=threads)
    log(f"{count} samples -> {out}")
    return count


def synth_manifest(settings: dict, name: str, index: str | Path, shards: list[str | Path], out: str | Path) -> dict:
    """The set's manifest: its shards, and how it was made (settings with defaults and the
    recipe filled in, the source index's sha256)."""
    from motionmag.synth.samples import write_manifest
    from motionmag.synth.generate import load_recipe, set_settings

    made = set_settings(dict(settings), name)
    made["recipe"] = load_recipe(made["recipe"])
    made["source_index_sha256"] = hashlib.sha256(Path(index).read_bytes()).hexdigest()
    manifest = write_manifest(out, list(shards), made)
    log(f"{manifest['samples']} samples, {manifest['bytes']} bytes -> {out}")
    return manifest


def import_axial_eval(archive: str | Path, sweep: str, samples_per_mode: int | None, shard: str | Path,
                      manifest: str | Path) -> dict:
    """Axial-MM's published evaluation set (one sweep of its zip) as a synthetic set: a shard and
    its manifest, scored like any sweep (docs/newer_methods.md)."""
    from motionmag.synth.axial_eval import import_axial_eval as read_set
    from motionmag.synth.samples import write_manifest

    read_set(archive, shard, samples_per_mode=samples_per_mode, progress=True, sweeps=[sweep])
    made = {"dataset": "axial-eval", "sweep": sweep, "samples_per_mode": samples_per_mode,
            "archive_sha256": hashlib.sha256(Path(archive).read_bytes()).hexdigest()}
    written = write_manifest(manifest, [shard], made)
    log(f"Axial-MM's {sweep} sweep: {written['samples']} samples -> {manifest}")
    return written


def synth_preview(manifest: str | Path, out: str | Path, count: int = 8) -> None:
    """A contact sheet of a set's first ``count`` samples."""
    from motionmag.io.images import write_image
    from motionmag.synth.preview import contact_sheet, samples_from_set

    write_image(out, contact_sheet(samples_from_set(manifest, count=count)))
    log(f"{count} samples of {manifest} -> {out}")

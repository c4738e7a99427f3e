"""The workflow's step functions (motionmag.workflow.<stage>) called directly on tiny inputs: no
Snakemake, explicit paths; and the steps that need no network load no torch."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from motionmag.workflow.clips import import_clip, render_clip
from motionmag.workflow.common import read_meta
from motionmag.workflow.provenance import checkpoint_sha256, settings_hash
from motionmag.workflow.tables import sweep_table, tables

ROOT = Path(__file__).resolve().parents[1]

RENDER = {
    "width": 40, "height": 32, "frames": 4, "fps": 12, "object": "chelsea", "background": "gravel",
    "object_motion": {"amplitude": 0.3, "frequency": 2.0, "direction": 0},
    "background_motion": {"amplitude": 0.0},
}


def frames_of(folder: Path) -> list[np.ndarray]:
    from motionmag.io import open_video

    return list(open_video(folder))


def test_render_then_import_round_trips_the_frames(tmp_path, capsys):
    render_clip(RENDER, tmp_path / "clip", tmp_path / "clip.json")
    meta = read_meta(tmp_path / "clip.json")
    assert (meta["width"], meta["height"], meta["frames"], meta["alpha"]) == (40, 32, 4, 1.0)
    assert meta["render"]["object"] == "chelsea"
    import_clip(tmp_path / "clip", tmp_path / "copy", tmp_path / "copy.json", fps=12)
    copied = read_meta(tmp_path / "copy.json")
    assert (copied["width"], copied["height"], copied["frames"], copied["render"]) == (40, 32, 4, None)
    original, copy = frames_of(tmp_path / "clip"), frames_of(tmp_path / "copy")
    assert len(copy) == 4 and all(np.array_equal(a, b) for a, b in zip(original, copy))
    # shortened and downscaled
    import_clip(tmp_path / "clip", tmp_path / "small", tmp_path / "small.json", fps=12, max_frames=2, scale=0.5)
    small = read_meta(tmp_path / "small.json")
    assert (small["width"], small["height"], small["frames"]) == (20, 16, 2)
    assert frames_of(tmp_path / "small")[0].shape == (16, 20, 3)
    log = capsys.readouterr().err
    assert "rendered 4 frames" in log and "imported 2 frames" in log  # one line per step, on stderr


def test_render_truth_is_the_clip_magnified(tmp_path):
    render_clip(RENDER, tmp_path / "truth", tmp_path / "truth.json", alpha=4.0)
    truth = read_meta(tmp_path / "truth.json")
    render_clip(RENDER, tmp_path / "clip", tmp_path / "clip.json")
    clip_meta = read_meta(tmp_path / "clip.json")
    assert truth["alpha"] == 4.0
    np.testing.assert_allclose(truth["object_displacement"], 4 * np.asarray(clip_meta["object_displacement"]))


def fake_cell(path: Path, method: str, flow: str, value: float) -> Path:
    row = dict(benchmark="tiny", kind="clip", method=method, flow=flow, alpha=4.0, motion_error=value,
               magnification_error=value / 10, ssim=0.9, psnr=30.0, amplification_object=3.5,
               config_hash="0" * 16, code_version="test", checkpoint_sha256="")
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([row]).to_csv(path, index=False)
    return path


def test_tables_from_two_cells(tmp_path):
    from motionmag.report.tables import group_metrics, table_stems

    cells = [fake_cell(tmp_path / "eval" / f"{m}.csv", m, "dis", v) for m, v in (("linear", 0.5), ("phase", 0.25))]
    stems = table_stems(["clips"], [4.0])
    plots = [("clips", metric) for metric in group_metrics("clips")]
    out = tmp_path / "out"
    tables(cells, [4.0], ["clips"], out / "cells.csv", out / "tables", stems,
           [out / "tables" / f"{s}.html" for s in stems], plots,
           [out / "plots" / g / f"{m}_vs_alpha.png" for g, m in plots])
    assert len(pd.read_csv(out / "cells.csv")) == 2
    motion = pd.read_csv(out / "tables" / "clips" / "motion_error_x4.csv", index_col=0)
    assert motion.loc["linear", "dis"] == 0.5 and motion.loc["phase", "dis"] == 0.25
    for stem in stems:
        assert all((out / "tables" / f"{stem}.{ext}").stat().st_size for ext in ("csv", "md", "tex", "html"))
    assert "Motion error" in (out / "tables" / "clips" / "motion_error_x4.html").read_text()
    assert all((out / "plots" / g / f"{m}_vs_alpha.png").stat().st_size for g, m in plots)
    with pytest.raises(ValueError, match="table stems"):
        tables(cells, [4.0], ["clips"], out / "cells.csv", out / "tables", stems, [], plots, [])


def test_a_method_on_fewer_clips_is_labelled_in_the_clip_tables(tmp_path):
    from motionmag.report.tables import collect_cells, write_tables

    cells = [fake_cell(tmp_path / f"{m}.csv", m, "dis", 0.5) for m in ("linear", "axial")]
    frame = collect_cells(cells)
    frame = pd.concat([frame, frame[frame["method"] == "linear"].assign(benchmark="other")], ignore_index=True)
    write_tables(frame, tmp_path / "tables", [4.0], ["clips"])
    motion = pd.read_csv(tmp_path / "tables" / "clips" / "motion_error_x4.csv", index_col=0)
    assert sorted(motion.index) == ["axial (1 of 2 clips)", "linear"]


def test_sweep_table_from_two_methods(tmp_path):
    cells = []
    for method, ssim in (("linear", 0.8), ("phase", 0.9)):
        rows = [dict(sweep_kind="subpixel", level=level, method=method, alpha=10 / level, ssim=ssim - level,
                     ssim_sem=0.01, input_ssim=0.5, input_ssim_sem=0.02, samples=3) for level in (0.05, 0.1)]
        cells.append(tmp_path / f"{method}.csv")
        pd.DataFrame(rows).to_csv(cells[-1], index=False)
    sweep_table(cells, tmp_path / "tables" / "subpixel" / "ssim", "subpixel/ssim", tmp_path / "ssim.html",
                tmp_path / "ssim.png")
    table = pd.read_csv(tmp_path / "tables" / "subpixel" / "ssim.csv", index_col=0)
    assert list(table.columns) == ["alpha", "linear", "phase", "input"]
    assert table.loc[0.1, "phase"] == pytest.approx(0.8)
    assert "SSIM per sweep level (subpixel)" in (tmp_path / "ssim.html").read_text()
    assert (tmp_path / "ssim.png").stat().st_size


def test_pair_manifest_numbers_shards_by_their_position_not_their_path(tmp_path):
    """The subsets come with the shard files (parallel lists), not from their folder names."""
    from motionmag.data.pairs import write_pair_set
    from motionmag.workflow.pairs import pair_manifest

    frame = np.full((8, 8, 3), 100, np.uint8)
    shards = [("davis", 2), ("davis", 0), ("vimeo", 1)]  # (subset, kept pairs)
    pairs, kept = [], []
    for k, (subset, count) in enumerate(shards):
        pairs.append(tmp_path / f"p{k}.h5")  # no subset in the path
        write_pair_set(pairs[-1], [(frame, frame, f"{subset}{k}:{i}") for i in range(count)], allow_empty=True)
        kept.append(tmp_path / f"p{k}.csv")
        pd.DataFrame(dict(key_a=[f"a{k}{i}" for i in range(3)], key_b=[f"b{k}{i}" for i in range(3)],
                          kept=[i < count for i in range(3)])).to_csv(kept[-1], index=False)
    settings = dict(split="train", subsets=["davis", "vimeo"], selection="filter", flow="dis", flow_size=64,
                    filter={}, short_side=8, encoding="png")
    manifest = pair_manifest(pairs, kept, [s for s, _ in shards], settings, tmp_path / "m.json", tmp_path / "m.csv")
    assert manifest["pairs"] == 3
    named = pd.read_csv(tmp_path / "m.csv")
    assert named["name"].tolist() == ["davis_00000", "davis_00001", "vimeo_00000"]
    assert named["shard"].tolist() == [0, 0, 2] and named["row"].tolist() == [0, 1, 0]
    with pytest.raises(ValueError):
        pair_manifest(pairs, kept, ["davis"], settings, tmp_path / "m.json", tmp_path / "m.csv")


def test_provenance_helpers(tmp_path):
    assert checkpoint_sha256(None) == checkpoint_sha256([]) == ""
    (tmp_path / "model.pt").write_bytes(b"weights")
    assert checkpoint_sha256(tmp_path / "model.pt") == hashlib.sha256(b"weights").hexdigest()
    assert settings_hash("linear", {"a": 1}) == settings_hash("linear", {"a": 1}) != settings_hash("linear", {"a": 2})


def test_the_stage_modules_import_no_torch():
    modules = ", ".join(f"motionmag.workflow.{m}" for m in
                        ("clips", "magnify", "evaluate", "tables", "pairs", "synthetic", "downloads", "provenance"))
    check = f'import sys, {modules}; assert "torch" not in sys.modules, "torch imported"'
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_steps_without_a_network_load_no_torch_when_called(tmp_path):
    """render_clip, import_clip, synth_index (demo source) and tables run in a fresh interpreter
    without torch (each of their jobs would otherwise spend seconds importing it)."""
    script = textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        import pandas as pd
        from motionmag.workflow.clips import import_clip, render_clip
        from motionmag.workflow.synthetic import synth_index
        from motionmag.workflow.tables import tables

        tmp = Path({str(tmp_path)!r})
        render_clip(json.loads({json.dumps(json.dumps(RENDER))}), tmp / "clip", tmp / "clip.json")
        import_clip(tmp / "clip", tmp / "copy", tmp / "copy.json", fps=12)
        synth_index(dict(kind="demo"), tmp / "sources.json")
        row = dict(benchmark="tiny", kind="clip", method="linear", flow="dis", alpha=4.0, motion_error=0.5)
        pd.DataFrame([row]).to_csv(tmp / "cell.csv", index=False)
        tables([tmp / "cell.csv"], [4.0], ["clips"], tmp / "cells.csv", tmp / "tables",
               ["clips/motion_error_x4"], [tmp / "motion.html"], [("clips", "motion_error")], [tmp / "motion.png"])
        assert "torch" not in sys.modules, "torch imported"
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "sources.json").read_text())["kind"] == "demo"
    assert (tmp_path / "motion.png").stat().st_size and (tmp_path / "copy.json").is_file()


def test_magnify_side_by_side_and_evaluate_a_rendered_clip(tmp_path):
    """The clip stages in a row, as the workflow chains them: magnify (frames and video), the
    side-by-side video and x-t slices, one result cell per evaluation flow model."""
    from motionmag.workflow.evaluate import evaluate_cell
    from motionmag.workflow.magnify import magnify, side_by_side

    render_clip(RENDER, tmp_path / "clip", tmp_path / "clip.json")
    render_clip(RENDER, tmp_path / "truth", tmp_path / "truth.json", alpha=4.0)
    magnify(tmp_path / "clip", tmp_path / "clip.json", "linear", {"mode": "static"}, [4.0], [tmp_path / "mag"],
            videos=[tmp_path / "mag.mp4"], threads=1)
    assert len(frames_of(tmp_path / "mag")) == 4 and (tmp_path / "mag.mp4").stat().st_size
    side_by_side(tmp_path / "clip", [tmp_path / "mag"], tmp_path / "clip.json", ["input", "linear x4"],
                 tmp_path / "sbs.mp4", tmp_path / "slices.png")
    assert (tmp_path / "sbs.mp4").stat().st_size and (tmp_path / "slices.png").stat().st_size
    rows = evaluate_cell("tiny", "linear", ["dis", "lk"], [4.0], tmp_path / "clip", tmp_path / "clip.json",
                         [tmp_path / "mag"], [tmp_path / "dis.csv", tmp_path / "lk.csv"], truth=[tmp_path / "truth"],
                         method_settings={"mode": "static"}, region_margin=2, threads=1)
    assert [r["flow"] for r in rows] == ["dis", "lk"]
    for flow in ("dis", "lk"):
        cell = pd.read_csv(tmp_path / f"{flow}.csv")
        assert cell["flow"].tolist() == [flow] and cell["checkpoint_sha256"].isna().all()
        assert {"ssim", "amplification_object", "config_hash", "code_version"} <= set(cell.columns)
    assert rows[0]["config_hash"] != rows[1]["config_hash"]  # the flow model is part of the settings
    with pytest.raises(ValueError):
        evaluate_cell("tiny", "linear", ["dis"], [4.0], tmp_path / "clip", tmp_path / "clip.json", [tmp_path / "mag"], [])


@pytest.mark.parametrize("method, checkpoint", [
    ("linear", None), ("phase", None), ("oh2018", "oh2018_demo.pt"), ("flowmag", "flowmag_demo.pt"),
])
def test_one_job_magnifies_and_scores_every_alpha_as_separate_jobs_would(tmp_path, method, checkpoint):
    """magnify and evaluate_cell take every alpha of a clip and method in one job (the method built
    once, the input's motion estimated once): the frames and cells equal one alpha at a time."""
    from motionmag.workflow.evaluate import evaluate_cell
    from motionmag.workflow.magnify import magnify

    render_clip(RENDER, tmp_path / "clip", tmp_path / "clip.json")
    clip, meta, alphas, settings = tmp_path / "clip", tmp_path / "clip.json", [2.0, 5.0], {}
    checkpoint = checkpoint and ROOT / "resources" / "release" / checkpoint  # the released demo weights
    magnify(clip, meta, method, settings, alphas, [tmp_path / "x2", tmp_path / "x5"], checkpoint=checkpoint, threads=1)
    for alpha in alphas:
        magnify(clip, meta, method, settings, [alpha], [tmp_path / f"alone{alpha:g}"], checkpoint=checkpoint, threads=1)
        assert all(np.array_equal(a, b) for a, b in zip(frames_of(tmp_path / f"x{alpha:g}"),
                                                        frames_of(tmp_path / f"alone{alpha:g}"), strict=True))
    together = evaluate_cell("tiny", method, ["lk"], alphas, clip, meta, [tmp_path / "x2", tmp_path / "x5"],
                             [tmp_path / "x2.csv", tmp_path / "x5.csv"], method_settings=settings, region_margin=2,
                             checkpoint=checkpoint)
    for alpha, row in zip(alphas, together):
        alone = evaluate_cell("tiny", method, ["lk"], [alpha], clip, meta, [tmp_path / f"alone{alpha:g}"],
                              [tmp_path / "alone.csv"], method_settings=settings, region_margin=2, checkpoint=checkpoint)
        assert row == alone[0]


def test_analyze_clip_finds_the_rendered_motion(tmp_path):
    from motionmag.workflow.analysis import analyze_clip

    settings = {**RENDER, "width": 96, "height": 80, "frames": 60, "fps": 30,
                "object_motion": {"amplitude": 0.5, "frequency": 3.0, "direction": 0},
                "background_motion": {"amplitude": 0.0, "frequency": 1.0, "direction": 0}}
    render_clip(settings, tmp_path / "clip", tmp_path / "clip.json")
    w, h = settings["width"], settings["height"]
    roi = f"{w // 2 - 12},{h // 2 - 12},24,24"  # inside the object, at the frame's centre
    analysis = {"clips": True, "estimator": "phase", "grid": [3, 3], "stabilize": None, "still_region": None, "roi": [roi]}
    analyze_clip(tmp_path / "clip", tmp_path / "clip.json", tmp_path / "analysis", analysis)
    numbers = json.loads((tmp_path / "analysis" / "analysis.json").read_text())
    low, high = numbers["suggested_band_hz"]
    assert low <= 3.0 <= high
    assert {"index.html", "displacement.png", "spectrum.png", "map.png", "series.csv"} <= {p.name for p in (tmp_path / "analysis").iterdir()}

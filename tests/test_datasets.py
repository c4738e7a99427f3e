"""The real-datasets library: manifest and lock file, Drive pages, mirrors, manual files, safe
extraction, frame layouts, candidates, percentiles and the filter, the test sampler, and UVO clips
from Kinetics tars or yt-dlp (all against loopback servers and fixture files)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from dataset_fixtures import mp4, video_frames
from motionmag.data.archives import extract_archive
from motionmag.data.downloads import DatasetStore
from motionmag.data.flowstats import PairFilter, percentiles
from motionmag.data.kinetics import check_availability, clip_id, rebuild_uvo, YouTubeFallback
from motionmag.data.pair_build import included_keys, name_pairs, resize_short_side, sample_test_split, select
from motionmag.data.video_index import LAYOUTS, candidate_pairs, index_videos, shard_range
from motionmag.errors import MotionmagError
from motionmag.io.download import fetch

PAYLOAD = b"archive bytes " * 1000
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


def store_with(tmp_path, **entry) -> DatasetStore:
    base = dict(file="a.zip", format="zip", sha256=None, source="s", licence="l")
    (tmp_path / "datasets.yaml").write_text(yaml.safe_dump({"a": {**base, **entry}}))
    return DatasetStore(tmp_path / "datasets.yaml", tmp_path / "data")


# --- downloads ----------------------------------------------------------------------------------


def test_an_unpublished_digest_is_pinned_in_the_lock_file_and_enforced(tmp_path, http_server):
    http_server.files["/a.zip"] = PAYLOAD
    store = store_with(tmp_path, urls=[http_server.url("/a.zip")])
    store.fetch("a", progress=False)
    lock = json.loads((tmp_path / "data" / "datasets.lock.json").read_text())
    assert lock["a.zip"]["sha256"] == DIGEST and lock["a.zip"]["size"] == len(PAYLOAD)
    (tmp_path / "data" / "a.zip").unlink()
    http_server.files["/a.zip"] = b"upstream changed " * 10
    with pytest.raises(MotionmagError, match="pinned .* MOTIONMAG_REPIN=1"):
        store.fetch("a", progress=False)
    assert not (tmp_path / "data" / "a.zip").exists() and not (tmp_path / "data" / "a.zip.part").exists()


def test_mirrors_are_tried_in_order_until_one_verifies(tmp_path, http_server):
    http_server.files["/bad.zip"] = b"a different file"
    http_server.files["/good.zip"] = PAYLOAD
    urls = [http_server.url("/gone.zip"), http_server.url("/bad.zip"), http_server.url("/good.zip")]
    fetch(urls, tmp_path / "a.zip", DIGEST, progress=False)
    assert (tmp_path / "a.zip").read_bytes() == PAYLOAD
    with pytest.raises(MotionmagError, match="no mirror gave a verified file.*404.*does not match"):
        fetch(urls[:2], tmp_path / "b.zip", DIGEST, progress=False)


DRIVE_WARNING = """<!DOCTYPE html><html><body><p>Google Drive can't scan this file for viruses.</p>
<form id="download-form" action="{action}" method="get"><input type="submit" value="Download anyway"/>
<input type="hidden" name="id" value="FILEID"><input type="hidden" name="export" value="download">
<input type="hidden" name="confirm" value="t"><input type="hidden" name="uuid" value="u-1"></form></body></html>"""


def test_the_drive_virus_scan_page_is_followed_to_the_file(tmp_path, http_server):
    http_server.pages["/uc"] = DRIVE_WARNING.format(action=http_server.url("/download")).encode()
    http_server.files["/download?id=FILEID&export=download&confirm=t&uuid=u-1"] = PAYLOAD
    fetch(http_server.url("/uc"), tmp_path / "a.zip", DIGEST, progress=False)
    assert (tmp_path / "a.zip").read_bytes() == PAYLOAD


def test_a_drive_quota_page_is_refused_with_what_to_do(tmp_path, http_server):
    http_server.pages["/uc"] = (b"<html><body>Sorry, you can't view or download this file at this time. Too many users "
                                b"have viewed or downloaded this file recently.</body></html>")
    with pytest.raises(MotionmagError, match="quota .* 24 h.*Make a copy"):
        fetch(http_server.url("/uc"), tmp_path / "a.zip", None, progress=False)
    assert not list(tmp_path.iterdir())  # the page is not kept as the archive


def test_a_registration_gated_file_prints_its_steps_then_takes_the_placed_file(tmp_path):
    store = store_with(tmp_path, manual="Register at codalab and download train.zip.", sha256=DIGEST)
    with pytest.raises(MotionmagError, match=r"needs a manual download: Register at codalab.*place it as .*manual/a.zip"):
        store.fetch("a")
    (tmp_path / "data" / "manual").mkdir(parents=True)
    (tmp_path / "data" / "manual" / "a.zip").write_bytes(b"wrong file")
    with pytest.raises(MotionmagError, match="does not match"):
        store.fetch("a")
    assert not (tmp_path / "data" / "a.zip").exists()
    (tmp_path / "data" / "manual" / "a.zip").write_bytes(PAYLOAD)
    assert store.fetch("a").read_bytes() == PAYLOAD


@pytest.mark.parametrize("field, value, message", [
    ("sha256", "abc", "64 hex digits"), ("format", "rar", "not one of"), ("file", "../x.zip", "plain file name"),
])
def test_bad_manifest_entries_are_one_line_errors(tmp_path, field, value, message):
    with pytest.raises(MotionmagError, match=message):
        store_with(tmp_path, urls=["http://x"], **{field: value})


def test_the_shipped_manifest_names_every_source_and_layout():
    store = DatasetStore()
    needed = {e for layout in LAYOUTS.values() for e in (layout.archive, *layout.lists)} - {"uvo-videos"}
    assert needed | {"coco-train2017", "voc2012", "flowmag-train-included", "kinetics400-val-parts"} <= set(store.entries)
    assert all(e.licence and e.source for e in store.entries.values())
    assert store.entry("youtube-vos-2019-train").manual and not store.entry("youtube-vos-2019-train").urls


# --- extraction ---------------------------------------------------------------------------------


def _zip_with(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in names:
            zf.writestr(name, b"x")
    return buffer.getvalue()


@pytest.mark.parametrize("name, reason", [("../evil.txt", "'..'"), ("/etc/evil", "absolute"), ("a/../../evil", "'..'")])
def test_a_malicious_zip_path_refuses_the_whole_archive(tmp_path, name, reason):
    archive = tmp_path / "bad.zip"
    archive.write_bytes(_zip_with(["ok/file.txt", name]))
    with pytest.raises(MotionmagError, match=reason):
        extract_archive(archive, tmp_path / "out", "zip")
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.txt").exists()
    assert archive.exists()  # the archive is never deleted


def test_a_tar_with_a_link_out_is_refused(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        link = tarfile.TarInfo("frames/escape")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    (tmp_path / "bad.tar").write_bytes(buffer.getvalue())
    with pytest.raises(MotionmagError, match="link"):
        extract_archive(tmp_path / "bad.tar", tmp_path / "out", "tar")


def test_extraction_is_all_or_nothing_and_records_what_it_wrote(tmp_path):
    archive = tmp_path / "good.zip"
    archive.write_bytes(_zip_with(["d/a.txt", "d/e/b.txt"]))
    record = extract_archive(archive, tmp_path / "out", "zip")
    assert record["files"] == 2 and (tmp_path / "out/d/e/b.txt").read_bytes() == b"x"
    damaged = bytearray(archive.read_bytes())
    damaged[damaged.index(b"x")] = ord("y")  # a CRC mismatch
    (tmp_path / "damaged.zip").write_bytes(bytes(damaged))
    with pytest.raises(MotionmagError, match="damaged"):
        extract_archive(tmp_path / "damaged.zip", tmp_path / "out2", "zip")
    assert not (tmp_path / "out2").exists() and not (tmp_path / "out2.partial").exists()


# --- layouts, candidates, statistics ------------------------------------------------------------


def test_candidates_follow_flowmag_counts():
    assert candidate_pairs(7, 1) == [(0, 1), (2, 3), (4, 5)]  # Vimeo: im1-im2, im3-im4, im5-im6
    for n, s in ((10, 1), (10, 5), (11, 5), (5, 5), (6, 5)):
        assert len(candidate_pairs(n, s)) == max(0, (n - s + 1) // 2)
    assert [len(shard_range(10, 3, k)) for k in range(3)] == [3, 3, 4]
    assert sum((list(shard_range(10, 3, k)) for k in range(3)), []) == list(range(10))


def test_tao_and_vimeo_layouts_are_indexed_sorted_with_flowmag_keys(tmp_path):
    for video in ("LaSOT/b", "LaSOT/a", "BDD/z"):
        folder = tmp_path / "tao" / "frames" / "val" / video
        folder.mkdir(parents=True)
        for name in ("00010.jpg", "00002.jpg", "notes.txt"):
            (folder / name).write_bytes(b"")
    videos = index_videos(LAYOUTS[("tao", "test")], tmp_path / "tao")
    assert [v.video for v in videos] == ["BDD/z", "LaSOT/a", "LaSOT/b"]
    assert videos[1].names == ["00002.jpg", "00010.jpg"] and videos[1].frame_key(1) == "tao/frames/val/LaSOT/a/00010.jpg"
    with pytest.raises(MotionmagError, match="septuplet list is missing"):
        index_videos(LAYOUTS[("vimeo", "train")], tmp_path / "tao")


def test_percentiles_match_numpy():
    values = torch.rand(3, 1001) * 5
    expected = np.percentile(values.numpy(), [99.9, 80, 0.01], axis=1).T
    assert np.allclose(percentiles(values).numpy(), expected, atol=1e-5)


def test_the_filter_follows_flowmag_and_explains_drops():
    f = PairFilter()
    assert f.keep(10.5, 20.0, 2.0, 0.1)
    cases = {(10.0, 1, 1, 0): "duplicate", (50, 20.5, 1, 0): "large motion", (50, 5, 2.5, 0): "most pixels move",
             (50, 5, 1, 0.2): "no still pixels", (50, 5, 1, 0): ""}
    for stats, reason in cases.items():
        assert f.reason(*stats) == reason and bool(f.keep(*stats)) == (reason == "")


def test_included_keys_match_sorted_paths_of_one_subset(tmp_path):
    path = tmp_path / "train_included.json"
    path.write_text(json.dumps({"tao_n1_0": {"paths": ["b", "a"]}, "tao_n5_0": {"paths": ["c", "d"]}, "davis_3": {"paths": ["e", "f"]}}))
    assert included_keys(path, "tao_n1") == {("a", "b")}
    table = pd.DataFrame(dict(key_a=["a", "c"], key_b=["b", "d"]))
    assert list(select(table, included=included_keys(path, "tao_n5"))) == [False, True]
    path.write_text("[1, 2]")
    with pytest.raises(MotionmagError, match="train_included"):
        included_keys(path, "davis")


def test_names_count_kept_pairs_per_subset_across_shards():
    shard = lambda kept: pd.DataFrame(dict(key_a=list("abc"), key_b=list("def"), kept=kept))  # noqa: E731
    named = name_pairs({"davis": [shard([True, False, True]), shard([False, True, False])], "vimeo": [shard([True] * 3)]})
    assert list(named.name) == ["davis_00000", "davis_00001", "davis_00002", "vimeo_00000", "vimeo_00001", "vimeo_00002"]
    assert list(named.shard[:3]) == [0, 0, 1] and list(named.row[:3]) == [0, 1, 0]


def test_the_test_sampler_is_seeded_and_draws_each_subset_from_itself():
    def table(prefix, n, source=None):
        keys = [f"tao/frames/val/{source or 'X'}/v/{i:05d}.jpg" if prefix.startswith("tao") else f"{prefix}/{i}" for i in range(n)]
        return pd.DataFrame(dict(key_a=keys, key_b=keys, kept=[i % 2 == 0 for i in range(n)]))

    tao = pd.concat([table("tao", 20, "BDD"), table("tao", 6, "LaSOT")], ignore_index=True)
    tables = {"davis": table("davis", 30), "vimeo": table("vimeo", 4), "tao_n1": tao}
    counts = {"davis": 5, "vimeo": 5, "tao_n1": 4}
    a, b = sample_test_split(tables, counts, 1), sample_test_split(tables, counts, 1)
    assert a.equals(b) and not a.equals(sample_test_split(tables, counts, 2))
    assert a.groupby("subset").size().to_dict() == {"davis": 5, "vimeo": 2, "tao_n1": 7}  # LaSOT has only 3 kept
    assert all(k.startswith("davis/") for k in a[a.subset == "davis"].key_a)  # never from another dataset


def test_resizing_keeps_the_aspect_with_a_512_short_side():
    assert resize_short_side(np.zeros((480, 854, 3), np.uint8), 512).shape == (512, 910, 3)
    assert resize_short_side(np.zeros((256, 448, 3), np.uint8), 512).shape == (512, 896, 3)
    assert resize_short_side(np.zeros((900, 600, 3), np.uint8), 512).shape == (768, 512, 3)


# --- UVO from Kinetics, and the YouTube fallback ------------------------------------------------


def test_kinetics_clip_ids_keep_underscores():
    assert clip_id("val/abc_de-f_000010_000020.mp4") == "abc_de-f"
    assert clip_id("x/---QUuC4vJs_000084_000094.mp4") == "---QUuC4vJs"


def test_missing_clips_are_recorded_and_the_threshold_enforced(tmp_path, http_server):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        body = mp4(video_frames(["subtle"]), tmp_path / "clip.mp4")
        info = tarfile.TarInfo("val/have_it_000000_000010.mp4")
        info.size = len(body)
        tf.addfile(info, io.BytesIO(body))
        evil = tarfile.TarInfo("../../evil_000000_000010.mp4")  # taken by its id only: cannot escape
        evil.size = len(body)
        tf.addfile(evil, io.BytesIO(body))
    http_server.files["/part_0.tar"] = buffer.getvalue()
    store = store_with(tmp_path, urls=["http://unused"])
    out, manifest = tmp_path / "uvo" / "videos", tmp_path / "uvo" / "clips.tsv"
    with pytest.raises(MotionmagError, match="1 of 2 clips available .50.0%.*below the configured minimum 95%"):
        rebuild_uvo(["have_it", "gone"], [http_server.url("/part_0.tar")], store, out, manifest, log=lambda m: None)
    rows = pd.read_csv(manifest, sep="\t").set_index("id")
    assert rows.loc["have_it", "status"] == "ok" and rows.loc["have_it", "height"] == 480
    assert rows.loc["gone", "status"] == "missing" and "Kinetics" in rows.loc["gone", "reason"]
    assert (tmp_path / "uvo" / "clips.missing.txt").read_text() == "gone\n"
    assert not list(tmp_path.rglob("evil*"))
    summary = rebuild_uvo(["have_it", "gone"], [], store, out, manifest, min_available=0.5, log=lambda m: None)
    assert summary.startswith("UVO dense videos: 1 of 2")  # idempotent: the clip is kept, nothing fetched
    assert check_availability([{"status": "ok"}], 1.0, "x") == "x: 1 of 1 clips available (100.0%), 0 missing"


@pytest.mark.slow
def test_yt_dlp_downloads_and_trims_a_clip_from_a_loopback_url(tmp_path, http_server):
    pytest.importorskip("yt_dlp")
    frames = video_frames(["subtle"] * 45)  # 90 frames = 3 s at 30 fps
    http_server.files["/v/clipid.mp4"] = mp4(frames, tmp_path / "full.mp4")
    fallback = YouTubeFallback(url=http_server.url("/v/{id}.mp4"), pause=0)
    status, reason = fallback.fetch("clipid", 1.0, 2.0, tmp_path / "clipid.mp4")
    assert (status, reason) == ("ok", "")
    from motionmag.data.video_index import count_decoded_frames

    assert count_decoded_frames(tmp_path / "clipid.mp4") == 30  # [1 s, 2 s] at 30 fps, frame-exact
    status, reason = fallback.fetch("absent", 0.0, 1.0, tmp_path / "absent.mp4")
    assert status == "missing" and "404" in reason

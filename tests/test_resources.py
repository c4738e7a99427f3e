"""motionmag.resources: one manifest parser for the weights and the datasets, the verified store
both kinds share, the project root and its overrides, and what the workflow reads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from motionmag.data.downloads import DatasetStore, load_datasets_manifest
from motionmag.errors import MotionmagError
from motionmag.flow.weights import WeightsStore, load_manifest
from motionmag.resources import BUNDLED_DIR, DATASETS, PROJECT_ROOT, WEIGHTS, ManifestEntry, read_manifest

PAYLOAD = b"resource bytes " * 500
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()
WEIGHT = dict(file="w.pth", url="https://x/w.pth", sha256="0123abcd", format="arflow", source="s", licence="l")
DATASET = dict(file="d.zip", urls=["https://x/d.zip", "https://y/d.zip"], sha256=None, format="zip", source="s",
               licence="l")
ENTRIES = {"weights": ("arflow-kitti", WEIGHT), "datasets": ("davis", DATASET)}
STORES = {"weights": WeightsStore, "datasets": DatasetStore}


def write(tmp_path, entries: dict, name: str = "manifest.yaml"):
    (tmp_path / name).write_text(yaml.safe_dump(entries))
    return tmp_path / name


def test_one_parser_reads_both_kinds(tmp_path):
    weights = read_manifest(write(tmp_path, {"arflow-kitti": WEIGHT}, "w.yaml"), "weights")["arflow-kitti"]
    datasets = read_manifest(write(tmp_path, {"davis": DATASET}, "d.yaml"), DATASETS)["davis"]
    assert type(weights) is type(datasets) is ManifestEntry
    assert weights.url == "https://x/w.pth" and weights.urls == ("https://x/w.pth",) and not weights.bundled
    assert datasets.urls == ("https://x/d.zip", "https://y/d.zip") and datasets.archive and datasets.sha256 is None
    # the kinds' own readers are this parser
    assert load_manifest(tmp_path / "w.yaml") == {"arflow-kitti": weights}
    assert load_datasets_manifest(tmp_path / "d.yaml") == {"davis": datasets}


@pytest.mark.parametrize("kind, change, message", [
    ("weights", {"sha256": "0123abc"}, "sha256 must be 8 to 64 hex digits or null"),
    ("datasets", {"sha256": "0123abcd"}, "sha256 must be 64 hex digits or null"),  # a prefix is weights-only
    ("weights", {"format": "zip"}, "format 'zip' is not one of torchvision"),
    ("datasets", {"format": "arflow"}, "format 'arflow' is not one of zip"),
    ("weights", {"url": None}, "missing url"),
    ("datasets", {"urls": None}, "needs a url, or manual steps"),
    ("weights", {"manual": "register first"}, "unknown field manual"),  # manual steps are datasets-only
    ("datasets", {"bundled": True}, "unknown field bundled"),  # bundled files are weights-only
    ("weights", {"bundled": True, "url": None}, "a bundled file needs its full sha256"),
    ("weights", {"bundled": "yes"}, "bundled must be true or false"),
    ("datasets", {"file": "../d.zip"}, "file must be a plain file name"),
    ("weights", {"size": "big"}, "size must be a number of bytes"),
    ("datasets", {"source": None}, "missing source"),
])
def test_each_kinds_field_rules_give_one_line_errors(tmp_path, kind, change, message):
    name, good = ENTRIES[kind]
    entry = {key: value for key, value in {**good, **change}.items() if value is not None or key == "sha256"}
    manifest = write(tmp_path, {name: entry})
    with pytest.raises(MotionmagError, match=message) as error:
        read_manifest(manifest, kind)
    assert str(error.value).startswith(f"{manifest}: {name}: ") and "\n" not in str(error.value)


def test_manifest_file_errors_name_the_kind(tmp_path):
    with pytest.raises(MotionmagError, match="datasets manifest .*nope.yaml does not exist"):
        read_manifest(tmp_path / "nope.yaml", "datasets")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(MotionmagError, match="expected a mapping of model name -> checkpoint"):
        read_manifest(tmp_path / "list.yaml", "weights")
    with pytest.raises(MotionmagError, match="unknown manifest kind 'models'"):
        read_manifest(tmp_path / "list.yaml", "models")


@pytest.mark.parametrize("kind", STORES)
def test_both_stores_share_path_require_and_verification(tmp_path, kind):
    name, entry = ENTRIES[kind]
    store = STORES[kind](write(tmp_path, {name: {**entry, "sha256": DIGEST}}), tmp_path / "files")
    path = store.path(name)
    assert path == tmp_path / "files" / entry["file"] and not store.present(name)
    with pytest.raises(MotionmagError) as error:
        store.require(name)
    message = str(error.value)
    assert entry["file"] in message and str(tmp_path / "files") in message and "\n" not in message
    with pytest.raises(MotionmagError, match="lists no .*'nope'"):
        store.path("nope")
    path.parent.mkdir()
    path.write_bytes(b"a different file")
    with pytest.raises(MotionmagError, match="does not match"):
        store.require(name)
    path.write_bytes(PAYLOAD)
    assert store.require(name) == path and store.expected_sha256(name) == DIGEST


@pytest.mark.parametrize("kind", STORES)
def test_both_stores_pin_an_unpublished_digest_at_first_fetch(tmp_path, http_server, kind):
    name, entry = ENTRIES[kind]
    http_server.files["/file"] = PAYLOAD
    entry = {key: value for key, value in entry.items() if key not in ("url", "urls")}
    store = STORES[kind](write(tmp_path, {name: {**entry, "sha256": None, "url": http_server.url("/file")}}),
                         tmp_path / "files")
    assert store.expected_sha256(name) is None
    path = store.fetch(name, progress=False)
    assert path.read_bytes() == PAYLOAD and store.expected_sha256(name) == DIGEST
    path.write_bytes(PAYLOAD[:-1] + b"!")
    with pytest.raises(MotionmagError, match="does not match"):
        store.require(name)


def test_the_project_root_and_its_overrides(tmp_path, monkeypatch):
    assert (PROJECT_ROOT / "config" / "weights.yaml").is_file() and (PROJECT_ROOT / "src" / "motionmag").is_dir()
    assert WeightsStore().root == PROJECT_ROOT / "resources" / "weights"
    assert DatasetStore().manifest == PROJECT_ROOT / "config" / "datasets.yaml"
    weights, datasets = write(tmp_path, {"a": WEIGHT}, "w.yaml"), write(tmp_path, {"b": DATASET}, "d.yaml")
    monkeypatch.setenv("MOTIONMAG_WEIGHTS_MANIFEST", str(weights))
    monkeypatch.setenv("MOTIONMAG_WEIGHTS_DIR", str(tmp_path / "w"))
    monkeypatch.setenv("MOTIONMAG_DATASETS_MANIFEST", str(datasets))
    monkeypatch.setenv("MOTIONMAG_DATASETS_DIR", str(tmp_path / "d"))
    assert WeightsStore().path("a") == tmp_path / "w" / "w.pth"
    assert DatasetStore().path("b") == tmp_path / "d" / "d.zip"


def test_what_the_workflow_reads_name_file_format_bundled_and_path(tmp_path):
    """read_manifest(path, kind) and entry.path_under(dir) replace the workflow's own reader."""
    bundled = dict(WEIGHT, bundled=True, sha256=DIGEST, format="motionmag", file="demo.pt")
    del bundled["url"]
    entries = read_manifest(write(tmp_path, {"arflow-kitti": WEIGHT, "demo": bundled}), "weights")
    assert {n: (e.file, e.format, e.bundled) for n, e in entries.items()} == {
        "arflow-kitti": ("w.pth", "arflow", False), "demo": ("demo.pt", "motionmag", True)}
    assert entries["arflow-kitti"].path_under("resources/weights") == Path("resources/weights/w.pth")
    assert entries["demo"].path_under("resources/weights") == BUNDLED_DIR / "demo.pt"
    assert str(entries["demo"].path_under("resources/weights", "resources/release")) == "resources/release/demo.pt"
    # the shipped manifests: every entry parses, every bundled file is where the store looks
    shipped = read_manifest(WEIGHTS.manifest, "weights")
    assert all(e.path_under("unused").is_file() for e in shipped.values() if e.bundled)
    assert read_manifest(DATASETS.manifest, "datasets")

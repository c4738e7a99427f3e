"""motionmag.io.download against a real loopback HTTP server: verify, resume, refuse."""

from __future__ import annotations

import hashlib

import pytest

from motionmag.errors import MotionmagError
from motionmag.io.download import digest_matches, fetch

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB, several read chunks
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


def test_fetch_verifies_and_renames_into_place(http_server, tmp_path):
    http_server.files["/w.pth"] = PAYLOAD
    dest = fetch(http_server.url("/w.pth"), tmp_path / "w.pth", DIGEST, size=len(PAYLOAD), progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "w.pth.part").exists()


def test_an_existing_verified_file_needs_no_network(http_server, tmp_path):
    (tmp_path / "w.pth").write_bytes(PAYLOAD)
    fetch(http_server.url("/gone.pth"), tmp_path / "w.pth", DIGEST[:8], progress=False)
    assert http_server.requests == []


def test_wrong_digest_is_refused_and_nothing_is_left(http_server, tmp_path):
    http_server.files["/w.pth"] = PAYLOAD
    with pytest.raises(MotionmagError, match="does not match"):
        fetch(http_server.url("/w.pth"), tmp_path / "w.pth", "0" * 64, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_an_html_page_instead_of_the_file_is_refused(http_server, tmp_path):
    http_server.html.add("/drive")
    with pytest.raises(MotionmagError, match="HTML page instead of the file"):
        fetch(http_server.url("/drive"), tmp_path / "w.pth", None, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_a_dropped_connection_is_resumed_with_a_range_request(http_server, tmp_path):
    http_server.files["/w.pth"] = PAYLOAD
    http_server.cut["/w.pth"] = 300_000
    fetch(http_server.url("/w.pth"), tmp_path / "w.pth", DIGEST, progress=False)
    assert (tmp_path / "w.pth").read_bytes() == PAYLOAD
    assert http_server.requests == [("/w.pth", None), ("/w.pth", "bytes=300000-")]


def test_http_errors_are_one_line(http_server, tmp_path):
    with pytest.raises(MotionmagError, match=r"HTTP 404"):
        fetch(http_server.url("/missing.pth"), tmp_path / "w.pth", None, progress=False)


def test_digest_prefixes_follow_torch_hub():
    assert digest_matches(DIGEST, DIGEST[:8]) and digest_matches(DIGEST, DIGEST.upper())
    assert not digest_matches(DIGEST, "deadbeef")


def test_a_server_that_ignores_range_gets_a_fresh_full_download(http_server, tmp_path):
    http_server.files["/w.pth"] = PAYLOAD
    http_server.ignore_range.add("/w.pth")
    (tmp_path / "w.pth.part").write_bytes(b"stale partial bytes")
    fetch(http_server.url("/w.pth"), tmp_path / "w.pth", DIGEST, progress=False)
    assert (tmp_path / "w.pth").read_bytes() == PAYLOAD


def test_server_errors_are_retried(http_server, tmp_path):
    http_server.files["/w.pth"] = PAYLOAD
    http_server.errors["/w.pth"] = [503]
    fetch(http_server.url("/w.pth"), tmp_path / "w.pth", DIGEST, progress=False)
    assert (tmp_path / "w.pth").read_bytes() == PAYLOAD
    assert len(http_server.requests) == 2


def test_a_complete_partial_file_is_finished_without_downloading_again(http_server, tmp_path):
    http_server.files["/w.pth"] = PAYLOAD
    http_server.errors["/w.pth"] = [416]  # what a server says to "bytes=<size>-"
    (tmp_path / "w.pth.part").write_bytes(PAYLOAD)  # killed after the last byte, before the rename
    fetch(http_server.url("/w.pth"), tmp_path / "w.pth", DIGEST, progress=False)
    assert (tmp_path / "w.pth").read_bytes() == PAYLOAD
    assert http_server.requests == [("/w.pth", f"bytes={len(PAYLOAD)}-")]

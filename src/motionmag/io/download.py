"""Verified, resumable, retried HTTP downloads (model weights now, dataset archives later).

``fetch(url, dest, sha256=...)`` writes ``dest`` only once the whole file has arrived and its
digest matches; a partial download stays in ``dest.part`` and the next call resumes it with an
HTTP Range request when the server allows. An HTML page where a binary file was expected (a
login wall, a Google Drive quota page) is refused instead of being saved as the file.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from motionmag.errors import MotionmagError

CHUNK = 1 << 20
USER_AGENT = "motionmag (https://github.com/motionmag)"


def sha256sum(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def digest_matches(actual: str, expected: str) -> bool:
    """A full digest must match exactly; a prefix (>= 8 hex digits, torch.hub's file-name
    convention) matches the start, which is all some hosts publish."""
    return actual.lower().startswith(expected.lower())


def verify(path: str | Path, sha256: str | None, size: int | None = None) -> None:
    """Raise a one-line MotionmagError unless ``path`` has the given size and digest."""
    path = Path(path)
    if size is not None and path.stat().st_size != size:
        raise MotionmagError(f"{path}: size {path.stat().st_size} bytes, expected {size}: a corrupt or truncated file")
    if sha256:
        actual = sha256sum(path)
        if not digest_matches(actual, sha256):
            raise MotionmagError(
                f"{path}: sha256 {actual[:16]}... does not match the expected {sha256[:16]}...: "
                "a corrupt, truncated or different file; delete it and fetch it again"
            )


def _looks_like_html(first_bytes: bytes) -> bool:
    head = first_bytes.lstrip()[:64].lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head"))


def _retry_after(error: urllib.error.HTTPError) -> float:
    """Seconds a 429/503 asks us to wait (the delta-seconds form; an HTTP date counts as 0)."""
    try:
        return float(error.headers.get("Retry-After", 0)) if error.headers else 0.0
    except ValueError:
        return 0.0


def _open(url: str, offset: int, timeout: float):
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - URLs come from the manifest


def _download_once(url: str, part: Path, timeout: float, progress: bool) -> None:
    offset = part.stat().st_size if part.exists() else 0
    with _open(url, offset, timeout) as response:
        content_range = response.headers.get("Content-Range", "")
        resumed = offset and response.status == 206 and content_range.startswith(f"bytes {offset}-")
        if not resumed:
            offset = 0  # the server ignored the Range header: start again
        content_type = response.headers.get("Content-Type", "")
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        with open(part, "ab" if resumed else "wb") as out, tqdm(
            total=total, initial=offset, unit="B", unit_scale=True, desc=part.name[: -len(".part")], disable=not progress
        ) as bar:
            first = True
            for block in iter(lambda: response.read(CHUNK), b""):
                if first and not resumed and ("text/html" in content_type or _looks_like_html(block)):
                    raise MotionmagError(
                        f"{url} returned an HTML page instead of the file (a login, quota or error page); "
                        "download it in a browser and place it by hand"
                    )
                first = False
                out.write(block)
                bar.update(len(block))
        if total is not None and part.stat().st_size != total:
            raise ConnectionError(f"connection closed at {part.stat().st_size} of {total} bytes")


def fetch(
    url: str,
    dest: str | Path,
    sha256: str | None,
    size: int | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``dest`` (resuming ``dest.part``), verify it, then rename into place.

    An existing ``dest`` that verifies is kept without any network access.
    """
    dest = Path(dest)
    if dest.exists():
        verify(dest, sha256, size)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    if not sha256:
        part.unlink(missing_ok=True)  # without a digest, a resumed file could not be checked
    failures = 0
    while True:
        before = part.stat().st_size if part.exists() else 0
        retry_after = 0.0
        try:
            _download_once(url, part, timeout, progress)
            break
        except MotionmagError:
            part.unlink(missing_ok=True)
            raise
        except urllib.error.HTTPError as error:
            if error.code == 416 and part.exists():  # resuming past the end: done already, or junk
                if sha256 and digest_matches(sha256sum(part), sha256):
                    break
                part.unlink()
            if error.code < 500 and error.code not in (408, 416, 429) or failures + 1 >= retries:
                raise MotionmagError(f"{url}: HTTP {error.code} {error.reason}") from None
            retry_after = _retry_after(error)
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, OSError) as error:
            if failures + 1 >= retries:
                reason = getattr(error, "reason", error)
                raise MotionmagError(f"{url}: download failed after {retries} tries ({reason})") from None
        grew = part.exists() and part.stat().st_size > before
        failures = 0 if grew else failures + 1  # a drop after progress is resumed, not counted
        time.sleep(min(max(retry_after, 2.0 ** max(failures - 1, 0)), 60.0))
    try:
        verify(part, sha256, size)
    except MotionmagError:
        part.unlink(missing_ok=True)  # a wrong file must not be resumed into
        raise
    os.replace(part, dest)
    return dest

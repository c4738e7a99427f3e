"""Verified, resumable, retried HTTP downloads (model weights and dataset archives).

``fetch(url, dest, sha256=...)`` writes ``dest`` only once the whole file has arrived and its
digest matches; a partial download stays in ``dest.part`` and the next call resumes it with an
HTTP Range request when the server allows. ``url`` may be a list of mirrors, tried in order.
An HTML page where a binary file was expected (a login wall, a Google Drive quota page) is
refused instead of being saved as the file; Google Drive's "cannot scan this file for viruses"
page is followed through its "Download anyway" form, as gdown does.
"""

from __future__ import annotations

import hashlib
import html
import http.client
import os
import re
import time
import urllib.parse
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


class _FollowLink(Exception):
    """An interstitial page pointed at the real file: download from ``url`` instead."""

    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


# Google Drive's answer when a file's daily download quota is spent (gdown #43, #111, #406)
_QUOTA_PHRASES = (b"too many users have viewed or downloaded this file", b"quota exceeded", b"download quota")


def _drive_confirm_link(page: bytes, base: str) -> str | None:
    """The "Download anyway" target of Drive's virus-scan warning page, if this is one."""
    text = page.decode("utf-8", "replace")
    form = re.search(r'<form[^>]*id="download-form"[^>]*action="([^"]+)"[^>]*>(.*?)</form>', text, re.S)
    if form:
        fields = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form.group(2)))
        action = urllib.parse.urljoin(base, html.unescape(form.group(1)))
        return f"{action}?{urllib.parse.urlencode(fields)}" if fields else action
    link = re.search(r'href="(/uc\?export=download[^"]*confirm=[^"]*)"', text)  # the pre-2024 page
    return urllib.parse.urljoin(base, html.unescape(link.group(1))) if link else None


def _refuse_html(url: str, page: bytes, dest_name: str) -> None:
    lowered = page.lower()
    if any(phrase in lowered for phrase in _QUOTA_PHRASES):
        raise MotionmagError(
            f"{url}: Google Drive refuses the download (its daily quota for this file is spent); try again "
            f"in up to 24 h, or open the link in a browser, use 'Make a copy' in your own Drive, download "
            f"that and place it as {dest_name}"
        )
    raise MotionmagError(
        f"{url} returned an HTML page instead of the file (a login, quota or error page); "
        f"download it in a browser and place it as {dest_name}"
    )


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
                    page = block + response.read(1 << 19)  # enough of the page to recognise it
                    link = _drive_confirm_link(page, response.geturl())
                    if link and link != url:
                        raise _FollowLink(link)
                    _refuse_html(url, page, part.name[: -len(".part")])
                first = False
                out.write(block)
                bar.update(len(block))
        if total is not None and part.stat().st_size != total:
            raise ConnectionError(f"connection closed at {part.stat().st_size} of {total} bytes")


def fetch(
    url: str | list[str] | tuple[str, ...],
    dest: str | Path,
    sha256: str | None,
    size: int | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``dest`` (resuming ``dest.part``), verify it, then rename into place.

    ``url`` may be a list of mirrors: each is tried in turn until one gives a file that verifies.
    An existing ``dest`` that verifies is kept without any network access.
    """
    dest = Path(dest)
    if dest.exists():
        verify(dest, sha256, size)
        return dest
    urls = [url] if isinstance(url, str) else list(url)
    reasons = []
    for mirror in urls:
        try:
            return _fetch_one(mirror, dest, sha256, size, retries, timeout, progress)
        except MotionmagError as error:
            if len(urls) == 1:
                raise
            reasons.append(str(error))
    raise MotionmagError(f"{dest.name}: no mirror gave a verified file: " + " | ".join(reasons))


def _fetch_one(url: str, dest: Path, sha256: str | None, size: int | None, retries: int, timeout: float,
               progress: bool) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    if not sha256:
        part.unlink(missing_ok=True)  # without a digest, a resumed file could not be checked
    failures, hops = 0, 0
    while True:
        before = part.stat().st_size if part.exists() else 0
        retry_after = 0.0
        try:
            _download_once(url, part, timeout, progress)
            break
        except _FollowLink as link:
            part.unlink(missing_ok=True)
            hops += 1
            if hops > 3:
                raise MotionmagError(f"{url}: interstitial pages lead nowhere; download it in a browser") from None
            url = link.url
            continue
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

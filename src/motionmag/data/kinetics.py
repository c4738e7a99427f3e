"""UVO's dense videos rebuilt from Kinetics-400 val, with a per-clip manifest
(docs/datasets.md#per-dataset-notes and #youtube-based-sources).

UVO's own mp4s are gone from Google Drive, so each listed YouTube id is taken from the frozen
CVDF mirror's tar parts (members ``<ytid>_<start>_<end>.mp4``), or, as an opt-in fallback, cut
from YouTube with yt-dlp. Each clip is re-encoded as UVO's preprocessing did (short side 480,
30 fps, H.264). Every id keeps a manifest row, found or not, and the step fails only when fewer
than ``min_available`` of the ids could be had.
"""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2

from motionmag.errors import MotionmagError

MANIFEST_COLUMNS = ["id", "source", "status", "reason", "bytes", "sha256", "fps", "width", "height", "n_frames",
                    "retrieved_at", "tool_version"]
STATUSES = ("ok", "missing", "private", "removed", "geo", "bot_check", "error")
SHORT_SIDE, FPS = 480, 30  # UVO's preprocess_kinetics.py


def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return "ffmpeg"


def _ffmpeg_for_yt_dlp(work: Path) -> str:
    """yt-dlp finds ffmpeg by its file name, which imageio-ffmpeg's binary does not have, and
    checks for it on PATH before a partial download whatever ``ffmpeg_location`` says: a folder
    with an ``ffmpeg`` link to the binary, put first on this process's PATH."""
    exe = ffmpeg_exe()
    if Path(exe).name == "ffmpeg":
        folder = str(Path(exe).parent)
    else:
        link = work / ".ffmpeg" / "ffmpeg"
        if not link.exists():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(exe)
        folder = str(link.parent)
    if folder not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = folder + os.pathsep + os.environ.get("PATH", "")
    return folder


def clip_id(member: str) -> str:
    """``abc_de-f_000010_000020.mp4`` -> ``abc_de-f`` (YouTube ids may contain underscores)."""
    stem = Path(member).name.rsplit(".", 1)[0]
    parts = stem.rsplit("_", 2)
    return parts[0] if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit() else stem


def preprocess(src: str | Path, dst: str | Path) -> None:
    """Re-encode a clip as UVO did: short side 480, 30 fps, H.264 at high quality, no audio."""
    dst = Path(dst)
    tmp = dst.with_name(f".{dst.name}.tmp.mp4")
    scale = f"scale='if(gt(iw,ih),-2,{SHORT_SIDE})':'if(gt(iw,ih),{SHORT_SIDE},-2)'"
    cmd = [ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(src), "-vf", scale, "-r", str(FPS), "-an",
           "-c:v", "libx264", "-crf", "17", "-pix_fmt", "yuv420p", str(tmp)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise MotionmagError(f"{src}: ffmpeg failed ({result.stderr.strip().splitlines()[-1:] or ['?']})")
    os.replace(tmp, dst)


def describe(path: Path) -> dict:
    """bytes, sha256, fps, width, height and the decoded frame count of a clip."""
    from motionmag.data.video_index import count_decoded_frames

    capture = cv2.VideoCapture(str(path))
    fps, w, h = capture.get(cv2.CAP_PROP_FPS), int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    capture.release()
    return dict(bytes=path.stat().st_size, sha256=hashlib.sha256(path.read_bytes()).hexdigest(), fps=round(fps, 3),
                width=w, height=h, n_frames=count_decoded_frames(path))


def extract_from_parts(parts: list[Path], wanted: set[str], out_dir: Path, log=print) -> dict[str, str]:
    """Take the clips of ``wanted`` ids out of Kinetics tar parts (only those members, by base
    name, so no path in a tar can escape) and preprocess them into ``out_dir/<id>.mp4``.
    Returns id -> the part it came from."""
    found: dict[str, str] = {}
    staging = out_dir / ".staging"
    staging.mkdir(parents=True, exist_ok=True)
    for part in parts:
        try:
            with tarfile.open(part) as tf:
                for info in tf:
                    ytid = clip_id(info.name)
                    if not info.isfile() or ytid not in wanted or ytid in found:
                        continue
                    raw = staging / f"{ytid}.mp4"
                    with tf.extractfile(info) as src, open(raw, "wb") as out:
                        out.write(src.read())
                    preprocess(raw, out_dir / f"{ytid}.mp4")
                    raw.unlink()
                    found[ytid] = part.name
        except (tarfile.TarError, OSError, EOFError) as err:
            raise MotionmagError(f"{part}: damaged Kinetics tar ({err}); delete it and run again") from None
        log(f"{part.name}: {len(found)} of {len(wanted)} clips so far")
    if not any(staging.iterdir()):
        staging.rmdir()
    return found


def read_kinetics_times(csv_path: Path) -> dict[str, tuple[float, float]]:
    """youtube_id -> (time_start, time_end) from Kinetics' annotation CSV."""
    with open(csv_path, newline="") as f:
        return {row["youtube_id"]: (float(row["time_start"]), float(row["time_end"])) for row in csv.DictReader(f)}


def _youtube_status(message: str) -> str:
    text = message.lower()
    for status, phrases in (("private", ("private video",)), ("bot_check", ("sign in to confirm", "not a bot")),
                            ("geo", ("not available in your country", "geo restrict")),
                            ("removed", ("has been removed", "video unavailable", "account associated", "terminated")),
                            ("missing", ("404", "not found"))):
        if any(p in text for p in phrases):
            return status
    return "error"


@dataclass
class YouTubeFallback:
    """yt-dlp, opt-in: ``url`` is a template with {id}; ``pause`` seconds between clips."""

    url: str = "https://www.youtube.com/watch?v={id}"
    pause: float = 2.0
    retries: int = 3

    def fetch(self, ytid: str, start: float, end: float, out: Path) -> tuple[str, str]:
        """Download [start, end] of the clip, frame-exact; (status, reason)."""
        import yt_dlp
        from yt_dlp.utils import download_range_func

        staging = out.with_name(f".{ytid}.download")
        options = dict(
            outtmpl=str(staging) + ".%(ext)s", quiet=True, no_warnings=True, noprogress=True,
            format="mp4/bestvideo*+bestaudio/best", download_ranges=download_range_func(None, [(start, end)]),
            force_keyframes_at_cuts=True, ffmpeg_location=_ffmpeg_for_yt_dlp(out.parent), retries=self.retries, sleep_interval=self.pause,
        )
        try:
            with yt_dlp.YoutubeDL(options) as ydl:
                info = ydl.extract_info(self.url.format(id=ytid), download=True)
                path = Path(ydl.prepare_filename(info))
        except yt_dlp.utils.DownloadError as err:
            return _youtube_status(str(err)), " ".join(str(err).split())[:200]
        try:
            preprocess(path, out)
        finally:
            path.unlink(missing_ok=True)
        time.sleep(self.pause)
        return "ok", ""


def write_clip_manifest(path: Path, rows: list[dict]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, MANIFEST_COLUMNS, delimiter="\t", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: r["id"]))
    os.replace(tmp, path)


def check_availability(rows: list[dict], min_available: float, what: str) -> str:
    """A one-line summary; raises when the share of available clips is below ``min_available``."""
    ok = sum(r["status"] == "ok" for r in rows)
    share = ok / len(rows) if rows else 0.0
    summary = f"{what}: {ok} of {len(rows)} clips available ({share:.1%}), {len(rows) - ok} missing"
    if share < min_available:
        raise MotionmagError(f"{summary}: below the configured minimum {min_available:.0%}")
    return summary


def rebuild_uvo(ids: list[str], part_urls: list[str], store, out_dir: str | Path, manifest: str | Path,
                times: dict[str, tuple[float, float]] | None = None, fallback: YouTubeFallback | None = None,
                min_available: float = 0.95, log=print) -> str:
    """Every UVO id as ``out_dir/<id>.mp4``: from the Kinetics parts (downloaded into the store,
    pinned, kept), then yt-dlp for the rest when ``fallback`` is given. Clips already present are
    kept (idempotent). Writes the manifest, then enforces ``min_available``."""
    from importlib.metadata import version

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = {i: dict(id=i, source="", status="missing", reason="not in any Kinetics-400 val part") for i in ids}
    have = {i for i in ids if (out_dir / f"{i}.mp4").is_file()}
    for i in have:
        rows[i].update(source="present", status="ok", reason="")
    wanted = set(ids) - have
    if wanted and part_urls:
        parts = [store.fetch_listed(url, f"kinetics400/val/{url.rstrip('/').rsplit('/', 1)[-1]}") for url in part_urls]
        for i, part in extract_from_parts(parts, wanted, out_dir, log).items():
            rows[i].update(source=f"cvdf:{part}", status="ok", reason="")
    if fallback is not None:
        for i in sorted(i for i in ids if rows[i]["status"] != "ok"):
            if not times or i not in times:
                rows[i].update(reason="no Kinetics start/end time for the YouTube fallback")
                continue
            status, reason = fallback.fetch(i, *times[i], out_dir / f"{i}.mp4")
            rows[i].update(source="youtube", status=status, reason=reason)
            log(f"{i}: youtube {status} {reason}")
    stamp, tools = time.strftime("%Y-%m-%dT%H:%M:%S"), f"opencv {cv2.__version__}"
    try:
        tools += f", yt-dlp {version('yt-dlp')}"
    except Exception:  # noqa: BLE001 - yt-dlp is optional
        pass
    for row in rows.values():
        if row["status"] == "ok":
            row.update(describe(out_dir / f"{row['id']}.mp4"), retrieved_at=stamp, tool_version=tools)
    manifest = Path(manifest)
    write_clip_manifest(manifest, list(rows.values()))
    missing = sorted(i for i, r in rows.items() if r["status"] != "ok")
    manifest.with_name(manifest.stem + ".missing.txt").write_text("".join(f"{i}\n" for i in missing))
    return check_availability(list(rows.values()), min_available, "UVO dense videos")


__all__ = ["rebuild_uvo", "MANIFEST_COLUMNS", "STATUSES", "YouTubeFallback", "check_availability", "clip_id", "describe",
           "extract_from_parts", "preprocess", "read_kinetics_times", "write_clip_manifest"]

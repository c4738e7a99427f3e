"""Shared fixtures: small rendered clips with known motion, an ffmpeg binary, the twocats frames."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from motionmag.synth.clips import DemoClip, DemoRenderer, Motion

ROOT = Path(__file__).resolve().parents[1]
TWOCATS = ROOT.parent / "shared" / "data" / "twocats"

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    """An ffmpeg executable: imageio-ffmpeg's bundled one, else one on PATH."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        exe = shutil.which("ffmpeg")
        if exe is None:
            pytest.skip("no ffmpeg available")
        return exe


@pytest.fixture(scope="session")
def twocats() -> Path:
    if not (TWOCATS / "frames").is_dir():
        pytest.skip("../shared/data/twocats is absent")
    return TWOCATS


def make_renderer(amplitude=0.25, background_amplitude=0.0, frames=7, fps=6.0, frequency=1.0, **kwargs) -> DemoRenderer:
    """A textured ellipse (gravel) over brick, moving A sin(2 pi f t) at 30 degrees; background still."""
    settings = dict(
        width=224, height=192, frames=frames, fps=fps, object="gravel", background="brick",
        object_radii=(0.35, 0.38), smooth=1.0,
        object_motion=Motion(amplitude, frequency, 30.0), background_motion=Motion(background_amplitude, 0.5, 90.0),
    )
    settings.update(kwargs)
    return DemoRenderer(DemoClip(**settings))


def region_motion(frames, region, flow_model) -> np.ndarray:
    """(T, 2) mean flow from frame 0 to every frame over a boolean region."""
    from motionmag.methods.base import frame_to_tensor

    ref = frame_to_tensor(frames[0], torch.device("cpu"))
    out = [np.zeros(2)]
    with torch.no_grad():
        for frame in frames[1:]:
            flow = flow_model(ref, frame_to_tensor(frame, torch.device("cpu")))[0]
            out.append(flow[:, torch.from_numpy(region)].mean(1).numpy())
    return np.stack(out)


class LoopbackServer:
    """A real HTTP server on 127.0.0.1 serving in-memory files, with Range support.

    ``files[path] = bytes``; ``html`` paths answer with an HTML page; ``cut[path] = n`` makes the
    next full (non-Range) response stop after n bytes, as a dropped connection would;
    ``ignore_range`` paths answer Range requests with the whole file (200), as some servers do;
    ``pages[path]`` answers with that HTML page; ``errors[path]`` is a list of HTTP status codes answered first, one per request.
    """

    def __init__(self):
        import http.server
        import threading

        self.files: dict[str, bytes] = {}
        self.html: set[str] = set()
        self.pages: dict[str, bytes] = {}  # path -> an HTML page of one's own
        self.cut: dict[str, int] = {}
        self.ignore_range: set[str] = set()
        self.errors: dict[str, list[int]] = {}
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                server.requests.append((self.path, rng))
                if server.errors.get(self.path):
                    self.send_error(server.errors[self.path].pop(0))
                    return
                if self.path in server.ignore_range:
                    rng = None
                if self.path in server.html or self.path in server.pages:
                    body = server.pages.get(self.path, b"<!DOCTYPE html><html><body>Sign in to continue</body></html>")
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if self.path not in server.files:
                    self.send_error(404, "Not Found")
                    return
                body = server.files[self.path]
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                self.send_response(206 if rng else 200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body) - start))
                if rng:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.end_headers()
                stop = server.cut.pop(self.path, None) if not rng else None
                self.wfile.write(body[start:stop] if stop is not None else body[start:])

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server():
    server = LoopbackServer()
    yield server
    server.close()


def run_motionmag(*args) -> subprocess.CompletedProcess:
    """`motionmag ARGS` in this process (a subprocess would spend seconds importing torch again):
    the exit status and what it printed, as a finished subprocess reports them."""
    import contextlib
    import io

    from motionmag.cli import main

    out, err = io.StringIO(), io.StringIO()
    argv = [str(a) for a in args]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's usage errors
            code = exit_.code if isinstance(exit_.code, int) else 1
    return subprocess.CompletedProcess(["motionmag", *argv], code, out.getvalue(), err.getvalue())

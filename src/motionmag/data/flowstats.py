"""Motion statistics of candidate pairs, batched, and FlowMag's filter
(docs/datasets.md#motion-statistics-and-filter).

Per pair: ``mse`` between the original-resolution frames (0-255, every channel), and the 99.9th,
80th and 0.01th percentiles of the flow magnitude, with both frames resized anisotropically to
``size`` x ``size`` (PIL bilinear, as the original) and the flow in those pixels. The original
ran RAFT one pair at a time (2-3 days, flowmag #1) and broke its json when the batch grew; here
frames are decoded in DataLoader workers, flow runs on whole batches, and one record is still
written per pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from motionmag.data.video_index import FrameReader, VideoFrames

STAT_COLUMNS = ["mse", "p99_9", "p80", "p0_01"]
QUANTILES = (0.999, 0.80, 0.0001)  # the 99.9th, 80th and 0.01th percentiles


@dataclass(frozen=True)
class PairFilter:
    """Keep a pair iff mse > mse_min and p99.9 <= p99_9_max and p80 <= p80_max and p0.01 <= p0_01_max:
    not a duplicate, no large motion, most pixels under 2 px, and some pixels still (no camera pan)."""

    mse_min: float = 10.0
    p99_9_max: float = 20.0
    p80_max: float = 2.0
    p0_01_max: float = 0.1

    def keep(self, mse, p99_9, p80, p0_01):
        """Works on scalars and on numpy arrays / pandas columns alike."""
        return (mse > self.mse_min) & (p99_9 <= self.p99_9_max) & (p80 <= self.p80_max) & (p0_01 <= self.p0_01_max)

    def reason(self, mse, p99_9, p80, p0_01) -> str:
        """Why a pair is dropped ("" when kept): the first failed test, in the order above."""
        for failed, why in ((mse <= self.mse_min, "duplicate"), (p99_9 > self.p99_9_max, "large motion"),
                            (p80 > self.p80_max, "most pixels move"), (p0_01 > self.p0_01_max, "no still pixels")):
            if failed:
                return why
        return ""


def percentiles(values: torch.Tensor, quantiles=QUANTILES) -> torch.Tensor:
    """(B, N) -> (B, len(quantiles)), numpy's default ("linear") interpolation. ``torch.quantile``
    refuses inputs over 16M elements, which a batch of 512^2 flows exceeds."""
    ordered = values.sort(dim=1).values
    n = ordered.shape[1]
    out = []
    for q in quantiles:
        pos = q * (n - 1)
        lo = int(np.floor(pos))
        hi = min(lo + 1, n - 1)
        out.append(ordered[:, lo] + (ordered[:, hi] - ordered[:, lo]) * (pos - lo))
    return torch.stack(out, dim=1)


class CandidateFrames(torch.utils.data.Dataset):
    """Candidate rows -> ((2, 3, size, size) uint8 frames for the flow model, mse at full size)."""

    def __init__(self, videos: list[VideoFrames], rows: list[dict], size: int):
        self.reader, self.rows, self.size = FrameReader(videos), rows, size

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, k: int):
        row = self.rows[k]
        a, b = self.reader(row["video"], row["i"]), self.reader(row["video"], row["j"])
        if a.shape != b.shape:
            b = np.asarray(Image.fromarray(b).resize(a.shape[1::-1], Image.BILINEAR))
        mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
        small = [np.asarray(Image.fromarray(f).resize((self.size, self.size), Image.BILINEAR)) for f in (a, b)]
        return torch.from_numpy(np.stack(small)).permute(0, 3, 1, 2), mse


def pair_statistics(flow_model, dataset: CandidateFrames, batch_size: int = 16, num_workers: int = 2,
                    device: str | torch.device = "cpu", progress: bool = True) -> np.ndarray:
    """(N, 4) float64 rows of STAT_COLUMNS, one per candidate, in order."""
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, num_workers=num_workers,
                                         pin_memory=torch.device(device).type == "cuda",
                                         persistent_workers=False, shuffle=False)
    out = np.zeros((len(dataset), len(STAT_COLUMNS)))
    at = 0
    with torch.inference_mode(), tqdm(total=len(dataset), unit="pair", disable=not progress) as bar:
        for frames, mse in loader:
            frames = frames.to(device, non_blocking=True).float().div_(255.0)
            flow = flow_model(frames[:, 0], frames[:, 1])  # (B, 2, size, size), A -> B
            norm = flow.float().norm(dim=1).flatten(1)
            n = len(mse)
            out[at:at + n, 0] = mse.double().numpy()
            out[at:at + n, 1:] = percentiles(norm).double().cpu().numpy()
            at += n
            bar.update(n)
    return out

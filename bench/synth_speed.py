"""Synthetic Oh-style sets: generation speed, storage and DataLoader throughput (BENCHMARKS.md).

    python bench/synth_speed.py generate [--samples 12] [--repeats 3] [--source demo|coco-voc] [--recipe ...]
    python bench/synth_speed.py storage  [--samples 24]
    python bench/synth_speed.py loader   [--samples 64] [--workers 0 2] [--repeats 3]

generate: one core (OpenCV single-threaded) makes whole shards (render + encode + HDF5), median
samples/s over repeats; then two shard jobs at once, as Snakemake runs them, for the per-machine
rate. storage: bytes per sample in our shards against PNG (what the released set uses: about
909 KB per sample, 90.9 GB of zips for 100k) measured on the same frames. loader: samples per
second through a DataLoader (decode four frames, to tensors, batch 4), WebP shards against the
same samples PNG-encoded.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

RELEASED_BYTES_PER_SAMPLE = (22.5 + 23.1 + 22.6 + 22.7) * 1e9 / 100_000  # docs/synthetic.md#the-papers-recipe


def fake_coco_voc(root: Path) -> dict:
    """COCO/VOC-shaped folders at the real sizes (640x480 JPEG backgrounds, 500x375 VOC photos with
    two instance masks each), so that generation pays the real decoding costs."""
    from PIL import Image
    from scipy import ndimage
    from skimage import data as skdata

    from motionmag.synth.sources import DEMO_IMAGES, build_index

    coco, voc = root / "train2017", root / "VOC2012"
    for sub in (coco, voc / "JPEGImages", voc / "SegmentationObject", voc / "ImageSets/Segmentation"):
        sub.mkdir(parents=True)
    names = []
    rng = np.random.default_rng(0)
    for i in range(40):
        photo = getattr(skdata, DEMO_IMAGES[i % len(DEMO_IMAGES)])()
        photo = np.repeat(photo[..., None], 3, -1) if photo.ndim == 2 else photo[..., :3]
        cv2.imwrite(str(coco / f"{i:012d}.jpg"), cv2.resize(photo, (640, 480))[..., ::-1])
        name = f"2008_{i:06d}"
        names.append(name)
        cv2.imwrite(str(voc / "JPEGImages" / f"{name}.jpg"), cv2.resize(photo, (500, 375))[..., ::-1])
        ids = np.zeros((375, 500), np.uint8)
        for k in (1, 2):
            cy, cx, ry, rx = rng.integers(80, 300), rng.integers(80, 420), rng.integers(30, 90), rng.integers(30, 90)
            yy, xx = np.mgrid[:375, :500]
            ids[((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1] = k
        ids[ndimage.binary_dilation(ids > 0, iterations=2) & ~ndimage.binary_erosion(ids > 0, iterations=2)] = 255
        png = Image.fromarray(ids, mode="P")
        png.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * (3 * 252) + [224, 224, 192])
        png.save(voc / "SegmentationObject" / f"{name}.png")
    (voc / "ImageSets/Segmentation/trainval.txt").write_text("\n".join(names) + "\n")
    return build_index("coco-voc", coco, voc)


def source_index(args, tmp: Path) -> dict:
    from motionmag.synth.sources import build_index

    return fake_coco_voc(tmp / "sources") if args.source == "coco-voc" else build_index("demo")


def settings(recipe: str, samples: int, seed: int = 0) -> dict:
    return dict(recipe=recipe, samples=samples, shard_size=samples, seed=seed)


def generate(args) -> dict:
    from motionmag.synth.generate import Generator, write_shard
    from motionmag.synth.sources import write_index

    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        index = source_index(args, Path(tmp))
        write_index(index, Path(tmp) / "index.json")
        Generator(args.recipe, index).sample(0)  # warm the source cache
        rates, render = [], []
        for r in range(args.repeats):
            start = time.perf_counter()
            write_shard(Path(tmp) / f"s{r}.h5", settings(args.recipe, args.samples, seed=r), index, 0)
            rates.append(args.samples / (time.perf_counter() - start))
        generator = Generator(args.recipe, index, seed=99)
        for i in range(args.samples):
            t = time.perf_counter()
            generator.sample(i)
            render.append(time.perf_counter() - t)
        # two shard jobs at once, as on a 2-core node
        code = ("import sys, time; from motionmag.synth.generate import write_shard; "
                f"t = time.perf_counter(); write_shard(sys.argv[1], dict(recipe={args.recipe!r}, samples={args.samples}, seed=int(sys.argv[2])), "
                f"{str(Path(tmp) / 'index.json')!r}, 0); print(time.perf_counter() - t)")
        jobs = [subprocess.Popen([sys.executable, "-c", code, str(Path(tmp) / f"p{k}.h5"), str(10 + k)], stdout=subprocess.PIPE, text=True)
                for k in range(2)]
        seconds = [float(job.communicate()[0]) for job in jobs]  # each job's own time, without its start-up
        parallel = 2 * args.samples / max(seconds)
    return dict(recipe=args.recipe, source=args.source, samples=args.samples, repeats=args.repeats,
                samples_per_s_one_core=statistics.median(rates), runs=rates,
                render_only_s_per_sample=statistics.median(render),
                samples_per_s_two_jobs=parallel, target_per_core=2.0,
                ratio_to_target=statistics.median(rates) / 2.0)


def storage(args) -> dict:
    from motionmag.synth.samples import FRAMES
    from motionmag.synth.generate import Generator
    from motionmag.synth.sources import build_index
    from motionmag.data.codecs import encode_frame

    generator = Generator(args.recipe, build_index("demo"))
    sizes = {"webp (ours)": [], "png level 3 (cv2, our pairs)": [], "png level 9": []}
    for i in range(args.samples):
        frames = generator.sample(i)[0]
        sizes["webp (ours)"].append(sum(len(encode_frame(frames[n], "webp")) for n in FRAMES))
        sizes["png level 3 (cv2, our pairs)"].append(sum(len(encode_frame(frames[n], "png")) for n in FRAMES))
        sizes["png level 9"].append(sum(len(cv2.imencode(".png", frames[n][..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])[1]) for n in FRAMES))
    mean = {k: float(np.mean(v)) for k, v in sizes.items()}
    with tempfile.TemporaryDirectory() as tmp:
        from motionmag.synth.generate import write_shard

        shard = Path(tmp) / "s.h5"
        write_shard(shard, settings(args.recipe, args.samples), build_index("demo"), 0)
        in_shard = shard.stat().st_size / args.samples
    return dict(samples=args.samples, bytes_per_sample=mean, shard_bytes_per_sample=in_shard,
                released_png_bytes_per_sample=RELEASED_BYTES_PER_SAMPLE,
                ratio_shard_to_released=in_shard / RELEASED_BYTES_PER_SAMPLE,
                ratio_webp_to_png9_same_frames=mean["webp (ours)"] / mean["png level 9"],
                full_set_gb=in_shard * 100_000 / 1e9)


def loader(args) -> dict:
    import torch

    from motionmag.synth.samples import SyntheticSet, write_synthetic_set
    from motionmag.synth.generate import Generator, write_shard
    from motionmag.synth.sources import build_index

    torch.set_num_threads(1)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        webp, png = Path(tmp) / "webp.h5", Path(tmp) / "png.h5"
        write_shard(webp, settings(args.recipe, args.samples), build_index("demo"), 0)
        generator = Generator(args.recipe, build_index("demo"))
        write_synthetic_set(png, (generator.sample(i) for i in range(args.samples)), encoding="png")

        def collate(batch):
            frames = torch.from_numpy(np.stack([b[0] for b in batch])).permute(0, 1, 4, 2, 3).float().div_(255)
            return frames, torch.tensor([b[1] for b in batch])

        for name, path in (("webp", webp), ("png", png)):
            for workers in args.workers:
                rates = []
                for _ in range(args.repeats):
                    data = torch.utils.data.DataLoader(SyntheticSet(path), batch_size=4, shuffle=True, num_workers=workers,
                                                       collate_fn=collate, persistent_workers=False)
                    start = time.perf_counter()
                    count = sum(len(b[1]) for b in data)
                    rates.append(count / (time.perf_counter() - start))
                results[f"{name}, {workers} workers"] = statistics.median(rates)
    return dict(samples=args.samples, batch=4, samples_per_s=results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, default in (("generate", 12), ("storage", 24), ("loader", 64)):
        p = commands.add_parser(name)
        p.add_argument("--samples", type=int, default=default)
        p.add_argument("--recipe", default="config/synthetic/oh2018.yaml")
        p.add_argument("--repeats", type=int, default=3)
        if name == "generate":
            p.add_argument("--source", choices=["demo", "coco-voc"], default="demo",
                           help="coco-voc: folders shaped like COCO and VOC (real image sizes), made for the run")
        if name == "loader":
            p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    args = parser.parse_args()
    print(json.dumps(globals()[args.command](args), indent=1))


if __name__ == "__main__":
    main()

"""Where backgrounds and foreground objects come from: an index (JSON) and a reader.

Two sources, one interface (``backgrounds``/``objects`` counts, ``background(i)`` -> float RGB,
``background_name(i)``, ``object(j)`` -> (float RGB crop, soft mask, name)):

- ``coco-voc`` (the paper's): MS COCO train2017 photos as backgrounds, PASCAL VOC 2012
  object instances (SegmentationObject PNGs) as foregrounds. VOC 2012 trainval has 2,913
  segmented images with about 7,000 instances, the paper's "7,000 segmented objects".
- ``demo`` (offline): photos bundled in the scikit-image wheel as backgrounds, and objects cut
  from them with generated masks (smooth random blobs), so the demo and tests need no download.
  ``demo-heldout`` is the same without the photos the demo clips are rendered from (the released
  demo weights train on it).

The index pins the exact file and instance lists, so a set is reproducible from (index, recipe,
seed) and every shard job reads the same lists without rescanning thousands of files.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage

from motionmag.errors import MotionmagError

INDEX_VERSION = 1
DEMO_IMAGES = ("astronaut", "brick", "camera", "chelsea", "coffee", "grass", "gravel", "rocket",
               "immunohistochemistry", "hubble_deep_field", "retina", "colorwheel", "coins", "moon")
# the demo clips (config/config.yaml) are rendered from these: source "demo-heldout" leaves them
# out, so that models trained on it are scored by the demo on photos they never saw
DEMO_CLIP_IMAGES = ("chelsea", "gravel", "brick")
DEMO_OBJECTS = 1000  # generated (image, crop, blob) triples
VOC_VOID = 255  # VOC marks object boundaries and difficult regions with 255
MIN_OBJECT_AREA = 100  # px: smaller VOC instances are fragments, not pasteable objects


def _as_float_rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    scale = 255.0 if image.dtype == np.uint8 else 1.0
    image = image.astype(np.float32) / scale
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])


# ---------------------------------------------------------------------------------- demo source


@lru_cache(maxsize=None)
def _demo_image(name: str) -> np.ndarray:
    from skimage import data as skdata

    image = _as_float_rgb(getattr(skdata, name)())
    image.flags.writeable = False
    return image


def _blob_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A smooth random shape: low-pass noise plus a centred bump, thresholded, largest piece kept."""
    noise = ndimage.gaussian_filter(rng.standard_normal((height, width)), min(height, width) / 6, mode="wrap")
    noise /= noise.std() + 1e-12
    ys, xs = np.mgrid[0:height, 0:width]
    bump = 1.0 - ((2 * xs / (width - 1) - 1) ** 2 + (2 * ys / (height - 1) - 1) ** 2)
    inside = noise * 0.6 + bump * 3.0 > 1.2
    labels, count = ndimage.label(inside)
    if count > 1:
        sizes = ndimage.sum(inside, labels, range(1, count + 1))
        inside = labels == 1 + int(np.argmax(sizes))
    return inside.astype(np.float32)


class DemoSource:
    kind = "demo"

    def __init__(self, index: dict):
        self.images = tuple(index["backgrounds"])
        self.count = int(index["objects"])

    @property
    def backgrounds(self) -> int:
        return len(self.images)

    @property
    def objects(self) -> int:
        return self.count

    def background_name(self, i: int) -> str:
        return f"skimage:{self.images[i]}"

    def background(self, i: int) -> np.ndarray:
        return _demo_image(self.images[i])

    def object(self, j: int) -> tuple[np.ndarray, np.ndarray, str]:
        rng = np.random.default_rng([INDEX_VERSION, j])
        name = self.images[int(rng.integers(len(self.images)))]
        image = _demo_image(name)
        h, w = (int(v) for v in rng.integers(48, 161, 2))
        h, w = min(h, image.shape[0]), min(w, image.shape[1])
        y, x = int(rng.integers(0, image.shape[0] - h + 1)), int(rng.integers(0, image.shape[1] - w + 1))
        return image[y : y + h, x : x + w], _blob_mask(rng, h, w), f"skimage:{name}[{y}:{y + h},{x}:{x + w}]#{j}"


# ------------------------------------------------------------------------------ COCO + VOC source


def _read_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise MotionmagError(f"{path}: cannot read image")
    return _as_float_rgb(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))


@lru_cache(maxsize=2)  # a scene reads its background twice (its size, then its pixels)
def _read_rgb_cached(path: Path) -> np.ndarray:
    image = _read_rgb(path)
    image.flags.writeable = False
    return image


def _read_indexed(path: Path) -> np.ndarray:
    """A palette PNG's indices (cv2 would convert the palette to colours)."""
    from PIL import Image

    with Image.open(path) as image:
        if image.mode != "P":
            raise MotionmagError(f"{path}: expected a palette PNG of instance ids (VOC SegmentationObject)")
        return np.asarray(image)


class CocoVocSource:
    kind = "coco-voc"

    def __init__(self, index: dict):
        self.coco, self.voc = Path(index["coco"]), Path(index["voc"])
        self.images = index["backgrounds"]
        self.instances = index["instances"]  # [voc image id, instance id, x0, y0, x1, y1]

    @property
    def backgrounds(self) -> int:
        return len(self.images)

    @property
    def objects(self) -> int:
        return len(self.instances)

    def background_name(self, i: int) -> str:
        return self.images[i]

    def background(self, i: int) -> np.ndarray:
        return _read_rgb_cached(self.coco / self.images[i])

    def object(self, j: int) -> tuple[np.ndarray, np.ndarray, str]:
        name, instance, x0, y0, x1, y1 = self.instances[j]
        image = _read_rgb(self.voc / "JPEGImages" / f"{name}.jpg")
        ids = _read_indexed(self.voc / "SegmentationObject" / f"{name}.png")
        pad = 4  # context for the interpolation kernel and the void band
        y0, x0 = max(0, y0 - pad), max(0, x0 - pad)
        y1, x1 = min(ids.shape[0], y1 + pad), min(ids.shape[1], x1 + pad)
        ids = ids[y0:y1, x0:x1]
        inside = ids == instance
        # VOC's 5-px void band straddles the true outline: take its inner half as half-covered
        band = ndimage.binary_dilation(inside, iterations=2) & (ids == VOC_VOID)
        mask = inside.astype(np.float32) + 0.5 * band
        return image[y0:y1, x0:x1], mask, f"voc:{name}#{instance}"


def _scan_voc(voc: Path) -> list[list]:
    listing = voc / "ImageSets" / "Segmentation" / "trainval.txt"
    if not listing.is_file():
        raise MotionmagError(f"{voc}: not a VOC 2012 folder (no ImageSets/Segmentation/trainval.txt)")
    instances = []
    for name in listing.read_text().split():
        ids = _read_indexed(voc / "SegmentationObject" / f"{name}.png")
        for instance in np.unique(ids):
            if instance in (0, VOC_VOID):
                continue
            ys, xs = np.nonzero(ids == instance)
            if len(ys) >= MIN_OBJECT_AREA:
                instances.append([name, int(instance), int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1])
    return instances


def build_index(kind: str, coco: str | Path | None = None, voc: str | Path | None = None) -> dict:
    """The source index: what ``open_source`` reads (JSON-able)."""
    if kind in ("demo", "demo-heldout"):
        images = [name for name in DEMO_IMAGES if kind == "demo" or name not in DEMO_CLIP_IMAGES]
        return dict(kind="demo", version=INDEX_VERSION, backgrounds=images, objects=DEMO_OBJECTS)
    if kind != "coco-voc":
        raise MotionmagError(f"unknown synthetic source {kind!r}; choose demo, demo-heldout or coco-voc")
    if coco is None or voc is None:
        raise MotionmagError("the coco-voc source needs the COCO train2017 folder and the VOC2012 folder")
    coco, voc = Path(coco).resolve(), Path(voc).resolve()  # shard jobs may run elsewhere
    if not coco.is_dir():
        raise MotionmagError(f"{coco}: COCO image folder not found")
    backgrounds = sorted(e.name for e in os.scandir(coco) if e.name.lower().endswith((".jpg", ".jpeg", ".png")))
    if not backgrounds:
        raise MotionmagError(f"{coco}: no images")
    instances = _scan_voc(voc)
    if not instances:
        raise MotionmagError(f"{voc}: no object instances in SegmentationObject")
    return dict(kind="coco-voc", version=INDEX_VERSION, coco=str(coco), voc=str(voc), backgrounds=backgrounds, instances=instances)


def write_index(index: dict, path: str | Path) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(index))
    os.replace(tmp, path)


def open_source(index: dict | str | Path) -> DemoSource | CocoVocSource:
    where = "source index"
    if not isinstance(index, dict):
        path = Path(index)
        where = str(path)
        if not path.is_file():
            raise MotionmagError(f"{path}: source index not found")
        try:
            index = json.loads(path.read_text())
        except json.JSONDecodeError:
            index = None
    kinds = {"demo": DemoSource, "coco-voc": CocoVocSource}
    if not isinstance(index, dict) or index.get("kind") not in kinds or index.get("version") != INDEX_VERSION:
        raise MotionmagError(f"{where}: not a synthetic source index (kind demo or coco-voc, version {INDEX_VERSION})")
    try:
        return kinds[index["kind"]](index)
    except KeyError as err:
        raise MotionmagError(f"{where}: a {index['kind']} source index lacks {err}") from None

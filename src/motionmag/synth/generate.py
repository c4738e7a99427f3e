"""Synthetic sets as shards: training sets and the paper's evaluation sweeps
(docs/oh2018.md#the-papers-evaluation).

Every sample is a pure function of (recipe, source index, seed, sample index): its random
generator is seeded with (seed, index), so any shard can be regenerated alone, on any machine,
and a set does not depend on how it was split into shards.

A *set* config (``config.yaml: synthetic.<name>``) is::

    recipe:     config/synthetic/oh2018.yaml
    samples:    100000        # training samples, or scenes per level for a sweep
    shard_size: 1000
    seed:       0
    sweep:                    # optional: an evaluation sweep instead of a training set
      kind:       subpixel    # input motion 0.04-1 px, alpha = magnified / motion, no noise
      levels:     [0.04, 1.0, 15]   # low, high, count (log-spaced)
      magnified:  10
    # or kind: noise -- fixed motion (0.05 px), static background, noise factor 0.01-100

Sweep shards hold the same scenes at every level (scene-major), so curves compare like with like.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from motionmag.config import load_yaml_config, validate_config
from motionmag.synth.samples import write_synthetic_set
from motionmag.errors import MotionmagError
from motionmag.synth.render import SceneRenderer, dither, draw_scene, subset_cycle
from motionmag.synth.sources import open_source

RECIPE_SCHEMA = Path(__file__).with_name("recipe.schema.yaml")
SWEEP_KINDS = ("subpixel", "noise")

Sample = tuple[dict[str, np.ndarray], float, dict]


def load_recipe(recipe: str | Path | dict) -> dict:
    """A recipe file (or an already-read mapping), validated, defaults filled in."""
    if isinstance(recipe, dict):
        try:
            return validate_config(dict(recipe), RECIPE_SCHEMA)
        except MotionmagError as err:
            raise MotionmagError(f"synthetic recipe: {err}") from None
    return load_yaml_config(recipe, RECIPE_SCHEMA, "synthetic recipe")


def sweep_levels(sweep: dict) -> np.ndarray:
    low, high, count = sweep["levels"]
    return np.geomspace(low, high, int(count))


class Generator:
    """Makes samples of one recipe from one source index."""

    def __init__(self, recipe: str | Path | dict, source_index, seed: int = 0):
        self.recipe = load_recipe(recipe)
        self.source = open_source(source_index)
        self.seed = int(seed)
        self.renderer = SceneRenderer(self.recipe, self.source)
        try:
            self.cycle = subset_cycle(self.recipe["subsets"])
        except ValueError as err:
            raise MotionmagError(f"synthetic recipe: {err}") from None

    def _rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, *key])

    def _meta(self, scene: dict, index: int, **extra) -> dict:
        bg = scene["background"]
        return dict(index=index, seed=self.seed, recipe=self.recipe["name"], source=self.source.kind,
                    background_file=self.source.background_name(bg["source_index"]), **extra, **scene)

    def sample(self, index: int) -> Sample:
        """Training sample ``index``: frames, alpha, metadata."""
        rng = self._rng(index)
        scene = draw_scene(self.recipe, self.source, rng, self.cycle[index % len(self.cycle)])
        return self.renderer.render(scene, rng), scene["alpha"], self._meta(scene, index)

    def sweep_scene(self, index: int, sweep: dict, level: float) -> dict:
        """Scene ``index`` of a sweep at one level: the same layout at every level; the objects
        move together by the input motion, the background at right angles to them (the paper:
        "in a different direction"); no colour perturbation (frame B = frame C), no blur."""
        rng = self._rng(index)
        scene = draw_scene(self.recipe, self.source, rng, "normal")
        scene.pop("alpha_across", None), scene.pop("theta", None)  # sweeps are generic: one alpha
        motion = level if sweep["kind"] == "subpixel" else sweep["motion"]
        scene["alpha"] = sweep["magnified"] / motion
        scene["subset"] = f"sweep-{sweep['kind']}"
        direction = scene["background"]["motion_dir"]
        for layer in (scene["background"], *scene["objects"]):
            layer.update(color_add=[0.0] * 3, color_mult=[1.0] * 3, motion_amount=motion, motion_dir=direction)
        scene["background"].update(blur=0.0, motion_dir=(direction + math.pi / 2) % (2 * math.pi))
        if sweep["kind"] == "noise":  # the paper's noise test keeps the background still
            scene["background"]["motion_amount"] = 0.0
        return scene

    def sweep_sample(self, index: int, sweep: dict, level_index: int) -> Sample:
        """Sweep sample: frames A and B are the network's inputs (noisy in the noise sweep),
        C is B without noise, amplified is the noise-free ground truth."""
        level = float(sweep_levels(sweep)[level_index])
        scene = self.sweep_scene(index, sweep, level)
        rng = self._rng(index, level_index, 1)
        frames = self.renderer.render_float(scene)
        if sweep["kind"] == "noise":
            for name in ("frame_a", "frame_b"):
                frames[name] = add_photon_noise(frames[name], level, rng)
        frames = {name: dither(frame, rng) for name, frame in frames.items()}
        meta = self._meta(scene, index, sweep=sweep["kind"], level=level, level_index=level_index)
        return frames, scene["alpha"], meta


def add_photon_noise(frame: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    """Photon-like noise (docs/oh2018.md#the-papers-evaluation): a noise image whose variance
    equals each pixel's value on the 0-255 scale, times ``factor``. Clipped to [0, 1]."""
    std = factor * np.sqrt(frame * 255.0) / 255.0
    return np.clip(frame + std * rng.standard_normal(frame.shape, dtype=np.float32), 0.0, 1.0).astype(np.float32)


def set_settings(settings: dict, name: str = "(unnamed)") -> dict:
    """A set config with its defaults filled in (shard_size = all, seed 0, sweep magnified 10 px
    and motion 0.05 px); raises MotionmagError naming the set when it cannot work."""
    settings = {"seed": 0, **settings}
    settings.setdefault("shard_size", settings.get("samples"))
    if not all(isinstance(settings.get(k), int) and settings[k] >= 1 for k in ("samples", "shard_size")):
        raise MotionmagError(f"synthetic set {name}: samples and shard_size are integers >= 1")
    sweep = settings.get("sweep")
    if sweep is not None:
        sweep = settings["sweep"] = {"magnified": 10.0, "motion": 0.05, **sweep}
        if sweep.get("kind") not in SWEEP_KINDS:
            raise MotionmagError(f"synthetic set {name}: sweep kind is {' or '.join(SWEEP_KINDS)}")
        low, high, count = sweep["levels"]
        if not (0 < low <= high and int(count) >= 1 and sweep["magnified"] > 0 and sweep["motion"] > 0):
            raise MotionmagError(f"synthetic set {name}: sweep levels are [low > 0, high >= low, count >= 1]")
    return settings


def shard_count(settings: dict) -> int:
    return max(1, math.ceil(settings["samples"] / settings["shard_size"]))


def check_shard(settings: dict, shard: int) -> None:
    count = shard_count(settings)
    if not 0 <= shard < count:
        raise MotionmagError(f"shard {shard} is out of range: the set has {count} shards (0-{count - 1})")


def shard_samples(generator: Generator, settings: dict, shard: int) -> Iterator[Sample]:
    """The samples of shard ``shard`` of a set (training samples, or a sweep's scenes x levels)."""
    settings = set_settings(settings)
    check_shard(settings, shard)
    start = shard * settings["shard_size"]
    indices = range(start, min(settings["samples"], start + settings["shard_size"]))
    sweep = settings.get("sweep")
    for index in indices:
        if sweep is None:
            yield generator.sample(index)
        else:
            for level_index in range(len(sweep_levels(sweep))):
                yield generator.sweep_sample(index, sweep, level_index)


def shard_length(settings: dict, shard: int) -> int:
    start = shard * settings["shard_size"]
    scenes = max(0, min(settings["samples"], start + settings["shard_size"]) - start)
    sweep = settings.get("sweep")
    return scenes * (len(sweep_levels(sweep)) if sweep else 1)


def write_shard(path: str | Path, settings: dict, source_index, shard: int, progress: bool = False, threads: int = 1) -> int:
    """Generate one shard into ``path`` (atomically); returns its sample count."""
    from tqdm import tqdm

    settings = set_settings(settings)
    check_shard(settings, shard)
    generator = Generator(settings["recipe"], source_index, settings["seed"])
    samples = tqdm(shard_samples(generator, settings, shard), total=shard_length(settings, shard),
                   desc=f"shard {shard}", unit="sample", disable=not progress)
    attrs = dict(recipe=generator.recipe, source=generator.source.kind, seed=generator.seed, shard=shard,
                 shard_size=settings["shard_size"], sweep=settings.get("sweep"),
                 levels=sweep_levels(settings["sweep"]).tolist() if settings.get("sweep") else None)
    previous = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        axial = generator.recipe.get("axial") is not None and settings.get("sweep") is None
        return write_synthetic_set(path, samples, encoding=generator.recipe["encoding"], attrs=attrs, axial=axial)
    finally:
        cv2.setNumThreads(previous)

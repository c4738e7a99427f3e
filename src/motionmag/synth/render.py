"""Draw a scene and render its four frames (docs/synthetic.md#the-papers-recipe).

A scene is a background layer and 7-15 object layers, each with its own placement (centre,
zoom, aspect, orientation), translation d (motion_dir, motion_amount) and colour perturbation.
Frame A is the scene at rest, C with every layer moved by d, the target ("amplified") with every
layer moved by alpha * d; frame B is C with each layer's colours perturbed (x * mult + add), and
the target carries the same perturbation. Objects are pasted in order, so they occlude each other
and the background. Per-axis samples (recipe key ``axial``, for Axial-MM) move every layer in the
target by alpha along an axis at angle theta and by alpha_across across it (:func:`target_transform`).

Rendering follows the paper: sources are area-downsampled first (demosaicking), each layer is
resampled once by bicubic interpolation straight from its source (zoom, rotation and the
sub-pixel translation in one affine warp) onto a canvas ``render_scale`` times the output size,
and the canvas is Gaussian pre-filtered and box-downsampled. Frames are quantised with a dither
(round up with probability equal to the residual). Coordinates are pixel-centred: output pixel
x covers canvas pixels [r x, r x + r).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

SUBSETS = ("normal", "blurred_background", "background_only", "static", "static_background")


def subset_cycle(shares: dict[str, int]) -> list[str]:
    """Sample i belongs to ``cycle[i % len(cycle)]``: exact shares, interleaved."""
    counts = {name: int(shares.get(name, 0)) for name in SUBSETS}
    cycle, left = [], dict(counts)
    while any(left.values()):  # round-robin so each subset is spread along the set
        for name in SUBSETS:
            if left[name]:
                cycle.append(name)
                left[name] -= 1
    if not cycle:
        raise ValueError("subsets: every share is 0")
    return cycle


def _uniform(rng: np.random.Generator, low_high) -> float:
    return float(rng.uniform(low_high[0], low_high[1]))


def _log_uniform(rng: np.random.Generator, low_high) -> float:
    return float(math.exp(rng.uniform(math.log(low_high[0]), math.log(low_high[1]))))


def draw_alpha(recipe: dict, rng: np.random.Generator) -> float:
    law = _log_uniform if recipe["alpha"]["law"] == "log-uniform" else _uniform
    return law(rng, recipe["alpha"]["range"])


def _colour(recipe: dict, rng: np.random.Generator) -> dict:
    return dict(color_add=rng.uniform(-recipe["color_add"], recipe["color_add"], 3).tolist(),
                color_mult=(1 + rng.uniform(-recipe["color_mult"], recipe["color_mult"], 3)).tolist())


def draw_axial(recipe: dict, rng: np.random.Generator, alpha: float) -> dict:
    """A per-axis sample's angle (radians) and factor across it (recipe key ``axial``). Always
    three draws, so a sample's other draws do not depend on which case it is."""
    axial = recipe["axial"]
    theta = math.radians(_uniform(rng, axial["theta"]))
    law = _log_uniform if recipe["alpha"]["law"] == "log-uniform" else _uniform
    across = law(rng, axial["alpha_across"] or recipe["alpha"]["range"])
    if rng.random() < axial["generic"]:
        across = alpha
    return dict(alpha_across=across, theta=theta)


def target_transform(scene: dict) -> np.ndarray:
    """The 2x2 map from a layer's motion d to its motion in the target, in output px (x right, y
    down): alpha I for Oh's samples; for per-axis samples alpha u u^T + alpha_across v v^T, with
    u = (cos theta, -sin theta) the axis at theta counter-clockwise as displayed and v across it."""
    if "theta" not in scene:
        return scene["alpha"] * np.eye(2)
    c, s = math.cos(scene["theta"]), math.sin(scene["theta"])
    u, v = np.array([c, -s]), np.array([s, c])
    return scene["alpha"] * np.outer(u, u) + scene["alpha_across"] * np.outer(v, v)


def draw_scene(recipe: dict, source, rng: np.random.Generator, subset: str) -> dict:
    """A scene (JSON-able: it is the sample's metadata) of the given subset."""
    size = recipe["size"]
    alpha = draw_alpha(recipe, rng)
    axial = draw_axial(recipe, rng, alpha) if recipe.get("axial") is not None else {}
    limit = min(recipe["max_motion"], recipe["max_magnified"] / max(alpha, axial.get("alpha_across", alpha)))

    def motion(moves: bool) -> dict:
        direction, amount = float(rng.uniform(0, 2 * math.pi)), float(rng.uniform(0, limit))
        return dict(motion_dir=direction, motion_amount=amount if moves else 0.0)

    # background: a random window of the (downsampled) photo, with room for the largest motion
    b = int(rng.integers(source.backgrounds))
    h, w = background_shape(source.background(b).shape, recipe)
    reach = size / 2 + recipe["max_magnified"]  # output px from the window's centre to its edge, moved
    zoom = max(1.0, 2 * reach / w, 2 * reach / h)
    px, py = _uniform(rng, (reach / zoom, w - reach / zoom)), _uniform(rng, (reach / zoom, h - reach / zoom))
    background = dict(
        fg_idx=None, source_index=b, center=[size / 2 + zoom * (w / 2 - px), size / 2 + zoom * (h / 2 - py)],
        scaling=zoom, aspect_ratio=1.0, orientation=0.0,
        **motion(subset not in ("static", "static_background")), **_colour(recipe, rng),
        blur=_uniform(rng, recipe["background_blur"]) if subset == "blurred_background" else 0.0,
    )
    count = int(rng.integers(recipe["objects"][0], recipe["objects"][1] + 1))
    chosen = rng.choice(source.objects, size=count, replace=count > source.objects)
    objects = []
    for j in chosen:
        objects.append(dict(
            fg_idx=int(j), center=rng.uniform(0, size, 2).tolist(), scaling=_uniform(rng, recipe["object_scale"]),
            aspect_ratio=_log_uniform(rng, recipe["aspect_ratio"]), orientation=float(rng.uniform(0, 2 * math.pi)),
            **motion(subset not in ("static", "background_only")), **_colour(recipe, rng),
        ))
    return dict(subset=subset, alpha=alpha, **axial, third_frame_motion=1.0, background=background, objects=objects)


def _downsampled_shape(shape, factor: float) -> tuple[int, int]:
    return max(1, round(shape[0] * factor)), max(1, round(shape[1] * factor))


def background_shape(shape, recipe: dict) -> tuple[int, int]:
    """A background photo is downsampled by ``source_downsample``, but no further than it takes
    to keep a window of the frame plus the largest motion at source scale (COCO's 640x480 at 384^2
    and 30 px: x0.925); smaller photos are then enlarged by the warp."""
    need = recipe["size"] + 2 * recipe["max_magnified"]
    return _downsampled_shape(shape, min(1.0, max(recipe["source_downsample"], need / min(shape[:2]))))


def _area_resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if image.shape[:2] == shape:
        return image
    return cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)


class _Layer:
    """A layer's source (RGB + coverage, downsampled) and its source -> output affine map at rest."""

    def __init__(self, rgba: np.ndarray, spec: dict, scale: int, background: bool):
        self.spec, self.background = spec, background
        zx = spec["scaling"] * math.sqrt(spec["aspect_ratio"])
        zy = spec["scaling"] / math.sqrt(spec["aspect_ratio"])
        # minification is done by area averaging first (a bicubic warp would alias)
        shrink = min(1.0, scale * max(zx, zy))
        if shrink < 1.0:
            shape = _downsampled_shape(rgba.shape, shrink)
            sy, sx = shape[0] / rgba.shape[0], shape[1] / rgba.shape[1]
            rgba = _area_resize(rgba, shape)
            zx, zy = zx / sx, zy / sy
        self.rgba = rgba
        h, w = rgba.shape[:2]
        c, s = math.cos(spec["orientation"]), math.sin(spec["orientation"])
        self.linear = np.array([[c * zx, -s * zy], [s * zx, c * zy]])  # output px per source px
        self.source_centre = np.array([(w - 1) / 2, (h - 1) / 2])
        self.motion = spec["motion_amount"] * np.array([math.cos(spec["motion_dir"]), math.sin(spec["motion_dir"])])

    def warp(self, k, canvas: int, scale: int, pad: int = 0):
        """(y0, x0, rgba patch) on the canvas with the layer moved by k * d (k a number, or a 2x2
        map for per-axis targets), or None if off-canvas; a background patch covers the canvas and
        ``pad`` more px on every side."""
        moved = k @ self.motion if isinstance(k, np.ndarray) else k * self.motion
        offset = np.asarray(self.spec["center"]) + moved - self.linear @ self.source_centre
        A = scale * self.linear
        t = scale * (offset + 0.5) - 0.5
        if self.background:
            x0 = y0 = -pad
            x1 = y1 = canvas + pad
            border = cv2.BORDER_REFLECT_101
        else:
            h, w = self.rgba.shape[:2]
            corners = A @ np.array([[-1, w, -1, w], [-1, -1, h, h]], float) + t[:, None]
            x0, y0 = (max(0, int(math.floor(v)) - 2) for v in corners.min(axis=1))
            x1, y1 = (min(canvas, int(math.ceil(v)) + 3) for v in corners.max(axis=1))
            if x0 >= x1 or y0 >= y1:
                return None
            border = cv2.BORDER_CONSTANT
        M = np.concatenate([A, (t - [x0, y0])[:, None]], axis=1)
        patch = cv2.warpAffine(self.rgba, M, (x1 - x0, y1 - y0), flags=cv2.INTER_CUBIC, borderMode=border, borderValue=0)
        return y0, x0, patch


def _perturb(rgb: np.ndarray, spec: dict, coverage: np.ndarray | float = 1.0) -> np.ndarray:
    """x * mult + add on colours premultiplied by their coverage."""
    return rgb * np.asarray(spec["color_mult"], np.float32) + coverage * (np.asarray(spec["color_add"], np.float32) / 255.0)


def dither(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """[0, 1] float -> uint8, rounding up with probability equal to the residual."""
    noise = rng.random(image.shape, dtype=np.float32)
    return np.clip(np.floor(image * 255.0 + noise), 0, 255).astype(np.uint8)


class SceneRenderer:
    """Renders scenes of one recipe from one source."""

    def __init__(self, recipe: dict, source):
        self.recipe, self.source = recipe, source
        self.scale = recipe["render_scale"]
        self.canvas = recipe["size"] * self.scale

    def _layers(self, scene: dict) -> list[_Layer]:
        rgb = self.source.background(scene["background"]["source_index"])
        rgb = _area_resize(rgb, background_shape(rgb.shape, self.recipe))
        rgba = np.dstack([rgb, np.ones(rgb.shape[:2], np.float32)])
        layers = [_Layer(rgba, scene["background"], self.scale, background=True)]
        for spec in scene["objects"]:
            rgb, mask, _ = self.source.object(spec["fg_idx"])
            shape = _downsampled_shape(rgb.shape, self.recipe["source_downsample"])
            # premultiplied by coverage, so resampling never mixes in colour from outside the object
            rgba = np.dstack([rgb * mask[..., None], mask]).astype(np.float32)
            layers.append(_Layer(_area_resize(rgba, shape), spec, self.scale, background=False))
        return layers

    def _geometry(self, layers: list[_Layer], k) -> list:
        """Every layer warped onto the canvas, moved by k * d (k a number or a 2x2 map); the
        background with room for its blur."""
        return [layer.warp(k, self.canvas, self.scale, self._pad(layers[0].spec)) for layer in layers]

    def _pad(self, background: dict) -> int:
        return int(math.ceil(3 * background.get("blur", 0.0) * self.scale))

    def _composite(self, warped: list, layers: list[_Layer], perturbed: bool) -> np.ndarray:
        _, _, patch = warped[0]
        out = patch[..., :3]
        pad = self._pad(layers[0].spec)
        if pad:  # blurred after the warp, on a margin wide enough that the frame moves rigidly
            out = cv2.GaussianBlur(out, (0, 0), layers[0].spec["blur"] * self.scale)[pad:-pad, pad:-pad]
        out = _perturb(out, layers[0].spec) if perturbed else out.copy()
        for item, layer in zip(warped[1:], layers[1:]):
            if item is None:
                continue
            y0, x0, patch = item
            m = np.clip(patch[..., 3:], 0.0, 1.0)
            rgb = _perturb(patch[..., :3], layer.spec, m) if perturbed else patch[..., :3]
            region = out[y0 : y0 + patch.shape[0], x0 : x0 + patch.shape[1]]
            region *= 1.0 - m
            region += rgb
        return out

    def _downsample(self, canvas: np.ndarray) -> np.ndarray:
        sigma = self.recipe["prefilter_sigma"] * self.scale
        if sigma > 0:
            canvas = cv2.GaussianBlur(canvas, (0, 0), sigma, borderType=cv2.BORDER_REFLECT_101)
        size = self.recipe["size"]
        return _area_resize(canvas, (size, size))

    def _labels(self, warped: list) -> np.ndarray:
        """Which layer is on top at each output pixel (0 = background, i = object i): the layer
        covering most of the pixel's canvas area."""
        labels = np.zeros((self.canvas, self.canvas), np.int16)
        for i, item in enumerate(warped[1:], start=1):
            if item is not None:
                y0, x0, patch = item
                region = labels[y0 : y0 + patch.shape[0], x0 : x0 + patch.shape[1]]
                region[patch[..., 3] > 0.5] = i
        size = self.recipe["size"]
        present = np.unique(labels)
        area = np.stack([_area_resize((labels == i).astype(np.float32), (size, size)) for i in present])
        return present[np.argmax(area, axis=0)].astype(np.int16)

    def render_float(self, scene: dict, with_labels: bool = False):
        """Frames by name before quantisation (float32 RGB in [0, 1]); with labels, also the
        top-layer maps of the three geometries (rest, d, alpha * d)."""
        layers = self._layers(scene)
        target = target_transform(scene) if "theta" in scene else scene["alpha"]  # Oh's: the number, as always
        geometry = [self._geometry(layers, k) for k in (0.0, 1.0, target)]
        frames = dict(
            frame_a=self._composite(geometry[0], layers, False),
            frame_b=self._composite(geometry[1], layers, True),
            frame_c=self._composite(geometry[1], layers, False),
            amplified=self._composite(geometry[2], layers, True),
        )
        frames = {name: np.clip(self._downsample(frame), 0.0, 1.0) for name, frame in frames.items()}
        return (frames, [self._labels(g) for g in geometry]) if with_labels else frames

    def render(self, scene: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Frames by name, uint8 RGB, dithered with ``rng``."""
        return {name: dither(frame, rng) for name, frame in self.render_float(scene).items()}

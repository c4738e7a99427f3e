"""``motionmag flow``: the optical-flow models FlowMag trains through and evaluates with, and the
weights manifest's files (flow models' and magnifiers' released networks)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from motionmag.cli._common import add_command, resolve_device
from motionmag.errors import MotionmagError

LIST_EXAMPLES = """\
examples:
  motionmag flow list                                   # models, weights present, differentiable; magnifier weights
  motionmag flow list --json                            # the same, machine-readable
"""

FETCH_EXAMPLES = """\
examples:
  motionmag flow fetch raft-things gmflow-things        # into resources/weights/, sha256-checked
  motionmag flow fetch                                  # every flow model with weights
  motionmag flow fetch axial-mm                         # a magnifier's released network (--checkpoint axial-mm)
"""

RUN_EXAMPLES = """\
examples:
  motionmag flow run a.png b.png -o flow.png            # weight-free DIS
  motionmag flow run a.png b.png --model raft-things -o flow.png --save-flow flow.npy
  motionmag flow run a.png b.png --model raft-things --weights raft-things.pth   # princeton-vl's file
"""

ZOO = "\ngmflow-* and pwcnet need the optional zoo: pip install 'motionmag[zoo]'.\n"
EXAMPLES = LIST_EXAMPLES + "".join(text.removeprefix("examples:\n") for text in (FETCH_EXAMPLES, RUN_EXAMPLES)) + ZOO


def add_parser(subparsers) -> None:
    flow = add_command(subparsers, "flow", help="optical-flow models: list them, fetch their weights, run one on two images",
                       description="The optical-flow zoo that FlowMag trains through and evaluates with.", examples=EXAMPLES)
    commands = flow.add_subparsers(dest="flow_command", required=True)
    listing = add_command(commands, "list", help="every model: kind, differentiable, weights present",
                          description="Every flow model: whether it is differentiable, and whether its weights are present; "
                                      "then the magnifiers' weights in the manifest (for motionmag magnify --checkpoint NAME).",
                          examples=LIST_EXAMPLES)
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(run=run_list)
    fetch = add_command(commands, "fetch", help="download and verify pretrained weights into resources/weights/",
                        description="Download pretrained weights from the manifest (config/weights.yaml) and check their sha256: "
                                    "flow models', or a magnifier's released network (axial-mm, eulermormer, stbvmm, flowmag-raft, ...).",
                        examples=FETCH_EXAMPLES + ZOO)
    fetch.add_argument("models", nargs="*", metavar="MODEL",
                       help="flow model or magnifier weights names, as `motionmag flow list` shows them (default: every flow model with weights)")
    fetch.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    fetch.set_defaults(run=run_fetch)
    estimate = add_command(commands, "run", help="estimate the flow from image A to image B and save it colour-coded",
                           description="Estimate the flow A -> B and write it as a colour-coded image (hue: direction, saturation: magnitude).",
                           examples=RUN_EXAMPLES + ZOO)
    estimate.add_argument("image_a", type=Path, help="first image")
    estimate.add_argument("image_b", type=Path, help="second image, same size")
    estimate.add_argument("-o", "--output", type=Path, default=Path("flow.png"), help="colour-coded flow image (default: flow.png)")
    estimate.add_argument("--model", default="dis", help="flow model (default: dis, weight-free); see `motionmag flow list`")
    estimate.add_argument("--weights", type=Path, help="a checkpoint to load instead of the manifest's (any format the model reads)")
    estimate.add_argument("--preset", choices=["train", "eval"], default="eval", help="FlowMag's settings (RAFT: 5 or 20 iterations; default: eval)")
    estimate.add_argument("--save-flow", type=Path, metavar="FILE.npy", help="also save the raw (H, W, 2) float32 flow, x then y, in pixels")
    estimate.add_argument("--device", default="auto", help="cpu, cuda, ... (default: cuda when available)")
    estimate.set_defaults(run=run_run)


def magnifier_weights(store) -> list[str]:
    """The manifest's entries that are not flow models: magnifiers' networks (FlowMag's released
    generators, the demo weights, Axial-MM's, EulerMormer's, STB-VMM's), for ``--checkpoint NAME``."""
    from motionmag.flow import list_flow_models

    flow_models = set(list_flow_models())
    return [name for name in store.entries if name not in flow_models]


def _magnifier_summary(store, name: str, method: str) -> str:
    """What the file is and how magnify takes it: by name where the method resolves weights names
    (its declared released weights), else by path."""
    from motionmag.methods import method_spec

    try:
        spec = method_spec(method)
    except MotionmagError:
        return store.entry(name).source
    if spec.demo_weights == name:
        return f"this project's demo model: motionmag magnify --method {method} without --checkpoint"
    checkpoint = name if spec.released_weights == name else store.path(name)
    return f"the authors' network: motionmag magnify --method {method} --checkpoint {checkpoint}"


def run_list(args: argparse.Namespace) -> None:
    from motionmag.flow import flow_spec, list_flow_models
    from motionmag.flow.weights import WeightsStore

    store = WeightsStore()
    rows = []
    for name in list_flow_models():
        spec = flow_spec(name)
        weights = store.entry(name).file if spec.needs_weights and name in store.entries else None
        rows.append(
            dict(
                name=name,
                method=None,
                differentiable=spec.differentiable,
                weights=weights,
                present=bool(weights) and store.present(name),
                needs=spec.extra,
                summary=spec.summary,
            )
        )
    for name in magnifier_weights(store):  # method: the magnifier that loads them (a flow model's row has None)
        entry, method = store.entry(name), name.split("-", 1)[0]
        rows.append(dict(name=name, method=method, differentiable=None, weights=entry.file, present=store.present(name),
                         needs=None, summary=_magnifier_summary(store, name, method)))
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'model':<15}{'grad':<6}{'weights':<11}summary")
    for row in rows:
        if row["method"] is not None:
            continue
        state = "-" if row["weights"] is None else "present" if row["present"] else "missing"
        extra = f" [needs motionmag[{row['needs']}]]" if row["needs"] else ""
        print(f"{row['name']:<15}{'yes' if row['differentiable'] else 'no':<6}{state:<11}{row['summary']}{extra}")
    magnifiers = [row for row in rows if row["method"] is not None]
    if magnifiers:
        print(f"\n{'magnifier weights':<21}{'weights':<11}summary")
        for row in magnifiers:
            state = "bundled" if store.entry(row["name"]).bundled else "present" if row["present"] else "missing"
            print(f"{row['name']:<21}{state:<11}{row['summary']}")
    print(f"weights folder: {store.root}  (fetch with: motionmag flow fetch NAME)")


def run_fetch(args: argparse.Namespace) -> None:
    from motionmag.flow import flow_spec
    from motionmag.flow.weights import WeightsStore

    store = WeightsStore()
    magnifiers = magnifier_weights(store)
    # by default every flow model with weights (the manifest also lists magnifiers' networks: by name only)
    names = args.models or [name for name in store.entries if name not in magnifiers]
    for name in names:  # an unknown name fails before any download
        if name not in magnifiers:
            try:
                flow_spec(name)
            except MotionmagError as error:
                raise MotionmagError(f"{error}; or magnifier weights: {', '.join(magnifiers)}") from None
        store.entry(name)
    for name in names:
        path = store.fetch(name, progress=not args.quiet)
        print(f"{name}: {path}", file=sys.stderr)


def run_run(args: argparse.Namespace) -> None:
    import numpy as np
    import torch
    from torchvision.utils import flow_to_image

    from motionmag.flow import get_flow_model
    from motionmag.io.images import read_image, write_image

    image_a, image_b = read_image(args.image_a), read_image(args.image_b)
    if image_a.shape != image_b.shape:
        raise MotionmagError(f"the images differ in size: {image_a.shape[1]}x{image_a.shape[0]} and {image_b.shape[1]}x{image_b.shape[0]}")
    if args.output.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp", ".bmp"):
        raise MotionmagError(f"{args.output}: the output must be an image (.png, .jpg, ...)")
    for path in filter(None, (args.output, args.save_flow)):
        if not path.parent.is_dir():
            raise MotionmagError(f"{path}: the output folder {path.parent} does not exist")
    if args.save_flow and args.save_flow.suffix != ".npy":
        raise MotionmagError(f"{args.save_flow}: the raw flow is saved as .npy")
    device = resolve_device(args.device)
    model = get_flow_model(args.model, device=device, preset=args.preset, weights=args.weights)

    def tensor(image):
        return torch.from_numpy(image).permute(2, 0, 1)[None].to(device, torch.float32) / 255.0

    with torch.no_grad():
        flow = model(tensor(image_a), tensor(image_b))[0].cpu()  # (2, H, W)
    if args.save_flow:
        tmp = args.save_flow.with_name(f".{args.save_flow.stem}.tmp.npy")
        np.save(tmp, flow.permute(1, 2, 0).numpy().astype(np.float32))
        tmp.replace(args.save_flow)
    write_image(args.output, flow_to_image(flow).permute(1, 2, 0).numpy())
    magnitude = flow.norm(dim=0)
    print(f"wrote {args.output}: {args.model}, mean |flow| {magnitude.mean():.3f} px, max {magnitude.max():.3f} px", file=sys.stderr)

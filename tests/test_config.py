"""Config validation names the bad key and the rules that read it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from motionmag.config import validate_config
from motionmag.errors import MotionmagError

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
DEFAULT = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def test_the_default_config_is_valid():
    config = validate_config(copy.deepcopy(DEFAULT), SCHEMA)
    assert config["device"] == "cpu"


@pytest.mark.parametrize(
    "edit,key,rule",
    [
        (lambda c: c["methods"]["phase"].update(orientations=0), "methods.phase.orientations", "magnify"),
        (lambda c: c["methods"]["linear"].update(lamda_c=3), "methods.linear.lamda_c", "magnify"),
        (lambda c: c.update(alphas=[4, -1]), "alphas.1", "magnify"),
        (lambda c: c["evaluation"].update(flows=["raft"]), "evaluation.flows.0", "evaluate_cell"),
        (lambda c: c["clips"]["subpixel"]["render"].update(frames=1), "clips.subpixel.render.frames", "render_clip"),
        (lambda c: c.update(device="gpu"), "device", "magnify"),
    ],
)
def test_errors_name_the_key_and_the_rule(edit, key, rule):
    config = copy.deepcopy(DEFAULT)
    edit(config)
    with pytest.raises(MotionmagError) as error:
        validate_config(config, SCHEMA)
    message = str(error.value)
    assert f"config key {key} " in message and rule in message

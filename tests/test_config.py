"""Config validation names the bad key and the rules that read it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from motionmag.config import validate_config
from motionmag.errors import MotionmagError
from motionmag.workflow.plan import Plan

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
        # method options are checked against each method's declaration (motionmag.methods)
        (lambda c: c["methods"]["phase"].update(mode="dynamic"), "methods.phase.mode", "magnify"),
        (lambda c: c["methods"]["phase"].update(highpass="yes"), "methods.phase.highpass", "magnify"),
        (lambda c: c["methods"].update({"warp": {}}), "methods.warp", "magnify"),
        (lambda c: c["methods"].update({"phase-x": {"variant": "finetune"}}), "methods.phase-x.variant", "magnify"),
        (lambda c: c["methods"].update({"oh2018-x": {"mode": "static"}}), "methods.oh2018-x", "magnify"),
        (lambda c: c["methods"].update({"Phase": {}}), "methods", "magnify"),
    ],
)
def test_errors_name_the_key_and_the_rule(edit, key, rule, monkeypatch):
    monkeypatch.chdir(ROOT)
    config = copy.deepcopy(DEFAULT)
    edit(config)
    with pytest.raises(MotionmagError) as error:
        Plan(config, ROOT)  # the schema first, then the checks that need more than the schema
    message = str(error.value)
    assert f"config key {key} " in message and rule in message and "\n" not in message

"""Workflow config validation that names the offending key and the rules that read it.

The schema (workflow/schemas/config.schema.yaml) annotates keys with ``x-rules``; an error
becomes one line such as::

    config key methods.phase.orientations (read by rule magnify): 0 is less than the minimum of 2
"""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import yaml

from motionmag.errors import MotionmagError


def _rules_for(schema: dict, path: list) -> list[str]:
    """The x-rules of the deepest schema node along ``path`` that has them."""
    rules, node = schema.get("x-rules", []), schema
    for key in path:
        props = node.get("properties", {})
        if isinstance(key, str) and key in props:
            node = props[key]
        elif isinstance(key, int) and "items" in node:
            node = node["items"]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            break
        rules = node.get("x-rules", rules)
    return rules


def _filling_defaults(validator_class):
    """A validator that fills each object's missing keys from its schema's ``default`` as it
    validates, at every depth: named entries (``additionalProperties``, ``patternProperties``)
    and array items included, so defaults are stated once, in the schema."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def properties_with_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for key, prop in properties.items():
                if key not in instance and "default" in prop:
                    instance[key] = copy.deepcopy(prop["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": properties_with_defaults})


_Validator = _filling_defaults(jsonschema.Draft202012Validator)


def validate_config(config: dict, schema_path: str | Path) -> dict:
    """Validate ``config`` in place (filling defaults); raise MotionmagError naming key and rules."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    error = jsonschema.exceptions.best_match(_Validator(schema).iter_errors(config))
    if error is not None:
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and error.instance is not None:
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            path += extra[:1]
        key = ".".join(str(p) for p in path) or "(top level)"
        rules = _rules_for(schema, path)
        used = f" (read by rule {', '.join(rules)})" if rules else ""
        message = error.message if len(error.message) < 200 else error.message[:200] + "..."
        raise MotionmagError(f"config key {key}{used}: {message}")
    return config


def load_yaml_config(path: str | Path, schema_path: str | Path, what: str = "config") -> dict:
    """Read a YAML file and validate it against a schema (defaults filled in); every problem is
    one MotionmagError line that starts with the file's path."""
    path = Path(path)
    if not path.is_file():
        raise MotionmagError(f"{path}: {what} not found")
    try:
        config = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise MotionmagError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(config, dict):
        raise MotionmagError(f"{path}: a {what} is a mapping of keys")
    try:
        return validate_config(config, schema_path)
    except MotionmagError as err:
        raise MotionmagError(f"{path}: {err}") from None

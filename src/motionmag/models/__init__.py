"""The learned magnifiers' networks: FlowMag's generator (and Oh et al. 2018's, later)."""

from motionmag.models.flowmag import FlowMagGenerator, GeneratorConfig, alpha_encoding, alpha_map

__all__ = ["FlowMagGenerator", "GeneratorConfig", "alpha_encoding", "alpha_map"]

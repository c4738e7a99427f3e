"""Video and mask input/output: streaming readers, browser-playable writers, masks."""

from motionmag.io.masks import feather, load_mask
from motionmag.io.video import VideoInfo, open_video
from motionmag.io.writer import open_writer

__all__ = ["VideoInfo", "feather", "load_mask", "open_video", "open_writer"]

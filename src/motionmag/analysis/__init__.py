"""See, measure and choose before you magnify: motion per region, its spectrum, a suggested band,
a map of where things move in a band, and stabilisation. docs/analysis.md explains the methods.

    from motionmag.analysis import analyze, write_report
    from motionmag.io import open_video

    reader = open_video("baby.mp4")
    result = analyze(reader, reader.info.fps, ["120,80,64,48"], progress=True)
    result.band                     # the overall suggested band, Hz
    write_report(result, "out/analysis", video="baby_magnified.mp4")

Modules: regions (rectangles, masks, grids), phase (local-phase displacement), estimators (phase
or the flow zoo, per region and per map cell), spectrum (Welch, resolution, peaks), bands (checks
and the band rule), amplitude_map (streaming per-cell spectra), stabilizer (camera motion removal),
analyzer (the streaming pass), report (CSV, JSON, PNG, HTML), synthetic (rendered test clips).
"""

from motionmag.analysis.analyzer import Analysis, RegionAnalysis, Stabilization, analyze
from motionmag.analysis.bands import check_band, suggest_band
from motionmag.analysis.estimators import make_estimator
from motionmag.analysis.regions import Region, grid_regions, mask_region, parse_roi, resolve_regions
from motionmag.analysis.report import write_report
from motionmag.analysis.spectrum import Peak, Spectrum, find_peaks, segment_length, welch_spectrum
from motionmag.analysis.stabilizer import StabilizedFrames, shift_image, stabilize, stabilize_frames, warp_back

__all__ = [
    "Analysis",
    "Peak",
    "Region",
    "RegionAnalysis",
    "Spectrum",
    "Stabilization",
    "StabilizedFrames",
    "analyze",
    "check_band",
    "find_peaks",
    "grid_regions",
    "make_estimator",
    "mask_region",
    "parse_roi",
    "resolve_regions",
    "segment_length",
    "shift_image",
    "stabilize",
    "stabilize_frames",
    "suggest_band",
    "warp_back",
    "welch_spectrum",
    "write_report",
]

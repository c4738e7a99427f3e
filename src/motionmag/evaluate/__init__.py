"""Evaluation: FlowMag's motion and magnification errors, SSIM, PSNR, measured amplification."""

from motionmag.evaluate.clip import evaluate_alphas, evaluate_clip
from motionmag.evaluate.metrics import (
    magnification_error,
    measured_amplification,
    motion_error,
    psnr,
    region_displacement,
    ssim,
)

__all__ = [
    "evaluate_alphas",
    "evaluate_clip",
    "magnification_error",
    "measured_amplification",
    "motion_error",
    "psnr",
    "region_displacement",
    "ssim",
]

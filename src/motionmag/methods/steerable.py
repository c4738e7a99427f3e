"""Complex steerable pyramid (Portilla & Simoncelli 2000; as used by Wadhwa et al. 2013), built in
the frequency domain with cropped bands, in torch (CPU or CUDA).

Radial filters are log-raised-cosine transitions ``1 / filters_per_octave`` octaves wide; angular
filters are c * cos(theta - theta_k)^(K-1) on one half-plane, so each band is analytic (complex)
and its phase measures local motion. The filters form a tight frame (the squares of the high-pass
residual, the bands and the low-pass residual sum to 1 at every frequency): with every band
unchanged, ``reconstruct_delta`` returns 0 exactly. Each band is computed on the smallest
FFT-friendly box of the spectrum that holds its filter, so coarse bands are small and cheap.

The classic pyramid keeps a real high-pass residual, 1 - low(b_0)^2, which rises from pi/2 to pi
rad/px (0.25-0.5 cycles/px): the top octave, where sharp textures and natural images hold much of
their gradient energy, and which a phase method can then never move. ``highpass=True`` folds that
residual into the finest band instead (which then runs from pi/4 rad/px up to the Nyquist
frequency, corners included), so that it is phase-shifted with the rest at no extra cost. Only
frequencies within pi/8 rad/px of the Nyquist frequency in x or y fade back into a real residual:
on the Nyquist row and column of an even size -w aliases to w, so no one-sided (analytic) filter
exists there, and a smooth fade rather than a step keeps the band's spatial support compact.
"""

from __future__ import annotations

import math

import torch


# with highpass=True, the width (rad/px) over which the finest band fades out towards the Nyquist
# frequency in x and in y; what it leaves (above 0.44 cycles/px) stays in the real residual
_NYQUIST_FADE = math.pi / 8


def _fft_friendly(n: int, limit: int) -> int:
    """The smallest even m >= n with only factors 2, 3 and 5 (fast FFT sizes), at most ``limit``."""
    m = n + (n % 2)
    while m < limit:
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
        m += 2
    return limit


def _crop_range(size: int, r_max: float) -> tuple[int, int]:
    """Index range, in fftshift order, of the frequencies with |w| <= r_max (rad/sample)."""
    centre = size // 2
    half = math.floor(r_max * size / (2 * math.pi)) + 1
    n = _fft_friendly(2 * half, size)
    if n >= size:
        return 0, size
    return centre - n // 2, centre + n // 2


class ComplexSteerablePyramid:
    """Bands for one frame size. ``decompose`` a (B, H, W) image into complex bands; turn changed
    bands back into an image with ``reconstruct_delta``.

    Band coefficients carry a fixed unit-modulus spatial pattern (see ``decompose``): use their
    amplitudes and their phase changes over time, which are exact, not their absolute phase."""

    def __init__(
        self,
        height: int,
        width: int,
        levels: int | None = None,
        orientations: int = 4,
        filters_per_octave: int = 1,
        highpass: bool = False,
        device: str | torch.device = "cpu",
    ):
        self.height, self.width, self.orientations = height, width, orientations
        self.highpass = bool(highpass)
        n = filters_per_octave
        if levels is None:
            levels = max(1, math.floor(math.log2(min(height, width) / 4)) * n)  # down to ~4 px bands
        self.levels = levels
        wy = (torch.arange(height, dtype=torch.float64) - height // 2) * (2 * math.pi / height)
        wx = (torch.arange(width, dtype=torch.float64) - width // 2) * (2 * math.pi / width)
        wy, wx = torch.meshgrid(wy, wx, indexing="ij")
        radius = torch.hypot(wx, wy)
        log_radius = torch.log2(radius.clamp_min(1e-12) / math.pi)
        theta = torch.atan2(wy, wx)
        width_oct = 1.0 / n

        def low(boundary: float) -> torch.Tensor:
            t = ((log_radius - (boundary - width_oct / 2)) / width_oct).clamp(0, 1)
            return torch.cos(t * math.pi / 2)

        def high(boundary: float) -> torch.Tensor:
            return torch.sqrt((1 - low(boundary) ** 2).clamp_min(0))

        boundaries = [-0.5 - j / n for j in range(levels + 1)]
        order = orientations - 1
        # c^2 * sum_k cos^(2 order)(theta - theta_k) = 1 for K evenly spaced orientations
        norm = math.sqrt(4**order / (orientations * math.comb(2 * order, order)))
        # (radial filter, largest radius it reaches) of every level, fine to coarse
        radials = [(low(boundaries[j]) * high(boundaries[j + 1]), math.pi * 2 ** (boundaries[j] + width_oct / 2)) for j in range(levels)]
        if highpass:
            # the high-pass residual high(b_0) joins level 0, except near the Nyquist frequency
            def fade(w: torch.Tensor) -> torch.Tensor:
                t = ((w.abs() - (math.pi - _NYQUIST_FADE)) / _NYQUIST_FADE).clamp(0, 1)
                return torch.cos(t * math.pi / 2)

            joined = high(boundaries[0]) * fade(wx) * fade(wy)
            if height % 2 == 0:
                joined[0, :] = 0  # fftshift order: index 0 is -pi (the fade leaves ~1e-17 there)
            if width % 2 == 0:
                joined[:, 0] = 0
            # high(b_1) = 1 wherever high(b_0) > 0 (the transitions abut): the squares still sum to 1
            radials[0] = (torch.sqrt(low(boundaries[0]) ** 2 + joined**2) * high(boundaries[1]), 2 * math.pi)
        # one entry per level: the spectrum box it needs and its K oriented filters (K, h, w)
        self.bands: list[tuple[slice, slice, torch.Tensor]] = []
        for radial, r_max in radials:
            ys, xs = slice(*_crop_range(height, r_max)), slice(*_crop_range(width, r_max))
            filters = []
            for k in range(orientations):
                angle = torch.remainder(theta - math.pi * k / orientations + math.pi, 2 * math.pi) - math.pi
                angular = norm * torch.cos(angle).clamp_min(0) ** order
                angular = torch.where(angle.abs() < math.pi / 2, angular, torch.zeros_like(angular))
                filters.append((radial * angular)[ys, xs])
            self.bands.append((ys, xs, torch.stack(filters).to(device=device, dtype=torch.float32)))
        r_max = math.pi * 2 ** (boundaries[levels] + width_oct / 2)
        ys, xs = slice(*_crop_range(height, r_max)), slice(*_crop_range(width, r_max))
        self.lowpass = (ys, xs, low(boundaries[levels])[ys, xs].to(device=device, dtype=torch.float32))

    @staticmethod
    def spectrum(image: torch.Tensor) -> torch.Tensor:
        """(B, H, W) real -> centred spectrum (B, H, W) complex."""
        return torch.fft.fftshift(torch.fft.fft2(image), dim=(-2, -1))

    def decompose(self, image: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """(B, H, W) real -> (bands, lowpass): one complex tensor (B, K, h_j, w_j) per level j, fine to
        coarse, and the real low-pass residual (B, h, w), sub-sampled. The real high-pass residual
        (with ``highpass``, only what lies near the Nyquist frequency) is not returned:
        magnification never changes it."""
        spectrum = self.spectrum(image)
        # No ifftshift of the cropped box: that only multiplies each band by a fixed unit-modulus
        # pattern, which cancels in phase differences and amplitudes, and reconstruct_delta's fft2
        # undoes it exactly. It saves two band-sized copies per level.
        bands = [torch.fft.ifft2(spectrum[:, None, ys, xs] * filters) for ys, xs, filters in self.bands]
        ys, xs, filt = self.lowpass
        lowpass = torch.fft.ifft2(torch.fft.ifftshift(spectrum[:, ys, xs] * filt, dim=(-2, -1))).real  # a real image
        return bands, lowpass

    def empty_change(self, batch: int, device: torch.device) -> torch.Tensor:
        """An accumulator for ``add_band_change`` / ``add_lowpass_change`` (a centred spectrum)."""
        return torch.zeros(batch, self.height, self.width, dtype=torch.complex64, device=device)

    def add_band_change(self, total: torch.Tensor, level: int, change: torch.Tensor) -> None:
        """Add the spectrum of a change (B, K, h, w) of level ``level``'s bands to ``total``.

        Bands are analytic (one half-plane), so the real image takes twice their real part: the
        factor 2 is applied here."""
        ys, xs, filters = self.bands[level]
        total[:, ys, xs] += 2 * (torch.fft.fft2(change) * filters).sum(1)

    def add_lowpass_change(self, total: torch.Tensor, change: torch.Tensor) -> None:
        ys, xs, filt = self.lowpass
        total[:, ys, xs] += torch.fft.fftshift(torch.fft.fft2(change), dim=(-2, -1)) * filt

    def image(self, total: torch.Tensor) -> torch.Tensor:
        """The image (B, H, W) of an accumulated change."""
        return torch.fft.ifft2(torch.fft.ifftshift(total, dim=(-2, -1))).real

    def reconstruct_delta(self, band_changes: list[torch.Tensor], lowpass_change: torch.Tensor | None = None) -> torch.Tensor:
        """The image change (B, H, W) caused by adding ``band_changes`` and ``lowpass_change`` (shaped as
        from ``decompose``) to the bands and the low-pass residual."""
        total = self.empty_change(band_changes[0].shape[0], band_changes[0].device)
        for level, change in enumerate(band_changes):
            self.add_band_change(total, level, change)
        if lowpass_change is not None:
            self.add_lowpass_change(total, lowpass_change)
        return self.image(total)

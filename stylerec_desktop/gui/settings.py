"""The user's preferences, typed, over QSettings: processing device and precision, the default ranking blend and
the thumbnail cache's size limit.

:class:`AppSettings` reads and writes one value at a time with a default for each (a missing or garbled value
reads as its default, never as an error); :class:`Preferences` is a snapshot of all of them, which the settings
dialog edits and hands to the window to pass on to the panels.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from PySide6.QtCore import QSettings
from PySide6.QtGui import QKeySequence

from stylerec_desktop.core.models.precision import PRECISIONS
from stylerec_desktop.core.recommend.controls import RankingWeights

#: What the device setting may hold; ``auto`` picks CUDA, then Apple MPS, then the CPU (see core.models.device).
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda", "mps")
DEFAULT_THUMBNAIL_LIMIT_MB = 2048
MIN_THUMBNAIL_LIMIT_MB = 64
MAX_THUMBNAIL_LIMIT_MB = 1_000_000

_DEVICE_KEY = "processing/device"
_PRECISION_KEY = "processing/precision"
_WEIGHTS_GROUP = "recommendations/weights"
_THUMBNAIL_LIMIT_KEY = "thumbnails/disk_limit_mb"


@dataclass(frozen=True)
class Preferences:
    """Every setting at once. ``thumbnail_limit_mb`` is the disk budget of a catalog's thumbnail cache, in MiB."""

    device: str = "auto"
    precision: str = "auto"
    ranking_weights: RankingWeights = RankingWeights()
    thumbnail_limit_mb: int = DEFAULT_THUMBNAIL_LIMIT_MB

    @property
    def thumbnail_limit_bytes(self) -> int:
        return self.thumbnail_limit_mb * 1024 * 1024


class AppSettings:
    """Typed getters and setters over a ``QSettings`` (the app's own by default; tests pass an ini file)."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self._settings = settings if settings is not None else QSettings()

    # -- processing ----------------------------------------------------------------------------------------

    def device(self) -> str:
        value = self._settings.value(_DEVICE_KEY, "auto")
        return value if value in DEVICES else "auto"

    def set_device(self, device: str) -> None:
        if device not in DEVICES:
            raise ValueError(f"unknown device {device!r}; one of {DEVICES}")
        self._settings.setValue(_DEVICE_KEY, device)

    def precision(self) -> str:
        value = self._settings.value(_PRECISION_KEY, "auto")
        return value if value in PRECISIONS else "auto"

    def set_precision(self, precision: str) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; one of {PRECISIONS}")
        self._settings.setValue(_PRECISION_KEY, precision)

    # -- recommendations -----------------------------------------------------------------------------------

    def ranking_weights(self) -> RankingWeights:
        """The default blend; each signal falls back to its built-in default on its own."""
        defaults = RankingWeights()
        values = {}
        for field in fields(RankingWeights):
            default = getattr(defaults, field.name)
            values[field.name] = _non_negative(self._settings.value(f"{_WEIGHTS_GROUP}/{field.name}"), default)
        return RankingWeights(**values)

    def set_ranking_weights(self, weights: RankingWeights) -> None:
        for name, value in weights.as_dict().items():
            if not value >= 0:
                raise ValueError(f"ranking weight {name} must be >= 0, got {value}")
            self._settings.setValue(f"{_WEIGHTS_GROUP}/{name}", float(value))

    # -- thumbnails ----------------------------------------------------------------------------------------

    def thumbnail_limit_mb(self) -> int:
        value = _non_negative(self._settings.value(_THUMBNAIL_LIMIT_KEY), DEFAULT_THUMBNAIL_LIMIT_MB)
        return int(min(MAX_THUMBNAIL_LIMIT_MB, max(MIN_THUMBNAIL_LIMIT_MB, value)))

    def set_thumbnail_limit_mb(self, megabytes: int) -> None:
        if not MIN_THUMBNAIL_LIMIT_MB <= megabytes <= MAX_THUMBNAIL_LIMIT_MB:
            raise ValueError(f"thumbnail cache limit must be {MIN_THUMBNAIL_LIMIT_MB}..{MAX_THUMBNAIL_LIMIT_MB} MB")
        self._settings.setValue(_THUMBNAIL_LIMIT_KEY, int(megabytes))

    # -- all at once ---------------------------------------------------------------------------------------

    def preferences(self) -> Preferences:
        return Preferences(self.device(), self.precision(), self.ranking_weights(), self.thumbnail_limit_mb())

    def save(self, preferences: Preferences) -> None:
        """Store every value of ``preferences`` and write them to disk."""
        self.set_device(preferences.device)
        self.set_precision(preferences.precision)
        self.set_ranking_weights(preferences.ranking_weights)
        self.set_thumbnail_limit_mb(preferences.thumbnail_limit_mb)
        self._settings.sync()


def _non_negative(value: object, default: float) -> float:
    """``value`` as a finite number >= 0 (QSettings' ini files hand numbers back as strings), else ``default``."""
    if not isinstance(value, int | float | str):
        return default
    try:
        number = float(value)
    except ValueError:
        return default
    return number if 0 <= number < float("inf") else default


def preferences_shortcuts() -> list[QKeySequence]:
    """The platform's Preferences keys (Cmd+, on macOS; none on some Linux desktops) and Ctrl+, everywhere."""
    keys = list(QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences))
    fallback = QKeySequence("Ctrl+,")
    if fallback not in keys:
        keys.append(fallback)
    return keys

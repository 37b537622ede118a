"""The user's preferences, typed, over QSettings: processing device and precision, where batch jobs run (this
machine or a Ray cluster), the default ranking blend and the thumbnail cache's size limit.

:class:`AppSettings` reads and writes one value at a time with a default for each (a missing or garbled value
reads as its default, never as an error); :class:`Preferences` is a snapshot of all of them, which the settings
dialog edits and hands to the window to pass on to the panels.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from PySide6.QtCore import QSettings
from PySide6.QtGui import QKeySequence

from stylerec_desktop.core.cluster import ClusterSpec, parse_cluster
from stylerec_desktop.core.errors import UserError
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
# Where batch jobs run is a workstation setting (which cluster this machine can reach), not a catalog's.
_CLUSTER_ON_KEY = "processing/cluster_enabled"
_CLUSTER_ADDRESS_KEY = "processing/cluster_address"
DEFAULT_CLUSTER_ADDRESS = "auto"


@dataclass(frozen=True)
class Preferences:
    """Every setting at once. ``thumbnail_limit_mb`` is the disk budget of a catalog's thumbnail cache, in MiB."""

    device: str = "auto"
    precision: str = "auto"
    ranking_weights: RankingWeights = RankingWeights()
    thumbnail_limit_mb: int = DEFAULT_THUMBNAIL_LIMIT_MB
    # Batch jobs (indexing, recommendations for every customer) on a Ray cluster at ``cluster_address``
    # (``auto``, ``ray://HOST:PORT`` or ``local[N]``) when ``cluster_enabled``; on this machine otherwise.
    cluster_enabled: bool = False
    cluster_address: str = DEFAULT_CLUSTER_ADDRESS

    @property
    def thumbnail_limit_bytes(self) -> int:
        return self.thumbnail_limit_mb * 1024 * 1024

    @property
    def cluster(self) -> ClusterSpec | None:
        """Where batch jobs run: the cluster, or None for this machine."""
        return parse_cluster(self.cluster_address) if self.cluster_enabled else None


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

    # -- batch jobs on a cluster -----------------------------------------------------------------------------

    def cluster_enabled(self) -> bool:
        return str(self._settings.value(_CLUSTER_ON_KEY, "false")).lower() == "true"

    def cluster_address(self) -> str:
        """The stored address when it is one :func:`parse_cluster` accepts, else ``auto``."""
        value = self._settings.value(_CLUSTER_ADDRESS_KEY, DEFAULT_CLUSTER_ADDRESS)
        try:
            return str(parse_cluster(str(value)))
        except UserError:
            return DEFAULT_CLUSTER_ADDRESS

    def set_cluster(self, enabled: bool, address: str) -> None:
        """Raises :class:`UserError` (naming the accepted forms) for an address :func:`parse_cluster` refuses."""
        spec = parse_cluster(address)
        self._settings.setValue(_CLUSTER_ON_KEY, "true" if enabled else "false")
        self._settings.setValue(_CLUSTER_ADDRESS_KEY, str(spec))

    # -- all at once ---------------------------------------------------------------------------------------

    def preferences(self) -> Preferences:
        return Preferences(self.device(), self.precision(), self.ranking_weights(), self.thumbnail_limit_mb(),
                           self.cluster_enabled(), self.cluster_address())  # fmt: skip

    def save(self, preferences: Preferences) -> None:
        """Store every value of ``preferences`` and write them to disk."""
        self.set_device(preferences.device)
        self.set_precision(preferences.precision)
        self.set_ranking_weights(preferences.ranking_weights)
        self.set_thumbnail_limit_mb(preferences.thumbnail_limit_mb)
        self.set_cluster(preferences.cluster_enabled, preferences.cluster_address)
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

"""The ``--cluster`` value: ``auto``, ``ray://HOST:PORT`` or ``local[N]``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from stylerec_desktop.core.errors import UserError

#: More local worker processes than this on one machine only adds start-up time and memory (each loads the networks).
MAX_LOCAL_WORKERS = 64

_LOCAL = re.compile(r"local(?:\[(\d+)\])?")
_RAY = re.compile(r"ray://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})")


@dataclass(frozen=True)
class ClusterSpec:
    """Where the work runs.

    ``kind``: ``"auto"`` joins the cluster this machine already belongs to (``RAY_ADDRESS``, or a ``ray start``
    on this machine); ``"address"`` connects to a Ray Client server at ``address`` (``ray://host:port``);
    ``"local"`` starts a private cluster on this machine, a head plus ``workers`` worker processes (nodes), and
    stops it when the job ends (for trying the cluster path, and for tests).
    """

    kind: Literal["auto", "address", "local"]
    address: str | None = None
    workers: int = 0

    def __str__(self) -> str:
        if self.kind == "local":
            return f"local[{self.workers}]"
        return self.address if self.kind == "address" and self.address else "auto"


def parse_cluster(text: str) -> ClusterSpec:
    """``auto`` | ``ray://HOST:PORT`` | ``local`` | ``local[N]`` (N worker processes, default 2) -> a spec.

    Raises :class:`UserError` naming the value and the accepted forms.
    """
    value = text.strip()
    if value == "auto":
        return ClusterSpec("auto")
    local = _LOCAL.fullmatch(value)
    if local:
        workers = int(local.group(1)) if local.group(1) else 2
        if not 1 <= workers <= MAX_LOCAL_WORKERS:
            raise UserError(f"--cluster {value}: a local cluster has 1 to {MAX_LOCAL_WORKERS} worker processes.")
        return ClusterSpec("local", workers=workers)
    remote = _RAY.fullmatch(value)
    if remote:
        port = int(remote.group(2))
        if not 1 <= port <= 65535:
            raise UserError(f"--cluster {value}: the port must be 1-65535.")
        return ClusterSpec("address", address=value)
    raise UserError(
        f"--cluster {text!r} is not a cluster: use auto (the Ray cluster this machine belongs to), "
        "ray://HOST:PORT (a Ray Client address, usually port 10001) or local[N] (N worker processes on this machine)."
    )

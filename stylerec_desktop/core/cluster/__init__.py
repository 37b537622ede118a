"""Running batch jobs on a Ray cluster (the optional ``[cluster]`` extra).

The catalog stays the single source of truth on the workstation: jobs send work (image bytes, or paths on storage
the cluster is *checked* to see) to Ray tasks, take back plain results, and write them themselves, one batch per
transaction, exactly as the single-machine jobs do. A task whose worker process or node dies is retried by Ray; the
driver takes each task's result once, so nothing is written twice.

Public face: :func:`parse_cluster` (the ``--cluster`` value), :func:`open_cluster` (connect or start, and shut
down what it started), :class:`ClusterSession` (what is there, ``describe()`` for the Jobs panel), :func:`run_tasks`
(the bounded, cancellable, order-keeping task stream a job iterates). Nothing here imports Ray until a cluster is
opened, so the app and the CLI start without it.
"""

from stylerec_desktop.core.cluster.engine import ClusterSession, open_cluster, ray_module, run_tasks
from stylerec_desktop.core.cluster.spec import ClusterSpec, parse_cluster

__all__ = ["ClusterSession", "ClusterSpec", "open_cluster", "parse_cluster", "ray_module", "run_tasks"]

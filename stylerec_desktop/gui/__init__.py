"""The desktop GUI (PySide6). Everything here is a thin layer over :mod:`stylerec_desktop.core`."""

import os

# numpy's OpenBLAS starts one thread per core for each call (the style index's PCA, the ranking's products). In
# the app those calls run on worker threads beside the GUI thread and the other workers, and the spinning BLAS
# threads fight them for the cores: loading the demo's style index took 5.7 s with two BLAS threads and 1.3 s with
# one (2-core machine, load 13), and 60+ s in a lowered-priority worker. Set before numpy is first imported; a
# value the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

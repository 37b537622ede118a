"""The built-in demo catalog: products drawn by our own code, shoppers with hidden style tastes.

:func:`generate_demo_files` writes the files (CSVs in the documented import format, 512 px product shots and
``demo_truth.json``); :func:`build_demo_catalog` imports them into a catalog. Both are jobs (see
:mod:`stylerec_desktop.core.jobs`) and deterministic by seed.

Modules: ``palettes`` and ``patterns`` (the styles), ``pen`` (anti-aliased masks), ``studio`` (lighting and the
final shot), ``garments`` and ``goods`` (the silhouettes), ``assortment`` (the products), ``shoppers``
(customers and histories), ``build`` (the jobs).
"""

from stylerec_desktop.core.demo.build import DemoFiles, build_demo_catalog, generate_demo_files

__all__ = ["DemoFiles", "build_demo_catalog", "generate_demo_files"]

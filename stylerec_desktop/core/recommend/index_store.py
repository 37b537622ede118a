"""The style index kept on disk beside the catalog, so that opening a catalog does not rebuild it.

The folder ``<catalog>/style-index/`` holds one ``.npy`` file per array (the look matrix memory-mapped on open,
copy-on-write, so a million products cost no read before the first query touches them), the product strings as
JSON, the fitted projections (the visual PCA is not refitted on every open), the candidate structure when there is
one (:mod:`.candidates`), and ``manifest.json``: the extractor version and the catalog revisions it was built from,
the shape and CRC-32 of every file. Nothing about customers is stored: behaviour is read from the events on every
load, as before.

Opening checks, in order: the manifest reads and is of this format; every file has the size and CRC-32 the
manifest recorded and the shapes agree (a torn write, a truncated copy or flipped bits: rebuilt, with a log line);
the extractor version matches (a different feature recipe: rebuilt). Then, when the catalog's product or feature
revisions moved, only what changed is redone (:func:`_update`): the products added, removed or re-imaged since are
found by their primary image's sha256, the new ones projected with the stored projections, the rest copied. Past
:data:`REFIT_SHARE` of the catalog changed since the projections were fitted, the whole index is rebuilt (refitted);
so is a catalog under :data:`INCREMENTAL_FROM` products, where a rebuild takes a second and gives exactly the index
a fresh build gives.

A new store is written into a temporary folder and swapped in by renames, so a reader never sees half a store;
files that did not change are hard-linked from the old store rather than written again.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.recommend.behaviour import empty_behaviour
from stylerec_desktop.core.recommend.index import Projection, StyleIndex, _storage_view, storage_dtype
from stylerec_desktop.core.recommend.index_build import (
    FeatureChunk,
    build_index,
    chunk_of_rows,
    project_chunk,
)

log = logging.getLogger(__name__)

STORE_NAME = "style-index"
FORMAT = 1
MANIFEST = "manifest.json"
# Below this many products every change rebuilds the whole index (about a second per 20,000 products).
INCREMENTAL_FROM = 50_000
# Share of the products that may change after the projections were fitted before they are fitted again.
REFIT_SHARE = 0.2
_MAPPED = ("looks", "style_raw", "palettes")  # the big arrays: memory-mapped, not read
_CRC_BLOCK = 1 << 24


def store_folder(catalog: Catalog) -> Path:
    return catalog.folder / STORE_NAME


def _stamp(catalog: Catalog, extractor: str) -> dict[str, Any]:
    revisions = catalog.revisions()
    return {"extractor": extractor, "products": revisions["products"], "image_features": revisions["image_features"]}


def _crc(path: Path) -> int:
    crc = 0
    with path.open("rb") as f:
        while block := f.read(_CRC_BLOCK):
            crc = zlib.crc32(block, crc)
    return crc


# -- writing ---------------------------------------------------------------------------------------------------


def _arrays(index: StyleIndex) -> dict[str, np.ndarray]:
    p = index.projections
    return {
        "looks": _storage_view(index.looks),
        "style_raw": index.style_raw,
        "palettes": index.palettes,
        "product_ids": index.product_ids,
        "category_codes": index.category_codes,
        "prices": index.prices,
        "in_stock": index.in_stock,
        "group_codes": index.group_codes,
        "image_keys": index.image_keys if index.image_keys is not None else np.zeros(len(index), "S64"),
        "style_mean": p["style"].mean,
        "visual_mean": p["visual"].mean,
        "visual_basis": _fitted(p["visual"].basis),
        "pattern_mean": p["pattern"].mean,
        "pattern_scale": _fitted(p["pattern"].scale),
    }


def _fitted(array: np.ndarray | None) -> np.ndarray:
    if array is None:  # every index from index_build has both; a hand-made one may not
        raise ValueError("this index has no fitted visual basis or pattern scale to store")
    return array


def save_index(
    index: StyleIndex,
    folder: Path,
    stamp: dict[str, Any],
    fitted_rows: int,
    updated_rows: int = 0,
    unchanged: frozenset[str] = frozenset(),
) -> None:
    """Write ``index`` (its behaviour left out) as the store in ``folder``, replacing what is there. Names in
    ``unchanged`` (arrays, ``strings``, ``candidates``) are hard-linked from the current store instead of written.
    ``fitted_rows``: products the projections were fitted on; ``updated_rows``: products projected since."""
    _remove_leftovers(folder)
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}-{time.monotonic_ns()}")
    tmp.mkdir(parents=True)
    old = _read_manifest(folder)
    try:
        files: dict[str, dict[str, Any]] = {}

        def reuse(name: str, filename: str) -> bool:
            if name not in unchanged or old is None or filename not in old["files"]:
                return False
            try:
                os.link(folder / filename, tmp / filename)
            except OSError:
                return False
            files[filename] = old["files"][filename]
            return True

        for name, array in _arrays(index).items():
            filename = f"{name}.npy"
            if not reuse(name, filename):
                np.save(tmp / filename, np.ascontiguousarray(array), allow_pickle=False)
                files[filename] = {}
        if not reuse("strings", "strings.json"):
            strings = {"skus": index.skus, "titles": index.titles, "category_names": index.category_names,
                       "group_names": index.group_names}  # fmt: skip
            (tmp / "strings.json").write_text(json.dumps(strings, ensure_ascii=False), encoding="utf-8")
            files["strings.json"] = {}
        if index.candidates is not None and not reuse("candidates", "candidates.faiss"):
            index.candidates.save(tmp / "candidates.faiss")
            files["candidates.faiss"] = {}
        for filename, entry in files.items():
            if not entry:
                files[filename] = {"bytes": (tmp / filename).stat().st_size, "crc32": _crc(tmp / filename)}
        manifest = {
            "format": FORMAT,
            "stamp": stamp,
            "count": len(index),
            "looks_dtype": str(index.looks.dtype).removeprefix("torch."),
            "blocks": {name: [b.start, b.stop] for name, b in index.blocks.items()},
            "fitted_rows": fitted_rows,
            "updated_rows": updated_rows,
            "files": files,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        retired = folder.with_name(f"{folder.name}.old-{os.getpid()}-{time.monotonic_ns()}")
        if folder.exists():
            folder.rename(retired)
        tmp.rename(folder)
        # Readers that mapped the old files keep them (POSIX keeps unlinked files open).
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _remove_leftovers(folder: Path) -> None:
    """Delete the temporary and retired stores that a process killed while saving left beside ``folder`` (those of
    processes still running are theirs to finish)."""
    for path in folder.parent.glob(f"{folder.name}.*-*-*"):
        kind, pid = path.name.removeprefix(folder.name + ".").split("-")[:2]
        if kind not in ("tmp", "old") or not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass  # alive, or not ours to ask about


# -- reading ---------------------------------------------------------------------------------------------------


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("format") == FORMAT else None


class StaleStore(Exception):
    """The stored index cannot be used as it is; the message says why (for the log)."""


def open_store(folder: Path, verify: bool = True) -> tuple[StyleIndex, dict[str, Any]]:
    """The stored index in ``folder`` (behaviour empty; the caller adds it) and its manifest. Raises
    :class:`StaleStore` when the store is missing, damaged or of another format."""
    if not (folder / MANIFEST).exists():
        raise StaleStore("no stored index yet")
    manifest = _read_manifest(folder)
    if manifest is None:
        raise StaleStore("its manifest is unreadable or of another format")
    try:
        files = manifest["files"]
        for filename, entry in files.items():
            path = folder / filename
            if not path.exists():
                raise StaleStore(f"{filename} is missing")
            if path.stat().st_size != entry["bytes"]:
                raise StaleStore(f"{filename} has {path.stat().st_size} bytes, not the {entry['bytes']} written")
            if verify and _crc(path) != entry["crc32"]:
                raise StaleStore(f"{filename} does not match its checksum (damaged on disk)")
        arrays = {}
        for filename in files:
            if filename.endswith(".npy"):
                name = filename.removesuffix(".npy")
                arrays[name] = np.load(folder / filename, mmap_mode="c" if name in _MAPPED else None,
                                       allow_pickle=False)  # fmt: skip
        strings = json.loads((folder / "strings.json").read_text(encoding="utf-8"))
        count = int(manifest["count"])
        blocks = {name: slice(int(a), int(b)) for name, (a, b) in manifest["blocks"].items()}
        width = max(b.stop for b in blocks.values())
        shapes = {"looks": (count, width), "style_raw": (count, 100), "product_ids": (count,),
                  "category_codes": (count,), "prices": (count,), "in_stock": (count,), "group_codes": (count,),
                  "image_keys": (count,)}  # fmt: skip
        for name, shape in shapes.items():
            if arrays[name].shape != shape:
                raise StaleStore(f"{name} has shape {arrays[name].shape}, not {shape}")
        if not (len(strings["skus"]) == len(strings["titles"]) == count):
            raise StaleStore("its product names do not match its rows")
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise StaleStore(f"it cannot be read ({exc})") from exc
    looks = _looks_tensor(arrays["looks"], manifest["looks_dtype"])
    index = StyleIndex(
        extractor=manifest["stamp"]["extractor"],
        product_ids=arrays["product_ids"],
        skus=strings["skus"],
        titles=strings["titles"],
        category_names=strings["category_names"],
        category_codes=arrays["category_codes"],
        prices=arrays["prices"],
        in_stock=arrays["in_stock"],
        group_names=strings["group_names"],
        group_codes=arrays["group_codes"],
        looks=looks,
        blocks=blocks,
        style_raw=arrays["style_raw"],
        palettes=arrays["palettes"],
        projections={
            "style": Projection(arrays["style_mean"]),
            "visual": Projection(arrays["visual_mean"], basis=arrays["visual_basis"]),
            "pattern": Projection(arrays["pattern_mean"], scale=arrays["pattern_scale"]),
        },
        behaviour=empty_behaviour(count),
        as_of=datetime.fromtimestamp(0, UTC),  # load_index sets it from the events
        image_keys=arrays["image_keys"],
    )
    if "candidates.faiss" in files:
        from stylerec_desktop.core.recommend import candidates

        index.candidates = candidates.load(folder / "candidates.faiss", width)
    return index, manifest


def _looks_tensor(bits: np.ndarray, stored: str) -> torch.Tensor:
    """The stored look matrix as a tensor in this machine's storage dtype (zero-copy when they agree)."""
    tensor = torch.from_numpy(bits.view(np.int16)).view(torch.bfloat16) if stored == "bfloat16" else (
        torch.from_numpy(bits))  # fmt: skip
    wanted = storage_dtype()
    if tensor.dtype != wanted:
        # A store written on a CPU with (or without) native bfloat16: converted once, in memory.
        tensor = tensor.to(wanted)
    return tensor


# -- building and updating ---------------------------------------------------------------------------------------


def _catalog_source(catalog: Catalog, extractor: str) -> Iterator[FeatureChunk]:
    for rows in catalog.iter_product_feature_rows(extractor):
        yield chunk_of_rows(rows)


def _full_build(catalog: Catalog, extractor: str, stamp: dict[str, Any]) -> StyleIndex:
    count = len(catalog.product_feature_keys(extractor))
    if count == 0:
        raise UserError(
            f"No product images of the catalog in {catalog.folder} are indexed yet: run `stylerec index` first."
        )
    index = build_index(lambda: _catalog_source(catalog, extractor), count, extractor)
    _add_candidates(index)
    _save(catalog, index, stamp, fitted_rows=count)
    return index


def _add_candidates(index: StyleIndex) -> None:
    from stylerec_desktop.core.recommend import candidates

    if len(index) >= candidates.ANN_MIN_PRODUCTS and candidates.available():
        index.candidates = candidates.CandidateIndex.build(index)


def _save(catalog: Catalog, index: StyleIndex, stamp: dict[str, Any], **kwargs: Any) -> None:
    folder = store_folder(catalog)
    if catalog.read_only:
        # Nothing is written beside a catalog opened read-only: its index is rebuilt in memory on every open.
        log.info("The style index of read-only %s is kept in memory only", catalog.folder)
        return
    try:
        save_index(index, folder, stamp, **kwargs)
    except OSError as exc:
        # A catalog on read-only media still recommends; it rebuilds on every open.
        log.warning("The style index of %s could not be kept on disk (%s): it will be rebuilt next time",
                    folder.parent, exc)  # fmt: skip


def _update(catalog: Catalog, stored: StyleIndex, manifest: dict[str, Any], stamp: dict[str, Any]) -> StyleIndex | None:
    """``stored`` brought up to the catalog's current products (see the module docstring), saved; None when a
    full rebuild is due instead."""
    extractor = stamp["extractor"]
    keys = catalog.product_feature_keys(extractor)
    n = len(keys)
    if n < INCREMENTAL_FROM or len(stored) < INCREMENTAL_FROM:
        return None
    ids = np.fromiter((k[0] for k in keys), np.int64, n)
    shas = np.asarray([k[7] for k in keys], "S64")
    old_ids = stored.product_ids
    at = np.minimum(np.searchsorted(old_ids, ids), len(old_ids) - 1)
    kept = (old_ids[at] == ids) & (np.asarray(stored.image_keys)[at] == shas)
    changed = np.flatnonzero(~kept)
    updated = int(manifest.get("updated_rows", 0)) + len(changed)
    if updated > REFIT_SHARE * int(manifest.get("fitted_rows", len(stored))):
        return None
    rows = catalog.product_feature_rows_for(extractor, ids[changed].tolist()) if len(changed) else []
    if [r.product_id for r in rows] != ids[changed].tolist():
        return None  # the catalog moved while we read it: rebuild from one snapshot
    same_rows = bool(kept.all()) and n == len(stored)
    if same_rows:
        looks, style_raw, palettes = stored.looks, stored.style_raw, stored.palettes
    else:
        looks = torch.empty((n, stored.looks.shape[1]), dtype=stored.looks.dtype)
        style_raw = np.empty((n, stored.style_raw.shape[1]), np.float32)
        palettes = np.empty((n, *stored.palettes.shape[1:]), np.float32)
        new_bits, old_bits = _storage_view(looks), _storage_view(stored.looks)
        keep_new, keep_old = np.flatnonzero(kept), at[kept]
        for s in range(0, len(keep_new), 65_536):
            dst, src = keep_new[s : s + 65_536], keep_old[s : s + 65_536]
            new_bits[dst] = old_bits[src]
            style_raw[dst] = stored.style_raw[src]
            palettes[dst] = stored.palettes[src]
        if len(changed):
            chunk = chunk_of_rows(rows)
            looks[torch.from_numpy(changed)] = torch.from_numpy(project_chunk(chunk, stored.projections)).to(
                looks.dtype
            )
            style_raw[changed] = chunk.style
            palettes[changed] = chunk.palettes
    categories = [k[3] for k in keys]
    groups = [k[6] for k in keys]
    names = sorted(set(categories))
    code_of = {c: i for i, c in enumerate(names)}
    group_names = sorted({g for g in groups if g})
    group_code_of = {g: i for i, g in enumerate(group_names)}
    index = StyleIndex(
        extractor=extractor,
        product_ids=ids,
        skus=[k[1] for k in keys],
        titles=[k[2] for k in keys],
        category_names=names,
        category_codes=np.fromiter((code_of[c] for c in categories), np.int32, n),
        prices=np.asarray([np.nan if k[4] is None else k[4] for k in keys], np.float32),
        in_stock=np.fromiter((k[5] for k in keys), bool, n),
        group_names=group_names,
        group_codes=np.fromiter((group_code_of.get(g, -1) for g in groups), np.int32, n),
        looks=looks,
        blocks=stored.blocks,
        style_raw=style_raw,
        palettes=palettes,
        projections=stored.projections,
        behaviour=empty_behaviour(n),
        as_of=stored.as_of,
        image_keys=shas,
    )
    if stored.candidates is not None and not same_rows:
        gone = np.setdiff1d(old_ids, ids[kept])
        index.candidates = stored.candidates
        index.candidates.update(gone, ids[changed], index.rows(changed))
    elif stored.candidates is not None:
        index.candidates = stored.candidates
    else:
        _add_candidates(index)
    unchanged = {"looks", "style_raw", "palettes", "style_mean", "visual_mean", "visual_basis", "pattern_mean",
                 "pattern_scale"} if same_rows else {"style_mean", "visual_mean", "visual_basis", "pattern_mean",
                                                     "pattern_scale"}  # fmt: skip
    if same_rows and stored.candidates is not None:
        unchanged.add("candidates")
    _save(catalog, index, stamp, fitted_rows=int(manifest.get("fitted_rows", len(stored))), updated_rows=updated,
          unchanged=frozenset(unchanged))  # fmt: skip
    log.info("style index of %s updated: %d products re-projected, %d removed", catalog.folder, len(changed),
             len(stored) - int(kept.sum()))  # fmt: skip
    return index


def stored_index(catalog: Catalog, extractor: str) -> StyleIndex:
    """The style index of ``catalog``'s products for ``extractor`` features, from its store when that is current,
    updated when only some products changed, rebuilt otherwise (each case logged). Its behaviour is empty and its
    ``as_of`` meaningless: :func:`~stylerec_desktop.core.recommend.index.load_index` fills both from the events."""
    folder = store_folder(catalog)
    stamp = _stamp(catalog, extractor)
    try:
        stored, manifest = open_store(folder)
    except StaleStore as exc:
        if (folder / MANIFEST).exists() or folder.exists():
            log.warning("Rebuilding the style index of %s: the stored one is unusable (%s)", catalog.folder, exc)
        else:
            log.info("Building the style index of %s (%s)", catalog.folder, exc)
        return _full_build(catalog, extractor, stamp)
    if manifest["stamp"].get("extractor") != extractor:
        log.info("Rebuilding the style index of %s: it was built from other features (%s)", catalog.folder,
                 manifest["stamp"].get("extractor"))  # fmt: skip
        return _full_build(catalog, extractor, stamp)
    if manifest["stamp"] == stamp:
        if stored.candidates is None:
            _add_candidates(stored)  # too small for one when it was built, or built where FAISS was missing
            if stored.candidates is not None:
                _save(catalog, stored, stamp, fitted_rows=int(manifest["fitted_rows"]),
                      updated_rows=int(manifest.get("updated_rows", 0)),
                      unchanged=frozenset(_arrays(stored)) | {"strings"})  # fmt: skip
        return stored
    updated = _update(catalog, stored, manifest, stamp)
    if updated is not None:
        return updated
    log.info("Rebuilding the style index of %s: its products changed since it was built", catalog.folder)
    return _full_build(catalog, extractor, stamp)

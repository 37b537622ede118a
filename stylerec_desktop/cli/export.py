"""Export commands: export of products, recommendations, renders and campaign sets. The core lives in
core/export."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
from collections.abc import Callable
from typing import Any

from stylerec_desktop.cli.common import add_cluster_option, open_catalog, print_json, run
from stylerec_desktop.cli.stylize import style_sources
from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError

_EXPORT_TEMPLATE_SEVERAL_STYLES = "{sku}_{style}_{preset}"


def _export_style_sources(args: argparse.Namespace, catalog: Catalog) -> list[tuple[Any, str | None, str]]:
    """The export's style flags read by the stylize command's own helper (export names them --style-*, because
    --preset and --customer mean other things here)."""
    flags = argparse.Namespace(
        style_image=args.style_image, style_sku=args.style_sku, preset=args.style_preset, customer=args.style_customer,
        include_customer_ids=args.include_customer_ids,
    )
    return style_sources(flags, catalog)  # a taste is named customer-taste[-N] unless ids are included


def _export_style_options(args: argparse.Namespace) -> Any:
    """The restyle's options: the product-safe defaults (``stylize.looks``) with the flags given on top."""
    from stylerec_desktop.core.stylize.looks import product_safe_options

    given = {name: value for name, value in (("strength", args.strength), ("preserve_colour", args.preserve_colour),
             ("mask", args.mask)) if value is not None}  # fmt: skip
    return product_safe_options(seed=args.seed, device=args.device, **given)


def _export_given(args: argparse.Namespace) -> set[str]:
    """The restyle settings given on the command line (a doubtful product mask does not override those)."""
    return {name for name, value in (("strength", args.strength), ("preserve_colour", args.preserve_colour),
            ("mask", args.mask)) if value is not None}  # fmt: skip


def _export_selection(args: argparse.Namespace) -> str:
    """Which products the export takes: sku, customer, renders or campaign. Raises UserError for a bad mix."""
    chosen = [name for name, given in (("customer", args.customer), ("renders", args.renders),
              ("campaign", args.campaign is not None)) if given]  # fmt: skip
    if args.sku and chosen not in ([], ["campaign"]):
        chosen.insert(0, "sku")
    if len(chosen) > 1:
        raise UserError(f"Choose one of --sku, --customer, --renders or --campaign, not {' and '.join(chosen)}.")
    selection = chosen[0] if chosen else ("sku" if args.sku else "")
    if not selection:
        raise UserError("Say what to export: --sku SKU..., --customer ID --top K, --renders or --campaign N.")
    if args.top is not None and selection not in ("customer", "campaign"):
        raise UserError("--top goes with --customer (how many recommendations) or --campaign (products per segment).")
    if args.audience_files and selection != "campaign":
        raise UserError("--audience-files goes with --campaign: it writes one audience file per customer segment.")
    if args.top is not None and args.top < 1:
        raise UserError(f"--top must be at least 1, got {args.top}.")
    styled = args.style_image or args.style_sku or args.style_preset or args.style_customer
    if styled and selection in ("renders", "campaign"):
        what = "renders are exported as rendered" if selection == "renders" else "each segment's taste is the style"
        raise UserError(f"Style flags cannot be used with --{selection}: {what}.")
    return selection


def _campaign_segments(text: str) -> int | None:
    if text == "auto":
        return None
    try:
        return int(text)
    except ValueError:
        raise UserError(f"--campaign takes a number of segments (or nothing, to choose it), got {text!r}.") from None


def _print_export(result: Any, heading: str = "") -> None:
    where = f"{heading}: " if heading else ""
    print(f"{where}{len(result.files)} files in {result.out_dir} ({result.written} written, {result.skipped} "
          f"already complete); manifest {result.manifest_csv.name} + {result.manifest_json.name}"
          + (f"; zip {result.zip_path}" if result.zip_path else ""))  # fmt: skip
    for warning in result.warnings:
        print(f"  warning: {warning}", file=sys.stderr)
    for failure in result.failures:
        print(f"  failed: {failure.sku}: {failure.message}", file=sys.stderr)


def _privacy_report(catalog: Catalog, out_dir: str, args: argparse.Namespace) -> list[Any]:
    """The privacy check of the export folder, as export runs it at its end: the findings, and in text mode a
    summary on stderr (the files are written either way; what the user asked to include is reported too)."""
    from stylerec_desktop.core.privacy import privacy_check, summary

    findings = privacy_check(catalog, out_dir)
    if not args.json:
        lines = summary(findings, out_dir, limit=5)
        if findings and not args.include_customer_ids and not args.audience_files:
            lines.append("  These were not put there by this export's defaults: check the folder's other files "
                         "and the names given (--out, --name, titles).")  # fmt: skip
        print("\n".join(lines), file=sys.stderr)
    return findings


def cmd_export(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.export import ExportOptions, export_job, parse_presets, with_format
    from stylerec_desktop.core.export.items import product_items, render_items, restyle_items_job

    selection = _export_selection(args)
    if args.min_fidelity is None and args.flag_only:
        raise UserError("--flag-only goes with --min-fidelity F (which renders to flag).")
    if args.min_fidelity is not None and not 0.0 <= args.min_fidelity <= 1.0:
        raise UserError(f"--min-fidelity takes a product fidelity between 0 and 1, got {args.min_fidelity:g}.")
    presets = with_format(parse_presets(args.preset), args.format)
    if args.quality is not None:
        if not 1 <= args.quality <= 100:
            raise UserError(f"--quality must be 1 to 100, got {args.quality}.")
        presets = [dataclasses.replace(preset, quality=args.quality) for preset in presets]
    styles_given = args.style_image or args.style_sku or args.style_preset or args.style_customer
    several = len(args.style_image or ()) + len(args.style_sku or ()) + len(args.style_preset or ()) + len(
        args.style_customer or ()) > 1  # fmt: skip
    template = args.name or (_EXPORT_TEMPLATE_SEVERAL_STYLES if several else None)
    options = ExportOptions(zip=args.zip, template=template) if template else ExportOptions(zip=args.zip)
    with open_catalog(args) as catalog, _cluster_for(args):
        if selection == "campaign":
            from stylerec_desktop.core.export.campaign import campaign_job

            job = campaign_job(catalog, presets, args.out, segments=_campaign_segments(args.campaign),
                               skus=args.sku or None, top=args.top or 4, style_options=_export_style_options(args),
                               export_options=options, seed=args.seed, engine=args.engine,
                               min_fidelity=args.min_fidelity, flag_only=args.flag_only,
                               include_customer_ids=args.include_customer_ids, style_given=_export_given(args),
                               audience_files=args.audience_files, cluster=args.cluster)  # fmt: skip
            campaign = run(job, args)
            findings = _privacy_report(catalog, args.out, args)
            if args.json:
                print_json(campaign.to_dict() | {"privacy_findings": [f.describe() for f in findings]})
            else:
                seg = campaign.segmentation
                how = "chosen by silhouette" if seg.automatic else "as asked"
                left_out = f"; {len(seg.without_taste)} customers without a taste left out" if seg.without_taste else ""
                sizes = ", ".join(map(str, seg.sizes))
                print(f"{len(seg.segments)} customer segments ({how}), sizes {sizes}{left_out}")
                for segment in seg.segments:
                    _print_export(campaign.exports[segment.name], f"{segment.name} ({segment.size} customers)")
                    if segment.name in campaign.audience_files:
                        missing = campaign.audience_skipped[segment.name]
                        print(f"  audience (hashed emails): {campaign.audience_files[segment.name]}"
                              + (f" ({missing} members without an email left out)" if missing else ""))  # fmt: skip
                print(f"Campaign summary: {campaign.campaign_file}")
            failed = any(r.failures for r in campaign.exports.values())
            return 1 if failed else 0
        if selection == "renders":
            items = render_items(catalog, include_customer_ids=args.include_customer_ids)
        elif selection == "customer":
            from stylerec_desktop.core.recommend.service import recommend_for_customer

            recommended = recommend_for_customer(catalog, args.customer, k=args.top or 10)
            if not recommended.items:
                raise UserError(f"No product can be recommended to {args.customer} (every product is filtered out).")
            items = product_items(catalog, [rec.sku for rec, _ in recommended.items])
        else:
            items = product_items(catalog, args.sku)
        if styles_given:
            restyled = []
            for source, style_sku, label in _export_style_sources(args, catalog):
                restyle_job = restyle_items_job(
                    items, source, _export_style_options(args), args.engine, label, style_sku=style_sku,
                    include_customer_ids=args.include_customer_ids, fallback=_export_given(args),
                    cluster=args.cluster,
                )  # fmt: skip
                restyled += run(restyle_job, args)
            items = restyled
        gate = None
        if args.min_fidelity is not None:
            from stylerec_desktop.core.export.fidelity import gate_by_fidelity

            gate = gate_by_fidelity(items, args.min_fidelity, args.flag_only)
            items = list(gate.kept)
        result = run(export_job(items, presets, args.out, options, cluster=args.cluster), args)
        findings = _privacy_report(catalog, args.out, args)
    if gate is not None:
        from stylerec_desktop.core.export.fidelity import with_gate

        result = with_gate(result, gate)
    if args.json:
        print_json(result.to_dict() | {"privacy_findings": [f.describe() for f in findings]})
    else:
        _print_export(result)
    return 1 if result.failures else 0


def _cluster_for(args: argparse.Namespace) -> contextlib.AbstractContextManager[object]:
    """The --cluster session for the whole command (the restyle and the export then share it: one start of a
    local cluster, not two), or nothing."""
    if args.cluster is None:
        return contextlib.nullcontext()
    from stylerec_desktop.core.cluster import open_cluster

    return open_cluster(args.cluster)


def cmd_privacy_check(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.privacy import privacy_check, summary

    with open_catalog(args) as catalog:
        findings = privacy_check(catalog, args.folder)
    if args.json:
        print_json({"folder": args.folder, "findings": findings})
    else:
        print("\n".join(summary(findings, args.folder, limit=len(findings))))
    return 1 if findings else 0


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("privacy-check", cmd_privacy_check, "look through an export folder (file names, EXIF/XMP/IPTC, manifests, "
            "campaign and audience files, zips) for any id, name, email or hashed email of the catalog's customers; "
            "exit 1 when it finds any")  # fmt: skip
    p.add_argument("folder", metavar="FOLDER", help="the export folder")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p = add("export", cmd_export, "export products, recommendations, renders or campaign sets in ad formats, with "
            "manifests and provenance (exit 1 when some images failed)")  # fmt: skip
    p.add_argument("--sku", nargs="+", action="extend", metavar="SKU", help="these products (with --campaign: "
                   "the products of every segment)")  # fmt: skip
    p.add_argument("--customer", metavar="ID", help="the customer's top recommendations (--top K, default 10)")
    p.add_argument("--renders", action="store_true", help="every render stored in the catalog, with its recipe")
    p.add_argument("--campaign", nargs="?", const="auto", metavar="N", help="group customers by taste into N "
                   "segments (N omitted: chosen by silhouette, 2..6) and export each segment's products restyled in "
                   "its taste into segment-<n>/")  # fmt: skip
    p.add_argument("--top", type=int, metavar="K", help="with --customer: how many (default 10); with --campaign: "
                   "each segment's top K recommended products (default 4)")  # fmt: skip
    p.add_argument("--preset", required=True, metavar="NAME[,NAME...]", help="export presets: square, portrait, "
                   "story, landscape, web, thumb, or WxH (e.g. 1200x800)")  # fmt: skip
    p.add_argument("--format", choices=("jpeg", "jpg", "png", "webp"), help="file format of every preset")
    p.add_argument("--quality", type=int, metavar="1-100", help="JPEG / lossy WebP quality of every preset (default: "
                   "each preset's own, 85-92; PNG is lossless and ignores it)")  # fmt: skip
    p.add_argument("--name", metavar="TEMPLATE", help="file names: tokens {sku} {title} {category} {style} {preset} "
                   "{w} {h} {date} {seq} {segment} (default {sku}_{preset})")  # fmt: skip
    p.add_argument("--zip", action="store_true", help="also write a zip of the whole set")
    p.add_argument("--out", required=True, metavar="DIR", help="export folder (an interrupted export there resumes)")
    p.add_argument("--json", action="store_true", help="print the export summary as JSON")
    add_cluster_option(p)
    p.add_argument("--min-fidelity", type=float, metavar="F", help="refuse renders whose product fidelity (0..1, "
                   "measured on every render: product colour and edges kept) is below F; they are listed and the "
                   "export exits 1")  # fmt: skip
    p.add_argument("--flag-only", action="store_true", help="with --min-fidelity: export them anyway, flagged in "
                   "the manifest's fidelity_flag column")  # fmt: skip
    privacy = p.add_argument_group("customer privacy (by default nothing that identifies a customer is exported)")
    privacy.add_argument("--include-customer-ids", action="store_true", help="write customer ids into this export: "
                         "a --style-customer taste is named by its customer in file names, image metadata and "
                         "manifests, and campaign.json lists each segment's members")  # fmt: skip
    privacy.add_argument("--audience-files", action="store_true", help="with --campaign: also write "
                         "segment-<n>-audience.csv per segment, the SHA-256 of each member's normalised "
                         "email (the form Google Ads Customer Match and Meta custom audiences take), never "
                         "the emails")  # fmt: skip
    style = p.add_argument_group("restyle on the way out (as `stylerec stylize`; recorded in provenance + manifest)")
    style.add_argument("--style-image", action="append", metavar="FILE", help="any picture as the style")
    style.add_argument("--style-sku", action="append", metavar="SKU", help="a catalog product's image as the style")
    style.add_argument("--style-preset", action="append", metavar="N[:W],...", help="built-in style 0-25 or a blend "
                       "(stylize's --preset)")  # fmt: skip
    style.add_argument("--style-customer", action="append", metavar="ID", help="a customer's taste (stylize's "
                       "--customer; needs `stylerec index`)")  # fmt: skip
    style.add_argument("--engine", choices=("arbitrary", "preset", "colour", "gatys"),
                       help="default: preset for --style-preset, arbitrary otherwise")  # fmt: skip
    style.add_argument("--strength", type=float, help="0..1 (default: the product-safe default, `stylerec looks`)")
    style.add_argument("--preserve-colour", action=argparse.BooleanOptionalAction, default=None,
                       help="keep the product's colours (default: the product-safe default)")  # fmt: skip
    style.add_argument("--mask", choices=("all", "background", "product"), help="default: the product-safe default")
    style.add_argument("--seed", type=int, default=0, help="seed of the renders and of the campaign's clustering")
    style.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")

"""The core's error sentences, told for the window: its command-line advice becomes the menu or panel that does the
same thing here, and advice the window has no use for is left out.

The core writes one sentence for both faces ("No product with sku 'X' in this catalog. `stylerec products list`
shows them."); the CLI prints it as it is, the GUI passes it through :func:`for_people` first. Errors that already
carry a wording for an interactive app (``interactive_message``, e.g. an import's bad rows) keep theirs.
"""

from __future__ import annotations

import re

# (pattern, replacement) in order; each replaces a piece of command-line advice with the GUI's way to do it.
_GUI_WAYS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"(?:run )?`stylerec (?:--catalog \S+ )?index`", "choose Catalog ▸ Index styles"),
        (r"Create one with `stylerec (?:--catalog \S+ )?init`", "Create one with File ▸ New catalog"),
        (r"a demo with `stylerec (?:--catalog \S+ )?demo`", "build the demo from the start page"),
        (r"`stylerec products list` shows them\.", "Search products (Ctrl+F) finds them."),
        (r"`stylerec customers list` shows them\.", "Find a customer (Ctrl+K) finds them."),
        (r"`stylerec stylize` or the Studio panel", "the Studio"),
        (r"(?:import it )?with `stylerec models --import-vgg19 FILE`", "import it in Settings ▸ Models"),
        (r"\(stylerec tune, or Tune for this catalog\)", "(Catalog ▸ Tune recommendations for this catalog)"),
        (r"; use --device cpu \(or auto\)\.", "; choose Automatic or CPU in Settings ▸ Processing."),
    )
)
# Command-line advice left after the replacements: a `stylerec ...` command or a --flag.
_CLI_ADVICE = re.compile(r"`stylerec[^`]*`|(?<![\w-])--[a-z][a-z0-9-]*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(])")


def for_people(message: str) -> str:
    """``message`` with command-line advice turned into the GUI's own (``"run `stylerec index` first"`` becomes
    ``"choose Catalog ▸ Index styles first"``); a sentence that is nothing but other command-line advice is left
    out, unless it is the only one."""
    for pattern, replacement in _GUI_WAYS:
        message = pattern.sub(replacement, message)
    sentences = _SENTENCE_END.split(message.strip())
    kept = [s for s in sentences if not _CLI_ADVICE.search(s)]
    return " ".join(kept) if kept else message

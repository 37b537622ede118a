"""The precisions a user can ask for. Kept apart from :mod:`device`, which imports torch, so that option objects
and the GUI's controls can name them without loading torch."""

PRECISIONS: tuple[str, ...] = ("auto", "fp32", "fp16", "bf16")

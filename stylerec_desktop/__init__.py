"""StyleRec Desktop: style-aware recommendations and restyling for catalog teams."""

__version__ = "0.1.0"

"""wann: fast Weight Agnostic Neural Network search."""

__version__ = "0.1.0"

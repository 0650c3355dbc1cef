"""Loyalist analytics core: Polars in, Polars and dataclasses out.

Nothing here imports Rich, Typer or Textual (tests/test_layers.py enforces it).
"""

__version__ = "0.1.0"

"""The kinds a recipe can list: every analysis of the registry (core.registry), by kind.

A view, not a second list: register an analysis in core/registry/catalog/ and recipes,
`loyalist export kinds` and `export init` know it.
"""

from __future__ import annotations

from core.registry import ANALYSES as REPORT_KINDS
from core.registry import Analysis as ReportKind

__all__ = ["REPORT_KINDS", "ReportKind"]

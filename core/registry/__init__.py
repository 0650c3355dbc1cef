"""One registry of analyses: each declared once, here in core, and everything else made from it.

The CLI's analysis commands and their options (commands/analysis.py), the app's report
list, option forms and palette entries (tui/screens/report_entries.py), recipe checking
and `loyalist export kinds|init` (core/export/recipe.py) all read this registry, and
`run_analysis(kind, ws, options)` is the one way each of them runs an analysis: options
checked (InputError names the option and the fix), tables checked (Workspace.require,
called in one place), the analysis run, its options and the workspace's files recorded in
the Result's params.

Registering costs nothing: declarations import only this package; the function that runs
an analysis is named as "module:function" and imported when it first runs.

How to add an analysis (one function, one registration, one test; nothing else to touch):

1. Write the function in core, returning a core.result.Result whose name is the kind:

       # core/products/rules.py
       def rules(ws, *, level: str = "product", min_support: float = 0.01,
                 as_of: dt.date | None = None) -> Result:
           tx = ws.scan("transactions")          # tables were checked before the call
           ...                                   # import scipy/sklearn inside, not at the top
           return Result("products.rules", "Association rules", {"rules": table}, ...)

   Or, for a function of LazyFrames (like the reports in core.evaluate), declare
   takes="tables": it is called with every needed table, and every used table the
   workspace has, as keyword arguments named after the tables.

2. Register it in core/registry/catalog/<group>.py (a new group: a new module there with
   `register_group(Group(...))`; modules in catalog/ are found on their own):

       register(Analysis(
           "products.rules", "Association rules",
           "Products bought together: support, confidence and lift, overall or per segment",
           run="core.products.rules:rules",
           needs=("transactions",), uses=("customers",),
           options=(
               Option("level", CHOICE, "product", choices=("product", "category"),
                      help="Mine rules between products or categories"),
               Option("min_support", FLOAT, 0.01, low=0.0, high=1.0,
                      help="Smallest share of baskets a rule must cover"),
               AS_OF,
           ),
           per_customer=(),                      # tables of one row per customer, if any
       ))

   Option names are the function's keyword arguments; `flags=("--window",)` gives the CLI
   a different spelling (recipes accept it too, `window`), `flags=("--experiment", "-e")`
   adds a short one. `When("by", "quadrant", needs=("touchpoints",))` says an option
   changes the tables needed.

3. Write one test of the function against an independent reference (a published value,
   a well-known library used only in tests).

That is all: `loyalist products rules` with one flag per option (a new group is mounted by
commands/app.py; a commands/<group>.py module is needed only for CLI-only behaviour), the
app's list, form and palette entry (groups whose Group.screen is "reports"), recipes,
`export kinds` and `export init` follow. The registry's own tests check the declaration
against the function's signature (names, defaults), the command against the declaration,
and run every kind on the sample into HTML, XLSX and Markdown (tests/core/test_registry.py,
tests/commands/test_analysis_commands.py, tests/commands/test_export_packs.py).
"""

from __future__ import annotations

import importlib
import pkgutil

from core.registry import catalog
from core.registry.model import (ANALYSES, GIVEN, GROUPS, Analysis, Group, When, analyses, detail_tables, get,
                                 groups, register, register_group)
from core.registry.options import (BOOL, CHOICE, DATE, FLOAT, INT, LIST, PAIRS, PATH, TABLE, TEXT, TYPES, Option,
                                   OptionError, key_of, toml_literal)
from core.registry.run import checked_for, resolve_options, run_analysis

__all__ = ["ANALYSES", "BOOL", "CHOICE", "DATE", "FLOAT", "GIVEN", "GROUPS", "INT", "LIST", "PAIRS", "PATH",
           "TABLE", "TEXT", "TYPES", "Analysis", "Group", "Option", "OptionError", "When", "analyses",
           "checked_for", "detail_tables", "get", "groups", "key_of", "register", "register_group", "resolve_options",
           "run_analysis", "toml_literal"]

# The groups in the order the CLI and the app show them; any other module in catalog/ after.
_ORDER = ("data", "segment", "scale", "report", "predict")
for _name in (*_ORDER, *sorted({m.name for m in pkgutil.iter_modules(catalog.__path__)} - set(_ORDER))):
    importlib.import_module(f"core.registry.catalog.{_name}")

"""The Textual app: `loyalist tui [WORKSPACE]`.

Screens live one per module in tui/screens and are registered in tui/screens/__init__.py;
widgets in tui/widgets render core Results and Polars frames and never compute; all
Polars work runs in thread workers. Layout and theme are in tui/app.tcss.
"""

"""Widgets that render core Results and Polars frames; they never compute."""

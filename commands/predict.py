"""Placeholder: the 'predict' command group is being written."""

import typer

app = typer.Typer(help="(coming soon)", no_args_is_help=True)

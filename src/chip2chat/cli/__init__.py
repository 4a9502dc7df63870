"""The `chip2chat` command: parses arguments, calls the Python API, prints. Nothing else.

app.py holds the typer app and what the commands share; serve.py `estimate` and `simulate`;
commands.py the others; main.py the entry point that turns every bad input into one line.
"""

from chip2chat.cli.main import app, main

__all__ = ["app", "main"]

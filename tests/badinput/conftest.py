"""`cli` fixture: run `chip2chat` in this process; see contract.py for what each case asserts."""

import pytest

from contract import run_cli


@pytest.fixture
def cli(capsys):
    return lambda *args: run_cli(capsys, *args)

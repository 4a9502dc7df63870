"""`python -m chip2chat.cli ...` runs the command line."""

from chip2chat.cli.main import main

main()

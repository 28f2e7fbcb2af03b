"""`python -m integration.cli`: the same as the `escalator` command."""
from integration.cli import main

main()

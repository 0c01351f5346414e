"""``python -m aidisclose``: the command line, as the ``aidisclose`` script runs it."""

from .cli import main

main()

"""``python -m aidisclose``: the command line, as the ``aidisclose`` script runs it."""

from ._launch import main

main()

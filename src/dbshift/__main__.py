"""``python -m dbshift``: the same as the ``dbshift`` command."""

from dbshift.cli import main

main()

"""`python -m teamrel`: the same as the `teamrel` console script."""

from teamrel.cli.app import main

main()

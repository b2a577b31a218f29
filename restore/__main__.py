"""`python -m restore` runs the bmr command line."""

from restore.cli.app import main

main()

"""`python -m restore` runs the bmr command line."""

from restore.cli import main

main()

"""Run the autoknow CLI from a checkout: `python cli.py --help` (same as the `autoknow` command)."""

from autoknow_rdf.cli import main

if __name__ == "__main__":
    main()

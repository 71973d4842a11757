"""``python -m shallow``: the ``relu-shallow`` command line (same as the installed script)."""

from shallow.cli.main import cli

if __name__ == "__main__":
    cli(prog_name="relu-shallow")

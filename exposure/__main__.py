"""``python -m exposure`` runs the ``exposure`` command."""

from .cli import run

# Guarded: worker processes started with "spawn" import the main module again.
if __name__ == "__main__":
    run()

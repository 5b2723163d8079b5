"""``python -m exposure`` runs the ``exposure`` command."""

import sys

from .cli import main

sys.exit(main())

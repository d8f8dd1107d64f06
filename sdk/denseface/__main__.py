"""``python -m denseface``: the command line of :mod:`denseface.cli`."""
import sys

from denseface.cli import main

sys.exit(main())

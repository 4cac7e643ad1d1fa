"""``python -m derivations``: the command line of `derivations.cli`."""

import sys

from derivations.cli import main

sys.exit(main())

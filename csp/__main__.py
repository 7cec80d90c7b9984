"""`python -m csp` is the `csp` console script."""

import sys

from csp.cli import main

sys.exit(main())

"""``python -m ptm_fast`` is the ``ptm`` command."""

import sys

from ptm_fast.cli import main

sys.exit(main())

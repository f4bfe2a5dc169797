"""``python -m gradlm``: the same as the ``gradlm`` command."""

import sys

from .cli import main

sys.exit(main())

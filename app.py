"""The question page, started from the project folder: ``python app.py [--host ...] [--port ...]``
(the same as ``bulletin-qa serve``).  The page itself is the package ``qa/app/web/``."""

import sys

from qa.app.web.layout import EXAMPLES  # noqa: F401 - the page's example questions, for scripts
from qa.app.web.server import main

if __name__ == "__main__":
    sys.exit(main())

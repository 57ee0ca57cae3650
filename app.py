"""The question page, started from the project folder: ``python app.py [--host ...] [--port ...]``
(the same as ``bulletin-qa serve``).  The page itself is ``qa/ui.py``."""

import sys

from qa import ui
from qa.ui import main


def __getattr__(name):  # `import app; app.ask(...)`: older scripts and tests reach the page's names
    return getattr(ui, name)


if __name__ == "__main__":
    sys.exit(main())

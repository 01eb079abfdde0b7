"""Integration fixtures; the helpers live in harness.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import emulator  # noqa: E402,F401  pylint: disable=unused-import,wrong-import-position

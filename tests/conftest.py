"""Test-wide set-up: import the collection from its installed copy and the emulator from tests/."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH", os.path.join(ROOT, ".collections")).split(os.pathsep)[0]

# The installed tarball, not the checkout: a file left out of the build must fail the tests.
sys.path.insert(0, COLLECTIONS)
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))

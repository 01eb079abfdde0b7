"""Stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test fetches get-pip from a host outside the package registries; this installs the pip it
asks for using the pip wheel bundled with CPython's ensurepip, so sanity and unit venvs can be built
with only PyPI reachable.
"""

import glob
import os
import runpy
import sys

import ensurepip

IGNORED = ("--no-setuptools", "--no-wheel")

bundled = glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl"))
sys.path.insert(0, bundled[0])
args = [arg for arg in sys.argv[1:] if arg not in IGNORED]
sys.argv = ["pip", "install", "--upgrade", "--force-reinstall"] + args
runpy.run_module("pip", run_name="__main__", alter_sys=True)

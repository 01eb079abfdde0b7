#!/usr/bin/env python
"""Run the APIG / ROMA Connect emulator.

    python tests/emulator/run.py --port 0 --port-file PATH --data DATA.yml [--faults FAULTS.yml]
                                 [--seed N] [--task-seconds 1.0]

Prints http://127.0.0.1:PORT once listening and serves until SIGTERM or SIGINT.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apig_emulator.server import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

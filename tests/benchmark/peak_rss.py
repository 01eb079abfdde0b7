"""An interpreter wrapper for `ansible_python_interpreter`: runs the real interpreter on the module and
appends the peak RSS of that process (ru_maxrss of the child, KiB) to the file named by
BENCH_RSS_LOG. The benchmark uses it only for the runs that measure memory, never for timed runs.
"""

import json
import os
import resource
import subprocess
import sys

status = subprocess.call([os.environ["BENCH_REAL_PYTHON"]] + sys.argv[1:])
with open(os.environ["BENCH_RSS_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps({"argv": sys.argv[1:],
                          "maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}) + "\n")
sys.exit(status)

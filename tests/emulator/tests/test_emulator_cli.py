"""The command: free port, port file, URL on stdout, clean exit on SIGTERM."""

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml

RUN = Path(__file__).resolve().parent.parent / "run.py"
DATA = Path(__file__).resolve().parent.parent / "data" / "test.yml"


def test_run_serves_until_sigterm(tmp_path):
    port_file = tmp_path / "port"
    faults = tmp_path / "faults.yml"
    faults.write_text(yaml.safe_dump({"seed": 3, "rules": [{"class": "writes", "kind": "429", "rate": 0.5}]}))
    process = subprocess.Popen(
        [sys.executable, str(RUN), "--port", "0", "--port-file", str(port_file), "--data", str(DATA),
         "--faults", str(faults), "--seed", "11", "--task-seconds", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        port = int(port_file.read_text())
        assert url == f"http://127.0.0.1:{port}"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{url}/_emulator/faults", timeout=10) as response:
            assert json.loads(response.read())["seed"] == 11
        with opener.open(f"{url}/_emulator/settings", timeout=10) as response:
            assert json.loads(response.read())["task_seconds"] == 0.5
    finally:
        process.send_signal(signal.SIGTERM)
        _stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr

"""The collection claims ansible-core >= 2.16 (meta/runtime.yml): every module's smoke run, check mode ->
change -> idempotent re-run, on the oldest ansible-core that claim covers and on the newest this
Python installs (the one of the test virtualenv; sanity runs on it too).

The oldest runs from a virtualenv of its own, with only the collection's runtime requirements; `make
test` builds it (`make venv-oldest`) and passes its bin folder in HWC_APIG_OLDEST_CORE_BIN.
"""

import json
import os
import subprocess

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from harness import BIN, HERE, INSTANCES, ROOT, base_env

OLDEST_BIN = os.environ.get("HWC_APIG_OLDEST_CORE_BIN")
TIERS = {
    # tier: (bin folder, lowest version, first version above the tier)
    "oldest": (OLDEST_BIN, "2.16.0", "2.17.0"),
    "newest": (BIN, "2.19.0", "2.20.0"),
}


def test_the_tiers_cover_the_claimed_range():
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as handle:
        claimed = yaml.safe_load(handle)["requires_ansible"]
    assert claimed == ">=%s" % TIERS["oldest"][1]
    with open(os.path.join(ROOT, "tests", "compat", "requirements-core-oldest.txt")) as handle:
        pins = [Requirement(line) for line in handle.read().splitlines() if line.startswith("ansible-core")]
    assert len(pins) == 1
    _tier_bin, lowest, above = TIERS["oldest"]
    assert pins[0].specifier.contains(lowest) and not pins[0].specifier.contains(above)
    assert not pins[0].specifier.contains(str(Version(lowest).major) + ".%d.99" % (Version(lowest).minor - 1))


@pytest.mark.parametrize("tier", sorted(TIERS))
def test_every_module_smoke(tmp_path, emulator, tier):
    bin_dir, lowest, above = TIERS[tier]
    if bin_dir is None:
        pytest.skip("HWC_APIG_OLDEST_CORE_BIN is not set: run `make venv-oldest` and point it at its bin folder")
    assert os.path.exists(os.path.join(bin_dir, "ansible-playbook")), bin_dir
    env = base_env(tmp_path)
    env["PATH"] = bin_dir + os.pathsep + env["PATH"]
    (tmp_path / "exports").mkdir()
    variables = {"emulator_url": emulator.url, "compat_apig_instance": INSTANCES["apig"],
                 "compat_roma_instance": INSTANCES["roma"], "compat_export_dir": str(tmp_path / "exports"),
                 "compat_core_min": lowest, "compat_core_below": above}
    result = subprocess.run(
        [os.path.join(bin_dir, "ansible-playbook"), "-i", "localhost,", "-e", json.dumps(variables),
         os.path.join(HERE, "playbooks", "compat_smoke.yml")],
        env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    assert "ok=" in result.stdout and "failed=0" in result.stdout

"""Integration tier: ansible-playbook runs against the emulator, started as its own command."""

import json
import os
import subprocess
import sys

import pytest
from apig_emulator.testing import EmulatorProcess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(HERE, "data.yml")
BIN = os.path.dirname(sys.executable)
# The installed copy under test (the Makefile exports its location).
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH", os.path.join(ROOT, ".collections")).split(os.pathsep)[0]

PROJECT_ID = "0123456789abcdef0123456789abcdef"
ACCESS_KEY = "ITESTAK00000000000AK"
SECRET_KEY = "itestSecretKey0123456789abcdefghijklmno"
IAM_USER = {"HWC_USERNAME": "itest-user", "HWC_PASSWORD": "Itest-Passw0rd!", "HWC_DOMAIN_NAME": "itest-account"}
INSTANCES = {"apig": "eddc4d25480b4cd6b512f270a1b8b341", "roma": "a1b2c3d4e5f60718293a4b5c6d7e8f90"}


@pytest.fixture
def emulator(tmp_path):
    running = EmulatorProcess(DATA, tmp_path / "emulator.port", subprocess.DEVNULL, "--task-seconds", "0.3")
    yield running
    running.stop()


def base_env(tmp_path, auth="aksk"):
    """A clean environment: connection settings the way AWX injects a credential."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("HUAWEICLOUD_", "HW_", "HWC_", "ANSIBLE_"))}
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_ROLES_PATH": os.path.join(HERE, "targets"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_STDOUT_CALLBACK": "default",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
        "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT_ID,
    })
    if auth == "aksk":
        env.update({"HUAWEICLOUD_SDK_AK": ACCESS_KEY, "HUAWEICLOUD_SDK_SK": SECRET_KEY})
    elif auth == "password":
        env.update(IAM_USER)
    return env


def run_playbook(tmp_path, playbook, extra_vars, auth="aksk", env_extra=None, verbosity=0, check=True):
    env = base_env(tmp_path, auth)
    env.update(env_extra or {})
    variables = {"ansible_python_interpreter": sys.executable}
    variables.update(extra_vars)
    command = [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", json.dumps(variables), playbook]
    if verbosity:
        command.append("-" + "v" * verbosity)
    result = subprocess.run(command, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=900,
                            check=False)
    if check and result.returncode != 0:
        pytest.fail("ansible-playbook failed (rc %d):\n%s\n%s" % (result.returncode, result.stdout[-20000:],
                                                                  result.stderr[-5000:]))
    return result


def run_target(tmp_path, emulator, target, service, auth="aksk", **extra):
    variables = {"integration_target": target, "emulator_url": emulator.url, "apig_service": service,
                 "apig_instance_id": INSTANCES[service]}
    variables.update(extra)
    return run_playbook(tmp_path, os.path.join(HERE, "playbooks", "target.yml"), variables, auth=auth)


def start_emulator(tmp_path, data, *args):
    """The emulator on a seed file of a test's own (the `emulator` fixture serves data.yml); stop() it."""
    return EmulatorProcess(data, tmp_path / "emulator.port", subprocess.DEVNULL, "--task-seconds", "0.3", *args)


def run_ansible_playbook(tmp_path, arguments, auth="aksk", env_extra=None, check=True):
    """ansible-playbook with exactly these arguments, in tmp_path.

    Unlike run_playbook it adds no inventory, connection or interpreter, so a collection playbook runs
    the way a user (or AWX) starts it.
    """
    env = base_env(tmp_path, auth)
    env.update(env_extra or {})
    result = subprocess.run([os.path.join(BIN, "ansible-playbook")] + list(arguments), env=env, cwd=str(tmp_path),
                            capture_output=True, text=True, timeout=900, check=False)
    if check and result.returncode != 0:
        pytest.fail("ansible-playbook failed (rc %d):\n%s\n%s" % (result.returncode, result.stdout[-20000:],
                                                                  result.stderr[-5000:]))
    return result

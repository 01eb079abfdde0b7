"""The README's example playbook and the getting-started guide work as written, with `localhost` in the
inventory; and without `requests` in the Python that runs the module the failure names that Python."""

import os
import re
import subprocess
import sys

from apig_emulator.testing import DEMO_DATA

from harness import BIN, INSTANCES, PROJECT_ID, ROOT, base_env, start_emulator

CONNECTION_VARIABLES = ("HUAWEICLOUD_", "HW_", "HWC_")


def read(path):
    with open(os.path.join(ROOT, path)) as handle:
        return handle.read()


def code_blocks(text, language):
    return re.findall(r"^```%s\n(.*?)^```" % language, text, flags=re.S | re.M)


def only_block(text, language, marker):
    blocks = [block for block in code_blocks(text, language) if marker in block]
    assert len(blocks) == 1, "expected one %s block with %r, found %d" % (language, marker, len(blocks))
    return blocks[0]


def ansible_playbook(tmp_path, env, *arguments):
    return subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,"] + list(arguments), env=env,
                          cwd=str(tmp_path), capture_output=True, text=True, timeout=600, check=False)


def readme_playbook(tmp_path):
    path = tmp_path / "readme.yml"
    path.write_text(only_block(read("README.md"), "yaml", "- name: Release the orders group"))
    return str(path)


def readme_variables():
    return ["-e", "hwc_project_id=%s" % PROJECT_ID, "-e", "hwc_instance_id=%s" % INSTANCES["apig"], "-e",
            "release_version=1.0.0"]


def test_the_readme_example_runs_as_written(tmp_path, emulator):
    env = base_env(tmp_path)  # AK/SK from the environment, as the README says
    env["HWC_APIG_ENDPOINT"] = emulator.url
    result = ansible_playbook(tmp_path, env, readme_playbook(tmp_path), *readme_variables())
    assert result.returncode == 0, result.stdout[-10000:] + result.stderr[-3000:]
    assert "'published': 5" in result.stdout.replace('"', "'")
    assert emulator.control.log()["counts"]["BatchPublishOrOfflineApiV2"] == 1


def test_without_requests_the_failure_names_the_python_that_lacked_it(tmp_path, emulator):
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=120)
    python = str(bare / "bin" / "python")
    env = base_env(tmp_path)
    env["HWC_APIG_ENDPOINT"] = emulator.url
    # Extra variables win over the play's vars: the module runs in a Python without requests.
    result = ansible_playbook(tmp_path, env, readme_playbook(tmp_path), *readme_variables(),
                              "-e", "ansible_python_interpreter=%s" % python)
    assert result.returncode != 0
    output = " ".join(result.stdout.split())
    assert "Failed to import the required Python library (requests)" in output
    assert "Python %s." % python in output
    assert "ansible_python_interpreter: \\\"{{ ansible_playbook_python }}\\\"" in output or \
        'ansible_python_interpreter: "{{ ansible_playbook_python }}"' in output
    assert "counts" not in emulator.control.log() or not emulator.control.log()["counts"]


def test_the_getting_started_guide_runs_as_written(tmp_path):
    guide = read("docs/getting-started.md")
    exports = {}
    for line in only_block(guide, "bash", "export HWC_APIG_ENDPOINT").splitlines():
        name, value = line.partition("export ")[2].split("=", 1)
        exports[name] = value
    playbook = only_block(guide, "yaml", "# first-release.yml")
    (tmp_path / "first-release.yml").write_text(playbook)
    assert "ansible-playbook first-release.yml" in guide

    emulator = start_emulator(tmp_path, DEMO_DATA)
    try:
        assert exports.pop("HWC_APIG_ENDPOINT") == "http://127.0.0.1:8080"
        env = {name: value for name, value in base_env(tmp_path, auth="none").items()
               if not name.startswith(CONNECTION_VARIABLES)}
        env.update(exports, HWC_APIG_ENDPOINT=emulator.url)  # the port this test's emulator got
        first = ansible_playbook(tmp_path, env, "first-release.yml")
        assert first.returncode == 0, first.stdout[-10000:] + first.stderr[-3000:]
        assert "export changed: True" in first.stdout
        assert (tmp_path / "pet-store.yaml").exists()
        mtime = os.stat(str(tmp_path / "pet-store.yaml")).st_mtime_ns

        emulator.control.reset_log()
        second = ansible_playbook(tmp_path, env, "first-release.yml")
        assert second.returncode == 0, second.stdout[-10000:] + second.stderr[-3000:]
        assert "export changed: False" in second.stdout and "'published': 0" in second.stdout.replace('"', "'")
        assert "write" not in emulator.control.log()["classes"]
        assert os.stat(str(tmp_path / "pet-store.yaml")).st_mtime_ns == mtime
    finally:
        emulator.stop()

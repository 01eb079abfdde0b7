"""The role hwc.apig.release and the playbook hwc.apig.release_and_export as built: the argument spec
renders with ansible-doc, its defaults are the role's defaults, every variable the role reads is in
it, and the build carries the role, its templates and the playbook."""

import json
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH", os.path.join(ROOT, ".collections")).split(os.pathsep)[0]
INSTALLED = os.path.join(COLLECTIONS, "ansible_collections", "hwc", "apig")
ROLE = os.path.join(INSTALLED, "roles", "release")
REQUIRED = {"release_env", "release_groups"}
# Facts the role sets for the play (documented in its argument spec description), not inputs.
OUTPUTS = {"release_report"}


def load(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def spec():
    return load(os.path.join(ROLE, "meta", "argument_specs.yml"))["argument_specs"]["main"]


def test_ansible_doc_renders_the_role():
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS)
    output = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "-t", "role", "--json",
                             "hwc.apig.release"], env=env, capture_output=True, text=True, check=True).stdout
    main = json.loads(output)["hwc.apig.release"]["entry_points"]["main"]
    assert main["short_description"] and main["description"] and main["version_added"] == "1.0.0"
    options = main["options"]
    assert set(options) == set(spec()["options"])
    for name, option in options.items():
        assert name.startswith("release_") and option["description"] and option["type"], name
    assert {name for name, option in options.items() if option.get("required")} == REQUIRED
    assert set(options["release_groups"]["options"]) == {"name", "apis"}
    env["ANSIBLE_NOCOLOR"] = "1"
    text = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "-t", "role",
                           "hwc.apig.release"], env=env, capture_output=True, text=True, check=True).stdout
    assert "release_retire_backend_apis" in text and "ENTRY POINT" in text and "release_export_oas_version" in text


def test_defaults_mirror_the_argument_spec():
    defaults = load(os.path.join(ROLE, "defaults", "main.yml"))
    options = spec()["options"]
    assert set(defaults) == set(options) - REQUIRED
    for name, value in defaults.items():
        assert options[name]["default"] == value, name
        assert type(value).__name__ == {"str": "str", "path": "str", "bool": "bool", "list": "list"}[options[name]["type"]], name
        if "choices" in options[name]:
            assert value in options[name]["choices"], name


def test_every_variable_the_role_reads_is_in_the_spec():
    used = set()
    for folder in ("tasks", "templates"):
        for name in os.listdir(os.path.join(ROLE, folder)):
            with open(os.path.join(ROLE, folder, name)) as handle:
                used |= set(re.findall(r"\brelease_[a-z][a-z_]*", handle.read()))
    assert used - OUTPUTS == set(spec()["options"])


def test_role_metadata():
    galaxy = load(os.path.join(ROLE, "meta", "main.yml"))["galaxy_info"]
    assert galaxy["license"] == "GPL-3.0-or-later" and galaxy["description"] and galaxy["standalone"] is False
    assert galaxy["min_ansible_version"] == load(os.path.join(ROOT, "meta", "runtime.yml"))["requires_ansible"][2:-2]


def test_the_build_carries_the_role_and_the_playbook():
    for path in ("README.md", "tasks/main.yml", "tasks/validate.yml", "tasks/publish.yml", "tasks/retire.yml",
                 "tasks/export.yml", "tasks/report.yml", "templates/release-report.json.j2",
                 "templates/release-report.md.j2"):
        assert os.path.isfile(os.path.join(ROLE, path)), path
    play = load(os.path.join(INSTALLED, "playbooks", "release_and_export.yml"))[0]
    assert play["connection"] == "local" and play["vars"]["ansible_python_interpreter"] == "{{ ansible_playbook_python }}"
    assert set(play["module_defaults"]) == {"group/hwc.apig.apig"}
    assert os.path.isfile(os.path.join(INSTALLED, "docs", "release-report.schema.json"))

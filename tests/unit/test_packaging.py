"""The built collection: its version, its action group and its docs agree with its files."""

import json
import os
import subprocess
import sys

import yaml

from ansible_collections.hwc.apig.plugins.module_utils import client

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH", os.path.join(ROOT, ".collections")).split(os.pathsep)[0]
INSTALLED = os.path.join(COLLECTIONS, "ansible_collections", "hwc", "apig")


def load(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def modules():
    return sorted(name[:-3] for name in os.listdir(os.path.join(INSTALLED, "plugins", "modules"))
                  if name.endswith(".py") and not name.startswith("_"))


def test_user_agent_version_is_the_collection_version():
    assert client.COLLECTION_VERSION == load(os.path.join(ROOT, "galaxy.yml"))["version"]
    assert client.USER_AGENT == "hwc.apig/" + client.COLLECTION_VERSION


def test_every_module_is_in_the_action_group():
    runtime = load(os.path.join(INSTALLED, "meta", "runtime.yml"))
    assert runtime["requires_ansible"] == ">=2.16.0"
    assert sorted(runtime["action_groups"]["apig"]) == modules()


def test_the_build_leaves_out_what_is_not_product():
    present = set(os.listdir(INSTALLED))
    assert {"plugins", "meta", "README.md", "COPYING", "docs", "changelogs"} <= present
    assert not present & {"tests", "Makefile", ".venv", ".ci", "build", "pytest.ini"}


def test_ansible_doc_renders_every_module():
    names = ["hwc.apig." + name for name in modules()]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS)
    output = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "--json"] + names,
                            env=env, capture_output=True, text=True, check=True).stdout
    docs = json.loads(output)
    for name in names:
        doc = docs[name]["doc"]
        assert doc["short_description"] and "project_id" in doc["options"] and "access_key" in doc["options"]
        assert docs[name]["examples"] and docs[name]["return"]

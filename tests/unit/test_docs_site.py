"""The docs: a docs-site page for every collection playbook (antsibull-docs makes the module and role
pages), a changed-rule for every module, and every guide the README links to."""

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(*path):
    with open(os.path.join(ROOT, *path)) as handle:
        return handle.read()


def names(folder, suffix):
    return sorted(name[:-len(suffix)] for name in os.listdir(os.path.join(ROOT, folder))
                  if name.endswith(suffix) and not name.startswith("_"))


def test_every_collection_playbook_has_a_page_in_the_docs_site():
    extra = yaml.safe_load(read("docs", "docsite", "extra-docs.yml"))
    pages = [page for section in extra["sections"] for page in section["toctree"]]
    for playbook in names("playbooks", ".yml"):
        page = "%s_playbook" % playbook
        assert page in pages, "docs/docsite/extra-docs.yml lists no page for hwc.apig.%s" % playbook
        text = read("docs", "docsite", "rst", page + ".rst")
        assert ".. _ansible_collections.hwc.apig.docsite.%s:" % page in text
        assert "hwc.apig.%s" % playbook in text


def test_every_module_has_its_changed_rule():
    guide = read("docs", "idempotency.md")
    for module in names(os.path.join("plugins", "modules"), ".py"):
        assert "## `hwc.apig.%s`" % module in guide, module


def test_the_guides_the_readme_links_to_exist():
    links = re.findall(r"\]\((docs/[^)#]+)\)", read("README.md"))
    assert {"docs/getting-started.md", "docs/authentication.md", "docs/idempotency.md", "docs/awx.md",
            "docs/emulator.md", "docs/troubleshooting.md"} <= set(links)
    for link in links:
        assert os.path.exists(os.path.join(ROOT, link)), link

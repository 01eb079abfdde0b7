"""Release files: galaxy.yml, the tarball built from the tree, its install into an empty collections path,
the execution environment's build context, and the changelog a release would write.

The tarball is built from a copy of the project's files with the litter of development planted in it
(virtualenvs, test and demo output, benchmark results, the docs site, caches), so the check means the
same on a fresh clone as in a working tree.
"""

import filecmp
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)

# What the tarball may hold at its top level: the collection, its docs and its requirements.
PRODUCT_TOP = {"MANIFEST.json", "FILES.json", "README.md", "COPYING", "requirements.txt", "bindep.txt", "meta",
               "plugins", "roles", "playbooks", "docs", "changelogs", "CHANGELOG.md", "CHANGELOG.rst"}
# Litter planted in the copy of the tree; none of it may reach the tarball.
LITTER = [".venv/bin/python", ".venv/.installed-0123", ".collections/ansible_collections/x", ".sanity/x",
          ".cache/venv-core-oldest/bin/python", ".cache/home/x", ".hypothesis/examples/x", ".pytest_cache/v/x",
          "build/hwc-apig-0.9.0.tar.gz", "tests/output/junit.xml", "tests/benchmark/results.json",
          "demo-output/run1.log", "demo-output/exports/orders.yaml", "docs/_build/build/html/index.html",
          "docs/_build/rst/index.rst", "context/Containerfile", "plugins/modules/__pycache__/x.cpython-311.pyc",
          "plugins/module_utils/stray.pyc", "emulator.log", "changelogs/.plugin-cache.yaml",
          "hwc-apig-0.9.0.tar.gz", ".git/HEAD"]
NOT_PRODUCT = re.compile(r"(^|/)(\.venv|\.cache|\.collections|\.sanity|\.hypothesis|\.pytest_cache|\.git|tests|"
                         r"build|demo-output|_build|context|__pycache__)(/|$)|\.(pyc|log|tar\.gz)$|plugin-cache")


def load_yaml(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


GALAXY = load_yaml(os.path.join(ROOT, "galaxy.yml"))
TARBALL_NAME = "hwc-apig-%s.tar.gz" % GALAXY["version"]


def run(command, **kwargs):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", **kwargs.pop("env", {}))
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False, **kwargs)
    assert result.returncode == 0, "%s failed:\n%s\n%s" % (command, result.stdout[-5000:], result.stderr[-5000:])
    return result


def project_files():
    """The project's files as a fresh clone has them: tracked, plus new files not ignored."""
    listing = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT).stdout
    return [name for name in listing.split("\0") if name and os.path.isfile(os.path.join(ROOT, name))]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """(tarball, collections path it was installed into) built from a littered copy of the tree."""
    base = tmp_path_factory.mktemp("release")
    source = base / "source"
    for name in project_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(ROOT, name), str(source / name))
    for name in LITTER:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("not product\n")
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(base / "dist"),
         str(source)])
    installed = base / "collections"
    installed.mkdir()
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "-p", str(installed),
         str(base / "dist" / TARBALL_NAME)], env={"ANSIBLE_COLLECTIONS_PATH": str(installed)})
    return base / "dist" / TARBALL_NAME, installed


def test_galaxy_metadata_is_complete():
    for key in ("namespace", "name", "version", "readme", "authors", "description", "license", "tags",
                "repository", "documentation", "homepage", "issues", "build_ignore"):
        assert GALAXY.get(key), key
    assert (GALAXY["namespace"], GALAXY["name"], GALAXY["license"]) == ("hwc", "apig", ["GPL-3.0-or-later"])
    assert len(GALAXY["description"]) > 60
    assert 0 < len(GALAXY["tags"]) <= 20 and all(re.match(r"^[a-z][a-z0-9_]*$", tag) for tag in GALAXY["tags"])
    for key in ("repository", "documentation", "homepage", "issues"):
        assert GALAXY[key].startswith("https://")
    assert GALAXY["issues"].endswith("/issues")


def test_the_tarball_holds_only_product_files_and_installs_cleanly(release):
    tarball, installed = release
    with tarfile.open(str(tarball)) as archive:
        members = [member.name for member in archive.getmembers() if member.isfile()]
    assert not [name for name in members if name.split("/")[0] not in PRODUCT_TOP]
    assert not [name for name in members if NOT_PRODUCT.search(name)]
    for required in ("MANIFEST.json", "FILES.json", "README.md", "COPYING", "requirements.txt", "bindep.txt",
                     "meta/runtime.yml", "meta/execution-environment.yml", "roles/release/meta/argument_specs.yml",
                     "playbooks/release_and_export.yml", "docs/awx/credential_type.yml", "changelogs/changelog.yaml",
                     "plugins/doc_fragments/connection.py", "plugins/module_utils/module.py"):
        assert required in members, required
    modules = sorted(name for name in os.listdir(os.path.join(ROOT, "plugins", "modules")) if name.endswith(".py"))
    assert sorted(name.split("/")[-1] for name in fnmatch.filter(members, "plugins/modules/*.py")) == modules

    # Installed into an empty collections path: every file there, consistent with its manifest, usable.
    path = installed / "ansible_collections" / "hwc" / "apig"
    assert sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()) == sorted(members)
    env = {"ANSIBLE_COLLECTIONS_PATH": str(installed), "ANSIBLE_HOME": str(installed.parent / "home")}
    verified = run([os.path.join(BIN, "ansible-galaxy"), "collection", "verify", "--offline", "-p", str(installed),
                    "hwc.apig"], env=env)
    assert "Successfully verified" in verified.stdout
    listed = run([os.path.join(BIN, "ansible-galaxy"), "collection", "list", "-p", str(installed), "hwc.apig"], env=env)
    assert re.search(r"hwc\.apig\s+%s" % re.escape(GALAXY["version"]), listed.stdout)
    role = run([os.path.join(BIN, "ansible-doc"), "-t", "role", "hwc.apig.release"], env=env)
    assert "release_env" in role.stdout
    run([os.path.join(BIN, "ansible-playbook"), "--syntax-check", "hwc.apig.release_and_export"], env=env,
        cwd=str(installed.parent))


def test_execution_environment_build_context(release, tmp_path):
    tarball, installed = release
    definition = load_yaml(os.path.join(ROOT, "execution-environment.yml"))
    assert definition["version"] == 3
    meta = load_yaml(os.path.join(ROOT, "meta", "execution-environment.yml"))
    assert meta == {"version": 1, "dependencies": {"python": "requirements.txt", "system": "bindep.txt"}}

    # The definition as a release builds it: the tarball under build/ beside it.
    (tmp_path / "build").mkdir()
    shutil.copy2(os.path.join(ROOT, "execution-environment.yml"), str(tmp_path))
    shutil.copy2(str(tarball), str(tmp_path / "build"))
    run([os.path.join(BIN, "ansible-builder"), "create", "--file", "execution-environment.yml", "--context",
         "context"], cwd=str(tmp_path))
    context = tmp_path / "context"
    containerfile = [context / name for name in ("Containerfile", "Dockerfile") if (context / name).exists()]
    assert len(containerfile) == 1
    text = containerfile[0].read_text()
    assert 'EE_BASE_IMAGE="%s"' % definition["images"]["base_image"]["name"] in text
    assert 'PYCMD="/usr/bin/python3.11"' in text
    core = definition["dependencies"]["ansible_core"]["package_pip"]
    assert core.startswith("ansible-core>=2.16.0") and core in text and "ansible-runner" in text
    assert filecmp.cmp(str(tarball), str(context / "_build" / "collections" / TARBALL_NAME), shallow=False)
    galaxy = load_yaml(str(context / "_build" / "requirements.yml"))
    assert [os.path.basename(entry["name"]) for entry in galaxy["collections"]] == [TARBALL_NAME]
    assert "COPY _build/collections/ %s" % os.path.dirname(galaxy["collections"][0]["name"]) in text

    # What the image's builder stage reads from the installed collection: its meta/execution-environment.yml.
    found = run([os.path.join(BIN, "ansible-builder"), "introspect", str(installed)]).stdout
    dependencies = yaml.safe_load(found.split("\n", 1)[1])
    with open(os.path.join(ROOT, "requirements.txt")) as handle:
        wanted = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    assert [entry.split("#")[0].strip() for entry in dependencies["python"]] == wanted
    assert any(entry.startswith("ca-certificates") for entry in dependencies["system"])


def test_a_release_writes_the_changelog_from_the_fragments(tmp_path):
    """`antsibull-changelog release` on a copy: the repository's own release is made once, at the end."""
    for name in ("changelogs", "plugins", "roles", "meta"):
        shutil.copytree(os.path.join(ROOT, name), str(tmp_path / name),
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".plugin-cache.yaml"))
    shutil.copy2(os.path.join(ROOT, "galaxy.yml"), str(tmp_path))
    fragments = {}
    for name in sorted(os.listdir(str(tmp_path / "changelogs" / "fragments"))):
        if name.endswith((".yml", ".yaml")):
            for section, entries in load_yaml(str(tmp_path / "changelogs" / "fragments" / name)).items():
                fragments.setdefault(section, []).extend([entries] if isinstance(entries, str) else entries)
    assert fragments

    env = {"ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "none"), "PATH": BIN + os.pathsep + os.environ.get("PATH", "")}
    run([os.path.join(BIN, "antsibull-changelog"), "release", "--version", GALAXY["version"], "--date",
         "2026-12-01"], cwd=str(tmp_path), env=env)
    rst = (tmp_path / "CHANGELOG.rst").read_text()
    markdown = (tmp_path / "CHANGELOG.md").read_text()
    assert "v%s" % GALAXY["version"] in rst and "v%s" % GALAXY["version"].replace(".", "\\.") in markdown
    # Markdown escapes punctuation and renders ``code`` as <code>; undo both to compare with the fragments.
    plain_markdown = re.sub(r"<code>(.*?)</code>", r"``\1``", markdown).replace("\\", "")
    flat_rst, flat_markdown = " ".join(rst.split()), " ".join(plain_markdown.split())
    for section, entries in fragments.items():
        for entry in entries:
            text = " ".join(entry.split())
            assert text in flat_rst, (section, text)
            assert text.replace("\\", "") in flat_markdown, (section, text)
    for module in sorted(os.listdir(str(tmp_path / "plugins" / "modules"))):
        if module.endswith(".py"):
            assert "hwc.apig.%s - " % module[:-3] in rst
    assert "hwc.apig.release - " in rst
    changes = load_yaml(str(tmp_path / "changelogs" / "changelog.yaml"))
    assert list(changes["releases"]) == [GALAXY["version"]]
    assert not [name for name in os.listdir(str(tmp_path / "changelogs" / "fragments")) if name.endswith(".yml")]

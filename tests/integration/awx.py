"""The AWX / Automation Platform credential type of docs/awx/, checked and injected the way AWX does it.

`check_credential_type` applies the rules AWX applies when the type is created through its API (the
shape of `inputs` and `injectors`, field IDs, which keys each field type allows, forbidden variable
names, and every injector template rendering over the defined fields with undefined names an error).
`inject` renders the injectors over a credential's inputs as AWX does before it starts a job: a Jinja
sandbox, only the inputs that are set in the namespace (an unset field renders as empty), every `env`
key set.
"""

import os
import re

import yaml
from jinja2 import StrictUndefined
from jinja2.exceptions import TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from harness import ROOT

CREDENTIAL_TYPE = os.path.join(ROOT, "docs", "awx", "credential_type.yml")

NAME = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
FIELD_KEYS = {"id", "label", "type", "format", "choices", "help_text", "multiline", "secret", "ask_at_runtime",
              "default"}
STRING_ONLY_KEYS = ("choices", "multiline", "format", "secret")
# Variables AWX refuses in credential injectors (besides every ANSIBLE_* name): its job runtime owns them.
AWX_RESERVED_ENV = {"VIRTUAL_ENV", "PATH", "PYTHONPATH", "JOB_ID", "INVENTORY_ID", "INVENTORY_SOURCE_ID",
                    "INVENTORY_UPDATE_ID", "AD_HOC_COMMAND_ID", "REST_API_URL", "REST_API_TOKEN", "MAX_EVENT_RES",
                    "CALLBACK_QUEUE", "CALLBACK_CONNECTION", "CACHE", "JOB_CALLBACK_DEBUG", "INVENTORY_HOSTVARS",
                    "AWX_HOST", "PROJECT_REVISION", "SUPERVISOR_CONFIG_PATH", "SUPERVISOR_WEB_CONFIG_PATH",
                    "RUNNER_OMIT_EVENTS", "RUNNER_ONLY_FAILED_EVENTS"}


def load_credential_type(path=CREDENTIAL_TYPE):
    with open(path) as handle:
        return yaml.safe_load(handle)


def check_credential_type(doc):
    """The problems AWX would refuse the credential type for; an empty list when it accepts it."""
    problems = []
    unknown = set(doc) - {"name", "description", "kind", "inputs", "injectors"}
    if unknown:
        problems.append("unknown keys %s" % sorted(unknown))
    if not isinstance(doc.get("name"), str) or not doc["name"].strip():
        problems.append("name must be a non-empty string")
    if doc.get("kind") not in ("cloud", "net"):
        problems.append("a custom credential type's kind is cloud or net, got %r" % doc.get("kind"))
    inputs, injectors = doc.get("inputs") or {}, doc.get("injectors") or {}
    if set(inputs) - {"fields", "required"}:
        problems.append("inputs: unknown keys %s" % sorted(set(inputs) - {"fields", "required"}))
    ids = []
    for field in inputs.get("fields", []):
        where = "field %r" % field.get("id")
        if set(field) - FIELD_KEYS:
            problems.append("%s: unknown keys %s" % (where, sorted(set(field) - FIELD_KEYS)))
        if not isinstance(field.get("id"), str) or not NAME.match(field["id"]):
            problems.append("%s: the id is not a variable name" % where)
        if field.get("id") == "tower" or field.get("id") in ids:
            problems.append("%s: reserved or repeated id" % where)
        ids.append(field.get("id"))
        if not isinstance(field.get("label"), str):
            problems.append("%s: label is required" % where)
        kind = field.get("type", "string")
        if kind not in ("string", "boolean"):
            problems.append("%s: type is string or boolean" % where)
        problems.extend("%s: %s is for string fields only" % (where, key)
                        for key in STRING_ONLY_KEYS if key in field and kind != "string")
        if "format" in field and field["format"] not in ("ssh_private_key", "url"):
            problems.append("%s: format is ssh_private_key or url" % where)
        choices = field.get("choices")
        if choices is not None and (not choices or len(set(choices)) != len(choices)
                                    or not all(isinstance(choice, str) for choice in choices)):
            problems.append("%s: choices must be unique strings" % where)
        if "default" in field and not isinstance(field["default"], {"string": str, "boolean": bool}.get(kind, str)):
            problems.append("%s: the default is not a %s" % (where, kind))
        for key in ("multiline", "secret", "ask_at_runtime"):
            if key in field and not isinstance(field[key], bool):
                problems.append("%s: %s must be a boolean" % (where, key))
    problems.extend("required names an unknown field %r" % name for name in inputs.get("required", [])
                    if name not in ids)
    if set(injectors) - {"env", "file", "extra_vars"}:
        problems.append("injectors: unknown keys %s" % sorted(set(injectors) - {"env", "file", "extra_vars"}))
    for name, template in (injectors.get("env") or {}).items():
        if not NAME.match(name) or name.startswith("ANSIBLE_") or name in AWX_RESERVED_ENV:
            problems.append("env %s: not a variable AWX lets a credential set" % name)
        if not isinstance(template, str) or not template.isascii():
            problems.append("env %s: the value must be an ASCII string" % name)
    namespace = {name: "EXAMPLE" for name in ids}
    sandbox = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for kind, entries in injectors.items():
        for key, template in (entries or {}).items():
            try:
                sandbox.from_string(template).render(namespace)
            except (UndefinedError, SecurityError, TemplateSyntaxError) as error:
                problems.append("%s %s: %s" % (kind, key, error))
    return problems


def inject(doc, inputs):
    """The environment variables AWX gives a job that uses a credential with these inputs."""
    fields = {field["id"]: field for field in doc["inputs"]["fields"]}
    namespace = {}
    for name, value in inputs.items():
        assert name in fields, "the credential type has no field %r" % name
        if isinstance(value, bool) or value:
            namespace[name] = value
    for name, field in fields.items():
        if field.get("type") == "boolean" and name not in inputs:
            namespace[name] = False
    sandbox = ImmutableSandboxedEnvironment()
    return {name: sandbox.from_string(template).render(**namespace)
            for name, template in doc["injectors"].get("env", {}).items()}


def secret_fields(doc):
    return [field["id"] for field in doc["inputs"]["fields"] if field.get("secret")]

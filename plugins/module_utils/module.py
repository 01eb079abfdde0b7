# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The module wrapper every hwc.apig module is built on.

It merges the shared connection options, checks that exactly one auth method is given, builds the
client once, keeps run-time tokens out of every output and turns any client error into one
``fail_json`` shape. Private to the hwc.apig collection; not a public API.
"""

import os
import re
import traceback
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.hwc.apig.plugins.module_utils import client as apig_client
from ansible_collections.hwc.apig.plugins.module_utils import settle

AUTH_METHODS = (
    ("AK/SK", ("access_key", "secret_key"), ("security_token",)),
    ("token", ("auth_token",), ()),
    ("password", ("username", "password", "domain_name"), ()),
)
# Auth options read the environment only when the task names no auth method (see _auth_method).
AUTH_ENV = {
    "access_key": ("HUAWEICLOUD_SDK_AK", "HW_ACCESS_KEY"),
    "secret_key": ("HUAWEICLOUD_SDK_SK", "HW_SECRET_KEY"),
    "security_token": ("HUAWEICLOUD_SDK_SECURITY_TOKEN", "HW_SECURITY_TOKEN"),
    "auth_token": ("HWC_AUTH_TOKEN",),
    "username": ("HWC_USERNAME",),
    "password": ("HWC_PASSWORD",),
    "domain_name": ("HWC_DOMAIN_NAME",),
}


def connection_argument_spec():
    """The connection options shared by every module (documented in hwc.apig.connection)."""
    def env(*names):
        return (env_fallback, list(names))

    return dict(
        service=dict(type="str", choices=list(apig_client.SERVICES), fallback=env("HWC_APIG_SERVICE")),
        region=dict(type="str", fallback=env("HUAWEICLOUD_SDK_REGION", "HW_REGION_NAME")),
        endpoint=dict(type="str", fallback=env("HWC_APIG_ENDPOINT")),
        iam_endpoint=dict(type="str", fallback=env("HUAWEICLOUD_SDK_IAM_ENDPOINT")),
        project_id=dict(type="str", required=True, fallback=env("HUAWEICLOUD_SDK_PROJECT_ID", "HW_PROJECT_ID")),
        instance_id=dict(type="str", required=True, fallback=env("HWC_APIG_INSTANCE_ID")),
        access_key=dict(type="str", no_log=True),
        secret_key=dict(type="str", no_log=True),
        security_token=dict(type="str", no_log=True),
        auth_token=dict(type="str", no_log=True),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        domain_name=dict(type="str"),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        timeout=dict(type="int", default=30),
        retries=dict(type="int", default=5),
        settle_timeout=dict(type="int", default=settle.DEFAULT_SETTLE_SECONDS,
                            fallback=env("HWC_APIG_SETTLE_TIMEOUT")),
    )


def _from_environment(option):
    for name in AUTH_ENV[option]:
        if os.environ.get(name):
            return os.environ[name]
    return None


def _url_problem(option, value):
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "%s must be an http:// or https:// URL, got %r" % (option, value)
    return None


# Project and instance IDs go into every path: hex digits (or a UUID), never empty, never a "/".
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")

SERVICE_NAMES = {"apig": "API Gateway instances (service: apig)", "roma": "ROMA Connect instances (service: roma)"}


class ApigModule(AnsibleModule):
    """AnsibleModule plus the shared connection options and one APIG/ROMA client."""

    def __init__(self, argument_spec, default_service="apig", services=apig_client.SERVICES, **kwargs):
        spec = connection_argument_spec()
        spec.update(argument_spec)
        super(ApigModule, self).__init__(argument_spec=spec, **kwargs)
        if not apig_client.HAS_REQUESTS:
            # The message names the interpreter that lacked requests (often a discovered system Python).
            self.fail_json(msg=missing_required_lib("requests", reason=(
                "by the hwc.apig modules to call the gateway. For localhost, set ansible_python_interpreter: "
                "\"{{ ansible_playbook_python }}\" to run the modules in the Python that runs Ansible (where "
                "requirements.txt is installed), or install requests into the Python named here")),
                exception=str(apig_client.REQUESTS_IMPORT_ERROR))
        self.service = self.params["service"] or default_service
        if self.service not in services:
            self.fail_json(msg="%s works on %s only; got service: %s (set service: %s on this task)" % (
                getattr(self, "_name", None) or "this module",
                " and ".join(SERVICE_NAMES[name] for name in services), self.service, services[0]))
        self.item_results = None
        # Fields a module wants in its result even when an error ends the run (apig_export's task_id).
        self.failure_fields = {}
        self._client = None

    # -- option checks shared by the modules ---------------------------------------------------
    def require_name(self, option, noun):
        """An option that names one thing by name or ID: when given, not blank."""
        value = self.params[option]
        if value is not None and not value.strip():
            self.fail_json(msg="%s must name %s (name or ID), got %r" % (option, noun, value))

    def require_names(self, option, noun):
        """A list option of names or IDs: when given, not empty and no blank entry."""
        values = self.params[option]
        if values is None:
            return
        empty = [repr(value) for value in values if not value or not value.strip()]
        if empty or not values:
            self.fail_json(msg="%s must list %s names or IDs; got an empty entry or list: %s" % (
                option, noun, ", ".join(empty) or "[]"))

    # -- validation ----------------------------------------------------------------------------
    def _given_methods(self):
        return [(name, required, optional) for name, required, optional in AUTH_METHODS
                if any(self.params.get(option) for option in required + optional)]

    def _auth_method(self):
        """Task options (incl. module_defaults) first; the environment only when the task names none."""
        given = self._given_methods()
        if not given:
            for option in AUTH_ENV:
                self.params[option] = _from_environment(option)
            given = self._given_methods()
            if len(given) > 1:
                self.fail_json(msg="give exactly one auth method; the environment sets %s: %s" % (
                    " and ".join(name for name, _required, _optional in given),
                    ", ".join(AUTH_ENV[option][0] for _name, required, optional in given
                              for option in required + optional if self.params.get(option))))
        elif len(given) == 1:
            # Options the task left out of its own method may still come from the environment.
            _name, required, _optional = given[0]
            for option in required:
                if not self.params.get(option):
                    self.params[option] = _from_environment(option)
        if not given:
            self.fail_json(msg="no credentials: give access_key and secret_key, or auth_token, or username, "
                               "password and domain_name (directly or through their environment variables)")
        if len(given) > 1:
            self.fail_json(msg="give exactly one auth method; found %s: %s" % (
                " and ".join(name for name, _required, _optional in given),
                ", ".join(option for _name, required, optional in given for option in required + optional
                          if self.params.get(option))))
        name, required, _optional = given[0]
        missing = [option for option in required if not self.params.get(option)]
        if missing:
            self.fail_json(msg="%s auth needs %s; missing: %s" % (name, ", ".join(required), ", ".join(missing)))
        for option in ("access_key", "secret_key", "security_token", "auth_token", "password"):
            if self.params.get(option):
                self.no_log_values.add(self.params[option])
        return name

    def _endpoints(self):
        params = self.params
        for option in ("endpoint", "iam_endpoint"):
            if params.get(option):
                problem = _url_problem(option, params[option])
                if problem:
                    self.fail_json(msg=problem)
        problem = None
        try:
            endpoint = params["endpoint"] or (
                params["region"] and apig_client.service_endpoint(self.service, params["region"]))
            iam_endpoint = params["iam_endpoint"] or (
                params["region"] and params["username"] and apig_client.iam_endpoint_for(params["region"]))
        except ValueError as exc:
            problem = "region: %s" % exc
        if problem:
            self.fail_json(msg=problem)  # outside the except clause: no traceback with it
        if not endpoint:
            self.fail_json(msg="give region (or endpoint) to reach the %s endpoint" % self.service)
        return endpoint, iam_endpoint

    def _build_client(self):
        params = self.params
        for option in ("project_id", "instance_id"):
            if not ID_PATTERN.match(params[option] or ""):
                self.fail_json(msg="%s must be an ID (letters, digits, - and _), got %r" % (option, params[option]))
        method = self._auth_method()
        endpoint, iam_endpoint = self._endpoints()
        if params["timeout"] < 1:
            self.fail_json(msg="timeout must be at least 1, got %d" % params["timeout"])
        if params["retries"] < 0:
            self.fail_json(msg="retries must be 0 or more, got %d" % params["retries"])
        if params["settle_timeout"] < 0:
            self.fail_json(msg="settle_timeout must be 0 or more, got %d" % params["settle_timeout"])
        if params["ca_path"] and not os.access(params["ca_path"], os.R_OK):
            self.fail_json(msg="ca_path %s is not a readable file" % params["ca_path"])
        if method == "AK/SK":
            auth = apig_client.AkSkAuth(params["access_key"], params["secret_key"], params["security_token"])
        elif method == "token":
            auth = apig_client.TokenAuth(params["auth_token"])
        else:
            if not iam_endpoint:
                self.fail_json(msg="password auth needs iam_endpoint or region to reach IAM")
            auth = apig_client.PasswordAuth(iam_endpoint, params["username"], params["password"],
                                            params["domain_name"], on_token=self.no_log_values.add)
        self.no_log_values.update(auth.secrets())
        return apig_client.ApigClient(
            endpoint, params["project_id"], params["instance_id"], self.service, auth,
            timeout=params["timeout"], retries=params["retries"], validate_certs=params["validate_certs"],
            ca_path=params["ca_path"])

    @property
    def client(self):
        if self._client is None:
            self._client = self._build_client()
        return self._client

    # -- running -------------------------------------------------------------------------------
    def fail_on_error(self, error, **result):
        """The one failure shape for every cloud error."""
        result.update(error.details())
        self.fail_json(msg=str(error), **result)

    def run(self, action):
        """Run ``action(self)`` (which returns the result dict) and exit with it.

        When an error ends the run, the per-item results recorded so far go out with the failure.
        """
        failure = None
        try:
            result = action(self)
        except apig_client.ApigError as error:
            failure = error
        except Exception as error:  # an unexpected bug still fails cleanly, without secrets
            self.fail_json(msg="unexpected error: %s" % error, exception=traceback.format_exc(), **self._partial())
        if failure is not None:
            # Outside the except clause: a cloud error is a clean failure, and ansible-core (before 2.19)
            # would attach the traceback of the exception being handled, shown at -vvv.
            self.fail_on_error(failure, **self._partial())
        self.exit_json(**result)

    def _partial(self):
        partial = dict(self.failure_fields)
        if self.item_results is not None:
            partial.update(self.item_results.result())
        return partial

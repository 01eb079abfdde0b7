# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The module wrapper: connection options, one auth method, endpoints, secrets and the failure shape."""

import json
import sys

import pytest
import responses

from ansible.module_utils.testing import patch_module_args

from ansible_collections.hwc.apig.plugins.module_utils import client, module

PROJECT = "0123456789abcdef0123456789abcdef"
INSTANCE = "eddc4d25480b4cd6b512f270a1b8b341"
BASE_ARGS = {"project_id": PROJECT, "instance_id": INSTANCE, "region": "cn-north-4"}
AKSK = {"access_key": "AKTEST0123456789ABCD", "secret_key": "sk-secret-value"}
PASSWORD = {"username": "deployer", "password": "pass-secret-value", "domain_name": "acct"}
ENV_NAMES = [
    "HWC_APIG_SERVICE", "HUAWEICLOUD_SDK_REGION", "HW_REGION_NAME", "HWC_APIG_ENDPOINT",
    "HUAWEICLOUD_SDK_IAM_ENDPOINT", "HUAWEICLOUD_SDK_PROJECT_ID", "HW_PROJECT_ID", "HWC_APIG_INSTANCE_ID",
    "HUAWEICLOUD_SDK_AK", "HW_ACCESS_KEY", "HUAWEICLOUD_SDK_SK", "HW_SECRET_KEY",
    "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HW_SECURITY_TOKEN", "HWC_AUTH_TOKEN", "HWC_USERNAME", "HWC_PASSWORD",
    "HWC_DOMAIN_NAME",
]


class ExitJson(Exception):
    pass


class FailJson(Exception):
    pass


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def captured(monkeypatch):
    def exit_json(self, **kwargs):
        raise ExitJson(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs["msg"] = msg
        raise FailJson(kwargs)

    monkeypatch.setattr(module.ApigModule, "exit_json", exit_json)
    monkeypatch.setattr(module.ApigModule, "fail_json", fail_json)


def build(args, default_service="apig", argument_spec=None):
    with patch_module_args(args):
        return module.ApigModule(argument_spec=argument_spec or {}, default_service=default_service,
                                 supports_check_mode=True)


def failure(args, **kwargs):
    """The fail_json arguments of building the module and its client."""
    with pytest.raises(FailJson) as caught:
        getattr(build(args, **kwargs), "client")
    return caught.value.args[0]


# -- exactly one auth method -------------------------------------------------------------------------

@pytest.mark.usefixtures("captured")
def test_no_auth_method_names_the_options():
    result = failure(BASE_ARGS)
    for option in ("access_key", "secret_key", "auth_token", "username", "password", "domain_name"):
        assert option in result["msg"]


@pytest.mark.usefixtures("captured")
def test_two_auth_methods_rejected():
    result = failure(dict(BASE_ARGS, auth_token="tok-value-1", **AKSK))
    assert "exactly one auth method" in result["msg"]
    assert "AK/SK and token" in result["msg"]
    assert "access_key" in result["msg"] and "auth_token" in result["msg"]
    # Options are named, values never shown.
    assert "tok-value-1" not in result["msg"] and AKSK["secret_key"] not in result["msg"]


@pytest.mark.usefixtures("captured")
def test_task_options_win_over_another_method_in_the_environment(monkeypatch):
    # AWX nodes often carry several credentials: the task's own method must win, not clash.
    for name, value in (("HWC_AUTH_TOKEN", "env-token"), ("HWC_USERNAME", "u"), ("HWC_PASSWORD", "p"),
                        ("HWC_DOMAIN_NAME", "d"), ("HUAWEICLOUD_SDK_SECURITY_TOKEN", "stray-sts")):
        monkeypatch.setenv(name, value)
    auth = build(dict(BASE_ARGS, **AKSK)).client.auth
    assert isinstance(auth, client.AkSkAuth)
    assert (auth.access_key, auth.secret_key, auth.security_token) == (AKSK["access_key"], AKSK["secret_key"], None)


@pytest.mark.usefixtures("captured")
def test_two_methods_in_the_environment_are_an_error(monkeypatch):
    monkeypatch.setenv("HWC_AUTH_TOKEN", "env-token")
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "AK")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "sk-from-env")
    result = failure(dict(BASE_ARGS))
    assert "AK/SK and token" in result["msg"] and "HWC_AUTH_TOKEN" in result["msg"]
    assert "env-token" not in result["msg"]
    assert "sk-from-env" not in result["msg"]


@pytest.mark.usefixtures("captured")
def test_two_methods_on_the_task_are_an_error():
    result = failure(dict(BASE_ARGS, auth_token="tok", **AKSK))
    assert "AK/SK and token" in result["msg"]


@pytest.mark.usefixtures("captured")
def test_all_three_auth_methods_rejected():
    result = failure(dict(BASE_ARGS, auth_token="tok", **dict(AKSK, **PASSWORD)))
    assert "AK/SK and token and password" in result["msg"]


@pytest.mark.usefixtures("captured")
@pytest.mark.parametrize("given,missing", [
    ({"access_key": "AK"}, "secret_key"),
    ({"secret_key": "SK"}, "access_key"),
    ({"security_token": "sts"}, "access_key, secret_key"),
    ({"username": "u", "password": "p"}, "domain_name"),
    ({"password": "p"}, "username, domain_name"),
])
def test_incomplete_auth_method_names_what_is_missing(given, missing):
    result = failure(dict(BASE_ARGS, **given))
    assert result["msg"].endswith("missing: " + missing)


@pytest.mark.usefixtures("captured")
def test_each_auth_method_builds_its_auth():
    aksk = build(dict(BASE_ARGS, security_token="sts", **AKSK)).client.auth
    assert isinstance(aksk, client.AkSkAuth)
    assert (aksk.access_key, aksk.secret_key, aksk.security_token) == (AKSK["access_key"], AKSK["secret_key"], "sts")
    token = build(dict(BASE_ARGS, auth_token="tok")).client.auth
    assert isinstance(token, client.TokenAuth) and not isinstance(token, client.PasswordAuth)
    assert token.token == "tok"
    password = build(dict(BASE_ARGS, **PASSWORD)).client.auth
    assert isinstance(password, client.PasswordAuth)
    assert password.iam_endpoint == "https://iam.cn-north-4.myhuaweicloud.com"
    assert (password.username, password.password, password.domain_name) == ("deployer", "pass-secret-value", "acct")


# -- environment fallbacks ---------------------------------------------------------------------------

@pytest.mark.usefixtures("captured")
@pytest.mark.parametrize("option,first,second", [
    ("access_key", "HUAWEICLOUD_SDK_AK", "HW_ACCESS_KEY"),
    ("secret_key", "HUAWEICLOUD_SDK_SK", "HW_SECRET_KEY"),
    ("project_id", "HUAWEICLOUD_SDK_PROJECT_ID", "HW_PROJECT_ID"),
    ("region", "HUAWEICLOUD_SDK_REGION", "HW_REGION_NAME"),
    ("security_token", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HW_SECURITY_TOKEN"),
])
def test_env_fallbacks_first_set_wins(monkeypatch, option, first, second):
    args = dict(BASE_ARGS)
    args.pop(option, None)
    if option in module.AUTH_ENV:
        # No auth option on the task: the whole AK/SK method comes from the environment.
        for other, variable in (("access_key", "HUAWEICLOUD_SDK_AK"), ("secret_key", "HUAWEICLOUD_SDK_SK")):
            if other != option:
                monkeypatch.setenv(variable, "env-" + other)
    else:
        args.update(AKSK)
    values = ["cn-south-1", "ap-southeast-1", "la-north-2"] if option == "region" else [
        "from-second", "from-first", "explicit"]
    monkeypatch.setenv(second, values[0])
    wrapper = build(args)
    assert wrapper.client is not None and wrapper.params[option] == values[0]
    monkeypatch.setenv(first, values[1])
    wrapper = build(args)
    assert wrapper.client is not None and wrapper.params[option] == values[1]
    # An option given in the task beats the environment.
    given = dict(args, **AKSK)
    given[option] = values[2]
    wrapper = build(given)
    assert wrapper.client is not None and wrapper.params[option] == values[2]


@pytest.mark.usefixtures("captured")
@pytest.mark.parametrize("option,variable", [
    ("service", "HWC_APIG_SERVICE"),
    ("endpoint", "HWC_APIG_ENDPOINT"),
    ("iam_endpoint", "HUAWEICLOUD_SDK_IAM_ENDPOINT"),
    ("instance_id", "HWC_APIG_INSTANCE_ID"),
    ("auth_token", "HWC_AUTH_TOKEN"),
    ("username", "HWC_USERNAME"),
    ("password", "HWC_PASSWORD"),
    ("domain_name", "HWC_DOMAIN_NAME"),
])
def test_env_fallback_single(monkeypatch, option, variable):
    value = "roma" if option == "service" else "https://x.example" if "endpoint" in option else "v-" + option
    monkeypatch.setenv(variable, value)
    args = dict(BASE_ARGS)
    if option in ("username", "password", "domain_name"):
        # The rest of the method is on the task: its missing option still comes from the environment.
        args.update((name, value) for name, value in PASSWORD.items() if name != option)
    elif option != "auth_token":
        args["auth_token"] = "task-token"
    args.pop(option, None)
    wrapper = build(args)
    assert wrapper.client is not None
    assert wrapper.params[option] == value


@pytest.mark.usefixtures("captured")
def test_connection_entirely_from_the_environment(monkeypatch):
    for name, value in (("HUAWEICLOUD_SDK_AK", "AK"), ("HUAWEICLOUD_SDK_SK", "SK"), ("HW_REGION_NAME", "eu-west-101"),
                        ("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT), ("HWC_APIG_INSTANCE_ID", INSTANCE)):
        monkeypatch.setenv(name, value)
    api = build({}).client
    assert api.endpoint == "https://apig.eu-west-101.myhuaweicloud.eu"
    assert (api.project_id, api.instance_id, api.service) == (PROJECT, INSTANCE, "apig")
    assert (api.auth.access_key, api.auth.secret_key) == ("AK", "SK")


@pytest.mark.usefixtures("captured")
def test_project_and_instance_are_required():
    with pytest.raises(FailJson) as caught:
        build({"region": "cn-north-4", "auth_token": "t"})
    assert "project_id" in caught.value.args[0]["msg"]
    assert "instance_id" in caught.value.args[0]["msg"]


# -- service, endpoints and transport settings -------------------------------------------------------

@pytest.mark.usefixtures("captured")
def test_service_default_per_module():
    apig = build(dict(BASE_ARGS, auth_token="t"))
    assert apig.service == "apig"
    assert apig.client.endpoint == "https://apig.cn-north-4.myhuaweicloud.com"
    assert apig.client.instance_path() == "/v2/%s/apigw/instances/%s" % (PROJECT, INSTANCE)
    roma = build(dict(BASE_ARGS, auth_token="t"), default_service="roma")
    assert roma.service == "roma"
    assert roma.client.endpoint == "https://roma.cn-north-4.myhuaweicloud.com"
    assert roma.client.instance_path() == "/v2/%s/apic/instances/%s" % (PROJECT, INSTANCE)
    assert build(dict(BASE_ARGS, auth_token="t", service="apig"), default_service="roma").service == "apig"


@pytest.mark.usefixtures("captured")
def test_bad_service_rejected():
    with pytest.raises(FailJson) as caught:
        build(dict(BASE_ARGS, auth_token="t", service="cce"))
    assert "service" in caught.value.args[0]["msg"]


@pytest.mark.usefixtures("captured")
def test_explicit_endpoints():
    api = build(dict(BASE_ARGS, endpoint="http://127.0.0.1:9999/", iam_endpoint="http://127.0.0.1:9998",
                     **PASSWORD)).client
    assert api.endpoint == "http://127.0.0.1:9999"
    assert api.auth.iam_endpoint == "http://127.0.0.1:9998"
    no_region = dict(BASE_ARGS, endpoint="https://apig.example.internal", auth_token="t")
    del no_region["region"]
    assert build(no_region).client.endpoint == "https://apig.example.internal"


@pytest.mark.usefixtures("captured")
@pytest.mark.parametrize("option,value", [
    ("endpoint", "apig.cn-north-4.myhuaweicloud.com"),
    ("endpoint", "ftp://apig.example"),
    ("endpoint", "https://"),
    ("iam_endpoint", "iam.example"),
])
def test_bad_endpoint_url_names_the_option(option, value):
    result = failure(dict(BASE_ARGS, auth_token="t", **{option: value}))
    assert result["msg"].startswith("%s must be an http:// or https:// URL" % option)
    assert repr(value) in result["msg"]


@pytest.mark.usefixtures("captured")
@pytest.mark.parametrize("option, value", [
    ("project_id", ""), ("project_id", PROJECT + "/x"), ("project_id", "my project"),
    ("instance_id", " "), ("instance_id", "../" + INSTANCE), ("instance_id", INSTANCE + "?x=1"),
])
def test_ids_of_the_wrong_shape_fail_before_any_request(option, value):
    result = failure(dict(BASE_ARGS, auth_token="t", **{option: value}))
    assert result["msg"] == "%s must be an ID (letters, digits, - and _), got %r" % (option, value)


@pytest.mark.parametrize("value", [PROJECT, "a1b2c3d4-e5f6-4718-293a-4b5c6d7e8f90", "project_1"])
def test_ids_of_the_usual_shapes_pass(value):
    assert build(dict(BASE_ARGS, auth_token="t", project_id=value, instance_id=value)).client.project_id == value


@pytest.mark.usefixtures("captured")
@pytest.mark.parametrize("region", ["CN-NORTH-4", "cn_north_4", "north"])
def test_bad_region_names_the_option(region):
    result = failure(dict(BASE_ARGS, region=region, auth_token="t"))
    assert result["msg"].startswith("region: ")
    assert repr(region) in result["msg"]


@pytest.mark.usefixtures("captured")
def test_no_region_and_no_endpoint():
    args = dict(BASE_ARGS, auth_token="t")
    del args["region"]
    assert "give region (or endpoint)" in failure(args)["msg"]


@pytest.mark.usefixtures("captured")
def test_password_auth_needs_a_way_to_iam():
    args = dict(BASE_ARGS, endpoint="https://apig.example.internal", **PASSWORD)
    del args["region"]
    assert "iam_endpoint or region" in failure(args)["msg"]


@pytest.mark.usefixtures("captured")
@pytest.mark.parametrize("option,value,text", [
    ("timeout", 0, "timeout must be at least 1"),
    ("retries", -1, "retries must be 0 or more"),
])
def test_bad_timeout_and_retries(option, value, text):
    assert text in failure(dict(BASE_ARGS, auth_token="t", **{option: value}))["msg"]


@pytest.mark.usefixtures("captured")
def test_transport_settings_reach_the_client(tmp_path):
    default = build(dict(BASE_ARGS, auth_token="t")).client
    assert (default.timeout, default.retry.retries, default.verify) == (30, 5, True)
    tuned = build(dict(BASE_ARGS, auth_token="t", timeout=7, retries=0, validate_certs=False)).client
    assert (tuned.timeout, tuned.retry.retries, tuned.verify) == (7, 0, False)
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert build(dict(BASE_ARGS, auth_token="t", ca_path=str(bundle))).client.verify == str(bundle)


@pytest.mark.usefixtures("captured")
def test_unreadable_ca_path_fails_naming_it(tmp_path):
    result = failure(dict(BASE_ARGS, auth_token="t", ca_path=str(tmp_path / "missing.pem")))
    assert "ca_path" in result["msg"] and "missing.pem" in result["msg"]


@pytest.mark.usefixtures("captured")
def test_service_restriction_fails_before_any_request():
    with pytest.raises(FailJson) as caught:
        with patch_module_args(dict(BASE_ARGS, auth_token="t", service="apig")):
            module.ApigModule(argument_spec={}, default_service="roma", services=("roma",))
    assert "ROMA Connect" in caught.value.args[0]["msg"] and "service: apig" in caught.value.args[0]["msg"]
    with patch_module_args(dict(BASE_ARGS, auth_token="t")):
        assert module.ApigModule(argument_spec={}, default_service="roma", services=("roma",)).service == "roma"


# -- secrets -----------------------------------------------------------------------------------------

@pytest.mark.usefixtures("captured")
def test_secrets_are_no_log_values():
    aksk = build(dict(BASE_ARGS, security_token="sts-secret", **AKSK))
    assert aksk.client is not None
    assert {"sk-secret-value", "sts-secret"} <= aksk.no_log_values
    token = build(dict(BASE_ARGS, auth_token="tok-secret"))
    assert token.client is not None
    assert "tok-secret" in token.no_log_values
    password = build(dict(BASE_ARGS, **PASSWORD))
    assert password.client is not None
    assert "pass-secret-value" in password.no_log_values


@responses.activate
@pytest.mark.usefixtures("captured")
def test_run_time_token_becomes_a_no_log_value():
    responses.add(responses.POST, "https://iam.cn-north-4.myhuaweicloud.com/v3/auth/tokens", status=201,
                  json={"token": {}}, headers={"X-Subject-Token": "MIIruntime-token"})
    responses.add(responses.GET, "https://apig.cn-north-4.myhuaweicloud.com/v2/%s/apigw/instances/%s/envs" % (
        PROJECT, INSTANCE), json={"total": 0, "envs": []})
    wrapper = build(dict(BASE_ARGS, **PASSWORD))
    assert "MIIruntime-token" not in wrapper.no_log_values
    wrapper.client.call("GET", "/envs")
    assert "MIIruntime-token" in wrapper.no_log_values


@responses.activate
def test_run_time_token_is_masked_in_the_output(capsys):
    responses.add(responses.POST, "https://iam.cn-north-4.myhuaweicloud.com/v3/auth/tokens", status=201,
                  json={"token": {}}, headers={"X-Subject-Token": "MIIruntime-token"})
    responses.add(responses.GET, "https://apig.cn-north-4.myhuaweicloud.com/v2/%s/apigw/instances/%s/envs" % (
        PROJECT, INSTANCE), json={"total": 0, "envs": []})

    def action(wrapper):
        wrapper.client.call("GET", "/envs")
        return {"changed": False, "seen": "token MIIruntime-token and password pass-secret-value"}

    with patch_module_args(dict(BASE_ARGS, **PASSWORD)):
        wrapper = module.ApigModule(argument_spec={})
        with pytest.raises(SystemExit):
            wrapper.run(action)
    output = capsys.readouterr().out
    assert "MIIruntime-token" not in output
    assert "pass-secret-value" not in output
    assert json.loads(output)["changed"] is False


# -- running -----------------------------------------------------------------------------------------

@pytest.mark.usefixtures("captured")
def test_run_exits_with_the_result():
    wrapper = build(dict(BASE_ARGS, auth_token="t"))
    with pytest.raises(ExitJson) as caught:
        wrapper.run(lambda m: {"changed": True, "apis": ["a"]})
    assert caught.value.args[0] == {"changed": True, "apis": ["a"]}


@pytest.mark.usefixtures("captured")
def test_apig_error_becomes_fail_json():
    def action(wrapper):
        raise client.ApigError("POST /v2/x failed: HTTP 429 APIG.0308: throttled (request id req-9)", status=429,
                               error_code="APIG.0308", error_msg="throttled", request_id="req-9", method="POST",
                               path="/v2/x")

    wrapper = build(dict(BASE_ARGS, auth_token="t"))
    with pytest.raises(FailJson) as caught:
        wrapper.run(action)
    assert caught.value.args[0] == {
        "msg": "POST /v2/x failed: HTTP 429 APIG.0308: throttled (request id req-9)",
        "status": 429, "error_code": "APIG.0308", "error_msg": "throttled", "request_id": "req-9"}


@responses.activate
@pytest.mark.usefixtures("captured")
def test_cloud_error_from_a_real_call_becomes_fail_json():
    responses.add(responses.GET, "https://apig.cn-north-4.myhuaweicloud.com/v2/%s/apigw/instances/%s/envs" % (
        PROJECT, INSTANCE), status=403, json={"error_code": "APIG.1005", "error_msg": "No permissions"},
        headers={"X-Request-Id": "req-403"})
    wrapper = build(dict(BASE_ARGS, **AKSK))
    with pytest.raises(FailJson) as caught:
        wrapper.run(lambda m: m.client.call("GET", "/envs"))
    result = caught.value.args[0]
    assert (result["status"], result["error_code"], result["error_msg"], result["request_id"]) == (
        403, "APIG.1005", "No permissions", "req-403")
    assert "HTTP 403" in result["msg"]
    assert "sk-secret-value" not in json.dumps(result)
    assert len(responses.calls) == 1
    assert "Authorization" not in result["msg"]


@pytest.fixture
def handling(monkeypatch):
    """fail_json that also records whether an exception was being handled when it was called."""
    seen = []

    def fail_json(self, msg, **kwargs):
        seen.append(sys.exc_info()[0])
        kwargs["msg"] = msg
        raise FailJson(kwargs)

    monkeypatch.setattr(module.ApigModule, "fail_json", fail_json)
    return seen


def test_cloud_error_fails_outside_the_exception_handler(handling):
    """ansible-core before 2.19 attaches the traceback of the exception being handled (shown at -vvv)."""
    def action(wrapper):
        raise client.ApigError("GET /v2/x failed: HTTP 500 APIG.9999: System error", status=500)

    wrapper = build(dict(BASE_ARGS, auth_token="t"))
    with pytest.raises(FailJson) as caught:
        wrapper.run(action)
    assert handling == [None] and "exception" not in caught.value.args[0]


@pytest.mark.parametrize("region", ["north", "CN-NORTH-4"])
def test_bad_region_fails_outside_the_exception_handler(handling, region):
    with pytest.raises(FailJson) as caught:
        getattr(build(dict(BASE_ARGS, region=region, auth_token="t")), "client")
    assert handling == [None] and caught.value.args[0]["msg"].startswith("region: ")


@pytest.mark.usefixtures("captured")
def test_unexpected_error_fails_cleanly():
    def action(wrapper):
        raise KeyError("boom")

    wrapper = build(dict(BASE_ARGS, auth_token="t"))
    with pytest.raises(FailJson) as caught:
        wrapper.run(action)
    assert caught.value.args[0]["msg"] == "unexpected error: 'boom'"
    assert "KeyError" in caught.value.args[0]["exception"]


@pytest.mark.usefixtures("captured")
def test_module_options_merge_with_connection_options():
    wrapper = build(dict(BASE_ARGS, auth_token="t", env="RELEASE"),
                    argument_spec={"env": {"type": "str", "required": True}})
    assert wrapper.params["env"] == "RELEASE"
    assert wrapper.params["instance_id"] == INSTANCE
    assert wrapper.check_mode is False

# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Without `requests` the module fails saying which Python lacked it and how to point Ansible at the right one."""

import sys

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.hwc.apig.plugins.module_utils import client, module


class FailJson(Exception):
    pass


def test_missing_requests_names_the_interpreter_and_the_fix(monkeypatch):
    def fail_json(self, msg, **kwargs):
        kwargs["msg"] = msg
        raise FailJson(kwargs)

    monkeypatch.setattr(module.ApigModule, "fail_json", fail_json)
    monkeypatch.setattr(client, "HAS_REQUESTS", False)
    monkeypatch.setattr(client, "REQUESTS_IMPORT_ERROR", ImportError("No module named 'requests'"), raising=False)
    args = {"project_id": "p", "instance_id": "i", "region": "cn-north-4", "access_key": "a", "secret_key": "b"}
    with pytest.raises(FailJson) as failure:
        with patch_module_args(args):
            module.ApigModule(argument_spec={}, supports_check_mode=True)
    msg = failure.value.args[0]["msg"]
    assert "(requests)" in msg
    assert "Python %s" % sys.executable in msg
    assert 'ansible_python_interpreter: "{{ ansible_playbook_python }}"' in msg
    assert "No module named 'requests'" in failure.value.args[0]["exception"]

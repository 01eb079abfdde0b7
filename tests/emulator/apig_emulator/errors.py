"""Error answers in the cloud's shape: an HTTP status plus {"error_code", "error_msg"}.

Codes and wording follow the documented examples where the documents give them (APIG.1002, APIG.1005,
APIG.2001, APIG.2011, APIG.3001, APIG.3002, APIG.3030, APIG.3084, APIG.0308, APIG.9999); the others
(environment, version, task, "not published", "not deployed") are in the same style.
"""

from __future__ import annotations


class ApiError(Exception):
    """An error answer; raised by handlers and turned into a JSON response by the app."""

    def __init__(self, status: int, code: str, msg: str, headers: dict[str, str] | None = None):
        super().__init__(f"{status} {code} {msg}")
        self.status = status
        self.code = code
        self.msg = msg
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error_code": self.code, "error_msg": self.msg}


SUPPORT_DOC = "Please refer to the support documentation"


def missing_param(name: str) -> ApiError:
    return ApiError(400, "APIG.2001",
                    f"The request parameters must be specified,parameterName:{name}. {SUPPORT_DOC}")


def invalid_param(name: str) -> ApiError:
    return ApiError(400, "APIG.2011", f"Invalid parameter value,parameterName:{name}. {SUPPORT_DOC}")


def invalid_action() -> ApiError:
    return ApiError(400, "APIG.2011",
                    'Invalid parameter value: parameter action should be \\"online\\" or \\"offline\\"')


def unauthorized(msg: str = "Incorrect token or token resolution failed") -> ApiError:
    return ApiError(401, "APIG.1002", msg)


def forbidden() -> ApiError:
    return ApiError(403, "APIG.1005", "No permissions to request this method")


def instance_not_found(instance_id: str) -> ApiError:
    return ApiError(404, "APIG.3030", f"The instance does not exist;id:{instance_id}")


def group_not_found(group_id: str) -> ApiError:
    return ApiError(404, "APIG.3001", f"API group {group_id} does not exist")


def api_not_found(api_id: str) -> ApiError:
    return ApiError(404, "APIG.3002", f"Api {api_id} not found")


def env_not_found(env_id: str) -> ApiError:
    return ApiError(404, "APIG.3004", f"The environment does not exist, id: {env_id}")


def version_not_found(version_id: str) -> ApiError:
    return ApiError(404, "APIG.3022", f"The API version does not exist, id: {version_id}")


def not_published(api_id: str, env_id: str, status: int = 400) -> ApiError:
    return ApiError(status, "APIG.3005",
                    f"The API has not been published in the environment, api: {api_id}, env: {env_id}")


def version_not_effective(version_id: str) -> ApiError:
    return ApiError(400, "APIG.3005", f"The API version is not effective in its environment, id: {version_id}")


def task_not_found(task_id: str) -> ApiError:
    return ApiError(404, "APIG.3050", f"The task does not exist, id: {task_id}")


def livedata_not_found(ld_api_id: str) -> ApiError:
    return ApiError(404, "APIG.3084", f"The livedata API does not exist, id: {ld_api_id}")


def livedata_not_deployed(ld_api_id: str) -> ApiError:
    return ApiError(400, "APIG.3086", f"The livedata API has not been deployed, id: {ld_api_id}")


def route_not_found() -> ApiError:
    return ApiError(404, "APIG.0101", "The API does not exist or has not been published in the environment")


def throttled(retry_after: float) -> ApiError:
    return ApiError(429, "APIG.0308",
                    "The throttling threshold has been reached: policy user over ratelimit,limit:100,time:1 minute",
                    {"Retry-After": _seconds(retry_after)})


SERVER_ERROR_MESSAGES = {500: "System error", 502: "Bad gateway", 503: "Service unavailable, please try again later",
                         504: "Gateway timeout"}


def server_error(status: int, retry_after: float | None = None) -> ApiError:
    msg = SERVER_ERROR_MESSAGES[status]
    headers = {"Retry-After": _seconds(retry_after)} if retry_after is not None else None
    return ApiError(status, "APIG.9999", msg, headers)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)

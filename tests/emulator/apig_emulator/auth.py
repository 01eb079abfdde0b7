"""Request authentication as the cloud does it: SDK-HMAC-SHA256 AK/SK signatures and IAM tokens.

The signature check is an independent implementation of the SDK signer's algorithm. It rebuilds the
canonical request from the headers listed in `SignedHeaders` only, because HTTP clients add headers
(Accept, Connection, Content-Length...) after signing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, quote, unquote

from . import errors
from .state import EmulatorState, iso

ALGORITHM = "SDK-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class Identity:
    """Who made a request: `method` is `aksk` or `token`; `project_ids` None means every project."""

    def __init__(self, method: str, principal: str, project_ids: set[str] | None):
        self.method = method
        self.principal = principal
        self.project_ids = project_ids

    def may_use(self, project_id: str) -> bool:
        return self.project_ids is None or project_id in self.project_ids


def canonical_uri(raw_path: str) -> str:
    segments = unquote(raw_path).split("/")
    uri = "/".join(quote(segment, safe="~") for segment in segments)
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(raw_query: str) -> str:
    pairs = sorted(parse_qsl(raw_query, keep_blank_values=True))
    return "&".join(f"{quote(key, safe='~')}={quote(value, safe='~')}" for key, value in pairs)


def payload_hash(body: bytes, headers) -> str:
    if not body:
        return EMPTY_SHA256
    declared = headers.get("x-sdk-content-sha256")
    if declared:
        return declared
    return hashlib.sha256(body).hexdigest()


def _header_text(value: str) -> str:
    """WSGI hands header bytes over as latin-1; the signer signed the UTF-8 text."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def parse_authorization(value: str) -> dict[str, str] | None:
    algorithm, _space, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        return None
    fields = {}
    for part in rest.split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields[key] = val
    if not {"Access", "SignedHeaders", "Signature"} <= fields.keys():
        return None
    return fields


def signature(secret_key: str, method: str, raw_path: str, raw_query: str, headers, signed_headers: list[str],
              body: bytes) -> str | None:
    """The request's expected signature, or None when a signed header is missing.

    `headers` is looked up with lower-case names: a Werkzeug `Headers` or a dict with lower-case keys.
    """
    canonical_headers = []
    for name in signed_headers:
        value = headers.get(name)
        if value is None:
            return None
        canonical_headers.append(f"{name}:{_header_text(value).strip()}\n")
    canonical_request = "\n".join([
        method.upper(),
        canonical_uri(raw_path),
        canonical_query(raw_query),
        "".join(canonical_headers),
        ";".join(signed_headers),
        payload_hash(body, headers),
    ])
    string_to_sign = "\n".join([
        ALGORITHM,
        headers.get("x-sdk-date", ""),
        hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
    ])
    return hmac.new(secret_key.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def verify_aksk(state: EmulatorState, method: str, raw_path: str, raw_query: str, headers, body: bytes) -> Identity:
    fields = parse_authorization(headers.get("Authorization", ""))
    if fields is None:
        raise errors.unauthorized("Incorrect IAM authentication information: Authorization format error")
    credential = state.credentials.get(fields["Access"])
    if credential is None:
        raise errors.unauthorized("Incorrect IAM authentication information: the access key does not exist")

    date = headers.get("X-Sdk-Date", "")
    try:
        signed_at = datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise errors.unauthorized("Incorrect IAM authentication information: X-Sdk-Date is missing or invalid")
    skew = abs((datetime.now(timezone.utc) - signed_at).total_seconds())
    if skew > state.setting("max_clock_skew_seconds"):
        raise errors.unauthorized("Incorrect IAM authentication information: the request has expired (X-Sdk-Date)")

    expected_token = credential.get("security_token")
    if expected_token and headers.get("X-Security-Token") != expected_token:
        raise errors.unauthorized("Incorrect IAM authentication information: invalid security token")

    signed_headers = [h for h in fields["SignedHeaders"].split(";") if h]
    expected = signature(credential["secret_key"], method, raw_path, raw_query, headers, signed_headers, body)
    if expected is None or not hmac.compare_digest(expected, fields["Signature"]):
        raise errors.unauthorized("Incorrect IAM authentication information: verify aksk signature fail")
    project_ids = credential.get("project_ids")
    return Identity("aksk", credential["access_key"], set(project_ids) if project_ids else None)


def verify_token(state: EmulatorState, token: str) -> Identity:
    record = state.tokens.get(token)
    if record is None or record["expires"] <= datetime.now(timezone.utc):
        raise errors.unauthorized()
    project_ids = {record["project_id"]} if record["project_id"] else set()
    return Identity("token", record["user"], project_ids)


def authenticate(state: EmulatorState, method: str, raw_path: str, raw_query: str, headers, body: bytes) -> Identity:
    """A request carries an IAM token (X-Auth-Token) or an AK/SK signature; anything else is 401."""
    token = headers.get("X-Auth-Token")
    if token:
        return verify_token(state, token)
    if headers.get("Authorization"):
        return verify_aksk(state, method, raw_path, raw_query, headers, body)
    raise errors.unauthorized()


# --- IAM: POST /v3/auth/tokens ------------------------------------------------------------------

class IamError(errors.ApiError):
    """IAM answers in Keystone's shape, plus the error_code/error_msg pair clients look for."""

    def body(self) -> dict:
        return {"error": {"code": self.status, "message": self.msg, "title": "Unauthorized" if self.status == 401
                          else "Bad Request"},
                "error_code": self.code, "error_msg": self.msg}


def issue_token(state: EmulatorState, request_body: dict, with_catalog: bool) -> tuple[str, dict]:
    """Check a password authentication request and issue a token: (token, response body)."""
    try:
        identity = request_body["auth"]["identity"]
        methods = identity["methods"]
        user_spec = identity["password"]["user"]
        domain_name = user_spec["domain"]["name"]
        user_name = user_spec["name"]
        password = user_spec["password"]
    except (KeyError, TypeError):
        raise IamError(400, "IAM.0007", "The request body is invalid: password authentication expected.")
    if "password" not in methods:
        raise IamError(400, "IAM.0007", "The request body is invalid: password authentication expected.")
    user = next((u for u in state.users if u["domain_name"] == domain_name and u["name"] == user_name), None)
    if user is None or not hmac.compare_digest(str(user["password"]), str(password)):
        raise IamError(401, "IAM.0004", "The username or password is wrong.")

    scope = (request_body["auth"].get("scope") or {})
    project = None
    if "project" in scope:
        spec = scope["project"] or {}
        project = state.projects.get(spec.get("id")) or next(
            (p for p in state.projects.values() if p["name"] == spec.get("name")), None)
        allowed = user.get("project_ids")
        if project is None or (allowed and project["id"] not in allowed):
            raise IamError(401, "IAM.0008", "The project does not exist or the user has no access to it.")

    now = datetime.now(timezone.utc)
    expires = now + timedelta(seconds=float(state.setting("token_ttl_seconds")))
    token = "MII" + base64.urlsafe_b64encode(secrets.token_bytes(96)).decode().rstrip("=")
    state.tokens[token] = {"user": user["name"], "project_id": project["id"] if project else None,
                           "expires": expires}
    domain = {"id": user["domain_id"], "name": user["domain_name"]}
    body = {
        "expires_at": _iam_time(expires),
        "issued_at": _iam_time(now),
        "methods": ["password"],
        "roles": [{"id": "0", "name": "op_service"}, {"id": _hex_id("te_admin"), "name": "te_admin"}],
        "user": {"id": user["id"], "name": user["name"], "domain": domain, "password_expires_at": ""},
    }
    if project:
        body["project"] = {"id": project["id"], "name": project["name"], "domain": domain}
    else:
        body["domain"] = domain
    if with_catalog:
        body["catalog"] = _catalog(state, project)
    return token, {"token": body}


def expire_tokens(state: EmulatorState) -> int:
    """Expire every token issued so far; returns how many were still valid. The records stay (refused
    from now on), so that a test can still look for every token ever issued in what a client printed."""
    now = datetime.now(timezone.utc)
    live = [record for record in state.tokens.values() if record["expires"] > now]
    for record in live:
        record["expires"] = now
    return len(live)


def _hex_id(name: str) -> str:
    return hashlib.md5(name.encode()).hexdigest()


def _iam_time(moment: datetime) -> str:
    return iso(moment)[:-4] + "Z"  # IAM uses milliseconds: 2026-11-23T05:01:31.265Z


def _catalog(state: EmulatorState, project: dict | None) -> list[dict]:
    region = project["name"] if project else "cn-north-4"
    return [
        {"type": service, "id": _hex_id(service), "name": service,
         "endpoints": [{"id": _hex_id(service + region), "interface": "public", "region": region,
                        "region_id": region, "url": f"https://{service}.{region}.myhuaweicloud.com"}]}
        for service in ("apig", "roma", "iam")
    ]

# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one HTTP choke point of hwc.apig: endpoints, auth, retries, typed errors and paging.

Private to the hwc.apig collection; not a public API.
"""

import contextlib
import datetime
import email.utils
import json
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlsplit

try:
    import requests
    from requests.exceptions import ConnectionError as RequestsConnectionError
    from requests.exceptions import ConnectTimeout, RequestException, SSLError, Timeout
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # the module wrapper reports it with missing_required_lib
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

from ansible_collections.hwc.apig.plugins.module_utils import signer

COLLECTION_VERSION = "1.0.0"
USER_AGENT = "hwc.apig/%s" % COLLECTION_VERSION

SERVICES = ("apig", "roma")
PATH_PREFIX = {"apig": "apigw", "roma": "apic"}
# The one region whose endpoints live under the .eu domain (contract: region files).
EU_DOMAIN_REGIONS = ("eu-west-101",)
REGION_PATTERN = re.compile(r"^[a-z]{2,}(-[a-z0-9]+)+$")

JSON_BODY_TYPE = "application/json;charset=utf-8"
JSON_TYPE = "application/json"
RETRYABLE_STATUSES = (429, 500, 502, 503, 504)
THROTTLED = 429
# The docs give the throttling code but not always its HTTP status.
THROTTLE_CODES = ("APIG.0308", "APIGW.0308")
MAX_RETRY_AFTER = 120.0
PAGE_LIMIT = 500
# Independent calls (listing pages after the first, batch chunks) run on this many threads at most.
MAX_CONCURRENCY = 4

READ, WRITE, EXPORT = "read", "write", "export"


class ApigError(Exception):
    """A failed call, with what the cloud said about it.

    ``maybe_applied`` is true for a write whose request may have reached the server (a timeout,
    a dropped connection or a 5xx after sending): the caller must re-read state before acting.
    """

    def __init__(self, message, status=None, error_code=None, error_msg=None, request_id=None,
                 method=None, path=None, maybe_applied=False):
        super(ApigError, self).__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code
        self.error_msg = error_msg
        self.request_id = request_id
        self.method = method
        self.path = path
        self.maybe_applied = maybe_applied
        self.context = None

    def add_context(self, doing):
        """Say what the module was doing; the innermost context wins."""
        if self.context is None:
            self.context = doing
            self.message = "%s: %s" % (doing, self.message)

    def details(self):
        """The fields every module failure shows."""
        return {
            "status": self.status,
            "error_code": self.error_code,
            "error_msg": self.error_msg,
            "request_id": self.request_id,
        }

    def __str__(self):
        return self.message


def _find_error_pair(data):
    for code_key, msg_key in (("error_code", "error_msg"), ("errorCode", "errorMsg"), ("code", "message")):
        if code_key in data or msg_key in data:
            return data.get(code_key), data.get(msg_key)
    for value in data.values():
        if isinstance(value, dict):
            found = _find_error_pair(value)
            if found != (None, None):
                return found
    return None, None


def error_from_response(response, method, path):
    """Map an HTTP error response to ApigError the way the official SDK reads error bodies."""
    code = message = None
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        code, message = _find_error_pair(data)
    if code is None:
        code = str(response.status_code)
    if message is None:
        message = (response.text or response.reason or "")[:500]
    request_id = response.headers.get("X-Request-Id")
    text = "%s %s failed: HTTP %s %s: %s" % (method, path, response.status_code, code, message)
    if request_id:
        text += " (request id %s)" % request_id
    return ApigError(text, status=response.status_code, error_code=str(code), error_msg=str(message),
                     request_id=request_id, method=method, path=path)


@contextlib.contextmanager
def doing(what):
    """Prefix any ApigError raised inside with what the module was doing ("listing the APIs of ...")."""
    try:
        yield
    except ApigError as error:
        error.add_context(what)
        raise


class RetryBudget(object):
    """The retries one logical request may still spend (a write and its resends share one)."""

    def __init__(self, retries):
        self.left = max(int(retries), 0)
        self.used = 0

    def take(self):
        if self.left <= 0:
            return False
        self.left -= 1
        self.used += 1
        return True


def service_endpoint(service, region):
    """Default endpoint of a service in a region, as the SDK's region files build it."""
    _check_region(region)
    domain = "myhuaweicloud.eu" if region in EU_DOMAIN_REGIONS else "myhuaweicloud.com"
    return "https://%s.%s.%s" % (service, region, domain)


def iam_endpoint_for(region):
    return service_endpoint("iam", region)


def _check_region(region):
    if not REGION_PATTERN.match(region or ""):
        raise ValueError("region %r is not a Huawei Cloud region ID such as cn-north-4" % (region,))


def _retry_after_seconds(response):
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        seconds = (moment - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _certificate_failure(exc):
    """True when TLS failed on the certificate (nothing was sent): only ca_path or validate_certs helps."""
    text = str(exc).lower()
    return "certificate" in text or "hostname" in text


def _sent_before_failure(exc):
    """True when a connection error happened before the request reached the server."""
    if isinstance(exc, ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    inner = getattr(reason, "reason", reason)
    name = type(inner).__name__
    return name in ("NewConnectionError", "ConnectTimeoutError", "NameResolutionError")


class RetryPolicy(object):
    """Jittered exponential backoff that honours Retry-After."""

    def __init__(self, retries=5, base=0.5, cap=20.0, sleep=None, rand=None):
        self.retries = max(int(retries), 0)
        self.base = base
        self.cap = cap
        self.sleep = sleep or time.sleep
        self.rand = rand or random.random

    def delay(self, attempt, retry_after=None):
        if retry_after is not None:
            return retry_after
        ceiling = min(self.cap, self.base * (2 ** attempt))
        # Equal jitter: never less than half the ceiling, so a burst of clients spreads out.
        return ceiling / 2.0 + self.rand() * ceiling / 2.0

    def wait(self, attempt, retry_after=None):
        self.sleep(self.delay(attempt, retry_after))


class NoAuth(object):
    """No credentials (the IAM token request itself); the base of the other auth methods."""

    def secrets(self):
        return []

    def apply(self, client, method, host, path, query, headers, body):
        headers["Host"] = host
        return headers, signer.canonical_query(query)

    def refresh(self, client):
        return False


class AkSkAuth(NoAuth):
    """Permanent or temporary AK/SK; every request signed with SDK-HMAC-SHA256."""

    def __init__(self, access_key, secret_key, security_token=None):
        self.access_key = access_key
        self.secret_key = secret_key
        self.security_token = security_token

    def secrets(self):
        return [s for s in (self.secret_key, self.security_token) if s]

    def apply(self, client, method, host, path, query, headers, body):
        if self.security_token:
            headers["X-Security-Token"] = self.security_token
        return signer.sign(method, host, path, query, headers, body, self.access_key, self.secret_key)


class TokenAuth(NoAuth):
    """An IAM token given by the user, sent as X-Auth-Token."""

    def __init__(self, token):
        self.token = token

    def secrets(self):
        return [self.token] if self.token else []

    def apply(self, client, method, host, path, query, headers, body):
        headers["X-Auth-Token"] = self.current_token(client)
        return super(TokenAuth, self).apply(client, method, host, path, query, headers, body)

    def current_token(self, client):
        return self.token


class PasswordAuth(TokenAuth):
    """IAM password auth: a project-scoped token from POST /v3/auth/tokens, renewed once on 401."""

    def __init__(self, iam_endpoint, username, password, domain_name, on_token=None):
        super(PasswordAuth, self).__init__(None)
        self.iam_endpoint = iam_endpoint.rstrip("/")
        self.username = username
        self.password = password
        self.domain_name = domain_name
        self.on_token = on_token
        self.renewed = False
        self.lock = threading.Lock()

    def secrets(self):
        return [s for s in (self.password, self.token) if s]

    def current_token(self, client):
        with self.lock:
            if self.token is None:
                self.token = self._fetch(client)
            return self.token

    def refresh(self, client):
        with self.lock:
            if self.renewed:
                return False
            self.renewed = True
            self.token = self._fetch(client)
            return True

    def _fetch(self, client):
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "domain": {"name": self.domain_name}, "name": self.username, "password": self.password}}},
            "scope": {"project": {"id": client.project_id}},
        }}
        response = client.send(
            "POST", self.iam_endpoint + "/v3/auth/tokens", query=[("nocatalog", "true")], body=body, kind=READ,
            auth=NO_AUTH)
        token = response.headers.get("X-Subject-Token")
        if not token:
            raise ApigError("IAM answered without an X-Subject-Token header", status=response.status_code)
        if self.on_token:
            self.on_token(token)
        return token


NO_AUTH = NoAuth()


class ApigClient(object):
    """A client for one APIG or ROMA Connect instance; one requests.Session per module run."""

    def __init__(self, endpoint, project_id, instance_id, service, auth, timeout=30, retries=5,
                 validate_certs=True, ca_path=None, session=None, retry_policy=None):
        if service not in SERVICES:
            raise ValueError("service must be one of %s, got %r" % (", ".join(SERVICES), service))
        self.endpoint = endpoint.rstrip("/")
        self.project_id = project_id
        self.instance_id = instance_id
        self.service = service
        self.auth = auth
        self.timeout = timeout
        self.retry = retry_policy or RetryPolicy(retries)
        self.session = session or requests.Session()
        # validate_certs=false turns verification off even when a CA bundle is given.
        self.verify = (ca_path or True) if validate_certs else False
        self.request_count = 0

    # -- paths ---------------------------------------------------------------------------------
    def instance_path(self, suffix="", api_version="v2"):
        """``/v2/{project_id}/{apigw|apic}/instances/{instance_id}`` + suffix (already encoded)."""
        return "/%s/%s/%s/instances/%s%s" % (
            api_version, quote(self.project_id, safe=""), PATH_PREFIX[self.service],
            quote(self.instance_id, safe=""), suffix)

    # -- requests ------------------------------------------------------------------------------
    def new_budget(self):
        return RetryBudget(self.retry.retries)

    def send(self, method, url, query=None, body=None, kind=READ, stream=False, auth=None, budget=None):
        """Send one logical request with retries; return the successful requests.Response.

        A write is retried only where a duplicate cannot result (429, or a connection that failed
        before the request was sent); ``budget`` lets the caller share one budget between a write
        and its resends.
        """
        auth = auth or self.auth
        budget = budget or self.new_budget()
        payload = json.dumps(body).encode("utf-8") if body is not None else b""
        parts = urlsplit(url)
        while True:
            headers = {
                "User-Agent": USER_AGENT,
                "Content-Type": JSON_BODY_TYPE if body is not None else JSON_TYPE,
                "X-Project-Id": self.project_id,
            }
            headers, query_string = auth.apply(self, method, parts.netloc, parts.path, query, headers, payload)
            full_url = url + ("?" + query_string if query_string else "")
            try:
                self.request_count += 1
                response = self.session.request(
                    method, full_url, data=payload or None, headers=headers, timeout=self.timeout,
                    verify=self.verify, stream=stream, allow_redirects=False)
            except SSLError as exc:
                if _certificate_failure(exc):
                    # Nothing was sent and a retry cannot help: say what to change.
                    raise ApigError(
                        "%s %s failed: TLS verification of %s failed (%s); give ca_path (a CA bundle for a "
                        "private CA) or set validate_certs: false" % (method, parts.path, parts.netloc, exc),
                        method=method, path=parts.path)
                # A TLS error once the connection was up may have cut off an answer: as a dropped connection.
                if kind != WRITE and budget.take():
                    self.retry.wait(budget.used - 1)
                    continue
                raise ApigError("%s %s failed: TLS error (%s)" % (method, parts.path, exc), method=method,
                                path=parts.path, maybe_applied=kind == WRITE)
            except RequestException as exc:
                # A body cut off mid-read (ChunkedEncodingError and the like) counts as sent.
                before_send = isinstance(exc, RequestsConnectionError) and _sent_before_failure(exc)
                if (kind != WRITE or before_send) and budget.take():
                    self.retry.wait(budget.used - 1)
                    continue
                raise ApigError(
                    "%s %s failed: %s" % (method, parts.path, _describe(exc)), method=method, path=parts.path,
                    maybe_applied=kind == WRITE and not before_send)
            if response.status_code < 400:
                return response
            if response.status_code == 401 and auth.refresh(self):
                response.close()
                continue
            error = error_from_response(response, method, parts.path)
            response.close()
            if response.status_code == 401 and isinstance(auth, TokenAuth) and not isinstance(auth, PasswordAuth):
                error.message += "; the auth_token was refused (expired or not valid): give a fresh token"
            throttled = response.status_code == THROTTLED or error.error_code in THROTTLE_CODES
            retryable = throttled or (kind != WRITE and response.status_code in RETRYABLE_STATUSES)
            if retryable and budget.take():
                self.retry.wait(budget.used - 1, _retry_after_seconds(response))
                continue
            error.maybe_applied = kind == WRITE and response.status_code >= 500
            raise error

    def call(self, method, suffix, query=None, body=None, kind=READ, budget=None, require_body=False,
             api_version="v2"):
        """Call an instance endpoint (``suffix`` from ``self.path``) and return its JSON body.

        An empty body gives {} unless ``require_body``. A write whose 2xx answer cannot be read
        (empty when a body is required, or not JSON) is ambiguous: it may have been applied.
        """
        path = self.instance_path(suffix, api_version)
        response = self.send(method, self.endpoint + path, query=query, body=body, kind=kind, budget=budget)
        request_id = response.headers.get("X-Request-Id")
        if not response.content and not require_body:
            return {}
        try:
            data = json.loads(response.content)  # bytes straight in: no decoded text copy of a big answer
        except ValueError:
            data = None
        if not isinstance(data, dict):
            what = "an empty body" if not response.content else "a body that is not JSON (or not an object)"
            raise ApigError("%s %s answered HTTP %s with %s" % (method, path, response.status_code, what),
                            status=response.status_code, request_id=request_id, method=method, path=path,
                            maybe_applied=kind == WRITE)
        return data

    @staticmethod
    def path(*segments):
        """The part after the instance, ``/livedata-apis/{id}/undeploy``, with each segment quoted."""
        return "".join("/" + quote(str(segment), safe="") for segment in segments)

    def stream(self, method, suffix, query=None, body=None, budget=None):
        """Call an export endpoint and return the streaming requests.Response (caller closes it)."""
        return self.send(method, self.endpoint + self.instance_path(suffix), query=query, body=body, kind=EXPORT,
                         stream=True, budget=budget)

    def list_all(self, suffix, key, query=None, limit=PAGE_LIMIT):
        """Walk offset/limit pages of ``suffix`` until ``total`` is reached; return every item.

        The first page gives ``total``; the pages after it are read concurrently (a small pool).
        """
        base = [(k, v) for k, v in (query or {}).items() if v is not None]

        def page_at(offset):
            return self.call("GET", suffix, query=base + [("offset", offset), ("limit", limit)])

        first = page_at(0)
        chunk = first.get(key) or []
        pages = [chunk]
        total = first.get("total")
        if total is None:
            pages.extend(self._walk(page_at, key, len(chunk), None, chunk) if chunk else [])
        elif chunk and len(chunk) < int(total):
            # Offsets follow the page size the server chose, which may be below the limit asked for.
            # Windows of concurrent reads; an empty page ends the listing, whatever total said.
            offsets = list(range(len(chunk), int(total), len(chunk)))
            for start in range(0, len(offsets), MAX_CONCURRENCY):
                window = [page.get(key) or [] for page in self.map_concurrently(
                    page_at, offsets[start:start + MAX_CONCURRENCY])]
                ended = [] in window
                pages.extend(window[:window.index([])] if ended else window)
                if ended:
                    return _deduplicated(pages)
            offset = sum(len(page) for page in pages)
            if pages[-1] and offset < int(total):
                # A server that shortened its pages midway: walk the rest one page at a time.
                pages.extend(self._walk(page_at, key, offset, int(total)))
        return _deduplicated(pages)

    @staticmethod
    def _walk(page_at, key, offset, total, last=None):
        """Pages one after another until total, an empty page, or a page that repeats the last one
        (a server that ignores offset)."""
        while total is None or offset < total:
            chunk = page_at(offset).get(key) or []
            if not chunk or chunk == last:
                return
            yield chunk
            last = chunk
            offset += len(chunk)

    @staticmethod
    def map_concurrently(function, values):
        """``[function(value) ...]`` in order, on at most MAX_CONCURRENCY threads; the first error is raised."""
        values = list(values)
        if len(values) <= 1:
            return [function(value) for value in values]
        with ThreadPoolExecutor(max_workers=min(MAX_CONCURRENCY, len(values))) as pool:
            return list(pool.map(function, values))


def _deduplicated(pages):
    """Offset paging can repeat an item when the listing changes during the walk."""
    items, seen = [], set()
    for chunk in pages:
        for item in chunk:
            item_id = item.get("id") if isinstance(item, dict) else None
            if item_id is None or item_id not in seen:
                seen.add(item_id)
                items.append(item)
    return items


def _describe(exc):
    if isinstance(exc, Timeout):
        return "timed out (%s)" % type(exc).__name__
    return "connection failed (%s)" % type(exc).__name__

# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AK/SK request signing (SDK-HMAC-SHA256), byte-for-byte as the official Huawei Cloud SDK signs.

Private to the hwc.apig collection; not a public API.
"""

import datetime
import hashlib
import hmac

from urllib.parse import quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


def sdk_date(now=None):
    """The X-Sdk-Date value: basic ISO 8601 in UTC."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.strftime(DATE_FORMAT)


def _query_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def canonical_query(params):
    """Sorted, percent-encoded query string; it is also the query sent on the wire.

    ``params`` is a list of (key, value) pairs or a dict; ``None`` values are dropped and a list
    value emits one pair per (sorted) element, as the SDK does.
    """
    if isinstance(params, dict):
        params = list(params.items())
    pairs = []
    for key, value in params or []:
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            for item in sorted(value):
                pairs.append((key, _query_value(item)))
        else:
            pairs.append((key, _query_value(value)))
    # The SDK sorts the raw (unencoded) pairs, which can differ from sorting the encoded form.
    pairs.sort()
    return "&".join(quote(k, safe="~") + "=" + quote(v, safe="~") for k, v in pairs)


def canonical_uri(path):
    segments = unquote(path).split("/")
    uri = "/".join(quote(segment, safe="~") for segment in segments)
    return uri if uri.endswith("/") else uri + "/"


def _header_items(headers):
    return [(name, value) for name, value in headers.items() if "_" not in name]


def payload_hash(body, headers):
    if not body:
        return EMPTY_BODY_SHA256
    for name, value in headers.items():
        if name.lower() == "x-sdk-content-sha256":
            return value
    if not isinstance(body, bytes):
        body = body.encode("utf-8")
    return hashlib.sha256(body).hexdigest()


def sign(method, host, path, query, headers, body, access_key, secret_key, now=None):
    """Sign a request in place and return the headers to send.

    ``headers`` must already hold ``Content-Type`` and any ``X-Project-Id``/``X-Security-Token``.
    ``X-Sdk-Date`` and ``Host`` are added when absent (a caller may pin them, as the SDK allows).
    Returns ``(headers, canonical_query_string)``.
    """
    headers = dict(headers)
    # The SDK looks up this exact spelling only.
    content_type = headers.get("Content-Type")
    if content_type and not content_type.startswith(("application/json", "application/bson")):
        headers["X-Sdk-Content-Sha256"] = UNSIGNED_PAYLOAD
    date = next((v for k, v in headers.items() if k.lower() == "x-sdk-date"), None)
    if date is None:
        date = sdk_date(now)
        headers["X-Sdk-Date"] = date
    if not any(k.lower() == "host" for k in headers):
        headers["Host"] = host

    signed = sorted((name.lower(), str(value).strip()) for name, value in _header_items(headers))
    signed_names = ";".join(name for name, _value in signed)
    canonical_headers = "".join("%s:%s\n" % (name, value) for name, value in signed)
    query_string = canonical_query(query)
    canonical_request = "\n".join([
        method.upper(),
        canonical_uri(path),
        query_string,
        canonical_headers,
        signed_names,
        payload_hash(body, headers),
    ])
    string_to_sign = "\n".join([
        ALGORITHM,
        date,
        hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
    ])
    signature = hmac.new(secret_key.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    # The SDK sends every value stripped, its UTF-8 bytes carried in a str (requests encodes as Latin-1).
    for name in list(headers):
        headers[name] = str(headers[name]).strip().encode("utf-8").decode("iso-8859-1")
    headers["Authorization"] = "%s Access=%s, SignedHeaders=%s, Signature=%s" % (
        ALGORITHM, access_key, signed_names, signature)
    return headers, query_string

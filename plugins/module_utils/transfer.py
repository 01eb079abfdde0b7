# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Exports streamed into a temporary file, hashed while they stream; never a partial file left behind.

Private to the hwc.apig collection; not a public API.
"""

import hashlib
import os
import tempfile

try:
    from requests.exceptions import RequestException
except ImportError:  # the module wrapper reports the missing library
    RequestException = None

from ansible_collections.hwc.apig.plugins.module_utils.client import ApigError

CHUNK_SIZE = 64 * 1024


class Download(object):
    """A finished download: the temporary file, its sha1 and size, and the answer's headers."""

    def __init__(self, path, sha1, size, headers=None):
        self.path = path
        self.sha1 = sha1
        self.size = size
        self.headers = headers or {}

    def discard(self):
        _remove(self.path)


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _write_chunks(tmpdir, chunks, prefix):
    """Write chunks to a new temporary file; return (path, sha1, size); remove the file on any error."""
    handle, path = tempfile.mkstemp(prefix=prefix, dir=tmpdir)
    digest = hashlib.sha1()
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks:
                if chunk:
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
    except BaseException:
        _remove(path)
        raise
    return path, digest.hexdigest(), size


def save_bytes(tmpdir, data, prefix="hwc-apig-"):
    """A Download for content that arrived inside a JSON answer (the async export's task result)."""
    try:
        path, sha1, size = _write_chunks(tmpdir, [data], prefix)
    except OSError as exc:
        raise ApigError("writing the export to a temporary file in %s failed: %s" % (tmpdir, exc))
    return Download(path, sha1, size)


def download(client, method, suffix, tmpdir, query=None, body=None, prefix="hwc-apig-"):
    """Stream an export answer into ``tmpdir``; a connection error mid-body retries the whole download.

    Retries share the client's retry budget for this one logical request.
    """
    budget = client.new_budget()
    while True:
        response = client.stream(method, suffix, query=query, body=body, budget=budget)
        try:
            found = _write_chunks(tmpdir, response.iter_content(CHUNK_SIZE), prefix)
        except OSError as exc:  # requests' errors are OSErrors too: tell a broken download from a full disk
            if RequestException is None or not isinstance(exc, RequestException):
                raise ApigError("writing the export to a temporary file in %s failed: %s" % (tmpdir, exc))
            if budget.take():
                client.retry.wait(budget.used - 1)
                continue
            raise ApigError("%s %s failed: the connection broke while downloading (%s)" % (
                method, suffix, type(exc).__name__), method=method, path=suffix,
                request_id=response.headers.get("X-Request-Id"))
        finally:
            response.close()
        return Download(found[0], found[1], found[2], dict(response.headers))

# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""API definition documents (Swagger 2.0 / OpenAPI 3.0, JSON or YAML): parse, normalise, compare.

A document is read once into a Summary - one digest of the whole document and one per operation -
and its parsed tree is dropped at once, so comparing two exports holds one parsed tree at a time.
Key order, and with it the order of paths and operations, never counts; list order does. The
``info.version`` stamp can be left out of the comparison (a server stamps the export time there).

YAML needs PyYAML, which ships with ansible-core; its import is guarded so that JSON work
never depends on it. Private to the hwc.apig collection; not a public API.
"""

import base64
import datetime
import hashlib
import json
import os
import re

try:
    import yaml
    HAS_YAML = True
    YAML_IMPORT_ERROR = None
    _YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    _YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
except ImportError as exc:  # reported only when a YAML document has to be read or written
    HAS_YAML = False
    YAML_IMPORT_ERROR = exc

JSON, YAML = "json", "yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# APIG's extension for an API whose method is ANY: a Path Item field that holds an operation.
ANY_METHOD_KEY = "x-apigateway-any-method"
# ansible-core's default MAX_FILE_SIZE_FOR_DIFF: larger files get no content diff.
MAX_DIFF_SIZE = 104448
_SNIFF_BYTES = 64


class DocumentError(Exception):
    """A file that is not an API definition document in the expected format."""


class YamlMissing(DocumentError):
    """PyYAML is needed (a YAML document) but cannot be imported."""


def normalize_format(fmt):
    """``yml`` is another name for ``yaml``."""
    return YAML if fmt in ("yaml", "yml") else JSON


class Summary(object):
    """What a comparison needs of a document, without the document.

    ``syntax`` is how the file is written (json or yaml), ``digest`` covers the whole normalised
    document and ``operations`` maps (METHOD, path) to (operationId or None, digest).
    """

    def __init__(self, syntax, digest, operations):
        self.syntax = syntax
        self.digest = digest
        self.operations = operations

    @property
    def api_count(self):
        return len(self.operations)

    def same_as(self, other):
        """False when either side was summarised without digests (``digests=False``)."""
        return (other is not None and self.digest is not None and self.syntax == other.syntax
                and self.digest == other.digest)


def _sniff(handle):
    start = handle.read(_SNIFF_BYTES).lstrip(b"\xef\xbb\xbf \t\r\n")
    handle.seek(0)
    return JSON if start[:1] in (b"{", b"[") else YAML


def parse(path, fmt):
    """Parse a file; return (syntax, document). Raise DocumentError when it does not parse.

    A file written as JSON parses as JSON whatever ``fmt`` says, so switching an export between
    formats counts as a change; a file that is not JSON parses as YAML only when ``fmt`` is yaml.
    """
    fmt = normalize_format(fmt)
    try:
        with open(path, "rb") as handle:
            syntax = _sniff(handle)
            if syntax == JSON:
                try:
                    return JSON, json.loads(handle.read())
                except ValueError as exc:
                    if fmt == JSON:
                        raise DocumentError("not valid JSON: %s" % exc)
                    handle.seek(0)
            if fmt == JSON:
                raise DocumentError("not a JSON document")
            if not HAS_YAML:
                raise YamlMissing("reading a YAML document needs PyYAML: %s" % YAML_IMPORT_ERROR)
            try:
                # The C loader reads the stream in chunks; the pure-Python one is the fallback.
                return YAML, yaml.load(handle, Loader=_YAML_LOADER)  # nosec B506 - a safe loader
            except yaml.YAMLError as exc:
                raise DocumentError("not valid YAML: %s" % exc)
    except (IOError, OSError) as exc:
        raise DocumentError("cannot read %s: %s" % (path, exc))
    except UnicodeDecodeError as exc:
        raise DocumentError("not UTF-8 text: %s" % exc)


def _plain(value):
    """Values YAML may produce that JSON cannot carry, as stable text."""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (set, frozenset)):
        return sorted(str(item) for item in value)
    return str(value)


def _canonical(value):
    """A copy with every mapping key as text (YAML reads ``200:`` as a number, JSON as text)."""
    if isinstance(value, dict):
        return dict((str(key), _canonical(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    return value


def digest(value):
    """sha1 of a canonical JSON form: keys sorted, so key order never counts; list order does."""
    text = json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_plain)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _method(key):
    if not isinstance(key, str):
        return None
    if key == ANY_METHOD_KEY:
        return "ANY"
    return key.upper() if key.lower() in HTTP_METHODS else None


def _path_item(path, item, digests=True):
    """(what the document digest keeps of the path item, its operations) for one path item.

    The operations map (METHOD, path) to (operationId or None, digest); without ``digests`` no
    hashing is done and every digest is None.
    """
    if not isinstance(item, dict):
        return (digest(item) if digests else None), {}
    # Path-level fields (shared parameters, servers...) belong to every operation of the path.
    shared = digest(dict((key, value) for key, value in item.items() if _method(key) is None)) if digests else None
    kept, operations = {"": shared}, {}
    for key, operation in item.items():
        method = _method(key)
        if method is None:
            continue
        name = operation.get("operationId") if isinstance(operation, dict) else None
        op_digest = digest([shared, operation]) if digests else None
        operations[(method, path)] = (str(name) if name is not None else None, op_digest)
        kept[method] = op_digest
    return kept, operations


def _summary(syntax, rest, paths, per_path, ignore_version, digests):
    """The Summary from the top-level fields but paths (``rest``), the ``paths`` value (only its type and,
    when it is not a mapping, itself) and (path, _path_item of it) for each member of the paths mapping."""
    operations = {}
    path_digests = {}
    for path, (kept, found) in per_path:
        path_digests[path] = kept
        operations.update(found)
    if not digests:
        return Summary(syntax, None, operations)
    info = rest.get("info")
    if ignore_version and isinstance(info, dict):
        rest["info"] = dict((key, value) for key, value in info.items() if key != "version")
    if paths is not None and not isinstance(paths, dict):
        path_digests = digest(paths)
    return Summary(syntax, digest({"rest": rest, "paths": path_digests}), operations)


def summarize(document, syntax, ignore_version=True, digests=True):
    """The Summary of a parsed document; ``ignore_version`` leaves ``info.version`` out.

    ``digests=False`` skips hashing (the per-operation digests cost far more than parsing a large
    export) when there is nothing to compare with: the Summary then gives api_count and the
    operations, and ``same_as`` is False.
    """
    if not isinstance(document, dict):
        raise DocumentError("not an API definition document (its top level is not a mapping)")
    rest = dict((str(key), value) for key, value in document.items() if key != "paths")
    paths = document.get("paths")
    per_path = ((str(path), _path_item(str(path), item, digests)) for path, item in paths.items()) if isinstance(
        paths, dict) else ()
    return _summary(syntax, rest, paths, per_path, ignore_version, digests)


class _NotStreamed(Exception):
    """The file is not one JSON object that the member-by-member reading handles: parse it whole."""


_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip(text, index):
    return _WHITESPACE.match(text, index).end()


def _members(text, index, on_member):
    """Walk the JSON object at ``text[index]`` member by member: ``on_member(key, index of the value)``
    reads the value and returns the index after it. Returns the index after the object."""
    if text[index:index + 1] != "{":
        raise _NotStreamed()
    index = _skip(text, index + 1)
    if text[index:index + 1] == "}":
        return index + 1
    while True:
        if text[index:index + 1] != '"':
            raise _NotStreamed()
        key, index = _DECODER.raw_decode(text, index)
        index = _skip(text, index)
        if text[index:index + 1] != ":":
            raise _NotStreamed()
        index = _skip(text, on_member(key, _skip(text, index + 1)))
        if text[index:index + 1] == "}":
            return index + 1
        if text[index:index + 1] != ",":
            raise _NotStreamed()
        index = _skip(text, index + 1)


def _stream_json_summary(path, ignore_version, digests):
    """The Summary of a JSON file read one path item at a time, or None when the file is not such a
    document (parse() then decides, with its own errors).

    json.loads builds the whole tree, several times the size of the file; here only the text and one
    path item at a time are held. Duplicate keys resolve as json.loads resolves them: the last wins.
    """
    try:
        with open(path, "rb") as handle:
            if _sniff(handle) != JSON:
                return None
            data = handle.read()
        text = data.decode(json.detect_encoding(data), "surrogatepass")
        del data
        if text[:1] == "\ufeff":
            return None
        rest, found = {}, {"paths": None, "items": {}}

        def on_path(key, index):
            item, end = _DECODER.raw_decode(text, index)
            found["items"][key] = _path_item(key, item, digests)  # the item itself is dropped here
            return end

        def on_top(key, index):
            if key == "paths" and text[index:index + 1] == "{":
                found["paths"], found["items"] = {}, {}  # a later "paths" replaces an earlier one
                return _members(text, index, on_path)
            value, end = _DECODER.raw_decode(text, index)
            if key == "paths":
                found["paths"], found["items"] = value, {}
            else:
                rest[key] = value
            return end

        end = _members(text, _skip(text, 0), on_top)
        if _skip(text, end) != len(text):
            return None
        del text  # before the whole-document digest: one large thing at a time
    except (_NotStreamed, ValueError, OSError):  # UnicodeDecodeError is a ValueError
        return None
    return _summary(JSON, rest, found["paths"], found["items"].items(), ignore_version, digests)


def load_summary(path, fmt, ignore_version=True, digests=True):
    """Parse a file and summarise it; the parsed tree is dropped before this returns.

    A JSON document is read one path item at a time (see _stream_json_summary).
    """
    streamed = _stream_json_summary(path, ignore_version, digests)
    if streamed is not None:
        return streamed
    syntax, document = parse(path, fmt)
    return summarize(document, syntax, ignore_version, digests)


def _entry(key, name):
    method, path = key
    entry = {"method": method, "path": path}
    if name is not None:
        entry["name"] = name
    return entry


def changes(before, after):
    """Operations added, removed and modified from ``before`` to ``after`` (Summaries).

    Each list holds ``{method, path, name}`` (name when the document gives an operationId),
    sorted by path and method; a removed operation carries its old name.
    """
    old, new = before.operations, after.operations
    order = sorted(set(old) | set(new), key=lambda key: (key[1], key[0]))
    added = [_entry(key, new[key][0]) for key in order if key in new and key not in old]
    removed = [_entry(key, old[key][0]) for key in order if key in old and key not in new]
    modified = [_entry(key, new[key][0]) for key in order
                if key in old and key in new and old[key][1] != new[key][1]]
    return {"added": added, "removed": removed, "modified": modified}


def no_changes():
    return {"added": [], "removed": [], "modified": []}


def dump(document, fmt):
    """Serialise a document (an async task result that carried an object) as UTF-8 bytes."""
    if normalize_format(fmt) == JSON:
        return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
    if not HAS_YAML:
        raise YamlMissing("writing a YAML document needs PyYAML: %s" % YAML_IMPORT_ERROR)
    return yaml.dump(document, Dumper=_YAML_DUMPER, sort_keys=False, allow_unicode=True,
                     default_flow_style=False).encode("utf-8")


def _read_text(path):
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", "replace")


def file_diff(before_path, after_path, before_header, after_header, max_size=MAX_DIFF_SIZE):
    """A diff-mode dict for two files (``before_path`` may be None: no file yet).

    Above ``max_size`` bytes the contents are left out and ansible-core's own markers
    (``dst_larger``/``src_larger``) say why, as the copy and template actions do.
    """
    diff = {"before_header": before_header, "after_header": after_header}
    before_size = os.path.getsize(before_path) if before_path else 0
    after_size = os.path.getsize(after_path)
    if before_size > max_size:
        diff["dst_larger"] = max_size
    if after_size > max_size:
        diff["src_larger"] = max_size
    if before_size <= max_size and after_size <= max_size:
        diff["before"] = _read_text(before_path) if before_path else ""
        diff["after"] = _read_text(after_path)
    return diff

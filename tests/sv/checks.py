# SPDX-License-Identifier: GPL-2.0-or-later
"""Evaluator for suricata-verify `checks:` (see ../shared/README.md).

Pure functions, no I/O except CheckContext reading EVE files, so that
tests/sv/test_checks.py can exercise every operator.

A match key is a dotted path into the event: `alert.signature_id`,
`dns.answers[0].rrname`, `vlan[1]`.  An operator may end the path, either as
its own dotted part (`payload_printable.__find`, Suricata-verify's spelling)
or glued to the last part (`payload_printable__find`):

  __len        len() of a string / array / object equals the value (-1 if not sized)
  __contains   array holds the value, string holds the substring, object has the key
  __find       string holds the substring
  __startswith / __endswith
  __gt __gte __lt __lte   numeric comparison (numbers only, bools are not numbers)

`has-key` / `not-has-key` test presence of one path (or a list of paths).
Plain values compare with types: "2.0" != 2.0, true != 1; ints and floats
compare numerically (JSON does not distinguish them).  A null expected value
matches a missing key or a JSON null (as suricata-verify does).
"""

import json
import os
import re

ENGINE_VERSION = (8, 0, 0)

MISSING = object()

OPERATORS = ("len", "contains", "find", "startswith", "endswith", "gt", "gte", "lt", "lte")

_INDEX_RE = re.compile(r"\[(-?\d+)\]")
_PART_RE = re.compile(r"^([^\[]*)((?:\[-?\d+\])*)$")


# ---------------------------------------------------------------- versions

def parse_version(v):
    """'7.0.12' -> (7, 0, 12); 8 -> (8,); 8.0 (a YAML float) -> (8, 0)."""
    s = str(v).strip()
    parts = []
    for p in s.split("."):
        m = re.match(r"\d+", p)
        if not m:
            break
        parts.append(int(m.group(0)))
    if not parts:
        raise ValueError("bad version: %r" % (v,))
    return tuple(parts)


def version_compare(engine, required):
    """Compare engine to required on the components `required` gives only
    (so 8.0.3 equals '8' and '8.0'): -1, 0 or 1."""
    for i, r in enumerate(required):
        e = engine[i] if i < len(engine) else 0
        if e != r:
            return -1 if e < r else 1
    return 0


def requires_excludes(req, engine=ENGINE_VERSION):
    """Reason string when a requires-like mapping excludes `engine`, else None.
    Keys other than version conditions (features, files, script, pcap, ...)
    are assumed satisfied."""
    if not isinstance(req, dict):
        return None
    for key, op in (("min-version", lambda c: c >= 0), ("lt-version", lambda c: c < 0),
                    ("gt-version", lambda c: c > 0), ("lte-version", lambda c: c <= 0),
                    ("version", lambda c: c == 0)):
        if key in req and req[key] is not None:
            want = parse_version(req[key])
            if not op(version_compare(engine, want)):
                return "%s %s excludes %s" % (key, req[key], ".".join(map(str, engine)))
    return None


def check_requires_excludes(check_body, engine=ENGINE_VERSION):
    """Version conditions inside a check: `requires:` or keys beside count/match."""
    r = requires_excludes(check_body.get("requires"), engine)
    if r:
        return r
    return requires_excludes(check_body, engine)


# ---------------------------------------------------------------- paths

def split_operator(key):
    """'a.b.__len' or 'a.b__len' -> ('a.b', 'len'); 'a.b' -> ('a.b', None)."""
    for op in OPERATORS:
        suffix = "__" + op
        if key.endswith(suffix):
            path = key[: -len(suffix)]
            if path.endswith("."):
                path = path[:-1]
            if path:
                return path, op
    return key, None


def resolve(obj, path):
    """Value at dotted `path` in obj, or MISSING."""
    if path == "":
        return obj
    for part in path.split("."):
        m = _PART_RE.match(part)
        if not m:
            return MISSING
        name, idx = m.group(1), m.group(2)
        if name:
            if not isinstance(obj, dict) or name not in obj:
                return MISSING
            obj = obj[name]
        for i in _INDEX_RE.findall(idx):
            if not isinstance(obj, list):
                return MISSING
            i = int(i)
            if i >= len(obj) or i < -len(obj):
                return MISSING
            obj = obj[i]
    return obj


# ---------------------------------------------------------------- values

def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def typed_equal(a, b):
    """Equality that keeps JSON types apart: str vs number vs bool."""
    if _is_num(a) and _is_num(b):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(typed_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(typed_equal(x, y) for x, y in zip(a, b))
    return a == b


def match_entry(event, key, expected):
    """True when one match entry holds for the event."""
    if key in ("has-key", "not-has-key"):
        paths = expected if isinstance(expected, list) else [expected]
        present = all(resolve(event, str(p)) is not MISSING for p in paths)
        if key == "has-key":
            return present
        return all(resolve(event, str(p)) is MISSING for p in paths)
    path, op = split_operator(key)
    val = resolve(event, path)
    if op is None:
        if expected is None:
            return val is MISSING or val is None
        if val is MISSING:
            return False
        return typed_equal(val, expected)
    if val is MISSING:
        return False
    if op == "len":
        try:
            n = len(val) if isinstance(val, (str, list, dict)) else -1
        except TypeError:
            n = -1
        return typed_equal(n, expected)
    if op == "contains":
        if isinstance(val, list):
            return any(typed_equal(x, expected) for x in val)
        if isinstance(val, str):
            return isinstance(expected, str) and expected in val
        if isinstance(val, dict):
            return isinstance(expected, str) and expected in val
        return False
    if op in ("find", "startswith", "endswith"):
        if not isinstance(val, str):
            return False
        exp = expected if isinstance(expected, str) else str(expected)
        if op == "find":
            return exp in val
        if op == "startswith":
            return val.startswith(exp)
        return val.endswith(exp)
    # numeric comparisons
    if not (_is_num(val) and _is_num(expected)):
        return False
    return {"gt": val > expected, "gte": val >= expected,
            "lt": val < expected, "lte": val <= expected}[op]


def event_matches(event, match):
    if not match:
        return True
    return all(match_entry(event, k, v) for k, v in match.items())


def describe_match(match, limit=120):
    s = ", ".join("%s=%s" % (k, json.dumps(v) if not isinstance(v, str) else v)
                  for k, v in (match or {}).items())
    return s if len(s) <= limit else s[: limit - 3] + "..."


# ---------------------------------------------------------------- checks

class CheckResult:
    PASS, FAIL, SKIP = "pass", "fail", "skip"

    def __init__(self, status, message=""):
        self.status = status
        self.message = message

    def __repr__(self):
        return "CheckResult(%s, %r)" % (self.status, self.message)


class CheckContext:
    """Reads the output files of one run once each."""

    def __init__(self, outdir):
        self.outdir = outdir
        self._cache = {}

    def events(self, filename="eve.json"):
        if filename not in self._cache:
            self._cache[filename] = load_events(os.path.join(self.outdir, filename))
        return self._cache[filename]


def load_events(path):
    """List of parsed JSON objects of a file, or None if absent.  Lines that
    are not JSON objects are ignored (eve_validate.py reports those)."""
    if not os.path.exists(path):
        return None
    out = []
    with open(path, "r", encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if isinstance(ev, dict):
                out.append(ev)
    return out


def count_matches(events, match):
    return sum(1 for ev in events if event_matches(ev, match))


def evaluate_filter(body, events_for):
    """`body` is the mapping under `filter:`; events_for(filename) gives the
    events list or None when that file does not exist."""
    excl = check_requires_excludes(body)
    if excl:
        return CheckResult(CheckResult.SKIP, excl)
    filename = body.get("filename", "eve.json")
    events = events_for(filename)
    if events is None:
        return CheckResult(CheckResult.FAIL, "%s does not exist" % filename)
    match = body.get("match") or {}
    got = count_matches(events, match)
    want = body.get("count")
    if want is None:
        # No count: at least one line must match (lenient reading).
        ok = got > 0
        want_s = ">=1"
    else:
        ok = got == want
        want_s = str(want)
    if ok:
        return CheckResult(CheckResult.PASS)
    where = "" if filename == "eve.json" else " in %s" % filename
    return CheckResult(CheckResult.FAIL, "expected %s, got %d%s for {%s}"
                       % (want_s, got, where, describe_match(match)))


def evaluate_stats(body, events_for):
    """`stats:` check (suricata-verify StatsCheck): every dotted key holds in
    the last stats event's `stats` object."""
    events = events_for("eve.json")
    if events is None:
        return CheckResult(CheckResult.FAIL, "eve.json does not exist")
    stats = None
    for ev in events:
        if ev.get("event_type") == "stats":
            stats = ev.get("stats")
    if stats is None:
        return CheckResult(CheckResult.FAIL, "no stats event")
    for k, v in body.items():
        if not match_entry(stats, k, v):
            got = resolve(stats, split_operator(k)[0])
            return CheckResult(CheckResult.FAIL, "stats.%s: expected %s, got %s"
                               % (k, json.dumps(v), "missing" if got is MISSING else json.dumps(got)))
    return CheckResult(CheckResult.PASS)


def evaluate_check(check, events_for):
    """One entry of `checks:`."""
    if not isinstance(check, dict):
        return CheckResult(CheckResult.SKIP, "unknown check %r" % (check,))
    if "filter" in check:
        return evaluate_filter(check["filter"] or {}, events_for)
    if "stats" in check:
        return evaluate_stats(check["stats"] or {}, events_for)
    kinds = ",".join(sorted(check.keys()))
    return CheckResult(CheckResult.SKIP, "%s check not evaluated" % kinds)


def check_event_types(check):
    """Event types a check is about (for --categories)."""
    if not isinstance(check, dict):
        return set()
    if "stats" in check:
        return {"stats"}
    body = check.get("filter") or {}
    match = body.get("match") or {}
    et = match.get("event_type")
    if isinstance(et, str):
        return {et}
    return set()

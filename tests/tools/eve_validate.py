#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Validate EVE JSON files (one event per line) against Suricata's EVE schema.

  tests/tools/eve_validate.py [--schema ../shared/suricata-eve-schema/schema.json]
                              [--max-errors 20] [--quiet] FILE...

Prints the count of events per event_type and the first N errors with file
and line number.  Exit 0 when every line is a JSON object the schema accepts,
1 otherwise (a line that is not JSON counts as invalid), 2 on usage errors.
Without the schema: prints `SKIP: ...` and exits $BF_SKIP_RC (default 0).
"""

import argparse
import collections
import json
import os
import sys

try:
    import jsonschema
except ImportError:  # pragma: no cover
    sys.stderr.write("eve_validate.py needs Debian's python3-jsonschema: use /usr/bin/python3\n")
    sys.exit(2)


def make_validator(schema_path):
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    cls.check_schema(schema)
    return cls(schema)


def short(s, n=160):
    s = str(s)
    return s if len(s) <= n else s[: n - 3] + "..."


def error_text(err):
    path = "".join("[%d]" % p if isinstance(p, int) else ".%s" % p for p in err.absolute_path)
    return "%s: %s" % (path.lstrip(".") or "(event)", short(err.message))


def validate_file(path, validator, counts, errors, max_errors):
    """Returns (lines, invalid)."""
    lines = invalid = 0
    opener = open
    if path.endswith(".gz"):
        import gzip
        opener = gzip.open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            lines += 1
            try:
                ev = json.loads(line)
            except ValueError as e:
                invalid += 1
                counts["(not json)"] += 1
                if len(errors) < max_errors:
                    errors.append("%s:%d: not JSON: %s" % (path, lineno, short(e)))
                continue
            if not isinstance(ev, dict):
                invalid += 1
                counts["(not an object)"] += 1
                if len(errors) < max_errors:
                    errors.append("%s:%d: not a JSON object" % (path, lineno))
                continue
            et = ev.get("event_type")
            counts[et if isinstance(et, str) else "(no event_type)"] += 1
            if validator.is_valid(ev):
                continue
            invalid += 1
            if len(errors) < max_errors:
                errs = sorted(validator.iter_errors(ev), key=lambda e: list(e.absolute_path))
                for e in errs[:3]:
                    errors.append("%s:%d: %s event: %s" % (path, lineno, et, error_text(e)))
                if len(errs) > 3:
                    errors.append("%s:%d: ... and %d more errors in this event"
                                  % (path, lineno, len(errs) - 3))
    return lines, invalid


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", metavar="FILE")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--schema", default=os.path.relpath(os.path.join(
        root, "..", "shared", "suricata-eve-schema", "schema.json")),
        help="EVE JSON schema (default: ../shared/suricata-eve-schema/schema.json beside the "
             "project root)")
    ap.add_argument("--max-errors", type=int, default=20, help="errors to print (default 20)")
    ap.add_argument("--quiet", "-q", action="store_true", help="no per-event-type counts")
    args = ap.parse_args()

    if not os.path.exists(args.schema):
        print("SKIP: EVE schema not found at %s" % args.schema)
        return int(os.environ.get("BF_SKIP_RC", "0"))
    validator = make_validator(args.schema)

    counts = collections.Counter()
    errors = []
    total = bad = 0
    for path in args.files:
        try:
            n, b = validate_file(path, validator, counts, errors, args.max_errors)
        except OSError as e:
            print("error: %s" % e, file=sys.stderr)
            return 2
        total += n
        bad += b

    if not args.quiet:
        for et, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            print("%8d  %s" % (n, et))
    for e in errors:
        print(e)
    if bad > len(errors):
        print("(first %d errors shown)" % len(errors))
    print("%d events in %d file(s): %d valid, %d invalid" % (total, len(args.files), total - bad, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run the suricata-verify suite (../shared/suricata-verify) against Beffroi.

  tests/sv/run.py --beffroi build/beffroi [--tests ../shared/suricata-verify/tests]
                  [--filter REGEX] [--expected tests/sv/expected-failures.txt]
                  [--jobs 2] [--verbose] [--update-expected] [--strict]
                  [--categories] [--keep DIR]

One line per test (PASS / FAIL / SKIP), then `N passed, N failed[, N skipped]`.
Exit status: 0 unless a test not listed in the expected-failures file fails
(a regression), or with --strict a listed test passes; 2 on usage errors.
When the suite is absent: prints `SKIP: ...` and exits $BF_SKIP_RC (default 0).
"""

import argparse
import collections
import concurrent.futures
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks as ck  # noqa: E402

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.stderr.write("run.py needs Debian's python3-yaml: use /usr/bin/python3\n")
    sys.exit(2)

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
PCAP_EXTS = (".pcap", ".pcapng", ".cap")


class TestResult:
    def __init__(self, name, status, message="", categories=(), detail="", duration=0.0):
        self.name = name
        self.status = status
        self.message = message
        self.categories = set(categories)
        self.detail = detail
        self.duration = duration


def discover(root):
    """Test folders (holding test.yaml) below root, as names relative to root."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        if "test.yaml" in filenames:
            found.append(os.path.relpath(dirpath, root))
            dirnames[:] = []  # a test folder does not hold other tests
    return sorted(found)


def load_expected(path):
    """{name: reason} from `name  # reason` lines."""
    out = collections.OrderedDict()
    if not path or not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        for line in f:
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            name, _, reason = s.partition("#")
            out[name.strip()] = reason.strip()
    return out


def write_expected(path, entries):
    header = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    header.append(line.rstrip("\n"))
                else:
                    break
    if not header:
        header = ["# suricata-verify tests Beffroi is known to fail: `test-name  # reason`.",
                  "# tests/sv/run.py fails only on a failure not listed here (a regression).",
                  "# Refresh with: tests/sv/run.py --beffroi build/beffroi --update-expected", ""]
    while header and not header[-1].strip():
        header.pop()
    header.append("")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(header) + "\n")
        width = max([len(n) for n in entries] + [0])
        for name in sorted(entries):
            f.write("%-*s  # %s\n" % (width, name, entries[name] or "TODO"))
    os.replace(tmp, path)


def substitute(s, test_dir, out_dir):
    for k, v in (("TEST_DIR", test_dir), ("OUTPUT_DIR", out_dir), ("SRCDIR", test_dir)):
        s = s.replace("${%s}" % k, v)
    return s


def find_pcap(cfg, test_dir):
    """(path, None) or (None, reason-to-skip) or raises ValueError."""
    if "pcap" in cfg:
        p = cfg["pcap"]
        if p is False or p is None or p == "":
            return None, "no pcap (not applicable)"
        path = os.path.normpath(os.path.join(test_dir, str(p)))
        if not os.path.exists(path):
            raise ValueError("pcap %s not found" % p)
        return path, None
    pcaps = sorted(f for f in os.listdir(test_dir) if f.endswith(PCAP_EXTS))
    if not pcaps:
        return None, "no pcap (not applicable)"
    if len(pcaps) > 1:
        raise ValueError("several pcaps and no pcap: key: %s" % " ".join(pcaps))
    return os.path.join(test_dir, pcaps[0]), None


def build_command(beffroi, cfg, test_dir, out_dir, pcap):
    cmd = [beffroi, "-r", pcap, "-l", out_dir, "-q"]
    rules = sorted(f for f in os.listdir(test_dir) if f.endswith(".rules"))
    if len(rules) == 1:
        cmd += ["-S", os.path.join(test_dir, rules[0])]
    elif len(rules) > 1:
        merged = os.path.join(os.path.dirname(out_dir), "all.rules")
        with open(merged, "w", encoding="utf-8") as out:
            for r in rules:
                with open(os.path.join(test_dir, r), encoding="utf-8", errors="replace") as f:
                    data = f.read()
                out.write(data)
                if data and not data.endswith("\n"):
                    out.write("\n")
        cmd += ["-S", merged]
    conf = os.path.join(test_dir, "suricata.yaml")
    if os.path.exists(conf):
        cmd += ["-c", conf]
    args = cfg.get("args") or []
    if isinstance(args, str):
        args = [args]
    for a in args:
        if a is None:
            continue
        cmd += shlex.split(substitute(str(a), test_dir, out_dir))
    if "ips" in os.path.basename(test_dir) and "--simulate-ips" not in cmd:
        cmd.append("--simulate-ips")
    return cmd


def test_categories(cfg):
    cats = set()
    for c in cfg.get("checks") or []:
        cats |= ck.check_event_types(c)
    return cats or {"other"}


def _run_one(args, name):
    test_dir = os.path.abspath(os.path.join(args.tests, name))
    try:
        with open(os.path.join(test_dir, "test.yaml"), encoding="utf-8") as f:
            cfg = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as e:
        return TestResult(name, FAIL, "test.yaml: %s" % e)
    cats = test_categories(cfg)
    for key in ("requires", "requirements"):
        excl = ck.requires_excludes(cfg.get(key))
        if excl:
            return TestResult(name, SKIP, excl, cats)
    try:
        pcap, why = find_pcap(cfg, test_dir)
    except ValueError as e:
        return TestResult(name, FAIL, str(e), cats)
    if pcap is None:
        return TestResult(name, SKIP, why, cats)

    work = tempfile.mkdtemp(prefix="bf-sv-")
    out_dir = os.path.join(work, "out")
    os.mkdir(out_dir)
    try:
        cmd = build_command(args.beffroi, cfg, test_dir, out_dir, pcap)
        env = dict(os.environ)
        for k, v in (cfg.get("env") or {}).items():
            env[str(k)] = str(v)
        detail = ["cmd: " + " ".join(shlex.quote(c) for c in cmd)]
        try:
            proc = subprocess.run(cmd, cwd=out_dir, env=env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=args.timeout)
            rc = proc.returncode
            stderr = proc.stderr.decode("utf-8", "replace")
        except subprocess.TimeoutExpired as e:
            rc = None
            stderr = (e.stderr or b"").decode("utf-8", "replace")
        except OSError as e:
            return TestResult(name, FAIL, "cannot run beffroi: %s" % e, cats)
        if stderr.strip():
            detail.append("stderr (last lines):\n    " +
                          "\n    ".join(stderr.strip().splitlines()[-15:]))
        if rc is None:
            res = TestResult(name, FAIL, "timeout after %ds" % args.timeout, cats)
        else:
            want_rc = cfg.get("exit-code", 0)
            first_fail = None
            # Beffroi exits 3 when an input was truncated or corrupt but read
            # up to the break; Suricata exits 0 there.
            if rc != want_rc and not (want_rc == 0 and rc == 3):
                first_fail = "exit code %d (expected %d)" % (rc, want_rc)
            ctx = ck.CheckContext(out_dir)
            evaluated = 0
            for i, c in enumerate(cfg.get("checks") or [], 1):
                r = ck.evaluate_check(c, ctx.events)
                if r.status == ck.CheckResult.SKIP:
                    detail.append("check %d: skipped (%s)" % (i, r.message))
                    continue
                evaluated += 1
                if r.status == ck.CheckResult.FAIL:
                    detail.append("check %d: FAIL %s" % (i, r.message))
                    if first_fail is None:
                        first_fail = "check %d: %s" % (i, r.message)
                else:
                    detail.append("check %d: ok" % i)
            if first_fail:
                res = TestResult(name, FAIL, first_fail, cats)
            elif evaluated == 0 and cfg.get("checks"):
                res = TestResult(name, SKIP, "no check evaluated", cats)
            else:
                res = TestResult(name, PASS, "", cats)
        res.detail = "\n".join(detail)
        if args.keep:
            dest = os.path.join(args.keep, name)
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(out_dir, dest)
            with open(os.path.join(dest, "run.txt"), "w", encoding="utf-8") as f:
                f.write(res.detail + "\n")
        return res
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_one(args, name):
    t0 = time.monotonic()
    r = _run_one(args, name)
    r.duration = time.monotonic() - t0
    return r


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--beffroi", required=True, help="path to the beffroi binary")
    ap.add_argument("--tests", default=os.path.relpath(
                        os.path.join(root, "..", "shared", "suricata-verify", "tests")),
                    help="suricata-verify tests folder (default: ../shared/suricata-verify/tests "
                         "beside the project root)")
    ap.add_argument("--filter", help="only tests whose name matches this regex (re.search)")
    ap.add_argument("--expected", default=os.path.join(here, "expected-failures.txt"),
                    help="expected-failures file (default: %(default)s)")
    ap.add_argument("--jobs", "-j", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=60, help="seconds per test (default 60)")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="print the command, each check and stderr of failing tests")
    ap.add_argument("--update-expected", action="store_true",
                    help="rewrite the expected-failures file from this run")
    ap.add_argument("--strict", action="store_true",
                    help="also fail when a listed expected failure now passes")
    ap.add_argument("--categories", action="store_true",
                    help="print counts per event type checked")
    ap.add_argument("--keep", metavar="DIR", help="keep each test's output under DIR/<test>")
    args = ap.parse_args()

    skip_rc = int(os.environ.get("BF_SKIP_RC", "0"))
    if not os.path.isdir(args.tests):
        print("SKIP: suricata-verify tests not found at %s" % args.tests)
        return skip_rc
    if not (os.path.isfile(args.beffroi) and os.access(args.beffroi, os.X_OK)):
        print("error: beffroi binary %s not found or not executable" % args.beffroi,
              file=sys.stderr)
        return 2
    args.beffroi = os.path.abspath(args.beffroi)
    if args.keep:
        args.keep = os.path.abspath(args.keep)
        os.makedirs(args.keep, exist_ok=True)

    names = discover(args.tests)
    if args.filter:
        rx = re.compile(args.filter)
        names = [n for n in names if rx.search(n)]
    expected = load_expected(args.expected)

    lock = threading.Lock()
    results = {}

    def report(r):
        tag = r.status
        note = ""
        if r.status == FAIL and r.name in expected:
            note = "  [expected: %s]" % expected[r.name] if expected[r.name] else "  [expected]"
        elif r.status == PASS and r.name in expected:
            note = "  [listed as expected failure: remove it]"
        line = "%s %s" % (tag, r.name)
        if r.message:
            line += ": " + r.message
        with lock:
            print(line + note, flush=True)
            if args.verbose and r.detail:
                print("    " + r.detail.replace("\n", "\n    "), flush=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = {pool.submit(run_one, args, n): n for n in names}
        for fut in concurrent.futures.as_completed(futs):
            n = futs[fut]
            try:
                r = fut.result()
            except Exception as e:  # a bug in the runner: report, carry on
                r = TestResult(n, FAIL, "runner error: %r" % (e,))
            results[n] = r
            report(r)

    npass = sum(1 for r in results.values() if r.status == PASS)
    nfail = sum(1 for r in results.values() if r.status == FAIL)
    nskip = sum(1 for r in results.values() if r.status == SKIP)
    regressions = sorted(n for n, r in results.items() if r.status == FAIL and n not in expected)
    fixed = sorted(n for n, r in results.items() if r.status == PASS and n in expected)

    if args.categories:
        per = collections.defaultdict(lambda: [0, 0, 0])
        for r in results.values():
            for c in r.categories or {"other"}:
                per[c][{PASS: 0, FAIL: 1, SKIP: 2}[r.status]] += 1
        print("\n%-16s %6s %6s %6s %6s" % ("category", "tests", "pass", "fail", "skip"))
        for c in sorted(per, key=lambda c: (-sum(per[c]), c)):
            p, f, s = per[c]
            print("%-16s %6d %6d %6d %6d" % (c, p + f + s, p, f, s))
        print()

    if args.update_expected:
        new = collections.OrderedDict(expected)
        for n, r in results.items():
            if r.status == FAIL and n not in new:
                new[n] = "TODO: " + r.message
            elif r.status == PASS and n in new:
                del new[n]
        write_expected(args.expected, new)
        print("updated %s: %d expected failures (%d added, %d removed)"
              % (args.expected, len(new), len(regressions), len(fixed)))
        regressions = []

    if regressions:
        print("\n%d regression(s) (failing, not in %s):" % (len(regressions), args.expected))
        for n in regressions:
            print("  %s: %s" % (n, results[n].message))
    if fixed and not args.update_expected:
        print("\n%d listed expected failure(s) now pass; remove them from %s:"
              % (len(fixed), args.expected))
        for n in fixed:
            print("  " + n)

    summary = "%d passed, %d failed" % (npass, nfail)
    if nskip:
        summary += ", %d skipped" % nskip
    print(summary)
    if regressions or (args.strict and fixed):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

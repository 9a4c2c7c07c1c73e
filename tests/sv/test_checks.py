#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Unit tests for the suricata-verify check evaluator (tests/sv/checks.py) and
the runner's plumbing (tests/sv/run.py) with a fake engine.

  /usr/bin/python3 -m unittest tests/sv/test_checks.py
"""

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import checks as ck  # noqa: E402

EV = {
    "timestamp": "2024-01-01T00:00:00.000000+0000",
    "event_type": "alert",
    "src_ip": "10.0.0.1",
    "src_port": 1234,
    "proto": "TCP",
    "pcap_cnt": 7,
    "score": 2.5,
    "version": "2.0",
    "flag": True,
    "zero": 0,
    "nothing": None,
    "alert": {"signature_id": 1000001, "signature": "ET POLICY curl User-Agent",
              "metadata": {"tag": ["a", "b"]}},
    "dns": {"answers": [{"rrname": "example.com", "ttl": 300},
                        {"rrname": "www.example.com", "ttl": 60}],
            "grouped": {"A": ["1.2.3.4"]}},
    "vlan": [10, 20],
    "matrix": [[1, 2], [3, 4]],
    "payload_printable": "GET /index.html HTTP/1.1",
}


def m(key, value, ev=EV):
    return ck.match_entry(ev, key, value)


class TestPaths(unittest.TestCase):
    def test_dotted(self):
        self.assertEqual(ck.resolve(EV, "alert.signature_id"), 1000001)
        self.assertIs(ck.resolve(EV, "alert.nope"), ck.MISSING)
        self.assertIs(ck.resolve(EV, "src_ip.x"), ck.MISSING)

    def test_index(self):
        self.assertEqual(ck.resolve(EV, "dns.answers[1].rrname"), "www.example.com")
        self.assertEqual(ck.resolve(EV, "vlan[0]"), 10)
        self.assertEqual(ck.resolve(EV, "vlan[-1]"), 20)
        self.assertEqual(ck.resolve(EV, "matrix[1][0]"), 3)
        self.assertIs(ck.resolve(EV, "vlan[2]"), ck.MISSING)
        self.assertIs(ck.resolve(EV, "alert[0]"), ck.MISSING)  # not an array

    def test_split_operator(self):
        self.assertEqual(ck.split_operator("a.b.__len"), ("a.b", "len"))
        self.assertEqual(ck.split_operator("a.b__len"), ("a.b", "len"))
        self.assertEqual(ck.split_operator("a.b"), ("a.b", None))
        self.assertEqual(ck.split_operator("x__gte"), ("x", "gte"))


class TestEquality(unittest.TestCase):
    def test_plain(self):
        self.assertTrue(m("event_type", "alert"))
        self.assertFalse(m("event_type", "dns"))
        self.assertTrue(m("alert.signature_id", 1000001))

    def test_typed(self):
        self.assertFalse(m("version", 2.0))      # "2.0" is not 2.0
        self.assertTrue(m("version", "2.0"))
        self.assertFalse(m("src_port", "1234"))  # number vs string
        self.assertFalse(m("flag", 1))           # bool vs number
        self.assertTrue(m("flag", True))
        self.assertFalse(m("zero", False))
        self.assertTrue(m("score", 2.5))
        self.assertTrue(m("pcap_cnt", 7.0))      # JSON numbers: int == float

    def test_missing(self):
        self.assertFalse(m("alert.nope", 1))
        self.assertTrue(m("alert.nope", None))   # null expected: absent or null
        self.assertTrue(m("nothing", None))
        self.assertFalse(m("src_ip", None))

    def test_structures(self):
        self.assertTrue(m("vlan", [10, 20]))
        self.assertFalse(m("vlan", [20, 10]))
        self.assertTrue(m("dns.grouped", {"A": ["1.2.3.4"]}))
        self.assertFalse(m("dns.grouped", {"A": ["1.2.3.5"]}))

    def test_index_match(self):
        self.assertTrue(m("dns.answers[0].ttl", 300))
        self.assertFalse(m("dns.answers[5].ttl", 300))


class TestOperators(unittest.TestCase):
    def test_len(self):
        self.assertTrue(m("dns.answers.__len", 2))
        self.assertTrue(m("dns.answers__len", 2))
        self.assertTrue(m("src_ip.__len", 8))
        self.assertTrue(m("alert.__len", 3))
        self.assertTrue(m("src_port.__len", -1))
        self.assertFalse(m("vlan.__len", 3))
        self.assertFalse(m("nope.__len", 0))

    def test_contains(self):
        self.assertTrue(m("vlan.__contains", 20))
        self.assertFalse(m("vlan.__contains", 30))
        self.assertFalse(m("vlan.__contains", "20"))
        self.assertTrue(m("alert.metadata.tag__contains", "b"))
        self.assertTrue(m("payload_printable.__contains", "index"))
        self.assertTrue(m("alert.__contains", "signature_id"))

    def test_find(self):
        self.assertTrue(m("payload_printable.__find", "HTTP/1.1"))
        self.assertFalse(m("payload_printable.__find", "POST"))
        self.assertFalse(m("src_port.__find", "12"))

    def test_startswith_endswith(self):
        self.assertTrue(m("alert.signature.__startswith", "ET POLICY"))
        self.assertFalse(m("alert.signature.__startswith", "POLICY"))
        self.assertTrue(m("alert.signature__endswith", "User-Agent"))
        self.assertFalse(m("alert.signature.__endswith", "ET"))

    def test_numeric(self):
        self.assertTrue(m("pcap_cnt.__gt", 6))
        self.assertFalse(m("pcap_cnt.__gt", 7))
        self.assertTrue(m("pcap_cnt.__gte", 7))
        self.assertTrue(m("pcap_cnt.__lt", 8))
        self.assertFalse(m("pcap_cnt.__lt", 7))
        self.assertTrue(m("pcap_cnt.__lte", 7))
        self.assertTrue(m("score.__gt", 2))
        self.assertFalse(m("version.__gt", 1))      # string is not a number
        self.assertFalse(m("flag.__gte", 0))        # bool is not a number
        self.assertFalse(m("nope.__lt", 100))

    def test_has_key(self):
        self.assertTrue(m("has-key", "alert.metadata"))
        self.assertFalse(m("has-key", "alert.rule"))
        self.assertTrue(m("has-key", "nothing"))    # present though null
        self.assertTrue(m("not-has-key", "alert.rule"))
        self.assertFalse(m("not-has-key", "alert"))
        self.assertTrue(m("has-key", ["alert", "dns"]))
        self.assertFalse(m("has-key", ["alert", "tls"]))


class TestVersions(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(ck.parse_version("7.0.12"), (7, 0, 12))
        self.assertEqual(ck.parse_version(8), (8,))
        self.assertEqual(ck.parse_version(8.0), (8, 0))
        self.assertEqual(ck.parse_version("7 "), (7,))
        self.assertEqual(ck.parse_version("8.0.0-dev"), (8, 0, 0))

    def test_requires(self):
        ex = ck.requires_excludes
        self.assertIsNone(ex({"min-version": 7}))
        self.assertIsNone(ex({"min-version": 8}))
        self.assertIsNone(ex({"min-version": "8.0.0"}))
        self.assertIsNotNone(ex({"min-version": "8.0.7"}))
        self.assertIsNotNone(ex({"min-version": 9}))
        self.assertIsNotNone(ex({"lt-version": 8}))
        self.assertIsNotNone(ex({"lt-version": 8.0}))
        self.assertIsNone(ex({"lt-version": "8.0.7"}))
        self.assertIsNone(ex({"lt-version": 9}))
        self.assertIsNone(ex({"gt-version": "6.0.11"}))
        self.assertIsNotNone(ex({"min-version": "7.0.12", "lt-version": 8}))
        self.assertIsNone(ex({"features": ["HAVE_LUA"], "script": ["false"]}))
        self.assertIsNone(ex(None))


def events_of(events):
    return lambda filename="eve.json": events if filename == "eve.json" else None


class TestFilters(unittest.TestCase):
    EVENTS = [
        {"event_type": "alert", "alert": {"signature_id": 1}},
        {"event_type": "alert", "alert": {"signature_id": 2}},
        {"event_type": "alert", "alert": {"signature_id": 2}},
        {"event_type": "flow", "flow": {"pkts_toserver": 3}},
        {"event_type": "stats", "stats": {"flow": {"memcap": 0}, "uptime": 1}},
        {"event_type": "stats", "stats": {"flow": {"memcap": 5}, "uptime": 2}},
    ]

    def ev(self, check):
        return ck.evaluate_check(check, events_of(self.EVENTS))

    def test_count_ok(self):
        r = self.ev({"filter": {"count": 2, "match": {"event_type": "alert",
                                                      "alert.signature_id": 2}}})
        self.assertEqual(r.status, "pass")

    def test_count_zero(self):
        r = self.ev({"filter": {"count": 0, "match": {"alert.signature_id": 9}}})
        self.assertEqual(r.status, "pass")

    def test_count_mismatch(self):
        r = self.ev({"filter": {"count": 1, "match": {"event_type": "alert"}}})
        self.assertEqual(r.status, "fail")
        self.assertIn("expected 1, got 3", r.message)
        self.assertIn("event_type=alert", r.message)

    def test_stats_events_are_counted_like_others(self):
        r = self.ev({"filter": {"count": 2, "match": {"event_type": "stats"}}})
        self.assertEqual(r.status, "pass")

    def test_other_file(self):
        r = self.ev({"filter": {"filename": "other.json", "count": 0, "match": {}}})
        self.assertEqual(r.status, "fail")
        self.assertIn("other.json does not exist", r.message)

    def test_check_requires(self):
        r = self.ev({"filter": {"requires": {"min-version": 9}, "count": 99, "match": {}}})
        self.assertEqual(r.status, "skip")
        r = self.ev({"filter": {"lt-version": 8, "count": 99, "match": {}}})
        self.assertEqual(r.status, "skip")
        r = self.ev({"filter": {"min-version": 7, "count": 99, "match": {}}})
        self.assertEqual(r.status, "fail")

    def test_shell_not_evaluated(self):
        r = self.ev({"shell": {"args": "true"}})
        self.assertEqual(r.status, "skip")

    def test_stats_check_uses_last_stats(self):
        self.assertEqual(self.ev({"stats": {"flow.memcap": 5}}).status, "pass")
        r = self.ev({"stats": {"flow.memcap": 0}})
        self.assertEqual(r.status, "fail")

    def test_categories(self):
        self.assertEqual(ck.check_event_types({"filter": {"match": {"event_type": "dns"}}}),
                         {"dns"})


FAKE_ENGINE = r'''#!/usr/bin/python3
import json, os, sys
a = sys.argv[1:]
out = a[a.index("-l") + 1]
with open(os.path.join(out, "argv.json"), "w") as f:
    json.dump(a, f)
evs = [{"event_type": "alert", "alert": {"signature_id": 1}},
       {"event_type": "flow", "flow": {"pkts_toserver": 1}}]
with open(os.path.join(out, "eve.json"), "w") as f:
    for e in evs:
        f.write(json.dumps(e) + "\n")
sys.exit(int(os.environ.get("FAKE_RC", "0")))
'''


class TestRunner(unittest.TestCase):
    """run.py end to end with a fake engine that logs its argv."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        root = self.tmp.name
        self.engine = os.path.join(root, "fake-beffroi")
        with open(self.engine, "w") as f:
            f.write(FAKE_ENGINE)
        os.chmod(self.engine, 0o755)
        self.tests = os.path.join(root, "tests")
        self.expected = os.path.join(root, "expected.txt")

    def tearDown(self):
        self.tmp.cleanup()

    def add_test(self, name, yaml_text, files=("input.pcap",)):
        d = os.path.join(self.tests, name)
        os.makedirs(d)
        with open(os.path.join(d, "test.yaml"), "w") as f:
            f.write(textwrap.dedent(yaml_text))
        for fn in files:
            with open(os.path.join(d, fn), "w") as f:
                f.write("alert ip any any -> any any (sid:1;)\n" if fn.endswith(".rules") else "")
        return d

    def run_sv(self, *extra):
        p = subprocess.run([sys.executable, os.path.join(HERE, "run.py"), "--beffroi",
                            self.engine, "--tests", self.tests, "--expected", self.expected,
                            "--jobs", "2", "--keep", os.path.join(self.tmp.name, "keep")]
                           + list(extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True)
        return p.returncode, p.stdout

    def argv_of(self, name):
        with open(os.path.join(self.tmp.name, "keep", name, "argv.json")) as f:
            return json.load(f)

    def test_suite(self):
        self.add_test("good", """
            args:
              - -k none --set a.b=c
            checks:
              - filter: {count: 1, match: {event_type: alert, alert.signature_id: 1}}
              - shell: {args: "true"}
            """, files=("input.pcap", "a.rules", "b.rules", "suricata.yaml"))
        self.add_test("grp/bad-ips", """
            pcap: ../../good/input.pcap
            checks:
              - filter: {count: 2, match: {event_type: alert}}
            """, files=())
        self.add_test("newer", """
            requires:
              min-version: 9
            checks:
              - filter: {count: 1, match: {event_type: alert}}
            """)
        self.add_test("nopcap", """
            pcap: false
            checks: []
            """, files=())
        rc, out = self.run_sv()
        self.assertEqual(rc, 1, out)   # grp/bad-ips fails and is not listed
        self.assertIn("PASS good", out)
        self.assertIn("FAIL grp/bad-ips: check 1: expected 2, got 1", out)
        self.assertIn("SKIP newer: min-version 9", out)
        self.assertIn("SKIP nopcap", out)
        self.assertTrue(out.rstrip().endswith("1 passed, 1 failed, 2 skipped"), out)

        argv = self.argv_of("good")
        self.assertEqual(argv[argv.index("-k") + 1], "none")
        self.assertEqual(argv[argv.index("--set") + 1], "a.b=c")
        self.assertTrue(argv[argv.index("-S") + 1].endswith("all.rules"))
        self.assertTrue(argv[argv.index("-c") + 1].endswith("good/suricata.yaml"))
        self.assertIn("-q", argv)
        self.assertNotIn("--simulate-ips", argv)
        argv = self.argv_of("grp/bad-ips")
        self.assertIn("--simulate-ips", argv)
        self.assertTrue(argv[argv.index("-r") + 1].endswith("good/input.pcap"))
        self.assertNotIn("-S", argv)

        # listing the failure makes the run green; --update-expected keeps reasons
        with open(self.expected, "w") as f:
            f.write("# header\ngrp/bad-ips  # alert count differs\ngood  # stale\n")
        rc, out = self.run_sv()
        self.assertEqual(rc, 0, out)
        self.assertIn("remove them", out)
        rc, out = self.run_sv("--strict")
        self.assertEqual(rc, 1, out)
        rc, out = self.run_sv("--update-expected")
        self.assertEqual(rc, 0, out)
        with open(self.expected) as f:
            text = f.read()
        self.assertIn("# header", text)
        self.assertIn("grp/bad-ips  # alert count differs", text)
        self.assertNotIn("good ", text)

    def test_update_adds_todo_and_exit_code(self):
        self.add_test("t1", """
            checks:
              - filter: {count: 1, match: {event_type: flow}}
            """)
        os.environ["FAKE_RC"] = "2"
        try:
            rc, out = self.run_sv("--update-expected", "--categories")
        finally:
            del os.environ["FAKE_RC"]
        self.assertEqual(rc, 0, out)
        self.assertIn("FAIL t1: exit code 2 (expected 0)", out)
        self.assertRegex(out, r"flow\s+1\s+0\s+1\s+0")
        with open(self.expected) as f:
            self.assertIn("t1  # TODO: exit code 2 (expected 0)", f.read())

    def test_truncated_input_exit_is_not_a_failure(self):
        # beffroi exits 3 when an input was truncated but read up to the break
        self.add_test("t1", """
            checks:
              - filter: {count: 1, match: {event_type: flow}}
            """)
        os.environ["FAKE_RC"] = "3"
        try:
            rc, out = self.run_sv()
        finally:
            del os.environ["FAKE_RC"]
        self.assertEqual(rc, 0, out)
        self.assertIn("PASS t1", out)

    def test_filter_and_absent_suite(self):
        self.add_test("alpha", "checks: []\n")
        self.add_test("beta", "checks: []\n")
        rc, out = self.run_sv("--filter", "^be")
        self.assertIn("PASS beta", out)
        self.assertNotIn("alpha", out)
        p = subprocess.run([sys.executable, os.path.join(HERE, "run.py"), "--beffroi",
                            self.engine, "--tests", "/nonexistent"], stdout=subprocess.PIPE,
                           universal_newlines=True)
        self.assertEqual(p.returncode, 0)
        self.assertTrue(p.stdout.startswith("SKIP: "))


if __name__ == "__main__":
    unittest.main()

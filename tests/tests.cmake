# SPDX-License-Identifier: GPL-2.0-or-later
# Python/shell test suites, included by the top CMakeLists.txt.
# Tests that need ../shared (suricata-verify, EVE schema, captures) skip with
# exit code 77 when it is absent (BF_SKIP_RC=77 tells the scripts to use it).
# Debian's python: /usr/bin/python3 (python3-yaml, python3-jsonschema).

set(BF_SHARED_DIR "${CMAKE_SOURCE_DIR}/../shared" CACHE PATH "third-party test data (shared/)")

add_test(NAME sv/checks
  COMMAND /usr/bin/python3 -m unittest tests/sv/test_checks.py
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(sv/checks PROPERTIES LABELS "sv;unit" TIMEOUT 120)

add_test(NAME sv/suricata-verify
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/sv/run.py
    --beffroi $<TARGET_FILE:beffroi>
    --tests ${BF_SHARED_DIR}/suricata-verify/tests
    --expected ${CMAKE_SOURCE_DIR}/tests/sv/expected-failures.txt
    --jobs 2
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(sv/suricata-verify PROPERTIES LABELS sv TIMEOUT 1800
  ENVIRONMENT "BF_SKIP_RC=77" SKIP_RETURN_CODE 77)

add_test(NAME eve/schema
  COMMAND /bin/bash ${CMAKE_SOURCE_DIR}/tests/tools/eve_schema_test.sh
    $<TARGET_FILE:beffroi> ${BF_SHARED_DIR}
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(eve/schema PROPERTIES LABELS eve TIMEOUT 900
  ENVIRONMENT "BF_SKIP_RC=77" SKIP_RETURN_CODE 77)

# The same events whatever the number of worker threads.
add_test(NAME engine/threads
  COMMAND /bin/bash -c "[ -d '${BF_SHARED_DIR}/captures' ] || { echo 'SKIP: no shared captures'; exit 77; }; exec /usr/bin/python3 tests/engine/threads_equiv.py $<TARGET_FILE:beffroi> ${BF_SHARED_DIR}/captures/zeek-traces/http/bro.org.pcap ${BF_SHARED_DIR}/captures/zeek-traces/dns53.pcap ${BF_SHARED_DIR}/captures/zeek-traces/smb/smb2.pcap ${BF_SHARED_DIR}/captures/zeek-traces/tls/certificate-with-sct.pcap ${BF_SHARED_DIR}/captures/zeek-traces/ipv6-fragmented-dns.pcap ${BF_SHARED_DIR}/captures/zeek-traces/http/cooper-grill-dvwa.pcapng ${BF_SHARED_DIR}/captures/401trg-smb"
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(engine/threads PROPERTIES LABELS engine TIMEOUT 600 SKIP_RETURN_CODE 77)

# Memory stays within the caps under a spoofed SYN flood from 5M sources.
add_test(NAME engine/synflood COMMAND /bin/bash tests/engine/flood_test.sh $<TARGET_FILE:beffroi>
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(engine/synflood PROPERTIES LABELS "engine;flood" TIMEOUT 900 RUN_SERIAL TRUE)

# ASan + UBSan build over every shared pcap.
add_test(NAME sanitize/sweep COMMAND /bin/bash tests/tools/asan_build_sweep.sh
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(sanitize/sweep PROPERTIES LABELS sanitize TIMEOUT 2700
  ENVIRONMENT "BF_SKIP_RC=77" SKIP_RETURN_CODE 77)

# libFuzzer targets for a bounded time (FUZZ_LONG=1 for 10 minutes each).
add_test(NAME fuzz/short COMMAND /bin/bash fuzz/run-fuzzers.sh
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(fuzz/short PROPERTIES LABELS fuzz TIMEOUT 1800 RESOURCE_LOCK fuzz)

# The whole packet path (decode, defrag, flow, stream, app layer) for a minute.
add_test(NAME fuzz/pipeline COMMAND /bin/bash fuzz/run-fuzzers.sh 60
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(fuzz/pipeline PROPERTIES LABELS fuzz TIMEOUT 1800 RESOURCE_LOCK fuzz
  ENVIRONMENT "FUZZ_TARGETS=fuzz_pipeline")

# The command line as users meet it (stdin, folders, gzip, truncation, bad
# configuration, EVE to stdout and unix sockets, BPF, threads).
add_test(NAME engine/cli COMMAND /bin/bash tests/engine/cli_test.sh $<TARGET_FILE:beffroi>
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(engine/cli PROPERTIES LABELS engine TIMEOUT 300)

# The lab on this machine: namespaces, real servers, real attack tools, a
# capture, ground truth, Beffroi on the capture, nothing left behind.
add_test(NAME lab/ci-smoke COMMAND /bin/bash lab/ci.sh WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(lab/ci-smoke PROPERTIES LABELS lab TIMEOUT 1200 RUN_SERIAL TRUE
  ENVIRONMENT "BEFFROI=$<TARGET_FILE:beffroi>")

# The DoS detector on the committed demo capture: the SYN flood reported,
# the same result with 1 and 2 threads, schema-valid alerts (DOS_LONG=1 adds
# the acceptance checker on the lab's dos-rates/benign/iperf captures).
add_test(NAME engine/dos COMMAND /bin/bash tests/engine/dos_test.sh $<TARGET_FILE:beffroi>
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(engine/dos PROPERTIES LABELS engine TIMEOUT 600)
# Rule parser against ET Open (needs ../shared; skips with 77 without it).
add_executable(etopen_load tests/detect/etopen_load.c)
target_link_libraries(etopen_load PRIVATE beffroi_core)
add_test(NAME detect/etopen_load COMMAND etopen_load -f 95 ${BF_SHARED_DIR})
set_tests_properties(detect/etopen_load PROPERTIES LABELS detect TIMEOUT 300 SKIP_RETURN_CODE 77)

# Signature engine from the command line: load errors with file:line, -T,
# alerts in EVE and fast.log, simulated IPS drops, SIGHUP reload.
add_test(NAME detect/rules-cli COMMAND /bin/bash tests/detect/rules_cli_test.sh $<TARGET_FILE:beffroi>
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(detect/rules-cli PROPERTIES LABELS detect TIMEOUT 120)

# The default ET Open set loads within 10 s and 1 GB, >= 95% of its rules.
add_test(NAME detect/etopen-budget COMMAND /bin/bash tests/detect/etopen_budget.sh $<TARGET_FILE:beffroi> ${BF_SHARED_DIR}
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(detect/etopen-budget PROPERTIES LABELS detect TIMEOUT 120
  ENVIRONMENT "BF_SKIP_RC=77" SKIP_RETURN_CODE 77)

# Alerts (ET Open default set) are the same whatever the number of threads.
add_test(NAME detect/threads
  COMMAND /bin/bash -c "[ -f '${BF_SHARED_DIR}/rules/et-open/default-rule-files.txt' ] || { echo 'SKIP: no ET Open rules'; exit 77; }; r=; while read -r f _; do case $f in ''|'#'*) continue;; esac; [ -f '${BF_SHARED_DIR}/rules/et-open/'$f ] && r=$r:'${BF_SHARED_DIR}/rules/et-open/'$f; done < '${BF_SHARED_DIR}/rules/et-open/default-rule-files.txt'; RULES_FILES=$r exec /usr/bin/python3 tests/engine/threads_equiv.py $<TARGET_FILE:beffroi> ${BF_SHARED_DIR}/captures/zeek-traces/http/bro.org.pcap ${BF_SHARED_DIR}/captures/zeek-traces/smb/smb2.pcap ${BF_SHARED_DIR}/captures/zeek-traces/dns53.pcap ${BF_SHARED_DIR}/captures/401trg-smb"
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(detect/threads PROPERTIES LABELS detect TIMEOUT 600 SKIP_RETURN_CODE 77)

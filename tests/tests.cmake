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

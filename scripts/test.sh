#!/usr/bin/env bash
# `npm test`: every tier. Type check, build, the unit and integration tests (node:test),
# then the e2e tier in a real VS Code (code-server + Debian chromium, test/e2e/README.md).
#
# The e2e tier needs `npm run setup:e2e` and Debian's chromium. Where it is not set up it
# is reported as NOT RUN (loudly, and the reason); with MSIF_REQUIRE_E2E=1 (CI sets it) a
# missing setup fails instead.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tests state what they cache: the disk cache of influence solves (src/worker/ihvpCache.ts)
# is off unless a test turns it on, so that no run depends on an earlier one.
export MSIF_CACHE="${MSIF_CACHE:-off}"
# OpenBLAS's results depend (at float32 rounding) on its thread count, which otherwise
# follows the load at start-up: pin it, so that tests comparing two processes' scores
# exactly (CLI against the extension) compare like with like.
export MSIF_NATIVE_THREADS="${MSIF_NATIVE_THREADS:-1}"

npm run typecheck
npm run build
node --import tsx --test --test-concurrency=1 $(find test/unit test/integration -name '*.test.ts' | sort)

if why=$(node --import tsx test/e2e/checkSetup.ts 2>&1); then
  node --import tsx --test --test-concurrency=1 $(find test/e2e -name '*.e2e.test.ts' | sort)
elif [ "${MSIF_REQUIRE_E2E:-}" = 1 ]; then
  echo "$why" >&2
  exit 1
else
  printf '\n*** The e2e tier (test/e2e) was NOT RUN: %s\n*** Set it up with `npm run setup:e2e` (needs Debian chromium; see test/e2e/README.md).\n' "$why" >&2
fi

#!/usr/bin/env bash
# browser_test.sh — the notebook page in a real browser: runs tests/browser/page_test.js
# (headless chromium over the DevTools protocol, driven by puppeteer-core) against its own
# dailynetd. When chromium, node or puppeteer-core is missing (`make deps` installs them:
# chromium and nodejs from Debian, puppeteer-core with npm into tests/browser/node_modules),
# it says "skipped" with the reason and counts as one passed check, so `make test` on a
# machine without a browser still ends in one "N passed, N failed" line.
# Env: BIN_DIR (default bin), CHROMIUM (default: chromium on PATH), SCREENSHOT_DIR (keep
# phone.png and phone-dark.png there, e.g. docs/). Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
BIN_DIR=${BIN_DIR:-bin}

skip() {
  echo "SKIP browser test skipped: $1"
  echo "1 passed, 0 failed"
  exit 0
}

command -v node >/dev/null || skip "node is not installed (make deps installs Debian's nodejs)"
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[[ -n $CHROMIUM && -x $CHROMIUM ]] || skip "chromium is not installed (make deps installs Debian's chromium)"
[[ -f tests/browser/node_modules/puppeteer-core/package.json ]] ||
  skip "puppeteer-core is not in tests/browser/node_modules (make deps installs it with npm; npm could not reach its registry?)"
export BIN_DIR CHROMIUM
timeout 600 node tests/browser/page_test.js
rc=$?
if [[ $rc -eq 124 ]]; then
  echo "FAIL the browser test did not finish in 600 s"
  echo "0 passed, 1 failed"
fi
exit $rc

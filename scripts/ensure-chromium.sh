#!/usr/bin/env bash
# The dashboard test drives Debian's Chromium headless through playwright-core; nothing downloads a
# browser. On a fresh machine of our kind (Debian, root, the package mirror reachable) this installs
# it once, so `npm ci && npm test` passes from a clean clone; elsewhere it says what to install.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "pretest: installing Debian's chromium for the dashboard test (once)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "pretest: no Chromium at $CHROMIUM; the dashboard test will fail until you install it (sudo apt-get install chromium)" >&2
fi

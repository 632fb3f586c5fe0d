#!/usr/bin/env bash
# Installs Debian's Chromium for the page's end-to-end test (tests/web.rs runs this when
# /usr/bin/chromium is missing; .ci/run runs it up front). Needs root and apt-get; otherwise it
# says why and exits 1, and the test reports "skipped: Chromium not available".
set -uo pipefail
if [ -x /usr/bin/chromium ]; then
    echo "chromium present: $(/usr/bin/chromium --version 2>/dev/null | head -n 1)"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "not root: cannot install Chromium"
    exit 1
fi
if ! command -v apt-get >/dev/null; then
    echo "no apt-get: cannot install Chromium"
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
log=/tmp/aion-chromium-apt.log
echo "installing Chromium from Debian (log: $log)"
if ! apt-get install -y -q chromium </dev/null >"$log" 2>&1; then
    apt-get update -q </dev/null >>"$log" 2>&1 || true
    apt-get install -y -q chromium </dev/null >>"$log" 2>&1 || { echo "apt-get install chromium failed (see $log)"; exit 1; }
fi
[ -x /usr/bin/chromium ] || { echo "chromium installed but /usr/bin/chromium is missing"; exit 1; }
echo "installed: $(/usr/bin/chromium --version 2>/dev/null | head -n 1)"

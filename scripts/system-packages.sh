#!/usr/bin/env bash
# The Debian packages the tests drive (the sandbox browser test: chromium; the shared-limits test:
# redis-server; the replicas test: haproxy; the metrics test: promtool, which the prometheus
# package installs, /usr/bin/promtool). Run by `npm test` before the tests: installs what is
# missing when it runs as root with apt (CI, these machines); otherwise stops with one line naming
# the command to run.
set -euo pipefail
declare -A needed=([chromium]=chromium [redis-server]=redis-server [haproxy]=haproxy [promtool]=prometheus)
missing=()
for command in "${!needed[@]}"; do
  command -v "$command" >/dev/null 2>&1 || [ -x "/usr/sbin/$command" ] || missing+=("${needed[$command]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$EUID" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages the tests need: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "npm test needs Debian packages first: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
exit 1

#!/bin/sh
# Installs what iptplan needs to build and test, from Debian 12's packages.
# Does nothing when everything is already there. Run as root. With --fuzz,
# also clang and its fuzzer runtime (for tools/fuzz.sh, as CI runs it).
set -eu
packages="build-essential cmake ninja-build ccache pkg-config libboost-dev \
libtomlplusplus-dev libspdlog-dev libfmt-dev catch2 libcli11-dev \
nlohmann-json3-dev libssl-dev libsqlite3-dev sqlite3 libsimdjson-dev libcpp-httplib-dev git \
chromium chromium-driver python3-selenium libpq-dev postgresql-15 libre2-dev"
if [ "${1:-}" = "--fuzz" ]; then
  packages="$packages clang-14 libclang-rt-14-dev"
fi
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing
fi

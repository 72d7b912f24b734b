#!/usr/bin/env bash
# One private PC/SC rig ("rig lane") for running integration tests next to other lanes.
#
#   unshare --net --mount --propagation private bash scripts/rig-lane.sh DIR
#
# The integration tests hard-code the vpcd ports 35963-35970 and pcscd's socket is the fixed
# /run/pcscd/pcscd.comm, so a second rig needs its own network namespace (own loopback, own
# ports) and its own mount namespace (own /run/pcscd). Inside them this script:
#   1. brings lo up and adds the quickack route for 127.0.0.2 that scripts/setup.sh adds on
#      the host (a fresh network namespace has neither: without the route every APDU waits for
#      a delayed ACK, see docs/README.md "Test rig");
#   2. mounts a private tmpfs on /run/pcscd, so this lane's pcscd socket hides the host's;
#   3. starts pcscd with the 8 vpcd readers (scripts/rig.sh start, state in DIR);
#   4. prints "lane ready PCSCD_PID" on stdout, then holds the namespaces (run commands in
#      them with `nsenter --target THIS_PID --net --mount --wd=REPO -- CMD`) until its stdin
#      reaches end of file — the caller closes it, or dies;
#   5. stops its pcscd by PID (scripts/rig.sh stop), removes DIR if it created it, and exits.
#      Also on SIGTERM/SIGINT/SIGHUP.
# scripts/run-tests.mjs runs one per lane (`--rig-lanes K`). Messages go to stderr.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:?usage: unshare --net --mount --propagation private $0 DIR}"

die() { printf 'rig-lane: ERROR: %s\n' "$*" >&2; exit 1; }

# Mounting over /run/pcscd in the host's namespaces would cut every PC/SC client on the machine
# off from the host pcscd: refuse unless both namespaces are private.
for ns in net mnt; do
  [[ "$(readlink "/proc/self/ns/$ns")" != "$(readlink "/proc/1/ns/$ns" 2>/dev/null || echo none)" ]] ||
    die "not in a private $ns namespace: run me under unshare --net --mount --propagation private"
done

export CARDCA_RIG_DIR="$DIR"
# Ours to remove at exit only if we create it (it holds the lane's pcscd log and driver copies).
created=0
[[ -e "$DIR" ]] || created=1
mkdir -p "$DIR"
ip link set lo up
ip route replace local 127.0.0.2 dev lo table local scope host src 127.0.0.1 quickack 1
mkdir -p /run/pcscd
mount -t tmpfs -o mode=0755,size=1m cardca-rig-lane /run/pcscd

stop_rig() {
  bash "$REPO/scripts/rig.sh" stop </dev/null >/dev/null || true
  if ((created)); then rm -rf -- "$DIR"; fi
}
trap stop_rig EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

out="$(bash "$REPO/scripts/rig.sh" start </dev/null)"
last="${out##*$'\n'}"
# A fresh mount namespace sees no pcscd, so rig.sh must have started one (never "reused").
[[ "$last" == started\ * ]] || die "expected rig.sh to start this lane's pcscd, it said: $last"
echo "lane ready ${last#started }"

# Hold the namespaces until stdin closes. `read` is a builtin, so the traps above run at once.
while IFS= read -r _; do :; done
exit 0

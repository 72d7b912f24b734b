#!/usr/bin/env bash
# One-time (and idempotent) machine + checkout setup for cardca on Debian 12, run as root:
#   1. Debian packages: PC/SC stack, vpcd, OpenSC, the independent validators, build tools,
#      the OpenSSL PKCS#11 engine (the peer that `npm run bench` compares issuance against)
#      (apt is skipped entirely when everything is installed: fast, and works offline);
#   2. the quickack loopback route for 127.0.0.2 (see docs: the delayed-ACK trap);
#   3. npm ci (skipped when node_modules already matches package-lock.json and the native
#      modules load; force with CARDCA_SETUP_NPM_CI=1);
#   4. npm run build (tsc; type errors are reported but do not fail setup, since tsc still
#      emits JavaScript and `npm test` fails on them anyway).
# It does not start pcscd: scripts/rig.sh does, on demand (npm test and npm run rehearsal call it).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

PACKAGES=(pcscd vsmartcard-vpcd libpcsclite-dev opensc pcsc-tools openssl gnutls-bin
  libnss3-tools strongswan-pki strongswan-charon strongswan-swanctl openvpn faketime sqlite3 iproute2 python3 make g++
  libengine-pkcs11-openssl tmux yubico-piv-tool easy-rsa)

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
phase_start=$SECONDS
phase_done() { log "$1 done in $((SECONDS - phase_start))s"; phase_start=$SECONDS; }

SUDO=()
if [[ $EUID -ne 0 ]]; then
  command -v sudo >/dev/null || die "run as root (apt-get and ip route need it), or install sudo"
  SUDO=(sudo)
fi

# --- 0. Node ------------------------------------------------------------------------------
# Debian 12's own nodejs is 18.x, too old (yargs 18 needs ^20.19), so we do not
# install it from apt: a suitable Node must already be on PATH.
command -v node >/dev/null || die "node not found: install Node 20.19+ (e.g. from nodejs.org or NodeSource) first"
command -v npm >/dev/null || die "npm not found next to node"
node -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  if (!((maj === 20 && min >= 19) || maj >= 22)) {
    console.error(`[setup] ERROR: Node ${process.versions.node} found; cardca needs 20.19+ or 22+`);
    process.exit(1);
  }' || exit 1

# --- 1. Debian packages -------------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
  [[ "$status" == "installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  log "all ${#PACKAGES[@]} Debian packages already installed: skipping apt"
else
  log "installing missing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q
  # Install the full list (not just the missing ones): apt resolves them together and leaves
  # already-installed packages alone.
  "${SUDO[@]}" apt-get install -y -q "${PACKAGES[@]}"
fi
phase_done "packages"

# --- 2. quickack route ----------------------------------------------------------------------
# vpcd writes each frame's length and payload separately; with delayed ACKs on the card side
# every APDU costs 40-100 ms. A dedicated host route for 127.0.0.2 with quickack removes it
# without touching 127.0.0.1; virtual cards connect to 127.0.0.2.
# (grep on a captured string: `ip … | grep -q` under pipefail fails when ip gets SIGPIPE)
routes="$(ip route show table local 2>/dev/null || true)"
if grep -q '^local 127\.0\.0\.2 .*quickack 1' <<<"$routes"; then
  log "quickack route for 127.0.0.2 already present"
elif "${SUDO[@]}" ip route replace local 127.0.0.2 dev lo table local scope host src 127.0.0.1 quickack 1; then
  log "added quickack route: local 127.0.0.2 dev lo table local scope host src 127.0.0.1 quickack 1"
else
  log "WARNING: could not add the quickack route (no CAP_NET_ADMIN in this container?)."
  log "         Tests still run, but every APDU to a virtual card costs 40+ ms."
fi

# systemd socket activation (real machines, not these containers): the system pcscd would be
# started with /etc/reader.conf.d, not our 8 vpcd readers. rig.sh explains the two ways out.
if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null &&
  systemctl is-active --quiet pcscd.socket 2>/dev/null; then
  log "NOTE: systemd's pcscd.socket is active. The tests need pcscd with test/rig/reader.conf.d:"
  log "      either 'systemctl stop pcscd.socket pcscd.service' (rig.sh then runs its own"
  log "      foreground pcscd), or 'cp test/rig/reader.conf.d/vpcd-* /etc/reader.conf.d/ &&"
  log "      systemctl restart pcscd.service' (rig.sh then reuses the system one)."
fi

# --- 3. npm dependencies --------------------------------------------------------------------
npm_tree_ok() {
  [[ -f node_modules/.package-lock.json ]] || return 1
  # npm ci's hidden lockfile must list exactly the versions package-lock.json pins.
  node -e '
    const fs = require("node:fs");
    const want = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages;
    const have = JSON.parse(fs.readFileSync("node_modules/.package-lock.json", "utf8")).packages;
    for (const [k, v] of Object.entries(want)) {
      if (k === "" || (!have[k] && v.optional)) continue; // optional: other platforms
      if (!have[k] || have[k].version !== v.version) process.exit(1);
    }' >/dev/null 2>&1 || return 1
  npm ls --all >/dev/null 2>&1 || return 1
  # The two native modules must load (they compile against libpcsclite-dev / node headers).
  node -e 'const D = require("better-sqlite3"); new D(":memory:").close(); require("pcsclite");' \
    >/dev/null 2>&1
}
if [[ "${CARDCA_SETUP_NPM_CI:-}" != "1" ]] && npm_tree_ok; then
  log "node_modules matches package-lock.json and native modules load: skipping npm ci"
else
  log "npm ci (native modules better-sqlite3 and pcsclite compile from source: ~1-2 min)"
  npm ci --no-audit --no-fund
fi
phase_done "npm dependencies"

# --- 4. build -------------------------------------------------------------------------------
if npm run --silent build; then
  log "build OK (dist/)"
else
  log "WARNING: tsc reported type errors (above). JavaScript was still emitted to dist/;"
  log "         'npm test' will fail until they are fixed."
fi
phase_done "build"
log "setup complete. Next: 'npm test' or 'npm run rehearsal' (both start the PC/SC rig themselves)."

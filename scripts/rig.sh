#!/usr/bin/env bash
# The PC/SC test rig: one pcscd with the project's 8 vpcd virtual readers
# (test/rig/reader.conf.d, TCP ports 35963-35970).
#
#   scripts/rig.sh start    start pcscd with our reader config, or reuse a running pcscd that
#                           already shows the 8 readers. Last stdout line: "started PID" or
#                           "reused PID" (callers use it to know whether they must stop it).
#   scripts/rig.sh stop     stop the pcscd that `start` started (only that PID), wait for exit.
#   scripts/rig.sh status   show pcscd, readers, quickack route; exit 0 when the rig is usable.
#
# Why the care: only one pcscd can run per machine (a second exits 1), and the machine may be a
# developer's, so we never kill a pcscd we did not start. Messages go to stderr.
#
# Environment: CARDCA_RIG_DIR (state dir, default /tmp/cardca-rig),
#              CARDCA_RIG_TIMEOUT (seconds to wait for readers, default 20).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONF_DIR="$REPO/test/rig/reader.conf.d"
STATE_DIR="${CARDCA_RIG_DIR:-/tmp/cardca-rig}"
PID_FILE="$STATE_DIR/pcscd.pid"
LOG_FILE="$STATE_DIR/pcscd.log"
TIMEOUT="${CARDCA_RIG_TIMEOUT:-20}"

# Reader names pcscd derives from test/rig/reader.conf.d (FRIENDLYNAME + slot), in port order
# 35963..35970. Keep in sync with docs and test/integration/rig-*.test.ts.
READERS=(
  "Virtual PCD 00 00" "Virtual PCD 00 01"
  "Virtual PCD 2 00 00" "Virtual PCD 2 00 01"
  "Virtual PCD 3 00 00" "Virtual PCD 3 00 01"
  "Virtual PCD 4 00 00" "Virtual PCD 4 00 01"
)

log() { printf 'rig: %s\n' "$*" >&2; }
die() { printf 'rig: ERROR: %s\n' "$*" >&2; exit 1; }

# PIDs of every process named exactly "pcscd" (pure /proc scan: procps may not be installed).
# Only those in our mount namespace count: pcscd's socket lives in /run/pcscd, so one per
# mount namespace (test suites may run private ones under unshare).
pcscd_pids() {
  local d comm my_ns
  my_ns="$(readlink /proc/self/ns/mnt 2>/dev/null || true)"
  for d in /proc/[0-9]*; do
    comm="$(cat "$d/comm" 2>/dev/null || true)"
    [[ "$comm" == "pcscd" ]] || continue
    [[ "$(readlink "$d/ns/mnt" 2>/dev/null || true)" == "$my_ns" ]] || continue
    printf '%s\n' "${d#/proc/}"
  done
  return 0
}

is_pcscd_pid() {
  local pid="$1"
  [[ -n "$pid" && -r "/proc/$pid/comm" && "$(cat "/proc/$pid/comm" 2>/dev/null)" == "pcscd" ]]
}

# The PID we started, if it is still a live pcscd (the file holds digits only; strip anything
# else defensively, /run/pcscd/pcscd.pid for example ends in a NUL byte).
our_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(tr -cd '0-9' <"$PID_FILE")"
  is_pcscd_pid "$pid" || return 1
  printf '%s\n' "$pid"
}

cmdline_of() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }

# Reader list as seen by PC/SC clients (empty when pcscd is not answering).
list_readers() {
  command -v opensc-tool >/dev/null || die "opensc-tool not found: run scripts/setup.sh first"
  opensc-tool -l 2>/dev/null || true
}

missing_readers() {
  local listing="$1" r
  for r in "${READERS[@]}"; do
    grep -qF -- "$r" <<<"$listing" || printf '%s\n' "$r"
  done
  return 0
}

# vpcd keeps its per-slot state in a static array indexed by slot number only (Lun & 0xffff),
# and pcscd loads a driver library once per LIBPATH. So with all four vpcd entries pointing at
# the same libifdvpcd.so, every "… 00 00" reader shares the socket of the LAST one loaded
# (35969) and every "… 00 01" reader that of 35970: a card on 35970 shows up in four readers
# and cards on 35963-35968 are never served. Measured here; see docs/README.md "Test rig".
# Fix: give each entry its own copy of the driver (distinct file → distinct dlopen instance).
# The committed files in test/rig/reader.conf.d stay the source of names and ports; we write
# the runnable config (LIBPATH → per-entry copy) under the state dir.
make_run_conf() {
  local run_conf="$STATE_DIR/reader.conf.d" libdir="$STATE_DIR/lib" f name lib src
  mkdir -p "$run_conf" "$libdir"
  rm -f "$run_conf"/*
  for f in "$CONF_DIR"/*; do
    [[ -f "$f" ]] || continue
    name="$(basename "$f")"
    src="$(awk '$1 == "LIBPATH" { print $2 }' "$f")"
    [[ -f "$src" ]] || die "$f: LIBPATH $src not found (is vsmartcard-vpcd installed?)"
    lib="$libdir/libifdvpcd-$name.so"
    # copy + rename: a pcscd in another namespace may have the old file mapped; overwriting it
    # in place would crash it, a rename leaves its inode alone.
    cp "$src" "$lib.tmp.$$"
    mv -f "$lib.tmp.$$" "$lib"
    awk -v lib="$lib" '$1 == "LIBPATH" { print "LIBPATH      " lib; next } { print }' "$f" >"$run_conf/$name"
  done
  printf '%s\n' "$run_conf"
}

# Number of distinct vpcd driver files a pcscd has mapped (1 = the shared-slot problem above).
vpcd_driver_copies() {
  awk '$6 ~ /libifdvpcd/ { print $6 }' "/proc/$1/maps" 2>/dev/null | sort -u | wc -l
}

warn_if_shared_driver() {
  local p n
  for p in $1; do
    n="$(vpcd_driver_copies "$p")"
    if [[ "$n" == 1 ]]; then
      {
        echo "rig: WARNING: pcscd PID $p loaded ONE vpcd driver for all its vpcd readers: vpcd then"
        echo "  shares slot state between them, so only ports 35969/35970 work and a card there"
        echo "  appears in four readers at once. Restart pcscd through rig.sh (which gives each"
        echo "  reader its own driver copy) when nobody else is using it: kill $p; scripts/rig.sh start"
      } >&2
      [[ "${CARDCA_RIG_STRICT:-}" == 1 ]] && exit 1
    fi
  done
  return 0
}

systemd_socket_active() {
  [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null &&
    systemctl is-active --quiet pcscd.socket 2>/dev/null
}

wait_for_readers() {
  local pid="$1" deadline=$((SECONDS + TIMEOUT)) listing missing
  while :; do
    if [[ -n "$pid" ]] && ! is_pcscd_pid "$pid"; then
      log "pcscd (PID $pid) exited during start-up; last log lines ($LOG_FILE):"
      tail -n 20 "$LOG_FILE" >&2 || true
      return 1
    fi
    listing="$(list_readers)"
    missing="$(missing_readers "$listing")"
    [[ -z "$missing" ]] && return 0
    if ((SECONDS >= deadline)); then
      log "waited ${TIMEOUT}s for the 8 vpcd readers; still missing:"
      sed 's/^/  /' <<<"$missing" >&2
      return 1
    fi
    sleep 0.2
  done
}

cmd_start() {
  mkdir -p "$STATE_DIR"
  local pid
  if pid="$(our_pid)"; then
    wait_for_readers "$pid" || die "our pcscd (PID $pid) is running but the readers are not all there"
    log "pcscd PID $pid (started earlier by rig.sh) is running with the 8 readers"
    echo "reused $pid"
    return 0
  fi
  rm -f "$PID_FILE"

  local running
  running="$(pcscd_pids | tr '\n' ' ')"
  running="${running% }"
  if [[ -n "$running" ]]; then
    local listing missing grace=$((SECONDS + 5))
    # A pcscd that has just started may not list its readers yet: give it a few seconds.
    while :; do
      listing="$(list_readers)"
      missing="$(missing_readers "$listing")"
      [[ -z "$missing" || SECONDS -ge grace ]] && break
      sleep 0.2
    done
    if [[ -z "$missing" ]]; then
      log "reusing the running pcscd (PID $running, not started by us: it will be left running)"
      warn_if_shared_driver "$running"
      echo "reused $running"
      return 0
    fi
    local p
    {
      echo "rig: ERROR: a pcscd is already running without the project's 8 vpcd readers."
      for p in $running; do echo "  PID $p: $(cmdline_of "$p")"; done
      echo "  missing readers:"; sed 's/^/    /' <<<"$missing"
      echo "  Only one pcscd can run per machine, and this one was not started by rig.sh, so it"
      echo "  is not ours to kill. Stop it yourself (kill <PID>, or 'systemctl stop pcscd.socket"
      echo "  pcscd.service' when systemd runs it) and re-run; rig.sh then starts pcscd with"
      echo "  $CONF_DIR (one vpcd driver copy per entry, see make_run_conf)."
    } >&2
    exit 1
  fi

  if systemd_socket_active; then
    {
      echo "rig: ERROR: systemd's pcscd.socket is active: the first PC/SC client would start the"
      echo "  system pcscd with /etc/reader.conf.d instead of our 8 vpcd readers. Either"
      echo "  - let rig.sh run its own foreground pcscd: systemctl stop pcscd.socket pcscd.service"
      echo "    (re-enable later with: systemctl start pcscd.socket), or"
      echo "  - give the system pcscd our readers: cp $CONF_DIR/vpcd-* /etc/reader.conf.d/ &&"
      echo "    systemctl restart pcscd.service (rig.sh then reuses it)."
    } >&2
    exit 1
  fi

  command -v pcscd >/dev/null || die "pcscd not found: run scripts/setup.sh first"
  [[ -d "$CONF_DIR" ]] || die "reader config $CONF_DIR missing"
  local run_conf
  run_conf="$(make_run_conf)"
  # setsid: own session, so the caller's Ctrl-C or job control does not kill it behind our back.
  # The daemon must not inherit the caller's other descriptors: a `flock LOCK rig.sh start`
  # would otherwise leave the lock held by pcscd for as long as it lives.
  (
    for fd in /proc/self/fd/*; do
      fd="${fd##*/}"
      ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
    done
    exec setsid pcscd --foreground --info -c "$run_conf" >"$LOG_FILE" 2>&1 </dev/null
  ) &
  pid=$!
  # $! is briefly the forked shell/setsid before it execs pcscd: wait for the exec.
  local exec_deadline=$((SECONDS + 5))
  until is_pcscd_pid "$pid"; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= exec_deadline)); then
      tail -n 20 "$LOG_FILE" >&2 || true
      die "pcscd failed to start (log: $LOG_FILE)"
    fi
    sleep 0.05
  done
  echo "$pid" >"$PID_FILE"
  if ! wait_for_readers "$pid"; then
    cmd_stop >/dev/null 2>&1 || true
    die "pcscd did not come up with the 8 vpcd readers (log: $LOG_FILE)"
  fi
  log "started pcscd PID $pid with $CONF_DIR (log: $LOG_FILE)"
  echo "started $pid"
}

cmd_stop() {
  local pid
  if ! pid="$(our_pid)"; then
    rm -f "$PID_FILE"
    log "no pcscd started by rig.sh is running: nothing to stop"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while is_pcscd_pid "$pid"; do
    if ((SECONDS >= deadline)); then
      log "pcscd PID $pid ignored SIGTERM for 10s: sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      break
    fi
    sleep 0.1
  done
  rm -f "$PID_FILE"
  log "stopped pcscd PID $pid"
}

cmd_status() {
  local running pid listing missing ok=0
  running="$(pcscd_pids | tr '\n' ' ')"
  if [[ -z "$running" ]]; then
    echo "pcscd: not running"
    ok=1
  else
    for pid in $running; do echo "pcscd: PID $pid: $(cmdline_of "$pid")"; done
    if pid="$(our_pid)"; then echo "pcscd: PID $pid was started by rig.sh ($PID_FILE)"; fi
    listing="$(list_readers)"
    missing="$(missing_readers "$listing")"
    for pid in $running; do
      echo "pcscd: PID $pid has $(vpcd_driver_copies "$pid") vpcd driver instance(s) loaded (4 needed)"
    done
    if [[ -z "$missing" ]]; then
      echo "readers: all 8 vpcd readers present"
    else
      echo "readers: missing:"; sed 's/^/  /' <<<"$missing"
      ok=1
    fi
    printf '%s\n' "$listing" | sed -n '3,$p' | sed 's/^/  /'
  fi
  # grep on a captured string: `ip … | grep -q` + pipefail fails when ip gets SIGPIPE.
  local routes
  routes="$(ip route show table local 2>/dev/null || true)"
  if grep -q '^local 127\.0\.0\.2 .*quickack 1' <<<"$routes"; then
    echo "quickack: route for 127.0.0.2 present"
  else
    echo "quickack: route for 127.0.0.2 MISSING (APDUs cost 40+ ms; scripts/setup.sh adds it)"
  fi
  return "$ok"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

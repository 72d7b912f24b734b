#!/usr/bin/env bash
# Installer of the cardca ceremony bundle (docs/air-gapped-box.md). Run as root from the unpacked
# bundle on the ceremony machine; it never uses the network.
#   1. checks the bundle against MANIFEST.sha256: every listed file present with its SHA-256, and
#      no file that is not listed. Any mismatch: it stops before changing anything;
#   2. installs the bundle's .deb files from these local files only (apt with every package source
#      switched off: what is not in debs/ or already installed cannot come in);
#   3. copies the bundle to /opt/cardca-VERSION (checked again after the copy) and points
#      /usr/local/bin/ca at it; a CA home is never touched, so an upgrade keeps it;
#   4. enables pcscd (systemd socket activation);
#   5. prints the bundle hash (SHA-256 of MANIFEST.sha256) for the binder.
# Re-running it with the same bundle changes nothing. A bundle older than the installed one is
# refused unless --allow-downgrade.
#
# Usage: install.sh [--prefix DIR] [--no-debs] [--allow-downgrade] [--check]
#   --prefix DIR       everything under DIR: DIR/cardca-VERSION and DIR/bin/ca (no root needed
#                      together with --no-debs)
#   --no-debs          do not install the .deb files (the packages are already present); pcscd's
#                      service set-up is then left as it is
#   --allow-downgrade  install even though the installed cardca is newer
#   --check            only check: the manifest, what apt would do with the .debs, the install
#                      target. Changes nothing.
set -euo pipefail
export LC_ALL=C

HERE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
PREFIX=
DEBS=1
ALLOW_DOWNGRADE=0
CHECK_ONLY=0
while (($#)); do
  case "$1" in
    --prefix) [[ $# -ge 2 && -n "$2" ]] || { echo "install: --prefix needs a directory" >&2; exit 2; }
      PREFIX="$(readlink -m "$2")"; shift 2 ;;
    --no-debs) DEBS=0; shift ;;
    --allow-downgrade) ALLOW_DOWNGRADE=1; shift ;;
    --check) CHECK_ONLY=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "install: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

log() { printf '[install] %s\n' "$*" >&2; }
refuse() { printf '[install] REFUSED: %s\n' "$1" >&2; [[ -z "${2:-}" ]] || printf '[install]   → %s\n' "$2" >&2;
  printf '[install] Nothing was changed.\n' >&2; exit 1; }

# --- 1. the manifest -----------------------------------------------------------------------------
# check_tree DIR (scripts/bundle/manifest-check.sh, shared with scripts/verify-bundle).
# shellcheck source=manifest-check.sh
source "$HERE/manifest-check.sh"

field() { sed -n "s/^$1: //p" "$HERE/BUILDINFO" | head -1; }
log "checking the bundle in $HERE against MANIFEST.sha256"
if ! problems="$(check_tree "$HERE")"; then
  printf '%s\n' "$problems" | sed 's/^/[install]   /' >&2
  refuse "the bundle does not match its manifest: it is damaged or has been altered" \
    "Do not use it. Copy the bundle again from the checked medium and compare its hash with the binder."
fi
BUNDLE_HASH="$(sha256sum "$HERE/MANIFEST.sha256" | cut -d' ' -f1)"
NAME="$(field name)"
VERSION="$(field version)"
COMMIT="$(field commit)"
[[ -n "$VERSION" && "$NAME" == "cardca-$VERSION-debian12-x86_64" ]] || refuse "BUILDINFO does not name this bundle"
log "bundle OK: $NAME, commit $COMMIT"
log "bundle hash $BUNDLE_HASH"

# --- targets, privileges, downgrade ----------------------------------------------------------------
if [[ -n "$PREFIX" ]]; then DEST="$PREFIX/cardca-$VERSION"; BINDIR="$PREFIX/bin"
else DEST="/opt/cardca-$VERSION"; BINDIR=/usr/local/bin; fi
if [[ $EUID -ne 0 ]] && ! ((CHECK_ONLY)) && { ((DEBS)) || [[ -z "$PREFIX" ]]; }; then
  refuse "run install.sh as root (or with --prefix DIR --no-debs for a private copy)"
fi
[[ "$(uname -m)" == x86_64 ]] || refuse "this bundle is for x86_64, this machine is $(uname -m)"

# semver → dpkg order: a pre-release (1.0.0-rc.1) sorts before its release (1.0.0).
older() { dpkg --compare-versions "${1//-/\~}" lt "${2//-/\~}"; }
CURRENT=
if [[ -L "$BINDIR/ca" ]]; then
  target="$(readlink "$BINDIR/ca")"
  if [[ "$target" =~ /cardca-([^/]+)/bin/ca$ ]]; then CURRENT="${BASH_REMATCH[1]}"
  else refuse "$BINDIR/ca points to $target, which is not a cardca bundle" "Move it away first."; fi
elif [[ -e "$BINDIR/ca" ]]; then
  refuse "$BINDIR/ca exists and was not installed by a cardca bundle" \
    "Move it away (e.g. the wrapper of the old manual procedure), then run install.sh again."
fi
if [[ -n "$CURRENT" && "$CURRENT" != "$VERSION" ]] && older "$VERSION" "$CURRENT"; then
  ((ALLOW_DOWNGRADE)) || refuse "cardca $CURRENT is installed; this bundle is the older $VERSION" \
    "Use --allow-downgrade if you mean it (the CA home is not touched either way)."
  log "downgrading from $CURRENT to $VERSION (--allow-downgrade)"
fi
INSTALLED=0
if [[ -e "$DEST" ]]; then
  if problems="$(check_tree "$DEST")" && cmp -s "$DEST/MANIFEST.sha256" "$HERE/MANIFEST.sha256"; then
    INSTALLED=1
  else
    refuse "$DEST exists but is not this bundle (another build of $VERSION, or changed since)" \
      "Move $DEST away, then run install.sh again."
  fi
fi

# --- 2. Debian packages, from local files only ---------------------------------------------------
mapfile -t DEB_FILES < <(cut -c67- "$HERE/MANIFEST.sha256" | grep '^debs/[^/]*\.deb$' || true)
if ((DEBS)); then
  ((${#DEB_FILES[@]})) || refuse "this bundle carries no .deb files (built with --no-debs)" \
    "Install pcscd, libccid, opensc, pcsc-tools, openssl and sqlite3 another way, then use --no-debs."
  debs=("${DEB_FILES[@]/#/$HERE/}")
  log "checking that the ${#debs[@]} bundled .deb files install on this machine (apt, no package sources)"
  if ! plan="$("$HERE/install-debs.sh" --simulate "${debs[@]}" 2>&1)"; then
    printf '%s\n' "$plan" | sed 's/^/[install]   /' >&2
    refuse "apt cannot install the bundled packages on this machine (above)"
  fi
  printf '%s\n' "$plan" | sed 's/^/[install]   /' >&2
fi

if ((CHECK_ONLY)); then
  if ((INSTALLED)); then log "check: $DEST is already this bundle"; else log "check: would install to $DEST"; fi
  log "check: would point $BINDIR/ca at $DEST/bin/ca"
  log "check passed; nothing was changed (--check)"
  printf 'bundle hash %s\n' "$BUNDLE_HASH"
  exit 0
fi

if ((DEBS)); then
  log "installing the .deb files"
  "$HERE/install-debs.sh" "${debs[@]}" >&2
fi

# --- 3. cardca under DEST, `ca` on the PATH --------------------------------------------------------
if ((INSTALLED)); then
  log "$DEST is already this bundle (checked file by file): not copied again"
else
  mkdir -p "$(dirname "$DEST")"
  tmp="$(mktemp -d "$(dirname "$DEST")/.cardca-$VERSION.partial.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  cp -a "$HERE/." "$tmp/"
  [[ $EUID -ne 0 ]] || chown -R 0:0 "$tmp"
  # Modes as built (an unpacking umask must not make cardca unreadable for the CA account).
  find "$tmp" -type d -exec chmod 0755 {} +
  find "$tmp" -type f -perm -u+x -exec chmod 0755 {} +
  find "$tmp" -type f ! -perm -u+x -exec chmod 0644 {} +
  problems="$(check_tree "$tmp")" || { printf '%s\n' "$problems" >&2; echo "[install] the copy in $tmp does not match the manifest (disk full or failing?)" >&2; exit 1; }
  mv -T "$tmp" "$DEST"
  trap - EXIT
  log "installed $DEST"
fi
mkdir -p "$BINDIR"
if [[ "$(readlink "$BINDIR/ca" 2>/dev/null || true)" != "$DEST/bin/ca" ]]; then
  ln -sfn "$DEST/bin/ca" "$BINDIR/.ca.new.$$"
  mv -Tf "$BINDIR/.ca.new.$$" "$BINDIR/ca"
  log "$BINDIR/ca → $DEST/bin/ca"
else
  log "$BINDIR/ca already points at $DEST/bin/ca"
fi

# --- 4. pcscd ---------------------------------------------------------------------------------------
if ((DEBS)); then
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    systemctl enable --now pcscd.socket >&2
    log "pcscd.socket enabled (pcscd starts when cardca or opensc-tool connects)"
  else
    log "systemd is not running here: start pcscd yourself (pcscd --foreground, or your init system)"
  fi
else
  log "--no-debs: Debian packages and pcscd left as they are"
fi

"$BINDIR/ca" --help >/dev/null || { echo "[install] the installed ca does not start" >&2; exit 1; }
log "done: cardca $VERSION (commit $COMMIT) is $BINDIR/ca"
log "write the bundle hash in the binder; the witness compares it with the one the builders published:"
printf 'bundle hash %s\n' "$BUNDLE_HASH"

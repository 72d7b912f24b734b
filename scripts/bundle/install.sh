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
# check_tree DIR: DIR holds exactly the files MANIFEST.sha256 lists, with those hashes.
check_tree() {
  local dir="$1" listed present odd
  [[ -f "$dir/MANIFEST.sha256" && ! -L "$dir/MANIFEST.sha256" ]] || { echo "MANIFEST.sha256 is missing"; return 1; }
  # Paths must stay inside the bundle: no absolute paths, no "..", nothing odd.
  if grep -qvE '^[0-9a-f]{64}  [A-Za-z0-9@._+/-]+$' "$dir/MANIFEST.sha256" ||
    grep -qE '  (/|.*(^|/)\.\.(/|$))' "$dir/MANIFEST.sha256"; then
    echo "MANIFEST.sha256 has malformed lines"; return 1
  fi
  odd="$(cd "$dir" && find . ! -type f ! -type d -printf '%P\n')"
  [[ -z "$odd" ]] || { echo "not regular files (symlinks, devices): $odd"; return 1; }
  listed="$(cut -c67- "$dir/MANIFEST.sha256" | sort)"
  present="$(cd "$dir" && find . -type f ! -path ./MANIFEST.sha256 -printf '%P\n' | sort)"
  if [[ "$listed" != "$present" ]]; then
    diff <(printf '%s\n' "$listed") <(printf '%s\n' "$present") | grep '^[<>]' |
      sed 's/^</missing:/; s/^>/not in the manifest:/' | head -20
    return 1
  fi
  (cd "$dir" && sha256sum --quiet --strict -c MANIFEST.sha256 2>&1) || return 1
}

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
# apt with no package source at all: only the files named here and what is installed count, so
# apt resolves the dependencies and refuses (before touching anything) if one is missing.
APT_LOCAL=(apt-get -q -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=/nonexistent
  -o APT::Install-Recommends=false -o APT::Install-Suggests=false --no-download)
if ((DEBS)); then
  ((${#DEB_FILES[@]})) || refuse "this bundle carries no .deb files (built with --no-debs)" \
    "Install pcscd, libccid, opensc, pcsc-tools, openssl and sqlite3 another way, then use --no-debs."
  debs=("${DEB_FILES[@]/#/$HERE/}")
  log "checking that the ${#debs[@]} bundled .deb files install on this machine (apt, no sources)"
  if ! sim="$(DEBIAN_FRONTEND=noninteractive "${APT_LOCAL[@]}" -s install "${debs[@]}" 2>&1)"; then
    printf '%s\n' "$sim" | sed 's/^/[install]   /' >&2
    refuse "apt cannot install the bundled packages on this machine (above)"
  fi
  printf '%s\n' "$sim" | grep -E '^(Inst|Conf|Remv) ' | sed 's/^/[install]   /' >&2 || true
  if grep -q '^Remv ' <<<"$sim"; then refuse "installing the packages would remove others (Remv above)"; fi
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
  DEBIAN_FRONTEND=noninteractive "${APT_LOCAL[@]}" -y install "${debs[@]}" >&2
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
  chmod 0755 "$tmp"
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

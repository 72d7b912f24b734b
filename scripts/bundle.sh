#!/usr/bin/env bash
# `npm run bundle`: build the offline, reproducible ceremony bundle
#   cardca-VERSION-debian12-x86_64.tar
# on an online Debian 12 staging machine (docs/air-gapped-box.md). Contents, under one top
# directory cardca-VERSION-debian12-x86_64/:
#   app/        cardca built from the git commit HEAD: package.json, dist/src (JavaScript, no
#               source maps, no emulator; dist/src/cli/bin.js is the esbuild bundle of the
#               command line, as `npm run build` makes it), profiles/, templates/, node_modules/ with runtime
#               dependencies only (`npm ci --omit=dev`; better-sqlite3 and pcsclite compiled
#               here for the bundled Node), and the CEREMONY-BUILD marker
#   node/       the Node runtime the native modules were built with (bin/node)
#   bin/ca      the `ca` command (runs app/ with node/)
#   debs/       the Debian .deb files a ceremony needs beyond a minimal Debian 12, each checked
#               against Debian's signed hashes (debs/DEBIAN-SHA256SUMS says which package)
#   docs/       the operator docs
#   install.sh  the installer (never uses the network)
#   BUILDINFO   commit, version, SOURCE_DATE_EPOCH, toolchain versions, Debian releases used
#   MANIFEST.sha256  every other file with its SHA-256 (`sha256sum -c` format)
#
# Reproducible: what goes in depends only on the commit, the toolchain (Node, g++, libpcsclite-dev
# versions, recorded in BUILDINFO) and the Debian archive state (the .debs are Debian's bytes).
# Build paths and times do not leak in: the tree comes from `git archive`, native code is compiled
# with -ffile-prefix-map, file modes/owners/mtimes are normalised (mtime = SOURCE_DATE_EPOCH = the
# commit time), the tar is sorted by name, and the script fails if the staging path or $HOME shows
# up in any bundled file.
#
# Usage: scripts/bundle.sh [--out DIR] [--no-debs | --debs-from DIR] [--keep-work]
#   --out DIR        where the .tar goes (default: the repository's bundle/ directory)
#   --no-debs        leave out the .deb files (tests, or packages carried separately); BUILDINFO
#                    and install.sh then say so
#   --debs-from DIR  take the .debs in DIR (e.g. an earlier bundle's debs/) instead of downloading;
#                    they are checked against Debian's signed hashes all the same
#   --debs-only DIR  only resolve, download and check the .debs into DIR (the bundle's debs/ step
#                    on its own: tests, or to carry the packages separately)
#   --apt-update     run `apt-get update` first (the .debs come from the archive's current state)
#   --keep-work      keep the staging directory (printed) for inspection
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$REPO/bundle"
DEBS_MODE=download
DEBS_FROM=
DEBS_ONLY=
APT_UPDATE=0
KEEP=0
while (($#)); do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --no-debs) DEBS_MODE=none; shift ;;
    --debs-from) DEBS_MODE=from; DEBS_FROM="$(cd "$2" && pwd)"; shift 2 ;;
    --debs-only) DEBS_ONLY="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --apt-update) APT_UPDATE=1; shift ;;
    --keep-work) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) printf 'bundle: unknown option %s (see --help)\n' "$1" >&2; exit 2 ;;
  esac
done

log() { printf '[bundle] %s\n' "$*" >&2; }
die() { printf '[bundle] ERROR: %s\n' "$*" >&2; exit 1; }

# The Debian packages a ceremony needs (docs/air-gapped-box.md, "Software"). libccid is pcscd's
# USB CCID reader driver (pcscd only Depends on "libccid | pcsc-ifd-handler"); libstdc++6 is what
# the bundled node and the native modules link against beyond libc. Never vsmartcard-vpcd.
CEREMONY_PACKAGES=(pcscd libpcsclite1 libccid opensc pcsc-tools openssl sqlite3 libstdc++6)

ARCHIVE=(node "$REPO/scripts/bundle/debian-archive.mjs")
# check_debs DIR: every DIR/*.deb matches Debian's signed hash (debs/DEBIAN-SHA256SUMS says which).
check_debs() {
  log "checking every .deb against Debian's signed Packages hashes"
  "${ARCHIVE[@]}" check "$1" >"$1/DEBIAN-SHA256SUMS"
  if grep -qE '  vsmartcard-vpcd ' "$1/DEBIAN-SHA256SUMS"; then die "vsmartcard-vpcd must never be in the bundle"; fi
}
# fetch_debs DIR: resolve CEREMONY_PACKAGES against a minimal Debian 12, download, check.
fetch_debs() {
  local wanted
  if ((APT_UPDATE)); then log "apt-get update"; apt-get update -q >&2; fi
  log "resolving ${CEREMONY_PACKAGES[*]} against a minimal Debian 12"
  mapfile -t wanted < <("${ARCHIVE[@]}" resolve "${CEREMONY_PACKAGES[@]}")
  ((${#wanted[@]})) || die "apt resolved no packages"
  log "apt-get download: ${wanted[*]}"
  (cd "$1" && apt-get download -q "${wanted[@]}" 2>&1 | grep -v 'unsandboxed as root' >&2) ||
    die "apt-get download failed (stale lists? run apt-get update)"
  check_debs "$1"
}

[[ "$(uname -m)" == x86_64 ]] || die "the bundle is for x86_64; this machine is $(uname -m)"
grep -q '^VERSION_ID="12"' /etc/os-release || die "build the bundle on Debian 12 (the ceremony machine's release)"
if [[ -n "$DEBS_ONLY" ]]; then
  fetch_debs "$DEBS_ONLY"
  log "wrote $(grep -c . "$DEBS_ONLY/DEBIAN-SHA256SUMS") checked .deb files to $DEBS_ONLY"
  exit 0
fi
command -v git >/dev/null || die "git not found"
git -C "$REPO" rev-parse --verify HEAD >/dev/null 2>&1 || die "$REPO is not a git checkout"

COMMIT="$(git -C "$REPO" rev-parse HEAD)"
SOURCE_DATE_EPOCH="$(git -C "$REPO" log -1 --format=%ct HEAD)"
export SOURCE_DATE_EPOCH
VERSION="$(git -C "$REPO" show HEAD:package.json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).version))')"
NAME="cardca-$VERSION-debian12-x86_64"
if [[ -n "$(git -C "$REPO" status --porcelain --untracked-files=no)" ]]; then
  log "WARNING: the checkout has uncommitted changes; the bundle is built from commit $COMMIT only"
fi

NODE="$(readlink -f "$(command -v node)")"
NODE_VERSION="$("$NODE" -p process.version)"
NODE_PREFIX="$(dirname "$(dirname "$NODE")")"
[[ -f "$NODE_PREFIX/include/node/node.h" ]] ||
  die "no Node headers at $NODE_PREFIX/include/node (the native modules must compile against this Node's own headers)"
[[ -f /usr/include/PCSC/winscard.h ]] || die "libpcsclite-dev is missing (pcsclite compiles against it): apt-get install libpcsclite-dev"
command -v g++ >/dev/null && command -v make >/dev/null && command -v python3 >/dev/null ||
  die "g++, make and python3 are needed to compile the native modules"

WORK="$(mktemp -d /tmp/cardca-bundle.XXXXXXXX)"
cleanup() { if ((KEEP)); then log "staging directory kept: $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
SRC="$WORK/src"
ROOT="$WORK/stage/$NAME"
APP="$ROOT/app"
mkdir -p "$SRC" "$APP" "$ROOT/node/bin" "$ROOT/bin" "$ROOT/docs"
log "commit $COMMIT, version $VERSION, SOURCE_DATE_EPOCH $SOURCE_DATE_EPOCH ($(date -u -d "@$SOURCE_DATE_EPOCH" +%FT%TZ))"

# --- 1. the source tree of the commit (nothing untracked, nothing from the working tree) --------
git -C "$REPO" archive --format=tar HEAD | tar -x -C "$SRC"

# --- 2. compile TypeScript (tsc and type packages live only in this build copy) -----------------
log "npm ci (build copy, no install scripts) and tsc"
(cd "$SRC" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
(cd "$SRC" && node node_modules/typescript/bin/tsc -p tsconfig.json --sourceMap false) >&2 ||
  die "tsc reported errors: a bundle is only built from a commit that type-checks"
# The `ca` operators run is the esbuild bundle of the command line, as in a checkout after
# `npm run build` (scripts/build-cli.mjs: a few chunks instead of ~600 modules, half the start-up);
# --ceremony leaves the emulator out of it and fails if any emulator module would be bundled.
log "bundling the command line (scripts/build-cli.mjs --ceremony)"
(cd "$SRC" && node scripts/build-cli.mjs --ceremony) >&2 || die "bundling the command line failed"

# --- 3. the app: runtime files + `npm ci --omit=dev` (native modules compiled from source) ------
cp "$SRC/package.json" "$SRC/package-lock.json" "$APP/"
cp -r "$SRC/profiles" "$SRC/templates" "$APP/"
[[ -f "$SRC/LICENSE" ]] && cp "$SRC/LICENSE" "$APP/"
mkdir -p "$APP/dist"
cp -r "$SRC/dist/src" "$APP/dist/src"
# No emulator on the ceremony machine (src/common/build-flavour.ts explains the marker).
rm -rf "$APP/dist/src/card/emulator" "$APP/dist/src/cli/commands/emulator.js" "$APP/dist/src/cli/commands/emulator-run.js"
# The one import left is the guarded one in the command list (refused-command.js stands in), in
# tsc's module and in the CLI bundle (bin.js), where it names a file that is not shipped.
if grep -rlE "(from |import\()['\"][^'\"]*emulator[/.]" "$APP/dist/src" | grep -vE '/cli/commands/index\.js$|/cli/bin\.js$'; then
  die "the files above still import the emulator, which the ceremony build leaves out"
fi
if grep -oE "(from |import\()['\"][^'\"]*emulator[^'\"]*['\"]" "$APP/dist/src/cli/bin.js" | grep -vxF 'import("./emulator.js"' ||
  [[ -e "$APP/dist/src/cli/emulator.js" ]]; then
  die "the CLI bundle imports the emulator other than through the guarded command list"
fi
grep -q "refused-command.js" "$APP/dist/src/cli/commands/index.js" || die "cli/commands/index.js lost the ceremony-build guard"
printf 'cardca ceremony build: no emulator, no rehearsal homes (see docs/air-gapped-box.md)\n' >"$APP/CEREMONY-BUILD"

log "npm ci --omit=dev (compiling better-sqlite3 and pcsclite for Node $NODE_VERSION)"
# build-from-source: never a prebuilt binary from the internet; nodedir: this Node's own headers;
# -ffile-prefix-map: no staging or header path in the compiled code (__FILE__, debug info).
MAPS="-ffile-prefix-map=$WORK=/build -ffile-prefix-map=$NODE_PREFIX/include=/node/include"
(cd "$APP" && env npm_config_build_from_source=true npm_config_nodedir="$NODE_PREFIX" \
  CFLAGS="$MAPS" CXXFLAGS="$MAPS" JOBS="$(nproc)" \
  npm ci --omit=dev --no-audit --no-fund --loglevel=error >&2)
# Keep only the compiled modules of the native packages: their build/ directories otherwise hold
# objects, Makefiles and config.gypi with this machine's paths.
while IFS= read -r gyp; do
  pkg="$(dirname "$gyp")"
  [[ -d "$pkg/build/Release" ]] || continue
  keep="$(mktemp -d "$WORK/native.XXXXXX")"
  find "$pkg/build/Release" -maxdepth 1 -type f -name '*.node' -exec mv -t "$keep" {} +
  rm -rf "$pkg/build"
  mkdir -p "$pkg/build"
  mv "$keep" "$pkg/build/Release"
done < <(find "$APP/node_modules" -name binding.gyp -printf '%P\n' | LC_ALL=C sort | sed "s|^|$APP/node_modules/|")
rm -rf "$APP/node_modules/.bin"
if [[ -n "$(find "$ROOT" -type l -print -quit)" ]]; then
  find "$ROOT" -type l >&2
  die "the symlinks above would not survive the manifest check"
fi
(cd "$APP" && "$NODE" -e 'const D = require("better-sqlite3"); new D(":memory:").close(); require("pcsclite");') ||
  die "the native modules do not load"

# --- 4. Node runtime, `ca`, installer, docs --------------------------------------------------
cp "$NODE" "$ROOT/node/bin/node"
for lic in "$NODE_PREFIX/share/doc/nodejs/LICENSE" "$NODE_PREFIX/LICENSE"; do
  if [[ -f "$lic" ]]; then cp "$lic" "$ROOT/node/LICENSE"; break; fi
done
cp "$SRC/scripts/bundle/ca" "$ROOT/bin/ca"
cp "$SRC/scripts/bundle/install.sh" "$SRC/scripts/bundle/install-debs.sh" "$SRC/scripts/bundle/manifest-check.sh" "$ROOT/"
cp "$SRC"/docs/*.md "$ROOT/docs/"

# --- 5. Debian packages -----------------------------------------------------------------------
DEB_RELEASES=
case "$DEBS_MODE" in
  none) log "leaving out the .deb files (--no-debs)" ;;
  download) mkdir -p "$ROOT/debs"; fetch_debs "$ROOT/debs"; DEB_RELEASES="$("${ARCHIVE[@]}" releases)" ;;
  from)
    mkdir -p "$ROOT/debs"
    cp "$DEBS_FROM"/*.deb "$ROOT/debs/"
    check_debs "$ROOT/debs"
    DEB_RELEASES="$("${ARCHIVE[@]}" releases)"
    ;;
esac

# --- 6. BUILDINFO (nothing about this host or this moment, only what determines the output) ----
dpkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo none; }
{
  printf 'name: %s\nversion: %s\ncommit: %s\n' "$NAME" "$VERSION" "$COMMIT"
  printf 'source-date-epoch: %s\nsource-date: %s\n' "$SOURCE_DATE_EPOCH" "$(date -u -d "@$SOURCE_DATE_EPOCH" +%FT%TZ)"
  printf 'flavour: ceremony (no emulator, no rehearsal homes)\n'
  printf 'node: %s\n' "$NODE_VERSION"
  printf 'toolchain: g++ %s, libpcsclite-dev %s, libc6-dev %s, python3 %s, npm %s\n' \
    "$(dpkgver g++)" "$(dpkgver libpcsclite-dev)" "$(dpkgver libc6-dev)" "$(python3 -c 'import platform; print(platform.python_version())')" "$(npm --version)"
  if [[ "$DEBS_MODE" == none ]]; then
    printf 'debs: none (built with --no-debs; install the Debian packages separately)\n'
  else
    printf 'debs: %s files, checked against these signed Debian releases:\n' "$(grep -c . "$ROOT/debs/DEBIAN-SHA256SUMS")"
    printf '%s\n' "$DEB_RELEASES" | sed 's/^/  /'
  fi
} >"$ROOT/BUILDINFO"

# --- 7. no build path or home directory in anything we built -----------------------------------
# (node/bin/node is copied as published, not built here: its own build paths are its builder's.)
leak=()
for p in "$WORK" "$REPO" "$HOME/."; do
  [[ -n "$p" && "$p" != / && "$p" != /. ]] || continue
  while IFS= read -r f; do leak+=("$f: $p"); done < <(grep -rlF --exclude=node -- "$p" "$ROOT" || true)
done
if ((${#leak[@]})); then
  printf '%s\n' "${leak[@]}" >&2
  die "build paths leaked into the bundle (above)"
fi

# --- 8. normalise, manifest, tar --------------------------------------------------------------
find "$ROOT" -type d -exec chmod 0755 {} +
find "$ROOT" -type f -perm -u+x -exec chmod 0755 {} +
find "$ROOT" -type f ! -perm -u+x -exec chmod 0644 {} +
(cd "$ROOT" && find . -type f ! -name MANIFEST.sha256 -printf '%P\0' | LC_ALL=C sort -z | xargs -0 sha256sum) >"$WORK/MANIFEST.sha256"
mv "$WORK/MANIFEST.sha256" "$ROOT/MANIFEST.sha256"
chmod 0644 "$ROOT/MANIFEST.sha256"
mkdir -p "$OUT"
TAR="$OUT/$NAME.tar"
LC_ALL=C tar --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
  --mtime="@$SOURCE_DATE_EPOCH" -cf "$TAR.tmp" -C "$WORK/stage" "$NAME"
mv "$TAR.tmp" "$TAR"
log "wrote $TAR"
printf 'bundle        %s\n' "$TAR"
printf 'commit        %s\n' "$COMMIT"
printf 'tar sha256    %s\n' "$(sha256sum "$TAR" | cut -d' ' -f1)"
printf 'bundle hash   %s  (SHA-256 of MANIFEST.sha256; install.sh prints it too)\n' "$(sha256sum "$ROOT/MANIFEST.sha256" | cut -d' ' -f1)"

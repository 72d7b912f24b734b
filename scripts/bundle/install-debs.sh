#!/usr/bin/env bash
# The .deb step of the bundle installer (install.sh calls it after checking the manifest; tests
# call it with --simulate). apt runs with every package source switched off, so only the files
# named here and the packages already installed count: apt resolves the dependencies among them
# and refuses, before touching anything, when one is missing. Nothing is ever downloaded.
#
# Usage: install-debs.sh [--simulate] FILE.deb...
#   --simulate  only show what apt would do (apt-get -s); prints apt's Inst/Conf lines
# APT_CONFIG (apt's own variable) may name a config file, e.g. one whose Dir::State::status
# describes another system (tests simulate a minimal Debian 12 that way).
set -euo pipefail
SIMULATE=0
if [[ "${1:-}" == --simulate ]]; then SIMULATE=1; shift; fi
(($#)) || { echo "usage: install-debs.sh [--simulate] FILE.deb..." >&2; exit 2; }
for f in "$@"; do
  [[ "$f" == /* && "$f" == *.deb && -f "$f" ]] || { echo "install-debs: not an absolute path to a .deb file: $f" >&2; exit 2; }
done
NOSRC="$(mktemp -d)"
trap 'rm -rf "$NOSRC"' EXIT
mkdir "$NOSRC/sources.list.d"
: >"$NOSRC/sources.list"
APT=(apt-get -q -o "Dir::Etc::SourceList=$NOSRC/sources.list" -o "Dir::Etc::SourceParts=$NOSRC/sources.list.d"
  -o APT::Install-Recommends=false -o APT::Install-Suggests=false --no-download)
export DEBIAN_FRONTEND=noninteractive
if ! sim="$("${APT[@]}" -s install "$@" 2>&1)"; then
  printf '%s\n' "$sim" >&2
  echo "install-debs: apt cannot install these packages on this machine (above); nothing was changed" >&2
  exit 1
fi
if grep -q '^Remv ' <<<"$sim"; then
  grep '^Remv ' <<<"$sim" >&2
  echo "install-debs: installing would remove the packages above; nothing was changed" >&2
  exit 1
fi
if ((SIMULATE)); then
  grep -E '^(Inst|Conf) ' <<<"$sim" || echo "nothing to install: every package is already at the bundled version"
  exit 0
fi
"${APT[@]}" -y install "$@"

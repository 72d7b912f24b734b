# Sourced by the bundle's install.sh and by scripts/verify-bundle (bash).
# check_tree DIR: DIR holds exactly the files DIR/MANIFEST.sha256 lists, each with its SHA-256,
# and nothing else (no unlisted file, no symlink, no device). Prints what is wrong; status 1 then.
check_tree() {
  local dir="$1" listed present odd
  [[ -f "$dir/MANIFEST.sha256" && ! -L "$dir/MANIFEST.sha256" ]] || { echo "MANIFEST.sha256 is missing"; return 1; }
  # Paths must stay inside the bundle: no absolute paths, no "..", no odd characters.
  if LC_ALL=C grep -qvE '^[0-9a-f]{64}  [A-Za-z0-9@._+%~:/-]+$' "$dir/MANIFEST.sha256" ||
    grep -qE '  (/|(.*/)?\.\.(/|$))' "$dir/MANIFEST.sha256"; then
    echo "MANIFEST.sha256 has malformed lines"; return 1
  fi
  odd="$(cd "$dir" && find . ! -type f ! -type d -printf '%P\n')"
  [[ -z "$odd" ]] || { echo "not regular files (symlinks, devices): $odd"; return 1; }
  listed="$(cut -c67- "$dir/MANIFEST.sha256" | LC_ALL=C sort)"
  present="$(cd "$dir" && find . -type f ! -path ./MANIFEST.sha256 -printf '%P\n' | LC_ALL=C sort)"
  if [[ "$listed" != "$present" ]]; then
    diff <(printf '%s\n' "$listed") <(printf '%s\n' "$present") | grep '^[<>]' |
      sed 's/^</missing:/; s/^>/not in the manifest:/' | head -20
    return 1
  fi
  (cd "$dir" && sha256sum --quiet --strict -c MANIFEST.sha256 2>&1) || return 1
}

#!/usr/bin/env bash
# Complete ceremony rehearsal on virtual cards (`npm run rehearsal`, after scripts/setup.sh), the
# flow of docs/operator-guide.md from blank cards to checked exports:
#   PC/SC rig → two emulated SmartCard-HSMs (root card, sub-CA card) → `ca card init` both →
#   `ca init` → root ceremony → sub-CA ceremonies servers, clients, users (transcripts) →
#   CSRs (openssl req) → `ca sign` → `ca revoke` one → `ca crl` for every CA → every export
#   format → transcripts checked → `ca status` → `ca audit verify` → `ca db check` →
#   `openssl verify -crl_check_all` must accept a valid leaf and refuse the revoked one.
# Every step is logged (stderr and WORK/rehearsal.log); the first failing step stops the run
# with a non-zero exit. The emulators are stopped at the end (trap); the pcscd is stopped only if
# this script started it. The work dir is left for the operator to look at.
#
# REHEARSAL ONLY: the emulated cards are TEST cards whose keys sit unprotected in state files
# under the work dir, and the PINs below are published test values. Never use this flow, these
# cards or these PINs for real keys.
#
# Environment:
#   CARDCA_REHEARSAL_DIR    work dir (default /tmp/cardca-rehearsal; wiped at start)
#   CARDCA_REHEARSAL_PORTS  two vpcd ports for the root and sub-CA cards (default "35963 35964")
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
WORK="${CARDCA_REHEARSAL_DIR:-/tmp/cardca-rehearsal}"
read -r PORT_ROOT PORT_SUB <<<"${CARDCA_REHEARSAL_PORTS:-35963 35964}"
HOST=127.0.0.2
CA=(node "$REPO/dist/src/cli/bin.js")
# OpenSC tools (opensc-tool here) must see all 8 rig readers: see test/rig/opensc.conf.
export OPENSC_CONF="${OPENSC_CONF:-$REPO/test/rig/opensc.conf}"
export NO_COLOR=1
# REHEARSAL PINs of the emulated cards (the documented test values, docs/emulator.md).
SO_PIN=3537363231383830
USER_PIN=648219

declare -A READER_OF=(
  [35963]="Virtual PCD 00 00" [35964]="Virtual PCD 00 01"
  [35965]="Virtual PCD 2 00 00" [35966]="Virtual PCD 2 00 01"
  [35967]="Virtual PCD 3 00 00" [35968]="Virtual PCD 3 00 01"
  [35969]="Virtual PCD 4 00 00" [35970]="Virtual PCD 4 00 01"
)
READER_ROOT="${READER_OF[$PORT_ROOT]:?unknown vpcd port $PORT_ROOT (35963-35970)}"
READER_SUB="${READER_OF[$PORT_SUB]:?unknown vpcd port $PORT_SUB (35963-35970)}"
[[ "$PORT_ROOT" != "$PORT_SUB" ]] || { echo "rehearsal: the two ports must differ" >&2; exit 2; }

STEP=0
PIDS=()
RIG_STARTED=0
T0=$SECONDS
EXPORTED=()

say() { printf '\n[rehearsal %3ss] %s\n' "$((SECONDS - T0))" "$*" >&2; }
fail() {
  say "FAILED: $*"
  say "rehearsal dir (for inspection): $WORK"
  exit 1
}

cleanup() {
  local rc=$? pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $RIG_STARTED == 1 ]]; then bash "$REPO/scripts/rig.sh" stop || true; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# step "title" command…   (logs the command line, runs it, stops the rehearsal if it fails)
step() {
  local title="$1"; shift
  STEP=$((STEP + 1))
  say "step $STEP: $title"
  printf '  $' >&2; printf ' %q' "$@" >&2; printf '\n' >&2
  "$@" || fail "step $STEP ($title) exited $?"
}

# expect_fail "title" "regex the output must match" command…  (the command must FAIL)
expect_fail() {
  local title="$1" want="$2" out rc=0; shift 2
  STEP=$((STEP + 1))
  say "step $STEP: $title (must be refused)"
  printf '  $' >&2; printf ' %q' "$@" >&2; printf '\n' >&2
  out="$("$@" 2>&1)" || rc=$?
  printf '%s\n' "$out" >&2
  ((rc != 0)) || fail "step $STEP ($title): the command succeeded but must fail"
  grep -Eq -- "$want" <<<"$out" || fail "step $STEP ($title): output does not match /$want/"
}

# Does `ca export <what>` offer --format <fmt>? (the formats grew over time)
has_format() { "${CA[@]}" export "$1" --help 2>/dev/null | grep -q -- "\"$2\""; }

wait_ready() {
  local role="$1" reader="$2" deadline=$((SECONDS + 20)) line=""
  until line="$(grep -m1 '^emulator ready ' "$WORK/emulator-$role.out" 2>/dev/null)"; do
    ((SECONDS < deadline)) || fail "emulated $role card: no ready line after 20 s (log: $WORK/emulator-$role.log)"
    sleep 0.1
  done
  until opensc-tool -l 2>/dev/null | grep -Eq "^[0-9]+ +Yes .*${reader}\$"; do
    ((SECONDS < deadline)) || fail "no card in \"$reader\" after 20 s (is the rig's pcscd serving port ${line#*port=}?)"
    sleep 0.2
  done
  sed -E 's/.* serial=([^ ]+).*/\1/' <<<"$line"
}

# ---------------------------------------------------------------------------------------------
rm -rf "$WORK"
mkdir -p -m 700 "$WORK"
exec 2> >(tee -a "$WORK/rehearsal.log" >&2)
say "cardca ceremony REHEARSAL in $WORK (wiped), cards on ports $PORT_ROOT ($READER_ROOT) and $PORT_SUB ($READER_SUB)"
cat >&2 <<EOF

  !!! REHEARSAL ONLY: emulated TEST cards (their keys sit unprotected in $WORK/card-*.json)
  !!! and published REHEARSAL PINs (docs/emulator.md), read from the mode-0600 files
  !!! $WORK/rehearsal-user.pin and rehearsal-so.pin.
  !!! Never use these cards, these PINs or this CA home for anything real.
EOF
(
  umask 077
  printf '%s\n' "$USER_PIN" >"$WORK/rehearsal-user.pin"
  printf '%s\n' "$SO_PIN" >"$WORK/rehearsal-so.pin"
)
PIN="$WORK/rehearsal-user.pin"
SO="$WORK/rehearsal-so.pin"
HOME_DIR="$WORK/ca-data"
export CA_HOME="$HOME_DIR"

say "PC/SC rig"
rig_out="$(bash "$REPO/scripts/rig.sh" start)" || fail "scripts/rig.sh start failed"
[[ "$(tail -n1 <<<"$rig_out")" == started* ]] && RIG_STARTED=1

for role in root sub; do
  port=$([[ $role == root ]] && echo "$PORT_ROOT" || echo "$PORT_SUB")
  say "starting the emulated '$role' card on $HOST:$port (state $WORK/card-$role.json)"
  "${CA[@]}" emulator start --state "$WORK/card-$role.json" --port "$port" --host "$HOST" \
    --apdu-log "$WORK/apdu-$role.jsonl" >"$WORK/emulator-$role.out" 2>"$WORK/emulator-$role.log" &
  PIDS+=($!)
done
ROOT_CARD="$(wait_ready root "$READER_ROOT")"
SUB_CARD="$(wait_ready sub "$READER_SUB")"
say "root card $ROOT_CARD in \"$READER_ROOT\", sub-CA card $SUB_CARD in \"$READER_SUB\""

# --- cards and CA home (operator guide §2, §3) -------------------------------------------------
step "initialise the root card" "${CA[@]}" card init --reader "$READER_ROOT" --label "Rehearsal Root CA" \
  --so-pin-file "$SO" --pin-file "$PIN" --retries 3
step "initialise the sub-CA card" "${CA[@]}" card init --reader "$READER_SUB" --label "Rehearsal Sub-CA" \
  --so-pin-file "$SO" --pin-file "$PIN" --retries 3
step "card status (spends no PIN try)" "${CA[@]}" card status --card "$ROOT_CARD"
step "card list" "${CA[@]}" card list
step "create the CA home" "${CA[@]}" init --rehearsal

# --- ceremonies (operator guide §3, §4) --------------------------------------------------------
WHO=(--operator "Rehearsal Operator" --witness "Rehearsal Witness")
step "root ceremony" "${CA[@]}" ceremony root --card "$ROOT_CARD" --pin-file "$PIN" --yes "${WHO[@]}"
for sub in servers clients users; do
  step "sub-CA ceremony '$sub'" "${CA[@]}" ceremony subca "$sub" --card "$SUB_CARD" --issuer-card "$ROOT_CARD" \
    --pin-file "$PIN" --issuer-pin-file "$PIN" --yes "${WHO[@]}"
done

# --- requests, issuance (operator guide §5) ----------------------------------------------------
mkdir -p "$WORK/requests" "$WORK/issued"
csr() { # name keyopts subject [san]
  local name="$1" key="$2" subj="$3" san="${4:-}" args=()
  read -r -a args <<<"$key"
  [[ -n "$san" ]] && args+=(-addext "subjectAltName=$san")
  step "requester: key + CSR '$name' (openssl req)" openssl req -new -nodes "${args[@]}" \
    -keyout "$WORK/requests/$name.key" -subj "$subj" -out "$WORK/requests/$name.csr"
}
csr www "-newkey ec -pkeyopt ec_paramgen_curve:P-256" "/CN=www.example.test" "DNS:www.example.test"
csr vpn-gw "-newkey rsa:2048" "/CN=gw1.vpn.example.test" "DNS:gw1.vpn.example.test,IP:10.0.0.1"
csr alice-laptop "-newkey ec -pkeyopt ec_paramgen_curve:P-256" "/CN=alice-laptop"
csr bob-phone "-newkey ec -pkeyopt ec_paramgen_curve:P-384" "/CN=bob-phone"
csr carol-mail "-newkey rsa:3072" "/CN=Carol Example" "email:carol@example.test"

step "sign the TLS server certificate" "${CA[@]}" sign "$WORK/requests/www.csr" --issuer servers --profile tls-server \
  --pin-file "$PIN" --out "$WORK/issued/"
step "sign the VPN gateway certificate" "${CA[@]}" sign "$WORK/requests/vpn-gw.csr" --issuer servers --profile vpn-server \
  --pin-file "$PIN" --out "$WORK/issued/"
step "sign two VPN client certificates (one batch, one PIN)" "${CA[@]}" sign "$WORK/requests/alice-laptop.csr" \
  "$WORK/requests/bob-phone.csr" --issuer clients --profile vpn-client --days 365 --pin-file "$PIN" --out "$WORK/issued/"
step "sign the e-mail certificate" "${CA[@]}" sign "$WORK/requests/carol-mail.csr" --issuer users --profile email \
  --pin-file "$PIN" --out "$WORK/issued/"
csr evil "-newkey ec -pkeyopt ec_paramgen_curve:P-256" "/CN=www.evil.test" "DNS:www.evil.test"
expect_fail "a CSR outside the servers CA's name constraints" "POLICY_" \
  "${CA[@]}" sign "$WORK/requests/evil.csr" --issuer servers --profile tls-server --pin-file "$PIN" --out "$WORK/issued/"
step "list what was issued" "${CA[@]}" list

# --- revocation and CRLs (operator guide §6) ---------------------------------------------------
step "revoke bob-phone (keyCompromise)" "${CA[@]}" revoke "$WORK/issued/bob-phone.crt" --reason keyCompromise
for ca in root servers clients users; do
  step "CRL of $ca" "${CA[@]}" crl --issuer "$ca" --pin-file "$PIN"
done

# --- exports (operator guide §7): every format `ca export` offers ------------------------------
EXP="$WORK/export"
mkdir -p "$EXP"
for ca in servers clients users; do
  for fmt in pem der p7b openvpn strongswan; do
    has_format chain "$fmt" || continue
    case "$fmt" in
      pem) out="$EXP/$ca-chain.pem" ;;
      p7b) out="$EXP/$ca-chain.p7b" ;;
      *) out="$EXP/$ca-$fmt/" ;;
    esac
    step "export chain of $ca as $fmt" "${CA[@]}" export chain --issuer "$ca" --format "$fmt" --out "$out"
    EXPORTED+=("chain:$ca:$fmt")
  done
done
for fmt in pem der; do
  has_format crl "$fmt" || continue
  out=$([[ $fmt == pem ]] && echo "$EXP/crls.pem" || echo "$EXP/crl-der/")
  step "export every CRL as $fmt" "${CA[@]}" export crl --all --format "$fmt" --out "$out"
  EXPORTED+=("crl:all:$fmt")
done
WWW_SERIAL="$(openssl x509 -in "$WORK/issued/www.crt" -noout -serial | cut -d= -f2)"
if "${CA[@]}" export --help 2>/dev/null | grep -q 'export cert'; then
  for fmt in pem der p7b; do
    has_format cert "$fmt" || continue
    ext=$([[ $fmt == der ]] && echo "" || echo ".$fmt")
    out=$([[ $fmt == der ]] && echo "$EXP/www-chain-der/" || echo "$EXP/www-fullchain$ext")
    step "export the www certificate with its chain as $fmt" "${CA[@]}" export cert "$WWW_SERIAL" --chain --format "$fmt" --out "$out"
    EXPORTED+=("cert:www:$fmt")
  done
fi

# --- transcripts, status, integrity (operator guide §3, §6, §8) --------------------------------
shopt -s nullglob
transcripts=("$HOME_DIR"/ceremonies/*.html "$HOME_DIR"/ceremonies/*.md)
shopt -u nullglob
((${#transcripts[@]} >= 8)) || fail "expected a Markdown and an HTML transcript for each of the 4 ceremonies, found ${#transcripts[@]} in $HOME_DIR/ceremonies"
args=()
for t in "${transcripts[@]}"; do args+=(--transcript "$t"); done
step "audit chain intact, and every ceremony transcript matches its audit record" "${CA[@]}" audit verify --skip-card-checkpoints "${args[@]}"
step "the database matches the checkpoints on both cards (PIN-protected CD CA)" "${CA[@]}" audit verify --pin-file "$PIN"
step "ca status" "${CA[@]}" status --warn-days 7 --alarm-days 3
step "ca status --check (no CA at alarm level)" "${CA[@]}" status --check --warn-days 7 --alarm-days 3
step "database check" "${CA[@]}" db check
step "online backup, integrity-checked and hashed into the audit log" "${CA[@]}" db backup --out "$WORK/ca-backup.db"
step "the backup is intact" bash -c "sqlite3 '$WORK/ca-backup.db' 'PRAGMA integrity_check' | grep -qx ok"

step "a production home (no --rehearsal), for the next check" "${CA[@]}" init --home "$WORK/production-home"
expect_fail "a production home refuses the emulated root card" "CARD_EMULATED" \
  "${CA[@]}" ceremony root --home "$WORK/production-home" --card "$ROOT_CARD" --pin-file "$PIN" --yes

# --- independent check: openssl as a relying party --------------------------------------------
ROOT_CRT="$HOME_DIR/certs/root.crt"
[[ -f "$EXP/crls.pem" ]] || "${CA[@]}" export crl --all --format pem --out "$EXP/crls.pem"
step "openssl accepts the valid server certificate (every CRL level checked)" \
  openssl verify -x509_strict -purpose sslserver -crl_check_all -CAfile "$ROOT_CRT" \
  -untrusted "$EXP/servers-chain.pem" -CRLfile "$EXP/crls.pem" "$WORK/issued/www.crt"
step "openssl accepts the valid VPN client certificate" \
  openssl verify -x509_strict -purpose sslclient -crl_check_all -CAfile "$ROOT_CRT" \
  -untrusted "$EXP/clients-chain.pem" -CRLfile "$EXP/crls.pem" "$WORK/issued/alice-laptop.crt"
expect_fail "openssl refuses the revoked VPN client certificate" "certificate revoked" \
  openssl verify -x509_strict -purpose sslclient -crl_check_all -CAfile "$ROOT_CRT" \
  -untrusted "$EXP/clients-chain.pem" -CRLfile "$EXP/crls.pem" "$WORK/issued/bob-phone.crt"
# --- the second, in-process judge: pkijs RFC 5280 path validation with every CRL level ----------
step "ca verify (pkijs) accepts the valid server and VPN client certificates" \
  "${CA[@]}" verify "$WORK/issued/www.crt" "$WORK/issued/alice-laptop.crt"
expect_fail "ca verify (pkijs) refuses the revoked VPN client certificate" "revoked" \
  "${CA[@]}" verify "$WORK/issued/bob-phone.crt"
if [[ -d "$EXP/clients-openvpn" ]]; then
  expect_fail "the OpenVPN bundle (ca.pem + crl.pem) refuses the revoked client" "certificate revoked" \
    openssl verify -crl_check_all -CAfile "$EXP/clients-openvpn/ca.pem" -CRLfile "$EXP/clients-openvpn/crl.pem" \
    "$WORK/issued/bob-phone.crt"
fi

SW="$EXP/clients-strongswan"
if [[ -d "$SW" ]] && command -v pki >/dev/null; then
  # pki lists every plugin it cannot load on stderr: noise for this check.
  pki_quiet() { "$@" 2>&1 | grep -v "^plugin '.*': failed to load"; return "${PIPESTATUS[0]}"; }
  PKI=(pki_quiet pki --verify --cacert "$SW/x509ca/clients.pem" --cacert "$SW/x509ca/root.pem"
    --crl "$SW/x509crl/clients.crl" --crl "$SW/x509crl/root.crl")
  step "strongSwan pki accepts the valid client with the swanctl bundle" "${PKI[@]}" --in "$WORK/issued/alice-laptop.crt"
  expect_fail "strongSwan pki refuses the revoked client with the swanctl bundle" "certificate was revoked" \
    "${PKI[@]}" --in "$WORK/issued/bob-phone.crt"
fi

say "REHEARSAL PASSED: $STEP steps in $((SECONDS - T0)) s; exports: ${EXPORTED[*]:-none}"
cat >&2 <<EOF

  Look at the rehearsal in $WORK:
    ca-data/              the CA home (ca.db, crl-tbs/, certs/, crl/, ceremonies/ transcripts, profiles/)
    requests/, issued/    CSRs + requester keys, issued certificates
    export/               chains, CRLs and VPN bundles as they would leave the machine
    rehearsal.log         this log;  apdu-*.jsonl  every APDU the cards saw (PINs redacted)
  e.g.  CA_HOME=$HOME_DIR node dist/src/cli/bin.js status
  Remember: TEST cards and REHEARSAL PINs only.
EOF
exit 0

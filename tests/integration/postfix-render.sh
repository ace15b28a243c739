#!/bin/bash
# postfix-render.sh: `mxdeck render` output for Postfix, merged into a copy of this
# machine's stock /etc/postfix exactly the way the push code does it
# (tests/lab/postfix-merge.sh), must pass `postfix check` without a single warning,
# show up in `postconf -n`/-M/-P, be idempotent, and every map must load in postmap.
# Repeated for an old Postfix (3.3 syntax) rendering.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
MXDECK=${MXDECK:-$BUILD/mxdeck}
MERGE=$ROOT/tests/lab/postfix-merge.sh
. "$ROOT/tests/lab/checks.sh"	# captured, lacks: an absence check needs a capture
T=$(mktemp -d /tmp/mxdeck-pfrender.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

command -v postconf >/dev/null || { echo "postfix not installed"; exit 77; }
postconf -m | grep -qx pcre || { echo "postfix-pcre not installed"; exit 77; }
[ -x "$MXDECK" ] || { echo "FAIL $MXDECK not built"; exit 1; }

# run_case NAME VERSION: render demo.ini for postfix_version VERSION into $T/NAME,
# merge into $T/NAME/etc/postfix (left in CASE_DIR).
run_case() {
	local name=$1 ver=$2 C=$T/$1 D out f
	D=$C/etc/postfix
	CASE_DIR=$D
	mkdir -p "$D"
	# The stock configuration, as on a fresh Debian gateway.
	cp /etc/postfix/main.cf /etc/postfix/master.cf /etc/postfix/dynamicmaps.cf "$D/"
	[ -d /etc/postfix/dynamicmaps.cf.d ] && cp -r /etc/postfix/dynamicmaps.cf.d "$D/"
	sed -e "s|^postfix_dir = .*|postfix_dir = $D|" \
	    -e "s|^postfix_version = .*|postfix_version = $ver|" \
	    "$ROOT/share/examples/demo.ini" > "$C/demo.ini"
	cp "$ROOT/share/examples/demo-users.csv" "$C/"
	"$ROOT/share/lab/demo-lab.sh" pki "$C"	# the demo CA's certificates the profile names
	if ! "$MXDECK" render "$C/demo.ini" "$C/out" 2>"$C/render.err"; then
		cat "$C/render.err"
		bad "$name: mxdeck render failed"
		return 1
	fi
	out=$C/out/demo$D
	[ -f "$out/mxdeck.postconf" ] && ok "$name: rendered $(ls "$out" | wc -l) postfix files" \
	    || { bad "$name: no mxdeck.postconf"; return 1; }
	# Upload = copy into postfix_dir; then merge.
	cp "$out"/* "$D/"
	if "$MERGE" "$D" 2>"$C/merge.err"; then ok "$name: postconf -e / -M / -P merge"; else
		bad "$name: merge failed: $(cat "$C/merge.err")"; return 1; fi
	if postfix -c "$D" check 2>"$C/check.err" && [ ! -s "$C/check.err" ]; then
		ok "$name: postfix check clean (no output at all)"
	else
		bad "$name: postfix check: $(sort -u "$C/check.err")"
	fi
	postconf -c "$D" -n > "$C/n" 2>"$C/n.err"
	[ -s "$C/n" ] && [ ! -s "$C/n.err" ] && ok "$name: postconf -n without warnings" || bad "$name: postconf -n: $(sort -u "$C/n.err")"
	# Idempotent: a second merge changes nothing.
	cp "$D/main.cf" "$C/main.1"; cp "$D/master.cf" "$C/master.1"
	"$MERGE" "$D"
	cmp -s "$D/main.cf" "$C/main.1" && cmp -s "$D/master.cf" "$C/master.1" \
	    && ok "$name: merging twice is a no-op" || bad "$name: second merge changed main.cf/master.cf"
	# Every map loads; no warnings.
	for f in "$D"/mxdeck_*; do
		case $f in
		*.pcre)	postmap -q "X-Probe: 1" "pcre:$f" >/dev/null 2>"$C/pm.err" || true ;;
		*)	postmap -s "texthash:$f" >/dev/null 2>"$C/pm.err" || true ;;
		esac
		[ ! -s "$C/pm.err" ] && ok "$name: postmap loads $(basename "$f")" \
		    || bad "$name: postmap $(basename "$f"): $(cat "$C/pm.err")"
	done
}

has() {	# name, file, exact line
	if grep -qxF -- "$3" "$2"; then ok "$1: $3"; else bad "$1: missing '$3'"; fi
}
param() {	# name, DIR, service/type/param, expected
	local v
	v=$(postconf -c "$2" -P "$3" 2>&1 | sed 's/^[^=]*= *//')
	[ "$v" = "$4" ] && ok "$1: -P $3 = $4" || bad "$1: -P $3 = '$v', want '$4'"
}

# --- Postfix 3.7 (this machine) ---
run_case new 3.7 || true
D=$CASE_DIR
N=$T/new/n
has new "$N" "smtpd_tls_protocols = >=TLSv1.2"
has new "$N" "smtpd_tls_mandatory_protocols = >=TLSv1.2"
has new "$N" "smtp_tls_protocols = >=TLSv1.2"
has new "$N" "smtp_tls_mandatory_protocols = >=TLSv1.2"
has new "$N" "tls_ssl_options = NO_RENEGOTIATION"
# The peers' checks (vrfy, ciphers kinds): what Postfix 3.7 takes after the merge.
has new "$N" "disable_vrfy_command = yes"
has new "$N" "smtpd_tls_exclude_ciphers = aNULL, eNULL, EXPORT, RC4, DES, 3DES, IDEA, SEED, MD5, PSK, SRP, DSS"
has new "$N" "smtpd_tls_mandatory_ciphers = high"
has new "$N" "smtpd_tls_mandatory_exclude_ciphers = kRSA, kECDHr, kECDHe, kDHr, kDHd"
has new "$N" "tls_preempt_cipherlist = yes"
has new "$N" "smtp_dns_support_level = dnssec"
has new "$N" "smtp_tls_security_level = dane"
has new "$N" "smtpd_tls_cert_file = $T/new/demo-sandbox/pki/mail.pem"
has new "$N" "mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128 192.0.2.10/32"
has new "$N" "smtpd_recipient_restrictions = check_recipient_access texthash:$D/mxdeck_always_accept"
has new "$N" "transport_maps = texthash:$D/mxdeck_transport"
has new "$N" "smtpd_relay_restrictions = check_recipient_access texthash:$D/mxdeck_connectors, permit_mynetworks, reject_unauth_destination"
has new "$N" "mxdeck_msa_relay_restrictions = check_recipient_access texthash:$D/mxdeck_connectors, check_sasl_access texthash:$D/mxdeck_sasl_access, permit_mynetworks, permit_sasl_authenticated, reject"
has new "$N" "smtpd_tls_CAfile = $T/new/demo-sandbox/pki/connector/ca.pem"
has new "$N" "mxdeck_connector_1 = reject_plaintext_session, check_recipient_access texthash:$D/mxdeck_connector_filter, permit_tls_all_clientcerts, reject"
has new "$N" "smtpd_sasl_auth_enable = no"
# The stock settings that mxdeck does not manage survive.
has new "$N" "$(grep '^myhostname' /etc/postfix/main.cf | sed 's/ *= */ = /')"
postconf -c "$D" -M submission/inet 2>&1 | grep -q unmatched && ok "new: stock (commented) submission untouched" || bad "new: submission/inet appeared"
postconf -c "$D" -M 2587/inet | grep -q '^2587 *inet *n *- *y *- *- *smtpd ' && ok "new: submission service (lab port 2587) defined" || bad "new: submission service"
postconf -c "$D" -M msa_cleanup/unix | grep -q '^msa_cleanup *unix *n *- *n *- *0 *cleanup ' && ok "new: msa_cleanup service" || bad "new: msa_cleanup"
param new "$D" 2587/inet/smtpd_tls_security_level encrypt
param new "$D" 2587/inet/smtpd_sasl_auth_enable yes
param new "$D" 2587/inet/cleanup_service_name msa_cleanup
param new "$D" 2587/inet/smtpd_relay_restrictions '$mxdeck_msa_relay_restrictions'
param new "$D" 2465/inet/smtpd_tls_wrappermode yes
param new "$D" 2465/inet/cleanup_service_name msa_cleanup
param new "$D" msa_cleanup/unix/header_checks "pcre:$D/mxdeck_msa_header_checks.pcre"
param new "$D" mxdeck_conn1_cleanup/unix/nested_header_checks ""
# Maps say what the profile says.
[ "$(postmap -q postmaster@ "texthash:$D/mxdeck_always_accept")" = OK ] && ok "new: postmaster@ OK" || bad "new: postmaster@"
[ "$(postmap -q abuse@ "texthash:$D/mxdeck_always_accept")" = OK ] && ok "new: abuse@ OK" || bad "new: abuse@"
postmap -q carol@example.org "texthash:$D/mxdeck_sasl_access" | grep -q '^REJECT' && ok "new: carol (smtp off) denied SASL relay" || bad "new: carol not in sasl access"
postmap -q alice@example.org "texthash:$D/mxdeck_sasl_access" >/dev/null && bad "new: alice (smtp on) listed" || ok "new: alice (smtp on) not listed"
# Without the tenant check's FILTER, mail for the connector domain is discarded.
tx="discard:no X-MS-Exchange-CrossTenant-Id of tenant 00000000-0000-0000-0000-000000000000"
[ "$(postmap -q fax.example.org "texthash:$D/mxdeck_transport")" = "$tx" ] && ok "new: transport fax.example.org: discard" || bad "new: transport"
[ "$(postmap -q .fax.example.org "texthash:$D/mxdeck_transport")" = "$tx" ] && ok "new: transport .fax.example.org: discard" || bad "new: transport subdomains"
[ "$(postmap -q fax.example.org "texthash:$D/mxdeck_connectors")" = mxdeck_connector_1 ] && ok "new: fax.example.org: class mxdeck_connector_1" || bad "new: connectors class"
hq() {	# header: the action the tenant check takes on it (a folded header is printed on two lines)
	printf '%s\n\nbody\n' "$1" | postmap -hmq - "pcre:$D/mxdeck_connector_1.pcre" |
	    sed -n 's/.*\t\([A-Z]*\) .*/\1/p'
}
[ "$(hq "X-MS-Exchange-CrossTenant-Id: 11111111-2222-3333-4444-555555555555")" = DISCARD ] \
    && ok "new: foreign tenant id discarded" || bad "new: foreign tenant not discarded"
[ "$(printf 'X-MS-Exchange-CrossTenant-Id: 00000000-0000-0000-0000-000000000000\n\nbody\n' | postmap -hmq - "pcre:$D/mxdeck_connector_1.pcre" | cut -f2)" = "FILTER mxdeck_smarthost:[fax-gw.example.org]:25" ] \
    && ok "new: own tenant id: FILTER to the smarthost" || bad "new: own tenant id not routed to the smarthost"
[ "$(hq "X-MS-Exchange-CrossTenant-id:$(printf '\n\t')00000000-0000-0000-0000-000000000000")" = FILTER ] \
    && ok "new: folded own tenant id (lower-case id): FILTER" || bad "new: folded own tenant id"
[ "$(hq "X-MS-Exchange-CrossTenant-Id: 00000000-0000-0000-0000-0000000000001")" = DISCARD ] \
    && ok "new: own tenant id with a suffix discarded" || bad "new: suffix"
[ "$(postmap -q "X-Originating-IP: [1.2.3.4]" "pcre:$D/mxdeck_msa_header_checks.pcre")" = IGNORE ] \
    && ok "new: X-Originating-IP IGNOREd" || bad "new: header check"

# --- A later push without connector and header rules: postfix-merge.sh with OLD
# removes what mxdeck no longer manages (postconf -X / -PX / -MX). ---
mkdir -p "$T/new/old"
cp "$D/mxdeck.postconf" "$D/mxdeck.master" "$D/mxdeck.master-params" "$T/new/old/"
awk '/^\[(connector|header-rules) /{skip=1; next} /^\[/{skip=0} !skip' "$T/new/demo.ini" > "$T/new/shrunk.ini"
"$MXDECK" render "$T/new/shrunk.ini" "$T/new/out2" 2>/dev/null || bad "shrunk: render failed"
[ -f "$T/new/out2/demo$D/mxdeck.postconf" ] && [ ! -f "$T/new/out2/demo$D/mxdeck_transport" ] && ok "shrunk: no connector maps" || bad "shrunk: transport map still rendered (or nothing rendered)"
cp "$T/new/out2/demo$D"/mxdeck.* "$D/"
"$MERGE" "$D" "$D" "$T/new/old" 2>"$T/new/merge2.err" && ok "shrunk: merge with removals" || bad "shrunk: merge: $(cat "$T/new/merge2.err")"
postfix -c "$D" check 2>"$T/new/check2.err" && [ ! -s "$T/new/check2.err" ] && ok "shrunk: postfix check clean" || bad "shrunk: postfix check: $(sort -u "$T/new/check2.err")"
postconf -c "$D" -n > "$T/new/n2" 2>&1
lacks "$T/new/n2" '^(transport_maps|smtpd_restriction_classes|mxdeck_connector|smtpd_tls_ask_ccert) ' '^smtpd_tls_protocols = ' \
    && ok "shrunk: connector settings removed from main.cf" || bad "shrunk: connector settings left in main.cf (or no postconf -n)"
postconf -c "$D" -M > "$T/new/M2" 2>/dev/null
lacks "$T/new/M2" '^(127\.0\.0\.1:10041|mxdeck_reinject|mxdeck_conn1_cleanup|msa_cleanup) ' '^smtp +inet ' \
    && ok "shrunk: old services removed from master.cf" || bad "shrunk: old services left in master.cf (or no postconf -M)"
param shrunk "$D" 2587/inet/cleanup_service_name cleanup
has shrunk "$T/new/n2" "smtp_header_checks ="

# --- Postfix 3.3 syntax (accepted by 3.7 too, so postfix check still applies) ---
run_case old 3.3 || true
N3=$T/old/n
has old "$N3" "smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1"
has old "$N3" "smtp_tls_mandatory_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1"
has old "$N3" "tls_ssl_options = 0x40000000"

# Render is deterministic.
"$MXDECK" render "$T/new/demo.ini" "$T/again" 2>/dev/null
diff -r "$T/new/out/demo$D" "$T/again/demo$D" >/dev/null && ok "render twice: same bytes" || bad "render not deterministic"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]

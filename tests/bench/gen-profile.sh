#!/usr/bin/env bash
# gen-profile.sh DIR NUSERS NVHOSTS: write DIR/site.ini (+ DIR/users.csv) with NUSERS users
# in the CSV, NVHOSTS vhosts and two hosts, for benchmarks and scale tests.
set -eu
dir=$1 nusers=$2 nvhosts=$3
mkdir -p "$dir"
awk -v n="$nusers" 'BEGIN {
	print "email,imap,pop3,smtp,activesync,mapi,owa,ews"
	for (i = 0; i < n; i++)
		printf "user%07d@example.org,1,%d,%d,1,1,%d,1\n", i, i % 3 == 0, i % 7 != 0, i % 2
}' >"$dir/users.csv"
{
	cat <<'INI'
[site]
name = bench
domain = example.org

[host "gw1"]
address = 192.0.2.1
roles = postfix dovecot apache autodiscover dns exchange

[host "gw2"]
address = 192.0.2.2
roles = postfix dovecot nginx autodiscover dns

[autodiscover "example.org"]
imap = imap.example.org:993/ssl
pop3 = pop.example.org:995/ssl
smtp = smtp.example.org:465/ssl
activesync = https://mail.example.org/Microsoft-Server-ActiveSync
also = example.com example.net

[header-rules "privacy"]
scope = authenticated
rule = /^(Received: from)[^\n]*(.*)/ REPLACE $1 [127.0.0.1] (localhost [127.0.0.1])$2
rule = /^X-Originating-IP:/ IGNORE

[tls]
dane = yes
certificate = /etc/ssl/certs/ssl-cert-snakeoil.pem
key = /etc/ssl/private/ssl-cert-snakeoil.key

[users]
default = imap pop3:off smtp activesync mapi owa ews
file = users.csv

[connector "fax.example.org"]
smarthost = [fax-gw.example.org]:25
tenant_id = 00000000-0000-0000-0000-000000000000
client_ca = /etc/postfix/microsoft365-ca.pem
INI
	awk -v n="$nvhosts" 'BEGIN {
		for (i = 0; i < n; i++) {
			printf "\n[vhost \"mail%04d.example.org\"]\n", i
			printf "server = %s\n", i % 2 ? "nginx" : "apache"
			print "backend = https://exch01.corp.example.org"
			print "services = owa ecp ews oab autodiscover activesync"
			print "certificate = /etc/ssl/certs/ssl-cert-snakeoil.pem"
			print "key = /etc/ssl/private/ssl-cert-snakeoil.key"
		}
	}'
} >"$dir/site.ini"

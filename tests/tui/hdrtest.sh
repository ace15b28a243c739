#!/bin/bash
# Header-rule tester: the header-privacy rules on a sample header block give the expected result,
# header by header, with Postfix semantics (folded header joined, first match wins).
set -eu
. "$(dirname "$0")/lib/tmux.bash"

P=$(tui_demo_copy)
# four header_cleanup rules, replacing the demo's privacy rules
awk '
/^rule = / && !done {
	print "rule = /^(Received: from)[^\\n]*(.*)/ REPLACE $1 ::88 (YOUR MOM [::88])$2"
	print "rule = /^X-Originating-IP/ IGNORE"
	print "rule = /^User-Agent*(.*)/ REPLACE User-Agent: YOUR MOMS MAILER"
	print "rule = /^X-Mailer*(.*)/ REPLACE X-Mailer: YOUR MOMS MAILER"
	done = 1
}
/^rule = / { next }
{ print }' "$P" > "$P.new" && mv "$P.new" "$P"
"$MXDECK" lint "$P" >/dev/null 2>&1
cat > "$TUI_DIR/headers.txt" <<'HDR'
Received: from client.example.com (client.example.com [192.0.2.33])
	(using TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits))
	(No client certificate requested)
	by smtp.kernel-error.de (Postfix) with ESMTPSA id 7458E7B802
	for <wurst@example.com>; Wed, 27 Mar 2019 21:44:10 +0100 (CET)
X-Originating-IP: [192.0.2.33]
User-Agent: Mozilla/5.0 Thunderbird/60.6.1
X-Mailer: Microsoft Outlook 16.0
Subject: test
HDR

loaded_file() {
	tui_start 100 40 "$P"
	tui_wait '1 Site' || return 1
	tui_keys 5 T
	tui_wait 'Header-rule tester' || return 1
	tui_keys C-o
	tui_wait 'load header block from file' || return 1
	tui_text "$TUI_DIR/headers.txt"
	tui_keys Enter
	tui_wait 'loaded 422 bytes' || return 1
	# line by line: which rule matched and what it did
	tui_wait 'L1 +Received: from client\.example\.com .*\(\+4 folded lines\)' || return 1
	tui_wait 'rule 1 \(line [0-9]+\) REPLACE => Received: from ::88 \(YOUR MOM \[::88\]\)' || return 1
	tui_wait 'rule 2 \(line [0-9]+\) IGNORE: header removed' || return 1
	tui_wait 'rule 4 \(line [0-9]+\) REPLACE => X-Mailer: YOUR MOMS MAILER' || return 1
	tui_wait 'L9 +Subject: test' || return 1
	tui_wait 'no rule matched: kept as is' || return 1
	# the resulting block, as in the seed
	tui_wait '^Received: from ::88 \(YOUR MOM \[::88\]\)$' || return 1
	tui_wait '^ +\(using TLSv1\.2 with cipher ECDHE-RSA-AES128-GCM-SHA256' || return 1
	tui_wait '^X-Mailer: YOUR MOMS MAILER$' || return 1
	tui_lacks '^X-Originating-IP'
}
check "header_cleanup rules on a sample header block (loaded with ^O) give the expected result" loaded_file

typed() {
	tui_keys C-u
	tui_wait 'type or paste a header block above' || return 1
	tui_text $'X-Mailer: Foo 1.0\nUser-Agent: Bar\nSubject: hi\n'
	tui_wait 'rule 4 \(line [0-9]+\) REPLACE => X-Mailer: YOUR MOMS MAILER' || return 1
	tui_wait 'rule 3 \(line [0-9]+\) REPLACE => User-Agent: YOUR MOMS MAILER' || return 1
	tui_keys Escape
	tui_wait_gone 'Header-rule tester' || return 1
	tui_keys q
	tui_wait 'EXIT=0'
}
check "a typed/pasted block is evaluated as it is typed; Esc closes the tester" typed

tui_done

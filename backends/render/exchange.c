/* exchange.c: the Exchange renderer (share/doc/HACKING.md §4.2).
 *
 * One file, FK_SCRIPT: <state_dir>/exchange/mxdeck-cas.ps1, a PowerShell script for the
 * Exchange server, runnable over Windows OpenSSH:
 *   ssh ADMIN@EXCHANGE powershell -NoProfile -ExecutionPolicy Bypass -File PATH
 * It sets every profile user's client access (Set-CASMailbox -ImapEnabled -PopEnabled
 * -MAPIEnabled -ActiveSyncEnabled -OWAEnabled -EwsEnabled from the user's effective
 * protocol set), Set-PopSettings/Set-ImapSettings -LoginType (clear-text passwords, which
 * the clients send only over the TLS ports 993/995), and restarts the POP3/IMAP4 services.
 * Errors: $ErrorActionPreference = 'Stop'; each mailbox is its own try/catch, failures are
 * counted and reported, and the exit status is 1 when anything failed (2 when the Exchange
 * cmdlets are missing), so the push code can tell.
 *
 * Quoting: every profile value is a PowerShell single-quoted literal; quotes inside are
 * doubled, including the typographic single quotes (U+2018..U+201B) that PowerShell also
 * accepts as delimiters. Control characters are refused. The file starts with a UTF-8 BOM:
 * Windows PowerShell 5.1 reads a script without one in the ANSI code page, which would
 * mangle non-ASCII addresses.
 *
 * 100k users: one line per user appended to the one output sbuf, no other allocation. */
#include "backends/render/render.h"

#include <stdlib.h>
#include <string.h>


/* PowerShell single-quoted literal. false when s has a control character. */
static bool
ps_quote(struct sbuf *b, const char *s)
{
	sb_addc(b, '\'');
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
		if (*p == '\'') {
			sb_add(b, "''");
			continue;
		}
		/* U+2018..U+201B: E2 80 98..9B, each a quote to PowerShell; doubled. */
		if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0x98 && p[2] <= 0x9b) {
			sb_addn(b, (const char *)p, 3);
			sb_addn(b, (const char *)p, 3);
			p += 2;
			continue;
		}
		/* U+0085 (NEL, C2 85), U+2028/U+2029 are line breaks to PowerShell. */
		if ((p[0] == 0xc2 && p[1] == 0x85) ||
		    (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)))
			return false;
		sb_addc(b, (char)*p);
	}
	sb_addc(b, '\'');
	return true;
}

/* The protocols in Set-MxdeckCas's parameter order: IMAP, POP, MAPI, ActiveSync, OWA, EWS. */
static const int cas_order[] = {
	PROTO_IMAP, PROTO_POP3, PROTO_MAPI, PROTO_ACTIVESYNC, PROTO_OWA, PROTO_EWS,
};

static const char script_head[] =
    "$ErrorActionPreference = 'Stop'\n"
    "Set-StrictMode -Version 2.0\n"
    "\n"
    "# The Exchange Management Shell cmdlets: load the snap-in when run from a plain\n"
    "# PowerShell (Exchange 2013 and later, 2010, 2007).\n"
    "if (-not (Get-Command Set-CASMailbox -ErrorAction SilentlyContinue)) {\n"
    "    foreach ($snapin in @('Microsoft.Exchange.Management.PowerShell.SnapIn',\n"
    "                          'Microsoft.Exchange.Management.PowerShell.E2010',\n"
    "                          'Microsoft.Exchange.Management.PowerShell.Admin')) {\n"
    "        if (Get-PSSnapin -Registered -Name $snapin -ErrorAction SilentlyContinue) {\n"
    "            Add-PSSnapin -Name $snapin\n"
    "            break\n"
    "        }\n"
    "    }\n"
    "}\n"
    "if (-not (Get-Command Set-CASMailbox -ErrorAction SilentlyContinue)) {\n"
    "    Write-Warning 'mxdeck: Set-CASMailbox is not available: run this on an Exchange server'\n"
    "    exit 2\n"
    "}\n"
    "\n"
    "$script:ok = 0\n"
    "$script:failed = 0\n"
    "\n"
    "function Invoke-MxdeckStep([string]$What, [scriptblock]$Step) {\n"
    "    try {\n"
    "        & $Step\n"
    "        $script:ok++\n"
    "    } catch {\n"
    "        $script:failed++\n"
    "        Write-Warning (\"mxdeck: {0}: {1}\" -f $What, $_.Exception.Message)\n"
    "    }\n"
    "}\n"
    "\n"
    "function Set-MxdeckCas([string]$Identity, [bool]$Imap, [bool]$Pop, [bool]$Mapi,\n"
    "    [bool]$ActiveSync, [bool]$Owa, [bool]$Ews) {\n"
    "    Invoke-MxdeckStep \"Set-CASMailbox $Identity\" {\n"
    "        Set-CASMailbox -Identity $Identity -ImapEnabled $Imap -PopEnabled $Pop `\n"
    "            -MAPIEnabled $Mapi -ActiveSyncEnabled $ActiveSync -OWAEnabled $Owa `\n"
    "            -EwsEnabled $Ews -Confirm:$false\n"
    "    }\n"
    "}\n"
    "\n"
    "# POP3 and IMAP4: clear-text password login, which the clients use only over TLS\n"
    "# (993/995; the gateway offers no plaintext ports). Exchange 2007 needs\n"
    "# PlainTextLogin for that; check the semantics of SecureLogin on newer versions.\n"
    "$LoginType = 'PlainTextLogin'\n"
    "Invoke-MxdeckStep 'Set-PopSettings' { Set-PopSettings -LoginType $LoginType }\n"
    "Invoke-MxdeckStep 'Set-ImapSettings' { Set-ImapSettings -LoginType $LoginType }\n"
    "\n"
    "# Per-mailbox client access: Identity, IMAP, POP, MAPI, ActiveSync, OWA, EWS.\n"
    "# (SMTP submission has no Set-CASMailbox switch on premises; the gateway enforces it.)\n";

static const char script_tail[] =
    "\n"
    "# The login type takes effect after a restart of the POP3/IMAP4 services\n"
    "# (the BE services exist from Exchange 2013 on).\n"
    "foreach ($svc in @('MSExchangePOP3', 'MSExchangePOP3BE', 'MSExchangeIMAP4',\n"
    "                   'MSExchangeIMAP4BE')) {\n"
    "    if (Get-Service -Name $svc -ErrorAction SilentlyContinue) {\n"
    "        Invoke-MxdeckStep \"Restart-Service $svc\" { Restart-Service -Name $svc }\n"
    "    }\n"
    "}\n"
    "\n"
    "Write-Output (\"mxdeck: {0} steps done, {1} failed\" -f $script:ok, $script:failed)\n"
    "if ($script:failed -ne 0) {\n"
    "    exit 1\n"
    "}\n"
    "exit 0\n";

static int
exchange_render(const struct render_ctx *ctx, struct fileset *fs, char **cause)
{
	const struct site *site = ctx->site;
	const char *sdir = host_dir(ctx->host, ROLE_EXCHANGE);
	struct rfile *f;
	struct sbuf *b;
	char *path;
	size_t mark;
	int rc = 0;

	path = xasprintf("%s/exchange/mxdeck-cas.ps1", sdir);
	f = fileset_add(fs, "exchange", path, 0644, FK_SCRIPT);
	free(path);
	b = &f->data;

	sb_add(b, "\xef\xbb\xbf# Generated by mxdeck from profile ");
	mark = b->len;
	if (!ps_quote(b, site->path != NULL ? site->path : "")) {
		b->len = mark;
		b->s[mark] = '\0';
		sb_add(b, "(path with control characters)");
	}
	sb_addf(b, "; do not edit.\n"
	    "# %zu mailboxes. Run on the Exchange server, e.g. over Windows OpenSSH:\n"
	    "#   powershell -NoProfile -ExecutionPolicy Bypass -File mxdeck-cas.ps1\n"
	    "# Exit status: 0 all done, 1 some step failed (see the warnings), 2 no Exchange "
	    "cmdlets.\n", site->nusers);
	sb_add(b, script_head);
	for (size_t i = 0; i < site->nusers; i++) {
		const struct user *u = &site->users[i];

		sb_add(b, "Set-MxdeckCas ");
		if (!ps_quote(b, u->email)) {
			rc = render_refuse(ctx, cause, u->file != NULL ? u->file : site->path,
			    u->line, "user address contains a control or line-break character; "
			    "it cannot be passed to Set-CASMailbox: correct it");
			continue;
		}
		for (size_t j = 0; j < nitems(cas_order); j++)
			sb_add(b, (u->protos & PROTO_BIT(cas_order[j])) != 0 ? " $true" :
			    " $false");
		sb_addc(b, '\n');
	}
	sb_add(b, script_tail);
	return rc;
}

const struct renderer render_exchange = {
	.name = "exchange",
	.role = ROLE_EXCHANGE,
	.service = NULL,
	.render = exchange_render,
};

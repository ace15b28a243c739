/* cmd-render.c: `mxdeck render PROFILE DIR` and `mxdeck lint PROFILE`. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/render/render.h"
#include "profiles/site.h"
#include "tui/cli.h"
#include "tui/jsondoc.h"

#include <openssl/evp.h>

/* Parse and lint PATH, print every finding to stderr; -1 when it has errors. With
 * render, also every renderer's refusals, each at its key's FILE:LINE (render_lint:
 * a profile lint passes is one render accepts; some checks only the renderer can make,
 * such as what a path may contain in Apache's or Postfix's syntax). */
enum show { SHOW_ALL, SHOW_IF_ERRORS, SHOW_NONE };

static int
check_profile(const char *path, struct site *site, struct diags *d, bool render,
    enum show show)
{
	int rc = site_load(site, path, d);

	if (rc == 0)
		site_lint(site, d);
	if (rc == 0 && render && d->nerrors == 0)
		render_lint(site, d);
	diags_sort(d);
	if (show == SHOW_ALL || (show == SHOW_IF_ERRORS && d->nerrors > 0))
		diags_print(d, stderr);
	return rc == -1 || d->nerrors > 0 ? -1 : 0;
}

struct site *
cli_load_site_diags(const struct cli *cli, struct diags *d)
{
	struct site *site = xcalloc(1, sizeof *site);

	/* -q: warnings only alongside an error; --json: the findings go into the document. */
	if (check_profile(cli->profile, site, d, false, cli->json ? SHOW_NONE : cli->quiet ?
	    SHOW_IF_ERRORS : SHOW_ALL) == -1) {
		fprintf_safe(stderr, "mxdeck: %s: %zu error(s); fix them and run again "
		    "(`mxdeck lint %s` lists them)\n", cli->profile, d->nerrors, cli->profile);
		site_free(site);
		free(site);
		return NULL;
	}
	return site;
}

struct site *
cli_load_site(const struct cli *cli)
{
	struct diags d = { 0 };
	struct site *site = cli_load_site_diags(cli, &d);

	diags_free(&d);
	return site;
}

static bool
host_selected(const struct cli *cli, const struct host *h)
{
	return cli->hosts.n == 0 || strv_has(&cli->hosts, h->name);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *const file_kinds[] = {
	[FK_FILE] = "file", [FK_POSTMAP] = "postmap", [FK_POSTCONF] = "postconf",
	[FK_POSTCONF_M] = "postconf-master", [FK_POSTCONF_P] = "postconf-params",
	[FK_SCRIPT] = "script", [FK_LINK] = "link",
};

/* One rendered file as a --json object: where it goes, what it is, its SHA-256. */
static void
json_rfile(struct sbuf *b, const char *host, const struct rfile *f, bool first)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (!first)
		sb_addc(b, ',');
	sb_add(b, "\n{\"host\":");
	sb_json_string(b, host);
	sb_add(b, ",\"path\":");
	sb_json_string(b, f->path);
	sb_addf(b, ",\"role\":");
	sb_json_string(b, f->role);
	if (f->kind == FK_LINK) {	/* a symlink: its target, no content */
		sb_add(b, ",\"kind\":\"link\",\"target\":");
		sb_json_string(b, f->target);
		sb_addc(b, '}');
		return;
	}
	sb_addf(b, ",\"kind\":\"%s\",\"mode\":\"%04o\",\"bytes\":%zu,\"sha256\":\"",
	    (size_t)f->kind < sizeof file_kinds / sizeof file_kinds[0] &&
	    file_kinds[f->kind] != NULL ? file_kinds[f->kind] : "file", f->mode, f->data.len);
	if (EVP_Digest(f->data.s != NULL ? f->data.s : "", f->data.len, md, &mdlen,
	    EVP_sha256(), NULL) != 1)
		fatal("EVP_Digest(sha256) failed");
	for (unsigned i = 0; i < mdlen; i++)
		sb_addf(b, "%02x", md[i]);
	sb_addc(b, '"');
	if (f->symlink != NULL) {
		sb_add(b, ",\"symlink\":");
		sb_json_string(b, f->symlink);
	}
	sb_addc(b, '}');
}

int
cmd_render(struct cli *cli)
{
	struct site *site;
	struct diags d = { 0 };
	struct sbuf files;
	char *cause = NULL;
	int rc = EXIT_OK;
	size_t nfiles = 0, nhosts = 0, nbytes = 0;
	double t0 = now_ms(), t_load, t_render = 0, t_write = 0;

	if ((site = cli_load_site_diags(cli, &d)) == NULL) {
		if (cli->json)
			jsondoc_error(cli, "render", &d, "the profile has errors", EXIT_USAGE);
		diags_free(&d);
		return EXIT_USAGE;
	}
	sb_init(&files);
	sb_add(&files, "");
	t_load = now_ms() - t0;
	for (size_t i = 0; i < cli->hosts.n; i++)
		if (site_find_host(site, cli->hosts.v[i]) == NULL) {
			cause = xasprintf("--host %s: no such host in %s", cli->hosts.v[i],
			    cli->profile);
			fprintf_safe(stderr, "mxdeck: %s\n", cause);
			rc = EXIT_USAGE;
			goto out;
		}
	for (size_t i = 0; i < site->nhosts; i++) {
		const struct host *h = &site->hosts[i];
		struct fileset fs = { 0 };
		struct render_ctx ctx = render_ctx_for(site, h);

		double t1;
		int rc1;

		if (!host_selected(cli, h))
			continue;
		t1 = now_ms();
		rc1 = render_host(&ctx, &fs, &cause);
		t_render += now_ms() - t1;
		t1 = now_ms();
		if (rc1 == 0)
			rc1 = fileset_write(&fs, cli->outdir, h->name, &cause);
		t_write += now_ms() - t1;
		if (rc1 == -1) {
			fprintf_safe(stderr, "mxdeck: render: %s\n", cause);
			fileset_free(&fs);
			rc = EXIT_USAGE;
			goto out;
		}
		nfiles += fs.n;
		for (size_t j = 0; j < fs.n; j++) {
			nbytes += fs.v[j].data.len;
			if (cli->json)
				json_rfile(&files, h->name, &fs.v[j], nfiles - fs.n + j == 0);
		}
		nhosts++;
		fileset_free(&fs);
	}
	if (cli->verbose > 0)
		fprintf_safe(stderr, "mxdeck: %zu users, %zu vhosts: rendered %zu files (%zu bytes) "
		    "for %zu hosts under %s; load %.1f ms, render %.1f ms, write %.1f ms\n",
		    site->nusers, site->nvhosts, nfiles, nbytes, nhosts, cli->outdir, t_load,
		    t_render, t_write);
out:
	if (cli->json) {
		struct sbuf b;

		if (cause != NULL)
			diag_add(&d, SEV_ERROR, cli->profile, 0, "%s", cause);
		jsondoc_begin(&b, cli, "render", &d);
		sb_add(&b, ",\"outdir\":");
		sb_json_string(&b, cli->outdir);
		sb_addf(&b, ",\"hosts\":%zu,\"files\":[%s]", nhosts, rc == EXIT_OK ? files.s : "");
		jsondoc_end(&b, rc);
		if (rc == EXIT_OK)
			fprintf(stderr, "mxdeck: render: %zu files for %zu host%s under %s\n",
			    nfiles, nhosts, nhosts == 1 ? "" : "s", cli->outdir);
	}
	free(cause);
	sb_free(&files);
	diags_free(&d);
	site_free(site);
	free(site);
	return rc;
}

int
cmd_lint(struct cli *cli)
{
	struct site site;
	struct diags d = { 0 };
	int rc;

	memset(&site, 0, sizeof site);
	rc = check_profile(cli->profile, &site, &d, true, cli->json ? SHOW_NONE : SHOW_ALL);
	rc = rc == -1 ? EXIT_USAGE : EXIT_OK;
	if (cli->json) {
		struct sbuf b;

		jsondoc_begin(&b, cli, "lint", &d);
		sb_addf(&b, ",\"counts\":{\"errors\":%zu,\"warnings\":%zu},\"findings\":[",
		    d.nerrors, d.nwarnings);
		for (size_t i = 0; i < d.n; i++) {
			sb_add(&b, i ? ",{\"file\":" : "{\"file\":");
			sb_json_string(&b, d.v[i].file);
			sb_addf(&b, ",\"line\":%d,\"severity\":\"%s\",\"message\":", d.v[i].line,
			    d.v[i].sev == SEV_ERROR ? "error" : "warning");
			sb_json_string(&b, d.v[i].msg);
			sb_addc(&b, '}');
		}
		sb_addc(&b, ']');
		jsondoc_end(&b, rc);
		fprintf(stderr, "%s: %zu error%s, %zu warning%s\n", cli->profile, d.nerrors,
		    d.nerrors == 1 ? "" : "s", d.nwarnings, d.nwarnings == 1 ? "" : "s");
	} else if (d.nerrors == 0)
		fprintf_safe(stderr, "%s: ok (%zu warning%s)\n", cli->profile, d.nwarnings,
		    d.nwarnings == 1 ? "" : "s");
	diags_free(&d);
	site_free(&site);
	return rc;
}

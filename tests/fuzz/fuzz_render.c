/* fuzz_render.c: every renderer over mutated profiles (libFuzzer).
 *
 * A profile that loads and lints without errors (the only kind `mxdeck render` and
 * push accept) is rendered for every host, twice. Invariants: rendering is
 * deterministic (same files, same modes, same bytes); every path is absolute with no
 * "." or ".." component and no control byte; no file is world-writable; every .xml file
 * is well-formed (the probe's XML parser) -- profile values reach the Autodiscover and
 * autoconfig XML only escaped.
 *
 * Built by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/probe/parse.h"
#include "backends/render/render.h"
#include "profiles/site.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what, const char *path)
{
	if (!cond) {
		fprintf(stderr, "fuzz_render: invariant violated: %s%s%s\n", what,
		    path ? ": " : "", path ? path : "");
		abort();
	}
}

static void
check_path(const char *p)
{
	check(p[0] == '/', "a relative path", p);
	for (const char *s = p; *s != '\0'; s++)
		check((unsigned char)*s >= 0x20 && *s != 0x7f, "a control byte in a path", p);
	for (const char *s = p; (s = strstr(s, "/.")) != NULL; s++)
		check(!(s[2] == '/' || s[2] == '\0' || (s[2] == '.' && (s[3] == '/' ||
		    s[3] == '\0'))), "a . or .. component", p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct site site;
	struct diags d = { 0 };

	if (site_load_buf(&site, "/nonexistent/mxdeck-fuzz/profile.ini", (const char *)data,
	    size, &d) == 0)
		site_lint(&site, &d);
	if (d.nerrors > 0)
		goto out;
	for (size_t h = 0; h < site.nhosts; h++) {
		struct render_ctx ctx = { .site = &site, .host = &site.hosts[h],
		    .postfix_version = site.hosts[h].postfix_version ?
		    site.hosts[h].postfix_version : POSTFIX_VERSION_DEFAULT };
		struct fileset a = { 0 }, b = { 0 };
		char *ca = NULL, *cb = NULL;
		int ra = render_host(&ctx, &a, &ca), rb = render_host(&ctx, &b, &cb);

		check(ra == rb, "render succeeds once and fails once", NULL);
		if (ra == -1) {
			check(ca != NULL && cb != NULL && strcmp(ca, cb) == 0,
			    "render fails differently", NULL);
		} else {
			check(a.n == b.n, "a different number of files", NULL);
			for (size_t i = 0; i < a.n; i++) {
				const struct rfile *f = &a.v[i], *g = &b.v[i];

				check(strcmp(f->path, g->path) == 0, "different paths", f->path);
				check(f->mode == g->mode && f->kind == g->kind,
				    "different mode or kind", f->path);
				check(f->data.len == g->data.len && (f->data.len == 0 ||
				    memcmp(f->data.s, g->data.s, f->data.len) == 0),
				    "different bytes", f->path);
				check_path(f->path);
				check((f->mode & 0002) == 0, "world-writable", f->path);
				/* A module link: relative, into the server's own *-available. */
				check(f->kind != FK_LINK || (f->target != NULL && g->target != NULL &&
				    strcmp(f->target, g->target) == 0 &&
				    strncmp(f->target, "../", 3) == 0 &&
				    strstr(f->target + 3, "/../") == NULL && f->data.len == 0),
				    "a bad module link", f->path);
				if (str_ends(f->path, ".xml")) {
					char *cause = NULL;
					struct xml_node *x = xml_parse(f->data.s ? f->data.s : "",
					    f->data.len, &cause);

					if (x == NULL)
						fprintf(stderr, "%s: %s\n", f->path, cause);
					check(x != NULL, "not well-formed XML", f->path);
					xml_free(x);
				}
			}
		}
		free(ca);
		free(cb);
		fileset_free(&a);
		fileset_free(&b);
	}
out:
	site_free(&site);
	diags_free(&d);
	return 0;
}

/* test_services.c: the services table of backends/ssh/services.c: which service owns
 * which rendered file, that every renderer's named service is the one that owns its
 * files on every host of every shipped example, and the reload scripts' shape. Run
 * from the repository root (tests/run.sh does). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/render/render.h"
#include "backends/ssh/services.h"
#include "profiles/diag.h"
#include "profiles/site.h"
#include "profiles/util.h"

static void
test_rows(void **state)
{
	(void)state;
	assert_true(nservices > 0 && nservices <= SVC_MAX);
	for (size_t i = 0; i < nservices; i++) {
		const struct pushed_service *s = &services[i];
		char *script = service_reload_script(i);

		assert_non_null(s->name);
		assert_non_null(s->prog);
		assert_non_null(s->owns);
		assert_non_null(s->arg);
		assert_non_null(s->check_sh);
		assert_non_null(s->reload_sh);
		assert_int_equal(service_find(s->name), (int)i);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(services[j].name, s->name);
		/* The script finds the master, reloads, then watches it. */
		assert_non_null(strstr(script, s->reload_sh));
		assert_non_null(strstr(script, "exit 10"));
		assert_non_null(strstr(script, "exit 11"));
		if (s->liveness == SVC_NEW_WORKER)
			assert_non_null(strstr(script, "exit 12"));
		assert_true(strstr(script, s->pid_sh) == script);
		free(script);
	}
	assert_int_equal(service_find("sendmail"), -1);
}

static const char ini[] =
    "[site]\nname = unit\ndomain = example.org\n"
    "[host \"gw\"]\naddress = 192.0.2.1\nroles = postfix dovecot apache\n"
    "postfix_dir = /etc/postfix\ndovecot_dir = /etc/dovecot/\napache_dir = /etc/apache2\n"
    "[host \"web\"]\naddress = 192.0.2.2\nroles = nginx\nnginx_dir = /etc/nginx\n"
    "[tls]\ncertificate = /etc/ssl/certs/mx.pem\nkey = /etc/ssl/private/mx.key\n";

static void
test_owner(void **state)
{
	struct site site;
	struct diags d = { 0 };
	const struct host *gw, *web;

	(void)state;
	if (site_load_buf(&site, "/unit/site.ini", ini, strlen(ini), &d) == -1) {
		diags_print(&d, stderr);
		fail_msg("the unit profile did not load");
	}
	diags_free(&d);
	gw = &site.hosts[0];
	web = &site.hosts[1];
	assert_int_equal(service_of(gw, "/etc/postfix/main.cf"), service_find("postfix"));
	assert_int_equal(service_of(gw, "/etc/dovecot/conf.d/99-mxdeck.conf"),
	    service_find("dovecot"));
	assert_int_equal(service_of(gw, "/etc/apache2/sites-available/x.conf"),
	    service_find("apache2"));
	/* Not under a directory of a role the host has, not the directory itself, not a
	 * sibling whose name starts the same. */
	assert_int_equal(service_of(gw, "/etc/nginx/nginx.conf"), -1);
	assert_int_equal(service_of(gw, "/etc/postfix"), -1);
	assert_int_equal(service_of(gw, "/etc/postfix-out/main.cf"), -1);
	assert_int_equal(service_of(gw, "/var/lib/mxdeck/dns/zone.nsupdate"), -1);
	assert_int_equal(service_of(web, "/etc/nginx/sites-available/x"),
	    service_find("nginx"));
	assert_int_equal(service_of(web, "/etc/postfix/main.cf"), -1);
	site_free(&site);
}

static const struct renderer *
renderer_named(const char *name)
{
	for (size_t i = 0; renderers[i] != NULL; i++)
		if (strcmp(renderers[i]->name, name) == 0)
			return renderers[i];
	return NULL;
}

/* Every file a renderer writes for a daemon is owned by the service it names; a
 * renderer that names none writes nothing a service owns. */
static void
test_renderers_name_owner(void **state)
{
	static const char *const examples[] = {
		"share/examples/demo.ini", "share/examples/autodiscover.ini",
		"share/examples/client-access.ini", "share/examples/connector.ini",
		"share/examples/exchange-reverse-proxy.ini",
		"share/examples/exchange-reverse-proxy-nginx.ini",
		"share/examples/header-privacy.ini",
	};
	size_t files = 0, owned = 0, nosvc = 0;

	(void)state;
	for (size_t e = 0; e < nitems(examples); e++) {
		struct site site;
		struct diags d = { 0 };

		if (site_load(&site, examples[e], &d) == -1) {
			diags_print(&d, stderr);
			fail_msg("%s did not load (run from the repository root)", examples[e]);
		}
		diags_free(&d);
		for (size_t h = 0; h < site.nhosts; h++) {
			struct render_ctx ctx = render_ctx_for(&site, &site.hosts[h]);
			struct fileset fs = { 0 };
			char *cause = NULL;

			/* A host whose render needs a file of the demo sandbox that a plain
			 * checkout does not have (the certificate for TLSA) is skipped. */
			if (render_host(&ctx, &fs, &cause) == -1) {
				free(cause);
				fileset_free(&fs);
				continue;
			}
			for (size_t i = 0; i < fs.n; i++) {
				const struct rfile *f = &fs.v[i];
				const struct renderer *r = renderer_named(f->role);
				int k = service_of(&site.hosts[h], f->path);

				files++;
				if (r == NULL)	/* the Apache module links of render.c */
					continue;
				/* A renderer that names no service writes files no daemon
				 * reads (scripts for the admin, a banner): push would check
				 * and reload the daemon owning such a file, so none may lie
				 * where a service owns it (a script is never loaded). */
				if (r->service == NULL) {
					if (f->kind != FK_SCRIPT && k >= 0)
						fail_msg("host %s: %s names no service but "
						    "renders %s, which %s owns", site.hosts[h].name,
						    r->name, f->path, services[k].name);
					nosvc++;
					continue;
				}
				if (f->kind == FK_SCRIPT)
					continue;
				if (k < 0)	/* a file outside every daemon's directory */
					continue;
				owned++;
				if (strcmp(r->service, "web") == 0)
					assert_true(k == service_find("apache2") ||
					    k == service_find("nginx"));
				else
					assert_string_equal(services[k].name, r->service);
			}
			fileset_free(&fs);
		}
		site_free(&site);
	}
	assert_true(files > 20);
	assert_true(owned > 10);
	assert_true(nosvc > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_renderers_name_owner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

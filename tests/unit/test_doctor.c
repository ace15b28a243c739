/* test_doctor.c: the doctor's directive -> module table (which Apache modules a
 * rendered site needs): by name and prefix, by the scheme of a proxy target, nothing
 * inside <IfModule>, comments and hostile input ignored, no duplicates; and the local
 * read-only statvfs the free-space check uses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "backends/ssh/doctor.h"
#include "backends/ssh/xport.h"

static char *
mods_of(const char *conf)
{
	struct strv m = { 0 };
	struct sbuf b;

	dr_apache_modules(conf, strlen(conf), &m);
	sb_init(&b);
	sb_add(&b, "");
	for (size_t i = 0; i < m.n; i++)
		sb_addf(&b, "%s%s", i ? " " : "", m.v[i]);
	strv_free(&m);
	return sb_steal(&b);
}

static void
check(const char *conf, const char *want)
{
	char *got = mods_of(conf);

	assert_string_equal(got, want);
	free(got);
}

static void
test_directives(void **state)
{
	(void)state;
	check("<VirtualHost *:443>\n\tSSLEngine on\n\tSSLProtocol -all +TLSv1.2\n</VirtualHost>\n",
	    "ssl");
	check("ProxyPassMatch \"(?i)^/owa(/.*)?$\" \"https://ex/owa$1\"\n", "proxy proxy_http");
	check("ProxyPass / http://backend/\n", "proxy proxy_http");
	check("ProxyPass /ws ws://backend/\n", "proxy proxy_wstunnel");
	check("ProxyPassReverse / https://x/\n", "proxy proxy_http");
	check("\t\t<Files \"a.php\">\n\t\t\tSetHandler \"proxy:unix:/run/php/php8.2-fpm.sock|"
	    "fcgi://localhost\"\n", "proxy proxy_fcgi");
	check("SetHandler default-handler\n", "");
	check("Header always set X-A b\nRequestHeader unset Y\n", "headers");
	check("HeaderName README\n", "");	/* mod_autoindex, not a prefix of Header */
	check("RewriteEngine on\nRewriteRule ^ - [F]\n", "rewrite");
	check("RedirectMatch 302 ^/$ /owa/\nAliasMatch x y\n", "alias");
	check("Require all granted\n", "authz_core");
	check("sslengine on\n", "ssl");		/* directives are case-insensitive */
	check("<Proxy \"*\">\n</Proxy>\n", "proxy");
	check("SSLSessionCache shmcb:/x(512000)\n", "ssl socache_shmcb");
}

static void
test_ifmodule_and_noise(void **state)
{
	(void)state;
	/* optional by definition: nothing inside <IfModule> counts, nested too */
	check("<IfModule proxy_msrpc_module>\n\tOutlookAnywherePassthrough On\n"
	    "\tProxyPassMatch x https://y\n\t<IfModule a>\n\tHeader set a b\n\t</IfModule>\n"
	    "</IfModule>\nSSLEngine on\n", "ssl");
	check("# SSLEngine on\n   # ProxyPass / http://x\n\n   \n", "");
	check("", "");
	check("</IfModule>\n</IfModule>\nSSLEngine on\n", "ssl");	/* unbalanced: no underflow */
	check("<\n<<<\n\t\n#\nSSLEngine", "ssl");			/* no newline at the end */
	check("SSLEngine on\nSSLEngine on\nProxyPass / http://a\nProxyPass / http://b\n",
	    "ssl proxy proxy_http");				/* each module once */
	{
		char bin[] = "SSLEngine\0on\nProxyPass\0http://x\n";

		struct strv m = { 0 };

		dr_apache_modules(bin, sizeof bin - 1, &m);
		assert_true(strv_has(&m, "ssl"));
		strv_free(&m);
	}
}

static void
test_statvfs_readonly_handle(void **state)
{
	struct xport *x = xport_local_open("t", NULL, true);
	struct xstatvfs v;
	char *cause = NULL;

	(void)state;
	/* a read-only handle may ask: statvfs only reads */
	assert_int_equal(xport_statvfs(x, "/", &v, &cause), 0);
	assert_true(v.total > 0);
	assert_true(v.avail <= v.total);
	assert_int_equal(x->nwrites, 0);
	assert_int_equal(xport_statvfs(x, "/nonexistent/mxdeck/x", &v, &cause), -1);
	assert_non_null(cause);
	free(cause);
	xport_close(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directives),
		cmocka_unit_test(test_ifmodule_and_noise),
		cmocka_unit_test(test_statvfs_readonly_handle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_sshconfig.c: ssh_config resolution checked against OpenSSH itself: for a set of
 * configs and host names, what sshcfg_resolve() gives (with ssh's defaults filled in)
 * must equal what `ssh -G -F FILE HOST` prints for hostname, port, user, identityfile,
 * identitiesonly, proxyjump, user/global known hosts files, hashknownhosts,
 * connecttimeout and serveraliveinterval. Then the refusals (FILE:LINE), %-token
 * expansion and ProxyJump lists. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/ssh/sshconfig.h"
#include "profiles/util.h"

static char dir[64];

static char *
put(const char *name, const char *content, unsigned mode)
{
	char *path = xasprintf("%s/%s", dir, name), *cause = NULL;

	assert_int_equal(write_file_atomic(path, content, strlen(content), mode, &cause), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

/* The fixture: every pattern form, first value wins, Include (glob, inside a Host
 * block and at the top), Match blocks, '=' and quotes, comments, keyword case. */
static const char main_cfg[] =
"# a comment\n"
"Host gw1 gw2 web?.lan !web9.lan\n"
"    HostName %h.dmz.example.org\n"
"    Port 2201\n"
"    IdentityFile ~/.ssh/gw_%h_%r\n"
"    IdentityFile /keys/%u/%n\n"
"    IdentityFile /keys/%u/%n\n"
"    IdentityFile /keys/with\\ space\n"
"    IdentityFile '/keys/single \"q\"' # a comment\n"
"    IdentityFile \"/keys/dq \\\"x\\\" \\\\ y\"\n"
"    ProxyJump bastion,ops@bastion2:2022\n"
"    UserKnownHostsFile ~/.ssh/kh_dmz /tmp/kh_dmz2\n"
"    HashKnownHosts no\n"
"\n"
"Host *.lan\n"
"    User lanadmin\n"
"    Port 2202\n"
"    IdentitiesOnly yes\n"
"    ConnectTimeout 7\n"
"\n"
"Host bastion\n"
"    HostName 192.0.2.10\n"
"    ProxyJump none\n"
"    ServerAliveInterval 30\n"
"\n"
"Host=alias-eq\n"
"    hostname=eq.example.org\n"
"    PORT = 2203\n"
"    User \"quoted user\"\n"
"    GlobalKnownHostsFile /etc/ssh/other_known_hosts\n"
"\n"
"Host inc-*\n"
"    Include @DIR@/inc.d/*.conf\n"
"\n"
"Match host never-such-host.example\n"
"    Port 9999\n"
"    User matched\n"
"\n"
"Host db* !db9\n"
"    User dba\n"
"Host *\n"
"    User fallback\n"
"    IdentityFile ~/.ssh/last_%h\n"
"    HashKnownHosts yes\n"
"    ServerAliveInterval 60\n"
"    ConnectTimeout none\n"
"Include @DIR@/top.conf\n";

static const char inc_a[] =
"HostName included-a.example.org\n"
"Port 2301\n";
static const char inc_b[] =
"# the second file in glob order: its Port loses, its User counts\n"
"Port 2302\n"
"User incuser\n"
"Host inc-b\n"
"    HostName included-b.example.org\n";
static const char top_cfg[] =
"Host late\n"
"    HostName late.example.org\n"
"    ProxyJump j1,j2\n";

/* Not the Match block's host: mxdeck skips Match blocks (test_values checks that). */
static const char *const hosts[] = {
	"gw1", "GW2", "web1.lan", "web9.lan", "web10.lan", "bastion", "alias-eq",
	"inc-a", "inc-b", "db1", "db9", "late", "other.example.net", "Web1.lan",
};

struct g {
	char	*hostname, *port, *user, *ionly, *pj, *ukh, *gkh, *hash, *ct, *sai;
	struct strv ids;
};

static void
g_free(struct g *g)
{
	free(g->hostname); free(g->port); free(g->user); free(g->ionly); free(g->pj);
	free(g->ukh); free(g->gkh); free(g->hash); free(g->ct); free(g->sai);
	strv_free(&g->ids);
}

/* What ssh -G says. */
static void
ssh_g(const char *cfg, const char *host, struct g *g)
{
	char *cmd = xasprintf("ssh -G -F '%s' '%s' 2>/dev/null", cfg, host), line[4096];
	FILE *f = popen(cmd, "r");
	int n = 0;

	assert_non_null(f);
	memset(g, 0, sizeof *g);
	while (fgets(line, sizeof line, f) != NULL) {
		char *sp = strchr(line, ' '), *v;

		line[strcspn(line, "\n")] = '\0';
		if (sp == NULL)
			continue;
		*sp = '\0';
		v = sp + 1;
		n++;
		for (char *p = line; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
#define K(k, f) else if (strcmp(line, k) == 0) { free(g->f); g->f = xstrdup(v); }
		if (strcmp(line, "identityfile") == 0)
			strv_push(&g->ids, v);
		K("hostname", hostname) K("port", port) K("user", user)
		K("identitiesonly", ionly) K("proxyjump", pj) K("userknownhostsfile", ukh)
		K("globalknownhostsfile", gkh) K("hashknownhosts", hash)
		K("connecttimeout", ct) K("serveraliveinterval", sai)
#undef K
	}
	assert_int_equal(pclose(f), 0);
	assert_true(n > 20);	/* ssh -G printed its whole configuration */
	free(cmd);
}

/* s with every @DIR@ replaced by the fixture directory. */
static char *
with_dir(const char *s)
{
	struct sbuf b;
	const char *at;

	sb_init(&b);
	sb_add(&b, "");
	while ((at = strstr(s, "@DIR@")) != NULL) {
		sb_addn(&b, s, (size_t)(at - s));
		sb_add(&b, dir);
		s = at + 5;
	}
	sb_add(&b, s);
	return sb_steal(&b);
}

static char *
joined(const struct strv *v, const char *const *defaults, size_t ndef)
{
	struct sbuf b;

	sb_init(&b);
	sb_add(&b, "");
	for (size_t i = 0; i < (v->n ? v->n : ndef); i++) {
		char *c = NULL, *x = sshcfg_expand(v->n ? v->v[i] : defaults[i], "", "", 0, "",
		    &c);

		assert_non_null(x);
		sb_addf(&b, "%s%s", i ? " " : "", x);
		free(x);
	}
	return sb_steal(&b);
}

static void
test_against_ssh_g(void **state)
{
	char *incd = xasprintf("%s/inc.d", dir), *text, *cfg, *cause = NULL;
	struct passwd *pw = getpwuid(getuid());
	static const char *const udef[] = { "~/.ssh/known_hosts", "~/.ssh/known_hosts2" };
	static const char *const gdef[] = { "/etc/ssh/ssh_known_hosts",
	    "/etc/ssh/ssh_known_hosts2" };
	size_t compared = 0;

	(void)state;
	/* ssh expands ~ with the password entry's home: so do we, here. */
	assert_non_null(pw);
	setenv("HOME", pw->pw_dir, 1);
	assert_int_equal(mkdir(incd, 0700), 0);
	free(put("inc.d/a.conf", inc_a, 0600));
	free(put("inc.d/b.conf", inc_b, 0600));
	free(put("top.conf", top_cfg, 0600));
	text = with_dir(main_cfg);
	cfg = put("config", text, 0600);
	for (size_t i = 0; i < nitems(hosts); i++) {
		struct sshcfg c;
		struct g g;
		char *want, *s;

		ssh_g(cfg, hosts[i], &g);
		assert_int_equal(sshcfg_resolve(cfg, hosts[i], &c, &cause), 0);
		assert_null(cause);
		print_message("%s: ssh -G says %s:%s as %s\n", hosts[i], g.hostname, g.port,
		    g.user);
		s = xstrdup(c.hostname != NULL ? c.hostname : c.host);
		if (c.hostname == NULL)
			for (char *p = s; *p; p++)
				*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		assert_string_equal(s, g.hostname);
		free(s);
		want = xasprintf("%d", c.port ? c.port : 22);
		assert_string_equal(want, g.port);
		free(want);
		assert_string_equal(c.user != NULL ? c.user : pw->pw_name, g.user);
		if (c.identity_files.n > 0) {
			assert_int_equal(c.identity_files.n, g.ids.n);
			for (size_t k = 0; k < g.ids.n; k++)
				assert_string_equal(c.identity_files.v[k], g.ids.v[k]);
		} else
			assert_string_equal(g.ids.v[0], "~/.ssh/id_rsa");	/* ssh's defaults */
		assert_string_equal(c.identities_only == 1 ? "yes" : "no", g.ionly);
		if (c.proxy_jump != NULL && strcmp(c.proxy_jump, "none") != 0)
			assert_string_equal(c.proxy_jump, g.pj);
		else
			assert_null(g.pj);
		s = joined(&c.user_known_hosts, udef, nitems(udef));
		assert_string_equal(s, g.ukh);
		free(s);
		s = joined(&c.global_known_hosts, gdef, nitems(gdef));
		assert_string_equal(s, g.gkh);
		free(s);
		assert_string_equal(c.hash_known_hosts == 1 ? "yes" : "no", g.hash);
		if (c.connect_timeout > 0) {
			want = xasprintf("%d", c.connect_timeout);
			assert_string_equal(want, g.ct);
			free(want);
		} else
			assert_string_equal("none", g.ct);
		want = xasprintf("%d", c.server_alive_interval > 0 ? c.server_alive_interval : 0);
		assert_string_equal(want, g.sai);
		free(want);
		sshcfg_free(&c);
		g_free(&g);
		compared++;
	}
	assert_int_equal(compared, nitems(hosts));
	free(incd);
	free(text);
	free(cfg);
}

/* Spot checks that the fixture means what it says (so the comparison is not of two
 * empty results). */
static void
test_values(void **state)
{
	char *cfg = xasprintf("%s/config", dir), *cause = NULL;
	struct sshcfg c;

	(void)state;
	assert_int_equal(sshcfg_resolve(cfg, "GW1", &c, &cause), 0);
	assert_string_equal(c.host, "GW1");
	assert_null(c.hostname);	/* Host patterns are case-sensitive, as in ssh */
	sshcfg_free(&c);
	assert_int_equal(sshcfg_resolve(cfg, "gw1", &c, &cause), 0);
	assert_string_equal(c.hostname, "gw1.dmz.example.org");
	assert_int_equal(c.port, 2201);
	assert_string_equal(c.user, "fallback");
	assert_int_equal(c.identity_files.n, 6);
	assert_string_equal(c.identity_files.v[2], "/keys/with space");
	assert_string_equal(c.identity_files.v[3], "/keys/single \"q\"");
	assert_string_equal(c.identity_files.v[4], "/keys/dq \"x\" \\ y");
	assert_string_equal(c.identity_files.v[5], "~/.ssh/last_%h");
	assert_string_equal(c.proxy_jump, "bastion,ops@bastion2:2022");
	assert_int_equal(c.hash_known_hosts, 0);
	assert_true(c.files.n >= 2);
	sshcfg_free(&c);
	assert_int_equal(sshcfg_resolve(cfg, "web9.lan", &c, &cause), 0);
	assert_string_equal(c.user, "lanadmin");
	assert_int_equal(c.port, 2202);
	assert_null(c.hostname);
	assert_int_equal(c.identities_only, 1);
	sshcfg_free(&c);
	assert_int_equal(sshcfg_resolve(cfg, "inc-b", &c, &cause), 0);
	assert_string_equal(c.hostname, "included-a.example.org");
	assert_int_equal(c.port, 2301);
	assert_string_equal(c.user, "incuser");
	sshcfg_free(&c);
	assert_int_equal(sshcfg_resolve(cfg, "never-such-host.example", &c, &cause), 0);
	assert_int_equal(c.port, 0);	/* the Match block is skipped */
	assert_string_equal(c.user, "fallback");
	sshcfg_free(&c);
	free(cfg);
}

/* A bad file: FILE:LINE, and ssh -G refuses the same file. */
static void
refused(const char *name, const char *content, unsigned mode, const char *want,
    bool ssh_too)
{
	char *path = put(name, content, mode), *cause = NULL, *cmd;
	struct sshcfg c;

	assert_int_equal(sshcfg_resolve(path, "gw1", &c, &cause), -1);
	assert_non_null(cause);
	print_message("%s\n", cause);
	assert_non_null(strstr(cause, want));
	assert_true(strncmp(cause, path, strlen(path)) == 0 || strstr(cause, "included") != NULL);
	if (ssh_too) {
		cmd = xasprintf("ssh -G -F '%s' gw1 >/dev/null 2>&1", path);
		assert_int_not_equal(system(cmd), 0);
		free(cmd);
	}
	sshcfg_free(&c);
	free(cause);
	free(path);
}

static void
test_refusals(void **state)
{
	char *big, *self, *loose;

	(void)state;
	refused("bad-port", "Host *\n  Port 70000\n", 0600, ":2: Port: '70000'", true);
	refused("bad-quote", "Host gw1\n\n  User \"root\n", 0600, ":3: User: unbalanced", true);
	refused("bad-bool", "HashKnownHosts maybe\n", 0600, ":1: HashKnownHosts", true);
	refused("bad-jump", "Host gw1\n ProxyJump a,,b\n", 0600, ":2: ProxyJump", true);
	refused("bad-empty", "Host gw1\nPort\n", 0600, ":2: no argument", true);
	refused("bad-extra", "Host gw1\n IdentityFile /k/a /k/b\n", 0600,
	    ":2: IdentityFile: extra arguments", true);
	refused("bad-token", "Host gw1\n HostName %x.example\n", 0600, ":2: HostName", false);
	big = xmalloc(SSHCFG_MAX_BYTES + 2);
	memset(big, '#', SSHCFG_MAX_BYTES + 1);
	big[SSHCFG_MAX_BYTES + 1] = '\0';
	refused("bad-big", big, 0600, "larger than", false);
	free(big);
	/* Includes itself: bounded. */
	self = xasprintf("Include %s/bad-self\n", dir);
	refused("bad-self", self, 0600, "nested more than", true);
	free(self);
	/* An included file others may write: refused, as ssh does. */
	free(put("loose.conf", "Port 2222\n", 0666));
	loose = xasprintf("Include %s/loose.conf\n", dir);
	refused("bad-perm", loose, 0600, "bad owner or permissions", true);
	free(loose);
}

static void
test_nul_line(void **state)
{
	/* write_file_atomic takes a length: put a real NUL inside a line. */
	char *path = xasprintf("%s/nul", dir), *cause = NULL;
	static const char data[] = "Host gw1\n  Port 22\0junk\n";
	struct sshcfg c;

	(void)state;
	assert_int_equal(write_file_atomic(path, data, sizeof data - 1, 0600, &cause), 0);
	assert_int_equal(sshcfg_resolve(path, "gw1", &c, &cause), -1);
	assert_non_null(strstr(cause, ":2: NUL byte"));
	free(cause);
	free(path);
}

static void
test_default_files(void **state)
{
	char *home = xasprintf("%s/home", dir), *sshdir = xasprintf("%s/home/.ssh", dir);
	char *cause = NULL, *path;
	struct sshcfg c;

	(void)state;
	assert_int_equal(mkdir(home, 0700), 0);
	assert_int_equal(mkdir(sshdir, 0700), 0);
	setenv("HOME", home, 1);
	/* A relative Include is under ~/.ssh for the user's file. */
	free(put("home/.ssh/config", "Host gw-alias\n  HostName 192.0.2.44\n"
	    "Include conf.d/*\n", 0600));
	path = xasprintf("%s/conf.d", sshdir);
	assert_int_equal(mkdir(path, 0700), 0);
	free(path);
	free(put("home/.ssh/conf.d/x", "Host gw-alias\n  Port 2444\n", 0600));
	assert_int_equal(sshcfg_resolve(NULL, "gw-alias", &c, &cause), 0);
	assert_string_equal(c.hostname, "192.0.2.44");
	assert_int_equal(c.port, 2444);
	path = xasprintf("%s/config", sshdir);
	assert_string_equal(c.files.v[0], path);
	free(path);
	sshcfg_free(&c);
	/* The user's file writable by others: refused. */
	path = xasprintf("%s/config", sshdir);
	chmod(path, 0622);
	assert_int_equal(sshcfg_resolve(NULL, "gw-alias", &c, &cause), -1);
	assert_non_null(strstr(cause, "bad owner or permissions"));
	free(cause);
	chmod(path, 0600);
	free(path);
	free(home);
	free(sshdir);
}

static void
test_expand(void **state)
{
	char *cause = NULL, *s, *want;
	struct passwd *pw = getpwuid(getuid());

	(void)state;
	setenv("HOME", "/home/tester", 1);
	s = sshcfg_expand("~/.ssh/id_%h_%r_%p_%n_%%", "gw1", "gw1.example.org", 2201, "admin",
	    &cause);
	assert_string_equal(s, "/home/tester/.ssh/id_gw1.example.org_admin_2201_gw1_%");
	free(s);
	s = sshcfg_expand("%d/k-%u-%i", "h", "h", 22, "r", &cause);
	want = xasprintf("/home/tester/k-%s-%lu", pw->pw_name, (unsigned long)getuid());
	assert_string_equal(s, want);
	free(want);
	free(s);
	assert_null(sshcfg_expand("/k/%Q", "h", "h", 22, "r", &cause));
	assert_non_null(strstr(cause, "unknown %-token '%Q'"));
	free(cause);
}

static void
test_jump(void **state)
{
	struct sshcfg_hop *h;
	size_t n;
	char *cause = NULL;

	(void)state;
	assert_int_equal(sshcfg_parse_jump("bast,ops@b2:2022,[2001:db8::1]:2200,"
	    "ssh://u@b4:44,2001:db8::5", &h, &n, &cause), 0);
	assert_int_equal(n, 5);
	assert_string_equal(h[0].host, "bast");
	assert_null(h[0].user);
	assert_int_equal(h[0].port, 0);
	assert_string_equal(h[1].user, "ops");
	assert_string_equal(h[1].host, "b2");
	assert_int_equal(h[1].port, 2022);
	assert_string_equal(h[2].host, "2001:db8::1");
	assert_int_equal(h[2].port, 2200);
	assert_string_equal(h[3].user, "u");
	assert_int_equal(h[3].port, 44);
	assert_string_equal(h[4].host, "2001:db8::5");
	sshcfg_hops_free(h, n);
	static const char *const bad[] = { "", "a,,b", "a,", "@b", "u@:22", "h:0", "h:x",
	    "h;rm", "[::1", "a,b,c,d,e,f,g,h,i" };
	for (size_t i = 0; i < nitems(bad); i++) {
		assert_int_equal(sshcfg_parse_jump(bad[i], &h, &n, &cause), -1);
		assert_non_null(cause);
		free(cause);
		cause = NULL;
	}
}

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/mxdeck-sshcfg-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	(void)state;
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_ssh_g),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_nul_line),
		cmocka_unit_test(test_default_files),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_jump),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/* fuzz_sshconfig.c: ssh_config resolution (sshconfig.c) on arbitrary bytes (libFuzzer).
 *
 * The bytes are one -F file, resolved for a few host names; the same bytes (up to the
 * first NUL, bounded) are also a ProxyJump list and a path to expand. Invariants: a
 * result is either an error naming the file, or settings within their ranges (port
 * 0..65535, at most 100 identity files, at most 16 known hosts files per list, a
 * ProxyJump that parses again); a parsed ProxyJump has 1..8 hops, each with a host.
 * HOME points at an empty directory, so relative Includes find nothing.
 *
 * Built by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "backends/ssh/sshconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_sshconfig: invariant violated: %s\n", what);
		abort();
	}
}

static char dir[64], path[96];

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const hosts[] = { "gw1", "web1.lan", "GW2", "bastion", "x" };
	char *s, *cause = NULL;
	FILE *f;

	if (dir[0] == '\0') {
		strcpy(dir, "/tmp/mxdeck-fuzz-sshcfg-XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof path, "%s/config", dir);
		setenv("HOME", dir, 1);
		atexit(cleanup);
	}
	if (size > 65536)
		return 0;
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
		struct sshcfg c;

		if (sshcfg_resolve(path, hosts[i], &c, &cause) == -1) {
			check(cause != NULL && strncmp(cause, "/", 1) == 0, "an error without a file");
			free(cause);
			cause = NULL;
			sshcfg_free(&c);
			continue;
		}
		check(c.port >= 0 && c.port <= 65535, "port out of range");
		check(c.identity_files.n <= 100, "more than 100 identity files");
		check(c.user_known_hosts.n <= 16 && c.global_known_hosts.n <= 16,
		    "more than 16 known hosts files");
		if (c.proxy_jump != NULL && strcasecmp(c.proxy_jump, "none") != 0) {
			struct sshcfg_hop *h;
			size_t n;

			check(sshcfg_parse_jump(c.proxy_jump, &h, &n, &cause) == 0,
			    "a ProxyJump kept that does not parse");
			sshcfg_hops_free(h, n);
		}
		sshcfg_free(&c);
	}
	s = strndup((const char *)data, size < 4096 ? size : 4096);
	if (s == NULL)
		abort();
	{
		struct sshcfg_hop *h;
		size_t n;

		if (sshcfg_parse_jump(s, &h, &n, &cause) == 0) {
			check(n >= 1 && n <= SSHCFG_MAX_HOPS, "hop count");
			for (size_t i = 0; i < n; i++)
				check(h[i].host != NULL && h[i].host[0] != '\0', "a hop without a host");
			sshcfg_hops_free(h, n);
		} else {
			check(cause != NULL, "a ProxyJump error without a cause");
			free(cause);
			cause = NULL;
		}
	}
	{
		char *x = sshcfg_expand(s, "h", "h.example", 22, "r", &cause);

		check((x == NULL) == (cause != NULL), "expand: result and cause disagree");
		free(x);
		free(cause);
	}
	free(s);
	return 0;
}

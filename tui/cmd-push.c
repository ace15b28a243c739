/* cmd-push.c: `mxdeck plan`, `apply`, `--batch [--dry-run]` and `audit`: run the push
 * protocol (backends/ssh/push.c) on every selected host in parallel and report. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>
#include <openssl/evp.h>

#include "backends/probe/probe.h"
#include "backends/ssh/push.h"
#include "profiles/site.h"
#include "tui/cli.h"

#define JOBS_MAX	16

struct job {
	const struct site *site;
	const struct host **hosts;
	struct push_result *results;
	size_t	 n;
	size_t	 next;
	const struct push_opts *opts;
	pthread_mutex_t mu;
	FILE	*progress;	/* per-host "done" lines as they finish, or NULL */
};

static void *
worker(void *arg)
{
	struct job *j = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&j->mu);
		i = j->next++;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->n)
			break;
		push_host(j->site, j->hosts[i], j->opts, &j->results[i]);
		if (j->progress != NULL) {
			pthread_mutex_lock(&j->mu);
			fprintf(j->progress, "mxdeck: %s: %s (%.2fs)\n", j->hosts[i]->name,
			    j->results[i].summary ? j->results[i].summary : "?",
			    j->results[i].seconds);
			fflush(j->progress);
			pthread_mutex_unlock(&j->mu);
		}
	}
	return NULL;
}

/* Run opts->mode on every host, at most jobs at a time. */
static void
run_hosts(const struct site *site, const struct host **hosts, size_t n, int jobs,
    const struct push_opts *opts, struct push_result *results, FILE *progress)
{
	struct job j;
	pthread_t *th;
	size_t nth;

	memset(&j, 0, sizeof j);
	j.site = site;
	j.hosts = hosts;
	j.results = results;
	j.n = n;
	j.opts = opts;
	j.progress = progress;
	pthread_mutex_init(&j.mu, NULL);
	for (size_t i = 0; i < n; i++)
		push_result_init(&results[i]);
	nth = jobs > 0 ? (size_t)jobs : n;
	if (nth > JOBS_MAX && jobs <= 0)
		nth = JOBS_MAX;
	if (nth > n)
		nth = n;
	if (nth <= 1) {
		worker(&j);
	} else {
		th = xcalloc(nth, sizeof *th);
		for (size_t i = 0; i < nth; i++)
			if (pthread_create(&th[i], NULL, worker, &j) != 0)
				fatal("pthread_create: %s", strerror(errno));
		for (size_t i = 0; i < nth; i++)
			pthread_join(th[i], NULL);
		free(th);
	}
	pthread_mutex_destroy(&j.mu);
}

static char *
profile_hash(const char *path)
{
	char *cause = NULL, *buf;
	size_t len;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct sbuf b;

	buf = read_file(path, &len, &cause);
	if (buf == NULL) {
		free(cause);
		return xstrdup("-");
	}
	EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
	free(buf);
	sb_init(&b);
	sb_add(&b, "sha256:");
	for (unsigned int i = 0; i < mdlen; i++)
		sb_addf(&b, "%02x", md[i]);
	return sb_steal(&b);
}

static void
json_str(struct sbuf *b, const char *s)
{
	sb_addc(b, '"');
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			sb_addf(b, "\\%c", c);
		else if (c == '\n')
			sb_add(b, "\\n");
		else if (c == '\t')
			sb_add(b, "\\t");
		else if (c < 0x20)
			sb_addf(b, "\\u%04x", c);
		else
			sb_addc(b, (char)c);
	}
	sb_addc(b, '"');
}

static void
json_strv(struct sbuf *b, const struct strv *sv)
{
	sb_addc(b, '[');
	for (size_t i = 0; i < sv->n; i++) {
		if (i > 0)
			sb_addc(b, ',');
		json_str(b, sv->v[i]);
	}
	sb_addc(b, ']');
}

static const char *
exit_word(const struct push_result *r)
{
	if (r->failed)
		return "failed";
	switch (r->exit) {
	case EXIT_OK:			return "ok";
	case EXIT_DRIFT:		return "drift";
	case EXIT_USAGE:		return "profile-error";
	case EXIT_UNREACHABLE:		return "unreachable";
	case EXIT_ROLLEDBACK:		return "rolled-back";
	case EXIT_ROLLBACK_FAILED:	return "ROLLBACK-FAILED";
	}
	return "?";
}

static void
report_human(FILE *f, const char *verb, const struct host **hosts,
    const struct push_result *res, size_t n, bool show_diff)
{
	for (size_t i = 0; i < n; i++) {
		const struct push_result *r = &res[i];

		fprintf(f, "=== host %s (%s): %s: %s\n", hosts[i]->name,
		    hosts[i]->local ? "local" : hosts[i]->address, exit_word(r),
		    r->summary ? r->summary : "");
		if (r->exit == EXIT_ROLLBACK_FAILED)
			fprintf(f, "!!! host %s: THE ROLLBACK FAILED: the host is in a mixed state; "
			    "see above\n", hosts[i]->name);
		for (size_t k = 0; k < r->notes.n; k++)
			fprintf(f, "    note: %s\n", r->notes.v[k]);
		for (size_t k = 0; k < r->changes.n; k++)
			fprintf(f, "    %s %s\n", r->exit == EXIT_OK && r->applied ? "changed:" :
			    "change:", r->changes.v[k]);
		if (show_diff && r->diff.len > 0)
			fputs(r->diff.s, f);
	}
	{
		size_t nok = 0, ndrift = 0, nbad = 0, napplied = 0;

		for (size_t i = 0; i < n; i++) {
			if (res[i].exit == EXIT_OK) {
				nok++;
				if (res[i].applied)
					napplied++;
			} else if (res[i].exit == EXIT_DRIFT)
				ndrift++;
			else
				nbad++;
		}
		if (strcmp(verb, "apply") == 0)
			/* An applied host exits 0: "with changes" would always read 0. */
			fprintf(f, "mxdeck: %s: %zu host%s: %zu applied, %zu already in sync, "
			    "%zu failed\n", verb, n, n == 1 ? "" : "s", napplied, nok - napplied,
			    nbad);
		else
			fprintf(f, "mxdeck: %s: %zu host%s: %zu in sync, %zu with changes, "
			    "%zu failed\n", verb, n, n == 1 ? "" : "s", nok, ndrift, nbad);
	}
}

static void
report_json(struct sbuf *b, const struct host **hosts, const struct push_result *res,
    size_t n)
{
	sb_add(b, "\"hosts\":[");
	for (size_t i = 0; i < n; i++) {
		const struct push_result *r = &res[i];

		if (i > 0)
			sb_add(b, ",\n");
		sb_add(b, "{\"name\":");
		json_str(b, hosts[i]->name);
		sb_add(b, ",\"address\":");
		json_str(b, hosts[i]->local ? "local" : hosts[i]->address);
		sb_addf(b, ",\"exit\":%d,\"status\":", r->exit);
		json_str(b, exit_word(r));
		sb_add(b, ",\"summary\":");
		json_str(b, r->summary);
		sb_addf(b, ",\"applied\":%s,\"seconds\":%.3f,\"postfix_version\":",
		    r->applied ? "true" : "false", r->seconds);
		json_str(b, r->postfix_version);
		sb_add(b, ",\"backup\":");
		if (r->backup != NULL)
			json_str(b, r->backup);
		else
			sb_add(b, "null");
		sb_add(b, ",\"changes\":");
		json_strv(b, &r->changes);
		sb_add(b, ",\"notes\":");
		json_strv(b, &r->notes);
		sb_add(b, ",\"diff\":");
		json_str(b, r->diff.s);
		sb_addc(b, '}');
	}
	sb_add(b, "]");
}

static int
worst(const struct push_result *res, size_t n)
{
	int rc = EXIT_OK;

	for (size_t i = 0; i < n; i++)
		if (res[i].exit > rc)
			rc = res[i].exit;
	return rc;
}

/* Select hosts by --host; prints and returns -1 for a name the profile lacks. */
static int
select_hosts(const struct cli *cli, const struct site *site, const struct host ***out,
    size_t *np)
{
	const struct host **v = xcalloc(site->nhosts + 1, sizeof *v);
	size_t n = 0;

	for (size_t i = 0; i < cli->hosts.n; i++)
		if (site_find_host(site, cli->hosts.v[i]) == NULL) {
			fprintf(stderr, "mxdeck: --host %s: no [host \"%s\"] in %s\n",
			    cli->hosts.v[i], cli->hosts.v[i], cli->profile);
			free(v);
			return -1;
		}
	for (size_t i = 0; i < site->nhosts; i++)
		if (cli->hosts.n == 0 || strv_has(&cli->hosts, site->hosts[i].name))
			v[n++] = &site->hosts[i];
	if (n == 0) {
		fprintf(stderr, "mxdeck: %s: the profile has no [host] to push to\n",
		    cli->profile);
		free(v);
		return -1;
	}
	*out = v;
	*np = n;
	return 0;
}

static void
probe_cb_human(const struct probe_result *r, void *arg)
{
	struct strv *objs = ((void **)arg)[0];
	FILE *f = ((void **)arg)[1];

	fprintf(f, "  %-4s %-6s %-24s %s%s%s\n", probe_status_names[r->status], r->kind,
	    r->name, r->host ? r->host : "", r->host ? ": " : "", r->summary);
	strv_push_owned(objs, probe_result_json(r));
}

enum mode { M_PLAN, M_APPLY, M_BATCH, M_DRY, M_AUDIT };

static int
run(struct cli *cli, enum mode mode)
{
	struct site *site;
	const struct host **hosts = NULL;
	struct push_result *res = NULL;
	struct push_opts o;
	char ctl[256], *hash;
	size_t n = 0;
	int rc;
	FILE *human = cli->json ? stderr : stdout;
	const char *verb = mode == M_PLAN || mode == M_DRY ? "plan" :
	    mode == M_AUDIT ? "audit" : "apply";
	struct sbuf json;
	struct probe_summary psum;
	bool probed = false;
	struct strv pobjs = { 0 };

	if (mode == M_APPLY && !cli->yes && (!isatty(0) || !isatty(2))) {
		fprintf(stderr, "mxdeck: apply: not on a terminal, so nobody can confirm; add "
		    "--yes (or use --batch) to apply without asking\n");
		return EXIT_USAGE;
	}
	if ((site = cli_load_site(cli)) == NULL)
		return EXIT_USAGE;
	if (select_hosts(cli, site, &hosts, &n) == -1) {
		site_free(site);
		free(site);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	if (libssh2_init(0) != 0)
		fatal("libssh2_init failed");
	if (gethostname(ctl, sizeof ctl) == -1)
		strcpy(ctl, "localhost");
	ctl[sizeof ctl - 1] = '\0';
	hash = profile_hash(cli->profile);
	memset(&o, 0, sizeof o);
	o.known_hosts = cli->known_hosts;
	o.identity = cli->identity;
	o.accept_new = cli->accept_new_host_keys;
	o.profile_hash = hash;
	o.controller = ctl;
	o.pid = (long)getpid();
	o.connect_timeout = 10;
	o.timeout = 60;
	res = xcalloc(n, sizeof *res);

	if (mode == M_APPLY && !cli->yes) {
		/* Show the plan, ask, then apply (the apply plans again under the lock). */
		char answer[16];
		bool any = false;

		o.mode = PUSH_PLAN;
		run_hosts(site, hosts, n, cli->jobs, &o, res, NULL);
		report_human(stderr, "plan", hosts, res, n, true);
		for (size_t i = 0; i < n; i++)
			if (res[i].exit == EXIT_DRIFT)
				any = true;
		rc = worst(res, n);
		for (size_t i = 0; i < n; i++)
			push_result_free(&res[i]);
		if (!any) {
			fprintf(stderr, "mxdeck: nothing to apply\n");
			goto out;
		}
		fprintf(stderr, "Apply these changes? [y/N] ");
		fflush(stderr);
		if (fgets(answer, sizeof answer, stdin) == NULL ||
		    (answer[0] != 'y' && answer[0] != 'Y')) {
			fprintf(stderr, "mxdeck: not applied\n");
			rc = EXIT_OK;
			goto out;
		}
	}
	o.mode = mode == M_PLAN || mode == M_DRY ? PUSH_PLAN :
	    mode == M_AUDIT ? PUSH_AUDIT : PUSH_APPLY;
	run_hosts(site, hosts, n, cli->jobs, &o, res, cli->verbose ? stderr : NULL);
	report_human(human, verb, hosts, res, n, mode != M_APPLY && mode != M_BATCH ?
	    true : cli->verbose > 0);
	rc = worst(res, n);

	if (mode == M_AUDIT) {
		struct probe_opts po;
		struct probe_list *pl = NULL;
		char *cause = NULL;
		void *cbarg[2] = { &pobjs, human };

		const char *kinds = getenv("MXDECK_PROBES");
		const char *pt = getenv("MXDECK_PROBE_TIMEOUT");

		memset(&po, 0, sizeof po);
		po.hosts = &cli->hosts;
		po.jobs = cli->jobs;
		/* The same knobs as `mxdeck test`. */
		if (pt != NULL && *pt != '\0')
			po.timeout = atof(pt);
		if (kinds != NULL && *kinds != '\0' &&
		    probe_kinds_parse(kinds, &po.kinds, &cause) != 0) {
			fprintf(stderr, "mxdeck: MXDECK_PROBES: %s\n", cause);
			free(cause);
			cause = NULL;
			po.kinds = 0;
		}
		if (probe_list_build(site, &po, &pl, &cause) != 0) {
			fprintf(stderr, "mxdeck: audit: live tests: %s\n", cause);
			free(cause);
		} else {
			fprintf(human, "mxdeck: audit: live tests (%zu probes)\n",
			    probe_list_count(pl));
			probe_run(pl, &po, probe_cb_human, cbarg, &psum);
			probed = true;
			fprintf(human, "mxdeck: audit: %zu probes: %zu ok, %zu warn, %zu fail\n",
			    psum.n, psum.nok, psum.nwarn, psum.nfail);
			if (psum.nfail > 0 && rc < EXIT_DRIFT)
				rc = EXIT_DRIFT;
			probe_list_free(pl);
		}
	}
	if (cli->json) {
		sb_init(&json);
		sb_add(&json, "{\"command\":");
		json_str(&json, verb);
		sb_add(&json, ",\"profile\":");
		json_str(&json, cli->profile);
		sb_add(&json, ",\"profile_hash\":");
		json_str(&json, hash);
		sb_addf(&json, ",\"exit\":%d,\n", rc);
		report_json(&json, hosts, res, n);
		if (probed) {
			sb_add(&json, ",\n\"tests\":[");
			for (size_t i = 0; i < pobjs.n; i++)
				sb_addf(&json, "%s%s", i ? ",\n" : "", pobjs.v[i]);
			sb_addf(&json, "],\"tests_summary\":{\"probes\":%zu,\"ok\":%zu,"
			    "\"warn\":%zu,\"fail\":%zu}", psum.n, psum.nok, psum.nwarn, psum.nfail);
		}
		sb_add(&json, "}\n");
		fputs(json.s, stdout);
		sb_free(&json);
	}
	for (size_t i = 0; i < n; i++)
		push_result_free(&res[i]);
out:
	strv_free(&pobjs);
	free(res);
	free(hash);
	free(hosts);
	libssh2_exit();
	site_free(site);
	free(site);
	return rc;
}

int
cmd_plan(struct cli *cli)
{
	return run(cli, M_PLAN);
}

int
cmd_apply(struct cli *cli)
{
	return run(cli, M_APPLY);
}

int
cmd_batch(struct cli *cli)
{
	return run(cli, cli->dry_run ? M_DRY : M_BATCH);
}

int
cmd_audit(struct cli *cli)
{
	return run(cli, M_AUDIT);
}

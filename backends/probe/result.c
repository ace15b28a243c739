/* result.c: probe results (pr_*), their copies and JSON form, and the monotonic clock.
 * Includes nothing from backends/probe/ but its own header and the public probe.h. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/probe/result.h"
#include "profiles/tlsproto.h"

const char *const probe_status_names[3] = { "ok", "warn", "fail" };

static void sanitize(struct sbuf *b, bool newlines);

double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- results ---- */

static void
raise_status(struct presult *r, enum probe_status st)
{
	if (st > r->status)
		r->status = st;
}

void
pr_note(struct presult *r, enum probe_status st, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	raise_status(r, st);
	/* One line per line of the message; continuation lines indented. */
	{
		char *line, *p = s;
		bool first = true;

		while ((line = strsep(&p, "\n")) != NULL) {
			if (*line == '\0' && !first)
				continue;
			sb_addf(&r->details, "%-4s %s\n", first ?
			    probe_status_names[st] : "", line);
			first = false;
		}
	}
	free(s);
}

void
pr_summary(struct presult *r, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	sb_reset(&r->summary);
	sb_add(&r->summary, s);
	free(s);
}

void
pr_sumadd(struct presult *r, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	if (r->summary.len > 0)
		sb_add(&r->summary, ", ");
	sb_add(&r->summary, s);
	free(s);
}

void
pr_reach(struct presult *r, bool ok)
{
	if (ok)
		r->nreached++;
	else
		r->nunreached++;
}

bool
pr_expired(const struct presult *r)
{
	return mono_now() >= r->deadline ||
	    (r->cancel != NULL && atomic_load(r->cancel) != 0);
}

void
pr_init(struct presult *r, double deadline, atomic_int *cancel, struct probe_ctx *ctx)
{
	memset(r, 0, sizeof *r);
	sb_init(&r->summary);
	sb_init(&r->details);
	r->deadline = deadline;
	r->cancel = cancel;
	r->ctx = ctx;
}

void
pr_sanitize(struct presult *r)
{
	sanitize(&r->summary, false);
	sanitize(&r->details, true);
}

/* Text a server sent reaches the result only as printable text, through the one
 * terminal sanitizer (util.h sb_add_printable_n: controls, C1, bytes that are not
 * UTF-8, bidi controls and line separators made visible), so no reply can drive or
 * reorder the admin's terminal. */
static void
sanitize(struct sbuf *b, bool newlines)
{
	struct sbuf o;

	if (b->s == NULL)
		return;
	sb_init(&o);
	sb_add_printable_n(&o, b->s, b->len, newlines);
	sb_free(b);
	*b = o;
}


static void
cert_copy(struct probe_cert *d, const struct probe_cert *c, bool clean)
{
	struct sbuf b;

	*d = *c;
	sb_init(&b);
	sb_add(&b, c->subject != NULL ? c->subject : "");
	if (clean)
		sanitize(&b, false);
	d->subject = b.s != NULL ? sb_steal(&b) : xstrdup("");
	d->key_type = xstrdup(c->key_type != NULL ? c->key_type : "unknown");
	d->key_group = xstrdup(c->key_group != NULL ? c->key_group : "");
	d->signature = xstrdup(c->signature != NULL ? c->signature : "unknown");
}

static void
certs_free(struct probe_cert *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free((char *)v[i].subject);
		free((char *)v[i].key_type);
		free((char *)v[i].key_group);
		free((char *)v[i].signature);
	}
	free(v);
}

void
pr_free(struct presult *r)
{
	sb_free(&r->summary);
	sb_free(&r->details);
	certs_free(r->certs, r->ncerts);
	r->certs = NULL;
	r->ncerts = 0;
}

void
pr_cert(struct presult *r, const struct probe_cert *c)
{
	r->certs = xrealloc(r->certs, (r->ncerts + 1) * sizeof *r->certs);
	cert_copy(&r->certs[r->ncerts++], c, true);
}

struct probe_result *
probe_result_dup(const struct probe_result *r)
{
	struct probe_result *d = xmalloc(sizeof *d);
	struct probe_cert *certs = NULL;
	size_t i;

	*d = *r;
	d->name = xstrdup(r->name);
	d->host = r->host != NULL ? xstrdup(r->host) : NULL;
	d->target = xstrdup(r->target);
	d->summary = xstrdup(r->summary);
	d->details = xstrdup(r->details);
	if (r->ncerts > 0) {
		certs = xcalloc(r->ncerts, sizeof *certs);
		for (i = 0; i < r->ncerts; i++)
			cert_copy(&certs[i], &r->certs[i], false);
	}
	d->certs = certs;
	return d;
}

void
probe_result_free(struct probe_result *r)
{
	if (r == NULL)
		return;
	free((char *)r->name);
	free((char *)r->host);
	free((char *)r->target);
	free((char *)r->summary);
	free((char *)r->details);
	certs_free((struct probe_cert *)r->certs, r->ncerts);
	free(r);
}

void
probe_summary_json(struct sbuf *b, const struct probe_summary *s)
{
	sb_addf(b, "\"summary\":{\"probes\":%zu,\"ok\":%zu,\"warn\":%zu,\"fail\":%zu,"
	    "\"handshakes\":%d,\"wall\":%.3f}", s->n, s->nok, s->nwarn, s->nfail,
	    s->handshakes, s->wall);
}

char *
probe_result_json(const struct probe_result *r)
{
	struct sbuf b;

	struct sbuf id;
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;

	/* A stable check id: the same check of the same profile has the same id in every
	 * run and in test and audit alike. */
	sb_init(&id);
	if (strcmp(r->kind, "login") == 0) {
		/* login/USER/PROTO/WHERE (name is "USER PROTO"): the host, or the vhost
		 * for the protocols behind the proxy */
		const char *where = r->host != NULL ? r->host : r->target;

		if (strncmp(where, "https://", 8) == 0)
			where += 8;
		sb_addf(&id, "login/%s/%s", r->name, where);
		for (char *p = id.s; *p != '\0'; p++)
			if (*p == ' ')
				*p = '/';
	} else {
		sb_addf(&id, "%s/%s/%s/%s", r->kind, r->name, r->host != NULL ? r->host :
		    "site", r->target);
		for (char *p = id.s; *p != '\0'; p++)
			if (*p == ' ')
				*p = '-';
	}
	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	sb_init(&b);
	sb_add(&b, "{\"id\":");
	sb_json_string(&b, id.s);
	sb_free(&id);
	sb_addf(&b, ",\"time\":\"%s\",\"status\":", ts);
	sb_json_string(&b, probe_status_names[r->status]);
	sb_add(&b, ",\"kind\":");
	sb_json_string(&b, r->kind);
	sb_add(&b, ",\"name\":");
	sb_json_string(&b, r->name);
	sb_add(&b, ",\"host\":");
	if (r->host != NULL)
		sb_json_string(&b, r->host);
	else
		sb_add(&b, "null");
	sb_add(&b, ",\"target\":");
	sb_json_string(&b, r->target);
	sb_add(&b, ",\"summary\":");
	sb_json_string(&b, r->summary);
	sb_add(&b, ",\"details\":");
	sb_json_string(&b, r->details);
	if (r->ncerts > 0) {
		size_t i;

		sb_add(&b, ",\"certs\":[");
		for (i = 0; i < r->ncerts; i++) {
			const struct probe_cert *c = &r->certs[i];

			sb_addf(&b, "%s{\"depth\":%d,\"subject\":", i > 0 ? "," : "",
			    c->depth);
			sb_json_string(&b, c->subject);
			sb_add(&b, ",\"key_type\":");
			sb_json_string(&b, c->key_type);
			sb_add(&b, ",\"key_group\":");
			sb_json_string(&b, c->key_group);
			sb_addf(&b, ",\"key_bits\":%d,\"security_bits\":%d,\"signature\":",
			    c->key_bits, c->security_bits);
			sb_json_string(&b, c->signature);
			sb_addf(&b, ",\"signature_security_bits\":%d,\"self_signed\":%s}",
			    c->signature_security_bits, c->self_signed ? "true" : "false");
		}
		sb_add(&b, "]");
	}
	sb_addf(&b, ",\"duration\":%.3f,\"duration_ms\":%.0f,\"handshakes\":%d,\"reach\":%d",
	    r->duration, r->duration * 1000, r->handshakes, r->reach);
	if (r->has_cert_days)
		sb_addf(&b, ",\"cert_days\":%d", r->cert_days);
	if (r->has_handshake)
		sb_addf(&b, ",\"handshake_ms\":%.3f", r->handshake_ms);
	if (r->protocol[0] != '\0') {
		sb_add(&b, ",\"protocol\":");
		sb_json_string(&b, r->protocol);
	}
	if (r->cipher[0] != '\0') {
		sb_add(&b, ",\"cipher\":");
		sb_json_string(&b, r->cipher);
	}
	if (r->has_protocols) {
		/* The sets as arrays of names, oldest first. */
		static const struct {
			const char *key;
			int	 which;
		} sets[] = { { "accepted", 0 }, { "refused", 1 }, { "allowed", 2 } };

		sb_add(&b, ",\"protocols\":{");
		for (size_t k = 0; k < nitems(sets); k++) {
			bool first = true;

			sb_addf(&b, "%s\"%s\":[", k > 0 ? "," : "", sets[k].key);
			for (int v = TLSP_TLSV1; v < TLSP_COUNT; v++) {
				unsigned bit = TLSP_BIT(v);
				bool in = sets[k].which == 0 ? (r->tls_accepted & bit) != 0 :
				    sets[k].which == 1 ? (r->tls_accepted & bit) == 0 :
				    (r->tls_allowed & bit) != 0;

				if (!in)
					continue;
				sb_addf(&b, "%s", first ? "" : ",");
				sb_json_string(&b, tls_proto_names[v]);
				first = false;
			}
			sb_addc(&b, ']');
		}
		sb_addc(&b, '}');
	}
	sb_addc(&b, '}');
	return sb_steal(&b);
}


/* hsts.c: the "hsts" probe kind: the Strict-Transport-Security header (RFC 6797) on the
 * OWA and ECP paths of every vhost that proxies them, where browsers keep a session
 * cookie that a downgrade to http would expose. Fails without a valid header or with
 * max-age=0; warns below 180 days (15552000 s, the common scanners' minimum). */
#include <stdlib.h>
#include <string.h>

#include "backends/probe/parse.h"
#include "backends/probe/probe-int.h"

#define HSTS_MIN_AGE	15552000LL	/* 180 days */

void
probe_hsts_run(struct probe *p, struct presult *r)
{
	const char *path = p->variant == SVC_ECP ? "/ecp/" : "/owa/";
	struct curl_slist *sl = NULL;
	struct http_body b;
	char *cause = NULL, val[1024];
	long status = 0;
	long long age;
	bool sub;
	CURLcode cc;
	CURL *h;

	memset(&b, 0, sizeof b);
	sb_init(&b.b);
	sb_init(&b.hdr);
	if ((h = http_handle(p, r, "https", p->domain, 0, path, &b, &sl, &cause)) == NULL) {
		pr_note(r, PROBE_FAIL, "%s", cause);
		pr_summary(r, "%s does not resolve", p->domain);
		free(cause);
		goto out;
	}
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	if (cc != CURLE_OK) {
		pr_note(r, PROBE_FAIL, "GET %s: %s", path, curl_easy_strerror(cc));
		pr_summary(r, "%s", curl_easy_strerror(cc));
		goto out;
	}
	pr_reach(r, true);
	if (b.hdr.len == 0) {
		pr_note(r, PROBE_FAIL, "GET %s: no response headers", path);
		pr_summary(r, "no response headers");
		goto out;
	}
	if (!header_value(b.hdr.s, "Strict-Transport-Security", val, sizeof val)) {
		pr_note(r, PROBE_FAIL, "GET %s: HTTP %ld without Strict-Transport-Security: a "
		    "browser that once types http:// can be downgraded and lose the session "
		    "cookie", path, status);
		pr_summary(r, "NO HSTS (HTTP %ld)", status);
		goto out;
	}
	if (hsts_parse(val, &age, &sub, &cause) != 0) {
		pr_note(r, PROBE_FAIL, "Strict-Transport-Security: %s: invalid (%s), browsers "
		    "ignore it", val, cause);
		pr_summary(r, "INVALID HSTS (%s)", cause);
		free(cause);
	} else if (age == 0) {
		pr_note(r, PROBE_FAIL, "Strict-Transport-Security: %s: max-age=0 tells "
		    "browsers to forget HSTS", val);
		pr_summary(r, "HSTS DISABLED (max-age=0)");
	} else if (age < HSTS_MIN_AGE) {
		pr_note(r, PROBE_WARN, "Strict-Transport-Security: %s: max-age %lld s is less "
		    "than 180 days (%lld s)", val, age, HSTS_MIN_AGE);
		pr_summary(r, "HSTS max-age %lld s (short)", age);
	} else {
		pr_note(r, PROBE_OK, "Strict-Transport-Security: %s", val);
		pr_summary(r, "HSTS max-age %lld s%s", age, sub ? ", includeSubDomains" : "");
	}
out:
	curl_slist_free_all(sl);
	sb_free(&b.b);
	sb_free(&b.hdr);
}

/* The OWA and ECP paths of every vhost that serves them (site-wide). */
void
hsts_build(struct probe_build *b)
{
	static const struct { int svc; const char *name, *path; } paths[] = {
		{ SVC_OWA, "hsts owa", "/owa/" }, { SVC_ECP, "hsts ecp", "/ecp/" },
	};
	struct probe *p;
	size_t i, j;

	if (b->host != NULL)
		return;
	for (i = 0; i < b->site->nvhosts; i++) {
		const struct vhost *vh = &b->site->vhosts[i];

		for (j = 0; j < nitems(paths); j++) {
			if ((vh->services & SVC_BIT(paths[j].svc)) == 0)
				continue;
			p = probe_add(b, xstrdup(paths[j].name), xasprintf("https://%s%s",
			    vh->name, paths[j].path));
			p->domain = xstrdup(vh->name);
			p->variant = paths[j].svc;
		}
	}
}

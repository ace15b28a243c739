/* http.c: HTTP probes through libcurl: Autodiscover POST (outlook 2006a and mobilesync
 * 2006, every path case variant), ActiveSync OPTIONS, OWA. Names are resolved by ldns
 * through the profile's resolver; libcurl connects to that address (CURLOPT_CONNECT_TO,
 * which also maps 443 to a host's probe_ports https port) and keeps Host and SNI. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "backends/probe/parse.h"
#include "backends/probe/probe-int.h"

static const char *const ad_paths[] = {
	"/autodiscover/autodiscover.xml",
	"/Autodiscover/Autodiscover.xml",
	"/AutoDiscover/AutoDiscover.xml",
};

struct body {
	struct sbuf b;
	struct sbuf hdr;
};

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct body *b = arg;

	if (b->b.len + sz * n > 1024 * 1024)
		return (0);	/* an Autodiscover answer is never that big */
	sb_addn(&b->b, p, sz * n);
	return (sz * n);
}

static size_t
on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct body *b = arg;

	if (b->hdr.len < 64 * 1024)
		sb_addn(&b->hdr, p, sz * n);
	return (sz * n);
}

static bool
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return (false);
	if (a->ss_family == AF_INET)
		return (memcmp(&((const struct sockaddr_in *)a)->sin_addr,
		    &((const struct sockaddr_in *)b)->sin_addr, sizeof(struct in_addr)) == 0);
	return (memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0);
}

/* The port to use for https on addr: a profile host at that address with an https
 * probe port, else 443. */
static int
https_port(struct probe *p, struct presult *r, const struct sockaddr_storage *addr)
{
	const struct site *site = p->ctx->site;
	struct addrs ha;
	char *cause = NULL;
	size_t i, j, k;

	for (i = 0; i < site->nhosts; i++) {
		const struct host *h = &site->hosts[i];

		for (j = 0; j < h->nprobe_ports; j++) {
			if (strcmp(h->probe_ports[j].service, "https") != 0)
				continue;
			if (net_host_addrs(p->ctx, h, r->deadline, &ha, &cause) != 0) {
				free(cause);
				cause = NULL;
				continue;
			}
			for (k = 0; k < ha.n; k++) {
				if (same_addr(&ha.a[k], addr))
					return (h->probe_ports[j].port);
			}
		}
	}
	return (443);
}

/* Prepare an easy handle for https://name/path; -1 + cause when name does not resolve. */
static CURL *
http_handle(struct probe *p, struct presult *r, const char *name, const char *path,
    struct body *b, struct curl_slist **sl, char **cause)
{
	struct addrs a;
	char ab[INET6_ADDRSTRLEN + 2], *url, *ct;
	const char *ca;
	double left;
	int port;
	CURL *h;

	if (net_resolve(p->ctx, name, r->deadline, &a, cause) != 0)
		return (NULL);
	addr_fmt(&a.a[0], ab, sizeof ab);
	port = https_port(p, r, &a.a[0]);
	if ((h = curl_easy_init()) == NULL)
		fatal("curl_easy_init failed");
	url = xasprintf("https://%s%s", name, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	free(url);
	if (a.a[0].ss_family == AF_INET6)
		ct = xasprintf("%s:443:[%s]:%d", name, ab, port);
	else
		ct = xasprintf("%s:443:%s:%d", name, ab, port);
	*sl = curl_slist_append(NULL, ct);
	sb_addf(&r->details, "     connect to %s\n", ct);
	free(ct);
	curl_easy_setopt(h, CURLOPT_CONNECT_TO, *sl);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	left = r->deadline - mono_now();
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(left > 0.05 ? left * 1000 : 50));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, b);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "mxdeck-probe/" MXDECK_VERSION);
	if ((ca = getenv("SSL_CERT_FILE")) != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	return (h);
}

static const char *
probe_email(struct probe *p)
{
	const struct site *site = p->ctx->site;
	const char *at;
	size_t i;

	for (i = 0; i < site->nusers; i++) {
		at = strchr(site->users[i].email, '@');
		if (at != NULL && str_ieq(at + 1, p->ad->domain))
			return (site->users[i].email);
	}
	return (NULL);
}

void
probe_http_autodiscover_run(struct probe *p, struct presult *r)
{
	struct curl_slist *sl = NULL, *hdrs = NULL;
	struct body b;
	struct sbuf probs;
	const char *user = probe_email(p);
	char *email = user != NULL ? xstrdup(user) :
	    xasprintf("mxdeck.probe@%s", p->ad->domain);
	char *cause = NULL, *req;
	size_t i, nreq = 0, nbad = 0;
	long status;
	int schema, np;
	CURLcode cc;
	CURL *h;

	hdrs = curl_slist_append(NULL, "Content-Type: text/xml; charset=utf-8");
	for (schema = 0; schema < 2 && !pr_expired(r); schema++) {
		if (schema == 1 && p->ad->activesync == NULL)
			continue;
		for (i = 0; i < nitems(ad_paths) && !pr_expired(r); i++) {
			memset(&b, 0, sizeof b);
			sb_init(&b.b);
			sb_init(&b.hdr);
			h = http_handle(p, r, p->domain, ad_paths[i], &b, &sl, &cause);
			if (h == NULL) {
				pr_note(r, PROBE_FAIL, "%s", cause);
				pr_summary(r, "%s does not resolve", p->domain);
				free(cause);
				sb_free(&b.b);
				sb_free(&b.hdr);
				goto out;
			}
			req = ad_request_body(email, schema == 1);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, req);
			curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
			nreq++;
			cc = curl_easy_perform(h);
			status = 0;
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
			if (cc != CURLE_OK) {
				nbad++;
				pr_note(r, PROBE_FAIL, "POST %s (%s): %s", ad_paths[i],
				    schema ? "mobilesync" : "outlook", curl_easy_strerror(cc));
			} else if (status != 200) {
				nbad++;
				pr_note(r, PROBE_FAIL, "POST %s (%s): HTTP %ld", ad_paths[i],
				    schema ? "mobilesync" : "outlook", status);
			} else {
				sb_init(&probs);
				np = ad_check_answer(b.b.s != NULL ? b.b.s : "", b.b.len, p->ad,
				    email, schema == 1, &probs);
				if (np != 0) {
					nbad++;
					pr_note(r, PROBE_FAIL, "POST %s (%s, %s): %s%s", ad_paths[i],
					    schema ? "mobilesync" : "outlook", email,
					    np < 0 ? "" : "wrong answer: ", probs.s);
				} else
					pr_note(r, PROBE_OK, "POST %s (%s): answer matches the "
					    "profile, LoginName ok", ad_paths[i],
					    schema ? "mobilesync" : "outlook");
				sb_free(&probs);
			}
			free(req);
			curl_easy_cleanup(h);
			curl_slist_free_all(sl);
			sl = NULL;
			sb_free(&b.b);
			sb_free(&b.hdr);
		}
	}
	if (nbad == 0)
		pr_summary(r, "%zu requests, every answer right", nreq);
	else
		pr_summary(r, "%zu of %zu requests WRONG or failed", nbad, nreq);
out:
	curl_slist_free_all(hdrs);
	free(email);
}

static bool
header_value(const char *hdrs, const char *name, char *out, size_t len)
{
	const char *p = hdrs, *nl, *v;
	size_t n = strlen(name), l;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			v = p + n + 1;
			while (*v == ' ')
				v++;
			l = nl != NULL ? (size_t)(nl - v) : strlen(v);
			while (l > 0 && (v[l - 1] == '\r' || v[l - 1] == ' '))
				l--;
			if (l >= len)
				l = len - 1;
			memcpy(out, v, l);
			out[l] = '\0';
			return (true);
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	return (false);
}

static void
simple_request(struct probe *p, struct presult *r, const char *path, bool options)
{
	struct curl_slist *sl = NULL;
	struct body b;
	char *cause = NULL, val[512];
	long status = 0;
	CURLcode cc;
	CURL *h;

	memset(&b, 0, sizeof b);
	sb_init(&b.b);
	sb_init(&b.hdr);
	if ((h = http_handle(p, r, p->domain, path, &b, &sl, &cause)) == NULL) {
		pr_note(r, PROBE_FAIL, "%s", cause);
		pr_summary(r, "%s does not resolve", p->domain);
		free(cause);
		goto out;
	}
	if (options)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "OPTIONS");
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK) {
		pr_note(r, PROBE_FAIL, "%s %s: %s", options ? "OPTIONS" : "GET", path,
		    curl_easy_strerror(cc));
		pr_summary(r, "%s", curl_easy_strerror(cc));
	} else if (options) {
		if (status == 200 && header_value(b.hdr.s, "MS-ASProtocolVersions", val,
		    sizeof val)) {
			pr_note(r, PROBE_OK, "OPTIONS: 200, MS-ASProtocolVersions: %s", val);
			pr_summary(r, "200, versions %s", val);
		} else if (status == 401) {
			header_value(b.hdr.s, "WWW-Authenticate", val, sizeof val);
			pr_note(r, PROBE_OK, "OPTIONS: 401, the backend asks for credentials "
			    "(%s): the path reaches Exchange", val);
			pr_summary(r, "401 (reaches the backend; versions need a login)");
		} else if (status == 200) {
			pr_note(r, PROBE_FAIL, "OPTIONS: 200 without MS-ASProtocolVersions: not "
			    "ActiveSync answering");
			pr_summary(r, "200 but NO MS-ASProtocolVersions");
		} else {
			pr_note(r, PROBE_FAIL, "OPTIONS: HTTP %ld", status);
			pr_summary(r, "HTTP %ld", status);
		}
	} else {
		if (status == 200 || status == 401 || status == 302 || status == 301 ||
		    status == 303) {
			pr_note(r, PROBE_OK, "GET %s: HTTP %ld", path, status);
			pr_summary(r, "reachable (HTTP %ld)", status);
		} else {
			pr_note(r, PROBE_FAIL, "GET %s: HTTP %ld", path, status);
			pr_summary(r, "HTTP %ld", status);
		}
	}
	curl_easy_cleanup(h);
out:
	curl_slist_free_all(sl);
	sb_free(&b.b);
	sb_free(&b.hdr);
}

void
probe_http_activesync_run(struct probe *p, struct presult *r)
{
	simple_request(p, r, "/Microsoft-Server-ActiveSync", true);
}

void
probe_http_owa_run(struct probe *p, struct presult *r)
{
	simple_request(p, r, "/owa/", false);
}

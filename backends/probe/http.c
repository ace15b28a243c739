/* http.c: HTTP probes through libcurl: Autodiscover in Outlook's lookup order for the
 * section's domain and every `also` domain, each with an address in that domain
 * (Outlook's order): POST https://D/... (not served is fine, a wrong answer or certificate is
 * not), POST https://autodiscover.D/... (outlook 2006a and mobilesync 2006, every path
 * case variant), GET http://autodiscover.D/... (must be a 302 to an https URL whose
 * name the certificate covers, which must then answer right), and the
 * _autodiscover._tcp.D SRV target; ActiveSync OPTIONS; OWA. Names are resolved by ldns
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

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct http_body *b = arg;

	if (b->b.len + sz * n > 1024 * 1024)
		return 0;	/* an Autodiscover answer is never that big */
	sb_addn(&b->b, p, sz * n);
	return sz * n;
}

static size_t
on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct http_body *b = arg;

	if (b->hdr.len < 64 * 1024)
		sb_addn(&b->hdr, p, sz * n);
	return sz * n;
}

static bool
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
		    &((const struct sockaddr_in *)b)->sin_addr, sizeof(struct in_addr)) == 0;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

/* The port to use for service (https, http) on addr: that probe port of a profile
 * host at that address, else dflt. */
int
host_svc_port(struct probe *p, struct presult *r, const struct sockaddr_storage *addr,
    const char *service, int dflt)
{
	const struct site *site = p->ctx->site;
	struct addrs ha;
	char *cause = NULL;
	size_t i, j, k;

	for (i = 0; i < site->nhosts; i++) {
		const struct host *h = &site->hosts[i];

		for (j = 0; j < h->nprobe_ports; j++) {
			/* service:off on a host that shares the address is not it */
			if (strcmp(h->probe_ports[j].service, service) != 0 ||
			    h->probe_ports[j].port <= 0)
				continue;
			if (net_host_addrs(p->ctx, h, r->deadline, &ha, &cause) != 0) {
				free(cause);
				cause = NULL;
				continue;
			}
			for (k = 0; k < ha.n; k++) {
				if (same_addr(&ha.a[k], addr))
					return h->probe_ports[j].port;
			}
		}
	}
	return dflt;
}

/* Prepare an easy handle for SCHEME://name[:urlport]/path (urlport 0: the scheme's
 * default); -1 + cause when name does not resolve. libcurl connects where ldns said:
 * https on 443 goes to the https probe port of the profile host at that address, plain
 * http on 80 to ctx->http_port when set, else to the http probe port of the profile host
 * at that address, an explicit port to itself. */
CURL *
http_handle(struct probe *p, struct presult *r, const char *scheme, const char *name,
    int urlport, const char *path, struct http_body *b, struct curl_slist **sl, char **cause)
{
	struct addrs a;
	char ab[INET6_ADDRSTRLEN + 2], *url, *ct;
	const char *ca;
	double left;
	bool https = strcmp(scheme, "https") == 0;
	int port, uport = urlport > 0 ? urlport : https ? 443 : 80;
	CURL *h;

	if (net_resolve(p->ctx, name, r->deadline, &a, cause) != 0)
		return NULL;
	addr_fmt(&a.a[0], ab, sizeof ab);
	if (urlport > 0)
		port = urlport;
	else
		port = https ? host_svc_port(p, r, &a.a[0], "https", 443) :
		    p->ctx->http_port > 0 ? p->ctx->http_port :
		    host_svc_port(p, r, &a.a[0], "http", 80);
	if (https && urlport == 443)
		port = host_svc_port(p, r, &a.a[0], "https", 443);
	if ((h = curl_easy_init()) == NULL)
		fatal("curl_easy_init failed");
	if (urlport > 0)
		url = xasprintf("%s://%s:%d%s", scheme, name, urlport, path);
	else
		url = xasprintf("%s://%s%s", scheme, name, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	free(url);
	if (a.a[0].ss_family == AF_INET6)
		ct = xasprintf("%s:%d:[%s]:%d", name, uport, ab, port);
	else
		ct = xasprintf("%s:%d:%s:%d", name, uport, ab, port);
	*sl = curl_slist_append(NULL, ct);
	sb_addf(&r->details, "     connect to %s\n", ct);
	free(ct);
	curl_easy_setopt(h, CURLOPT_CONNECT_TO, *sl);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, scheme);
	left = r->deadline - mono_now();
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(left > 0.05 ? left * 1000 : 50));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, b);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "mxdeck-probe/" MXDECK_VERSION);
	if ((ca = p->ctx->site->tests_ca) != NULL || (ca = getenv("SSL_CERT_FILE")) != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	return h;
}

/* The address to POST for the probe's mail domain: a profile user in it, else a
 * made-up one. */
static char *
probe_email(struct probe *p)
{
	const struct site *site = p->ctx->site;
	const char *at;
	size_t i;

	for (i = 0; i < site->nusers; i++) {
		at = strchr(site->users[i].email, '@');
		if (at != NULL && str_ieq(at + 1, p->domain))
			return xstrdup(site->users[i].email);
	}
	return xasprintf("mxdeck.probe@%s", p->domain);
}

/* How one Autodiscover request went. */
enum ad_outcome {
	AD_RIGHT,	/* 200, the profile's servers, LoginName right */
	AD_NONAME,	/* the name does not resolve: Outlook goes on */
	AD_ABSENT,	/* not served: no listener, 404: Outlook goes on */
	AD_BAD,		/* answered, but wrongly (HTTP status, XML), or hung */
	AD_TLSBAD,	/* TLS or certificate failed (Outlook warns the user) */
};

static bool
tls_trouble(CURLcode cc)
{
	return cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CONNECT_ERROR ||
	    cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_SSL_CIPHER ||
	    cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_ISSUER_ERROR ||
	    cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH || cc == CURLE_SSL_INVALIDCERTSTATUS;
}

/* POST an Autodiscover request for email to https://name[:urlport]path and check the
 * answer. Notes what happened: a wrong answer is a fail, not being served is noted with
 * absent_st. */
static enum ad_outcome
ad_post(struct probe *p, struct presult *r, const char *name, int urlport,
    const char *path, bool mobilesync, const char *email, enum probe_status absent_st)
{
	struct curl_slist *sl = NULL, *hdrs;
	struct http_body b;
	struct sbuf probs;
	const char *schema = mobilesync ? "mobilesync" : "outlook";
	char *cause = NULL, *req, *where;
	enum ad_outcome out;
	long status = 0;
	CURLcode cc;
	CURL *h;
	int np;

	where = urlport > 0 ? xasprintf("https://%s:%d%s", name, urlport, path) :
	    xasprintf("https://%s%s", name, path);
	memset(&b, 0, sizeof b);
	sb_init(&b.b);
	sb_init(&b.hdr);
	if ((h = http_handle(p, r, "https", name, urlport, path, &b, &sl, &cause)) == NULL) {
		pr_note(r, absent_st, "POST %s (%s): %s", where, schema, cause);
		free(cause);
		out = AD_NONAME;
		goto done;
	}
	hdrs = curl_slist_append(NULL, "Content-Type: text/xml; charset=utf-8");
	req = ad_request_body(email, mobilesync);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, req);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK && tls_trouble(cc)) {
		pr_note(r, PROBE_FAIL, "POST %s (%s): %s%s", where, schema,
		    curl_easy_strerror(cc), cc == CURLE_PEER_FAILED_VERIFICATION ?
		    " (the certificate does not cover the name, or its chain does not "
		    "verify: Outlook warns the user)" : "");
		out = AD_TLSBAD;
	} else if (cc == CURLE_OPERATION_TIMEDOUT) {
		/* A server that takes the connection and says nothing holds Outlook
		 * here: that is not "not served". */
		pr_note(r, PROBE_FAIL, "POST %s (%s): %s (Outlook waits here before it "
		    "tries the next step)", where, schema, curl_easy_strerror(cc));
		out = AD_BAD;
	} else if (cc != CURLE_OK) {
		pr_note(r, absent_st, "POST %s (%s): %s", where, schema,
		    curl_easy_strerror(cc));
		out = AD_ABSENT;
	} else if (status == 404) {
		pr_note(r, absent_st, "POST %s (%s): HTTP 404", where, schema);
		out = AD_ABSENT;
	} else if (status != 200) {
		pr_note(r, PROBE_FAIL, "POST %s (%s): HTTP %ld", where, schema, status);
		out = AD_BAD;
	} else {
		sb_init(&probs);
		np = ad_check_answer(b.b.s != NULL ? b.b.s : "", b.b.len, p->ad, email,
		    mobilesync, &probs);
		if (np != 0) {
			pr_note(r, PROBE_FAIL, "POST %s (%s, %s): %s%s", where, schema, email,
			    np < 0 ? "" : "wrong answer: ", probs.s);
			out = AD_BAD;
		} else {
			pr_note(r, PROBE_OK, "POST %s (%s, %s): answer matches the profile, "
			    "LoginName ok", where, schema, email);
			out = AD_RIGHT;
		}
		sb_free(&probs);
	}
	free(req);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
done:
	curl_slist_free_all(sl);
	sb_free(&b.b);
	sb_free(&b.hdr);
	free(where);
	return out;
}

/* Steps 1 and 2: POST to https://NAME/ in each path case and schema. */
static void
ad_step_https(struct probe *p, struct presult *r, const char *name, bool strict,
    const char *email)
{
	size_t i, nreq = 0, nbad = 0, nabsent = 0;
	int schema;
	enum ad_outcome o = AD_RIGHT;

	for (schema = 0; schema < 2 && !pr_expired(r); schema++) {
		if (schema == 1 && p->ad->activesync == NULL)
			continue;
		for (i = 0; i < nitems(ad_paths) && !pr_expired(r); i++) {
			nreq++;
			o = ad_post(p, r, name, 0, ad_paths[i], schema == 1, email,
			    strict ? PROBE_FAIL : PROBE_OK);
			if (o == AD_BAD || o == AD_TLSBAD)
				nbad++;
			else if (o == AD_ABSENT || o == AD_NONAME) {
				nabsent++;
				if (nreq == 1)
					goto first_absent;
			}
		}
	}
	if (nbad == 0 && nabsent == 0)
		pr_summary(r, "%zu requests, every answer right (%s)", nreq, email);
	else if (nbad == 0 && !strict)
		pr_summary(r, "%zu of %zu requests not served (Outlook goes on)", nabsent,
		    nreq);
	else
		pr_summary(r, "%zu of %zu requests WRONG or failed (%s)", nbad + nabsent,
		    nreq, email);
	return;
first_absent:
	/* Not served at all: no point in asking five more times. */
	if (strict) {
		if (o == AD_NONAME)
			pr_summary(r, "%s does not resolve", name);
		else
			pr_summary(r, "NOT SERVED: %s does not answer", name);
		pr_note(r, PROBE_FAIL, "https://%s/ is where Outlook looks for %s; the "
		    "rendered Autodiscover site answers there", name, p->domain);
	} else
		pr_summary(r, "not served (%s; Outlook goes on to the next step)",
		    o == AD_NONAME ? "no such name" : "no answer");
}

/* Step 3: GET http://autodiscover.D/...; must be a redirect to https on a name the
 * certificate covers, and that URL must answer right. */
static void
ad_step_redirect(struct probe *p, struct presult *r, const char *email)
{
	const char *path = "/autodiscover/autodiscover.xml";
	struct curl_slist *sl = NULL;
	struct http_body b;
	char *name = xasprintf("autodiscover.%s", p->domain), *cause = NULL;
	char *loc = NULL, *scheme = NULL, *host = NULL, *port = NULL, *lpath = NULL;
	char *rurl;
	long status = 0;
	CURLcode cc;
	CURLU *u = NULL;
	CURL *h;
	int schema, nright = 0, nreq = 0;
	bool tlsbad = false;
	enum ad_outcome o;

	memset(&b, 0, sizeof b);
	sb_init(&b.b);
	sb_init(&b.hdr);
	if ((h = http_handle(p, r, "http", name, 0, path, &b, &sl, &cause)) == NULL) {
		pr_note(r, PROBE_FAIL, "%s", cause);
		pr_summary(r, "%s does not resolve", name);
		free(cause);
		goto out;
	}
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK) {
		pr_note(r, PROBE_FAIL, "GET http://%s%s: %s", name, path,
		    curl_easy_strerror(cc));
		pr_summary(r, "NOT SERVED: %s", curl_easy_strerror(cc));
		goto out;
	}
	if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &rurl) == CURLE_OK && rurl != NULL)
		loc = xstrdup(rurl);
	if (status < 300 || status > 308 || loc == NULL) {
		pr_note(r, PROBE_FAIL, "GET http://%s%s: HTTP %ld, not a redirect (Outlook's "
		    "HTTP redirect method needs a 302 to the https responder)", name, path,
		    status);
		pr_summary(r, "NO REDIRECT (HTTP %ld)", status);
		goto out;
	}
	pr_note(r, status == 302 ? PROBE_OK : PROBE_WARN, "GET http://%s%s: %ld -> %s%s",
	    name, path, status, loc, status == 302 ? "" : " (Outlook's redirect method "
	    "expects 302)");
	u = curl_url();
	if (curl_url_set(u, CURLUPART_URL, loc, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &lpath, 0) != CURLUE_OK) {
		pr_note(r, PROBE_FAIL, "redirect target \"%s\" is not a URL", loc);
		pr_summary(r, "redirect to a BAD URL");
		goto out;
	}
	if (strcasecmp(scheme, "https") != 0) {
		pr_note(r, PROBE_FAIL, "redirect to %s: not https (Outlook only follows a "
		    "redirect to https)", loc);
		pr_summary(r, "redirect NOT TO HTTPS (%s)", loc);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL;
	for (schema = 0; schema < 2 && !pr_expired(r); schema++) {
		if (schema == 1 && p->ad->activesync == NULL)
			continue;
		nreq++;
		o = ad_post(p, r, host, port != NULL ? atoi(port) : 0, lpath, schema == 1,
		    email, PROBE_FAIL);
		if (o == AD_RIGHT)
			nright++;
		else if (o == AD_TLSBAD)
			tlsbad = true;
	}
	if (nright == nreq && nreq > 0)
		pr_summary(r, "%ld -> %s, answers right (%s)", status, loc, email);
	else if (tlsbad)
		pr_summary(r, "%ld -> %s: CERTIFICATE or TLS fails there (does it cover %s?)",
		    status, loc, host);
	else
		pr_summary(r, "%ld -> %s, which answers WRONG or not (%s)", status, loc,
		    email);
out:
	if (h != NULL)
		curl_easy_cleanup(h);
	curl_url_cleanup(u);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(lpath);
	curl_slist_free_all(sl);
	sb_free(&b.b);
	sb_free(&b.hdr);
	free(loc);
	free(name);
}

/* Step 4: the _autodiscover._tcp SRV target (Outlook asks the user first). */
static void
ad_step_srv(struct probe *p, struct presult *r, const char *email)
{
	struct strv srv = { 0 };
	char *name = xasprintf("_autodiscover._tcp.%s", p->domain), *cause = NULL;
	char tgt[256];
	unsigned prio, weight, port;
	size_t i, nt = 0, nright = 0;
	int schema, nreq;
	bool right;

	if (dns_srv(p->ctx, name, r->deadline, &srv, &cause) != 0) {
		pr_note(r, PROBE_FAIL, "%s", cause);
		pr_summary(r, "SRV lookup failed");
		free(cause);
		goto out;
	}
	for (i = 0; i < srv.n && !pr_expired(r); i++) {
		if (sscanf(srv.v[i], "%u %u %u %255s", &prio, &weight, &port, tgt) != 4 ||
		    strcmp(tgt, ".") == 0)
			continue;
		nt++;
		sb_addf(&r->details, "     %s SRV %s\n", name, srv.v[i]);
		nreq = 0;
		right = true;
		for (schema = 0; schema < 2 && !pr_expired(r); schema++) {
			if (schema == 1 && p->ad->activesync == NULL)
				continue;
			nreq++;
			if (ad_post(p, r, tgt, port == 443 ? 0 : (int)port,
			    "/autodiscover/autodiscover.xml", schema == 1, email,
			    PROBE_FAIL) != AD_RIGHT)
				right = false;
		}
		if (right && nreq > 0)
			nright++;
	}
	if (nt == 0) {
		pr_note(r, PROBE_OK, "no %s SRV record: Outlook's last step is not used",
		    name);
		pr_summary(r, "no SRV record (step not used)");
	} else if (nright == nt)
		pr_summary(r, "%zu SRV target%s, answer%s right (%s)", nt, nt > 1 ? "s" : "",
		    nt > 1 ? "" : "s", email);
	else
		pr_summary(r, "%zu of %zu SRV targets answer WRONG or not (%s)", nt - nright,
		    nt, email);
out:
	strv_free(&srv);
	free(name);
}

static void
probe_http_autodiscover_run(struct probe *p, struct presult *r)
{
	char *email = probe_email(p), *name;

	switch (p->variant) {
	case AD_STEP_DOMAIN:
		/* Outlook tries it first; not served is fine, a wrong answer or a
		 * certificate error is not. */
		ad_step_https(p, r, p->domain, false, email);
		break;
	case AD_STEP_AUTODISCOVER:
		name = xasprintf("autodiscover.%s", p->domain);
		ad_step_https(p, r, name, true, email);
		free(name);
		break;
	case AD_STEP_REDIRECT:
		ad_step_redirect(p, r, email);
		break;
	default:
		ad_step_srv(p, r, email);
		break;
	}
	free(email);
}

bool
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
			return true;
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	return false;
}

static void
simple_request(struct probe *p, struct presult *r, const char *path, bool options)
{
	struct curl_slist *sl = NULL;
	struct http_body b;
	char *cause = NULL, val[512];
	long status = 0;
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

static void
probe_http_activesync_run(struct probe *p, struct presult *r)
{
	simple_request(p, r, "/Microsoft-Server-ActiveSync", true);
}

void
probe_http_owa_run(struct probe *p, struct presult *r)
{
	simple_request(p, r, "/owa/", false);
}

/* ---- building the http probes (site-wide) ---- */

void
http_build(struct probe_build *b)
{
	const struct site *site = b->site;
	const struct autodiscover *ad;
	struct strv doms = { 0 };
	struct probe *p;
	size_t i, j, k;

	if (b->host != NULL)
		return;
	/* Outlook's lookup order, for the domain and every also domain, each with an
	 * address in that domain. */
	for (i = 0; i < site->nads; i++) {
		ad = &site->ads[i];
		ad_domains(ad, &doms);
		for (j = 0; j < doms.n; j++) {
			for (k = 0; k < AD_STEP_COUNT; k++) {
				p = probe_add(b,
				    xstrdup(k == AD_STEP_REDIRECT ? "autodiscover-redirect" :
				    k == AD_STEP_SRV ? "autodiscover-srv" : "autodiscover"),
				    k == AD_STEP_DOMAIN ?
				    xasprintf("https://%s/autodiscover/autodiscover.xml",
				    doms.v[j]) : k == AD_STEP_AUTODISCOVER ?
				    xasprintf("https://autodiscover.%s/autodiscover/"
				    "autodiscover.xml", doms.v[j]) : k == AD_STEP_REDIRECT ?
				    xasprintf("http://autodiscover.%s/autodiscover/"
				    "autodiscover.xml", doms.v[j]) :
				    xasprintf("_autodiscover._tcp.%s SRV", doms.v[j]));
				p->run = probe_http_autodiscover_run;
				p->domain = xstrdup(doms.v[j]);
				p->variant = (int)k;
				p->ad = ad;
			}
		}
		strv_free(&doms);
	}
	for (i = 0; i < site->nvhosts; i++) {
		const struct vhost *vh = &site->vhosts[i];

		if (vh->services & SVC_BIT(SVC_ACTIVESYNC)) {
			p = probe_add(b, xstrdup("activesync"),
			    xasprintf("https://%s/Microsoft-Server-ActiveSync", vh->name));
			p->run = probe_http_activesync_run;
			p->domain = xstrdup(vh->name);
		}
		if (vh->services & SVC_BIT(SVC_OWA)) {
			p = probe_add(b, xstrdup("owa"), xasprintf("https://%s/owa/", vh->name));
			p->domain = xstrdup(vh->name);
		}
	}
}

int
http_basic_request(struct probe *p, struct presult *r, const char *name,
    const char *method, const char *path, const char *user, const char *pass,
    long *status, char **cause)
{
	struct curl_slist *sl = NULL;
	struct http_body b;
	CURLcode cc;
	CURL *h;
	int rc = -1;

	*status = 0;
	memset(&b, 0, sizeof b);
	sb_init(&b.b);
	sb_init(&b.hdr);
	if ((h = http_handle(p, r, "https", name, 0, path, &b, &sl, cause)) == NULL)
		goto out;
	/* https only (http_handle), certificate and name verified (libcurl's default,
	 * kept on here on purpose), Basic only, and no redirect is followed, so the
	 * credentials go nowhere but this name over verified TLS. */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(h, CURLOPT_USERNAME, user);
	curl_easy_setopt(h, CURLOPT_PASSWORD, pass);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (cc != CURLE_OK)
		*cause = xasprintf("%s %s: %s", method, path, curl_easy_strerror(cc));
	else
		rc = 0;
	curl_easy_cleanup(h);
out:
	curl_slist_free_all(sl);
	sb_free(&b.b);
	sb_free(&b.hdr);
	return rc;
}

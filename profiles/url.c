/* url.c: http(s) URLs from a profile, read by libcurl's parser (see url.h). */
#include "profiles/url.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "profiles/util.h"

void
url_free(struct url *u)
{
	free(u->host);
	free(u->path);
	memset(u, 0, sizeof *u);
}

static char *
part(CURLU *h, CURLUPart what)
{
	char *v = NULL, *copy;

	if (curl_url_get(h, what, &v, 0) != CURLUE_OK || v == NULL)
		return NULL;
	copy = xstrdup(v);
	curl_free(v);
	return copy;
}

int
url_parse(const char *s, struct url *u, char **cause)
{
	CURLU *h;
	CURLUcode rc;
	char *scheme = NULL, *port = NULL, *user = NULL, *v;
	long n;

	memset(u, 0, sizeof *u);
	if (strncasecmp(s, "https://", 8) != 0 && strncasecmp(s, "http://", 7) != 0) {
		*cause = xstrdup("must start with https:// (or http://)");
		return -1;
	}
	/* libcurl reads "https:///owa" as host "owa", as browsers do; in a profile it is a
	 * typo, not a host. */
	if (s[strncasecmp(s, "https://", 8) == 0 ? 8 : 7] == '/') {
		*cause = xstrdup("has no host name");
		return -1;
	}
	{
		const char *auth = s + (strncasecmp(s, "https://", 8) == 0 ? 8 : 7);
		size_t alen = strcspn(auth, "/?#");

		if (alen > 0 && auth[alen - 1] == ':') {	/* libcurl takes "h:" as h */
			*cause = xstrdup("has an invalid port (1-65535)");
			return -1;
		}
	}
	if ((h = curl_url()) == NULL)
		fatal("curl_url: out of memory");
	rc = curl_url_set(h, CURLUPART_URL, s, 0);
	if (rc != CURLUE_OK) {
		switch (rc) {
		case CURLUE_BAD_PORT_NUMBER:
			*cause = xstrdup("has an invalid port (1-65535)");
			break;
		case CURLUE_NO_HOST:
			*cause = xstrdup("has no host name");
			break;
		case CURLUE_BAD_IPV6:
			*cause = xstrdup("has an invalid IPv6 host");
			break;
		default:
			*cause = xasprintf("is not a valid URL (%s)", curl_url_strerror(rc));
			break;
		}
		curl_url_cleanup(h);
		return -1;
	}
	scheme = part(h, CURLUPART_SCHEME);
	user = part(h, CURLUPART_USER);
	if (user == NULL)
		user = part(h, CURLUPART_PASSWORD);
	if (user != NULL) {
		*cause = xstrdup("must not contain credentials (user@)");
		goto fail;
	}
	u->https = scheme != NULL && strcasecmp(scheme, "https") == 0;
	if ((u->host = part(h, CURLUPART_HOST)) == NULL || *u->host == '\0') {
		*cause = xstrdup("has no host name");
		goto fail;
	}
	if (u->host[0] == '[') {
		size_t l = strlen(u->host);

		u->ipv6 = true;
		memmove(u->host, u->host + 1, l - 1);
		u->host[l - 2] = '\0';	/* the closing bracket */
	}
	if ((port = part(h, CURLUPART_PORT)) != NULL) {
		if (parse_int(port, 1, 65535, &n) != 0) {
			*cause = xstrdup("has an invalid port (1-65535)");
			goto fail;
		}
		u->port = (int)n;
	}
	u->path = part(h, CURLUPART_PATH);
	if (u->path == NULL)
		u->path = xstrdup("/");
	if ((v = part(h, CURLUPART_QUERY)) != NULL || (v = part(h, CURLUPART_FRAGMENT)) != NULL) {
		u->has_query = true;
		free(v);
	}
	free(scheme);
	free(port);
	curl_url_cleanup(h);
	return 0;
fail:
	free(scheme);
	free(port);
	free(user);
	url_free(u);
	curl_url_cleanup(h);
	return -1;
}

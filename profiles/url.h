/* url.h: one reading of an http(s) URL from a profile, through libcurl's URL parser
 * (curl_url), so that lint, the renderers and the live tests take a URL apart the same
 * way. */
#ifndef MXDECK_URL_H
#define MXDECK_URL_H

#include <stdbool.h>

struct url {
	bool	 https;
	char	*host;		/* without brackets for an IPv6 literal */
	bool	 ipv6;		/* host was [..] */
	int	 port;		/* 0: none given */
	char	*path;		/* "/" when none given */
	bool	 has_query;	/* ?... or #... present */
};

/* Parse an absolute http:// or https:// URL. 0, or -1 with *cause: a phrase that
 * completes "URL \"...\" ", e.g. "must start with https:// (or http://)". Credentials
 * (user@) are refused. */
int url_parse(const char *s, struct url *u, char **cause);
void url_free(struct url *u);

#endif

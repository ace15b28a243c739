/* roles.c: the host roles table (see roles.h). Adding a role is one row here plus,
 * when it has a directory key of its own, that field in struct host (site.h). */
#include "profiles/roles.h"

#include <string.h>

#include "profiles/site.h"

#define DIR(field) #field, offsetof(struct host, field)

const struct role_def roles[ROLE_COUNT] = {
	{ "postfix", ROLE_POSTFIX, DIR(postfix_dir), "/etc/postfix", 0, NULL },
	{ "dovecot", ROLE_DOVECOT, DIR(dovecot_dir), "/etc/dovecot", 0, NULL },
	{ "apache", ROLE_APACHE, DIR(apache_dir), "/etc/apache2", 0, NULL },
	{ "nginx", ROLE_NGINX, DIR(nginx_dir), "/etc/nginx", 0, NULL },
	{ "autodiscover", ROLE_AUTODISCOVER, DIR(www_dir), "/var/www/mxdeck",
	    ROLE_APACHE | ROLE_NGINX,
	    "web server role (apache or nginx) to serve the responder" },
	{ "dns", ROLE_DNS, DIR(state_dir), "/var/lib/mxdeck", 0, NULL },
	{ "exchange", ROLE_EXCHANGE, DIR(state_dir), "/var/lib/mxdeck", 0, NULL },
};

const struct role_def *
role_by_name(const char *name)
{
	for (size_t i = 0; i < ROLE_COUNT; i++)
		if (str_ieq(name, roles[i].name))
			return &roles[i];
	return NULL;
}

const struct role_def *
role_by_bit(unsigned bit)
{
	for (size_t i = 0; i < ROLE_COUNT; i++)
		if (roles[i].bit == bit)
			return &roles[i];
	return NULL;
}

void
role_list(struct sbuf *b)
{
	for (size_t i = 0; i < ROLE_COUNT; i++)
		sb_addf(b, "%s%s", i > 0 ? " " : "", roles[i].name);
}

const char *
host_dir(const struct host *h, unsigned role)
{
	const struct role_def *r = role_by_bit(role);
	const char *dir;

	if (r == NULL)
		return NULL;
	dir = *(char *const *)(const void *)((const char *)h + r->dir_off);
	return dir != NULL ? dir : r->dir_default;
}

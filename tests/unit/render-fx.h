/* render-fx.h: what the renderer unit tests share: a profile (and users CSV) written to
 * a temp dir and loaded, text checks on the rendered files, and the golden files
 * rendered from share/examples/demo.ini (MXDECK_UPDATE_GOLDEN=1 rewrites them).
 * Header only, every function static inline: the Makefile builds each
 * tests/unit/test_*.c into its own binary, and not every test uses every helper.
 * Include after <cmocka.h> and "backends/render/render.h". */
#ifndef MXDECK_TESTS_RENDER_FX_H
#define MXDECK_TESTS_RENDER_FX_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fx {
	char		 dir[64];
	struct site	 site;
	struct diags	 d;
	struct fileset	 fs;
};

/* Time budgets stretch under sanitizers and valgrind (MXDECK_TIME_SCALE=N). */
static inline double
time_scale(void)
{
	const char *s = getenv("MXDECK_TIME_SCALE");
	double f = s != NULL && atof(s) > 0 ? atof(s) : 1.0;

#if defined(__SANITIZE_ADDRESS__)
	f *= 10;
#endif
	return f;
}

/* Seconds from T0 to now (CLOCK_MONOTONIC). */
static inline double
secs_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static inline void
write_text(const char *path, const char *text)
{
	char *cause = NULL;

	if (write_file_atomic(path, text, strlen(text), 0644, &cause) == -1)
		fail_msg("%s", cause);
}

/* A fixture with a new empty directory /tmp/mxdeck-TAG.XXXXXX. */
static inline void
fx_init(struct fx *fx, const char *tag)
{
	memset(fx, 0, sizeof *fx);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/mxdeck-%s.XXXXXX", tag);
	assert_non_null(mkdtemp(fx->dir));
}

/* Write PROFILE (every @DIR@ replaced by the fixture's directory) as site.ini and CSV
 * (unless NULL) as users.csv next to it, and load the profile: -1, the diagnostics
 * printed, when it does not load. */
static inline int
fx_load(struct fx *fx, const char *profile, const char *csv)
{
	struct sbuf b;
	const char *s = profile, *at;
	char *p;
	int rc;

	if (csv != NULL) {
		p = xasprintf("%s/users.csv", fx->dir);
		write_text(p, csv);
		free(p);
	}
	sb_init(&b);
	while ((at = strstr(s, "@DIR@")) != NULL) {
		sb_addn(&b, s, (size_t)(at - s));
		sb_add(&b, fx->dir);
		s = at + strlen("@DIR@");
	}
	sb_add(&b, s);
	p = xasprintf("%s/site.ini", fx->dir);
	write_text(p, b.s);
	sb_free(&b);
	rc = site_load(&fx->site, p, &fx->d);
	free(p);
	if (rc == -1)
		diags_print(&fx->d, stderr);
	return rc;
}

/* Render the fixture's first host with R (PEM: the certificate as fetched, or NULL). */
static inline int
fx_render(struct fx *fx, const struct renderer *r, const char *pem, char **cause)
{
	struct render_ctx ctx = { .site = &fx->site, .host = &fx->site.hosts[0],
	    .tls_cert_pem = pem };

	return r->render(&ctx, &fx->fs, cause);
}

static inline void
fx_free(struct fx *fx)
{
	char *cmd = xasprintf("rm -rf '%s'", fx->dir);

	fileset_free(&fx->fs);
	site_free(&fx->site);
	diags_free(&fx->d);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
	free(cmd);
}

/* The rendered file whose path ends in SUFFIX; fails the test when there is none. */
static inline const struct rfile *
fx_find(const struct fx *fx, const char *suffix)
{
	for (size_t i = 0; i < fx->fs.n; i++)
		if (str_ends(fx->fs.v[i].path, suffix))
			return &fx->fs.v[i];
	fail_msg("no rendered file ends in %s", suffix);
	return NULL;
}

/* Is LINE exactly one line of TEXT? */
static inline bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p != NULL && *p != '\0'; ) {
		const char *e = strchr(p, '\n');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);

		if (len == n && strncmp(p, line, n) == 0)
			return true;
		p = e != NULL ? e + 1 : NULL;
	}
	return false;
}

/* Is LINE exactly one line of the rendered file F? */
static inline bool
file_has_line(const struct rfile *f, const char *line)
{
	return has_line(f->data.s, line);
}

/* How often NEEDLE occurs in HAY (overlapping ones too). */
static inline size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* S with every DIR replaced by @DIR@ (the checkout's path out of the golden files). */
static inline char *
normalize(const char *s, const char *dir)
{
	struct sbuf b;
	size_t n = strlen(dir);
	const char *p;

	sb_init(&b);
	while ((p = strstr(s, dir)) != NULL) {
		sb_addn(&b, s, (size_t)(p - s));
		sb_add(&b, "@DIR@");
		s = p + n;
	}
	sb_add(&b, s);
	return sb_steal(&b);
}

/* Compare every file of FS, SITEDIR in it written as @DIR@, with GOLDEN/NAME, NAME from
 * name_of(path, SITEDIR) or else the path's last component; MXDECK_UPDATE_GOLDEN=1
 * writes them instead. GOLDEN holds nothing else but dot files and names ending in
 * OTHER (unless NULL). */
static inline void
golden_check(const struct fileset *fs, const char *sitedir, const char *golden,
    char *(*name_of)(const char *, const char *), const char *other)
{
	bool update = getenv("MXDECK_UPDATE_GOLDEN") != NULL;
	size_t ngolden = 0;
	char *cause = NULL;
	DIR *dp;
	struct dirent *de;

	for (size_t i = 0; i < fs->n; i++) {
		char *name = name_of != NULL ? name_of(fs->v[i].path, sitedir) :
		    xstrdup(strrchr(fs->v[i].path, '/') + 1);
		char *gpath = xasprintf("%s/%s", golden, name);
		char *got = normalize(fs->v[i].data.s, sitedir), *want;

		if (update) {
			assert_int_equal(mkdir_p(golden, 0755, &cause), 0);
			write_text(gpath, got);
		}
		want = read_file(gpath, NULL, &cause);
		if (want == NULL)
			fail_msg("%s (MXDECK_UPDATE_GOLDEN=1 writes it)", cause);
		if (strcmp(got, want) != 0)
			fail_msg("%s differs from the rendered %s", gpath, fs->v[i].path);
		free(want);
		free(got);
		free(gpath);
		free(name);
	}
	assert_non_null(dp = opendir(golden));
	while ((de = readdir(dp)) != NULL)
		if (de->d_name[0] != '.' && (other == NULL || !str_ends(de->d_name, other)))
			ngolden++;
	closedir(dp);
	assert_int_equal(ngolden, fs->n);
}

/* Render the host "demo" of share/examples/demo.ini (loaded by its absolute path) with R,
 * PEM as the certificate fetched (or NULL), into FS, sorted, and golden_check it. */
static inline void
golden_demo(const struct renderer *r, const char *pem, const char *golden,
    char *(*name_of)(const char *, const char *), const char *other, struct fileset *fs)
{
	struct site site;
	struct diags d = { 0 };
	struct render_ctx ctx = { .site = &site, .tls_cert_pem = pem };
	char *cause = NULL, abs[PATH_MAX];

	if (realpath("share/examples/demo.ini", abs) == NULL)
		fail_msg("run from the source tree: share/examples/demo.ini not found");
	assert_int_equal(site_load(&site, abs, &d), 0);
	ctx.host = site_find_host(&site, "demo");
	assert_non_null(ctx.host);
	if (r->render(&ctx, fs, &cause) != 0)
		fail_msg("%s: %s", r->name, cause);
	fileset_sort(fs);
	golden_check(fs, site.dir, golden, name_of, other);
	site_free(&site);
	diags_free(&d);
}

#endif

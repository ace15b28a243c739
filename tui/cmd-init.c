/* cmd-init.c: `mxdeck init [EXAMPLE]`: the first run. Copies a shipped example profile
 * (and the users CSV it names) to the profile `mxdeck` opens by default,
 * $XDG_CONFIG_HOME/mxdeck/site.ini, never over an existing file; and the look-ups of
 * that default profile and of the shipped examples that main.c uses too. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mxdeck-datadir.h"	/* MXDECK_DATADIR, generated from PREFIX by the Makefile */
#include "profiles/site.h"
#include "tui/cli.h"

char *
cli_config_profile(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	/* XDG: a relative XDG_CONFIG_HOME is invalid and ignored */
	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/mxdeck/site.ini", xdg);
	if (home != NULL && *home != '\0')
		return xasprintf("%s/.config/mxdeck/site.ini", home);
	return NULL;
}

char *
cli_examples_dir(void)
{
	char exe[PATH_MAX], *p, *slash;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			/* a build tree (build/mxdeck), then an installed tree (bin/mxdeck) */
			static const char *const rel[] = { "share/examples",
			    "share/mxdeck/examples" };

			for (size_t i = 0; i < nitems(rel); i++) {
				char *real;

				p = xasprintf("%s/../%s", exe, rel[i]);
				real = realpath(p, NULL);
				free(p);
				if (real != NULL && access(real, R_OK | X_OK) == 0)
					return real;
				free(real);
			}
		}
	}
	return xstrdup(MXDECK_DATADIR "/examples");
}

/* The example names (file names without .ini) in dir, sorted, space-separated. */
static char *
example_names(const char *dir)
{
	struct dirent **ents = NULL;
	struct sbuf b = { 0 };
	int n;

	n = scandir(dir, &ents, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;

		if (nm[0] != '.' && str_ends(nm, ".ini"))
			sb_addf(&b, "%s%.*s", b.len > 0 ? " " : "", (int)(strlen(nm) - 4), nm);
		free(ents[i]);
	}
	free(ents);
	if (b.len == 0)
		sb_add(&b, "(none found)");
	return sb_steal(&b);
}

/* Create path with data; never through or over anything already there. */
static int
write_new(const char *path, const char *data, size_t len, char **cause)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd == -1) {
		*cause = errno == EEXIST ?
		    xasprintf("%s already exists; mxdeck init does not overwrite it (edit it, "
		    "or move it away and run mxdeck init again)", path) :
		    xasprintf("%s: cannot create: %s", path, strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			*cause = xasprintf("%s: cannot write: %s", path, strerror(errno));
			close(fd);
			(void)unlink(path);
			return -1;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		*cause = xasprintf("%s: cannot write: %s", path, strerror(errno));
		(void)unlink(path);
		return -1;
	}
	return 0;
}

static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int
cmd_init(struct cli *cli)
{
	char *exdir = cli_examples_dir(), *dest = cli_config_profile(), *src = NULL;
	char *ddir = NULL, *csv_src = NULL, *csv_dest = NULL, *cause = NULL, *names = NULL;
	char *buf = NULL, *csv = NULL;
	const char *want = cli->profile != NULL ? cli->profile : "client-access";
	struct site site = { 0 };
	struct diags d = { 0 };
	size_t len = 0, csvlen = 0;
	int rc = EXIT_USAGE;

	if (dest == NULL) {
		fprintf(stderr, "mxdeck: init: neither XDG_CONFIG_HOME nor HOME is set: no place "
		    "for the profile (set HOME)\n");
		goto out;
	}
	/* EXAMPLE: a file (a path, or a name that is one here), else a shipped example */
	if (strchr(want, '/') != NULL || access(want, F_OK) == 0)
		src = xstrdup(want);
	else
		src = xasprintf("%s/%s%s", exdir, want, str_ends(want, ".ini") ? "" : ".ini");
	if (access(src, R_OK) != 0) {
		names = example_names(exdir);
		fprintf(stderr, "mxdeck: init: no example '%s' (%s: %s)\n"
		    "examples in %s: %s\n", want, src, strerror(errno), exdir, names);
		goto out;
	}
	if ((buf = read_file(src, &len, &cause)) == NULL) {
		fprintf(stderr, "mxdeck: init: %s\n", cause);
		goto out;
	}
	/* The users CSV the example names, when it sits next to it: copied along, under
	 * the same name, so that the copy's relative "file =" still finds it. */
	(void)site_load(&site, src, &d);
	if (site.users_path != NULL && site.dir != NULL) {
		size_t dl = strlen(site.dir);

		if (strncmp(site.users_path, site.dir, dl) == 0 && site.users_path[dl] == '/' &&
		    strchr(site.users_path + dl + 1, '/') == NULL)
			csv_src = xstrdup(site.users_path);
	}
	ddir = xstrdup(dest);
	*strrchr(ddir, '/') = '\0';
	if (csv_src != NULL) {
		csv_dest = xasprintf("%s/%s", ddir, strrchr(csv_src, '/') + 1);
		if ((csv = read_file(csv_src, &csvlen, &cause)) == NULL) {
			fprintf(stderr, "mxdeck: init: the users CSV the example names: %s\n", cause);
			goto out;
		}
	}
	/* Refuse before writing anything: no half-done init. */
	if (exists(dest) || (csv_dest != NULL && exists(csv_dest))) {
		fprintf(stderr, "mxdeck: init: %s already exists; not overwriting it.\n"
		    "  It is the profile `mxdeck` opens: edit it, or move it away and run "
		    "`mxdeck init` again.\n", exists(dest) ? dest : csv_dest);
		goto out;
	}
	if (mkdir_p(ddir, 0700, &cause) == -1) {
		fprintf(stderr, "mxdeck: init: %s\n", cause);
		goto out;
	}
	if (write_new(dest, buf, len, &cause) == -1) {
		fprintf(stderr, "mxdeck: init: %s\n", cause);
		goto out;
	}
	if (csv_dest != NULL && write_new(csv_dest, csv, csvlen, &cause) == -1) {
		fprintf(stderr, "mxdeck: init: %s\n", cause);
		(void)unlink(dest);
		goto out;
	}
	printf("wrote %s (a copy of %s)\n", dest, src);
	if (csv_dest != NULL)
		printf("wrote %s (the users CSV it names)\n", csv_dest);
	printf("next:\n"
	    "  1. edit %s: [site] domain, each [host]'s address and directories\n"
	    "     (mxdeck(1) and the comments in the file say what each key does)\n"
	    "  2. mxdeck lint %s       check the profile\n"
	    "  3. mxdeck doctor %s     is each host ready (commands, modules, space)?\n"
	    "  4. mxdeck plan %s       what apply would change\n"
	    "  `mxdeck` alone now opens this profile in the console.\n",
	    dest, dest, dest, dest);
	rc = EXIT_OK;
out:
	diags_free(&d);
	site_free(&site);
	free(exdir);
	free(dest);
	free(src);
	free(ddir);
	free(csv_src);
	free(csv_dest);
	free(cause);
	free(names);
	free(buf);
	free(csv);
	return rc;
}

/* mutate.c: deterministic bad-input generator for tests/integration/badinput.sh.
 *
 *	mutate MODE COUNT SEED IN OUTPREFIX
 *
 * writes COUNT variants of IN as OUTPREFIX-MODE-NNN. Same arguments, same bytes
 * (a xorshift PRNG, no time or rand()). Modes:
 *	trunc	 cut IN at COUNT evenly spaced lengths, 0 and len-1 included
 *	flip	 1..8 random bytes replaced by random bytes
 *	garbage	 a random range replaced by random binary (up to 512 bytes)
 *	nul	 NUL bytes inserted at random places
 *	huge	 a line of 64 KiB..1 MiB inserted (as a value, a section name, a key)
 *	quotes	 deeply nested quotes and brackets inserted, unterminated
 *	lines	 whole lines deleted, duplicated or swapped
 *	ascii	 random printable junk including = [ ] " ; # , \ inserted
 * Plain C, no dependencies: built by the test with cc. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state;

static uint64_t
rnd(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static size_t
rndn(size_t n)
{
	return n == 0 ? 0 : (size_t)(rnd() % n);
}

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void
put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
putc_(struct buf *b, unsigned char c)
{
	put(b, &c, 1);
}

static void
emit(const char *prefix, const char *mode, int i, const struct buf *b)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s-%s-%03d", prefix, mode, i);
	if ((f = fopen(path, "wb")) == NULL || fwrite(b->p, 1, b->len, f) != b->len ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* Line starts of in, for line-level mutations. */
static size_t
line_starts(const unsigned char *in, size_t len, size_t **out)
{
	size_t n = 1, k = 0;
	size_t *v;

	for (size_t i = 0; i < len; i++)
		if (in[i] == '\n')
			n++;
	v = malloc((n + 1) * sizeof *v);
	if (v == NULL)
		exit(1);
	v[k++] = 0;
	for (size_t i = 0; i < len; i++)
		if (in[i] == '\n')
			v[k++] = i + 1;
	v[k] = len;
	*out = v;
	return k;
}

int
main(int argc, char **argv)
{
	const char *mode, *prefix;
	unsigned char *in = NULL;
	size_t len = 0, cap = 0, n;
	int count;
	FILE *f;

	if (argc != 6) {
		fprintf(stderr, "usage: mutate MODE COUNT SEED IN OUTPREFIX\n");
		return 2;
	}
	mode = argv[1];
	count = atoi(argv[2]);
	state = strtoull(argv[3], NULL, 10) * 2654435761u + 88172645463325252ull;
	prefix = argv[5];
	if ((f = fopen(argv[4], "rb")) == NULL) {
		perror(argv[4]);
		return 1;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((in = realloc(in, cap)) == NULL)
				return 1;
		}
		n = fread(in + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);

	for (int i = 0; i < count; i++) {
		struct buf b = { 0 };
		size_t at = rndn(len + 1);

		if (strcmp(mode, "trunc") == 0) {
			size_t cut = count > 1 ? (len - (len > 0)) * (size_t)i / (size_t)(count - 1) : 0;

			put(&b, in, cut);
		} else if (strcmp(mode, "flip") == 0) {
			int k = 1 + (int)rndn(8);

			put(&b, in, len);
			for (int j = 0; j < k && len > 0; j++)
				b.p[rndn(len)] = (unsigned char)rnd();
		} else if (strcmp(mode, "garbage") == 0) {
			size_t end = at + rndn(len - at + 1), g = 1 + rndn(512);

			put(&b, in, at);
			for (size_t j = 0; j < g; j++)
				putc_(&b, (unsigned char)rnd());
			put(&b, in + end, len - end);
		} else if (strcmp(mode, "nul") == 0) {
			size_t pos[4];
			int k = 1 + (int)rndn(4);

			for (int j = 0; j < k; j++)
				pos[j] = rndn(len + 1);
			for (size_t j = 0; j <= len; j++) {
				for (int m = 0; m < k; m++)
					if (pos[m] == j)
						putc_(&b, 0);
				if (j < len)
					putc_(&b, in[j]);
			}
		} else if (strcmp(mode, "huge") == 0) {
			static const char *const heads[] = { "name = ", "[host \"", "[",
			    "rule = /", "", "email,imap\n" };
			size_t g = 65536 + rndn(1 << 20), ls;
			size_t *starts;
			size_t nl = line_starts(in, len, &starts);

			ls = starts[rndn(nl)];
			free(starts);
			put(&b, in, ls);
			put(&b, heads[i % 6], strlen(heads[i % 6]));
			for (size_t j = 0; j < g; j++)
				putc_(&b, (unsigned char)("abc,=\"; x"[j % (i % 2 ? 9 : 3)]));
			putc_(&b, '\n');
			put(&b, in + ls, len - ls);
		} else if (strcmp(mode, "quotes") == 0) {
			static const char *const unit[] = { "\"", "\"\\\"", "[", "[\"", "\"\"",
			    "'", "${", "$(", "/" };
			const char *u = unit[i % 9];
			size_t depth = 100 + rndn(20000);

			put(&b, in, at);
			for (size_t j = 0; j < depth; j++)
				put(&b, u, strlen(u));
			put(&b, in + at, len - at);
		} else if (strcmp(mode, "lines") == 0) {
			size_t *starts;
			size_t nl = line_starts(in, len, &starts);
			size_t a = rndn(nl), c = rndn(nl);
			int op = i % 3;

			for (size_t j = 0; j < nl; j++) {
				size_t s = starts[j], e = starts[j + 1];

				if (op == 0 && j >= a && j <= a + rndn(4))
					continue;		/* delete a few lines */
				if (op == 1 && j == a)
					put(&b, in + s, e - s);	/* duplicate */
				if (op == 2 && (j == a || j == c)) {
					size_t o = j == a ? c : a;

					put(&b, in + starts[o], starts[o + 1] - starts[o]);
					if (starts[o + 1] == len && len > 0 && in[len - 1] != '\n')
						putc_(&b, '\n');
					continue;
				}
				put(&b, in + s, e - s);
			}
			free(starts);
		} else if (strcmp(mode, "ascii") == 0) {
			static const char junk[] = "=[]\";#,\\ \t:/!$@%{}()abcXYZ019\r\n";
			size_t g = 1 + rndn(64);

			put(&b, in, at);
			for (size_t j = 0; j < g; j++)
				putc_(&b, (unsigned char)junk[rndn(sizeof junk - 1)]);
			put(&b, in + at, len - at);
		} else {
			fprintf(stderr, "mutate: unknown mode %s\n", mode);
			return 2;
		}
		emit(prefix, mode, i, &b);
		free(b.p);
	}
	free(in);
	return 0;
}

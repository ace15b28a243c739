/* fuzz_diff.c: the unified diff that plan shows and the admin approves (libFuzzer).
 *
 * The input is split at its first NUL into the old file a and the new file b (no NUL:
 * b is a with every 7th line dropped). Invariants: applying the diff to a gives b byte
 * for byte (hunk positions, counts, context and "\ No newline at end of file" all
 * correct); equal files give no output; the return value is the number of + and -
 * lines; a == NULL (new file) and b == NULL (deleted file) work the same way.
 *
 * Built by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/ssh/diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_diff: invariant violated: %s\n", what);
		abort();
	}
}

struct ln {
	const char *p;
	size_t	 len;
	int	 nl;
};

static size_t
split(const char *s, size_t len, struct ln **out)
{
	size_t n = 0, i = 0;

	*out = calloc(len + 1, sizeof **out);
	if (*out == NULL)
		abort();
	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - s) : len;

		(*out)[n++] = (struct ln){ s + i, end - i, nl != NULL };
		i = end + (nl != NULL);
	}
	return n;
}

static int
ln_eq(const struct ln *x, const char *p, size_t len)
{
	return x->len == len && memcmp(x->p, p, len) == 0;
}

/* Apply the unified diff d to a; compare with b. Returns the number of +/- lines. */
static size_t
apply(const char *d, size_t dlen, const char *a, size_t alen, const char *b, size_t blen)
{
	struct ln *A, *B, *D, *O;
	size_t na = split(a, alen, &A), nb = split(b, blen, &B), nd = split(d, dlen, &D);
	size_t ai = 0, no = 0, changes = 0, i = 0;
	int last = 0;	/* 1: the last hunk line was output (' ' or '+'), 2: '-' */

	O = calloc(na + nb + 1, sizeof *O);
	if (O == NULL)
		abort();
	while (i < nd && !(D[i].len >= 2 && memcmp(D[i].p, "@@", 2) == 0)) {
		check(D[i].len >= 4 && (memcmp(D[i].p, "--- ", 4) == 0 ||
		    memcmp(D[i].p, "+++ ", 4) == 0), "junk before the first hunk");
		i++;
	}
	while (i < nd) {
		unsigned long as, al = 1, bs, bl = 1, seen_a = 0, seen_b = 0;
		char hdr[128];
		size_t start;

		check(D[i].len < sizeof hdr, "hunk header too long");
		memcpy(hdr, D[i].p, D[i].len);
		hdr[D[i].len] = '\0';
		if (sscanf(hdr, "@@ -%lu,%lu +%lu,%lu @@", &as, &al, &bs, &bl) != 4) {
			al = bl = 1;
			if (sscanf(hdr, "@@ -%lu +%lu,%lu @@", &as, &bs, &bl) != 3 &&
			    sscanf(hdr, "@@ -%lu,%lu +%lu @@", &as, &al, &bs) != 3 &&
			    sscanf(hdr, "@@ -%lu +%lu @@", &as, &bs) != 2)
				check(0, "bad hunk header");
		}
		start = al == 0 ? as : as - 1;
		check(start >= ai && start <= na, "hunk out of order or beyond the file");
		while (ai < start)
			O[no++] = A[ai++];
		for (i++; i < nd && !(D[i].len >= 2 && memcmp(D[i].p, "@@", 2) == 0); i++) {
			const struct ln *l = &D[i];

			check(l->nl, "a diff line without a newline");
			check(l->len >= 1, "an empty diff line");
			switch (l->p[0]) {
			case ' ':
			case '-':
				check(ai < na && ln_eq(&A[ai], l->p + 1, l->len - 1),
				    "context or removed line does not match the old file");
				if (l->p[0] == ' ') {
					O[no++] = A[ai];
					O[no - 1].nl = 1;
					seen_b++;
					last = 1;
				} else {
					changes++;
					last = 2;
				}
				check(A[ai].nl || (i + 1 < nd && D[i + 1].p[0] == '\\'),
				    "old last line without newline not marked");
				ai++;
				seen_a++;
				break;
			case '+':
				O[no++] = (struct ln){ l->p + 1, l->len - 1, 1 };
				changes++;
				seen_b++;
				last = 1;
				break;
			case '\\':
				check(ln_eq(l, "\\ No newline at end of file",
				    strlen("\\ No newline at end of file")), "bad \\ line");
				if (last == 1)
					O[no - 1].nl = 0;
				break;
			default:
				check(0, "a diff line with an unknown tag");
			}
		}
		check(seen_a == al && seen_b == bl, "hunk counts do not match its lines");
	}
	while (ai < na)
		O[no++] = A[ai++];
	check(no == nb, "patched file has a different number of lines");
	for (size_t k = 0; k < no; k++)
		check(ln_eq(&O[k], B[k].p, B[k].len) && O[k].nl == B[k].nl,
		    "patched file differs from the new file");
	free(A);
	free(B);
	free(D);
	free(O);
	return changes;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nul = memchr(s, '\0', size);
	char *a, *b;
	size_t alen, blen, n;
	struct sbuf out;

	if (nul != NULL) {
		alen = (size_t)(nul - s);
		a = malloc(alen + 1);
		blen = size - alen - 1;
		b = malloc(blen + 1);
		if (a == NULL || b == NULL)
			abort();
		memcpy(a, s, alen);
		memcpy(b, nul + 1, blen);
	} else {
		size_t line = 0;

		alen = size;
		a = malloc(alen + 1);
		b = malloc(alen + 1);
		if (a == NULL || b == NULL)
			abort();
		memcpy(a, s, alen);
		blen = 0;
		for (size_t i = 0; i < alen; i++) {
			if (line % 7 != 3)
				b[blen++] = s[i];
			if (s[i] == '\n')
				line++;
		}
	}
	a[alen] = b[blen] = '\0';

	sb_init(&out);
	n = diff_unified(&out, "/etc/postfix/main.cf", a, alen, b, blen);
	if (alen == blen && memcmp(a, b, alen) == 0)
		check(out.len == 0 && n == 0, "equal files give a diff");
	else
		check(apply(out.s, out.len, a, alen, b, blen) == n, "wrong change count");
	sb_reset(&out);
	n = diff_unified(&out, "/etc/new", NULL, 0, b, blen);
	check(apply(out.s ? out.s : "", out.len, "", 0, b, blen) == n, "new file: wrong count");
	sb_reset(&out);
	n = diff_unified(&out, "/etc/gone", a, alen, NULL, 0);
	check(apply(out.s ? out.s : "", out.len, a, alen, "", 0) == n, "deleted: wrong count");
	sb_free(&out);
	free(a);
	free(b);
	return 0;
}

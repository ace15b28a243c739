/* diff.c: Myers' O(ND) difference algorithm on lines, printed as a unified diff. */
#include "backends/ssh/diff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DIFF_CONTEXT	3
#define DIFF_MAX_D	2000	/* beyond this, replace the whole middle block */

struct line {
	const char *p;
	size_t	 len;		/* without the newline */
	int	 nl;		/* ends with a newline */
	uint64_t hash;
};

struct lines {
	struct line *v;
	size_t	 n, cap;
};

enum op { OP_EQ, OP_DEL, OP_INS };

struct edit {
	enum op	 op;
	size_t	 ai, bi;	/* line index in a (EQ, DEL) and b (EQ, INS) */
};

struct script {
	struct edit *v;
	size_t	 n, cap;
};

static void
split_lines(struct lines *l, const char *s, size_t len)
{
	size_t i = 0;

	memset(l, 0, sizeof *l);
	while (s != NULL && i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - s) : len;
		struct line *ln;
		uint64_t h = 1469598103934665603ULL;

		xgrow(&l->v, &l->cap, l->n + 1, sizeof *l->v);
		ln = &l->v[l->n++];
		ln->p = s + i;
		ln->len = end - i;
		ln->nl = nl != NULL;
		for (size_t k = i; k < end; k++)
			h = (h ^ (unsigned char)s[k]) * 1099511628211ULL;
		ln->hash = h ^ (uint64_t)ln->nl;
		i = end + (nl != NULL);
	}
}

static int
line_eq(const struct line *x, const struct line *y)
{
	return x->hash == y->hash && x->len == y->len && x->nl == y->nl &&
	    memcmp(x->p, y->p, x->len) == 0;
}

static void
push_edit(struct script *s, enum op op, size_t ai, size_t bi)
{
	xgrow(&s->v, &s->cap, s->n + 1, sizeof *s->v);
	s->v[s->n].op = op;
	s->v[s->n].ai = ai;
	s->v[s->n].bi = bi;
	s->n++;
}

/*
 * Myers on a[a0, a0+n) and b[b0, b0+m): keeps every V array (the trace) to walk the
 * path back. Config files are small and the common prefix and suffix are stripped
 * first, so D is small; a D above DIFF_MAX_D falls back to delete-all/insert-all.
 */
static void
myers(struct script *s, const struct lines *a, size_t a0, size_t n,
    const struct lines *b, size_t b0, size_t m)
{
	long N = (long)n, M = (long)m, max = N + M, off, d, k, x, y, found = -1;
	long **trace;
	long *v;

	if (max > DIFF_MAX_D)
		goto fallback;
	off = max + 1;
	trace = xcalloc((size_t)max + 1, sizeof *trace);
	v = xcalloc(2 * (size_t)max + 3, sizeof *v);
	for (d = 0; d <= max && found < 0; d++) {
		for (k = -d; k <= d; k += 2) {
			if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
				x = v[off + k + 1];
			else
				x = v[off + k - 1] + 1;
			y = x - k;
			while (x < N && y < M &&
			    line_eq(&a->v[a0 + (size_t)x], &b->v[b0 + (size_t)y])) {
				x++;
				y++;
			}
			v[off + k] = x;
			if (x >= N && y >= M) {
				found = d;
				break;
			}
		}
		trace[d] = xmalloc((2 * (size_t)max + 3) * sizeof *v);
		memcpy(trace[d], v, (2 * (size_t)max + 3) * sizeof *v);
	}
	free(v);
	{
		/* Walk back from (N, M), collecting edits in reverse. */
		struct script rev = { 0 };

		x = N;
		y = M;
		for (d = found; d >= 0; d--) {
			long *vd = trace[d], prevk, prevx, prevy;

			k = x - y;
			if (d == 0) {
				while (x > 0 && y > 0) {
					x--; y--;
					push_edit(&rev, OP_EQ, a0 + (size_t)x, b0 + (size_t)y);
				}
				break;
			}
			{
				long *vp = trace[d - 1];

				(void)vd;
				if (k == -d || (k != d && vp[off + k - 1] < vp[off + k + 1]))
					prevk = k + 1;
				else
					prevk = k - 1;
				prevx = vp[off + prevk];
				prevy = prevx - prevk;
			}
			while (x > prevx && y > prevy) {
				x--; y--;
				push_edit(&rev, OP_EQ, a0 + (size_t)x, b0 + (size_t)y);
			}
			if (x == prevx) {
				y--;
				push_edit(&rev, OP_INS, a0 + (size_t)x, b0 + (size_t)y);
			} else {
				x--;
				push_edit(&rev, OP_DEL, a0 + (size_t)x, b0 + (size_t)y);
			}
		}
		for (size_t i = rev.n; i > 0; i--)
			push_edit(s, rev.v[i - 1].op, rev.v[i - 1].ai, rev.v[i - 1].bi);
		free(rev.v);
	}
	for (d = 0; d <= max; d++)
		free(trace[d]);
	free(trace);
	return;
fallback:
	for (size_t i = 0; i < n; i++)
		push_edit(s, OP_DEL, a0 + i, b0);
	for (size_t i = 0; i < m; i++)
		push_edit(s, OP_INS, a0 + n, b0 + i);
}

static void
emit_line(struct sbuf *out, char tag, const struct line *l)
{
	sb_addc(out, tag);
	sb_addn(out, l->p, l->len);
	sb_addc(out, '\n');
	if (!l->nl)
		sb_add(out, "\\ No newline at end of file\n");
}

static void
range(struct sbuf *out, size_t start, size_t len)
{
	/* start is 0-based; unified format is 1-based, and "line before" when empty. */
	if (len == 1)
		sb_addf(out, "%zu", start + 1);
	else if (len == 0)
		sb_addf(out, "%zu,0", start);
	else
		sb_addf(out, "%zu,%zu", start + 1, len);
}

static void
header_name(struct sbuf *out, const char *pfx, const char *path)
{
	sb_add(out, pfx);
	sb_add(out, path[0] == '/' ? path + 1 : path);
}

size_t
diff_unified(struct sbuf *out, const char *path, const char *a, size_t alen,
    const char *b, size_t blen)
{
	struct lines la, lb;
	struct script s = { 0 };
	size_t pre = 0, suf = 0, changes = 0, i;

	if (a != NULL && b != NULL && alen == blen && memcmp(a, b, alen) == 0)
		return 0;
	split_lines(&la, a, alen);
	split_lines(&lb, b, blen);
	while (pre < la.n && pre < lb.n && line_eq(&la.v[pre], &lb.v[pre]))
		pre++;
	while (suf < la.n - pre && suf < lb.n - pre &&
	    line_eq(&la.v[la.n - 1 - suf], &lb.v[lb.n - 1 - suf]))
		suf++;
	for (i = 0; i < pre; i++)
		push_edit(&s, OP_EQ, i, i);
	myers(&s, &la, pre, la.n - pre - suf, &lb, pre, lb.n - pre - suf);
	for (i = 0; i < suf; i++)
		push_edit(&s, OP_EQ, la.n - suf + i, lb.n - suf + i);

	for (i = 0; i < s.n; i++)
		if (s.v[i].op != OP_EQ)
			changes++;
	if (changes == 0 && !(a == NULL || b == NULL))
		goto out;

	if (a == NULL)
		sb_add(out, "--- /dev/null\n");
	else {
		header_name(out, "--- a/", path);
		sb_addc(out, '\n');
	}
	if (b == NULL)
		sb_add(out, "+++ /dev/null\n");
	else {
		header_name(out, "+++ b/", path);
		sb_addc(out, '\n');
	}
	if (changes == 0)
		goto out;	/* an empty file created or removed */

	i = 0;
	while (i < s.n) {
		size_t first, last, j, astart, bstart, acount = 0, bcount = 0;

		while (i < s.n && s.v[i].op == OP_EQ)
			i++;
		if (i == s.n)
			break;
		/* The hunk runs from the first change to the last change that is at most
		 * 2*context equal lines from the next one. */
		first = i > DIFF_CONTEXT ? i - DIFF_CONTEXT : 0;
		last = i;
		for (j = i; j < s.n; j++) {
			if (s.v[j].op != OP_EQ)
				last = j;
			else if (j - last > 2 * DIFF_CONTEXT)
				break;
		}
		j = last + DIFF_CONTEXT + 1 < s.n ? last + DIFF_CONTEXT + 1 : s.n;
		astart = s.v[first].ai;
		bstart = s.v[first].bi;
		for (size_t k = first; k < j; k++) {
			if (s.v[k].op != OP_INS)
				acount++;
			if (s.v[k].op != OP_DEL)
				bcount++;
		}
		sb_add(out, "@@ -");
		range(out, astart, acount);
		sb_add(out, " +");
		range(out, bstart, bcount);
		sb_add(out, " @@\n");
		for (size_t k = first; k < j; k++) {
			switch (s.v[k].op) {
			case OP_EQ:
				emit_line(out, ' ', &la.v[s.v[k].ai]);
				break;
			case OP_DEL:
				emit_line(out, '-', &la.v[s.v[k].ai]);
				break;
			case OP_INS:
				emit_line(out, '+', &lb.v[s.v[k].bi]);
				break;
			}
		}
		i = j;
	}
out:
	free(s.v);
	free(la.v);
	free(lb.v);
	return changes;
}

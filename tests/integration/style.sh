#!/usr/bin/env bash
# style.sh: the two mechanical rules of share/doc/HACKING.md §2 over every C file of
# profiles/, backends/, tui/ and tests/: `return x;` (never `return (x);`) and
# root-relative quoted includes ("profiles/util.h", never "../../profiles/util.h" or
# "util.h" beside the file). tests/style.py lists what breaks them; `tests/style.py --fix`
# rewrites it. First the rewrite itself on cases it must change and must leave alone.
set -u
cd "$(dirname "$0")/../.."
fail=0
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

cat >"$t/in.c" <<'C'
int a(int x) { return (x); }
int b(int x) { return(x + 1); }
int c(int x) { return (x) + 1; }
long d(int x) { return (long)x; }
int e(int x) { return ((x) ? 1 : 0); }
const char *f(void) { return ("return (x);"); }
/* return (x); in a comment */
// return (x); in a line comment
int g(int x) { return (x &&
	    x > 1); }
char h(void) { return (')'); }
int i(int x) { return (x), 1; }
int j(int x) { return ( x ); }
int returns(int x) { int return_(int); return return_(x); }
C
cat >"$t/want.c" <<'C'
int a(int x) { return x; }
int b(int x) { return x + 1; }
int c(int x) { return (x) + 1; }
long d(int x) { return (long)x; }
int e(int x) { return (x) ? 1 : 0; }
const char *f(void) { return "return (x);"; }
/* return (x); in a comment */
// return (x); in a line comment
int g(int x) { return x &&
	    x > 1; }
char h(void) { return ')'; }
int i(int x) { return (x), 1; }
int j(int x) { return ( x ); }
int returns(int x) { int return_(int); return return_(x); }
C
cp "$t/in.c" "$t/got.c"
/usr/bin/python3 tests/style.py --fix "$t/got.c" >/dev/null
if cmp -s "$t/got.c" "$t/want.c"; then
	echo "ok - the rewrite changes whole-value parentheses only (13 cases)"
else
	echo "not ok - the rewrite:"; diff "$t/want.c" "$t/got.c" | sed 's/^/    /'; fail=1
fi
/usr/bin/python3 tests/style.py "$t/in.c" >"$t/list" && { echo "not ok - no finding in the cases"; fail=1; }
[ "$(wc -l <"$t/list")" -eq 6 ] || { echo "not ok - $(wc -l <"$t/list") findings in the cases, want 6:"; cat "$t/list"; fail=1; }

/usr/bin/python3 tests/style.py || fail=1
exit $fail

#!/usr/bin/python3
"""tests/style.py [--fix] [FILE...]: two mechanical rules of share/doc/HACKING.md §2
over every C file of profiles/, backends/, tui/ and tests/ (or the FILEs given).

  return:   `return x;`, never `return (x);` (parentheses around the whole value).
  #include: root-relative, `#include "profiles/util.h"`, never relative to the file
            (`"../../profiles/util.h"`, `"render.h"`); the Makefile has -I. (headers
            generated under $(BUILD)/gen are named by their bare name).

Without --fix: prints FILE:LINE: what is wrong, exits 1 when anything is. With --fix:
rewrites the files in place (only those two things; line numbers never change) and
prints how many of each it changed. Comments and string literals are left alone."""
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DIRS = ("profiles", "backends", "tui", "tests")
INCLUDE = re.compile(r'^([ \t]*#[ \t]*include[ \t]*")([^"]+)(".*)$')


def sources():
    out = []
    for d in DIRS:
        for top, dirs, files in os.walk(os.path.join(ROOT, d)):
            dirs.sort()
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(top, f), ROOT))
    return out


def code_mask(text):
    """One flag per character: True where it is code (not in a comment, a string or a
    character literal)."""
    mask = [True] * len(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            mask[i:j] = [False] * (j - i)
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            mask[i:j] = [False] * (j - i)
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            mask[i:j] = [False] * (j - i)
            i = j
        else:
            i += 1
    return mask


RETURN = re.compile(r"\breturn([ \t]*)\(")


def fix_returns(text):
    """(new text, [line numbers]) with `return (EXPR);` made `return EXPR;` wherever
    the parentheses hold the whole value."""
    mask = code_mask(text)
    cut = []	# (open paren index, close paren index, add a space)
    lines = []
    for m in RETURN.finditer(text):
        if not mask[m.start()]:
            continue
        op = m.end() - 1
        depth, j = 0, op
        while j < len(text):
            if mask[j]:
                if text[j] == "(":
                    depth += 1
                elif text[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
            j += 1
        if depth != 0:
            continue
        k = j + 1
        while k < len(text) and text[k] in " \t":
            k += 1
        if k >= len(text) or text[k] != ";":
            continue	# `return (a) + b;`, `return (void)x;`: not the whole value
        if text[op + 1] in " \t\n" or text[j - 1] in " \t\n":
            continue	# a layout of its own: left for a human
        cut.append((op, j, m.group(1) == ""))
        lines.append(text.count("\n", 0, m.start()) + 1)
    out, last = [], 0
    for op, cp, space in cut:
        out.append(text[last:op])
        if space:
            out.append(" ")
        out.append(text[op + 1:cp])
        last = cp + 1
    out.append(text[last:])
    return "".join(out), lines


def fix_includes(path, text):
    """(new text, [(line, old, new)]) with every quoted include made root-relative."""
    here = os.path.dirname(path)
    out, changed = [], []
    for no, line in enumerate(text.split("\n"), 1):
        m = INCLUDE.match(line)
        if m:
            inc = m.group(2)
            beside = os.path.normpath(os.path.join(here, inc))
            # The compiler looks beside the file first: that file is the one meant.
            if os.path.isfile(os.path.join(ROOT, beside)) and beside != inc and \
               not beside.startswith(".."):
                line = m.group(1) + beside + m.group(3)
                changed.append((no, inc, beside))
        out.append(line)
    return "\n".join(out), changed


def main(argv):
    fix = "--fix" in argv
    files = [os.path.relpath(os.path.abspath(a), ROOT) for a in argv if a != "--fix"] \
        or sources()
    if not files:
        print("not ok - no C files found (run from a checkout)")
        return 1
    nret = ninc = bad = 0
    for path in files:
        full = os.path.join(ROOT, path)
        with open(full, encoding="utf-8", errors="surrogateescape") as fh:
            text = fh.read()
        new, rlines = fix_returns(text)
        new, incs = fix_includes(path, new)
        nret += len(rlines)
        ninc += len(incs)
        if fix:
            if new != text:
                with open(full, "w", encoding="utf-8", errors="surrogateescape") as fh:
                    fh.write(new)
            continue
        for no in rlines:
            print(f"{path}:{no}: return (x); is written return x; here")
            bad += 1
        for no, old, want in incs:
            print(f'{path}:{no}: #include "{old}" is written #include "{want}" here '
                  "(root-relative)")
            bad += 1
    if fix:
        print(f"style.py: {nret} return statements and {ninc} includes rewritten in "
              f"{len(files)} files")
        return 0
    if bad == 0:
        print(f"ok - {len(files)} files: return x; and root-relative includes")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

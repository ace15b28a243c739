# mxdeck: plain GNU Makefile. `make`, `make check`, `make install`, `make demo`, `make demo-check`, `make bench`.
# BUILD=dir puts every object and binary in another directory (parallel work trees).
BUILD	?= build
PREFIX	?= /usr/local
DESTDIR	?=
CC	?= cc
PKG_CONFIG ?= pkg-config

PKGS	:= ncursesw libssh2 openssl libcurl ldns libpcre2-8 expat
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

OPT	?= -O2 -g
WARN	:= -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CFLAGS	?=
CFLAGS	+= -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(OPT) $(WARN) \
	   $(PKG_CFLAGS) -I. -I$(BUILD)/gen -MMD -MP
LDLIBS	+= $(PKG_LIBS) -lpthread -lm

CORE_SRC := $(sort $(wildcard profiles/*.c) $(wildcard backends/render/*.c) \
	    $(wildcard backends/ssh/*.c) $(wildcard backends/probe/*.c))
TUI_SRC  := $(sort $(wildcard tui/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_SUPPORT := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
TUI_OBJ  := $(TUI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
SUPPORT_OBJ := $(UNIT_SUPPORT:%.c=$(BUILD)/%.o)

all: $(BUILD)/mxdeck

# The installed data directory follows PREFIX: it lives in a generated header that is
# rewritten only when its text changes, so `make install PREFIX=/usr` after a plain
# `make` rebuilds what includes it, and a repeated `make` rebuilds nothing.
DATADIR_H := $(BUILD)/gen/mxdeck-datadir.h
$(DATADIR_H): FORCE
	@mkdir -p $(dir $@)
	@printf '#define MXDECK_DATADIR "%s"\n' '$(PREFIX)/share/mxdeck' >$@.new
	@if cmp -s $@.new $@; then rm -f $@.new; else mv -f $@.new $@; fi
$(BUILD)/tui/cmd-init.o: $(DATADIR_H)
FORCE:

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libmxdeck.a: $(CORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/mxdeck: $(TUI_OBJ) $(BUILD)/libmxdeck.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(TUI_OBJ) $(BUILD)/libmxdeck.a $(LDLIBS)

# Unit tests: one cmocka binary per tests/unit/test_*.c. A test may declare extra link
# flags (e.g. -Wl,--wrap=...) on a line "// LDFLAGS: ..." near its top.
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libmxdeck.a $(SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CMOCKA_CFLAGS) -Wno-unused-parameter -o $@ $< $(SUPPORT_OBJ) \
	    $(shell sed -n 's|^// LDFLAGS: ||p' $<) $(BUILD)/libmxdeck.a $(CMOCKA_LIBS) $(LDLIBS)

unit: $(UNIT_BIN)

check: all unit
	BUILD=$(BUILD) MXDECK=$(abspath $(BUILD)/mxdeck) tests/run.sh

check-unit: all unit
	BUILD=$(BUILD) MXDECK=$(abspath $(BUILD)/mxdeck) tests/run.sh unit

# Golden proof that a change keeps behaviour: render and lint every example and a few
# hundred generated profiles with this tree and with BASE (default: merge-base with main)
# and compare byte for byte. Needs git; not part of check.
golden: all
	MXDECK=$(abspath $(BUILD)/mxdeck) tests/golden.sh $(BASE)

bench: all
	BUILD=$(BUILD) MXDECK=$(abspath $(BUILD)/mxdeck) tests/bench/run.sh

# The live demo lab (share/lab/demo-lab.sh, needs root for Postfix): start, push the
# demo profile, open the console; q stops the lab. demo-check: the same without the
# console, the live tests' counts instead (exit 1 below 90 % ok or on a surprise).
demo: all
	share/lab/demo-lab.sh run share/examples $(abspath $(BUILD)/mxdeck)

demo-check: all
	share/lab/demo-lab.sh check share/examples $(abspath $(BUILD)/mxdeck)

check-asan:
	LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 \
	    $(MAKE) BUILD=build-asan OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" check

FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

fuzz-regress:
	tests/fuzz/run.sh -r

check-valgrind: all
	BUILD=$(BUILD) MXDECK=$(abspath $(BUILD)/mxdeck) tests/valgrind.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/mxdeck/examples
	install -m 0755 $(BUILD)/mxdeck $(DESTDIR)$(PREFIX)/bin/mxdeck
	install -m 0644 share/man/mxdeck.1 $(DESTDIR)$(PREFIX)/share/man/man1/mxdeck.1
	install -m 0644 share/examples/*.ini share/examples/*.csv share/examples/DEMO.md \
	    $(DESTDIR)$(PREFIX)/share/mxdeck/examples/
	install -d $(DESTDIR)$(PREFIX)/share/mxdeck/lab
	install -m 0755 share/lab/demo-lab.sh $(DESTDIR)$(PREFIX)/share/mxdeck/lab/demo-lab.sh
	install -m 0644 share/lab/lab-lib.sh $(DESTDIR)$(PREFIX)/share/mxdeck/lab/lab-lib.sh
	install -d $(DESTDIR)$(PREFIX)/share/mxdeck/schema $(DESTDIR)$(PREFIX)/share/mxdeck/systemd \
	    $(DESTDIR)$(PREFIX)/share/mxdeck/monitoring \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions
	install -m 0644 share/schema/mxdeck.schema.json $(DESTDIR)$(PREFIX)/share/mxdeck/schema/
	install -m 0644 share/systemd/mxdeck-audit.service share/systemd/mxdeck-audit.timer \
	    $(DESTDIR)$(PREFIX)/share/mxdeck/systemd/
	install -m 0644 share/monitoring/icinga2-mxdeck.conf $(DESTDIR)$(PREFIX)/share/mxdeck/monitoring/
	install -m 0644 share/completions/mxdeck.bash \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mxdeck
	install -m 0644 share/completions/_mxdeck $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_mxdeck

# The README's first commands (tests/deps.sh && make check) on a brand-new Debian 12 root
# with a clone of the committed HEAD (needs root; the pristine root is cached in /var/tmp).
distcheck:
	tests/fresh-root.sh

# Removes what install put there (the shared bin/ and man/ directories stay).
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/mxdeck $(DESTDIR)$(PREFIX)/share/man/man1/mxdeck.1 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mxdeck \
	    $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_mxdeck
	rm -rf $(DESTDIR)$(PREFIX)/share/mxdeck

clean:
	rm -rf $(BUILD) build-asan build-fuzz

.PHONY: all unit check check-unit bench golden demo demo-check check-asan check-valgrind fuzz fuzz-regress install uninstall distcheck clean FORCE
.SECONDARY:

-include $(CORE_OBJ:.o=.d) $(TUI_OBJ:.o=.d) $(SUPPORT_OBJ:.o=.d) $(UNIT_BIN:=.d)

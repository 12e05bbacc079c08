# pds: an AT Protocol Personal Data Server.  See README.md.
#
#   make                      build pdsd, pdsctl, pdstui
#   make check                unit tests, corpus replay, integration, interop
#   make SANITIZE=address,undefined check
#   make CC=clang B=build-clang WERROR=1 CFLAGS='-O0 -g'
#   make fuzz                 libFuzzer harnesses (clang)
#   make fuzz-run FUZZ_SECONDS=600
#   make install PREFIX=/usr/local DESTDIR=

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
CC	?= cc
PKG_CONFIG ?= pkg-config
B	:= build

# CFLAGS, CPPFLAGS and LDFLAGS are the user's (make CFLAGS='-O0 -g'):
# the project's own flags are PDS_CFLAGS and PDS_LDFLAGS, and each
# object adds the compile flags of the libraries its program links.
# WERROR=1 turns warnings into errors (CI).
WARN	:= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wformat=2 -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN	+= -Werror
endif
CFLAGS	?= -O2 -g
PDS_CFLAGS  := -std=c11 -D_GNU_SOURCE $(WARN) -Ilibcommon -MMD -MP
PDS_LDFLAGS :=
ifneq ($(SANITIZE),)
PDS_CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	       -fno-sanitize-recover=all
PDS_LDFLAGS += -fsanitize=$(SANITIZE)
B	:= build-san
endif

# argp is in glibc; elsewhere it is argp-standalone (-largp).
ARGP_LIBS := $(shell echo 'int argp_parse(); int main(void){return argp_parse();}' | \
	$(CC) -x c - -o /dev/null 2>/dev/null || echo -largp)

COMMON_PKGS := libsodium libsecp256k1 jansson libcrypto
PDSD_PKGS   := $(COMMON_PKGS) libmicrohttpd sqlite3 zlib libdeflate libcurl
# ICU: grapheme clusters for the lexicon validator (pdsd/lexicon_validate.c).
PDSD_PKGS   += icu-uc
# Debian's libwslay-dev ships no pkg-config file.
WSLAY_LIBS  := -lwslay
TUI_PKGS    := $(COMMON_PKGS) ncursesw

pkgcflags = $(shell $(PKG_CONFIG) --cflags $(1))
pkglibs   = $(shell $(PKG_CONFIG) --libs $(1))

# Stop at once when a library is missing, naming it, rather than at
# its first #include.  Not for the goals that need none.
ifneq ($(if $(MAKECMDGOALS),$(filter-out deps clean,$(MAKECMDGOALS)),all),)
ifeq ($(shell command -v $(PKG_CONFIG)),)
$(error $(PKG_CONFIG) not found: run scripts/deps.sh)
endif
MISSING_PKGS := $(shell for p in $(sort $(PDSD_PKGS) $(TUI_PKGS)); do \
	$(PKG_CONFIG) --exists $$p || echo $$p; done)
ifneq ($(MISSING_PKGS),)
$(error missing libraries (unknown to pkg-config): $(MISSING_PKGS): run scripts/deps.sh)
endif
ifneq ($(shell printf '\043include <wslay/wslay.h>\n' | \
	$(CC) -E -x c - >/dev/null 2>&1 || echo no),)
$(error missing library: wslay (wslay/wslay.h): run scripts/deps.sh)
endif
endif

# Each object gets its own program's library flags: libcommon and
# pdsctl the common ones, pdsd its own, pdstui ncursesw's, and the
# tests, tools and benchmarks (which link pdsd's libraries) pdsd's.
COMMON_CFLAGS = $(call pkgcflags,$(COMMON_PKGS))
PDSD_CFLAGS   = $(call pkgcflags,$(PDSD_PKGS))
TUI_CFLAGS    = $(call pkgcflags,$(TUI_PKGS))
PKG_CFLAGS    = $(PDSD_CFLAGS)
$(B)/libcommon/%.o $(B)/pdsctl/%.o: PKG_CFLAGS = $(COMMON_CFLAGS)
$(B)/pdstui/%.o: PKG_CFLAGS = $(TUI_CFLAGS)

# What each program links after its objects.  libcommon needs -lm.
# pdsd loads libcurl at its first use (pdsd/curl_lazy.c), so it is not
# linked against it (-ldl: dlopen before glibc 2.34).
COMMON_LIBS = $(call pkglibs,$(COMMON_PKGS)) $(ARGP_LIBS) -lm -lpthread
PDSD_LIBS   = $(call pkglibs,$(filter-out libcurl,$(PDSD_PKGS))) \
	      $(WSLAY_LIBS) $(ARGP_LIBS) -ldl -lm -lpthread
TUI_LIBS    = $(call pkglibs,$(TUI_PKGS)) $(ARGP_LIBS) -lm -lpthread
# The tests, tools and benchmarks: all of pdsd's libraries.
TEST_LIBS   = $(call pkglibs,$(PDSD_PKGS)) $(WSLAY_LIBS) -lm -lpthread
# libcommon/handleres.c parses DNS answers with libresolv; pdsctl's dns
# commands also fetch /.well-known/atproto-did with libcurl.
TEST_LIBS   += -lresolv
$(B)/bin/pdsctl: COMMON_LIBS += $(call pkglibs,libcurl) -lresolv

COMMON_SRC := $(wildcard libcommon/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/%.o)
PDSD_SRC   := $(wildcard pdsd/*.c)
PDSD_OBJ   := $(PDSD_SRC:%.c=$(B)/%.o)
# The lexicon table generated from lexicons/ (scripts/lexgen.c).
PDSD_OBJ   += $(B)/gen/lexicon_table.o
PDSCTL_SRC := $(wildcard pdsctl/*.c)
PDSCTL_OBJ := $(PDSCTL_SRC:%.c=$(B)/%.o)
PDSTUI_SRC := $(wildcard pdstui/*.c)
PDSTUI_OBJ := $(PDSTUI_SRC:%.c=$(B)/%.o)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/tests/replay_%)
LIBCOMMON  := $(B)/libcommon.a

PROGS := $(B)/bin/pdsd $(B)/bin/pdsctl $(B)/bin/pdstui

all: $(PROGS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(PDS_CFLAGS) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIBCOMMON): $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/bin/pdsd: $(PDSD_OBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PDSD_LIBS)

$(B)/bin/pdsctl: $(PDSCTL_OBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(COMMON_LIBS)

$(B)/bin/pdstui: $(PDSTUI_OBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(TUI_LIBS)

# Every unit test links libcommon and all libraries pdsd uses.
$(B)/tests/test_%: $(B)/tests/unit/test_%.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

# Unit tests of pdsd's own modules (test_pdsd_*.c) and the integration
# helper programs link the daemon's objects, less its main().
PDSD_LIBOBJ := $(filter-out $(B)/pdsd/main.o,$(PDSD_OBJ))
$(B)/tests/test_pdsd_%: $(B)/tests/unit/test_pdsd_%.o $(PDSD_LIBOBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(B)/tests/identity_plc: $(B)/tests/integration/identity_plc.o $(PDSD_LIBOBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

# Fuzz corpus replay: the harness with a plain main() over corpus files.
$(B)/tests/replay_%: $(B)/tests/fuzz/%.o $(B)/tests/fuzz/replay.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

tests: $(UNIT_BIN) $(REPLAY_BIN) $(B)/tests/identity_plc

check: all tests
	@B=$(B) scripts/run-tests.sh

check-unit: tests
	@B=$(B) scripts/run-tests.sh unit

# ---- fuzzing (clang + libFuzzer) -----------------------------------
FUZZ_CC     ?= clang
FUZZ_FLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE \
	       -Ilibcommon $(call pkgcflags,$(PDSD_PKGS))
FUZZ_BIN    := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_SECONDS ?= 60

build-fuzz/%: tests/fuzz/%.c $(COMMON_SRC)
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(COMMON_SRC) $(TEST_LIBS)

fuzz: $(FUZZ_BIN)

fuzz-run: fuzz
	@for f in $(FUZZ_BIN); do n=$${f#build-fuzz/}; \
	  mkdir -p tests/fuzz/corpus/$$n; \
	  echo "fuzzing $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    tests/fuzz/corpus/$$n || exit 1; done

# ---- lexicons --------------------------------------------------------
# lexgen (a build-machine tool) turns the vendored lexicons/**/*.json
# into the table compiled into pdsd; "make lexicons LEXICONS_FROM=dir"
# refreshes lexicons/ from a newer atproto checkout.
LEX_JSON := $(shell find lexicons -name '*.json' 2>/dev/null | LC_ALL=C sort)
LEX_TREES := app chat com tools

LEXGEN_SRC := scripts/lexgen.c pdsd/lexicon_build.c libcommon/strv.c \
	libcommon/syntax.c
$(B)/tools/lexgen: $(LEXGEN_SRC) pdsd/lexicon.h
	@mkdir -p $(dir $@)
	$(CC) $(PDS_CFLAGS) -Ipdsd $(call pkgcflags,jansson) $(CPPFLAGS) \
	    $(CFLAGS) -o $@ $(LEXGEN_SRC) $(call pkglibs,jansson)

$(B)/gen/lexicon_table.c: $(B)/tools/lexgen $(LEX_JSON)
	@mkdir -p $(dir $@)
	@echo "lexgen $(words $(LEX_JSON)) lexicons > $@"
	@$(B)/tools/lexgen $(LEX_JSON) > $@.tmp && mv $@.tmp $@

$(B)/gen/lexicon_table.o: $(B)/gen/lexicon_table.c pdsd/lexicon.h
	$(CC) $(PDS_CFLAGS) -Ipdsd $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS) \
	    -c $< -o $@

lexicons:
	@test -n "$(LEXICONS_FROM)" && test -d "$(LEXICONS_FROM)/lexicons" || \
	    { echo "usage: make lexicons LEXICONS_FROM=/path/to/atproto"; exit 2; }
	for t in $(LEX_TREES); do rm -rf lexicons/$$t && \
	    cp -R "$(LEXICONS_FROM)/lexicons/$$t" lexicons/$$t || exit 1; done
	for f in LICENSE.txt LICENSE-MIT.txt LICENSE-APACHE.txt; do \
	    [ -f "$(LEXICONS_FROM)/$$f" ] && cp "$(LEXICONS_FROM)/$$f" lexicons/; \
	    done; true
	c=$$(git -C "$(LEXICONS_FROM)" rev-parse HEAD 2>/dev/null || echo unknown); \
	d=$$(git -C "$(LEXICONS_FROM)" log -1 --format=%cs 2>/dev/null || echo unknown); \
	sed -i -e "s/^commit: .*/commit:     $$c/" -e "s/^date: .*/date:       $$d/" \
	    lexicons/UPSTREAM
	@echo "lexicons/ refreshed; rebuild with make"

# The validator's harness and its replay link the daemon's objects.
LEX_FUZZ_SRC := pdsd/lexicon_validate.c pdsd/lexicon_build.c pdsd/thread.c \
	$(B)/gen/lexicon_table.c
build-fuzz/fuzz_lexicon: tests/fuzz/fuzz_lexicon.c $(COMMON_SRC) $(LEX_FUZZ_SRC)
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ipdsd -o $@ $< $(COMMON_SRC) \
	    $(LEX_FUZZ_SRC) $(TEST_LIBS)

$(B)/tests/replay_fuzz_lexicon: $(B)/tests/fuzz/fuzz_lexicon.o \
    $(B)/tests/fuzz/replay.o $(PDSD_LIBOBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

.PHONY: lexicons

# ---- install -------------------------------------------------------
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(B)/bin/pdsd $(DESTDIR)$(SBINDIR)/pdsd
	install -m 755 $(B)/bin/pdsctl $(DESTDIR)$(SBINDIR)/pdsctl
	install -m 755 $(B)/bin/pdstui $(DESTDIR)$(BINDIR)/pdstui
	for m in man/*.1; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man1/ || true; done
	for m in man/*.8; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man8/ || true; done

deps:
	scripts/deps.sh

# Development server: pdsd on 127.0.0.1 with a local in-memory PLC directory.
run: all
	B=$(B) scripts/run-dev.sh

clean:
	rm -rf build build-san build-fuzz build-clang build-O0

.PHONY: all tests check check-unit fuzz fuzz-run install deps run clean
.SECONDARY:

-include tests/tools/tools.mk
-include tests/stress/stress.mk
-include bench/bench.mk
-include $(shell find $(B) -name '*.d' 2>/dev/null)

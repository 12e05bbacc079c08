# pds: an AT Protocol Personal Data Server.  See README.md.
#
#   make                      build pdsd, pdsctl, pdstui
#   make check                unit tests, corpus replay, integration, interop
#   make SANITIZE=address,undefined check
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

WARN	:= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wformat=2 -Wno-unused-parameter
CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -D_GNU_SOURCE $(WARN) -Ilibcommon -MMD -MP
ifneq ($(SANITIZE),)
CFLAGS	+= -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS	+= -fsanitize=$(SANITIZE)
B	:= build-san
endif

# argp is in glibc; elsewhere it is argp-standalone (-largp).
ARGP_LIBS := $(shell echo 'int argp_parse(); int main(void){return argp_parse();}' | \
	$(CC) -x c - -o /dev/null 2>/dev/null || echo -largp)

COMMON_PKGS := libsodium libsecp256k1 jansson libcrypto
PDSD_PKGS   := $(COMMON_PKGS) libmicrohttpd sqlite3 zlib libdeflate libcurl
# Debian's libwslay-dev ships no pkg-config file.
WSLAY_LIBS  := -lwslay
TUI_PKGS    := $(COMMON_PKGS) ncursesw

pkgcflags = $(shell $(PKG_CONFIG) --cflags $(1))
pkglibs   = $(shell $(PKG_CONFIG) --libs $(1))

CFLAGS += $(call pkgcflags,$(PDSD_PKGS) ncursesw)

COMMON_SRC := $(wildcard libcommon/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/%.o)
PDSD_SRC   := $(wildcard pdsd/*.c)
PDSD_OBJ   := $(PDSD_SRC:%.c=$(B)/%.o)
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
	$(CC) $(CFLAGS) -c $< -o $@

$(LIBCOMMON): $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# pdsd loads libcurl at its first use (pdsd/curl_lazy.c), so it is not
# linked against it (-ldl: dlopen before glibc 2.34).
$(B)/bin/pdsd: $(PDSD_OBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,$(filter-out libcurl,$(PDSD_PKGS))) $(WSLAY_LIBS) $(ARGP_LIBS) -ldl -lpthread

$(B)/bin/pdsctl: $(PDSCTL_OBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,$(COMMON_PKGS)) $(ARGP_LIBS) -lpthread

$(B)/bin/pdstui: $(PDSTUI_OBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,$(TUI_PKGS)) $(ARGP_LIBS) -lpthread

# Every unit test links libcommon and all libraries pdsd uses.
$(B)/tests/test_%: $(B)/tests/unit/test_%.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,$(PDSD_PKGS)) $(WSLAY_LIBS) -lpthread

# Unit tests of pdsd's own modules (test_pdsd_*.c) and the integration
# helper programs link the daemon's objects, less its main().
PDSD_LIBOBJ := $(filter-out $(B)/pdsd/main.o,$(PDSD_OBJ))
$(B)/tests/test_pdsd_%: $(B)/tests/unit/test_pdsd_%.o $(PDSD_LIBOBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,$(PDSD_PKGS)) $(WSLAY_LIBS) -lpthread

$(B)/tests/identity_plc: $(B)/tests/integration/identity_plc.o $(PDSD_LIBOBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,$(PDSD_PKGS)) $(WSLAY_LIBS) -lpthread

# Fuzz corpus replay: the harness with a plain main() over corpus files.
$(B)/tests/replay_%: $(B)/tests/fuzz/%.o $(B)/tests/fuzz/replay.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,$(PDSD_PKGS)) $(WSLAY_LIBS) -lpthread

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
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(COMMON_SRC) $(call pkglibs,$(PDSD_PKGS)) $(WSLAY_LIBS) -lpthread

fuzz: $(FUZZ_BIN)

fuzz-run: fuzz
	@for f in $(FUZZ_BIN); do n=$${f#build-fuzz/}; \
	  mkdir -p tests/fuzz/corpus/$$n; \
	  echo "fuzzing $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    tests/fuzz/corpus/$$n || exit 1; done

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
	rm -rf build build-san build-fuzz

.PHONY: all tests check check-unit fuzz fuzz-run install deps run clean
.SECONDARY:

-include tests/tools/tools.mk
-include bench/bench.mk
-include $(shell find $(B) -name '*.d' 2>/dev/null)

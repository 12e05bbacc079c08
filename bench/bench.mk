# Benchmark programs and the side-by-side run against the reference PDS.
# Included from the Makefile; not part of "make check".
#
#   make bench-progs          build $(B)/bench/micro, fhsub and dpopload
#   make bench                bench/run.sh (pdsd and the reference, ~15 min)
#   make bench-quick          bench/run.sh --quick (~3 min)
#   make bench-micro          the commit cost floor on one core
#   make bench-ratelimit      what the rate limiter costs per request
#   make bench-lexicon        what lexicon validation costs per post

BENCH_PROGS := $(B)/bench/micro $(B)/bench/fhsub $(B)/bench/dpopload \
	       $(B)/bench/rlbench
BENCH_PROGS += $(B)/bench/lexbench

$(B)/bench/micro: $(B)/bench/micro.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(B)/bench/fhsub: $(B)/bench/fhsub.o
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(call pkglibs,libcurl jansson) -lpthread

$(B)/bench/dpopload: $(B)/bench/dpopload.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LIBS) -lpthread

# The limiter alone, linked with the daemon's objects like the unit tests.
$(B)/bench/rlbench: $(B)/bench/rlbench.o $(PDSD_LIBOBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

bench-progs: $(BENCH_PROGS)

bench-ratelimit: $(B)/bench/rlbench
	$(B)/bench/rlbench

bench-micro: $(B)/bench/micro
	$(B)/bench/micro -d $(B)/bench

bench: $(PROGS) $(BENCH_PROGS)
	B=$(B) bench/run.sh

bench-quick: $(PROGS) $(BENCH_PROGS)
	B=$(B) bench/run.sh --quick

# The lexicon validator alone, linked with the daemon's objects.
$(B)/bench/lexbench: $(B)/bench/lexbench.o $(PDSD_LIBOBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

bench-lexicon: $(B)/bench/lexbench
	$(B)/bench/lexbench

.PHONY: bench bench-quick bench-progs bench-micro bench-ratelimit
.PHONY: bench-lexicon

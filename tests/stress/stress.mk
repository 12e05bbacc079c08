# tests/stress: bounded load tests against a real pdsd on loopback, run
# by `make stress` (scripts/run-tests.sh stress).  Each stress_*.sh
# sources tests/integration/lib.sh, drives pdsd with the load programs
# below and asserts a bound (memory, latency, drops).  Every
# tests/stress/*.c is one load program: $(B)/tests/stress/NAME, linked
# with libcommon.

STRESS_SRC := $(wildcard tests/stress/*.c)
STRESS_BIN := $(STRESS_SRC:tests/stress/%.c=$(B)/tests/stress/%)

$(B)/tests/stress/%: $(B)/tests/stress/%.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

tests: $(STRESS_BIN)

stress: all tests
	@B=$(B) scripts/run-tests.sh stress

.PHONY: stress

# tests/tools: helper programs the interop tests drive (include from the
# Makefile after B, LIBCOMMON and the pkg-config helpers are defined).
#
#   $(B)/tests/repotool   build and import repository CARs
#   $(B)/tests/dpoptool   DPoP proofs, JWKs and PKCE, one JSON line each
#   $(B)/tests/oauthreq   OAuth requests and grants in a stopped pdsd's store
#   $(B)/tests/lexcheck   records through the lexicon validator, verdicts out
#   $(B)/tests/invitecalc the invite codes an account has earned (invites_due)
#   $(B)/tests/permsettool permission sets expanded into OAuth scopes

TOOLS_BIN := $(B)/tests/repotool $(B)/tests/dpoptool $(B)/tests/oauthreq
TOOLS_BIN += $(B)/tests/invitecalc

$(B)/tests/repotool: $(B)/tests/tools/repotool.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(B)/tests/dpoptool: $(B)/tests/tools/dpoptool.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(B)/tests/oauthreq: $(B)/tests/tools/oauthreq.o $(PDSD_LIBOBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(B)/tests/invitecalc: $(B)/tests/tools/invitecalc.o $(PDSD_LIBOBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

tests: $(TOOLS_BIN)

# lexcheck: pdsd's lexicon validator on JSON lines (the differential test).
$(B)/tests/lexcheck: $(B)/tests/tools/lexcheck.o $(PDSD_LIBOBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

tests: $(B)/tests/lexcheck

# permsettool: permission-set expansion on JSON lines (differential test).
$(B)/tests/permsettool: $(B)/tests/tools/permsettool.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(PDS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

tests: $(B)/tests/permsettool

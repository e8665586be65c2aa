# traccia — build, test, sanitize, fuzz.
#
#   make                 library (build/libtraccia.a) and command (build/traccia)
#   make test            build and run the whole test suite
#   make sanitize        the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz            libFuzzer targets (clang), each run FUZZ_SECONDS (default 60)
#   make CC=clang        any of the above with clang
#   make install         PREFIX=/usr/local: binary and man page
#
# Dependencies are found with pkg-config; scripts/install-deps installs them.

CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
PKGS    := zlib yaml-0.1 libpcre2-8 libhs sqlite3
OPT     ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
CFLAGS_ALL := -std=c17 -D_GNU_SOURCE $(OPT) $(WARN) -Iinclude $(shell pkg-config --cflags $(PKGS)) $(CFLAGS)
LDLIBS_ALL := $(shell pkg-config --libs $(PKGS)) -lm -pthread $(LDLIBS)

# every .c under src/, however deep (one folder per stage, and folders in them)
LIB_SRC := $(sort $(shell find src -name '*.c'))
CLI_SRC := $(sort $(wildcard cli/*.c))
TEST_SRC := $(sort $(wildcard tests/*.c))
FUZZ_SRC := $(sort $(wildcard fuzz/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/builtin_data.o
# The logsource mapping and the rule pack are compiled into the library.
BUILTIN_DATA := $(sort $(wildcard data/logsources/*.yml) $(shell find rules -name '*.yml' 2>/dev/null))
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)

LIB := $(BUILD)/libtraccia.a
BIN := $(BUILD)/traccia
TEST_BIN := $(BUILD)/traccia-tests

.PHONY: all test sanitize fuzz fuzz-build bench clean install tools
all: $(LIB) $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/gen/builtin_data.c: $(BUILTIN_DATA) scripts/embed-data
	@mkdir -p $(dir $@)
	scripts/embed-data $@

$(BUILD)/gen/builtin_data.o: $(BUILD)/gen/builtin_data.c
	$(CC) $(CFLAGS_ALL) -Isrc/sigma -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS_ALL)

$(TEST_BIN): $(TEST_OBJ) $(LIB)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $(TEST_OBJ) $(LIB) $(LDLIBS_ALL)

# The suite runs the library's unit tests and drives the command end to end.
# Beside them: the read-fault shim the I/O fault tests preload, and the fuzz
# targets built with a plain main that replays files (tests/fuzz-regressions).
FAULT_LIB := $(BUILD)/tests/libfault_read.so
REPLAY_BINS := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz-replay/%)
test: $(BIN) $(TEST_BIN) $(FAULT_LIB) $(REPLAY_BINS)
	TRACCIA_BIN=$(BIN) ./$(TEST_BIN)

# not linked into anything; no sanitizer (it sits in LD_PRELOAD beside one)
$(FAULT_LIB): tests/faults/fault_read.c
	@mkdir -p $(dir $@)
	$(CC) -std=c17 -O2 $(WARN) -fPIC -shared -o $@ $< -ldl

$(BUILD)/fuzz-replay/%: fuzz/%.c tests/faults/replay_main.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isrc $(LDFLAGS) -o $@ $< tests/faults/replay_main.c $(LIB) $(LDLIBS_ALL)

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
sanitize:
	$(MAKE) BUILD=build-san OPT="-O1 -g" CFLAGS="$(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" test

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD := build-fuzz
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_TARGETS := $(FUZZ_SRC:fuzz/%.c=$(FUZZ_BUILD)/%)
fuzz-build:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) OPT="-O1 -g" CFLAGS="$(FUZZ_FLAGS)" $(FUZZ_BUILD)/libtraccia.a
	@for t in $(FUZZ_SRC); do \
	  n=$$(basename $$t .c); \
	  echo "$(FUZZ_CC) $$t -> $(FUZZ_BUILD)/$$n"; \
	  $(FUZZ_CC) -std=c17 -D_GNU_SOURCE -O1 -g -Iinclude -Isrc -fsanitize=fuzzer,address,undefined \
	    $$t $(FUZZ_BUILD)/libtraccia.a $(LDLIBS_ALL) -o $(FUZZ_BUILD)/$$n || exit 1; \
	done
fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/run-fuzz $(FUZZ_TARGETS)

# tools/jsonl2evtx: writes .evtx files from JSON-lines events (the example case's EXCH01 logs)
tools: $(BUILD)/jsonl2evtx
$(BUILD)/jsonl2evtx: tools/jsonl2evtx.c
	@mkdir -p $(dir $@)
	$(CC) -std=c17 -D_GNU_SOURCE $(OPT) $(WARN) -o $@ $< $(shell pkg-config --libs zlib)

bench: all
	bench/bench-read.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/traccia
	install -m 644 man/traccia.1 $(DESTDIR)$(PREFIX)/share/man/man1/traccia.1

clean:
	rm -rf build build-san build-fuzz build-clang

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)

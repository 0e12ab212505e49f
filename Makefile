# dailynet — build, run, test. `make` builds bin/dailynetd and bin/dailynet;
# `make test` installs what tests need (doctest-dev), builds, runs every test and ends with
# "N passed, N failed"; `make test SANITIZE=1` does the same under ASan + UBSan.

CXX      ?= g++
CXXSTD   := -std=c++20
WARN     := -Wall -Wextra -Werror
OPT      ?= -O2
CXXFLAGS ?=
LDFLAGS  ?=
VERSION  := 0.1.0
PREFIX   ?= /usr/local

ifeq ($(SANITIZE),1)
  BUILD  := build/san
  BIN    := build/san/bin
  OPT    := -O1
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
  BUILD  := build/rel
  BIN    := bin
  SANFLAGS :=
endif

ALLFLAGS := $(CXXSTD) $(WARN) $(OPT) -g -MMD -MP -DDAILYNET_VERSION='"$(VERSION)"' $(SANFLAGS) $(CXXFLAGS)

COMMON_SRC := $(wildcard common/*.cpp)
SERVER_SRC := $(filter-out server/main.cpp,$(wildcard server/*.cpp))
CLIENT_SRC := $(filter-out client/main.cpp,$(wildcard client/*.cpp))
SUPPORT_SRC := $(wildcard tests/support/*.cpp)
UNIT_SRC   := $(wildcard tests/unit/*.cpp) $(SUPPORT_SRC)
# The integration tests read the client's JSON with the server's string reader (http_json).
INTEG_SRC  := $(wildcard tests/integration/*.cpp) $(SUPPORT_SRC) server/http_json.cpp

obj = $(patsubst %.cpp,$(BUILD)/%.o,$(1))

.PHONY: all run test unit integration deps deps-browser clean install uninstall fuzz bench bench-tools
all: $(BIN)/dailynetd $(BIN)/dailynet

$(BUILD)/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX  $<"
	@$(CXX) $(ALLFLAGS) -c $< -o $@

# The web page (web/*), embedded in the server as raw string literals (server/http_assets.cpp).
WEB_FILES := web/index.html web/app.js web/style.css web/icon.svg
$(BUILD)/gen/web_assets.inc: $(WEB_FILES)
	@mkdir -p $(dir $@)
	@echo "  GEN  $@"
	@{ for f in $(WEB_FILES); do \
	     n=$$(basename $$f | sed -E 's/^(.)([^.]*)\.(.)(.*)$$/\U\1\E\2\U\3\E\4/'); \
	     if grep -q ')dnweb"' $$f; then echo "$$f holds the delimiter )dnweb\"" >&2; exit 1; fi; \
	     printf 'constexpr std::string_view k%s = R"dnweb(' "$$n"; cat $$f; printf ')dnweb";\n'; \
	   done; } > $@.tmp && mv $@.tmp $@
$(BUILD)/server/http_assets.o: $(BUILD)/gen/web_assets.inc
$(BUILD)/server/http_assets.o: ALLFLAGS += -I$(BUILD)/gen

$(BIN)/dailynetd: $(call obj,server/main.cpp $(SERVER_SRC) $(COMMON_SRC))
	@mkdir -p $(dir $@)
	@echo "  LINK $@"
	@$(CXX) $(ALLFLAGS) $^ -o $@ $(LDFLAGS)

$(BIN)/dailynet: $(call obj,client/main.cpp $(CLIENT_SRC) $(COMMON_SRC))
	@mkdir -p $(dir $@)
	@echo "  LINK $@"
	@$(CXX) $(ALLFLAGS) $^ -o $@ $(LDFLAGS)

$(BUILD)/tests/unit_tests: $(call obj,$(UNIT_SRC) $(SERVER_SRC) $(CLIENT_SRC) $(COMMON_SRC))
	@mkdir -p $(dir $@)
	@echo "  LINK $@"
	@$(CXX) $(ALLFLAGS) $^ -o $@ $(LDFLAGS)

$(BUILD)/tests/integration_tests: $(call obj,$(INTEG_SRC) $(COMMON_SRC))
	@mkdir -p $(dir $@)
	@echo "  LINK $@"
	@$(CXX) $(ALLFLAGS) $^ -o $@ $(LDFLAGS)

run: all
	$(BIN)/dailynetd

# The browser test (tests/scripts/browser_test.sh): Debian's chromium, nodejs and npm, then
# puppeteer-core (tests/browser/package.json) into tests/browser/node_modules. Optional: when
# any of it can not be installed, the browser test says "skipped" and why.
deps-browser:
	@need=""; \
	command -v chromium >/dev/null || need="chromium"; \
	command -v node >/dev/null || need="$$need nodejs"; \
	command -v npm >/dev/null || need="$$need npm"; \
	if [ -n "$$need" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing browser test dependencies:$$need"; \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null 2>&1 || \
	   (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null 2>&1)) \
	   || echo "make: could not install$$need: the browser test will be skipped"; \
	fi; \
	if [ ! -f tests/browser/node_modules/puppeteer-core/package.json ] && command -v npm >/dev/null; then \
	  echo "installing puppeteer-core into tests/browser/node_modules"; \
	  (cd tests/browser && timeout 300 npm install --no-audit --no-fund --no-package-lock \
	     --loglevel=error >/dev/null 2>&1) \
	   || echo "make: npm could not install puppeteer-core: the browser test will be skipped"; \
	fi

# Test-only dependencies: Debian's doctest-dev (required), groff-base (the man page test
# renders the pages with it) and less (the session's pager test). Installed when missing if we
# are root.
deps: deps-browser
	@need=""; \
	if [ ! -f /usr/include/doctest/doctest.h ] && [ ! -f /usr/include/doctest.h ]; then need="doctest-dev"; fi; \
	if ! command -v groff >/dev/null; then need="$$need groff-base"; fi; \
	if ! command -v strace >/dev/null; then need="$$need strace"; fi; \
	if ! command -v less >/dev/null; then need="$$need less"; fi; \
	if [ -n "$$need" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing test dependencies:$$need"; \
	    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null 2>&1 || \
	     (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need)) \
	     || { echo "make: could not install$$need"; exit 1; }; \
	  elif echo "$$need" | grep -q doctest; then \
	    echo "make: tests need doctest: run 'sudo apt-get install doctest-dev'"; exit 1; \
	  else \
	    echo "make: missing$$need ('sudo apt-get install$$need'): man pages are not rendered without groff, the durability test is skipped without strace"; \
	  fi; \
	fi

test: deps
	@$(MAKE) --no-print-directory all $(BUILD)/tests/unit_tests $(BUILD)/tests/integration_tests
	@BIN_DIR=$(BIN) BUILD_DIR=$(BUILD) bash tests/run_all.sh

# Benchmark tools: each scripts/bench/NAME.cpp is one program, build/rel/bench/NAME.
BENCH_SRC := $(wildcard scripts/bench/*.cpp)
BENCH_BIN := $(patsubst scripts/bench/%.cpp,$(BUILD)/bench/%,$(BENCH_SRC))
bench-tools: $(BENCH_BIN)
$(BUILD)/bench/%: $(BUILD)/scripts/bench/%.o $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	@echo "  LINK $@"
	@$(CXX) $(ALLFLAGS) $^ -o $@ $(LDFLAGS)
bench: all bench-tools
	bash scripts/bench.sh

# libFuzzer targets: tests/fuzz/NAME_fuzz.cpp, corpus in tests/fuzz/corpus/NAME/.
# `make fuzz FUZZ_SECONDS=60` runs each for that long.
FUZZ_SECONDS ?= 30
FUZZ_SRC := $(wildcard tests/fuzz/*_fuzz.cpp)
FUZZ_BIN := $(patsubst tests/fuzz/%_fuzz.cpp,build/fuzz/%,$(FUZZ_SRC))
FUZZ_LIB := $(COMMON_SRC) server/store_scan.cpp server/store_format.cpp server/http_request.cpp \
            server/http_json.cpp
build/fuzz/%: tests/fuzz/%_fuzz.cpp $(FUZZ_LIB) tests/fuzz/fuzz_assert.hpp
	@mkdir -p $(dir $@)
	clang++ $(CXXSTD) -g -O1 -fsanitize=fuzzer,address,undefined $(filter %.cpp,$^) -o $@
fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p tests/fuzz/corpus/$$n build/fuzz/corpus-$$n; \
	  echo "== fuzzing $$n for $(FUZZ_SECONDS) s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/fuzz/corpus-$$n tests/fuzz/corpus/$$n \
	    2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|crash-' || exit 1; done

# Install: binaries, man pages, bash completion. PREFIX and DESTDIR as usual.
install: all
	install -Dm755 $(BIN)/dailynetd $(DESTDIR)$(PREFIX)/bin/dailynetd
	install -Dm755 $(BIN)/dailynet $(DESTDIR)$(PREFIX)/bin/dailynet
	@if [ -f man/dailynetd.8 ]; then install -Dm644 man/dailynetd.8 $(DESTDIR)$(PREFIX)/share/man/man8/dailynetd.8; fi
	@if [ -f man/dailynet.1 ]; then install -Dm644 man/dailynet.1 $(DESTDIR)$(PREFIX)/share/man/man1/dailynet.1; fi
	@if [ -f scripts/dailynet.bash-completion ]; then install -Dm644 scripts/dailynet.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/dailynet; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/dailynetd $(DESTDIR)$(PREFIX)/bin/dailynet \
	  $(DESTDIR)$(PREFIX)/share/man/man8/dailynetd.8 $(DESTDIR)$(PREFIX)/share/man/man1/dailynet.1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/dailynet

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)

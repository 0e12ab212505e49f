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
UNIT_SRC   := $(wildcard tests/unit/*.cpp)
INTEG_SRC  := $(wildcard tests/integration/*.cpp)

obj = $(patsubst %.cpp,$(BUILD)/%.o,$(1))

.PHONY: all run test unit integration deps clean install uninstall fuzz bench
all: $(BIN)/dailynetd $(BIN)/dailynet

$(BUILD)/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(ALLFLAGS) -c $< -o $@

$(BIN)/dailynetd: $(call obj,server/main.cpp $(SERVER_SRC) $(COMMON_SRC))
	@mkdir -p $(dir $@)
	$(CXX) $(ALLFLAGS) $^ -o $@ $(LDFLAGS)

$(BIN)/dailynet: $(call obj,client/main.cpp $(CLIENT_SRC) $(COMMON_SRC))
	@mkdir -p $(dir $@)
	$(CXX) $(ALLFLAGS) $^ -o $@ $(LDFLAGS)

$(BUILD)/tests/unit_tests: $(call obj,$(UNIT_SRC) $(SERVER_SRC) $(CLIENT_SRC) $(COMMON_SRC))
	@mkdir -p $(dir $@)
	$(CXX) $(ALLFLAGS) $^ -o $@ $(LDFLAGS)

$(BUILD)/tests/integration_tests: $(call obj,$(INTEG_SRC) $(COMMON_SRC))
	@mkdir -p $(dir $@)
	$(CXX) $(ALLFLAGS) $^ -o $@ $(LDFLAGS)

run: all
	$(BIN)/dailynetd

# doctest is a test-only dependency: Debian's doctest-dev.
deps:
	@if [ ! -f /usr/include/doctest/doctest.h ] && [ ! -f /usr/include/doctest.h ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing doctest-dev (test dependency)"; \
	    (apt-get install -y -qq doctest-dev >/dev/null 2>&1 || \
	     (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq doctest-dev)) \
	     || { echo "make: could not install doctest-dev"; exit 1; }; \
	  else \
	    echo "make: tests need doctest: run 'sudo apt-get install doctest-dev'"; exit 1; \
	  fi; \
	fi

test: deps
	@$(MAKE) --no-print-directory all $(BUILD)/tests/unit_tests $(BUILD)/tests/integration_tests
	@BIN_DIR=$(BIN) BUILD_DIR=$(BUILD) bash tests/run_all.sh

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)

# The two commands a newcomer needs (see README.md):
#   make run   — the main job
#   make test  — every check CI runs
# Both install what they need first (scripts/setup.sh).

GO          ?= go
# The modules of go.work: each go.mod requires released versions of the
# others, and go.work builds them from this tree. GOWORK is set here so that
# every target builds the same way whatever the caller's environment says.
MODULES     := . cmd/keel otel scripts/modproxy
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
export GOWORK := $(CURDIR)/go.work

.PHONY: run test setup fmt-check vet staticcheck cross unit report-check bench fuzz install-check

# The failover drill: every default scenario, every client, on a local
# cluster it starts and stops; writes drill-report.html and .json here.
run: setup
	cd cmd/keel && $(GO) run . drill -json "$(CURDIR)/drill-report.json" -html "$(CURDIR)/drill-report.html"

test: setup fmt-check vet staticcheck cross unit report-check

setup:
	@./scripts/setup.sh

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# internal/escape hides a pointer from escape analysis on purpose, which
# vet's unsafeptr check flags, in that package and (Go 1.26) in every
# package vetted that imports it: that one finding is let through (as are
# the go command's download notes on a fresh machine), any other fails the
# target.
ESCAPE_FINDING := internal/escape/escape.go:[0-9:]* possible misuse of unsafe.Pointer
vet:
	@for m in $(MODULES); do \
	  out="$$(cd $$m && $(GO) vet ./... 2>&1)"; \
	  rest="$$(printf '%s\n' "$$out" | grep -v -e '^#' -e '^go: downloading ' -e '$(ESCAPE_FINDING)' || true)"; \
	  if [ -n "$$rest" ]; then echo "vet $$m:"; printf '%s\n' "$$out"; exit 1; fi; \
	done

staticcheck:
	@for m in $(MODULES); do (cd $$m && $(GO) run $(STATICCHECK) ./...) || exit 1; done

# The library compiles on one platform of each kind its system-call files
# tell apart (Linux with the low-water mark, as here, and without it; Linux
# whose package syscall reaches sockets only through socketcall; Unixes
# whose system calls go through libc; other Unixes; those with no recvfrom
# in package syscall; Windows; Plan 9; WebAssembly); the tests run on this
# one.
CROSS := linux/ppc64le linux/386 openbsd/amd64 darwin/arm64 solaris/amd64 windows/amd64 plan9/amd64 wasip1/wasm

cross:
	@for p in $(CROSS); do \
	  GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build ./... || { echo "cross: the library does not build for $$p"; exit 1; }; \
	done

unit:
	@for m in $(MODULES); do (cd $$m && $(GO) test -race -count=1 ./...) || exit 1; done
	@# Allocation counts mean nothing under -race (it makes sync.Pool drop
	@# items), and the race detector's own slowness starves the client more
	@# than the overload test allows for: both run once more without it.
	$(GO) test -count=1 -run '^(TestCommandAllocations|TestPipelineAllocations|TestHookedCommandAllocations|TestClientOverloadIsNotANodeFailure)$$' .

# Render a drill HTML report in headless Chromium (installed when missing)
# and check the screenshot really shows the charts.
report-check:
	@./scripts/check-report.sh

# Install the tool with `go install …/cmd/keel@<version>` from a module
# proxy built from this repository's HEAD, offline, and run `keel version`
# (default: the newest version in CHANGELOG.md; VERSION=v0.1.0 to choose).
install-check:
	./scripts/install-from-proxy.sh $(VERSION)

bench: setup
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Fuzz the RESP reader and the connection's reply matching; FUZZTIME=60s
# each by default.
fuzz:
	$(GO) test ./resp/ -run '^$$' -fuzz FuzzReader -fuzztime $${FUZZTIME:-60s}
	$(GO) test ./internal/conn/ -run '^$$' -fuzz FuzzRepliesReachOnlyTheirRequests -fuzztime $${FUZZTIME:-60s}

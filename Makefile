# The two commands a newcomer needs (see README.md):
#   make run   — the main job
#   make test  — every check CI runs
# Both install what they need first (scripts/setup.sh).

GO          ?= go
MODULES     := . cmd/keel otel
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run test setup fmt-check vet staticcheck unit report-check bench fuzz

# The failover drill: every default scenario, every client, on a local
# cluster it starts and stops; writes drill-report.html and .json here.
run: setup
	cd cmd/keel && $(GO) run . drill -json "$(CURDIR)/drill-report.json" -html "$(CURDIR)/drill-report.html"

test: setup fmt-check vet staticcheck unit report-check

setup:
	@./scripts/setup.sh

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# internal/escape hides a pointer from escape analysis on purpose, which
# vet's unsafeptr check flags: that package alone is vetted without it.
vet:
	@for m in $(MODULES); do (cd $$m && $(GO) vet $$($(GO) list ./... | grep -v '/internal/escape$$')) || exit 1; done
	$(GO) vet -unsafeptr=false ./internal/escape/

staticcheck:
	@for m in $(MODULES); do (cd $$m && $(GO) run $(STATICCHECK) ./...) || exit 1; done

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

bench: setup
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Fuzz the RESP reader and the connection's reply matching; FUZZTIME=60s
# each by default.
fuzz:
	$(GO) test ./resp/ -run '^$$' -fuzz FuzzReader -fuzztime $${FUZZTIME:-60s}
	$(GO) test ./internal/conn/ -run '^$$' -fuzz FuzzRepliesReachOnlyTheirRequests -fuzztime $${FUZZTIME:-60s}

# wxpay — see README.md. Every target works on a fresh machine with Go.
GO        ?= go
LINT      := $(GO) tool -modfile=tools/lint/go.mod staticcheck
GENERATED := gen services.gen.go callback/events.gen.go docs/apis.md

.PHONY: all demo test generate check lint bench fuzz

all: generate test

## demo: the whole payment story on the embedded sandbox (arrives with cmd/wxpay)
demo:
	$(GO) run ./cmd/wxpay demo

## test: the test suite, as CI runs it
test:
	$(GO) test ./...

## generate: regenerate everything derived from api/openapi.yaml
generate:
	$(GO) generate .

## check: fail when the generated code is not what `make generate` produces
check:
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
	git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$$scratch" 2>/dev/null; \
	( cd "$$scratch" && $(GO) generate . ) || exit 1; \
	status=0; for p in $(GENERATED); do \
		diff -r -x .build "$$p" "$$scratch/$$p" >/dev/null || { echo "stale generated code: $$p (run make generate)"; diff -r -x .build "$$p" "$$scratch/$$p" | head -20; status=1; }; \
	done; \
	[ $$status = 0 ] && echo "generated code is fresh"; exit $$status

## lint: gofmt, go vet and staticcheck
lint:
	@out=$$(gofmt -l . | grep -v '^tools/' ); [ -z "$$out" ] || { echo "gofmt needed: $$out"; exit 1; }
	$(GO) vet ./...
	$(LINT) ./...

## bench: benchmarks with allocations
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# wxpay — see README.md. Every target works on a fresh machine with Go.
GO        ?= go
LINT      := $(GO) tool -modfile=tools/lint/go.mod staticcheck
GENERATED := gen services.gen.go docs/apis.md config.gen.go

.PHONY: all demo test generate check lint bench fuzz

all: generate test

## demo: the whole payment story on the embedded sandbox (arrives with cmd/wxpay)
demo:
	$(GO) run ./cmd/wxpay demo

## test: the test suite, as CI runs it (includes the examples module)
test:
	$(GO) test -race ./...

## generate: regenerate everything derived from api/openapi.yaml
generate:
	$(GO) generate .

## check: fail when the generated code is not what `make generate` produces
check:
	bash .ci/check-generated

## lint: gofmt, go vet and staticcheck
lint:
	@out=$$(gofmt -l . | grep -v '^tools/' ); [ -z "$$out" ] || { echo "gofmt needed: $$out"; exit 1; }
	$(GO) vet ./...
	cd examples && $(GO) vet ./...
	$(LINT) ./...

## bench: benchmarks with allocations
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

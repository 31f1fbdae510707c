# pushline — see README.md. Every target works on a fresh clone.
SHELL := /bin/bash
GO ?= go
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export GOFLAGS := -buildvcs=false
FUNCTIONS := $(notdir $(wildcard functions/*))

.PHONY: demo local test build synth deploy asl bench node fmt-check vet lint system

## demo: a full pipeline run on the local stack against a sample repository (under 60 s)
demo:
	@$(GO) build -o build/demo ./infra/demo && exec ./build/demo

## local: the local stack in the foreground until SIGINT/SIGTERM
local:
	@$(GO) build -o build/local ./infra/local && exec ./build/local

## test: every test (CI runs this)
test: system node fmt-check vet lint
	$(GO) test -count=1 -timeout 14m ./...

## build: the Lambda bootstraps (linux/arm64, static, stripped, -tags lambda.norpc)
build:
	@for f in $(FUNCTIONS); do \
	  echo "build functions/$$f -> build/$$f/bootstrap"; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
	    -o build/$$f/bootstrap ./functions/$$f || exit 1; \
	done

## synth: cdk synth offline into cdk.out/
synth: node build
	npx --no-install cdk synth --quiet

## deploy: cdk deploy (needs AWS credentials)
deploy: node build
	npx --no-install cdk deploy

## asl: print the generated state machine definition for the current config
asl:
	@$(GO) build -o build/asl ./infra/asl && ./build/asl

## bench: the Go benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# npm ci, then a go.mod in node_modules so that ./... (go vet, go test) leaves
# the Go files some npm packages ship (aws-cdk's init templates) alone.
node: node_modules/go.mod
node_modules/go.mod: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	printf 'module ignore/node_modules\n' > node_modules/go.mod

# The Debian packages the tests need: chromium (browser tests of the run
# pages) and bubblewrap (the local build sandbox). Installed when missing and
# run as root; otherwise one line says what to install.
SYSTEM_PKGS := chromium:chromium bwrap:bubblewrap
system:
	@missing=; for p in $(SYSTEM_PKGS); do command -v $${p%%:*} >/dev/null || missing="$$missing $${p##*:}"; done; \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      echo "installing$$missing (apt-get)"; \
	      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing >/dev/null) || exit 1; \
	    else echo "make test needs:$$missing (Debian: sudo apt-get install$$missing)"; exit 1; fi; \
	  fi

# staticcheck and a dead-code check, at pinned versions through the module proxy.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
DEADCODE := golang.org/x/tools/cmd/deadcode@v0.52.0
lint:
	$(GO) run $(STATICCHECK) ./...
	@out=$$($(GO) run $(DEADCODE) -test ./...); if [ -n "$$out" ]; then echo "dead code:"; echo "$$out"; exit 1; fi

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# podstart. `make run` and `make test` each install what they need first.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/podstart
STATICCHECK := $(CACHE)/tools/staticcheck-v0.8.2/staticcheck
LISTEN ?= 127.0.0.1:9857
FUZZTIME ?= 30s
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
LDFLAGS := -X github.com/prometheus/common/version.Version=$(VERSION) \
	-X github.com/prometheus/common/version.Revision=$(shell git rev-parse HEAD 2>/dev/null) \
	-X github.com/prometheus/common/version.Branch=$(shell git rev-parse --abbrev-ref HEAD 2>/dev/null)

.PHONY: build run test e2e lint fuzz bench clean

build:
	scripts/deps.sh build
	go build -ldflags "$(LDFLAGS)" -o bin/node-agent ./cmd/node-agent

# Replays the real node journal recorded by the end-to-end run and shipped in
# testdata/ (testdata/recordings/e2e-node-v2): prints the per-pod report, then
# serves the metrics on it until Ctrl-C.
run: build
	@rm -rf $(CACHE)/run && mkdir -p $(CACHE)/run && tar --zstd -xf testdata/recordings/e2e-node-v2/journal.tar.zst -C $(CACHE)/run
	bin/node-agent report --journal.path $(CACHE)/run/journal
	@echo
	@echo "Serving the same journal: http://$(LISTEN)/metrics  http://$(LISTEN)/pods  (Ctrl-C stops)"
	bin/node-agent --journal.path $(CACHE)/run/journal --since 2000-01-01T00:00:00Z --timeline.ttl 876000h \
		--state.file "" --cri.endpoint none --web.listen-address $(LISTEN)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	go vet -tags e2e ./...
	$(STATICCHECK) -tags e2e ./...

# Unit, end-to-end-on-recordings and CRI integration tests (the latter bring
# test/stack up; it is taken down again whatever happens).
test:
	scripts/deps.sh test
	$(MAKE) lint
	go test -count=1 -timeout 30m ./...; rc=$$?; test/stack/down; exit $$rc

# The real node: a kubelet v1.37.2 built from source, containerd, journald,
# Prometheus; eight scenarios at --v=0, 2 and 3 (test/e2e).
e2e:
	scripts/deps.sh test
	test/stack/install --kubelet
	go test -count=1 -tags e2e -timeout 60m -v ./test/e2e/; rc=$$?; test/stack/down; exit $$rc

# Runs every fuzz target for FUZZTIME each; crashers land in testdata/fuzz/.
fuzz:
	scripts/deps.sh build
	@for pkg in $$(go list ./...); do \
		for f in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; go test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

bench:
	scripts/deps.sh test
	bench/run

clean:
	rm -rf bin

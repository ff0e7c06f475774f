# attnlab: the two commands a fresh machine needs are `make demo` and
# `make test`; everything they need is installed from here.

GO      ?= go
PKGS    ?= ./...
BENCH   ?= .
BENCHTIME ?= 1s
COUNT   ?= 5

.PHONY: all deps build test bench golden fmt demo clean proto tools

all: build

# deps fetches the Go modules (Go and gcc come with the machine; cgo is used
# by the SQLite driver, mattn/go-sqlite3).
deps:
	$(GO) mod download

# build compiles everything, then the attnlab binary into bin/ and every
# plugin (plugins/KIND/NAME/cmd) into bin/plugins/KIND-NAME, and locks the
# plugins' checksums.
build: deps
	$(GO) build $(PKGS)
	$(GO) build -o bin/attnlab ./harness/cmd/attnlab
	@mkdir -p bin/plugins
	@for d in plugins/*/*/cmd; do \
		kind=$$(echo $$d | cut -d/ -f2); name=$$(echo $$d | cut -d/ -f3); \
		echo "$(GO) build -o bin/plugins/$$kind-$$name ./$$d"; \
		$(GO) build -o bin/plugins/$$kind-$$name ./$$d || exit 1; \
	done
	bin/attnlab plugins lock --plugins bin/plugins

# test runs every test, then the kernels again with the pure-Go fallback
# forced by the purego build tag, so both paths are checked on every run.
test: deps
	$(GO) test -count=1 -timeout 20m $(PKGS)
	$(GO) test -count=1 -tags purego -timeout 10m ./kernels/...

# bench runs every benchmark COUNT times, then prints the median of each
# metric and the ratios against the references measured in the same run
# (FMA peak, gonum's Sgemm, unfused attention, one thread, in-process
# trial steps). The machine is shared and
# noisy: quote medians, and run nothing else meanwhile.
# Example: make bench BENCH='MatMul' COUNT=3
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -count $(COUNT) -benchmem -timeout 60m ./kernels/... ./harness/ ./tracking/ | tee bench.txt
	$(GO) run ./kernels/internal/benchsummary < bench.txt

# golden regenerates the PyTorch reference values (needs Debian's
# python3-torch; tests only read the committed files).
PYTHON_TORCH ?= /usr/bin/python3
golden:
	$(PYTHON_TORCH) -c 'import torch' 2>/dev/null || (apt-get update && apt-get install -y python3-torch)
	$(PYTHON_TORCH) kernels/testdata/gen_golden.py kernels/testdata/golden

# proto regenerates plugins/proto/v1 from attnlab.proto with pinned
# generators: protoc from Debian's protobuf-compiler, protoc-gen-go and
# protoc-gen-go-grpc from the Go module proxy, installed into bin/tools.
PROTOC_GEN_GO_VERSION      = v1.36.12
PROTOC_GEN_GO_GRPC_VERSION = v1.5.1
TOOLS = $(CURDIR)/bin/tools
tools:
	command -v protoc >/dev/null || (apt-get update && apt-get install -y protobuf-compiler)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)

proto: tools
	cd plugins/proto/v1 && PATH=$(TOOLS):$$PATH protoc --go_out=. --go_opt=paths=source_relative \
		--go-grpc_out=. --go-grpc_opt=paths=source_relative attnlab.proto

# demo builds everything, runs the quickstart sweep (two attention settings
# × two seeds on the copy task, through the plugins, logging to runs.db),
# lists the results and writes their report (Markdown, self-contained HTML,
# PNG/SVG plots) to REPORT. Running it again resumes: finished trials are
# skipped.
DB ?= runs.db
REPORT ?= out/report/quickstart
demo: build
	bin/attnlab run configs/quickstart.yaml --db $(DB)
	bin/attnlab runs list quickstart --db $(DB)
	bin/attnlab report quickstart --db $(DB) --out $(REPORT)
	@echo "report: $(REPORT)/report.html (open it in a browser) and $(REPORT)/report.md"

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin out bench.txt

# volcard — see README.md. Every target installs missing system packages itself when run as root
# (scripts/deps.sh) and prints the exact apt-get command when not.
GO        ?= go
PKGS      ?= ./...
TESTFLAGS ?= -count=1 -timeout 20m
BENCHTIME ?= 2s

.PHONY: all build run test bench bench-large bench-import fuzz vet fmt clean cluster soak

all: build

build:
	@scripts/deps.sh run
	$(GO) build -o bin/volcard ./cmd/volcard

## run: start the service on its embedded defaults (SQLite in ./data, in-process bank simulator, software card)
run:
	@scripts/deps.sh run
	$(GO) run ./cmd/volcard serve --seed-demo

## test: vet, then every test against a throwaway PostgreSQL and the real pcscd + vpcd
## (the console's browser tests leave their screenshots in ARTIFACTS)
ARTIFACTS ?= $(CURDIR)/artifacts
test:
	@scripts/deps.sh test
	$(GO) vet $(PKGS)
	VOLCARD_ARTIFACTS=$(ARTIFACTS) scripts/with-postgres.sh $(GO) test $(TESTFLAGS) $(PKGS)

## bench: the benchmarks named in docs/benchmarks.md, in one run (output also in bench.out)
bench:
	@scripts/deps.sh bench
	scripts/with-postgres.sh $(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 60m $(PKGS) 2>&1 | tee bench.out

## bench-import: the platform import of one million volunteers on PostgreSQL (200 batches of 5,000; ~1 min)
bench-import:
	@scripts/deps.sh bench
	scripts/with-postgres.sh $(GO) test -run '^$$' -bench ImportVolunteers -benchtime 200x -timeout 30m ./issuance/platformlink/ 2>&1 | tee bench-import.out

## bench-large: the province targets report at 8.15 M volunteers (Guangdong's 2017 count); ~15 min, ~4 GB; not in CI
bench-large:
	@scripts/deps.sh bench
	VOLCARD_BENCH_VOLUNTEERS=8150000 scripts/with-postgres.sh $(GO) test -run '^$$' -bench TargetsReport -benchtime 200x -timeout 120m ./issuance/seed/ 2>&1 | tee bench-large.out

## cluster: PostgreSQL, bank-sim and two serve processes on this machine until Ctrl-C (scripts/cluster.sh)
cluster:
	@scripts/deps.sh test
	scripts/cluster.sh

## soak: SOAK (default 60s) of applications, taps and reads against two serve processes, one killed midway
SOAK ?= 60s
soak:
	@scripts/deps.sh test
	VOLCARD_SOAK=$(SOAK) scripts/with-postgres.sh $(GO) test -run '^TestSoak$$' -count=1 -v -timeout 30m ./cmd/volcard 2>&1 | tee soak.out

## fuzz: run every fuzz target for FUZZTIME each (seeds alone run in `make test`)
FUZZTIME ?= 20s
fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin bench.out soak.out bench-import.out

package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkMatMul/n=256/threads=1-2     10  100 ns/op  50.0 GFLOP/s
BenchmarkMatMul/n=256/threads=1-2     10  100 ns/op  70.0 GFLOP/s
BenchmarkMatMul/n=256/threads=1-2     10  100 ns/op  60.0 GFLOP/s
BenchmarkMatMul/n=256/threads=2-2     10  100 ns/op  120 GFLOP/s
BenchmarkMatMulGonum/n=256/threads=1-2 10 100 ns/op  10.0 GFLOP/s
BenchmarkFMAPeak/isa=avx512-2 10 100 ns/op  120 GFLOP/s
BenchmarkAttention/variant=full/seq=256/threads=1/pass=fwd-2 10 100 ns/op 2.0 ms/op
BenchmarkAttentionUnfused/variant=full/seq=256/threads=1/pass=fwd-2 10 100 ns/op 5.0 ms/op
BenchmarkAttentionLRA/variant=full/mask=none/seq=4096/threads=1/pass=fwdbwd-2 10 100 ns/op 600 ms/op
BenchmarkAttentionLRA/variant=flash/mask=none/seq=4096/threads=1/pass=fwdbwd-2 10 100 ns/op 750 ms/op
BenchmarkAttentionLRA/variant=performer/mask=none/seq=4096/threads=1/pass=fwdbwd-2 10 100 ns/op 150 ms/op
BenchmarkTrialStep/mode=inprocess/threads=1-2 10 100 ns/op 100 ms/op
BenchmarkTrialStep/mode=plugins/threads=1-2 10 100 ns/op 105 ms/op
BenchmarkTrialOverhead-2 3 100 ns/op 200 compute_ms/op 300 ms/op 100 overhead_ms/op
PASS
`

func TestReport(t *testing.T) {
	res, order, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	report(&b, res, order)
	out := b.String()
	for _, want := range []string{
		"BenchmarkMatMul/n=256/threads=1",
		"60.00 GFLOP/s", // median of 50, 70, 60
		"vs BenchmarkMatMulGonum: 6.00x",
		"vs threads=1: 2.00x",
		"vs BenchmarkAttentionUnfused: 2.50x",
		"variant=flash/mask=none/seq=4096/threads=1/pass=fwdbwd vs variant=full: 0.80x",
		"variant=performer/mask=none/seq=4096/threads=1/pass=fwdbwd vs variant=full: 4.00x",
		"of FMA peak (120 GFLOP/s per core): 50%", // 60 of 120
		"of FMA peak (120 GFLOP/s per core): 50%", // 120 of 2×120
		"vs mode=inprocess: 1.050x the time",
		"harness overhead per trial: 100 ms of 300 ms",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

package seq2seq

import (
	"slices"
	"testing"

	"github.com/attnlab/attnlab/plugins/sdk"
)

const ign = sdk.IgnoreIndex

// mustInit returns an initialised objective for raw parameters and checks
// its input spec.
func mustInit(t testing.TB, raw sdk.Config, batch int, seed uint64) *objective {
	t.Helper()
	o := New().(*objective)
	spec, err := o.Init(raw, batch, seed)
	if err != nil {
		t.Fatalf("Init(%v, %d, %d): %v", raw, batch, seed, err)
	}
	want := sdk.InputSpec{Vocab: Vocab, SeqLen: o.seqLen, Batch: batch, Output: "tokens", Task: sdk.TaskSeq2Seq,
		TargetLen: o.targetLen, Generate: true, BOS: BOS}
	if spec != want {
		t.Fatalf("Init(%v) spec = %+v, want %+v", raw, spec, want)
	}
	return o
}

// example is one example of a batch, copied out of its buffers.
type example struct {
	in, km, dec, tg []int32
}

// source returns the example's source: its inputs under the key mask.
func (x example) source() []int32 {
	n := 0
	for n < len(x.km) && x.km[n] == 1 {
		n++
	}
	return x.in[:n]
}

// target returns the example's target tokens, before EOS.
func (x example) target() []int32 {
	m := slices.Index(x.tg, EOS)
	if m < 0 {
		return x.tg
	}
	return x.tg[:m]
}

// mustBatch returns copies of the examples of batch index of split.
func mustBatch(t testing.TB, o *objective, split sdk.Split, index int) []example {
	t.Helper()
	b, err := o.Batch(split, index)
	if err != nil {
		t.Fatalf("Batch(%s, %d): %v", split, index, err)
	}
	T, U := o.seqLen, o.targetLen
	var xs []example
	for e := range o.batch {
		xs = append(xs, example{
			in:  slices.Clone(b.Inputs.Data[e*T : (e+1)*T]),
			km:  slices.Clone(b.KeyMask.Data[e*T : (e+1)*T]),
			dec: slices.Clone(b.DecoderInputs.Data[e*U : (e+1)*U]),
			tg:  slices.Clone(b.Targets.Data[e*U : (e+1)*U]),
		})
	}
	return xs
}

// configs are small configurations of each dataset.
func configs() map[string]sdk.Config {
	return map[string]sdk.Config{
		"reverse": {"dataset": "reverse", "seq_len": 9, "min_len": 2, "symbols": 7},
		"sort":    {"dataset": "sort", "seq_len": 12, "symbols": 5},
		"add":     {"dataset": "add", "seq_len": 9, "digits": 4},
		"text":    {"dataset": "text", "path": "testdata/numbers.tsv", "seq_len": 32, "target_len": 3},
	}
}

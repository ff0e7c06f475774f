package classify

import (
	"slices"
	"testing"

	"github.com/attnlab/attnlab/plugins/sdk"
)

// mustInit returns an initialised objective for raw parameters and checks
// its input spec.
func mustInit(t testing.TB, raw sdk.Config, batch int, seed uint64) *objective {
	t.Helper()
	o := New().(*objective)
	spec, err := o.Init(raw, batch, seed)
	if err != nil {
		t.Fatalf("Init(%v, %d, %d): %v", raw, batch, seed, err)
	}
	want := sdk.InputSpec{Vocab: o.vocab, SeqLen: o.seqLen, Batch: batch, Classes: o.classes, Output: "classes", Task: sdk.TaskClassify}
	if spec != want {
		t.Fatalf("Init(%v) spec = %+v, want %+v", raw, spec, want)
	}
	return o
}

// example is one example of a batch, copied out of its buffers.
type example struct {
	in, km []int32
	label  int32
}

// tokens returns the example's real tokens after [CLS] (or all of them
// without one).
func (x example) tokens(cls bool) []int32 {
	n := 0
	for n < len(x.km) && x.km[n] == 1 {
		n++
	}
	if cls {
		return x.in[1:n]
	}
	return x.in[:n]
}

// mustBatch returns copies of the examples of batch index of split.
func mustBatch(t testing.TB, o *objective, split sdk.Split, index int) []example {
	t.Helper()
	b, err := o.Batch(split, index)
	if err != nil {
		t.Fatalf("Batch(%s, %d): %v", split, index, err)
	}
	T := o.seqLen
	var xs []example
	for e := range o.batch {
		xs = append(xs, example{
			in:    slices.Clone(b.Inputs.Data[e*T : (e+1)*T]),
			km:    slices.Clone(b.KeyMask.Data[e*T : (e+1)*T]),
			label: b.Targets.Data[e],
		})
	}
	return xs
}

func equalExample(x, y example) bool {
	return slices.Equal(x.in, y.in) && slices.Equal(x.km, y.km) && x.label == y.label
}

// configs are small configurations of each dataset.
func configs() map[string]sdk.Config {
	return map[string]sdk.Config{
		"listops": {"dataset": "listops", "seq_len": 64},
		"text":    {"dataset": "text", "path": "testdata/colours.tsv", "seq_len": 40},
	}
}

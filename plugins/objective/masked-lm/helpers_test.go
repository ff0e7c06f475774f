package maskedlm

import (
	"slices"
	"testing"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectivetest"
	"github.com/attnlab/attnlab/plugins/sdk"
)

const ign = sdk.IgnoreIndex

// mustInit returns an initialised objective for raw parameters.
func mustInit(t testing.TB, raw sdk.Config, batch int, seed uint64) *objective {
	t.Helper()
	o := New().(*objective)
	spec, err := o.Init(raw, batch, seed)
	if err != nil {
		t.Fatalf("Init(%v, %d, %d): %v", raw, batch, seed, err)
	}
	want := sdk.InputSpec{Vocab: Vocab, SeqLen: o.seqLen, Batch: batch, Output: "tokens", Task: sdk.TaskMaskedLM}
	if spec != want {
		t.Fatalf("Init(%v) spec = %+v, want %+v", raw, spec, want)
	}
	return o
}

// example is a copy of one batch's tensors, safe from later Batch calls.
type example struct {
	in, tg, km []int32 // km nil when the batch has no KeyMask
}

// mustBatch returns a copy of batch index of split.
func mustBatch(t testing.TB, o *objective, split sdk.Split, index int) example {
	t.Helper()
	b, err := o.Batch(split, index)
	if err != nil {
		t.Fatalf("Batch(%s, %d): %v", split, index, err)
	}
	ex := example{in: slices.Clone(b.Inputs.Data), tg: slices.Clone(b.Targets.Data)}
	if b.KeyMask != nil {
		ex.km = slices.Clone(b.KeyMask.Data)
	}
	return ex
}

// asciiText returns n printable ASCII bytes (valid UTF-8), uniform over
// the 95 characters from ' ' to '~'.
func asciiText(n int, seed uint64) []byte {
	r := rng.New(seed)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(' ' + r.Intn(95))
	}
	return b
}

// configs are small configurations of each dataset.
func configs(t testing.TB) map[string]sdk.Config {
	return map[string]sdk.Config{
		"text":   {"dataset": "text", "seq_len": 16, "path": objectivetest.WriteFile(t, "corpus.txt", asciiText(4000, 3))},
		"repeat": {"dataset": "repeat", "seq_len": 20, "repeat_vocab": 8},
	}
}

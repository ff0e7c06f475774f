package maskedlm

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectivetest"
	"github.com/attnlab/attnlab/plugins/sdk"
)

func TestUnigramEntropy(t *testing.T) {
	all := make([]byte, 512)
	for i := range all {
		all[i] = byte(i)
	}
	cases := []struct {
		name string
		data []byte
		want float64 // nats per byte
	}{
		{"empty", nil, 0},
		{"one symbol", []byte("aaaa"), 0},
		{"two equal", []byte("abab"), math.Ln2},
		{"1:3", []byte("abbb"), -(0.25*math.Log(0.25) + 0.75*math.Log(0.75))},
		{"every byte twice", all, math.Log(256)},
	}
	for _, c := range cases {
		if got := UnigramEntropy(c.data); !objectivetest.Within(got, c.want, 1e-12, 1e-12) {
			t.Errorf("%s: UnigramEntropy = %v nats, want %v", c.name, got, c.want)
		}
	}
	// In bits: two equally likely symbols carry one bit.
	if bits := UnigramEntropy([]byte("xy")) / ln2; !objectivetest.Within(bits, 1, 1e-12, 0) {
		t.Errorf("two symbols: %v bits, want 1", bits)
	}
}

// dataset=text reports the whole file's unigram entropy as a metric of
// every Loss, so the store holds it beside the loss; repeat does not.
func TestUnigramEntropyMetric(t *testing.T) {
	data := []byte("the quick brown fox jumps over the lazy dog. ")
	var text []byte
	for range 40 {
		text = append(text, data...)
	}
	o := mustInit(t, sdk.Config{"dataset": "text", "seq_len": 16, "path": objectivetest.WriteFile(t, "fox.txt", text)}, 2, 1)
	b, err := o.Batch(sdk.Eval, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _, m, err := o.Loss(tensor.New(2, 16, Vocab), b)
	if err != nil {
		t.Fatal(err)
	}
	want := UnigramEntropy(text)
	if got, ok := m["unigram_entropy"]; !ok || got != want {
		t.Errorf("unigram_entropy metric = %v (present %v), want %v nats", got, ok, want)
	}
	t.Logf("unigram entropy of the test text: %.4f nats = %.4f bits per byte", want, want/ln2)

	r := mustInit(t, sdk.Config{"seq_len": 16}, 2, 1)
	rb, _ := r.Batch(sdk.Train, 0)
	if _, _, m, _ := r.Loss(tensor.New(2, 16, Vocab), rb); len(m) != 2 {
		t.Errorf("repeat metrics %v, want accuracy and tokens only", m)
	}
}

func TestInvalidUTF8Position(t *testing.T) {
	cases := []struct {
		data string
		want int
	}{
		{"", -1},
		{"plain ascii\n", -1},
		{"caf\u00e9 \u65e5\u672c", -1},
		{"ab\xffcd", 2},
		{"\xc3", 0},           // truncated two-byte sequence
		{"ok\xed\xa0\x80", 2}, // a UTF-16 surrogate is not UTF-8
	}
	for _, c := range cases {
		if got := invalidUTF8([]byte(c.data)); got != c.want {
			t.Errorf("invalidUTF8(%q) = %d, want %d", c.data, got, c.want)
		}
	}
}

package transformer

import (
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/attention/full"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// shape = auto picks the shape from the objective's task.
func TestShapeFollowsTask(t *testing.T) {
	for _, c := range []struct {
		in   sdk.InputSpec
		want string
	}{
		{tokensSpec(11, 8, 2), shapeDecoder},
		{maskedSpec(11, 8, 2), shapeEncoder},
		{classifySpec(11, 8, 2, 3), shapeEncoder},
		{seq2seqSpec(11, 8, 5, 2), shapeEncDec},
	} {
		m := build(t, sdk.Config{"layers": 1, "d_model": 8, "heads": 2}, c.in, sdk.DefaultOptimizer(), 1)
		if m.hp.shape != c.want {
			t.Errorf("task %q: shape %q, want %q", c.in.TaskName(), m.hp.shape, c.want)
		}
	}
}

// A shape that cannot serve the task, and specs that do not fit a shape,
// are errors naming both and what to set instead.
func TestShapeTaskMismatch(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  sdk.Config
		in   sdk.InputSpec
		want string
	}{
		{"encoder for causal-lm", sdk.Config{"shape": "encoder"}, tokensSpec(11, 8, 2),
			`shape = "encoder" cannot serve the objective's task "causal-lm", which predicts each next token from the tokens before it only (a causal decoder): set shape to "decoder" or "auto"`},
		{"decoder for masked-lm", sdk.Config{"shape": "decoder"}, maskedSpec(11, 8, 2),
			`shape = "decoder" cannot serve the objective's task "masked-lm"`},
		{"encoder-decoder for classify", sdk.Config{"shape": "encoder-decoder"}, classifySpec(11, 8, 2, 3),
			`shape = "encoder-decoder" cannot serve the objective's task "classify", which needs one pooled output per example (an encoder, or a decoder with pool = mean): set shape to "encoder" or "decoder" or "auto"`},
		{"encoder for seq2seq", sdk.Config{"shape": "encoder"}, seq2seqSpec(11, 8, 5, 2),
			`set shape to "encoder-decoder" or "auto"`},
		{"decoder classify by cls", sdk.Config{"shape": "decoder", "pool": "cls"}, classifySpec(11, 8, 2, 3),
			`shape = "decoder" with pool = "cls": the first token of a causal decoder sees only itself; use pool = "mean"`},
		{"decoder_layers without a decoder stack", sdk.Config{"decoder_layers": 2}, maskedSpec(11, 8, 2),
			`decoder_layers = 2 applies to shape "encoder-decoder" only, but the shape is "encoder"`},
		{"classify without classes", nil, sdk.InputSpec{Vocab: 11, SeqLen: 8, Batch: 2, Output: "tokens", Task: sdk.TaskClassify},
			`the objective's task is "classify" but it asks for output "tokens" with 0 classes: want output "classes" with at least 1 class`},
		{"masked-lm with classes", nil, sdk.InputSpec{Vocab: 11, SeqLen: 8, Batch: 2, Classes: 2, Output: "classes", Task: sdk.TaskMaskedLM},
			`the objective's task is "masked-lm" but it asks for output "classes"`},
		{"seq2seq without target length", nil, seq2seqSpec(11, 8, 0, 2),
			`the objective's target length is 0: an encoder-decoder needs TargetLen >= 1`},
		{"unknown task", nil, sdk.InputSpec{Vocab: 11, SeqLen: 8, Batch: 2, Output: "tokens", Task: "translate"},
			`the objective's task "translate" is not one this architecture serves`},
		{"unknown shape", sdk.Config{"shape": "prefix-lm"}, tokensSpec(11, 8, 2),
			`parameter "shape": got "prefix-lm", want one of auto, decoder, encoder, encoder-decoder`},
	} {
		opt := sdk.DefaultOptimizer()
		err := New().Init(c.cfg, c.in, opt, sdk.Bind(full.New(), nil, opt), 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
	// An attention without "causal" serves an encoder but not a decoder.
	opt := sdk.DefaultOptimizer()
	cfg := sdk.Config{"layers": 1, "d_model": 8, "heads": 2}
	if err := New().Init(cfg, maskedSpec(11, 8, 2), opt, sdk.Bind(bidirectionalOnly{full.New()}, nil, opt), 1); err != nil {
		t.Errorf("encoder with a non-causal attention: %v", err)
	}
	err := New().Init(cfg, seq2seqSpec(11, 8, 5, 2), opt, sdk.Bind(bidirectionalOnly{full.New()}, nil, opt), 1)
	if want := `does not list the "causal" capability, which the decoder of an encoder-decoder needs`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("encoder-decoder with a non-causal attention: %v, want %q", err, want)
	}
}

// bidirectionalOnly is full attention that claims no capability.
type bidirectionalOnly struct{ sdk.Attention }

func (a bidirectionalOnly) Describe() sdk.Description {
	d := a.Attention.Describe()
	d.Capabilities = []string{"padding_mask"}
	return d
}

// Forward checks an encoder-decoder's decoder inputs against its inputs
// and the objective's target length, and Backward the classes' shape.
func TestShapeUseErrors(t *testing.T) {
	const b, te, td, vocab = 2, 6, 4, 11
	cfg := sdk.Config{"layers": 1, "d_model": 8, "heads": 2}
	m := build(t, cfg, seq2seqSpec(vocab, te, td, b), sdk.DefaultOptimizer(), 1)
	in := ints(b, te, func(int, int) int32 { return 1 })
	dec := func(bb, n int, last int32) *sdk.Ints {
		return ints(bb, n, func(bi, ti int) int32 {
			if bi == bb-1 && ti == n-1 {
				return last
			}
			return 0
		})
	}
	for _, c := range []struct {
		name  string
		batch *sdk.Batch
		want  string
	}{
		{"no decoder inputs", &sdk.Batch{Inputs: in}, "an encoder-decoder needs batch.DecoderInputs, the decoder's tokens (B, T) with T <= the objective's target length 4"},
		{"decoder batch", &sdk.Batch{Inputs: in, DecoderInputs: dec(1, td, 0)}, "batch.DecoderInputs has shape (1, 4) and 4 ids, want (B, T) with B = 2 and 1 <= T <= 4 (the inputs' batch and the objective's target length)"},
		{"decoder too long", &sdk.Batch{Inputs: in, DecoderInputs: dec(b, td+1, 0)}, "batch.DecoderInputs has shape (2, 5)"},
		{"decoder id", &sdk.Batch{Inputs: in, DecoderInputs: dec(b, td, vocab)}, "batch.DecoderInputs[1, 3] = 11 is outside the vocabulary [0, 11)"},
		{"inputs too long", &sdk.Batch{Inputs: ints(b, te+1, func(int, int) int32 { return 1 }), DecoderInputs: dec(b, td, 0)}, "batch.Inputs has shape (2, 7) and 14 ids, want (B, T) with 1 <= B <= 2 and 1 <= T <= 6"},
	} {
		if _, err := m.Forward(c.batch, true); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}

	cl := build(t, cfg, classifySpec(vocab, te, b, 3), sdk.DefaultOptimizer(), 1)
	out, err := cl.Forward(&sdk.Batch{Inputs: in}, true)
	if err != nil {
		t.Fatal(err)
	}
	if out.Rank() != 2 || out.Shape[0] != b || out.Shape[1] != 3 {
		t.Fatalf("classification output %v, want (%d, 3)", out.Shape, b)
	}
	err = cl.Backward(tensor.New(b+1, 3))
	if want := "dout has shape (3, 3) and 9 elements, want the logits' shape (2, 3)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Backward with the wrong shape: %v, want %q", err, want)
	}
}

// NumParams of each shape: the GPT blocks' 12C² + 13C, a cross-attention
// sublayer's 4C² + 5C (no key bias) and norm, the final norms, and the
// heads.
func TestNumParamsPerShape(t *testing.T) {
	const v, s, td, c, f, k = 50, 16, 6, 24, 96, 3
	block := 2*c + (3*c*c + 3*c) + (c*c + c) + 2*c + (f*c + f) + (c*f + c)
	cross := 2*c + (c*c + c) + c*c + (c*c + c) + (c*c + c)
	for _, x := range []struct {
		name string
		cfg  sdk.Config
		in   sdk.InputSpec
		want int
	}{
		{"encoder masked-lm", sdk.Config{"layers": 2}, maskedSpec(v, s, 2), v*c + s*c + 2*block + 2*c},
		{"encoder classify", sdk.Config{"layers": 2}, classifySpec(v, s, 2, k), v*c + s*c + 2*block + 2*c + k*c + k},
		{"encoder-decoder tied", sdk.Config{"layers": 2, "decoder_layers": 3}, seq2seqSpec(v, s, td, 2),
			v*c + (s*c + 2*block + 2*c) + (td*c + 3*(block+cross) + 2*c)},
		{"encoder-decoder untied rope", sdk.Config{"layers": 1, "tie_embeddings": false, "positions": "rope"}, seq2seqSpec(v, s, td, 2),
			v*c + (block + 2*c) + (block + cross + 2*c) + v*c},
	} {
		x.cfg["d_model"], x.cfg["heads"] = c, 4
		if got := build(t, x.cfg, x.in, sdk.DefaultOptimizer(), 1).NumParams(); got != x.want {
			t.Errorf("%s: NumParams %d, want %d", x.name, got, x.want)
		}
	}
}

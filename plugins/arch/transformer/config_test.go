package transformer

import (
	"math"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/optim"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/attention/full"
	"github.com/attnlab/attnlab/plugins/sdk"
)

func TestDescribe(t *testing.T) {
	d := New().Describe()
	if d.Kind != sdk.KindArchitecture || d.Name != "transformer" || d.Version != "1.3.0" {
		t.Fatalf("Describe: %+v", d)
	}
	cfg, err := d.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := sdk.Config{"layers": int64(2), "d_model": int64(128), "heads": int64(4), "mlp_ratio": int64(4),
		"dropout": 0.0, "init_std": 0.02, "tie_embeddings": true, "layernorm_eps": 1e-5, "positions": "learned",
		"shape": "auto", "pool": "cls", "decoder_layers": int64(0), "kv_heads": int64(0)}
	for k, v := range want {
		if cfg[k] != v {
			t.Errorf("default %s = %v (%T), want %v (%T)", k, cfg[k], cfg[k], v, v)
		}
	}
	if len(cfg) != len(want) {
		t.Errorf("parameters %v, want %v", cfg, want)
	}
}

// NumParams is GPT-2's count: embeddings, 12C² + 13C per block, the final
// norm, and the LM head only when it is not tied.
func TestNumParams(t *testing.T) {
	const v, s, c, f, l = 50, 16, 24, 96, 3
	perBlock := 2*c + (3*c*c + 3*c) + (c*c + c) + 2*c + (f*c + f) + (c*f + c)
	tiedWant := v*c + s*c + l*perBlock + 2*c
	for _, tied := range []bool{true, false} {
		cfg := sdk.Config{"layers": l, "d_model": c, "heads": 4, "tie_embeddings": tied}
		m := build(t, cfg, tokensSpec(v, s, 2), sdk.DefaultOptimizer(), 1)
		want := tiedWant
		if !tied {
			want += v * c
		}
		if got := m.NumParams(); got != want {
			t.Errorf("tied=%v: NumParams %d, want %d", tied, got, want)
		}
		if perBlock != 12*c*c+13*c {
			t.Fatal("test arithmetic")
		}
	}
}

// With zero gradients an AdamW step only decays: weight matrices and the
// token embedding shrink by 1 - lr·λ exactly; biases, norm parameters and
// the position table do not move.
func TestWeightDecayExemptions(t *testing.T) {
	opt := sdk.DefaultOptimizer()
	opt.WeightDecay = 0.5
	for _, tied := range []bool{true, false} {
		cfg := sdk.Config{"layers": 1, "d_model": 8, "heads": 2, "tie_embeddings": tied}
		m := build(t, cfg, tokensSpec(11, 4, 1), opt, 1)
		before := make([][]float32, len(m.params))
		for i, p := range m.params {
			before[i] = append([]float32(nil), p.v.Data...)
		}
		if err := m.Step(sdk.StepArgs{LR: 0.1, GradScale: 1}); err != nil {
			t.Fatal(err)
		}
		decay := float32(1 - 0.1*0.5)
		exempt := map[string]bool{}
		for i, p := range m.params {
			wantExempt := strings.HasSuffix(p.name, ".bias") || strings.Contains(p.name, "ln_") || p.name == "wpe.weight"
			exempt[p.name] = wantExempt
			for j, w := range p.v.Data {
				want := before[i][j]
				if !wantExempt {
					want *= decay
				}
				if w != want {
					t.Fatalf("tied=%v: %s[%d] = %v after a decay-only step, want %v (exempt: %v)", tied, p.name, j, w, want, wantExempt)
				}
			}
		}
		if exempt["wte.weight"] || exempt["h.0.mlp.c_proj.weight"] || !exempt["wpe.weight"] || !exempt["ln_f.weight"] {
			t.Errorf("exemptions %v", exempt)
		}
	}
}

// Step scales the gradients by GradScale before the update and zeroes
// them after; GradNormSq is the sum of squares of all gradients.
func TestStepScalesAndZeroesGradients(t *testing.T) {
	const b, tt, vocab = 2, 6, 11
	cfg := sdk.Config{"layers": 1, "d_model": 8, "heads": 2}
	sgd := sdk.Optimizer{Name: "sgd"}
	a, c := build(t, cfg, tokensSpec(vocab, tt, b), sgd, 3), build(t, cfg, tokensSpec(vocab, tt, b), sgd, 3)
	batch, ce := randomBatch(rng.New(4), b, tt, vocab), newCrossEntropy(b, tt, vocab)
	for _, m := range []*model{a, c} {
		logits, err := m.Forward(batch, true)
		if err != nil {
			t.Fatal(err)
		}
		_, dlogits := ce.loss(t, logits, batch)
		if err := m.Backward(dlogits); err != nil {
			t.Fatal(err)
		}
	}
	var want, naive float64
	for _, p := range a.params {
		want += optim.SumSquares(p.g.Data)
		for _, g := range p.g.Data {
			naive += float64(g) * float64(g)
		}
	}
	if got, err := a.GradNormSq(); err != nil || got != want || !(got > 0) || math.Abs(got-naive) > 1e-12*naive {
		t.Errorf("GradNormSq = %v, %v; want %v (a running sum gives %v)", got, err, want, naive)
	}
	// Plain SGD: lr 1 with the gradients halved equals lr 0.5, bit for bit.
	if err := a.Step(sdk.StepArgs{LR: 1, GradScale: 0.5}); err != nil {
		t.Fatal(err)
	}
	if err := c.Step(sdk.StepArgs{LR: 0.5, GradScale: 1}); err != nil {
		t.Fatal(err)
	}
	sameBits(t, "weights", weights(a), weights(c))
	if n, _ := a.GradNormSq(); n != 0 {
		t.Errorf("GradNormSq after Step = %v, want 0", n)
	}
}

// noMaskAttention is full attention that does not claim padding_mask.
type noMaskAttention struct{ sdk.Attention }

func (a noMaskAttention) Describe() sdk.Description {
	d := a.Attention.Describe()
	d.Capabilities = []string{"causal"}
	return d
}

func TestInitErrors(t *testing.T) {
	in := tokensSpec(11, 8, 2)
	opt := sdk.DefaultOptimizer()
	bound := func() sdk.AttentionLayers { return sdk.Bind(full.New(), nil, opt) }
	for _, c := range []struct {
		name string
		cfg  sdk.Config
		in   sdk.InputSpec
		opt  sdk.Optimizer
		attn sdk.AttentionLayers
		want string
	}{
		{"heads", sdk.Config{"d_model": 10, "heads": 4}, in, opt, bound(), `arch "transformer": d_model = 10 is not divisible by heads = 4: choose heads dividing d_model (head_dim = d_model/heads), e.g. heads = 2`},
		{"classes", nil, sdk.InputSpec{Vocab: 11, SeqLen: 8, Batch: 2, Classes: 3, Output: "classes"}, opt, bound(), `the objective's task is "causal-lm" but it asks for output "classes"`},
		{"vocab", nil, tokensSpec(0, 8, 2), opt, bound(), "vocabulary size is 0: want 1 to 2147483647"},
		{"seq", nil, tokensSpec(11, 0, 2), opt, bound(), "sequence length is 0"},
		{"batch", nil, tokensSpec(11, 8, 0), opt, bound(), "batch size is 0"},
		{"dropout", sdk.Config{"dropout": 1.0}, in, opt, bound(), "dropout = 1: want a probability in [0, 1)"},
		{"eps", sdk.Config{"layernorm_eps": 0.0}, in, opt, bound(), "layernorm_eps = 0: want a small positive number"},
		{"layers", sdk.Config{"layers": 0}, in, opt, bound(), `parameter "layers": got 0, want at least 1`},
		{"unknown", sdk.Config{"n_embd": 8}, in, opt, bound(), `no parameter "n_embd"`},
		{"type", sdk.Config{"tie_embeddings": "yes"}, in, opt, bound(), `"tie_embeddings": got yes (string), want true or false`},
		{"optimizer", nil, in, sdk.Optimizer{Name: "lion"}, bound(), `optimizer "lion" is not supported: use "adamw" or "sgd"`},
		{"adamw config", nil, in, sdk.Optimizer{Name: "adamw", Beta1: 0.9, Beta2: 1, Eps: 1e-8}, bound(), "Beta2 = 1 is invalid"},
		{"no attention", nil, in, opt, nil, "needs an attention component, got nil"},
		{"attention init", sdk.Config{"d_model": 8, "heads": 2}, in, opt, sdk.Bind(full.New(), sdk.Config{"scale": -1.0}, opt), `Init of attention "full": attention "full": parameter "scale"`},
	} {
		err := New().Init(c.cfg, c.in, c.opt, c.attn, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

func TestUseErrors(t *testing.T) {
	const b, tt, vocab = 2, 6, 11
	m := New()
	expect := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to contain %q", what, err, want)
		}
	}
	_, err := m.Forward(nil, true)
	expect("Forward before Init", err, "Forward called before a successful Init")
	expect("Backward before Init", m.Backward(nil), "Backward called before a successful Init")
	expect("Step before Init", m.Step(sdk.StepArgs{LR: 1, GradScale: 1}), "Step called before a successful Init")

	m = build(t, sdk.Config{"layers": 1, "d_model": 8, "heads": 2}, tokensSpec(vocab, tt, b), sdk.DefaultOptimizer(), 1)
	expect("Backward first", m.Backward(tensor.New(b, tt, vocab)), "Backward without a successful Forward")
	ok := randomBatch(rng.New(1), b, tt, vocab)
	ids := func(bb, t int, bad int32) *sdk.Batch {
		return &sdk.Batch{Inputs: ints(bb, t, func(bi, ti int) int32 {
			if bi == bb-1 && ti == t-1 {
				return bad
			}
			return 1
		})}
	}
	for _, c := range []struct {
		name  string
		batch *sdk.Batch
		want  string
	}{
		{"nil", nil, "Forward needs batch.Inputs"},
		{"id too large", ids(2, 3, vocab), "batch.Inputs[1, 2] = 11 is outside the vocabulary [0, 11)"},
		{"negative id", ids(1, 6, -1), "batch.Inputs[0, 5] = -1 is outside the vocabulary"},
		{"too long", ids(2, tt+1, 0), "batch.Inputs has shape (2, 7) and 14 ids, want (B, T) with 1 <= B <= 2 and 1 <= T <= 6"},
		{"too many", ids(3, 2, 0), "batch.Inputs has shape (3, 2)"},
		{"rank", &sdk.Batch{Inputs: sdk.NewInts(12)}, "batch.Inputs has shape (12)"},
		{"mask shape", &sdk.Batch{Inputs: ok.Inputs, KeyMask: sdk.NewInts(b, tt-1)}, "batch.KeyMask has shape (2, 5) and 10 flags, want the inputs' shape (2, 6)"},
		{"mask value", &sdk.Batch{Inputs: ok.Inputs, KeyMask: ints(b, tt, func(int, int) int32 { return 2 })}, "batch.KeyMask[0, 0] = 2: want 1 for a token or 0 for padding"},
	} {
		_, err := m.Forward(c.batch, true)
		expect(c.name, err, c.want)
	}
	expect("Backward after a failed Forward", m.Backward(tensor.New(b, tt, vocab)), "without a successful Forward")

	if _, err := m.Forward(ok, true); err != nil {
		t.Fatal(err)
	}
	expect("dout shape", m.Backward(tensor.New(b, tt-1, vocab)), "dout has shape (2, 5, 11) and 110 elements, want the logits' shape (2, 6, 11)")
	expect("dout nil", m.Backward(nil), "dout is nil")
	expect("GradScale 0", m.Step(sdk.StepArgs{Step: 3, LR: 1}), "Step 3: GradScale = 0: want a finite factor > 0")
	expect("LR", m.Step(sdk.StepArgs{LR: -1, GradScale: 1}), "LR = -1: want a finite learning rate >= 0")

	// An attention without padding_mask cannot take a key mask.
	opt := sdk.DefaultOptimizer()
	nm := New()
	if err := nm.Init(sdk.Config{"layers": 1, "d_model": 8, "heads": 2}, tokensSpec(vocab, tt, b), opt, sdk.Bind(noMaskAttention{full.New()}, nil, opt), 1); err != nil {
		t.Fatal(err)
	}
	_, err = nm.Forward(&sdk.Batch{Inputs: ok.Inputs, KeyMask: ints(b, tt, func(int, int) int32 { return 1 })}, true)
	expect("mask without capability", err, `the attention component does not list the "padding_mask" capability`)
}

// Sinusoidal positions are a fixed table: no parameter, no gradient, and
// the model still learns.
func TestSinusoidalPositions(t *testing.T) {
	in := tokensSpec(11, 6, 2)
	cfg := sdk.Config{"layers": 1, "d_model": 8, "heads": 2}
	learned := build(t, cfg, in, sdk.DefaultOptimizer(), 1)
	cfg["positions"] = "sinusoidal"
	sinus := build(t, cfg, in, sdk.DefaultOptimizer(), 1)
	if d := learned.NumParams() - sinus.NumParams(); d != 6*8 {
		t.Errorf("sinusoidal positions saved %d parameters, want SeqLen*d_model = 48", d)
	}
	batch := randomBatch(rng.New(2), 2, 6, 11)
	ce := newCrossEntropy(2, 6, 11)
	first := trainStep(t, sinus, ce, batch, 0, 1e-2)
	var last float64
	for step := 1; step < 60; step++ {
		last = trainStep(t, sinus, ce, batch, step, 1e-2)
	}
	if !(last < first/2) {
		t.Errorf("loss %v -> %v with sinusoidal positions", first, last)
	}
	if _, err := parse(New().Describe(), sdk.Config{"positions": "sinusoidal", "d_model": 9, "heads": 3}, in); err == nil || !strings.Contains(err.Error(), "even d_model") {
		t.Errorf("odd d_model: %v", err)
	}
}

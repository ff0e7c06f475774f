package transformer

import (
	"fmt"
	"hash/fnv"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/blas"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/attention/full"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// fingerprints trains every shape (shapeRuns, and a decoder with rope and
// dropout) three steps from seed 1, with extra added to every config, and
// returns per run an FNV-64a hash of the losses' bits, every weight's bits
// after the steps and an evaluation output's bits.
func fingerprints(t *testing.T, extra sdk.Config) map[string]string {
	t.Helper()
	const b, tt, vocab = 3, 12, 40
	runs := shapeRuns(t, 1, extra)
	dcfg := sdk.Config{"layers": 2, "d_model": 32, "heads": 4, "dropout": 0.1, "positions": "rope"}
	for k, v := range extra {
		dcfg[k] = v
	}
	dec := build(t, dcfg, tokensSpec(vocab, tt, b), sdk.DefaultOptimizer(), 1)
	runs = append(runs, shapeRun{"decoder/rope", dec, randomBatch(rng.New(2), b, tt, vocab), nil, newCrossEntropy(b, tt, vocab)})
	out := map[string]string{}
	for _, c := range runs {
		h := fnv.New64a()
		put := func(x uint64) {
			var buf [8]byte
			for i := range buf {
				buf[i] = byte(x >> (8 * i))
			}
			h.Write(buf[:])
		}
		for step := range 3 {
			put(math.Float64bits(trainStep(t, c.m, c.ce, c.long, step, 3e-3)))
		}
		for _, w := range weights(c.m) {
			put(uint64(math.Float32bits(w)))
		}
		logits, err := c.m.Forward(c.long, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range logits.Data {
			put(uint64(math.Float32bits(x)))
		}
		out[c.name] = fmt.Sprintf("%016x", h.Sum64())
	}
	return out
}

// pinnedFingerprints are fingerprints(t, nil) per GOARCH and matmul kernel
// (the kernels' rounding differs between paths, so bits are comparable
// only on one path). They were first recorded at version 1.1.0, before
// kv_heads existed, which kv_heads = heads reproduced bit for bit; they
// were recorded again when full attention 1.1.0 moved its softmax to base
// 2 (vmath.Exp2SubCols). They pin the default model against numeric
// changes nobody meant to make.
var pinnedFingerprints = map[string]map[string]string{
	"amd64/avx512": {
		"decoder/rope":          "778d0086a243e45b",
		"encoder-decoder":       "5ff07dc961570240",
		"encoder-decoder/rope":  "ea4dcfd9d3f80799",
		"encoder/classify/cls":  "8240cccdbc280f3a",
		"encoder/classify/mean": "fa4e8d0825d9826f",
		"encoder/masked-lm":     "ea075b2466e7180a",
	},
	"amd64/generic": { // -tags purego
		"decoder/rope":          "bb0b7cd9693069db",
		"encoder-decoder":       "98fea19eadaf5ddc",
		"encoder-decoder/rope":  "f7fa61ba81fd96a2",
		"encoder/classify/cls":  "9332330f29d7de07",
		"encoder/classify/mean": "34369c1509c22e0a",
		"encoder/masked-lm":     "292706e49b211e84",
	},
}

// kv_heads = 0 (the default) and kv_heads = heads are the same model: the
// same parameters, losses, weights after training and outputs, bit for
// bit, in every shape, and the default is the pinned one.
func TestKVHeadsEqualHeadsIsTheUngroupedModel(t *testing.T) {
	def := fingerprints(t, nil)
	for _, extra := range []sdk.Config{{"kv_heads": 0}, {"kv_heads": 4}} {
		got := fingerprints(t, extra)
		for name, want := range def {
			if got[name] != want {
				t.Errorf("%v, %s: fingerprint %s, want the default's %s", extra, name, got[name], want)
			}
		}
	}
	key := runtime.GOARCH + "/" + blas.KernelName()
	pinned, ok := pinnedFingerprints[key]
	if !ok {
		t.Skipf("no fingerprints pinned for kernel path %s", key)
	}
	for name, want := range pinned {
		if def[name] != want {
			t.Errorf("%s: fingerprint %s, pinned %s", name, def[name], want)
		}
	}
}

// Backward's gradients match finite differences with multi-query (1) and
// grouped (2) key/value heads, in every shape (cross-attention's k_proj and
// v_proj shrink too).
func TestGroupedGradientsMatchFiniteDifferences(t *testing.T) {
	const b, tt, te, td, vocab, classes = 2, 5, 6, 5, 11, 3
	for _, kvh := range []int{1, 2} {
		for _, c := range []struct {
			name string
			cfg  sdk.Config
			in   sdk.InputSpec
		}{
			{"decoder/rope", sdk.Config{"layers": 2, "positions": "rope"}, tokensSpec(vocab, tt, b)},
			{"decoder/learned/dropout", sdk.Config{"layers": 1, "dropout": 0.25, "tie_embeddings": false}, tokensSpec(vocab, tt+2, b)},
			{"encoder/classify/mean", sdk.Config{"layers": 2, "pool": "mean"}, classifySpec(vocab, tt, b, classes)},
			{"encoder-decoder/rope", sdk.Config{"layers": 1, "decoder_layers": 2, "positions": "rope"}, seq2seqSpec(vocab, te+1, td+1, b)},
		} {
			t.Run(fmt.Sprintf("kv_heads=%d/%s", kvh, c.name), func(t *testing.T) {
				c.cfg["d_model"], c.cfg["heads"], c.cfg["kv_heads"], c.cfg["init_std"] = 8, 4, kvh, 0.4
				m := build(t, c.cfg, c.in, sdk.DefaultOptimizer(), 41)
				r := rng.New(42)
				var batch *sdk.Batch
				ce := newCrossEntropy(b, tt, vocab)
				switch {
				case c.in.Task == sdk.TaskSeq2Seq:
					batch = seq2seqBatch(r, b, te, td, vocab)
					batch.KeyMask = rightPadded(b, te, []int{te, te - 2})
					ce = newCrossEntropy(b, td, vocab)
				case c.in.Classes > 0:
					batch = randomBatch(r, b, tt, vocab)
					batch.KeyMask = rightPadded(b, tt, []int{tt, tt - 2})
					batch.Targets = &sdk.Ints{Shape: []int{b}, Data: []int32{1, 2}}
					ce = newClassEntropy(b, classes)
				default:
					batch = randomBatch(r, b, tt, vocab)
				}
				checkGradients(t, m, r, batch, ce)
			})
		}
	}
}

// A grouped model computes what the ungrouped model computes when each of
// its key/value heads is repeated for the query heads of its group (query
// head h reads key/value head h/(H/KVH)): copying the grouped weights into
// an ungrouped model that way gives the same outputs.
func TestGroupedEqualsRepeatedKeyValueHeads(t *testing.T) {
	const b, te, td, vocab, h, d = 2, 7, 5, 13, 4, 4
	for _, kvh := range []int{1, 2} {
		for _, c := range []struct {
			name string
			cfg  sdk.Config
			in   sdk.InputSpec
		}{
			{"decoder/rope", sdk.Config{"positions": "rope"}, tokensSpec(vocab, te, b)},
			{"encoder-decoder", sdk.Config{"decoder_layers": 1}, seq2seqSpec(vocab, te, td, b)},
		} {
			t.Run(fmt.Sprintf("kv_heads=%d/%s", kvh, c.name), func(t *testing.T) {
				cfg := sdk.Config{"layers": 2, "d_model": h * d, "heads": h, "init_std": 0.3}
				for k, v := range c.cfg {
					cfg[k] = v
				}
				ungrouped := build(t, cfg, c.in, sdk.DefaultOptimizer(), 5)
				cfg["kv_heads"] = kvh
				grouped := build(t, cfg, c.in, sdk.DefaultOptimizer(), 5)
				if len(grouped.params) != len(ungrouped.params) {
					t.Fatalf("%d and %d parameter tensors", len(grouped.params), len(ungrouped.params))
				}
				for i, gp := range grouped.params {
					up := ungrouped.params[i]
					switch {
					case strings.HasSuffix(gp.name, "attn.c_attn.weight"), strings.HasSuffix(gp.name, "attn.c_attn.bias"):
						up.v.Data = repeatRows(gp.v.Data, len(up.v.Data)/((3*h)*d), h, []int{h, kvh, kvh}, d)
					case strings.Contains(gp.name, "crossattn.k_proj."), strings.Contains(gp.name, "crossattn.v_proj."):
						up.v.Data = repeatRows(gp.v.Data, len(up.v.Data)/(h*d), h, []int{kvh}, d)
					default:
						copy(up.v.Data, gp.v.Data)
					}
				}
				r := rng.New(6)
				batch := randomBatch(r, b, te, vocab)
				if c.in.Task == sdk.TaskSeq2Seq {
					batch = seq2seqBatch(r, b, te, td, vocab)
					batch.KeyMask = rightPadded(b, te, []int{te, te - 3})
				}
				want, err := ungrouped.Forward(batch, false)
				if err != nil {
					t.Fatal(err)
				}
				got, err := grouped.Forward(batch, false)
				if err != nil {
					t.Fatal(err)
				}
				closeTo(t, "logits", got.Data, want.Data, 1e-5)
			})
		}
	}
}

// repeatRows expands grouped projection rows, parts of heads[i] heads of d
// rows (each row cols wide), into parts of h heads: query parts (heads[i]
// = h) are copied, key/value parts repeat head g for query heads
// g·(h/heads[i]) ... (g+1)·(h/heads[i]) - 1.
func repeatRows(src []float32, cols, h int, heads []int, d int) []float32 {
	var out []float32
	off := 0
	for _, n := range heads {
		for hi := range h {
			g := hi / (h / n)
			out = append(out, src[off+g*d*cols:off+(g+1)*d*cols]...)
		}
		off += n * d * cols
	}
	return out
}

func TestKVHeadsInitErrors(t *testing.T) {
	in := tokensSpec(11, 8, 2)
	opt := sdk.DefaultOptimizer()
	for _, c := range []struct {
		name string
		cfg  sdk.Config
		attn sdk.Attention
		want string
	}{
		{"not a divisor", sdk.Config{"d_model": 16, "heads": 4, "kv_heads": 3}, full.New(),
			`arch "transformer": kv_heads = 3 does not divide heads = 4: each key/value head serves heads/kv_heads query heads; choose a divisor of 4 (1 is multi-query attention, 4 or 0 is ordinary multi-head attention), e.g. kv_heads = 2`},
		{"more than heads", sdk.Config{"d_model": 16, "heads": 4, "kv_heads": 8}, full.New(), "kv_heads = 8 does not divide heads = 4"},
		{"negative", sdk.Config{"kv_heads": -1}, full.New(), `parameter "kv_heads": got -1, want at least 0`},
		{"capability", sdk.Config{"d_model": 16, "heads": 4, "kv_heads": 2}, noMaskAttention{full.New()},
			`kv_heads = 2 < heads = 4, but attention "full" does not list the "kv_heads" capability`},
	} {
		err := New().Init(c.cfg, in, opt, sdk.Bind(c.attn, nil, opt), 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

// Grouped key/value heads shrink c_attn to (H+2·KVH)·D outputs and the
// attention spec says KVHeads.
func TestKVHeadsShrinkTheProjection(t *testing.T) {
	const v, s, c, h, l = 50, 16, 24, 4, 3
	ungrouped := build(t, sdk.Config{"layers": l, "d_model": c, "heads": h}, tokensSpec(v, s, 2), sdk.DefaultOptimizer(), 1)
	for _, kvh := range []int{1, 2} {
		m := build(t, sdk.Config{"layers": l, "d_model": c, "heads": h, "kv_heads": kvh}, tokensSpec(v, s, 2), sdk.DefaultOptimizer(), 1)
		d := c / h
		removed := 2 * (h - kvh) * d * (c + 1) // k and v rows of c_attn, weight and bias
		if got, want := m.NumParams(), ungrouped.NumParams()-l*removed; got != want {
			t.Errorf("kv_heads = %d: NumParams %d, want %d", kvh, got, want)
		}
		if sp := m.attentionSpec(0); sp.KVHeads != kvh || sp.Heads != h {
			t.Errorf("kv_heads = %d: attention spec has %d heads and %d key/value heads", kvh, sp.Heads, sp.KVHeads)
		}
	}
}

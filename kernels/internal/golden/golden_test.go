package golden

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/tensor"
)

// The cases gen_golden.py writes; a missing file means the generator and
// the committed files have drifted apart.
var wantCases = []string{
	"adamw", "attention_causal", "attention_nomask", "attention_padding",
	"clip_grad_norm", "clip_grad_norm_noclip", "cross_entropy", "embedding",
	"gelu_erf", "gelu_tanh", "gpt2_block", "layernorm", "linear",
	"linear_nobias", "log_softmax", "position_learned", "position_sinusoidal",
	"relu", "residual_add", "rmsnorm", "sgd_momentum", "sgd_nesterov", "silu",
	"softmax", "softplus",
}

func TestEveryGoldenFileParses(t *testing.T) {
	names := Names(t)
	for _, w := range wantCases {
		if !slices.Contains(names, w) {
			t.Errorf("golden case %q is missing (run make golden)", w)
		}
	}
	for _, name := range names {
		c := Load(t, name)
		if !strings.Contains(c.Source, "PyTorch") || !strings.Contains(c.Source, "gen_golden.py") {
			t.Errorf("%s: source %q does not cite PyTorch and the script", name, c.Source)
		}
		if c.Op == "" || c.Doc == "" {
			t.Errorf("%s: op %q, doc %q: both must be set", name, c.Op, c.Doc)
		}
		if len(c.TensorNames()) == 0 {
			t.Errorf("%s: no tensors", name)
		}
		for _, k := range c.TensorNames() {
			x := c.T(k)
			if len(x.Data) != tensor.Numel(x.Shape) {
				t.Errorf("%s: tensor %q has %d values for shape %s", name, k, len(x.Data), tensor.FormatShape(x.Shape))
			}
			for i, v := range x.Data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Errorf("%s: tensor %q[%d] = %v", name, k, i, v)
					break
				}
			}
		}
		for _, k := range c.IntNames() {
			if n, shape := len(c.Ints(k)), c.IntsShape(k); n != tensor.Numel(shape) {
				t.Errorf("%s: ints %q has %d values for shape %s", name, k, n, tensor.FormatShape(shape))
			}
		}
	}
}

func TestKnownValues(t *testing.T) {
	// Row 0 of the sinusoidal table is sin(0), cos(0), ... = 0, 1, 0, 1, ...
	pe := Load(t, "position_sinusoidal").T("out")
	if pe.Dim(0) != 7 || pe.Dim(1) != 10 || pe.Data[0] != 0 || pe.Data[1] != 1 {
		t.Errorf("position_sinusoidal: shape %v, first values %v", pe.Shape, pe.Data[:2])
	}
	// Attributes, booleans included.
	att := Load(t, "attention_causal")
	if att.Attr("scale") != 0.5 || att.Attr("causal") != 1 {
		t.Errorf("attention_causal: scale %v causal %v", att.Attr("scale"), att.Attr("causal"))
	}
	// Integer tensors: the padding mask is 1 for the first lengths[b] keys.
	pad := Load(t, "attention_padding")
	mask, lengths, shape := pad.Ints("mask"), pad.Ints("lengths"), pad.IntsShape("mask")
	for b := range shape[0] {
		for j := range shape[1] {
			want := int32(0)
			if j < int(lengths[b]) {
				want = 1
			}
			if mask[b*shape[1]+j] != want {
				t.Errorf("attention_padding: mask[%d,%d] = %d with length %d", b, j, mask[b*shape[1]+j], lengths[b])
			}
		}
	}
	// The stored norm is the float64 L2 norm of the stored gradients.
	clip := Load(t, "clip_grad_norm")
	var s float64
	for _, k := range []string{"grad_a", "grad_b"} {
		for _, g := range clip.T(k).Data {
			s += float64(g) * float64(g)
		}
	}
	if norm := float64(clip.T("norm").Data[0]); math.Abs(norm-math.Sqrt(s)) > 1e-6*norm {
		t.Errorf("clip_grad_norm: norm %v, recomputed %v", norm, math.Sqrt(s))
	}
}

func TestTReturnsACopy(t *testing.T) {
	c := Load(t, "linear")
	a := c.T("inp")
	a.Data[0] = 12345
	if c.T("inp").Data[0] == 12345 {
		t.Error("T returned shared storage")
	}
}

func TestMissingEntriesNameWhatExists(t *testing.T) {
	c := Load(t, "linear")
	if c.Has("nope") || !c.Has("dbias") {
		t.Errorf("Has: nope %v, dbias %v", c.Has("nope"), c.Has("dbias"))
	}
	_, err := c.tensor("nope")
	if err == nil || !strings.Contains(err.Error(), `no tensor "nope"`) || !strings.Contains(err.Error(), "dbias") {
		t.Errorf("missing tensor error: %v", err)
	}
	if _, err := c.intTensor("ids"); err == nil || !strings.Contains(err.Error(), `golden linear: no ints "ids"`) {
		t.Errorf("missing ints error: %v", err)
	}
	if _, err := c.attr("eps"); err == nil || !strings.Contains(err.Error(), `no attr "eps"`) {
		t.Errorf("missing attr error: %v", err)
	}
}

func TestParseRejectsMalformedFiles(t *testing.T) {
	const head = `{"op": "x", "source": "PyTorch", "doc": "", "attrs": {}, `
	cases := []struct{ name, json, want string }{
		{"short data", head + `"tensors": {"a": {"shape": [2, 2], "data": [1, 2, 3]}}, "ints": {}}`, `"a" has 3 values but shape (2, 2) needs 4`},
		{"no shape", head + `"tensors": {"a": {"data": [1]}}, "ints": {}}`, `"a" has no shape`},
		{"not float32", head + `"tensors": {"a": {"shape": [1], "data": [0.1]}}, "ints": {}}`, "not exactly a float32"},
		{"int overflow", head + `"tensors": {}, "ints": {"i": {"shape": [1], "data": [4294967296]}}}`, "does not fit in int32"},
		{"bad ints shape", head + `"tensors": {}, "ints": {"i": {"shape": [3], "data": [1]}}}`, `"i" has 1 values`},
		{"string attr", `{"op": "x", "source": "s", "attrs": {"a": "tanh"}, "tensors": {}, "ints": {}}`, `attr "a"`},
		{"unknown field", `{"op": "x", "source": "s", "tensor": {}}`, "unknown field"},
		{"no source", `{"op": "x"}`, `"source" must be set`},
	}
	for _, c := range cases {
		_, err := parse(c.name, []byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	// Scalars have shape [] and one value; 0.1 rounded to float32 is exact.
	c, err := parse("ok", []byte(head+`"tensors": {"loss": {"shape": [], "data": [0.10000000149011612]}}, "ints": {}}`))
	if err != nil {
		t.Fatal(err)
	}
	c.tb = t
	if l := c.T("loss"); len(l.Shape) != 0 || l.Data[0] != float32(0.1) {
		t.Errorf("scalar: %v", l)
	}
}

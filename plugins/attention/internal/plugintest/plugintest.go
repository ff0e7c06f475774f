// Package plugintest holds the helpers the attention plugins' tests share:
// random tensors, bit-exact and tolerance comparisons with the largest
// difference reported, a naive reference for the variants that attend to
// a subset of keys, and a real plugin process (the test binary
// re-executing itself, as hashicorp/go-plugin's own tests do) for the
// round-trip tests.
package plugintest

import (
	"context"
	"math"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// Env is the variable that makes a plugin package's test binary serve its
// component instead of running tests; see Main.
const Env = "ATTNLAB_ATTENTION_TEST_PLUGIN"

// Main is a test package's TestMain: with Env set it serves newComponent()
// as cmd/main.go does, so the plugin-process tests need no separate build.
func Main(m *testing.M, newComponent func() sdk.Attention) {
	if os.Getenv(Env) != "" {
		sdk.Serve(newComponent())
		return
	}
	os.Exit(m.Run())
}

// RandT returns a tensor of standard normal values.
func RandT(r *rng.RNG, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	r.FillNormal(t.Data, 0, 1)
	return t
}

// PadMask hides a suffix of keys in every batch row but the first (row b
// loses its last b keys).
func PadMask(b, tk int) []bool {
	m := make([]bool, b*tk)
	for bi := range b {
		for j := range tk - bi {
			m[bi*tk+j] = true
		}
	}
	return m
}

// Identical fails unless got and want have the same shape and bits.
func Identical(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	Close(t, what, got, want, -1)
}

// Close fails unless got and want have the same shape and agree within
// rel relative to the largest magnitude of want (so tiny elements are not
// held to a relative bound they cannot meet); rel < 0 asks for identical
// bits.
func Close(t *testing.T, what string, got, want *tensor.Tensor, rel float64) {
	t.Helper()
	if got == nil || !tensor.SameShape(got.Shape, want.Shape) || len(got.Data) != len(want.Data) {
		t.Fatalf("%s: got %v, want shape %s", what, got, tensor.FormatShape(want.Shape))
	}
	var scale float64
	for _, w := range want.Data {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	worst, at := 0.0, -1
	for i := range want.Data {
		g, w := got.Data[i], want.Data[i]
		if rel < 0 {
			if math.Float32bits(g) != math.Float32bits(w) {
				t.Fatalf("%s: element %d is %v, want %v bit for bit (first values %v vs %v)", what, i, g, w, got.Data[:min(4, len(got.Data))], want.Data[:min(4, len(want.Data))])
			}
			continue
		}
		if d := math.Abs(float64(g)-float64(w)) / math.Max(scale, 1e-30); d > worst || d != d {
			worst, at = d, i
		}
	}
	if at >= 0 && !(worst <= rel) {
		t.Fatalf("%s: element %d is %v, want %v (difference %.3g of the largest magnitude %.3g > %g)", what, at, got.Data[at], want.Data[at], worst, scale, rel)
	}
}

// Start runs the test binary as its package's plugin (see Main) and
// returns a client for it; the process is killed when the test ends.
func Start(t *testing.T) sdk.Attention {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), Env+"=1")
	c := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.PluginSets(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           hclog.NewNullLogger(),
	})
	t.Cleanup(c.Kill)
	rpc, err := c.Client()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rpc.Dispense(string(sdk.KindAttention))
	if err != nil {
		t.Fatal(err)
	}
	sess, err := sdk.NewSession(context.Background(), t.TempDir(), 1, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sess.Close)
	addr := c.ReattachConfig().Addr
	return sdk.NewAttentionClient(raw.(*grpc.ClientConn), sess, sdk.Endpoint{Network: addr.Network(), Address: addr.String()})
}

// RoundTrip checks that the component answers the same through a plugin
// process as in-process, bit for bit: Describe, Init with cfg and sp, and
// two Forward and Backward calls on every layer with random inputs of the
// spec's largest shapes (the second with a key mask), and, when the
// component has parameters, GradNormSq and a Step followed by another
// Forward.
func RoundTrip(t *testing.T, local sdk.Attention, cfg sdk.Config, sp sdk.AttentionSpec) {
	t.Helper()
	remote := Start(t)
	ld, rd := local.Describe(), remote.Describe()
	if rd.Name != ld.Name || rd.Kind != sdk.KindAttention || rd.Version != ld.Version || len(rd.Params) != len(ld.Params) || len(rd.Capabilities) != len(ld.Capabilities) {
		t.Fatalf("the plugin describes itself as %+v, in-process %+v", rd, ld)
	}
	both := []sdk.Attention{local, remote}
	for _, a := range both {
		if err := a.Init(cfg, sp); err != nil {
			t.Fatal(err)
		}
	}
	r := rng.New(7)
	h, kvh, d, b := sp.Heads, sp.KVHeads, sp.HeadDim, sp.Batch
	pass := func(round int) {
		for i := range sp.Layers {
			ls := sp.Layer(i)
			q, k, v, dout := RandT(r, b, h, ls.MaxQ, d), RandT(r, b, kvh, ls.MaxK, d), RandT(r, b, kvh, ls.MaxK, d), RandT(r, b, h, ls.MaxQ, d)
			var mask []bool
			if round == 1 {
				mask = PadMask(b, ls.MaxK)
			}
			var got [2][4]*tensor.Tensor
			for j, a := range both {
				out, err := a.Forward(i, q, k, v, mask)
				if err != nil {
					t.Fatal(err)
				}
				got[j][0] = out.Clone()
				dq, dk, dv, err := a.Backward(i, dout)
				if err != nil {
					t.Fatal(err)
				}
				got[j][1], got[j][2], got[j][3] = dq.Clone(), dk.Clone(), dv.Clone()
			}
			for x, what := range []string{"out", "dq", "dk", "dv"} {
				Identical(t, what+" through the plugin", got[1][x], got[0][x])
			}
		}
	}
	pass(0)
	if !ld.Has(sdk.Stateless) {
		var norms [2]float64
		for j, a := range both {
			n, err := a.GradNormSq()
			if err != nil {
				t.Fatal(err)
			}
			norms[j] = n
			if err := a.Step(sdk.StepArgs{Step: 0, LR: 1e-2, GradScale: 1}); err != nil {
				t.Fatal(err)
			}
		}
		if norms[0] != norms[1] {
			t.Errorf("GradNormSq: %v through the plugin, %v in-process", norms[1], norms[0])
		}
	}
	pass(1)
}

// Spec is a spec of self-attention layers.
func Spec(layers, b, h, kvh, s, d int, causal bool) sdk.AttentionSpec {
	return sdk.AttentionSpec{Layers: layers, Heads: h, KVHeads: kvh, HeadDim: d, MaxSeq: s, Batch: b, Causal: causal, Seed: 1}
}

// MustInit initialises a or fails the test.
func MustInit(t *testing.T, a sdk.Attention, cfg sdk.Config, sp sdk.AttentionSpec) sdk.Attention {
	t.Helper()
	if err := a.Init(cfg, sp); err != nil {
		t.Fatal(err)
	}
	return a
}

// Result is one Forward and Backward's tensors, copied.
type Result struct{ Out, DQ, DK, DV *tensor.Tensor }

// Run calls Forward and Backward of layer on a and copies the results.
func Run(t *testing.T, a sdk.Attention, layer int, q, k, v, dout *tensor.Tensor, mask []bool) Result {
	t.Helper()
	out, err := a.Forward(layer, q, k, v, mask)
	if err != nil {
		t.Fatal(err)
	}
	out = out.Clone()
	dq, dk, dv, err := a.Backward(layer, dout)
	if err != nil {
		t.Fatal(err)
	}
	return Result{out, dq.Clone(), dk.Clone(), dv.Clone()}
}

// Compare checks every tensor of got against want with Close (rel < 0:
// bit for bit).
func Compare(t *testing.T, what string, got, want Result, rel float64) {
	t.Helper()
	Close(t, what+" out", got.Out, want.Out, rel)
	Close(t, what+" dq", got.DQ, want.DQ, rel)
	Close(t, what+" dk", got.DK, want.DK, rel)
	Close(t, what+" dv", got.DV, want.DV, rel)
}

package longformer

import (
	"slices"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/attention/internal/layers"
	"github.com/attnlab/attnlab/plugins/sdk"
)

const (
	name    = "longformer"
	version = "1.1.0"
)

// New returns the Longformer attention component. Call Init before
// Forward.
func New() sdk.Attention { return &component{set: layers.Set{Name: name}} }

type component struct {
	set    layers.Set
	lse    []layers.View             // per layer, LSEShape(B, H, T)
	opts   []attention.WindowOptions // per layer: causal flag, window, globals
	global []int                     // sorted global positions
}

func (c *component) Describe() sdk.Description {
	return sdk.Description{
		Kind:    sdk.KindAttention,
		Name:    name,
		Version: version,
		Doc:     "sliding-window attention, optionally dilated, with global tokens (Longformer, Beltagy et al. 2020, §3.1): O(T·window)",
		Params: []sdk.Param{
			{Name: "window", Type: sdk.Int, Default: int64(128), Min: sdk.Bound(1),
				Doc: "w: a query sees w/2 keys on each side, or itself and the w previous keys when causal"},
			{Name: "dilation", Type: sdk.Int, Default: int64(1), Min: sdk.Bound(1),
				Doc: "δ: the window takes every δ-th key, reaching δ times as far (1 = no gaps)"},
			{Name: "global_tokens", Type: sdk.String, Default: "0",
				Doc: "comma-separated positions of global tokens, which see and are seen by every position (\"0\": the first token; \"\": none)"},
			layers.ScaleParam(),
		},
		Capabilities: []string{"causal", "padding_mask", "kv_heads", sdk.Stateless},
	}
}

func (c *component) Init(cfg sdk.Config, spec sdk.AttentionSpec) error {
	c.set.Layers = nil
	cfg, err := c.Describe().Resolve(cfg)
	if err != nil {
		return err
	}
	scale, err := c.set.Scale(cfg)
	if err != nil {
		return err
	}
	if err := c.set.CheckSpec(spec); err != nil {
		return err
	}
	if err := c.set.SelfOnly(spec, "sliding-window attention"); err != nil {
		return err
	}
	w, dil := cfg.Int("window"), cfg.Int("dilation")
	global, err := c.parseGlobal(cfg.String("global_tokens"))
	if err != nil {
		return err
	}
	c.lse = make([]layers.View, spec.Layers)
	c.opts = make([]attention.WindowOptions, spec.Layers)
	for i := range spec.Layers {
		ls := spec.Layer(i)
		if err := c.checkWindow(i, ls, w, dil, global); err != nil {
			return err
		}
		c.lse[i] = layers.NewView(attention.LSEShape(spec.Batch, spec.Heads, ls.MaxQ)...)
		c.opts[i] = attention.WindowOptions{Options: attention.Options{Causal: ls.Causal, Scale: scale}, Window: w, Dilation: dil}
	}
	c.global = global
	c.set.Build(spec)
	return nil
}

// parseGlobal reads the global_tokens parameter: distinct non-negative
// positions separated by commas, returned sorted.
func (c *component) parseGlobal(s string) ([]int, error) {
	var out []int
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, f := range strings.Split(s, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p < 0 {
			return nil, c.set.Errorf("parameter \"global_tokens\" = %q: %q is not a position: want comma-separated non-negative integers such as \"0\" or \"0,1\" (\"\" for none)", s, strings.TrimSpace(f))
		}
		if slices.Contains(out, p) {
			return nil, c.set.Errorf("parameter \"global_tokens\" = %q: position %d appears twice", s, p)
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return out, nil
}

// checkWindow rejects a window that reaches beyond layer i's sequence:
// such a window attends to everything, which full or flash attention does
// for less. The reach is δ·⌊w/2⌋ on each side, or δ·w back when causal
// (Longformer §3.1, dilated sliding window).
func (c *component) checkWindow(i int, ls sdk.AttentionLayer, w, dil int, global []int) error {
	t := ls.MaxQ
	reach, maxW, side := dil*(w/2), 2*((t-1)/dil)+1, "on each side"
	if ls.Causal {
		reach, maxW, side = dil*w, (t-1)/dil, "back"
	}
	if reach > t-1 && t > 1 {
		return c.set.Errorf("parameter \"window\" = %d with dilation %d reaches %d positions %s, beyond layer %d's %d tokens (at most %d): want window <= %d, or full or flash attention to see every token",
			w, dil, reach, side, i, t, t-1, max(1, maxW))
	}
	if len(global) > 0 && global[len(global)-1] >= t {
		return c.set.Errorf("parameter \"global_tokens\": position %d is outside layer %d's sequence of at most %d tokens: want positions in [0, %d)",
			global[len(global)-1], i, t, t)
	}
	return nil
}

// Forward computes windowed attention for layer i (Longformer §3.1, with
// the global tokens that lie within this call's sequence).
func (c *component) Forward(i int, q, k, v *tensor.Tensor, keyMask []bool) (*tensor.Tensor, error) {
	l, out, err := c.set.Begin(i, q, k, v, keyMask)
	if err != nil {
		return nil, err
	}
	if l.Tq != l.Tk {
		return nil, c.set.Errorf("Forward of layer %d: %d queries and %d keys: sliding-window attention is self-attention, with as many queries as keys", i, l.Tq, l.Tk)
	}
	lse := c.lse[i].Resize(attention.LSEShape(l.B, c.set.Spec.Heads, l.Tq)...)
	if err := attention.SlidingWindowForward(out, lse, q, k, v, l.KeyMask, c.options(i, l.Tk)); err != nil {
		return nil, c.set.Errorf("Forward of layer %d: %w", i, err)
	}
	l.Keep()
	return out, nil
}

// options returns layer i's window options for a sequence of t tokens:
// the global positions before t (a shorter batch drops the others).
func (c *component) options(i, t int) attention.WindowOptions {
	n := 0
	for n < len(c.global) && c.global[n] < t {
		n++
	}
	o := c.opts[i]
	o.Global = c.global[:n]
	return o
}

// Backward recomputes the window's probabilities from the log-sum-exps;
// it reads the output Forward returned, which callers leave unchanged.
func (c *component) Backward(i int, dout *tensor.Tensor) (dq, dk, dv *tensor.Tensor, err error) {
	l, dq, dk, dv, err := c.set.BeginBackward(i, dout)
	if err != nil {
		return nil, nil, nil, err
	}
	out, lse := l.Out.Tensor(), c.lse[i].Tensor()
	if err := attention.SlidingWindowBackward(dq, dk, dv, dout, l.Q, l.K, l.V, out, lse, l.KeyMask, c.options(i, l.Tk)); err != nil {
		return nil, nil, nil, c.set.Errorf("Backward of layer %d: %w (were q, k or v changed since its Forward?)", i, err)
	}
	return dq, dk, dv, nil
}

// GradNormSq is 0: the component has no parameters. (The paper's separate
// global projections Q_g, K_g, V_g belong to the architecture.)
func (c *component) GradNormSq() (float64, error) { return 0, nil }

// Step does nothing: the component has no parameters.
func (c *component) Step(sdk.StepArgs) error { return nil }

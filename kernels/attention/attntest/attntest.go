package attntest

import (
	"fmt"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// Impl is one attention variant under test. It owns whatever the backward
// needs from the forward (probabilities, log-sum-exps, features) and its
// workspaces, which it may resize when shapes change; once warmed up on a
// shape, Forward and Backward must allocate nothing.
type Impl interface {
	// Caps says what the variant supports and claims.
	Caps() Caps
	// Forward computes out (B, H, Tq, D) from q (B, H, Tq, D) and k, v
	// (B, KVH, Tk, D), with query head h reading key/value head
	// h / (H/KVH). keyMask is nil or has B*Tk flags (false hides the key
	// from every query); causal hides keys after each query (see
	// CausalSees). Bad shapes and unsupported options are errors.
	Forward(out, q, k, v *tensor.Tensor, keyMask []bool, causal bool) error
	// Backward adds to dq, dk and dv (shaped like q, k, v) the gradients
	// of <out, dout> for the most recent Forward, whose inputs the caller
	// keeps unchanged until then.
	Backward(dq, dk, dv, dout *tensor.Tensor) error
}

// Caps lists what a variant supports; the suite skips the cases it
// does not and checks that they are rejected with an error.
type Caps struct {
	Causal  bool // accepts causal = true
	KeyMask bool // accepts a key-padding mask
	KVHeads bool // accepts KVH < H (grouped-query and multi-query attention)
	Cross   bool // accepts Tq != Tk
	// Exact claims equality with softmax attention (restricted to the
	// variant's Pattern, if it implements one) within relative error
	// ExactRel of each tensor's largest magnitude; 0 means 1e-5.
	Exact    bool
	ExactRel float64
	// GradTol bounds analytic against finite-difference gradients; the
	// zero value means {Abs: 5e-3, Rel: 2e-2}.
	GradTol kerneltest.Tol
}

// Case is one shape of the suite's table.
type Case struct {
	B, H, KVH, Tq, Tk, D int
	Causal, Pad          bool
}

func (c Case) String() string {
	return fmt.Sprintf("B=%d/H=%d/KVH=%d/Tq=%d/Tk=%d/D=%d/causal=%v/pad=%v", c.B, c.H, c.KVH, c.Tq, c.Tk, c.D, c.Causal, c.Pad)
}

// Cases is the suite's table: a single token, blocks smaller and larger
// than any kernel's tiles (32 queries, 128 keys), padding and causal
// masks, grouped and multi-query heads, and Tq != Tk.
var Cases = []Case{
	{1, 1, 1, 1, 1, 1, false, false},
	{2, 2, 2, 5, 5, 4, false, false},
	{2, 2, 2, 5, 5, 4, true, false},
	{3, 2, 2, 7, 7, 4, false, true},
	{1, 2, 2, 37, 37, 8, true, true},
	{2, 4, 2, 70, 70, 16, true, false},
	{3, 4, 1, 33, 33, 8, false, true},
	{1, 2, 2, 20, 45, 16, true, false},
	{1, 2, 2, 33, 50, 12, false, false},
	{2, 1, 1, 300, 300, 16, true, true},
	{1, 2, 1, 260, 260, 64, false, false},
}

func (c Case) supported(caps Caps) bool {
	return (!c.Causal || caps.Causal) && (!c.Pad || caps.KeyMask) &&
		(c.KVH == c.H || caps.KVHeads) && (c.Tq == c.Tk || caps.Cross)
}

// inputs holds one case's tensors.
type inputs struct {
	c             Case
	q, k, v, dout *tensor.Tensor
	mask          []bool
}

func newInputs(c Case, seed uint64) *inputs {
	in := &inputs{c: c}
	in.q = randTensor(seed, c.B, c.H, c.Tq, c.D)
	in.k = randTensor(seed+1, c.B, c.KVH, c.Tk, c.D)
	in.v = randTensor(seed+2, c.B, c.KVH, c.Tk, c.D)
	in.dout = randTensor(seed+3, c.B, c.H, c.Tq, c.D)
	if c.Pad {
		in.mask = PaddingMask(seed+4, c.B, c.Tk)
	}
	return in
}

func randTensor(seed uint64, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	rng.New(seed).FillNormal(t.Data, 0, 1)
	return t
}

// PaddingMask hides a seeded suffix of keys per batch (right padding):
// batch 0 keeps every key and, when there are several, the last batch
// hides them all, so its queries see nothing.
func PaddingMask(seed uint64, b, tk int) []bool {
	r := rng.New(seed)
	m := make([]bool, b*tk)
	for bi := range b {
		n := tk
		if bi > 0 {
			n = 1 + r.Intn(tk)
		}
		if bi == b-1 && b > 1 {
			n = 0
		}
		for j := range n {
			m[bi*tk+j] = true
		}
	}
	return m
}

func (in *inputs) problem(impl Impl) *Problem {
	c := in.c
	p := &Problem{B: c.B, H: c.H, KVH: c.KVH, Tq: c.Tq, Tk: c.Tk, D: c.D,
		Q: in.q.Data, K: in.k.Data, V: in.v.Data, KeyMask: in.mask, Causal: c.Causal}
	if pat, ok := impl.(Pattern); ok {
		p.Pattern = pat
	}
	return p
}

// result is one forward and backward.
type result struct {
	out, dq, dk, dv *tensor.Tensor
}

func (r *result) all() []float32 {
	return append(append(append(append([]float32(nil), r.out.Data...), r.dq.Data...), r.dk.Data...), r.dv.Data...)
}

// run does a forward and a backward into fresh tensors.
func (in *inputs) run(impl Impl) (*result, error) {
	r := &result{out: tensor.New(in.q.Shape...), dq: tensor.New(in.q.Shape...), dk: tensor.New(in.k.Shape...), dv: tensor.New(in.v.Shape...)}
	if err := impl.Forward(r.out, in.q, in.k, in.v, in.mask, in.c.Causal); err != nil {
		return nil, fmt.Errorf("Forward: %w", err)
	}
	if err := impl.Backward(r.dq, r.dk, r.dv, in.dout); err != nil {
		return nil, fmt.Errorf("Backward: %w", err)
	}
	return r, nil
}

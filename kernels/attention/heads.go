package attention

import (
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// SplitHeads copies a fused projection qkv (B, T, 3C), laid out as
// [q | k | v] along the last dimension, into q, k and v of shape
// (B, H, T, D) with C = H·D: the (B, T, H, D) → (B, H, T, D) transpose of
// GPT-2 and nanoGPT. H and D are read from q's shape.
func SplitHeads(q, k, v, qkv *tensor.Tensor) error {
	c := tensor.Check("attention.SplitHeads").Add("q", q).Add("k", k).Add("v", v).Add("qkv", qkv)
	b, h, t, d := headDims(c, q, qkv)
	if err := c.Err(); err != nil {
		return err
	}
	permuteHeads(qkv.Data, q.Data, k.Data, v.Data, b, h, t, d, fwdCopy)
	return nil
}

// SplitHeadsBackward accumulates dq, dk and dv (B, H, T, D) into dqkv
// (B, T, 3C).
func SplitHeadsBackward(dqkv, dq, dk, dv *tensor.Tensor) error {
	return splitHeadsBackward("attention.SplitHeadsBackward", addBack, dqkv, dq, dk, dv)
}

// SplitHeadsBackwardTo is SplitHeadsBackward with dqkv overwritten: it is
// MergeHeads of the three gradients, with no need to zero dqkv first.
func SplitHeadsBackwardTo(dqkv, dq, dk, dv *tensor.Tensor) error {
	return splitHeadsBackward("attention.SplitHeadsBackwardTo", setBack, dqkv, dq, dk, dv)
}

func splitHeadsBackward(op string, mode int, dqkv, dq, dk, dv *tensor.Tensor) error {
	c := tensor.Check(op).Add("dqkv", dqkv).Add("dq", dq).Add("dk", dk).Add("dv", dv)
	b, h, t, d := headDims(c, dq, dqkv)
	if err := c.Err(); err != nil {
		return err
	}
	permuteHeads(dqkv.Data, dq.Data, dk.Data, dv.Data, b, h, t, d, mode)
	return nil
}

// The directions of a head permutation: the forward's copy, or its
// backward, which adds the gradient back into the forward's source or
// overwrites it (see moveHead).
const (
	fwdCopy = iota
	addBack
	setBack
)

// moveHead moves rows rows of one head (d values each) in a permutation
// whose forward copies src (row stride ss) into dst (row stride ds): in
// direction mode, that copy, or its backward, src (+)= dst. The copies are
// one vmath.CopyRows each (a vector loop instead of a copy call per row).
func moveHead(dst []float32, ds int, src []float32, ss, rows, d, mode int) {
	switch mode {
	case addBack:
		for r := range rows {
			s := src[r*ss : r*ss+d]
			for i, g := range dst[r*ds : r*ds+d] {
				s[i] += g
			}
		}
	case setBack:
		vmath.CopyRows(src, ss, dst, ds, rows, d)
	default:
		vmath.CopyRows(dst, ds, src, ss, rows, d)
	}
}

func headDims(c *tensor.Checker, q, qkv *tensor.Tensor) (b, h, t, d int) {
	if !c.Ok() {
		return
	}
	c.Require(q.Rank() == 4, "q must be (B, H, T, D)")
	c.Require(qkv.Rank() == 3, "qkv must be (B, T, 3C)")
	if !c.Ok() {
		return
	}
	b, h, t, d = q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]
	c.Shape("qkv", qkv, b, t, 3*h*d)
	return
}

// permuteHeads moves data between (B, T, 3, H, D) and three (B, H, T, D)
// tensors in direction mode (its forward copies qkv into q, k and v).
func permuteHeads(qkv, q, k, v []float32, b, h, t, d int, mode int) {
	j := headsJobs.Get()
	*j = headsJob{qkv: qkv, q: q, k: k, v: v, b: b, h: h, t: t, d: d, mode: mode, split: true}
	runHeads(j)
}

func (j *headsJob) permute(bi, t0, t1 int) {
	qkv, h, t, d := j.qkv, j.h, j.t, j.d
	c := h * d
	dst := [3][]float32{j.q, j.k, j.v}
	for part := range 3 {
		for hi := range h {
			moveHead(dst[part][((bi*h+hi)*t+t0)*d:], d, qkv[(bi*t+t0)*3*c+part*c+hi*d:], 3*c, t1-t0, d, j.mode)
		}
	}
}

// MergeHeads copies y (B, H, T, D) into out (B, T, C) with C = H·D.
func MergeHeads(out, y *tensor.Tensor) error {
	c := tensor.Check("attention.MergeHeads").Add("out", out).Add("y", y)
	b, h, t, d := mergeDims(c, y)
	if c.Ok() {
		c.Shape("out", out, b, t, h*d)
	}
	if err := c.Err(); err != nil {
		return err
	}
	mergeHeads(out.Data, y.Data, b, h, t, d, fwdCopy)
	return nil
}

// MergeHeadsBackward accumulates dout (B, T, C) into dy (B, H, T, D).
func MergeHeadsBackward(dy, dout *tensor.Tensor) error {
	return mergeHeadsBackward("attention.MergeHeadsBackward", addBack, dy, dout)
}

// MergeHeadsBackwardTo is MergeHeadsBackward with dy overwritten: it is
// SplitHeads of dout, with no need to zero dy first.
func MergeHeadsBackwardTo(dy, dout *tensor.Tensor) error {
	return mergeHeadsBackward("attention.MergeHeadsBackwardTo", setBack, dy, dout)
}

func mergeHeadsBackward(op string, mode int, dy, dout *tensor.Tensor) error {
	c := tensor.Check(op).Add("dy", dy).Add("dout", dout)
	b, h, t, d := mergeDims(c, dy)
	if c.Ok() {
		c.Shape("dout", dout, b, t, h*d)
	}
	if err := c.Err(); err != nil {
		return err
	}
	mergeHeads(dout.Data, dy.Data, b, h, t, d, mode)
	return nil
}

func mergeDims(c *tensor.Checker, y *tensor.Tensor) (b, h, t, d int) {
	if !c.Ok() {
		return
	}
	if c.Require(y.Rank() == 4, "y must be (B, H, T, D)"); !c.Ok() {
		return
	}
	return y.Shape[0], y.Shape[1], y.Shape[2], y.Shape[3]
}

func mergeHeads(out, y []float32, b, h, t, d int, mode int) {
	j := headsJobs.Get()
	*j = headsJob{qkv: out, q: y, b: b, h: h, t: t, d: d, mode: mode}
	runHeads(j)
}

func (j *headsJob) merge(bi, t0, t1 int) {
	out, y, h, t, d := j.qkv, j.q, j.h, j.t, j.d
	c := h * d
	for hi := range h {
		moveHead(out[(bi*t+t0)*c+hi*d:], c, y[((bi*h+hi)*t+t0)*d:], d, t1-t0, d, j.mode)
	}
}

// headsJob is one head permutation (split: qkv ↔ q, k, v; otherwise
// merge: qkv is out and q is y), cut into parts of up to headsRows
// positions of one sequence; parts write disjoint rows, so results do not
// depend on the thread count.
type headsJob struct {
	qkv, q, k, v []float32
	b, h, t, d   int
	mode         int // fwdCopy, addBack or setBack
	split        bool
	perSeq       int // parts per sequence
}

const headsRows = 64

var headsJobs parallel.FreeList[headsJob]

// runHeads runs j (serially when it is small) and returns it to the list.
func runHeads(j *headsJob) {
	j.perSeq = (j.t + headsRows - 1) / headsRows
	if j.b*j.t*j.h*j.d < 1<<15 {
		for part := range j.b * j.perSeq {
			j.Run(part)
		}
	} else {
		parallel.Do(j.b*j.perSeq, j)
	}
	*j = headsJob{}
	headsJobs.Put(j)
}

func (j *headsJob) Run(part int) {
	bi, blk := part/j.perSeq, part%j.perSeq
	t0, t1 := blk*headsRows, min(j.t, (blk+1)*headsRows)
	if j.split {
		j.permute(bi, t0, t1)
	} else {
		j.merge(bi, t0, t1)
	}
}

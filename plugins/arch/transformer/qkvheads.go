package transformer

import (
	"github.com/attnlab/attnlab/kernels/blas"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// The self-attention's input projection, head by head.
//
// c_attn's output row is H+2·KVH blocks of D values (heads.go), and the
// attention takes q, k and v head-major, (B, heads, T, D). Computed as one
// product and then split, the projection writes the (B, T, (H+2·KVH)·D)
// output and the split reads it back and writes it again (and the
// backward merges the attention's gradients into one such tensor before
// its two products): at the reference model's 2048 tokens, 3 MiB each
// way per layer, a millisecond a step. Here each (example, block) pair is
// its own small product, written straight into its place among the heads:
//
//	forward   q/k/v[b, head] = ln1[b]·W_jᵀ + bias_j          (T, D)
//	backward  dln1[b]  = Σ_j dx_j[b, head]·W_j                (T, C), j in order
//	          dW_j    += Σ_b dx_j[b, head]ᵀ·ln1[b]            (D, C), b in order
//	          dbias_j += Σ_b column sums of dx_j[b, head]
//
// where j runs over the blocks, W_j is c_attn.weight's rows j·D on and
// dx_j is dq, dk or dv. The forward gives the bits of LinearForward and the
// split (every element is the same sum plus the bias); the backward sums
// in another order than LinearBackwardTo on the merged gradient, so its
// last bits differ (version 1.3.0). Parts are (example, block) pairs,
// examples or blocks, fixed by the shape, so any thread count gives the
// same bits.
//
// It needs every head to start a micro-panel of the packed weight (D a
// multiple of the matrix kernel's panel width) and d_model within one K
// block; other shapes take LinearForward and the split.

// qkvHeadsOK reports whether the block's projection runs head by head.
func (m *model) qkvHeadsOK() bool {
	_, nr, kc := blas.Panel()
	return !qkvHeadsOff && m.hp.headDim%nr == 0 && m.hp.dModel <= kc
}

// qkvHeadsOff turns the head-by-head projection off, for tests and
// benchmarks to compare with the product and the split.
var qkvHeadsOff bool

// qkvJob is one call's state: forward parts are (example, block) pairs,
// the backward's first phase's examples and its second's blocks.
type qkvJob struct {
	phase              int // qkvForward, qkvBackwardX or qkvBackwardW
	t, c, d, h, kvh    int
	ln1                []float32 // (B, T, C)
	wpack              []float32 // forward: Wᵀ packed; backward: each W_j packed
	bias               []float32 // forward
	x                  [3][]float32
	dln1, dw, dbias    []float32 // backward
	nblocks, blockPack int
}

const (
	qkvForward = iota
	qkvBackwardX
	qkvBackwardW
)

// block returns the head-major tensor data and the head of block j, and
// that tensor's number of heads.
func (j *qkvJob) block(blk int) (x []float32, head, heads int) {
	switch {
	case blk < j.h:
		return j.x[0], blk, j.h
	case blk < j.h+j.kvh:
		return j.x[1], blk - j.h, j.kvh
	}
	return j.x[2], blk - j.h - j.kvh, j.kvh
}

// headRows is block j's (T, D) rows of example b.
func (j *qkvJob) headRows(b, blk int) []float32 {
	x, head, heads := j.block(blk)
	o := (b*heads + head) * j.t * j.d
	return x[o : o+j.t*j.d]
}

func (j *qkvJob) Run(part int) {
	t, c, d := j.t, j.c, j.d
	switch j.phase {
	case qkvForward:
		b, blk := part/j.nblocks, part%j.nblocks
		blas.MulPackedBias(t, d, c, j.ln1[b*t*c:], c, 1, j.wpack[blk*d*c:], j.bias[blk*d:], j.headRows(b, blk), d)
	case qkvBackwardX:
		b := part
		for blk := range j.nblocks {
			blas.MulPacked(t, c, d, j.headRows(b, blk), d, 1, j.wpack[blk*j.blockPack:], blk > 0, j.dln1[b*t*c:(b+1)*t*c], c)
		}
	case qkvBackwardW:
		blk := part
		dw, db := j.dw[blk*d*c:(blk+1)*d*c], j.dbias[blk*d:(blk+1)*d]
		for b := range len(j.ln1) / (t * c) {
			x := j.headRows(b, blk)
			blas.Gemm(true, false, d, c, t, 1, x, d, j.ln1[b*t*c:], c, 1, dw, c)
			vmath.AddRows(db, x)
		}
	}
}

// qkvHeadsForward sets bl.q, bl.k and bl.v from bl.ln1 (see above).
func (m *model) qkvHeadsForward(bl *block) {
	j := m.qkvSetup(bl, bl.q, bl.k, bl.v)
	blas.PackB(j.wpack, true, j.c, j.nblocks*j.d, 1, bl.qkvW.v.Data, j.c)
	j.phase, j.bias = qkvForward, bl.qkvB.v.Data
	parallel.Do(len(j.ln1)/(j.t*j.c)*j.nblocks, j)
	m.qkv = qkvJob{wpack: j.wpack}
}

// qkvHeadsBackward sets bl.dln1 and accumulates c_attn's gradients from
// dq, dk and dv (see above).
func (m *model) qkvHeadsBackward(bl *block, dq, dk, dv *tensor.Tensor) {
	j := m.qkvSetup(bl, dq, dk, dv)
	for blk := range j.nblocks {
		blas.PackB(j.wpack[blk*j.blockPack:], false, j.d, j.c, 1, bl.qkvW.v.Data[blk*j.d*j.c:], j.c)
	}
	j.dln1, j.dw, j.dbias = bl.dln1.Data, bl.qkvW.g.Data, bl.qkvB.g.Data
	j.phase = qkvBackwardX
	parallel.Do(len(j.ln1)/(j.t*j.c), j)
	j.phase = qkvBackwardW
	parallel.Do(j.nblocks, j)
	m.qkv = qkvJob{wpack: j.wpack}
}

// qkvSetup fills m.qkv for block bl with the head-major tensors x (q, k
// and v, or their gradients), its packing buffer sized for both passes.
func (m *model) qkvSetup(bl *block, q, k, v *tensor.Tensor) *qkvJob {
	hp := &m.hp
	j := &m.qkv
	*j = qkvJob{wpack: j.wpack, c: hp.dModel, d: hp.headDim, h: hp.heads, kvh: hp.kvHeads, ln1: bl.ln1.Data,
		x: [3][]float32{q.Data, k.Data, v.Data}}
	j.t = bl.ln1.Shape[1]
	j.nblocks = j.h + 2*j.kvh
	j.blockPack = blas.PackedBLen(j.d, j.c)
	if n := max(blas.PackedBLen(j.c, j.nblocks*j.d), j.nblocks*j.blockPack); len(j.wpack) < n {
		j.wpack = make([]float32, n)
	}
	return j
}

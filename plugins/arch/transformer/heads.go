package transformer

import (
	"fmt"

	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// Grouped key/value heads (GQA, Ainslie et al. 2023, §2; MQA, Shazeer
// 2019, at kv_heads = 1): c_attn projects each token to H query heads and
// KVH < H key and value heads, the row laid out as
//
//	qkv[b, t] = [ q_0 … q_{H-1} | k_0 … k_{KVH-1} | v_0 … v_{KVH-1} ]   each head D wide
//
// which for KVH = H is the (3, H, D) row of attention.SplitHeads. The
// attention component maps query head h to key/value head h/(H/KVH).
// kernels/attention's SplitHeads assumes KVH = H, so the split and its
// backward for KVH < H live here; the block uses SplitHeads when KVH = H,
// so that model's numerics are those of the ungrouped transformer.

// splitQKV copies qkv (B, T, (H+2·KVH)·D) into q (B, H, T, D) and k, v
// (B, KVH, T, D).
func splitQKV(q, k, v, qkv *tensor.Tensor) error {
	b, h, kvh, t, d, err := qkvDims("splitQKV", q, k, v, qkv)
	if err != nil {
		return err
	}
	permuteQKV(qkv.Data, q.Data, k.Data, v.Data, b, h, kvh, t, d, false)
	return nil
}

// splitQKVBackward accumulates dq (B, H, T, D) and dk, dv (B, KVH, T, D)
// into dqkv (B, T, (H+2·KVH)·D).
func splitQKVBackward(dqkv, dq, dk, dv *tensor.Tensor) error {
	b, h, kvh, t, d, err := qkvDims("splitQKVBackward", dq, dk, dv, dqkv)
	if err != nil {
		return err
	}
	permuteQKV(dqkv.Data, dq.Data, dk.Data, dv.Data, b, h, kvh, t, d, true)
	return nil
}

// qkvDims checks the shapes of splitQKV's tensors and returns B, H, KVH,
// T and D.
func qkvDims(op string, q, k, v, qkv *tensor.Tensor) (b, h, kvh, t, d int, err error) {
	for _, x := range []struct {
		name string
		t    *tensor.Tensor
		rank int
	}{{"q", q, 4}, {"k", k, 4}, {"v", v, 4}, {"qkv", qkv, 3}} {
		if x.t == nil || x.t.Rank() != x.rank || tensor.Numel(x.t.Shape) != len(x.t.Data) {
			return 0, 0, 0, 0, 0, fmt.Errorf("%s: %s is %s, want a rank-%d tensor whose data fills its shape", op, x.name, describe(x.t), x.rank)
		}
	}
	b, h, t, d = q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]
	kvh = k.Shape[1]
	switch {
	case !tensor.SameShape(k.Shape, []int{b, kvh, t, d}) || !tensor.SameShape(v.Shape, k.Shape):
		err = fmt.Errorf("%s: k %s and v %s, want (%d, KVH, %d, %d) each (q is %s)", op, describe(k), describe(v), b, t, d, describe(q))
	case kvh < 1 || h%kvh != 0:
		err = fmt.Errorf("%s: %d key/value heads do not divide %d query heads", op, kvh, h)
	case !tensor.SameShape(qkv.Shape, []int{b, t, (h + 2*kvh) * d}):
		err = fmt.Errorf("%s: qkv %s, want (%d, %d, %d) = (B, T, (H+2·KVH)·D)", op, describe(qkv), b, t, (h+2*kvh)*d)
	}
	return
}

// permuteQKV moves data between qkv rows and the three head-major tensors;
// back accumulates into qkv instead of copying out of it.
func permuteQKV(qkv, q, k, v []float32, b, h, kvh, t, d int, back bool) {
	w := (h + 2*kvh) * d
	parts := [3]struct {
		x      []float32
		heads  int
		offset int // of the part's first head in a qkv row
	}{{q, h, 0}, {k, kvh, h * d}, {v, kvh, (h + kvh) * d}}
	for bi := range b {
		for ti := range t {
			row := qkv[(bi*t+ti)*w : (bi*t+ti+1)*w]
			for _, p := range parts {
				for hi := range p.heads {
					src := row[p.offset+hi*d : p.offset+(hi+1)*d]
					o := ((bi*p.heads+hi)*t + ti) * d
					x := p.x[o : o+d]
					if back {
						for i, g := range x {
							src[i] += g
						}
					} else {
						copy(x, src)
					}
				}
			}
		}
	}
}

// splitBlockQKV is the block's split: SplitHeads when every query head has
// its own key/value head, splitQKV otherwise.
func (m *model) splitBlockQKV(q, k, v, qkv *tensor.Tensor) error {
	if m.hp.kvHeads == m.hp.heads {
		return attention.SplitHeads(q, k, v, qkv) // (B, T, 3C) → 3 × (B, H, T, D)
	}
	return splitQKV(q, k, v, qkv) // (B, T, (H+2·KVH)·D) → (B, H, T, D), 2 × (B, KVH, T, D)
}

// splitBlockQKVBackward is splitBlockQKV's backward.
func (m *model) splitBlockQKVBackward(dqkv, dq, dk, dv *tensor.Tensor) error {
	if m.hp.kvHeads == m.hp.heads {
		return attention.SplitHeadsBackwardTo(dqkv, dq, dk, dv) // dqkv's only writer
	}
	return splitQKVBackward(dqkv, dq, dk, dv) // accumulates: dqkv is zeroed
}

package attention

import (
	"math"

	"github.com/attnlab/attnlab/kernels/blas"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// naiveForward is the reference: scores, row softmax and the weighted sum
// written out loop by loop, with P returned as (B, H, Tq, Tk).
func naiveForward(q, k, v *tensor.Tensor, keyMask []bool, opt Options) (out, p *tensor.Tensor) {
	b, h, tq, d := q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]
	tk := k.Shape[2]
	scale := opt.scale(d)
	out = tensor.New(b, h, tq, d)
	p = tensor.New(b, h, tq, tk)
	for bh := range b * h {
		bi := bh / h
		for i := range tq {
			row := p.Data[(bh*tq+i)*tk : (bh*tq+i+1)*tk]
			m := math.Inf(-1)
			for j := range tk {
				if !visible(opt, keyMask, bi, i, j, tq, tk) {
					row[j] = float32(math.Inf(-1))
					continue
				}
				var s float32
				for x := range d {
					s += q.Data[(bh*tq+i)*d+x] * k.Data[(bh*tk+j)*d+x]
				}
				row[j] = scale * s
				m = math.Max(m, float64(row[j]))
			}
			var sum float64
			for j := range row {
				if math.IsInf(float64(row[j]), -1) {
					row[j] = 0
					continue
				}
				e := math.Exp(float64(row[j]) - m)
				row[j] = float32(e)
				sum += e
			}
			for j := range row {
				if sum > 0 {
					row[j] = float32(float64(row[j]) / sum)
				}
			}
			for x := range d {
				var s float32
				for j := range tk {
					s += row[j] * v.Data[(bh*tk+j)*d+x]
				}
				out.Data[(bh*tq+i)*d+x] = s
			}
		}
	}
	return out, p
}

func visible(opt Options, keyMask []bool, b, i, j, tq, tk int) bool {
	if opt.Causal && j > i+tk-tq {
		return false
	}
	return keyMask == nil || keyMask[b*tk+j]
}

// naiveBackward returns dq, dk, dv from the reference probabilities p.
func naiveBackward(dout, q, k, v, p *tensor.Tensor, opt Options) (dq, dk, dv *tensor.Tensor) {
	b, h, tq, d := q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]
	tk := k.Shape[2]
	scale := opt.scale(d)
	dq, dk, dv = tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
	dp := make([]float32, tk)
	for bh := range b * h {
		for i := range tq {
			prow := p.Data[(bh*tq+i)*tk : (bh*tq+i+1)*tk]
			do := dout.Data[(bh*tq+i)*d : (bh*tq+i+1)*d]
			var dot float32
			for j := range tk {
				var s float32
				for x := range d {
					s += do[x] * v.Data[(bh*tk+j)*d+x]
					dv.Data[(bh*tk+j)*d+x] += prow[j] * do[x]
				}
				dp[j] = s
				dot += prow[j] * s
			}
			for j := range tk {
				ds := scale * prow[j] * (dp[j] - dot)
				for x := range d {
					dq.Data[(bh*tq+i)*d+x] += ds * k.Data[(bh*tk+j)*d+x]
					dk.Data[(bh*tk+j)*d+x] += ds * q.Data[(bh*tq+i)*d+x]
				}
			}
		}
	}
	return dq, dk, dv
}

// Weights copies the probabilities in a FullForward cache into dst, shaped
// (B, H, Tq, Tk), for inspection and plots.
func Weights(dst, att *tensor.Tensor) error {
	c := tensor.Check("attention.Weights").Add("dst", dst).Add("att", att)
	c.Require(dst == nil || dst.Rank() == 4, "dst must be (B, H, Tq, Tk)")
	if c.Ok() {
		c.Shape("att", att, CacheShape(dst.Shape[0], dst.Shape[1], dst.Shape[2], dst.Shape[3])...)
	}
	if err := c.Err(); err != nil {
		return err
	}
	_, nr, _ := blas.Panel()
	b, h, tq, tk := dst.Shape[0], dst.Shape[1], dst.Shape[2], dst.Shape[3]
	blocks := (tq + nr - 1) / nr
	for bh := range b * h {
		for i := range tq {
			blk, ii := i/nr, i%nr
			for j := range tk {
				dst.Data[(bh*tq+i)*tk+j] = att.Data[((bh*blocks+blk)*tk+j)*nr+ii]
			}
		}
	}
	return nil
}

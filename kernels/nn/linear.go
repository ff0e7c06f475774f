package nn

import (
	"github.com/attnlab/attnlab/kernels/blas"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// LinearForward computes out = inp·weightᵀ + bias, the fully connected
// layer of PyTorch's nn.Linear (weight stored out-features first):
//
//	inp    (N.., C)
//	weight (OC, C)
//	bias   (OC) or nil
//	out    (N.., OC)  same leading dimensions as inp
//
// The product runs through blas.Gemm. out must not overlap inp or weight.
// Nothing is cached: the backward needs only inp and weight.
func LinearForward(out, inp, weight, bias *tensor.Tensor) error {
	chk := tensor.Check("nn.LinearForward")
	checkLinear(chk, out, inp, weight, bias, "out", "bias")
	if err := chk.Err(); err != nil {
		return err
	}
	n, c, oc := inp.Rows(), inp.Cols(), weight.Shape[0]
	var beta float32
	if bias != nil {
		for i := range n {
			copy(out.Data[i*oc:(i+1)*oc], bias.Data)
		}
		beta = 1
	}
	blas.Gemm(false, true, n, oc, c, 1, inp.Data, c, weight.Data, c, beta, out.Data, oc)
	return nil
}

// LinearBackward accumulates the gradients of LinearForward:
//
//	dinp    (N.., C)  += dout·weight
//	dweight (OC, C)   += doutᵀ·inp
//	dbias   (OC)      += sum of dout over rows
//
// dout has out's shape (N.., OC). Any of dinp, dweight and dbias may be nil.
// The products run through blas.Gemm; dbias is a column sum of dout in
// blocks of rows (addColumnSums), split across threads by columns.
func LinearBackward(dinp, dweight, dbias, dout, inp, weight *tensor.Tensor) error {
	chk := tensor.Check("nn.LinearBackward")
	opt(chk, "dinp", dinp)
	opt(chk, "dweight", dweight)
	checkLinear(chk, dout, inp, weight, dbias, "dout", "dbias")
	same(chk, "dinp", dinp, "inp", inp)
	same(chk, "dweight", dweight, "weight", weight)
	if err := chk.Err(); err != nil {
		return err
	}
	n, ci, oc := inp.Rows(), inp.Cols(), weight.Shape[0]
	if dinp != nil {
		// (N, C) += (N, OC)·(OC, C)
		blas.Gemm(false, false, n, ci, oc, 1, dout.Data, oc, weight.Data, ci, 1, dinp.Data, ci)
	}
	if dweight != nil {
		// (OC, C) += (N, OC)ᵀ·(N, C)
		blas.Gemm(true, false, oc, ci, n, 1, dout.Data, oc, inp.Data, ci, 1, dweight.Data, ci)
	}
	if dbias != nil {
		j := colJobs.get()
		*j = colSumJob{span: colSpan(n, oc), rows: n, src: dout.Data, dst: dbias.Data}
		parallel.Do(j.parts(), j)
		*j = colSumJob{}
		colJobs.put(j)
	}
	return nil
}

// colSumJob adds the column sums of src (rows × len(dst), row-major) to
// dst; a part is a range of columns, so no two parts touch the same sum.
type colSumJob struct {
	span     // over columns
	rows     int
	src, dst []float32
}

var colJobs freeList[colSumJob]

// colSpan cuts c columns of n rows into parts of whole 8-column strips,
// at least partGrain elements each and at most maxParts of them.
func colSpan(n, c int) span {
	per := max(ceilDiv(partGrain, max(n, 1)), ceilDiv(c, maxParts))
	return span{c, ceilDiv(per, 8) * 8}
}

func (j *colSumJob) Run(part int) {
	lo, hi := j.bounds(part)
	addColumnSums(j.dst, j.src, j.rows, len(j.dst), lo, hi)
}

// colBlock is the number of rows summed before a block's sums join a
// column's total: each column is the sum, in row order, of its blocks' sums,
// each taken in row order from zero, so the rounding error grows with
// colBlock + rows/colBlock rather than with rows.
const colBlock = 64

// addColumnSums adds to dst[k], for the columns k in [k0, k1), the sum of
// src[r*ld+k] over rows r in [0, n). Eight columns at a time run down the
// rows with their sums in registers; the columns left over are summed one
// by one in the same order, so a column's result does not depend on which
// path, or which part, computed it.
func addColumnSums(dst, src []float32, n, ld, k0, k1 int) {
	k := k0
	for ; k+8 <= k1; k += 8 {
		var t [8]float32
		for r0 := 0; r0 < n; r0 += colBlock {
			var s0, s1, s2, s3, s4, s5, s6, s7 float32
			for r := r0; r < min(r0+colBlock, n); r++ {
				v := src[r*ld+k : r*ld+k+8 : r*ld+k+8]
				s0 += v[0]
				s1 += v[1]
				s2 += v[2]
				s3 += v[3]
				s4 += v[4]
				s5 += v[5]
				s6 += v[6]
				s7 += v[7]
			}
			t[0] += s0
			t[1] += s1
			t[2] += s2
			t[3] += s3
			t[4] += s4
			t[5] += s5
			t[6] += s6
			t[7] += s7
		}
		d := dst[k : k+8 : k+8]
		for i, v := range t {
			d[i] += v
		}
	}
	for ; k < k1; k++ {
		var t float32
		for r0 := 0; r0 < n; r0 += colBlock {
			var s float32
			for r := r0; r < min(r0+colBlock, n); r++ {
				s += src[r*ld+k]
			}
			t += s
		}
		dst[k] += t
	}
}

// checkLinear records and validates inp (N.., C), weight (OC, C), an
// optional bias-like vector (OC) and an out-like tensor (N.., OC), named as
// given.
func checkLinear(chk *tensor.Checker, out, inp, weight, bias *tensor.Tensor, outName, biasName string) {
	chk.Add(outName, out).Add("inp", inp).Add("weight", weight)
	opt(chk, biasName, bias)
	atLeast1D(chk, "inp", inp)
	if chk.Ok() && len(weight.Shape) != 2 {
		chk.Failf("weight must have two dimensions (OC, C)")
	}
	if chk.Ok() && weight.Shape[1] != inp.Cols() {
		chk.Failf("inp's last dimension %d must equal weight's second dimension %d", inp.Cols(), weight.Shape[1])
	}
	if !chk.Ok() {
		return
	}
	lead, oc := inp.Shape[:len(inp.Shape)-1], weight.Shape[0]
	if len(out.Shape) != len(inp.Shape) || !tensor.SameShape(out.Shape[:len(lead)], lead) || out.Cols() != oc {
		want := append(lead[:len(lead):len(lead)], oc)
		chk.Failf("%s must have shape %s, inp's leading dimensions and weight's first dimension", outName, tensor.FormatShape(want))
	}
	vector(chk, biasName, bias, oc, "weight's first dimension")
}

// linearForwardNaive is the reference for LinearForward: a triple loop with
// a float64 accumulator per output element, over flat buffers.
func linearForwardNaive(out, inp, weight, bias []float32, n, c, oc int) {
	for i := range n {
		for o := range oc {
			var s float64
			if bias != nil {
				s = float64(bias[o])
			}
			for k := range c {
				s += float64(inp[i*c+k]) * float64(weight[o*c+k])
			}
			out[i*oc+o] = float32(s)
		}
	}
}

// linearBackwardNaive is the reference for LinearBackward; nil gradients
// are skipped.
func linearBackwardNaive(dinp, dweight, dbias, dout, inp, weight []float32, n, c, oc int) {
	if dinp != nil {
		for i := range n {
			for k := range c {
				var s float64
				for o := range oc {
					s += float64(dout[i*oc+o]) * float64(weight[o*c+k])
				}
				dinp[i*c+k] += float32(s)
			}
		}
	}
	if dweight != nil {
		for o := range oc {
			for k := range c {
				var s float64
				for i := range n {
					s += float64(dout[i*oc+o]) * float64(inp[i*c+k])
				}
				dweight[o*c+k] += float32(s)
			}
		}
	}
	if dbias != nil {
		for o := range oc {
			var s float64
			for i := range n {
				s += float64(dout[i*oc+o])
			}
			dbias[o] += float32(s)
		}
	}
}

package nn

import (
	"github.com/attnlab/attnlab/kernels/blas"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// LinearForward computes out = inp·weightᵀ + bias, the fully connected
// layer of PyTorch's nn.Linear (weight stored out-features first):
//
//	inp    (N.., C)
//	weight (OC, C)
//	bias   (OC) or nil
//	out    (N.., OC)  same leading dimensions as inp
//
// The product runs through blas.GemmBias (blas.Gemm without a bias). out must not overlap inp or weight.
// Nothing is cached: the backward needs only inp and weight.
func LinearForward(out, inp, weight, bias *tensor.Tensor) error {
	chk := tensor.Check("nn.LinearForward")
	checkLinear(chk, out, inp, weight, bias, "out", "bias")
	if err := chk.Err(); err != nil {
		return err
	}
	n, c, oc := inp.Rows(), inp.Cols(), weight.Shape[0]
	if bias != nil {
		// The bias is added as each tile of out is first stored.
		blas.GemmBias(false, true, n, oc, c, 1, inp.Data, c, weight.Data, c, bias.Data[:oc], out.Data, oc)
		return nil
	}
	blas.Gemm(false, true, n, oc, c, 1, inp.Data, c, weight.Data, c, 0, out.Data, oc)
	return nil
}

// LinearBackward accumulates the gradients of LinearForward:
//
//	dinp    (N.., C)  += dout·weight
//	dweight (OC, C)   += doutᵀ·inp
//	dbias   (OC)      += sum of dout over rows
//
// dout has out's shape (N.., OC). Any of dinp, dweight and dbias may be nil.
// The products run through blas.Gemm; dbias is a column sum of dout
// (addColumnSums), split across threads by rows.
func LinearBackward(dinp, dweight, dbias, dout, inp, weight *tensor.Tensor) error {
	return linearBackward("nn.LinearBackward", 1, dinp, dweight, dbias, dout, inp, weight)
}

// LinearBackwardTo is LinearBackward with dinp overwritten, dinp =
// dout·weight, instead of accumulated (dweight and dbias still
// accumulate). A caller whose dinp has no other writer, or whose other
// writers come later, saves zeroing it, and the product saves reading it:
// the same bits as zeroing and accumulating.
func LinearBackwardTo(dinp, dweight, dbias, dout, inp, weight *tensor.Tensor) error {
	return linearBackward("nn.LinearBackwardTo", 0, dinp, dweight, dbias, dout, inp, weight)
}

// linearBackward is LinearBackward with dinp scaled by beta (0 or 1) first.
func linearBackward(op string, beta float32, dinp, dweight, dbias, dout, inp, weight *tensor.Tensor) error {
	chk := tensor.Check(op)
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
		// (N, C) (+)= (N, OC)·(OC, C)
		blas.Gemm(false, false, n, ci, oc, 1, dout.Data, oc, weight.Data, ci, beta, dinp.Data, ci)
	}
	if dweight != nil {
		// (OC, C) += (N, OC)ᵀ·(N, C)
		blas.Gemm(true, false, oc, ci, n, 1, dout.Data, oc, inp.Data, ci, 1, dweight.Data, ci)
	}
	if dbias != nil {
		addColumnSums(dbias.Data, dout.Data, n, oc)
	}
	return nil
}

// colSumJob sums the rows of src (n × c, row-major); a part is a range of
// rows, summed into its own vector of partial (parts × c).
type colSumJob struct {
	span
	c       int
	src     []float32
	partial []float32 // kept across calls
}

var colJobs parallel.FreeList[colSumJob]

// addColumnSums adds to dst (c) the sum of the n rows of src (n × c). The
// rows are cut into parts by size alone (rowSpan); each part sums its rows
// four at a time, ((r0 + r1) + (r2 + r3)), into a zeroed vector, in row
// order, and the parts' vectors are added up in part order before joining
// dst. Every access runs along rows, and the order of operations does not
// depend on the number of threads.
func addColumnSums(dst, src []float32, n, c int) {
	if n == 0 {
		return
	}
	j := colJobs.Get()
	*j = colSumJob{span: rowSpan(n, c, maxReduceParts), c: c, src: src, partial: j.partial}
	parts := j.parts()
	j.partial = grow(j.partial, parts*c)
	parallel.Do(parts, j)
	acc := j.partial[:c]
	for p := 1; p < parts; p++ {
		vec := j.partial[p*c : (p+1)*c]
		for i, v := range vec {
			acc[i] += v
		}
	}
	dst = dst[:c]
	for i, v := range acc {
		dst[i] += v
	}
	*j = colSumJob{partial: j.partial[:0]}
	colJobs.Put(j)
}

func (j *colSumJob) Run(part int) {
	lo, hi := j.bounds(part)
	c := j.c
	acc := j.partial[part*c : (part+1)*c]
	clear(acc)
	vmath.AddRows(acc, j.src[lo*c:hi*c])
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

package nn

import (
	"math"

	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// SoftmaxForward sets each row of out to the softmax of the same row of inp,
// over the last dimension:
//
//	out[r, i] = exp(inp[r, i] - m) / sum_j exp(inp[r, j] - m),  m = max_j inp[r, j]
//
//	inp, out  (N.., C)
//
// Subtracting the row maximum keeps every exponential in (0, 1]; the
// exponentials and their sum come from vmath.ExpSubSum. out may alias inp,
// since the backward needs only out. A row that is all -Inf (fully masked)
// gives NaN, as in PyTorch.
func SoftmaxForward(out, inp *tensor.Tensor) error {
	if err := checkRowwiseForward("nn.SoftmaxForward", out, inp); err != nil {
		return err
	}
	j := rowJobs.Get()
	*j = rowJob{kind: softmaxFwd, c: inp.Cols(), inp: inp.Data, out: out.Data}
	runRows(j, inp.Rows())
	return nil
}

func (j *rowJob) softmaxForward(lo, hi int) {
	c := j.c
	for r := lo; r < hi; r++ {
		x, y := j.inp[r*c:(r+1)*c], j.out[r*c:(r+1)*c]
		s := vmath.ExpSubSum(y, x, vmath.Max(x))
		vmath.Scale(y, 1/s)
	}
}

// SoftmaxBackward accumulates the gradient of SoftmaxForward from its
// output: dinp[r] += out[r] ⊙ (dout[r] - <out[r], dout[r]>). dinp, out and
// dout are (N.., C); dinp may be nil.
func SoftmaxBackward(dinp, out, dout *tensor.Tensor) error {
	if err := checkRowwiseBackward("nn.SoftmaxBackward", dinp, out, dout); err != nil || dinp == nil {
		return err
	}
	j := rowJobs.Get()
	*j = rowJob{kind: softmaxBwd, c: out.Cols(), out: out.Data, dout: dout.Data, dinp: dinp.Data}
	runRows(j, out.Rows())
	return nil
}

func (j *rowJob) softmaxBackward(lo, hi int) {
	c := j.c
	for r := lo; r < hi; r++ {
		y, dy, dx := j.out[r*c:(r+1)*c], j.dout[r*c:(r+1)*c], j.dinp[r*c:(r+1)*c]
		dy, dx = dy[:len(y)], dx[:len(y)]
		d := vmath.Dot(y, dy)
		for i, v := range y {
			dx[i] += v * (dy[i] - d)
		}
	}
}

// LogSoftmaxForward sets each row of out to the log-softmax of inp over
// the last dimension: out = (inp - m) - log(sum_j exp(inp[j] - m)), with m
// the row maximum. inp and out are (N.., C); out may alias inp. The sum of
// exponentials comes from vmath.ExpSubSum, a stack chunk at a time.
func LogSoftmaxForward(out, inp *tensor.Tensor) error {
	if err := checkRowwiseForward("nn.LogSoftmaxForward", out, inp); err != nil {
		return err
	}
	j := rowJobs.Get()
	*j = rowJob{kind: logSoftmaxFwd, c: inp.Cols(), inp: inp.Data, out: out.Data}
	runRows(j, inp.Rows())
	return nil
}

func (j *rowJob) logSoftmaxForward(lo, hi int) {
	c := j.c
	var e [chunk]float32
	for r := lo; r < hi; r++ {
		x, y := j.inp[r*c:(r+1)*c], j.out[r*c:(r+1)*c]
		m := vmath.Max(x)
		var s float32
		for c0 := 0; c0 < c; c0 += chunk {
			xs := x[c0:min(c0+chunk, c)]
			s += vmath.ExpSubSum(e[:len(xs)], xs, m)
		}
		ls := float32(math.Log(float64(s)))
		for i, v := range x {
			y[i] = (v - m) - ls
		}
	}
}

// LogSoftmaxBackward accumulates the gradient of LogSoftmaxForward from its
// output out (the log-probabilities): dinp[r] += dout[r] - exp(out[r])·sum(dout[r]).
// dinp, out and dout are (N.., C); dinp may be nil.
func LogSoftmaxBackward(dinp, out, dout *tensor.Tensor) error {
	if err := checkRowwiseBackward("nn.LogSoftmaxBackward", dinp, out, dout); err != nil || dinp == nil {
		return err
	}
	j := rowJobs.Get()
	*j = rowJob{kind: logSoftmaxBwd, c: out.Cols(), out: out.Data, dout: dout.Data, dinp: dinp.Data}
	runRows(j, out.Rows())
	return nil
}

func (j *rowJob) logSoftmaxBackward(lo, hi int) {
	c := j.c
	var p [chunk]float32
	for r := lo; r < hi; r++ {
		y, dy, dx := j.out[r*c:(r+1)*c], j.dout[r*c:(r+1)*c], j.dinp[r*c:(r+1)*c]
		sdy := vmath.Sum(dy)
		for c0 := 0; c0 < c; c0 += chunk {
			ys := y[c0:min(c0+chunk, c)]
			ps := p[:len(ys)]
			vmath.ExpSubSum(ps, ys, 0) // probabilities; their sum is not needed
			dys, dxs := dy[c0:c0+len(ys)], dx[c0:c0+len(ys)]
			for i := range dxs {
				dxs[i] += dys[i] - ps[i]*sdy
			}
		}
	}
}

// rowKind is the kernel a rowJob runs.
type rowKind uint8

const (
	softmaxFwd rowKind = iota
	softmaxBwd
	logSoftmaxFwd
	logSoftmaxBwd
	crossEntropyFwd
	crossEntropyBwd
	crossEntropyLoss
)

// rowJob is one call of a softmax-like kernel over rows of c; a part is a
// range of rows (see parallel.go).
type rowJob struct {
	span
	kind       rowKind
	c          int
	inp, out   []float32 // forward input and output, (N, C)
	dout, dinp []float32 // backward, (N, C)
	losses     []float32 // cross-entropy: (N)
	targets    []int32   // cross-entropy: (N)
	ignore     int32
	scale      float32 // cross-entropy backward: dloss/count
}

var rowJobs parallel.FreeList[rowJob]

// runRows runs a row kernel over n rows and releases the job.
func runRows(j *rowJob, n int) {
	j.span = rowSpan(n, j.c, maxParts)
	parallel.Do(j.parts(), j)
	*j = rowJob{}
	rowJobs.Put(j)
}

func (j *rowJob) Run(part int) {
	lo, hi := j.bounds(part)
	switch j.kind {
	case softmaxFwd:
		j.softmaxForward(lo, hi)
	case softmaxBwd:
		j.softmaxBackward(lo, hi)
	case logSoftmaxFwd:
		j.logSoftmaxForward(lo, hi)
	case logSoftmaxBwd:
		j.logSoftmaxBackward(lo, hi)
	case crossEntropyFwd:
		j.crossEntropyForward(lo, hi)
	case crossEntropyBwd:
		j.crossEntropyBackward(lo, hi)
	case crossEntropyLoss:
		j.crossEntropyLoss(lo, hi)
	}
}

// checkRowwiseForward requires out and inp to have the same shape, with at
// least one dimension (the one reduced over).
func checkRowwiseForward(op string, out, inp *tensor.Tensor) error {
	chk := tensor.Check(op).Add("out", out).Add("inp", inp)
	atLeast1D(chk, "inp", inp)
	same(chk, "out", out, "inp", inp)
	return chk.Err()
}

// checkRowwiseBackward requires out, dout and a non-nil dinp to have the
// same shape, with at least one dimension.
func checkRowwiseBackward(op string, dinp, out, dout *tensor.Tensor) error {
	chk := tensor.Check(op)
	opt(chk, "dinp", dinp)
	chk.Add("out", out).Add("dout", dout)
	atLeast1D(chk, "out", out)
	same(chk, "dout", dout, "out", out)
	same(chk, "dinp", dinp, "out", out)
	return chk.Err()
}

// softmaxForwardNaive is the reference for SoftmaxForward (log = false) and
// LogSoftmaxForward (log = true): the definitions in float64.
func softmaxForwardNaive(out, inp []float32, n, c int, log bool) {
	for r := range n {
		x := inp[r*c : (r+1)*c]
		m := math.Inf(-1)
		for _, v := range x {
			m = math.Max(m, float64(v))
		}
		var s float64
		for _, v := range x {
			s += math.Exp(float64(v) - m)
		}
		for i, v := range x {
			if log {
				out[r*c+i] = float32(float64(v) - m - math.Log(s))
			} else {
				out[r*c+i] = float32(math.Exp(float64(v)-m) / s)
			}
		}
	}
}

// softmaxBackwardNaive is the reference for SoftmaxBackward (log = false,
// out the probabilities) and LogSoftmaxBackward (log = true, out the
// log-probabilities), in float64 from the Jacobian's definition:
// ∂p_i/∂x_j = p_i(δ_ij - p_j), ∂log p_i/∂x_j = δ_ij - p_j.
func softmaxBackwardNaive(dinp, out, dout []float32, n, c int, log bool) {
	for r := range n {
		p := func(i int) float64 {
			if log {
				return math.Exp(float64(out[r*c+i]))
			}
			return float64(out[r*c+i])
		}
		for j := range c {
			var g float64
			for i := range c {
				var jac float64
				delta := 0.0
				if i == j {
					delta = 1
				}
				if log {
					jac = delta - p(j)
				} else {
					jac = p(i) * (delta - p(j))
				}
				g += float64(dout[r*c+i]) * jac
			}
			dinp[r*c+j] += float32(g)
		}
	}
}

package nn

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// Sizes for the thread-count tests: large enough that every parallel
// kernel cuts its work into several parts with a short last one (checked
// below), odd enough to leave tails of chunks, 8-column strips and
// 8-element partial sums.
const thrN, thrC = 301, 130

// threadCall is one kernel call: run makes fresh inputs from fixed seeds,
// calls the kernel and returns every tensor it wrote, under a name.
type threadCall struct {
	name  string
	parts int // how many parts the call's work is cut into
	run   func(t *testing.T) map[string][]float32
}

func threadCalls() []threadCall {
	shape := []int{thrN, thrC}
	rows, reduce := rowSpan(thrN, thrC, maxParts).parts(), rowSpan(thrN, thrC, maxReduceParts).parts()
	elems := elemSpan(thrN * thrC).parts()
	x := func(seed uint64) *tensor.Tensor { return randT(seed, 2, shape...) }
	w, b := normParams(7, thrC)
	calls := []threadCall{
		{"LayerNormForward", rows, func(t *testing.T) map[string][]float32 {
			out, mean, rstd := tensor.New(shape...), tensor.New(thrN), tensor.New(thrN)
			must(t, LayerNormForward(out, mean, rstd, x(1), w, b, normEps))
			return map[string][]float32{"out": out.Data, "mean": mean.Data, "rstd": rstd.Data}
		}},
		{"LayerNormBackward", reduce, func(t *testing.T) map[string][]float32 {
			inp := x(1)
			out, mean, rstd := tensor.New(shape...), tensor.New(thrN), tensor.New(thrN)
			must(t, LayerNormForward(out, mean, rstd, inp, w, b, normEps))
			dinp, dw, db := x(2), randT(3, 1, thrC), randT(4, 1, thrC)
			must(t, LayerNormBackward(dinp, dw, db, x(5), inp, w, mean, rstd))
			return map[string][]float32{"dinp": dinp.Data, "dweight": dw.Data, "dbias": db.Data}
		}},
		{"RMSNormForward", rows, func(t *testing.T) map[string][]float32 {
			out, rstd := tensor.New(shape...), tensor.New(thrN)
			must(t, RMSNormForward(out, rstd, x(1), w, normEps))
			return map[string][]float32{"out": out.Data, "rstd": rstd.Data}
		}},
		{"RMSNormBackward", reduce, func(t *testing.T) map[string][]float32 {
			inp := x(1)
			out, rstd := tensor.New(shape...), tensor.New(thrN)
			must(t, RMSNormForward(out, rstd, inp, w, normEps))
			dinp, dw := x(2), randT(3, 1, thrC)
			must(t, RMSNormBackward(dinp, dw, x(5), inp, w, rstd))
			return map[string][]float32{"dinp": dinp.Data, "dweight": dw.Data}
		}},
		{"SoftmaxForward", rows, func(t *testing.T) map[string][]float32 {
			out := tensor.New(shape...)
			must(t, SoftmaxForward(out, x(1)))
			return map[string][]float32{"out": out.Data}
		}},
		{"SoftmaxBackward", rows, func(t *testing.T) map[string][]float32 {
			out, dinp := tensor.New(shape...), x(2)
			must(t, SoftmaxForward(out, x(1)))
			must(t, SoftmaxBackward(dinp, out, x(3)))
			return map[string][]float32{"dinp": dinp.Data}
		}},
		{"LogSoftmaxForward", rows, func(t *testing.T) map[string][]float32 {
			out := tensor.New(shape...)
			must(t, LogSoftmaxForward(out, x(1)))
			return map[string][]float32{"out": out.Data}
		}},
		{"LogSoftmaxBackward", rows, func(t *testing.T) map[string][]float32 {
			out, dinp := tensor.New(shape...), x(2)
			must(t, LogSoftmaxForward(out, x(1)))
			must(t, LogSoftmaxBackward(dinp, out, x(3)))
			return map[string][]float32{"dinp": dinp.Data}
		}},
		{"CrossEntropy", rows, func(t *testing.T) map[string][]float32 {
			targets := ceTargets(1, thrN, thrC, ignore)
			losses, probs, dlogits := tensor.New(thrN), tensor.New(shape...), x(2)
			mean, count, err := CrossEntropyForward(losses, probs, x(1), targets, ignore)
			must(t, err)
			must(t, CrossEntropyBackward(dlogits, probs, targets, ignore, 0.7))
			return map[string][]float32{"losses": losses.Data, "probs": probs.Data, "dlogits": dlogits.Data,
				"mean and count": {mean, float32(count)}}
		}},
		{"ResidualForward", elems, func(t *testing.T) map[string][]float32 {
			out := tensor.New(shape...)
			must(t, ResidualForward(out, x(1), x(2)))
			return map[string][]float32{"out": out.Data}
		}},
		{"ResidualBackward", elems, func(t *testing.T) map[string][]float32 {
			da, db := x(1), x(2)
			must(t, ResidualBackward(da, db, x(3)))
			return map[string][]float32{"da": da.Data, "db": db.Data}
		}},
		{"LinearBackward", reduce, func(t *testing.T) map[string][]float32 {
			inp, weight := randT(1, 1, thrN, 70), randT(2, 0.5, thrC, 70)
			dinp, dweight, dbias := randT(3, 1, thrN, 70), randT(4, 1, thrC, 70), randT(5, 1, thrC)
			must(t, LinearBackward(dinp, dweight, dbias, x(6), inp, weight))
			return map[string][]float32{"dinp": dinp.Data, "dweight": dweight.Data, "dbias": dbias.Data}
		}},
	}
	for _, approx := range []GELUApprox{GELUTanh, GELUErf} {
		calls = append(calls,
			threadCall{"GELUForward/" + approx.String(), elems, func(t *testing.T) map[string][]float32 {
				out := tensor.New(shape...)
				must(t, GELUForward(out, x(1), approx))
				return map[string][]float32{"out": out.Data}
			}},
			threadCall{"GELUBackward/" + approx.String(), elems, func(t *testing.T) map[string][]float32 {
				dinp := x(2)
				must(t, GELUBackward(dinp, x(1), x(3), approx))
				return map[string][]float32{"dinp": dinp.Data}
			}})
	}
	return calls
}

// Every parallel kernel gives the same bits with 1, 2 and 3 threads: its
// parts depend on the sizes alone, and sums over rows are combined in part
// order.
func TestSameBitsForAnyThreadCount(t *testing.T) {
	prev := parallel.SetThreads(1)
	defer parallel.SetThreads(prev)
	for _, call := range threadCalls() {
		t.Run(call.name, func(t *testing.T) {
			if call.parts < 3 {
				t.Fatalf("the work is cut into %d parts; the test needs at least 3", call.parts)
			}
			parallel.SetThreads(1)
			want := call.run(t)
			for _, threads := range []int{2, 3} {
				parallel.SetThreads(threads)
				got := call.run(t)
				for name, w := range want {
					kerneltest.Identical(t, fmt.Sprintf("%s with %d threads and 1", name, threads), got[name], w)
				}
			}
		})
	}
}

// The parallel paths agree with the naive references too, not only with
// themselves: the thread-count sizes exercise several parts and partial
// sums.
func TestParallelKernelsMatchNaive(t *testing.T) {
	prev := parallel.SetThreads(2)
	defer parallel.SetThreads(prev)
	n, c := thrN, thrC
	inp, dout := randT(1, 2, n, c), randT(2, 1, n, c)
	w, b := normParams(7, c)

	out, mean, rstd := tensor.New(n, c), tensor.New(n), tensor.New(n)
	must(t, LayerNormForward(out, mean, rstd, inp, w, b, normEps))
	wantOut, wantMean, wantRstd := make([]float32, n*c), make([]float32, n), make([]float32, n)
	layerNormForwardNaive(wantOut, wantMean, wantRstd, inp.Data, w.Data, b.Data, n, c, normEps)
	kerneltest.Close(t, "layernorm out", out.Data, wantOut, refTol)
	dinp, dw, db := randT(3, 1, n, c), randT(4, 1, c), randT(5, 1, c)
	wantDinp, wantDw, wantDb := dinp.Clone(), dw.Clone(), db.Clone()
	must(t, LayerNormBackward(dinp, dw, db, dout, inp, w, mean, rstd))
	layerNormBackwardNaive(wantDinp.Data, wantDw.Data, wantDb.Data, dout.Data, inp.Data, w.Data, mean.Data, rstd.Data, n, c)
	kerneltest.Close(t, "layernorm dinp", dinp.Data, wantDinp.Data, refTol)
	kerneltest.Close(t, "layernorm dweight", dw.Data, wantDw.Data, sumTol)
	kerneltest.Close(t, "layernorm dbias", db.Data, wantDb.Data, sumTol)

	must(t, RMSNormForward(out, rstd, inp, w, normEps))
	dinp, dw = randT(3, 1, n, c), randT(4, 1, c)
	wantDinp, wantDw = dinp.Clone(), dw.Clone()
	must(t, RMSNormBackward(dinp, dw, dout, inp, w, rstd))
	rmsNormBackwardNaive(wantDinp.Data, wantDw.Data, dout.Data, inp.Data, w.Data, rstd.Data, n, c)
	kerneltest.Close(t, "rmsnorm dinp", dinp.Data, wantDinp.Data, refTol)
	kerneltest.Close(t, "rmsnorm dweight", dw.Data, wantDw.Data, sumTol)

	// Parts of rows summed four at a time, and leftover rows.
	dbias := randT(6, 1, c)
	wantDbias := dbias.Clone()
	must(t, LinearBackward(nil, nil, dbias, dout, randT(8, 1, n, 3), randT(9, 1, c, 3)))
	linearBackwardNaive(nil, nil, wantDbias.Data, dout.Data, nil, nil, n, 3, c)
	kerneltest.Close(t, "linear dbias", dbias.Data, wantDbias.Data, sumTol)
}

// With no rows there are no parts: the kernels write nothing and leave
// the parameter gradients as they were.
func TestParallelKernelsNoRows(t *testing.T) {
	x, dy, dx, out := tensor.New(0, 8), tensor.New(0, 8), tensor.New(0, 8), tensor.New(0, 8)
	w, b, dw, db := filled(1, 8), filled(0, 8), filled(3, 8), filled(3, 8)
	mean, rstd, losses := tensor.New(0), tensor.New(0), tensor.New(0)
	must(t, LayerNormForward(out, mean, rstd, x, w, b, normEps))
	must(t, LayerNormBackward(dx, dw, db, dy, x, w, mean, rstd))
	must(t, RMSNormForward(out, rstd, x, w, normEps))
	must(t, RMSNormBackward(dx, dw, dy, x, w, rstd))
	weight, dweight := filled(1, 8, 8), filled(3, 8, 8)
	must(t, LinearBackward(dx, dweight, db, dy, x, weight))
	must(t, SoftmaxForward(out, x))
	must(t, SoftmaxBackward(dx, out, dy))
	must(t, LogSoftmaxForward(out, x))
	must(t, LogSoftmaxBackward(dx, out, dy))
	if mean, count, err := CrossEntropyForward(losses, out, x, nil, ignore); err != nil || mean != 0 || count != 0 {
		t.Errorf("CrossEntropyForward with no rows: %v, %v, %v", mean, count, err)
	}
	must(t, CrossEntropyBackward(dx, out, nil, ignore, 1))
	must(t, GELUForward(out, x, GELUTanh))
	must(t, GELUBackward(dx, x, dy, GELUErf))
	must(t, ResidualForward(out, x, dy))
	must(t, ResidualBackward(dx, out, dy))
	checkUntouched(t, "dweight", dw, 3)
	checkUntouched(t, "dbias", db, 3)
	checkUntouched(t, "linear dweight", dweight, 3)
}

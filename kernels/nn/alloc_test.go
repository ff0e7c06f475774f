package nn

import (
	"testing"

	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// A warmed-up training step allocates nothing (DESIGN.md, performance
// rules), so no kernel may allocate on a successful call, with every
// gradient requested.
func TestKernelsAllocateNothing(t *testing.T) {
	const b, tt, c, oc, v = 2, 8, 64, 96, 50
	x, y := randT(1, 1, b, tt, c), randT(2, 1, b, tt, c)
	out, dx, dy := tensor.New(b, tt, c), tensor.New(b, tt, c), tensor.New(b, tt, c)
	w, bias, dw, db := randT(3, 1, oc, c), randT(4, 1, oc), tensor.New(oc, c), tensor.New(oc)
	lin, dlin := tensor.New(b, tt, oc), randT(5, 1, b, tt, oc)
	g, beta, dg, dbeta := randT(6, 1, c), randT(7, 1, c), tensor.New(c), tensor.New(c)
	mean, rstd := tensor.New(b, tt), tensor.New(b, tt)
	table, dtable, wpe, dwpe := randT(8, 1, v, c), tensor.New(v, c), randT(9, 1, tt, c), tensor.New(tt, c)
	ids := make([]int32, b*tt)
	for i := range ids {
		ids[i] = int32(i % v)
	}
	logits, probs, dlogits, losses := randT(10, 1, b, tt, v), tensor.New(b, tt, v), tensor.New(b, tt, v), tensor.New(b, tt)
	targets := make([]int32, b*tt)
	for i := range targets {
		targets[i] = int32(i*7) % v
	}
	targets[3] = -100
	mask, r := tensor.New(b, tt, c), rng.New(1)
	// Large enough for Gemm to split the product across threads.
	bigX, bigW, bigOut := randT(11, 1, 64, 128), randT(12, 1, 80, 128), tensor.New(64, 80)
	bigDx, bigDw := tensor.New(64, 128), tensor.New(80, 128)

	calls := []struct {
		name string
		f    func() error
	}{
		{"LinearForward", func() error { return LinearForward(lin, x, w, bias) }},
		{"LinearBackward", func() error { return LinearBackward(dx, dw, db, dlin, x, w) }},
		{"LinearForward/parallel", func() error { return LinearForward(bigOut, bigX, bigW, nil) }},
		{"LinearBackward/parallel", func() error { return LinearBackward(bigDx, bigDw, nil, bigOut, bigX, bigW) }},
		{"EmbeddingForward", func() error { return EmbeddingForward(out, ids, table) }},
		{"EmbeddingBackward", func() error { return EmbeddingBackward(dtable, dy, ids) }},
		{"PositionForward", func() error { return PositionForward(out, x, wpe) }},
		{"PositionBackward", func() error { return PositionBackward(dx, dwpe, dy) }},
		{"LayerNormForward", func() error { return LayerNormForward(out, mean, rstd, x, g, beta, 1e-5) }},
		{"LayerNormBackward", func() error { return LayerNormBackward(dx, dg, dbeta, dy, x, g, mean, rstd) }},
		{"RMSNormForward", func() error { return RMSNormForward(out, rstd, x, g, 1e-5) }},
		{"RMSNormBackward", func() error { return RMSNormBackward(dx, dg, dy, x, g, rstd) }},
		{"GELUForward/tanh", func() error { return GELUForward(out, x, GELUTanh) }},
		{"GELUBackward/tanh", func() error { return GELUBackward(dx, x, dy, GELUTanh) }},
		{"GELUForward/erf", func() error { return GELUForward(out, x, GELUErf) }},
		{"GELUBackward/erf", func() error { return GELUBackward(dx, x, dy, GELUErf) }},
		{"ReLUForward", func() error { return ReLUForward(out, x) }},
		{"ReLUBackward", func() error { return ReLUBackward(dx, x, dy) }},
		{"SiLUForward", func() error { return SiLUForward(out, x) }},
		{"SiLUBackward", func() error { return SiLUBackward(dx, x, dy) }},
		{"SoftplusForward", func() error { return SoftplusForward(out, x) }},
		{"SoftplusBackward", func() error { return SoftplusBackward(dx, x, dy) }},
		{"SoftmaxForward", func() error { return SoftmaxForward(out, x) }},
		{"SoftmaxBackward", func() error { return SoftmaxBackward(dx, out, dy) }},
		{"LogSoftmaxForward", func() error { return LogSoftmaxForward(out, x) }},
		{"LogSoftmaxBackward", func() error { return LogSoftmaxBackward(dx, out, dy) }},
		{"CrossEntropyForward", func() error { _, _, err := CrossEntropyForward(losses, probs, logits, targets, -100); return err }},
		{"CrossEntropyBackward", func() error { return CrossEntropyBackward(dlogits, probs, targets, -100, 1) }},
		{"CrossEntropyLoss", func() error { _, _, err := CrossEntropyLoss(losses, dlogits, logits, targets, -100, 1); return err }},
		{"DropoutForward", func() error { return DropoutForward(out, mask, x, 0.1, r) }},
		{"DropoutBackward", func() error { return DropoutBackward(dx, mask, dy) }},
		{"ResidualForward", func() error { return ResidualForward(out, x, y) }},
		{"ResidualBackward", func() error { return ResidualBackward(dx, dy, out) }},
		{"SinusoidalPositions", func() error { return SinusoidalPositions(wpe) }},
	}
	// Large enough for the row-wise and element-wise kernels to run
	// several parts on the pool, with partial sums for the norms.
	prev := parallel.SetThreads(2)
	defer parallel.SetThreads(prev)
	px, pdy, pout, pdx := randT(13, 1, thrN, thrC), randT(14, 1, thrN, thrC), tensor.New(thrN, thrC), tensor.New(thrN, thrC)
	pg, pbeta, pdg, pdbeta := randT(15, 1, thrC), randT(16, 1, thrC), tensor.New(thrC), tensor.New(thrC)
	pmean, prstd, plosses := tensor.New(thrN), tensor.New(thrN), tensor.New(thrN)
	ptargets := make([]int32, thrN)
	for i := range ptargets {
		ptargets[i] = int32(i % thrC)
	}
	pw, pdw := randT(17, 1, thrC, 24), tensor.New(thrC, 24)
	plin := randT(18, 1, thrN, 24)
	calls = append(calls, []struct {
		name string
		f    func() error
	}{
		{"LayerNormForward/parallel", func() error { return LayerNormForward(pout, pmean, prstd, px, pg, pbeta, 1e-5) }},
		{"LayerNormBackward/parallel", func() error { return LayerNormBackward(pdx, pdg, pdbeta, pdy, px, pg, pmean, prstd) }},
		{"RMSNormForward/parallel", func() error { return RMSNormForward(pout, prstd, px, pg, 1e-5) }},
		{"RMSNormBackward/parallel", func() error { return RMSNormBackward(pdx, pdg, pdy, px, pg, prstd) }},
		{"GELUForward/parallel", func() error { return GELUForward(pout, px, GELUTanh) }},
		{"GELUBackward/parallel", func() error { return GELUBackward(pdx, px, pdy, GELUErf) }},
		{"SoftmaxForward/parallel", func() error { return SoftmaxForward(pout, px) }},
		{"SoftmaxBackward/parallel", func() error { return SoftmaxBackward(pdx, pout, pdy) }},
		{"LogSoftmaxForward/parallel", func() error { return LogSoftmaxForward(pout, px) }},
		{"LogSoftmaxBackward/parallel", func() error { return LogSoftmaxBackward(pdx, pout, pdy) }},
		{"CrossEntropyForward/parallel", func() error {
			_, _, err := CrossEntropyForward(plosses, pout, px, ptargets, -100)
			return err
		}},
		{"CrossEntropyBackward/parallel", func() error { return CrossEntropyBackward(pdx, pout, ptargets, -100, 1) }},
		{"ResidualForward/parallel", func() error { return ResidualForward(pout, px, pdy) }},
		{"ResidualBackward/parallel", func() error { return ResidualBackward(pdx, pout, pdy) }},
		{"LinearBackward/bias/parallel", func() error { return LinearBackward(nil, pdw, pdg, pdy, plin, pw) }},
	}...)
	for _, call := range calls {
		must(t, call.f()) // warm up: Gemm fills its buffer free list
		var err error
		if n := testing.AllocsPerRun(10, func() { err = call.f() }); n != 0 {
			t.Errorf("%s allocated %v times per call", call.name, n)
		}
		must(t, err)
	}
}

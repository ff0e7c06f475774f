package nn

import (
	"math"

	"github.com/attnlab/attnlab/kernels/vmath"

	"github.com/attnlab/attnlab/kernels/tensor"
)

// LayerNormForward normalises each row of inp over its last dimension (Ba,
// Kiros and Hinton 2016, "Layer normalization", eq. 4, with PyTorch's
// biased variance):
//
//	out[r, i] = (inp[r, i] - mean[r]) * rstd[r] * weight[i] + bias[i]
//	rstd[r]   = 1 / sqrt(var[r] + eps)
//
//	inp, out    (N.., C)
//	mean, rstd  (N..) or (N) flattened: cached for the backward
//	weight      (C)
//	bias        (C) or nil (nanoGPT's bias=False)
//
// Mean and variance are two passes over the row in float32 with eight
// partial sums; the variance is taken around the mean, so large offsets do
// not cancel catastrophically.
func LayerNormForward(out, mean, rstd, inp, weight, bias *tensor.Tensor, eps float32) error {
	chk := tensor.Check("nn.LayerNormForward").Add("out", out).Add("mean", mean).Add("rstd", rstd).Add("inp", inp).Add("weight", weight)
	opt(chk, "bias", bias)
	checkNorm(chk, inp, "weight", weight, "bias", bias)
	same(chk, "out", out, "inp", inp)
	rowStats(chk, "mean", mean, "inp", inp)
	rowStats(chk, "rstd", rstd, "inp", inp)
	if err := chk.Err(); err != nil {
		return err
	}
	j := newNormJob(layerNormFwd, inp.Rows(), inp.Cols(), maxParts)
	j.eps, j.inp, j.w, j.out, j.mean, j.rstd = eps, inp.Data, weight.Data, out.Data, mean.Data, rstd.Data
	if bias != nil {
		j.b = bias.Data
	}
	j.run(nil, nil)
	return nil
}

// layerNormForward normalises rows [lo, hi).
func (j *normJob) layerNormForward(lo, hi int) {
	c := j.c
	w := j.w[:c]
	for r := lo; r < hi; r++ {
		x, y := j.inp[r*c:(r+1)*c], j.out[r*c:(r+1)*c]
		m := vmath.Sum(x) / float32(c)
		v := vmath.SumSqDev(x, m) / float32(c)
		s := float32(1 / math.Sqrt(float64(v+j.eps)))
		vmath.NormApply(y, x, w, j.b, m, s)
		j.mean[r], j.rstd[r] = m, s
	}
}

// LayerNormBackward accumulates the gradients of LayerNormForward. With
// n = (x - mean)·rstd and g = weight·dout (per row, over C):
//
//	dinp    += rstd · (g - mean(g) - n·mean(g·n))
//	dweight += sum over rows of n·dout
//	dbias   += sum over rows of dout
//
// dinp, dout and inp are (N.., C); weight, dweight and dbias (C); mean and
// rstd as cached by the forward. Any gradient may be nil.
func LayerNormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd *tensor.Tensor) error {
	chk := tensor.Check("nn.LayerNormBackward")
	opt(chk, "dinp", dinp)
	opt(chk, "dweight", dweight)
	opt(chk, "dbias", dbias)
	chk.Add("dout", dout).Add("inp", inp).Add("weight", weight).Add("mean", mean).Add("rstd", rstd)
	checkNorm(chk, inp, "weight", weight, "dbias", dbias)
	same(chk, "dout", dout, "inp", inp)
	same(chk, "dinp", dinp, "inp", inp)
	same(chk, "dweight", dweight, "weight", weight)
	rowStats(chk, "mean", mean, "inp", inp)
	rowStats(chk, "rstd", rstd, "inp", inp)
	if err := chk.Err(); err != nil {
		return err
	}
	j := newNormJob(layerNormBwd, inp.Rows(), inp.Cols(), maxReduceParts)
	j.inp, j.w, j.dout, j.mean, j.rstd = inp.Data, weight.Data, dout.Data, mean.Data, rstd.Data
	if dinp != nil {
		j.dinp = dinp.Data
	}
	var dw, db []float32
	if dweight != nil {
		dw = dweight.Data
	}
	if dbias != nil {
		db = dbias.Data
	}
	j.run(dw, db)
	return nil
}

// layerNormBackward accumulates dinp over rows [lo, hi) and adds the rows'
// contributions to the weight and bias gradients into pw and pb (either
// may be nil).
func (j *normJob) layerNormBackward(lo, hi int, pw, pb []float32) {
	c := j.c
	w := j.w[:c]
	for r := lo; r < hi; r++ {
		x, dy := j.inp[r*c:(r+1)*c], j.dout[r*c:(r+1)*c]
		dy = dy[:len(x)]
		m, s := j.mean[r], j.rstd[r]
		if j.dinp != nil && pw != nil && pb != nil {
			// Everything wanted (a training step): one pass after the
			// row sums, with the same operations as the passes below.
			g, gn := vmath.NormGradSums(w, dy, x, m, s)
			vmath.NormGradApply(j.dinp[r*c:(r+1)*c], pw, pb, w, dy, x, m, s, g/float32(c), gn/float32(c))
			continue
		}
		switch {
		case pw != nil && pb != nil:
			pw, pb := pw[:len(x)], pb[:len(x)]
			for i, v := range x {
				d := dy[i]
				pw[i] += (v - m) * s * d
				pb[i] += d
			}
		case pw != nil:
			pw := pw[:len(x)]
			for i, v := range x {
				pw[i] += (v - m) * s * dy[i]
			}
		case pb != nil:
			pb := pb[:len(dy)]
			for i, v := range dy {
				pb[i] += v
			}
		}
		if j.dinp == nil {
			continue
		}
		g, gn := vmath.NormGradSums(w, dy, x, m, s)
		gMean, gnMean := g/float32(c), gn/float32(c)
		dx := j.dinp[r*c : (r+1)*c]
		dx = dx[:len(x)]
		for i, v := range x {
			dx[i] += (w[i]*dy[i] - gMean - (v-m)*s*gnMean) * s
		}
	}
}

// checkNorm validates the input of a normalisation layer, inp (N.., C),
// and its per-channel vectors (C); name2 may name a nil optional vector.
func checkNorm(chk *tensor.Checker, inp *tensor.Tensor, name1 string, vec1 *tensor.Tensor, name2 string, vec2 *tensor.Tensor) {
	atLeast1D(chk, "inp", inp)
	if chk.Ok() {
		vector(chk, name1, vec1, inp.Cols(), "inp's last dimension")
		vector(chk, name2, vec2, inp.Cols(), "inp's last dimension")
	}
}

// layerNormForwardNaive is the reference for LayerNormForward: the
// textbook formula in float64 over flat buffers (bias may be nil).
func layerNormForwardNaive(out, mean, rstd, inp, weight, bias []float32, n, c int, eps float32) {
	for r := range n {
		x := inp[r*c : (r+1)*c]
		var m, v float64
		for _, xi := range x {
			m += float64(xi)
		}
		m /= float64(c)
		for _, xi := range x {
			v += (float64(xi) - m) * (float64(xi) - m)
		}
		v /= float64(c)
		s := 1 / math.Sqrt(v+float64(eps))
		for i, xi := range x {
			y := (float64(xi) - m) * s * float64(weight[i])
			if bias != nil {
				y += float64(bias[i])
			}
			out[r*c+i] = float32(y)
		}
		mean[r], rstd[r] = float32(m), float32(s)
	}
}

// layerNormBackwardNaive is the reference for LayerNormBackward, in
// float64 from the cached mean and rstd; nil gradients are skipped.
func layerNormBackwardNaive(dinp, dweight, dbias, dout, inp, weight, mean, rstd []float32, n, c int) {
	for r := range n {
		m, s := float64(mean[r]), float64(rstd[r])
		norm := func(i int) float64 { return (float64(inp[r*c+i]) - m) * s }
		var gMean, gnMean float64
		for i := range c {
			g := float64(weight[i]) * float64(dout[r*c+i])
			gMean += g
			gnMean += g * norm(i)
		}
		gMean /= float64(c)
		gnMean /= float64(c)
		for i := range c {
			dy := float64(dout[r*c+i])
			if dinp != nil {
				dinp[r*c+i] += float32((float64(weight[i])*dy - gMean - norm(i)*gnMean) * s)
			}
			if dweight != nil {
				dweight[i] += float32(norm(i) * dy)
			}
			if dbias != nil {
				dbias[i] += float32(dy)
			}
		}
	}
}

package nn

import (
	"math"

	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
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
	n, c := inp.Rows(), inp.Cols()
	w := weight.Data // (C)
	for r := range n {
		x, y := inp.Data[r*c:(r+1)*c], out.Data[r*c:(r+1)*c]
		m := sum(x) / float32(c)
		v := sumSqDev(x, m) / float32(c)
		s := float32(1 / math.Sqrt(float64(v+eps)))
		if bias != nil {
			b := bias.Data[:c]
			for i := range y {
				y[i] = (x[i]-m)*s*w[i] + b[i]
			}
		} else {
			for i := range y {
				y[i] = (x[i] - m) * s * w[i]
			}
		}
		mean.Data[r], rstd.Data[r] = m, s
	}
	return nil
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
	n, c := inp.Rows(), inp.Cols()
	w := weight.Data // (C)
	for r := range n {
		x, dy := inp.Data[r*c:(r+1)*c], dout.Data[r*c:(r+1)*c]
		m, s := mean.Data[r], rstd.Data[r]
		if dbias != nil {
			vmath.Axpy(1, dy, dbias.Data)
		}
		if dweight != nil {
			dw := dweight.Data[:c]
			for i := range dw {
				dw[i] += (x[i] - m) * s * dy[i]
			}
		}
		if dinp == nil {
			continue
		}
		// Two row means, eight partial sums each as in reduce.go.
		var g, gn [8]float32
		i := 0
		for ; i+8 <= c; i += 8 {
			for k := range 8 {
				gi := w[i+k] * dy[i+k]
				g[k] += gi
				gn[k] += gi * (x[i+k] - m) * s
			}
		}
		for ; i < c; i++ {
			gi := w[i] * dy[i]
			g[0] += gi
			gn[0] += gi * (x[i] - m) * s
		}
		gMean := (((g[0] + g[1]) + (g[2] + g[3])) + ((g[4] + g[5]) + (g[6] + g[7]))) / float32(c)
		gnMean := (((gn[0] + gn[1]) + (gn[2] + gn[3])) + ((gn[4] + gn[5]) + (gn[6] + gn[7]))) / float32(c)
		dx := dinp.Data[r*c : (r+1)*c]
		for i := range dx {
			dx[i] += (w[i]*dy[i] - gMean - (x[i]-m)*s*gnMean) * s
		}
	}
	return nil
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

package attention

import (
	"math"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// PerformerFeatures fills w (m, D) with positive orthogonal random
// features for FAVOR+ (Choromanski et al. 2021, "Rethinking Attention with
// Performers", §2.4 and Theorem 2): the rows come in blocks of D mutually
// orthogonal directions, each block the Gram–Schmidt orthonormalisation
// of a Gaussian D×D matrix (the last block is cut short when D does not
// divide m), and each row is rescaled by the norm of an independent
// Gaussian D-vector (chi-distributed with D degrees of freedom), so that
// every row is marginally N(0, I_D) as the unbiased estimator requires.
// The same seed gives the same features; a redraw is a call with a new
// seed.
func PerformerFeatures(w *tensor.Tensor, seed uint64) error {
	c := tensor.Check("attention.PerformerFeatures").Add("w", w)
	c.Require(w == nil || w.Rank() == 2, "w must be (m, D)")
	if err := c.Err(); err != nil {
		return err
	}
	m, d := w.Shape[0], w.Shape[1]
	r := rng.New(seed)
	blk := make([]float64, d*d) // (D, D) one block, rows orthonormalised
	for r0 := 0; r0 < m; r0 += d {
		for i := range blk {
			blk[i] = r.Normal()
		}
		gramSchmidt(blk, d)
		for i := range min(d, m-r0) {
			var norm float64
			for range d {
				x := r.Normal()
				norm += x * x
			}
			norm = math.Sqrt(norm)
			for x := range d {
				w.Data[(r0+i)*d+x] = float32(norm * blk[i*d+x])
			}
		}
	}
	return nil
}

// gramSchmidt orthonormalises the rows of a (d, d) matrix in place
// (modified Gram–Schmidt; Gaussian rows are independent with
// probability 1).
func gramSchmidt(a []float64, d int) {
	for i := range d {
		row := a[i*d : (i+1)*d]
		for p := range i {
			prev := a[p*d : (p+1)*d]
			var dot float64
			for x := range d {
				dot += row[x] * prev[x]
			}
			for x := range d {
				row[x] -= dot * prev[x]
			}
		}
		var n float64
		for _, v := range row {
			n += v * v
		}
		n = 1 / math.Sqrt(n)
		for x := range row {
			row[x] *= n
		}
	}
}

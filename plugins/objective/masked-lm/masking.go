package maskedlm

import (
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// masking is BERT's corruption of the inputs (Devlin et al. 2019, §3.1:
// "we mask 15% of all WordPiece tokens in each sequence at random ... If
// the i-th token is chosen, we replace the i-th token with (1) the [MASK]
// token 80% of the time (2) a random token 10% of the time (3) the
// unchanged i-th token 10% of the time").
type masking struct {
	prob     float64 // selection probability of each real position (0.15)
	toMask   float64 // P(input = Mask | selected) (0.8)
	toRandom float64 // P(input = random data token | selected) (0.1)
	vocab    int     // random tokens are uniform in [0, vocab)
}

// apply corrupts the first n positions of in (the real tokens; the rest is
// padding) in place and writes the targets tg: the original token at
// every selected position, sdk.IgnoreIndex elsewhere. Each position draws
// one uniform number for its selection and, when selected, one for its
// replacement (and one more for a random token), all from r in position
// order.
func (m masking) apply(in, tg []int32, n int, r *rng.RNG) {
	for t := range tg {
		tg[t] = sdk.IgnoreIndex
	}
	for t := range n {
		if r.Float64() >= m.prob {
			continue
		}
		tg[t] = in[t]
		switch u := r.Float64(); {
		case u < m.toMask:
			in[t] = Mask
		case u < m.toMask+m.toRandom:
			in[t] = int32(r.Intn(m.vocab))
		}
	}
}

package rng

import (
	"hash/fnv"
	"math"
	"math/bits"
)

const golden = 0x9e3779b97f4a7c15

// mix is SplitMix64's finaliser (variant 13 of Stafford's mixers).
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// RNG is a deterministic pseudo-random stream. It is not safe for
// concurrent use: give each goroutine its own stream with Split.
type RNG struct {
	seed    uint64 // identity of the stream, used by Split
	state   uint64
	spare   float64
	hasNorm bool
}

// New returns the stream for seed.
func New(seed uint64) *RNG {
	s := mix(seed + golden)
	return &RNG{seed: s, state: s}
}

// Split returns a new stream derived from r's seed and key. It does not
// advance r, so splits are independent of how much r has been used.
func (r *RNG) Split(key uint64) *RNG {
	s := mix(r.seed ^ mix(key*golden+0x632be59bd9b4e019))
	return &RNG{seed: s, state: s}
}

// SplitName is Split with a key derived from a name (FNV-1a), for streams
// named by purpose: r.SplitName("dropout").
func (r *RNG) SplitName(name string) *RNG {
	h := fnv.New64a()
	h.Write([]byte(name))
	return r.Split(h.Sum64())
}

// Uint64 returns the next 64 random bits.
func (r *RNG) Uint64() uint64 {
	r.state += golden
	return mix(r.state)
}

// Float32 returns a uniform value in [0, 1).
func (r *RNG) Float32() float32 {
	return float32(r.Uint64()>>40) * (1.0 / (1 << 24))
}

// Float64 returns a uniform value in [0, 1).
func (r *RNG) Float64() float64 {
	return float64(r.Uint64()>>11) * (1.0 / (1 << 53))
}

// Intn returns a uniform integer in [0, n). It panics if n <= 0.
func (r *RNG) Intn(n int) int {
	if n <= 0 {
		panic("rng.Intn: n must be positive")
	}
	// Lemire, "Fast random integer generation in an interval", 2019.
	un := uint64(n)
	hi, lo := bits.Mul64(r.Uint64(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), un)
		}
	}
	return int(hi)
}

// Normal returns a standard normal value (mean 0, standard deviation 1).
func (r *RNG) Normal() float64 {
	if r.hasNorm {
		r.hasNorm = false
		return r.spare
	}
	// Box-Muller; u1 in (0, 1] so the log is finite.
	u1 := 1 - r.Float64()
	u2 := r.Float64()
	rad := math.Sqrt(-2 * math.Log(u1))
	s, c := math.Sincos(2 * math.Pi * u2)
	r.spare = rad * s
	r.hasNorm = true
	return rad * c
}

// FillNormal fills dst with normal values of the given mean and standard deviation.
func (r *RNG) FillNormal(dst []float32, mean, std float32) {
	for i := range dst {
		dst[i] = mean + std*float32(r.Normal())
	}
}

// FillUniform fills dst with uniform values in [lo, hi).
func (r *RNG) FillUniform(dst []float32, lo, hi float32) {
	for i := range dst {
		dst[i] = lo + (hi-lo)*r.Float32()
	}
}

// Perm writes a uniform random permutation of 0..len(dst)-1 into dst.
func (r *RNG) Perm(dst []int) {
	for i := range dst {
		dst[i] = i
	}
	r.Shuffle(dst)
}

// Shuffle permutes s uniformly at random (Fisher-Yates).
func (r *RNG) Shuffle(s []int) {
	for i := len(s) - 1; i > 0; i-- {
		j := r.Intn(i + 1)
		s[i], s[j] = s[j], s[i]
	}
}

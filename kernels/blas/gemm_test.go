package blas

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/rng"
)

// eachKernel runs f once per micro-kernel this CPU supports.
func eachKernel(t *testing.T, f func(t *testing.T)) {
	for _, k := range kernels {
		t.Run("kernel="+k.name, func(t *testing.T) {
			prev, _ := useKernel(k.name)
			defer useKernel(prev)
			f(t)
		})
	}
}

// gemmTol bounds float32 summation error for length-k dot products of
// values of magnitude about 1.
func gemmTol(k int) kerneltest.Tol {
	return kerneltest.Tol{Abs: 1e-6 * float64(k+1) * 4, Rel: 1e-5}
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int // extra leading-dimension padding
}

func (c gemmCase) String() string {
	return fmt.Sprintf("tA=%v/tB=%v/m=%d/n=%d/k=%d/alpha=%g/beta=%g/pad=%d", c.transA, c.transB, c.m, c.n, c.k, c.alpha, c.beta, c.pad)
}

func runCase(t *testing.T, c gemmCase, seed uint64) {
	ar, ac := c.m, c.k
	if c.transA {
		ar, ac = c.k, c.m
	}
	br, bc := c.k, c.n
	if c.transB {
		br, bc = c.n, c.k
	}
	lda, ldb, ldc := ac+c.pad, bc+c.pad, c.n+c.pad
	a := kerneltest.Rand(seed, max(ar*lda, 1), 1)
	b := kerneltest.Rand(seed+1, max(br*ldb, 1), 1)
	c0 := kerneltest.Rand(seed+2, max(c.m*ldc, 1), 1)
	want := append([]float32(nil), c0...)
	got := append([]float32(nil), c0...)
	GemmNaive(c.transA, c.transB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, want, ldc)
	Gemm(c.transA, c.transB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, got, ldc)
	kerneltest.Close(t, c.String(), got, want, gemmTol(c.k))
}

func TestGemmAgainstNaive(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		r := rng.New(11)
		var cases []gemmCase
		// Fixed awkward shapes: edges of every tile size, k across kc blocks.
		for _, s := range [][3]int{{1, 1, 1}, {12, 32, 8}, {13, 33, 7}, {6, 16, 1}, {5, 3, 300}, {37, 65, 257}, {100, 1, 64}, {1, 100, 64}, {64, 513, 9}, {13, 33, 1024}, {25, 70, 2048}, {4096, 16, 64}, {300, 16, 1000}, {2050, 9, 130}, {0, 5, 5}, {5, 0, 5}, {5, 5, 0}} {
			for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				cases = append(cases, gemmCase{tr[0], tr[1], s[0], s[1], s[2], 1, 0, 0})
			}
		}
		// Random shapes, strides, alpha and beta.
		betas := []float32{0, 1, 0.5}
		for range 40 {
			cases = append(cases, gemmCase{r.Intn(2) == 1, r.Intn(2) == 1, 1 + r.Intn(150), 1 + r.Intn(150), 1 + r.Intn(600),
				[]float32{1, -0.5, 2}[r.Intn(3)], betas[r.Intn(3)], r.Intn(3)})
		}
		for i, c := range cases {
			runCase(t, c, uint64(i))
		}
	})
}

func TestGemmLargeParallel(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		for _, c := range []gemmCase{{false, false, 300, 1100, 270, 1, 0, 0}, {true, true, 257, 531, 513, 1, 1, 1}} {
			runCase(t, c, 99)
		}
	})
}

func TestGemmBetaZeroIgnoresNaN(t *testing.T) {
	a := kerneltest.Rand(1, 20*20, 1)
	c := make([]float32, 20*20)
	for i := range c {
		c[i] = float32(math.NaN())
	}
	Gemm(false, false, 20, 20, 20, 1, a, 20, a, 20, 0, c, 20)
	for i, v := range c {
		if math.IsNaN(float64(v)) {
			t.Fatalf("C[%d] is NaN after beta=0", i)
		}
	}
}

// Results must not depend on the thread count, bit for bit.
func TestGemmDeterministicAcrossThreads(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		m, n, k := 333, 1200, 700
		a := kerneltest.Rand(1, m*k, 1)
		b := kerneltest.Rand(2, k*n, 1)
		var ref []float32
		for _, th := range []int{1, 2, 3, 5} {
			prev := parallel.SetThreads(th)
			c := make([]float32, m*n)
			Gemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n)
			parallel.SetThreads(prev)
			if ref == nil {
				ref = c
				continue
			}
			kerneltest.Identical(t, fmt.Sprintf("threads=%d vs 1", th), c, ref)
		}
	})
}

func TestGemmStrided(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		for _, s := range [][4]int{{3, 17, 19, 23}, {2, 64, 130, 64}, {4, 200, 180, 90}} {
			batch, m, n, k := s[0], s[1], s[2], s[3]
			a := kerneltest.Rand(1, batch*m*k, 1)
			b := kerneltest.Rand(2, batch*n*k, 1)
			got := make([]float32, batch*m*n)
			want := make([]float32, batch*m*n)
			GemmStrided(false, true, batch, m, n, k, 1, a, k, m*k, b, k, n*k, 0, got, n, m*n)
			for i := range batch {
				GemmNaive(false, true, m, n, k, 1, a[i*m*k:], k, b[i*n*k:], k, 0, want[i*m*n:], n)
			}
			kerneltest.Close(t, fmt.Sprint(s), got, want, gemmTol(k))
		}
	})
}

func TestGemmAllocatesNothing(t *testing.T) {
	m, n, k := 256, 1024, 300
	a := kerneltest.Rand(1, m*k, 1)
	b := kerneltest.Rand(2, k*n, 1)
	c := make([]float32, m*n)
	Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
	if got := testing.AllocsPerRun(10, func() { Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n) }); got != 0 {
		t.Errorf("Gemm allocated %v times per call once warmed up", got)
	}
	GemmStrided(false, true, 4, 32, 32, 32, 1, a, 32, 1024, b, 32, 1024, 0, c, 32, 1024)
	if got := testing.AllocsPerRun(10, func() { GemmStrided(false, true, 4, 32, 32, 32, 1, a, 32, 1024, b, 32, 1024, 0, c, 32, 1024) }); got != 0 {
		t.Errorf("GemmStrided allocated %v times per call once warmed up", got)
	}
}

func TestGemmPanicsOnShortSlices(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic for a short A")
		}
		if s := fmt.Sprint(r); s != "blas.Gemm: A is 4×5 with leading dimension 5 and needs 20 elements, has 19" {
			t.Fatalf("unclear panic: %s", s)
		}
	}()
	Gemm(false, false, 4, 4, 5, 1, make([]float32, 19), 5, make([]float32, 20), 4, 0, make([]float32, 16), 4)
}

// Row strides that alias in L1 are packed; others are read in place. Both
// paths are exercised by TestGemmAgainstNaive (k = 1024 and 2048 pack).
func TestPackRowsA(t *testing.T) {
	for _, c := range []struct {
		lda  int
		want bool
	}{{128, false}, {384, false}, {270, false}, {1024, true}, {2048, true}, {4096, true}} {
		if got := packRowsA(c.lda, 12); got != c.want {
			t.Errorf("packRowsA(%d, 12) = %v, want %v", c.lda, got, c.want)
		}
	}
}

// A stored transposed with a leading dimension that maps a K block onto a
// few L1 sets is packed (packStepsA) by the panel copies for 12 and 8
// rows and the general loop for edges: every kernel, against the naive
// product.
func TestGemmPackedTransposedA(t *testing.T) {
	if !packStepsA(512) || !packStepsA(2048) || packStepsA(384) || packStepsA(128) {
		t.Fatal("packStepsA: want packing at lda 512 and 2048, not at 128 and 384")
	}
	eachKernel(t, func(t *testing.T) {
		for _, s := range [][4]int{{512, 128, 700, 512}, {128, 40, 500, 512}, {100, 33, 301, 1024}, {13, 64, 390, 2048}} {
			m, n, k, lda := s[0], s[1], s[2], s[3]
			a := kerneltest.Rand(1, k*lda, 1)
			b := kerneltest.Rand(2, k*n, 1)
			want := make([]float32, m*n)
			got := make([]float32, m*n)
			GemmNaive(true, false, m, n, k, 1, a, lda, b, n, 0, want, n)
			Gemm(true, false, m, n, k, 1, a, lda, b, n, 0, got, n)
			kerneltest.Close(t, fmt.Sprintf("m=%d/n=%d/k=%d/lda=%d", m, n, k, lda), got, want, gemmTol(k))
		}
	})
}

// A row-major B read in place (readsBInPlace) must give the bits of B
// packed: on every kernel, with padded rows, one and several K blocks,
// accumulating or not, with a bias, on one and two threads; and shapes
// that must not be read in place (an edge panel, alpha != 1, m too tall)
// are not.
func TestGemmBInPlace(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		nr := active.nr
		// {512, 4·nr, 700, 0}: A's steps 512 apart, which Gemm packs when
		// it packs B and reads in place when it reads B in place.
		for _, s := range [][4]int{{128, 2 * nr, 2048, 0}, {37, nr, 800, 5}, {512, 4 * nr, 100, 1}, {12, 3 * nr, 1, 0}, {512, 4 * nr, 700, 0}} {
			m, n, k, pad := s[0], s[1], s[2], s[3]
			if !readsBInPlace(active, false, m, n, 1) {
				t.Fatalf("m=%d n=%d: B not read in place", m, n)
			}
			for _, beta := range []float32{0, 1} {
				for _, th := range []int{1, 2} {
					name := fmt.Sprintf("m=%d/n=%d/k=%d/pad=%d/beta=%g/threads=%d", m, n, k, pad, beta, th)
					lda, ldb, ldc := m+pad, n+pad, n+pad
					a := kerneltest.Rand(1, k*lda, 1) // stored transposed, as a weight gradient's dYᵀ
					b := kerneltest.Rand(2, k*ldb, 1)
					bias := kerneltest.Rand(3, n, 1)
					c0 := kerneltest.Rand(4, m*ldc, 1)
					prev := parallel.SetThreads(th)
					got, want := append([]float32(nil), c0...), append([]float32(nil), c0...)
					Gemm(true, false, m, n, k, 1, a, lda, b, ldb, beta, got, ldc)
					inPlaceBOK = false
					Gemm(true, false, m, n, k, 1, a, lda, b, ldb, beta, want, ldc)
					inPlaceBOK = true
					kerneltest.Identical(t, name, got, want)
					if beta == 0 {
						GemmBias(true, false, m, n, k, 1, a, lda, b, ldb, bias, got, ldc)
						inPlaceBOK = false
						GemmBias(true, false, m, n, k, 1, a, lda, b, ldb, bias, want, ldc)
						inPlaceBOK = true
						kerneltest.Identical(t, name+"/bias", got, want)
					}
					parallel.SetThreads(prev)
				}
			}
		}
		for _, c := range []struct {
			m, n   int
			transB bool
			alpha  float32
		}{{128, nr + 1, false, 1}, {128, nr, true, 1}, {128, nr, false, 0.5}, {maxInPlaceBRows + 1, nr, false, 1}} {
			if readsBInPlace(active, c.transB, c.m, c.n, c.alpha) {
				t.Errorf("m=%d n=%d transB=%v alpha=%g: B read in place", c.m, c.n, c.transB, c.alpha)
			}
		}
	})
}

// The assembly kernels treat subnormal operands as zero and store
// subnormal results as zero (see "Subnormals" in doc.go), bit for bit as
// if the subnormals were zeros, and leave the caller's MXCSR as it was;
// the generic kernel computes with them.
func TestGemmSubnormals(t *testing.T) {
	const m, n, k = 37, 53, 70
	g := rng.New(7)
	a, b := make([]float32, m*k), make([]float32, k*n)
	az := make([]float32, m*k) // a with its subnormals zeroed
	for i := range a {
		a[i] = float32(g.Normal())
		if i%3 == 0 {
			a[i] = float32(i%5+1) * 0x1p-140 // subnormal
		}
		if a[i] > -0x1p-126 && a[i] < 0x1p-126 {
			az[i] = 0
		} else {
			az[i] = a[i]
		}
	}
	for i := range b {
		b[i] = float32(g.Normal())
	}
	tiny := make([]float32, k*n) // products of 2^-70 by 2^-70: subnormal
	for i := range tiny {
		tiny[i] = 0x1p-70
	}
	eachKernel(t, func(t *testing.T) {
		got, want := make([]float32, m*n), make([]float32, m*n)
		Gemm(false, false, m, n, k, 1, a, k, b, n, 0, got, n)
		Gemm(false, false, m, n, k, 1, az, k, b, n, 0, want, n)
		small := make([]float32, m*n)
		ones := make([]float32, m*k)
		for i := range ones {
			ones[i] = 0x1p-70
		}
		Gemm(false, false, m, n, k, 1, ones, k, tiny, n, 0, small, n)
		if KernelName() == "generic" {
			if small[0] == 0 {
				t.Fatal("the generic kernel flushed a subnormal result")
			}
			return
		}
		kerneltest.Identical(t, "Gemm with subnormal A", got, want)
		for i, v := range small {
			if v != 0 {
				t.Fatalf("C[%d] = %v: a subnormal result was stored", i, v)
			}
		}
		// The caller's MXCSR is back: Go code still sees subnormals.
		if x := float32(0x1p-126); x/2 == 0 {
			t.Fatal("subnormals flushed after the kernel returned")
		}
	})
}

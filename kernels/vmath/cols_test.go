package vmath

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
)

// colWidths covers the Go loops (1, 7), 8-column AVX2 strips alone (8), and
// on the AVX-512 path 16-column strips alone (16, 32, 48) and followed by
// one 8-column strip (24, 40).
var colWidths = []int{1, 7, 8, 16, 24, 32, 40, 48}

// The column operations must match the plain loops for every width and
// row count on every path.
func TestColumnOps(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		for _, w := range colWidths {
			for _, rows := range []int{0, 1, 5, 33} {
				testColumnOps(t, w, rows)
			}
		}
	})
}

func testColumnOps(t *testing.T, w, rows int) {
	t.Helper()
	x := kerneltest.Rand(uint64(w*100+rows), rows*w, 2)
	y := kerneltest.Rand(uint64(w*100+rows+1), rows*w, 2)
	m := kerneltest.Rand(7, w, 1)
	// reference loops, in float64 where the kernels may round differently
	wantM := append([]float32(nil), m...)
	wantE := make([]float32, rows*w)
	sumE := make([]float64, w)
	want2 := make([]float32, rows*w)
	sum2 := make([]float64, w)
	dots := make([]float64, w)
	wantG := append([]float32(nil), y...)
	wantSc := append([]float32(nil), x...)
	for r := range rows {
		for c := range w {
			i := r*w + c
			if x[i] > wantM[c] {
				wantM[c] = x[i]
			}
			wantE[i] = expRef(x[i] - m[c])
			sumE[c] += math.Exp(float64(x[i] - m[c]))
			want2[i] = exp2Ref(x[i] - m[c])
			sum2[c] += math.Exp2(float64(x[i] - m[c]))
			dots[c] += float64(x[i]) * float64(y[i])
			wantG[i] = 0.5 * x[i] * (y[i] - m[c])
			wantSc[i] = x[i] * m[c]
		}
	}
	name := func(op string) string { return op + " w=" + itoa(w) + " rows=" + itoa(rows) }

	gotM := append([]float32(nil), m...)
	MaxCols(gotM, x)
	kerneltest.Identical(t, name("MaxCols"), gotM, wantM)

	gotE := make([]float32, rows*w)
	gotS := make([]float32, w)
	ExpSubCols(gotE, x, m, gotS)
	kerneltest.Close(t, name("ExpSubCols"), gotE, wantE, expTol)
	kerneltest.Close(t, name("ExpSubCols sums"), gotS, f32(sumE), kerneltest.Tol{Rel: 1e-6})

	got2 := make([]float32, rows*w)
	gotS2 := make([]float32, w)
	Exp2SubCols(got2, x, m, gotS2)
	kerneltest.Close(t, name("Exp2SubCols"), got2, want2, expTol)
	kerneltest.Close(t, name("Exp2SubCols sums"), gotS2, f32(sum2), kerneltest.Tol{Rel: 1e-6})

	gotD := make([]float32, w)
	DotCols(gotD, x, y)
	kerneltest.Close(t, name("DotCols"), gotD, f32(dots), kerneltest.Tol{Abs: 1e-5, Rel: 1e-5})

	gotG := append([]float32(nil), y...)
	SoftmaxGradCols(gotG, x, m, 0.5)
	kerneltest.Identical(t, name("SoftmaxGradCols"), gotG, wantG)

	gotSc := append([]float32(nil), x...)
	ScaleCols(gotSc, m)
	kerneltest.Identical(t, name("ScaleCols"), gotSc, wantSc)
}

// TestColumnEdges runs the column kernels over ±Inf, NaN, ±0 and the exp
// edge values, and checks the semantics cols.go documents: MaxCols skips
// NaN elements and keeps a NaN maximum, and ExpSubCols gives exp's edge
// values and NaN for NaN.
func TestColumnEdges(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	vals := []float32{nan, -inf, inf, 0, negZero, -104, -103.98, -87.5, 88.72, expOverflow, 1, -1}
	forEachPath(t, func(t *testing.T) {
		for _, w := range colWidths {
			const rows = 13
			x := make([]float32, rows*w)
			for i := range x {
				x[i] = vals[(i*7+i/w)%len(vals)]
			}
			m := make([]float32, w)
			for c := range m {
				m[c] = vals[(c*5)%len(vals)]
			}
			wantM := append([]float32(nil), m...)
			for i, v := range x {
				if v > wantM[i%w] {
					wantM[i%w] = v
				}
			}
			gotM := append([]float32(nil), m...)
			MaxCols(gotM, x)
			kerneltest.Identical(t, "MaxCols w="+itoa(w), gotM, wantM)

			// exp of x - 0 is exp(x)
			zero := make([]float32, w)
			gotE := make([]float32, rows*w)
			sums := make([]float32, w)
			ExpSubCols(gotE, x, zero, sums)
			wantE := make([]float32, rows*w)
			wantS := make([]float64, w) // NaN or +Inf when a column has one
			for i, v := range x {
				wantE[i] = flushSub(expRef(v))
				wantS[i%w] += float64(wantE[i])
			}
			kerneltest.Close(t, "ExpSubCols w="+itoa(w), gotE, wantE, expTol)
			kerneltest.Close(t, "ExpSubCols sums w="+itoa(w), sums, f32(wantS), kerneltest.Tol{Rel: 1e-6})
		}
	})
}

func exp2Ref(x float32) float32 { return float32(math.Exp2(float64(x))) }

// exp2Edges are Exp2SubCols' edge inputs: where exact, want is 2^x bit
// for bit; otherwise 2^x within expTol.
var exp2Edges = []struct {
	x     float32
	exact bool
	want  float32
}{
	{x: -inf, exact: true, want: 0},
	{x: -1000, exact: true, want: 0},
	{x: -150, exact: true, want: 0},
	{x: -149.9, exact: true, want: 0}, // subnormal 2^x: flushed to 0
	{x: -149, exact: true, want: 0},
	{x: -140.3, exact: true, want: 0},
	{x: -126.5, exact: true, want: 0},
	{x: -126, exact: true, want: 0x1p-126}, // the smallest normal float32
	{x: -125.9},
	{x: -100.25},
	{x: -17.7},
	{x: -1, exact: true, want: 0.5},
	{x: -0.5},
	{x: -1e-10, exact: true, want: 1},
	{x: float32(math.Copysign(0, -1)), exact: true, want: 1},
	{x: 0, exact: true, want: 1},
	{x: 0.5},
	{x: 0.49999997},
	{x: 3, exact: true, want: 8},
	{x: 100.7},
	{x: 127.9},
	{x: 128, exact: true, want: inf},
	{x: 300, exact: true, want: inf},
	{x: inf, exact: true, want: inf},
}

// TestExp2SubColsEdges puts each edge value through every row and column
// position on every path, checks exact values bit for bit and the others
// within expTol, and NaN in gives NaN out and a NaN sum. The two assembly
// paths must agree bit for bit everywhere (EXP2Y emulates VSCALEFPS).
func TestExp2SubColsEdges(t *testing.T) {
	const w, rows = 48, 9
	x := make([]float32, rows*w)
	for i := range x {
		x[i] = exp2Edges[(i*7+i/w)%len(exp2Edges)].x
	}
	x[5*w+3] = nan
	zero := make([]float32, w)
	results := map[string][]float32{}
	forEachPath(t, func(t *testing.T) {
		got := make([]float32, rows*w)
		sums := make([]float32, w)
		Exp2SubCols(got, x, zero, sums)
		for i, v := range x {
			e := exp2Edges[(i*7+i/w)%len(exp2Edges)]
			switch {
			case v != v:
				if got[i] == got[i] || sums[i%w] == sums[i%w] {
					t.Errorf("2^NaN = %v, sum %v; want NaN", got[i], sums[i%w])
				}
			case e.exact:
				if math.Float32bits(got[i]) != math.Float32bits(e.want) {
					t.Errorf("2^%v = %v, want %v", v, got[i], e.want)
				}
			default:
				kerneltest.Close(t, "2^"+fmt.Sprint(v), got[i:i+1], []float32{exp2Ref(v)}, expTol)
			}
		}
		results[impl.String()] = got
	})
	if a, b := results[pathAVX512.String()], results[pathAVX2.String()]; a != nil && b != nil {
		kerneltest.Identical(t, "AVX-512 against AVX2", a, b)
	}
	if a, b := results[pathAVX512.String()], results[pathAVX2.String()]; a == nil && b == nil {
		t.Log("no assembly paths on this machine")
	}
}

// TestExp2SubColsSweep compares the assembly paths bit for bit, and every
// path with 2^x, over a million values spanning [-160, 130].
func TestExp2SubColsSweep(t *testing.T) {
	const w = 64
	x := make([]float32, 1<<20)
	for i := range x {
		x[i] = -160 + 290*float32(i)/float32(len(x))
	}
	want := make([]float32, len(x))
	for i, v := range x {
		want[i] = flushSub(exp2Ref(v))
	}
	zero := make([]float32, w)
	results := map[string][]float32{}
	forEachPath(t, func(t *testing.T) {
		got := make([]float32, len(x))
		Exp2SubCols(got, x, zero, make([]float32, w))
		kerneltest.Close(t, "2^x", got, want, expTol)
		results[impl.String()] = got
	})
	if a, b := results[pathAVX512.String()], results[pathAVX2.String()]; a != nil && b != nil {
		kerneltest.Identical(t, "AVX-512 against AVX2", a, b)
	}
}

// A zero width does nothing, whatever the other operands hold.
func TestColumnOpsZeroWidth(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		x := []float32{1, 2, 3}
		MaxCols(nil, x)
		ExpSubCols(x, x, nil, nil)
		ScaleCols(x, nil)
		DotCols(nil, x, x)
		SoftmaxGradCols(x, x, nil, 1)
		kerneltest.Identical(t, "x", x, []float32{1, 2, 3})
	})
}

func f32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// BenchmarkExpSubCols measures ExpSubCols and Exp2SubCols on a 512×32
// block, the tiled attention engine's Pᵀ at head dim 16, in ns per
// element.
func BenchmarkExpSubCols(b *testing.B) {
	const rows, w = 512, 32
	x := kerneltest.Rand(1, rows*w, 4)
	dst := make([]float32, rows*w)
	m := make([]float32, w)
	sums := make([]float32, w)
	for _, base := range []string{"e", "2"} {
		b.Run("base="+base, func(b *testing.B) {
			f := ExpSubCols
			if base == "2" {
				f = Exp2SubCols
			}
			for b.Loop() {
				f(dst, x, m, sums)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(rows*w), "ns/elem")
		})
	}
}

// The probability kernels never return a subnormal: on every path,
// inputs spread across the subnormal range give +0 where the exact
// result is below 2^-126 and the same values as before elsewhere, and
// SoftmaxGradCols flushes its small products (of either sign) likewise.
func TestProbabilitiesFlushSubnormals(t *testing.T) {
	const w, rows = 40, 64 // 16- and 8-column strips on the vector paths
	x := make([]float32, w*rows)
	for i := range x {
		x[i] = -160 + 40*float32(i)/float32(len(x)) // 2^x from 2^-160 to 2^-120
	}
	zero := make([]float32, w)
	isSub := func(v float32) bool { return v != 0 && v > -minNormal && v < minNormal }
	forEachPath(t, func(t *testing.T) {
		got := make([]float32, len(x))
		Exp2SubCols(got, x, zero, make([]float32, w))
		for i, v := range got {
			if isSub(v) || (x[i] < -126 && v != 0) || (x[i] >= -125.99 && v < minNormal) {
				t.Fatalf("Exp2SubCols: 2^%v = %v", x[i], v)
			}
		}
		ln := make([]float32, len(x))
		for i, v := range x {
			ln[i] = v * math.Ln2
		}
		ExpSubCols(got, ln, zero, make([]float32, w))
		for i, v := range got {
			if isSub(v) {
				t.Fatalf("ExpSubCols: exp(%v) = %v", ln[i], v)
			}
		}
		ExpSubSum(got, ln, 0)
		for i, v := range got {
			if isSub(v) {
				t.Fatalf("ExpSubSum: exp(%v) = %v", ln[i], v)
			}
		}
		// dS = p·(d − s): p from 2^-130 to 2^-90 (subnormal to small normal),
		// d − s of either sign around 1e-9.
		p := make([]float32, len(x))
		d := make([]float32, len(x))
		want := make([]float32, len(x))
		s := make([]float32, w)
		for i := range p {
			p[i] = float32(math.Exp2(float64(-130 + 40*float32(i)/float32(len(x)))))
			d[i] = float32((i%5)-2) * 1e-9
			want[i] = flushSubSigned(p[i] * d[i])
		}
		SoftmaxGradCols(d, p, s, 1)
		for i, v := range d {
			if isSub(v) || math.Float32bits(v) != math.Float32bits(want[i]) {
				t.Fatalf("SoftmaxGradCols: p %v: got %v, want %v", p[i], v, want[i])
			}
		}
	})
}

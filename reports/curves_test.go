package reports

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/tracking"
)

func points(vs ...float64) []tracking.Point {
	ps := make([]tracking.Point, len(vs))
	for i, v := range vs {
		ps[i] = tracking.Point{Step: i, Value: v}
	}
	return ps
}

func TestTrimSeries(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		in   []float64
		want int
	}{
		{[]float64{1, 2, 3}, 3},
		{[]float64{1, math.NaN(), 3}, 1},
		{[]float64{1, 2, inf}, 2},
		{[]float64{-inf, 2}, 0},
		{nil, 0},
	} {
		if got := len(trimSeries(points(c.in...))); got != c.want {
			t.Errorf("trimSeries(%v) keeps %d points, want %d", c.in, got, c.want)
		}
	}
}

func TestAggregate(t *testing.T) {
	b := aggregate([][]tracking.Point{points(1, 2, 3), points(3, 4)})
	want := Band{Steps: []float64{0, 1, 2}, Mean: []float64{2, 3, 3}, Lo: []float64{1, 2, 3}, Hi: []float64{3, 4, 3}}
	for i := range want.Steps {
		if b.Steps[i] != want.Steps[i] || b.Mean[i] != want.Mean[i] || b.Lo[i] != want.Lo[i] || b.Hi[i] != want.Hi[i] {
			t.Fatalf("aggregate = %+v, want %+v", b, want)
		}
	}
	// Sums that overflow are dropped rather than drawn at Inf.
	if b := aggregate([][]tracking.Point{points(math.MaxFloat64), points(math.MaxFloat64)}); len(b.Steps) != 0 {
		t.Errorf("overflowing mean kept: %+v", b)
	}
}

func TestDownsample(t *testing.T) {
	var b Band
	for i := range 100_000 {
		v := math.Sin(float64(i) / 1000)
		b.Steps = append(b.Steps, float64(i))
		b.Mean = append(b.Mean, v)
		b.Lo = append(b.Lo, v-1)
		b.Hi = append(b.Hi, v+1)
	}
	d := downsample(b, 500)
	if len(d.Steps) != 500 {
		t.Fatalf("downsampled to %d points, want 500", len(d.Steps))
	}
	lo, hi := d.Lo[0], d.Hi[0]
	for i := range d.Steps {
		lo, hi = min(lo, d.Lo[i]), max(hi, d.Hi[i])
		if i > 0 && d.Steps[i] <= d.Steps[i-1] {
			t.Fatalf("steps not increasing at %d: %v, %v", i, d.Steps[i-1], d.Steps[i])
		}
	}
	// The band keeps its extremes (sin reaches ±1, the band ±2).
	if lo > -1.99 || hi < 1.99 {
		t.Errorf("downsampled band spans [%v, %v], want about [-2, 2]", lo, hi)
	}
	if short := downsample(Band{Steps: []float64{1}, Mean: []float64{1}, Lo: []float64{1}, Hi: []float64{1}}, 500); len(short.Steps) != 1 {
		t.Errorf("a short band changed: %+v", short)
	}
}

func TestSummarise(t *testing.T) {
	s := summarise([]float64{1, math.NaN(), 3, math.Inf(-1)})
	if s.N != 2 || s.Mean != 2 || s.Min != 1 || s.Max != 3 || math.Abs(s.Std-math.Sqrt2) > 1e-12 {
		t.Errorf("summarise = %+v", s)
	}
	if got := s.meanStd(2); got != "2.00 ± 1.41" {
		t.Errorf("meanStd = %q", got)
	}
	if got := summarise(nil).meanStd(2); got != "-" {
		t.Errorf("meanStd of nothing = %q", got)
	}
}

func TestSeqLen(t *testing.T) {
	for _, c := range []struct {
		params map[string]string
		cfg    string
		want   int
	}{
		{map[string]string{"objective.seq_len": "512"}, "", 512},
		{nil, `{"objective":{"Plugin":"causal-lm","Params":{"seq_len":256}}}`, 256},
		{nil, `{"objective":{"plugin":"x","seq_len":64}}`, 64},
		{nil, `{"objective":{"Params":{"seq_len":"many"}}}`, 0},
		{nil, `not json`, 0},
		{map[string]string{"objective.seq_len": "-3"}, "", 0},
	} {
		if got := seqLen(tracking.Trial{Params: c.params, ConfigJSON: c.cfg}); got != c.want {
			t.Errorf("seqLen(%v, %s) = %d, want %d", c.params, c.cfg, got, c.want)
		}
	}
}

func TestCompareValues(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"64", "128", -1}, {"1e-3", "0.01", -1}, {"2", "abc", -1}, {"flash", "full", -1}, {"0.5", "0.5", 0},
	} {
		if got := compareValues(c.a, c.b); got != c.want {
			t.Errorf("compareValues(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// TestPathologicalValues draws every plot from values that break naive
// code: huge, negative, zero and single points. Nothing may panic, and
// the inputs are cleaned before gonum/plot sees them, so no plot should
// need render's recover either.
func TestPathologicalValues(t *testing.T) {
	var trials []tracking.Trial
	for i, v := range []struct {
		seq      int
		tps, acc float64
	}{{64, 0, 0.5}, {128, -5, math.NaN()}, {256, 1e300, 1e300}, {256, 1e-300, -1}} {
		name := string(rune('a' + i))
		trials = append(trials, tracking.Trial{ID: name, Status: tracking.StatusFinished,
			Params:    map[string]string{"objective.seq_len": strconv.Itoa(v.seq), "x": name},
			Summaries: map[string]float64{"tokens_per_s": v.tps, "eval/accuracy": v.acc}})
	}
	configs, _ := groupConfigs(trials)
	series := map[string][]tracking.Point{"a": points(1e300, 1e300), "b": points(-1e300), "c": points(0), "d": points(math.NaN())}
	cs, skipped := curves(configs, series, 500)
	figs := []*Figure{curveFigure("curve", "k", "T", cs, skipped),
		scalingFigure("scaling", "S", "y", configs, func(c *Config) Stat { return c.TokensPerS }),
		scatterFigure(configs)}
	for _, f := range figs {
		render(f)
		if strings.HasPrefix(f.Missing, "cannot draw") {
			t.Errorf("%s: %s", f.Name, f.Missing)
		}
		if f.Missing == "" && (len(f.PNG) == 0 || len(f.SVG) == 0) {
			t.Errorf("%s: drawn but empty", f.Name)
		}
	}
}

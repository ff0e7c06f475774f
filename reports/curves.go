package reports

import (
	"slices"

	"github.com/attnlab/attnlab/tracking"
)

// Band is one configuration's curve of a metric: at each step the mean
// over the seeds that have a finite value there, and the band from their
// minimum to their maximum.
type Band struct {
	Steps, Mean, Lo, Hi []float64
}

// Curve is a configuration's band of one metric.
type Curve struct {
	Config *Config
	Band   Band
}

// Skipped names a configuration left out of a plot, and why.
type Skipped struct {
	Config *Config
	Reason string
}

// curves builds the band of every configuration from series (by trial
// id), downsampled to at most maxPoints steps.
func curves(configs []*Config, series map[string][]tracking.Point, maxPoints int) ([]Curve, []Skipped) {
	var out []Curve
	var skipped []Skipped
	for _, c := range configs {
		var runs [][]tracking.Point
		logged := false
		for _, t := range c.Trials {
			ps := series[t.ID]
			logged = logged || len(ps) > 0
			if ps = trimSeries(ps); len(ps) > 0 {
				runs = append(runs, ps)
			}
		}
		b := aggregate(runs)
		switch {
		case len(b.Steps) > 0:
			out = append(out, Curve{c, downsample(b, maxPoints)})
		case logged:
			skipped = append(skipped, Skipped{c, "no finite value"})
		default:
			skipped = append(skipped, Skipped{c, "nothing logged"})
		}
	}
	return out, skipped
}

// trimSeries returns a series up to its first NaN or ±Inf: a diverged run
// ends where it diverged.
func trimSeries(ps []tracking.Point) []tracking.Point {
	for i, p := range ps {
		if !finite(p.Value) {
			return ps[:i]
		}
	}
	return ps
}

// aggregate computes the mean and min-max band at every step that at
// least one run has.
func aggregate(runs [][]tracking.Point) Band {
	type acc struct {
		sum, lo, hi float64
		n           int
	}
	at := map[int]*acc{}
	for _, ps := range runs {
		for _, p := range ps {
			a := at[p.Step]
			if a == nil {
				at[p.Step] = &acc{sum: p.Value, lo: p.Value, hi: p.Value, n: 1}
				continue
			}
			a.sum += p.Value
			a.lo, a.hi = min(a.lo, p.Value), max(a.hi, p.Value)
			a.n++
		}
	}
	steps := make([]int, 0, len(at))
	for s := range at {
		steps = append(steps, s)
	}
	slices.Sort(steps)
	var b Band
	for _, s := range steps {
		a := at[s]
		mean := a.sum / float64(a.n)
		if !finite(mean) { // the sum of huge values overflowed
			continue
		}
		b.Steps = append(b.Steps, float64(s))
		b.Mean = append(b.Mean, mean)
		b.Lo = append(b.Lo, a.lo)
		b.Hi = append(b.Hi, a.hi)
	}
	return b
}

// downsample reduces a band to at most maxPoints points (maxPoints < 2
// keeps every point): consecutive steps fall into equal buckets, each
// drawn at its mean step and mean of the mean, with the band from the
// bucket's lowest to its highest value.
func downsample(b Band, maxPoints int) Band {
	n := len(b.Steps)
	if maxPoints < 2 || n <= maxPoints {
		return b
	}
	var out Band
	for i := range maxPoints {
		from, to := i*n/maxPoints, (i+1)*n/maxPoints
		if from == to {
			continue
		}
		step, mean := 0.0, 0.0
		lo, hi := b.Lo[from], b.Hi[from]
		for j := from; j < to; j++ {
			step += b.Steps[j]
			mean += b.Mean[j]
			lo, hi = min(lo, b.Lo[j]), max(hi, b.Hi[j])
		}
		k := float64(to - from)
		if !finite(mean / k) {
			continue
		}
		out.Steps = append(out.Steps, step/k)
		out.Mean = append(out.Mean, mean/k)
		out.Lo = append(out.Lo, lo)
		out.Hi = append(out.Hi, hi)
	}
	return out
}

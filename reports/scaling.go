package reports

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// seqLens returns the distinct known sequence lengths, sorted.
func seqLens(configs []*Config) []int {
	var out []int
	for _, c := range configs {
		if c.SeqLen > 0 && !slices.Contains(out, c.SeqLen) {
			out = append(out, c.SeqLen)
		}
	}
	slices.Sort(out)
	return out
}

// scalingFigure draws a finished-trial summary against the sequence
// length on log-log axes, one line per configuration of the other params.
func scalingFigure(name, title, ylabel string, configs []*Config, value func(*Config) Stat) *Figure {
	f := &Figure{Name: name, Title: title,
		Caption: "Log-log axes. One line per configuration of the other params; each point is the mean over that configuration's finished seeds."}
	lens := seqLens(configs)
	switch len(lens) {
	case 0:
		f.Missing = "no trial records a sequence length (objective.seq_len)."
		return f
	case 1:
		f.Missing = fmt.Sprintf("the sequence length is the same (%d) in every configuration.", lens[0])
		return f
	}
	type line struct {
		label string
		idx   int
		xys   plotter.XYs
	}
	var lines []*line
	byLabel := map[string]*line{}
	for _, c := range configs {
		l := byLabel[c.other]
		if l == nil {
			l = &line{label: c.other, idx: len(lines)}
			byLabel[c.other] = l
			lines = append(lines, l)
		}
		s := value(c)
		if c.SeqLen <= 0 {
			f.Notes = append(f.Notes, fmt.Sprintf("%s not plotted: no sequence length recorded.", c.Name))
			continue
		}
		if s.N == 0 || !(s.Mean > 0) {
			f.Notes = append(f.Notes, fmt.Sprintf("%s not plotted: no finished trial with a positive value.", c.Name))
			continue
		}
		l.xys = append(l.xys, plotter.XY{X: float64(c.SeqLen), Y: s.Mean})
	}
	p := newPlot(title+" (log-log)", "sequence length (tokens)", ylabel)
	drawn := 0
	for _, l := range lines {
		if len(l.xys) == 0 {
			continue
		}
		slices.SortStableFunc(l.xys, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
		ln, sc, err := plotter.NewLinePoints(l.xys)
		if err != nil {
			f.Notes = append(f.Notes, fmt.Sprintf("line %q not plotted: %v.", l.label, err))
			continue
		}
		ln.LineStyle = lineStyle(l.idx)
		sc.GlyphStyle.Color, sc.GlyphStyle.Radius = ln.LineStyle.Color, vg.Points(2.5)
		p.Add(ln, sc)
		label := l.label
		if label == "" {
			label = "all configurations"
		}
		p.Legend.Add(label, ln, sc)
		drawn++
	}
	if drawn == 0 {
		f.Missing = "no configuration has a finished trial with a positive value."
		return f
	}
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	padLog(&p.X)
	padLog(&p.Y)
	var ticks []plot.Tick
	for _, n := range lens {
		ticks = append(ticks, plot.Tick{Value: float64(n), Label: strconv.Itoa(n)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Tick.Marker = positiveTicks{}
	f.plot = p
	return f
}

// padLog widens a log axis by 5% of its decades on each side (a factor
// of 2 around a single value), keeping both ends positive and finite.
func padLog(a *plot.Axis) {
	if !(a.Min > 0) || !finite(a.Max) || a.Max < a.Min {
		a.Min, a.Max = 1, 10
		return
	}
	pad := 0.05 * (math.Log(a.Max) - math.Log(a.Min))
	if pad == 0 {
		pad = math.Ln2
	}
	if lo := math.Exp(math.Log(a.Min) - pad); lo > 0 {
		a.Min = lo
	}
	if hi := math.Exp(math.Log(a.Max) + pad); finite(hi) {
		a.Max = hi
	}
}

// positiveTicks marks a log axis: decades when it spans at least two
// labelled ones, plain ticks otherwise; never a value at or below zero,
// which a log scale cannot place.
type positiveTicks struct{}

func (positiveTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	var ticks []plot.Tick
	labelled := 0
	for _, t := range (plot.LogTicks{Prec: -1}).Ticks(lo, hi) {
		if t.Value >= lo && t.Value <= hi && t.Label != "" {
			labelled++
		}
		ticks = append(ticks, t)
	}
	if labelled < 2 {
		ticks = plot.DefaultTicks{}.Ticks(lo, hi)
	}
	return relabel(slices.DeleteFunc(ticks, func(t plot.Tick) bool { return !(t.Value > 0) }))
}

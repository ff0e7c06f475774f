package reports

import (
	"fmt"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// scatterFigure draws eval accuracy against throughput: one point per
// configuration at the means over its finished seeds, with min-max error
// bars, labelled with the configuration's name.
func scatterFigure(configs []*Config) *Figure {
	f := &Figure{Name: "accuracy_vs_throughput", Title: "Eval accuracy against throughput",
		Caption: "One point per configuration at the mean over its finished seeds; error bars span the minimum to the maximum over those seeds. " +
			"Labels name the configurations of the results table."}
	var pts errPoints
	var labels []string
	for _, c := range configs {
		if c.EvalAccuracy.N == 0 || c.TokensPerS.N == 0 {
			f.Notes = append(f.Notes, fmt.Sprintf("%s not plotted: no finished trial with both eval accuracy and throughput.", c.Name))
			continue
		}
		pts = append(pts, errPoint{x: c.TokensPerS, y: c.EvalAccuracy})
		labels = append(labels, c.Name)
	}
	if len(pts) == 0 {
		f.Missing = "no configuration has a finished trial with both eval accuracy and throughput."
		return f
	}
	p := newPlot(f.Title, "throughput (tokens/s)", "eval/accuracy")
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		f.Missing = fmt.Sprintf("cannot draw: %v.", err)
		return f
	}
	sc.GlyphStyle.Color, sc.GlyphStyle.Radius = palette[0], vg.Points(3)
	xe, err := plotter.NewXErrorBars(pts)
	if err != nil {
		f.Missing = fmt.Sprintf("cannot draw: %v.", err)
		return f
	}
	ye, err := plotter.NewYErrorBars(pts)
	if err != nil {
		f.Missing = fmt.Sprintf("cannot draw: %v.", err)
		return f
	}
	xe.Color, ye.Color = palette[0], palette[0]
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xysOf(pts), Labels: labels})
	if err != nil {
		f.Missing = fmt.Sprintf("cannot draw: %v.", err)
		return f
	}
	lb.Offset = vg.Point{X: vg.Points(5), Y: vg.Points(3)}
	p.Add(xe, ye, sc, lb)
	padLinear(&p.X)
	padLinear(&p.Y)
	f.plot = p
	return f
}

// errPoint is a configuration's point: the means, with min-max errors.
type errPoint struct{ x, y Stat }

type errPoints []errPoint

func (e errPoints) Len() int                    { return len(e) }
func (e errPoints) XY(i int) (float64, float64) { return e[i].x.Mean, e[i].y.Mean }
func (e errPoints) XError(i int) (float64, float64) {
	return e[i].x.Mean - e[i].x.Min, e[i].x.Max - e[i].x.Mean
}
func (e errPoints) YError(i int) (float64, float64) {
	return e[i].y.Mean - e[i].y.Min, e[i].y.Max - e[i].y.Mean
}

func xysOf(e errPoints) plotter.XYs {
	out := make(plotter.XYs, len(e))
	for i := range e {
		out[i].X, out[i].Y = e.XY(i)
	}
	return out
}

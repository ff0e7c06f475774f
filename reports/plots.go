package reports

import (
	"fmt"
	"image/color"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Figure is one plot of a report.
type Figure struct {
	Name    string   // file stem in plots/, e.g. "train_loss"
	Title   string   // section heading
	Caption string   // how to read it
	Notes   []string // configurations left out, and why
	Missing string   // why the plot is not drawn; "" when it is

	plot     *plot.Plot
	PNG, SVG []byte // set by render
}

// palette is Okabe and Ito's colour-blind-safe set; configurations past
// the eighth reuse it with dashed lines.
var palette = []color.NRGBA{
	{0x00, 0x72, 0xb2, 0xff}, {0xd5, 0x5e, 0x00, 0xff}, {0x00, 0x9e, 0x73, 0xff}, {0xcc, 0x79, 0xa7, 0xff},
	{0xe6, 0x9f, 0x00, 0xff}, {0x56, 0xb4, 0xe9, 0xff}, {0x00, 0x00, 0x00, 0xff}, {0xf0, 0xe4, 0x42, 0xff},
}

func lineStyle(i int) draw.LineStyle {
	s := draw.LineStyle{Color: palette[i%len(palette)], Width: vg.Points(1.5)}
	if (i/len(palette))%2 == 1 {
		s.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	return s
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text, p.Y.Label.Text = x, y
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.Padding = vg.Points(2)
	p.X.Tick.Marker, p.Y.Tick.Marker = plainTicks{}, plainTicks{}
	p.Add(plotter.NewGrid())
	return p
}

// plainTicks are gonum's default tick positions, labelled without
// trailing zeros ("25", not "25.00").
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	return relabel(plot.DefaultTicks{}.Ticks(lo, hi))
}

func relabel(ticks []plot.Tick) []plot.Tick {
	for i, t := range ticks {
		if t.Label != "" {
			ticks[i].Label = strconv.FormatFloat(t.Value, 'g', 6, 64)
		}
	}
	return ticks
}

const bandCaption = "Line: mean over seeds at each step; shaded band: minimum to maximum over seeds. " +
	"Every trial that logged the metric counts, finished or not; a series stops at its first NaN or Inf."

// curveFigure draws one band and mean line per configuration.
func curveFigure(name, key, title string, cs []Curve, skipped []Skipped) *Figure {
	f := &Figure{Name: name, Title: title, Caption: bandCaption}
	for _, s := range skipped {
		f.Notes = append(f.Notes, fmt.Sprintf("%s not plotted: %s.", s.Config.Name, s.Reason))
	}
	if len(cs) == 0 {
		f.Missing = fmt.Sprintf("no configuration has a finite %s value.", key)
		return f
	}
	p := newPlot(title+" (mean; band: min–max over seeds)", "step", key)
	for _, c := range cs {
		p.Add(&band{b: c.Band, fill: withAlpha(palette[c.Config.idx%len(palette)], 0x40)})
	}
	for _, c := range cs {
		b := c.Band
		xys := make(plotter.XYs, len(b.Steps))
		for i := range b.Steps {
			xys[i] = plotter.XY{X: b.Steps[i], Y: b.Mean[i]}
		}
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			f.Notes = append(f.Notes, fmt.Sprintf("%s not plotted: %v.", c.Config.Name, err))
			continue
		}
		l.LineStyle = lineStyle(c.Config.idx)
		p.Add(l)
		if len(xys) == 1 { // a single point has no line to show
			s.GlyphStyle.Color, s.GlyphStyle.Radius = l.LineStyle.Color, vg.Points(2.5)
			p.Add(s)
		}
		p.Legend.Add(c.Config.legendName(), l)
	}
	padLinear(&p.Y)
	f.plot = p
	return f
}

func withAlpha(c color.NRGBA, a uint8) color.NRGBA { c.A = a; return c }

// band fills the area between a band's low and high edges.
type band struct {
	b    Band
	fill color.Color
}

func (b *band) Plot(c draw.Canvas, p *plot.Plot) {
	n := len(b.b.Steps)
	if n < 2 {
		return
	}
	trX, trY := p.Transforms(&c)
	ring := make([]vg.Point, 0, 2*n)
	for i := range n {
		ring = append(ring, vg.Point{X: trX(b.b.Steps[i]), Y: trY(b.b.Lo[i])})
	}
	for i := n - 1; i >= 0; i-- {
		ring = append(ring, vg.Point{X: trX(b.b.Steps[i]), Y: trY(b.b.Hi[i])})
	}
	ring = c.ClipPolygonXY(ring)
	if len(ring) == 0 {
		return
	}
	var path vg.Path
	path.Move(ring[0])
	for _, pt := range ring[1:] {
		path.Line(pt)
	}
	path.Close()
	c.SetColor(b.fill)
	c.Fill(path)
}

func (b *band) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = b.b.Steps[0], b.b.Steps[len(b.b.Steps)-1]
	ymin, ymax = b.b.Lo[0], b.b.Hi[0]
	for i := range b.b.Steps {
		ymin, ymax = min(ymin, b.b.Lo[i]), max(ymax, b.b.Hi[i])
	}
	return xmin, xmax, ymin, ymax
}

// padLinear widens an axis by 5% on each side, or around a single value,
// so points do not sit on the frame.
func padLinear(a *plot.Axis) {
	lo, hi := a.Min, a.Max
	if !finite(lo) || !finite(hi) || lo > hi {
		a.Min, a.Max = 0, 1
		return
	}
	d := (hi - lo) * 0.05
	if d == 0 {
		d = max(0.05*max(-lo, hi), 0.5e-3)
	}
	if finite(lo-d) && finite(hi+d) && finite(hi-lo) {
		a.Min, a.Max = lo-d, hi+d
	}
}

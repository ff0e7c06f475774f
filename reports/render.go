package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Plot size (the legend goes below it and adds to the height), and the
// PNG's resolution.
const (
	plotWidth  = 7 * vg.Inch
	plotHeight = 4.5 * vg.Inch
	pngDPI     = 110
)

// render draws a figure's plot as PNG and SVG. A plot that fails to draw
// (gonum/plot panics on some inputs) is turned into f.Missing instead.
func render(f *Figure) {
	if f.plot == nil {
		return
	}
	png, svg, err := draws(f)
	if err != nil {
		f.Missing = fmt.Sprintf("cannot draw: %v.", err)
		return
	}
	f.PNG, f.SVG = png, svg
}

func draws(f *Figure) (png, svg []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			png, svg, err = nil, nil, fmt.Errorf("%s", strings.TrimSuffix(fmt.Sprint(r), "."))
		}
	}()
	// The legend is drawn in a strip below the axes, where it never hides
	// a curve.
	legend := f.plot.Legend
	f.plot.Legend = plot.NewLegend()
	legendHeight := legend.Rectangle(draw.Canvas{}).Size().Y
	if legendHeight > 0 {
		legendHeight += vg.Points(12)
	}
	h := plotHeight + legendHeight
	layout := func(c draw.Canvas) {
		c.SetColor(color.White)
		c.Fill(c.Rectangle.Path())
		f.plot.Draw(draw.Crop(c, 0, -vg.Points(8), legendHeight, -vg.Points(4)))
		legend.Draw(draw.Crop(c, vg.Points(12), 0, vg.Points(4), -plotHeight))
	}
	img := vgimg.NewWith(vgimg.UseWH(plotWidth, h), vgimg.UseDPI(pngDPI))
	layout(draw.New(img))
	var pb bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&pb); err != nil {
		return nil, nil, err
	}
	sc := vgsvg.New(plotWidth, h)
	layout(draw.New(sc))
	var sb bytes.Buffer
	if _, err := sc.WriteTo(&sb); err != nil {
		return nil, nil, err
	}
	return pb.Bytes(), sb.Bytes(), nil
}

package reports

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"html/template"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	// numeric marks the results table's number columns (right-aligned).
	"numeric": func(i int) bool { return i >= 2 && i <= 7 },
}).Parse(htmlSource))

type htmlFigure struct {
	Title, Caption, Missing string
	Notes                   []string
	Src                     template.URL // the PNG as a data URI
}

// htmlEfficiency is the efficiency section (see efficiency.go).
type htmlEfficiency struct {
	Title, Intro, SpeedTitle, MemoryTitle string
	Header                                []string
	Speed, Memory                         [][]string
}

// HTML renders report.html: one self-contained page with inline CSS and
// every plot embedded as a base64 PNG, so it can be mailed or archived
// alone and loads nothing from anywhere.
func (d *Data) HTML(figs []*Figure) ([]byte, error) {
	view := struct {
		Name                     string
		Facts                    []fact
		TableNote                string
		Header, UnfinishedHeader []string
		Rows, Unfinished         [][]string
		UnfinishedIntro          string
		Figures                  []htmlFigure
		Efficiency               *htmlEfficiency
	}{Name: d.Experiment.Name, Facts: d.facts(), TableNote: tableNote, Header: tableHeader,
		UnfinishedHeader: unfinishedHeader, UnfinishedIntro: d.unfinishedIntro()}
	for _, c := range d.Configs {
		view.Rows = append(view.Rows, c.row())
	}
	if e := d.efficiency(); e != nil {
		view.Efficiency = &htmlEfficiency{Title: effTitle, Intro: effIntro + " " + e.note, SpeedTitle: effSpeedTitle,
			MemoryTitle: effMemoryTitle, Header: e.header(), Speed: e.speedRows(), Memory: e.memoryRows()}
	}
	for _, u := range d.Unfinished {
		view.Unfinished = append(view.Unfinished, u.row())
	}
	for _, f := range figs {
		hf := htmlFigure{Title: f.Title, Caption: f.Caption, Missing: f.Missing, Notes: f.Notes}
		if f.Missing == "" {
			// A data URI built here from PNG bytes, so it is safe to mark as a URL.
			hf.Src = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(f.PNG))
		}
		view.Figures = append(view.Figures, hf)
	}
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, view); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

package reports

import (
	"fmt"
	"strings"
)

// Markdown renders report.md; plots are linked from plots/ beside it.
// The text depends only on the store, never on the time or the machine.
func (d *Data) Markdown(figs []*Figure) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# attnlab report: %s\n\n", mdText(d.Experiment.Name))
	for _, f := range d.facts() {
		fmt.Fprintf(&b, "- **%s:** %s\n", f.Key, mdText(f.Value))
	}

	b.WriteString("\n## Results\n\n")
	if len(d.Configs) == 0 {
		b.WriteString("No trials, so no results.\n")
	} else {
		b.WriteString(tableNote + "\n\n")
		rows := make([][]string, len(d.Configs))
		for i, c := range d.Configs {
			rows[i] = c.row()
		}
		mdTable(&b, tableHeader, rows)
	}

	if e := d.efficiency(); e != nil {
		fmt.Fprintf(&b, "\n## %s\n\n%s %s\n", effTitle, effIntro, e.note)
		fmt.Fprintf(&b, "\n### %s\n\n", effSpeedTitle)
		mdTable(&b, e.header(), e.speedRows())
		fmt.Fprintf(&b, "\n### %s\n\n", effMemoryTitle)
		mdTable(&b, e.header(), e.memoryRows())
	}

	b.WriteString("\n## Trials that did not finish\n\n")
	b.WriteString(d.unfinishedIntro() + "\n")
	if len(d.Unfinished) > 0 {
		b.WriteString("\n")
		rows := make([][]string, len(d.Unfinished))
		for i, u := range d.Unfinished {
			rows[i] = u.row()
		}
		mdTable(&b, unfinishedHeader, rows)
	}

	b.WriteString("\n## Plots\n")
	for _, f := range figs {
		fmt.Fprintf(&b, "\n### %s\n\n", f.Title)
		if f.Missing != "" {
			fmt.Fprintf(&b, "Not drawn: %s\n", mdText(f.Missing))
		} else {
			fmt.Fprintf(&b, "![%s](plots/%s.png)\n\n%s Vector version: [plots/%s.svg](plots/%s.svg).\n", f.Title, f.Name, f.Caption, f.Name, f.Name)
		}
		if len(f.Notes) > 0 {
			b.WriteString("\n")
			for _, n := range f.Notes {
				fmt.Fprintf(&b, "- %s\n", mdText(n))
			}
		}
	}
	return []byte(b.String())
}

// mdText keeps recorded text (errors, params) from being read as HTML.
func mdText(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(s)
}

func mdTable(b *strings.Builder, header []string, rows [][]string) {
	cell := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;")
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for range header {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		cs := make([]string, len(r))
		for i, c := range r {
			cs[i] = cell.Replace(c)
		}
		b.WriteString("| " + strings.Join(cs, " | ") + " |\n")
	}
}

package reports

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The efficiency table of the Long Range Arena (Tay et al. 2021, "Long
// Range Arena: A Benchmark for Efficient Transformers", Table 2): for an
// experiment that varies the attention (attention.plugin or any other
// attention.* param) and the sequence length, training steps per second
// and peak memory with one row per attention configuration and one column
// per length, each cell with its ratio to full attention at that length.

// attentionPrefix starts every attention param's path.
const attentionPrefix = "attention."

// efficiency is the table's content; see Data.efficiency.
type efficiency struct {
	lens []int
	rows []*effRow
	note string
}

// effRow is one attention configuration (every varying param but the
// sequence length) and its configurations by length.
type effRow struct {
	label  string
	params map[string]string
	full   bool            // attention.plugin is full
	ref    *effRow         // the full-attention row its ratios are to; nil for none (or itself)
	cells  map[int]*Config // by sequence length
	first  *Config         // its first configuration, for names in notes
}

// efficiency builds the table, or returns nil when the experiment does not
// vary both the attention and the sequence length.
func (d *Data) efficiency() *efficiency {
	lens := seqLens(d.Configs)
	if len(lens) < 2 {
		return nil
	}
	fixed := map[string]bool{}
	for _, p := range d.Fixed {
		fixed[p.Key] = true
	}
	var varying []string
	for _, c := range d.Configs {
		for k := range c.Params {
			if !fixed[k] && !slices.Contains(varying, k) {
				varying = append(varying, k)
			}
		}
	}
	if !slices.ContainsFunc(varying, func(k string) bool { return strings.HasPrefix(k, attentionPrefix) }) {
		return nil
	}
	e := &efficiency{lens: lens}
	byLabel := map[string]*effRow{}
	var rows []*effRow
	for _, c := range d.Configs {
		if c.SeqLen <= 0 {
			continue
		}
		r := byLabel[c.other]
		if r == nil {
			r = &effRow{label: orDash(c.other), params: c.Params, full: attentionPlugin(c) == "full", cells: map[int]*Config{}, first: c}
			byLabel[c.other] = r
			rows = append(rows, r)
		}
		r.cells[c.SeqLen] = c
	}
	// Full attention first, as the LRA table puts the Transformer first;
	// otherwise in configuration order.
	for _, full := range []bool{true, false} {
		for _, r := range rows {
			if r.full == full {
				e.rows = append(e.rows, r)
			}
		}
	}
	var unmatched []string
	for _, r := range e.rows {
		var refs []*effRow
		for _, f := range e.rows {
			if f.full && sameOutsideAttention(r.params, f.params, varying) {
				refs = append(refs, f)
			}
		}
		if len(refs) == 1 {
			if refs[0] != r {
				r.ref = refs[0]
			}
		} else {
			unmatched = append(unmatched, r.first.Name)
		}
	}
	e.note = "Steps per second: 1000 / ms per step, from the mean over the finished seeds of each trial's median step time. " +
		"Peak memory: the peak RSS of the trial's plugin processes, mean over the finished seeds. " +
		"In parentheses: the ratio to full attention (attention.plugin=full with the same other parameters) at the same length; " +
		"above 1× is faster, or more memory. -: no finished trial at that length (see Trials that did not finish)."
	switch {
	case len(unmatched) == len(e.rows):
		e.note += " No ratios: no row has a single full-attention row with the same other parameters to compare with."
	case len(unmatched) > 0:
		e.note += " No ratios in the rows of " + strings.Join(unmatched, ", ") + ": no single full-attention row with the same other parameters."
	}
	return e
}

// sameOutsideAttention reports whether a and b agree on every varying
// param outside the attention section except the sequence length.
func sameOutsideAttention(a, b map[string]string, varying []string) bool {
	for _, k := range varying {
		if k == seqLenParam || strings.HasPrefix(k, attentionPrefix) {
			continue
		}
		va, oka := a[k]
		vb, okb := b[k]
		if oka != okb || va != vb {
			return false
		}
	}
	return true
}

// attentionPlugin is the configuration's attention plugin, from its params
// or else from its first trial's resolved config; "" when unknown.
func attentionPlugin(c *Config) string {
	if p, ok := c.Params[attentionPrefix+"plugin"]; ok {
		return p
	}
	var cfg map[string]any
	if json.Unmarshal([]byte(c.Trials[0].ConfigJSON), &cfg) != nil {
		return ""
	}
	att, _ := lookupFold(cfg, "attention").(map[string]any)
	p, _ := lookupFold(att, "plugin").(string)
	return p
}

// header is the first column's title and one column per length.
func (e *efficiency) header() []string {
	h := []string{"Attention"}
	for _, n := range e.lens {
		h = append(h, strconv.Itoa(n))
	}
	return h
}

// speedRows are the steps-per-second table's rows.
func (e *efficiency) speedRows() [][]string {
	return e.table(func(c *Config) (float64, bool) {
		if c.StepMS.N == 0 || !(c.StepMS.Mean > 0) {
			return 0, false
		}
		return 1000 / c.StepMS.Mean, true
	}, formatRate, "")
}

// memoryRows are the peak-memory table's rows.
func (e *efficiency) memoryRows() [][]string {
	return e.table(func(c *Config) (float64, bool) {
		if c.PeakRSS.N == 0 || !(c.PeakRSS.Mean > 0) {
			return 0, false
		}
		return c.PeakRSS.Mean, true
	}, func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }, " MiB")
}

// table formats each row's value at each length, with its ratio to the
// row's full-attention reference when both have one.
func (e *efficiency) table(value func(*Config) (float64, bool), format func(float64) string, unit string) [][]string {
	var out [][]string
	for _, r := range e.rows {
		row := []string{r.label}
		for _, n := range e.lens {
			c := r.cells[n]
			v, ok := 0.0, c != nil
			if ok {
				v, ok = value(c)
			}
			if !ok {
				row = append(row, "-")
				continue
			}
			cell := format(v) + unit
			if r.ref != nil {
				if rc := r.ref.cells[n]; rc != nil {
					if rv, ok := value(rc); ok {
						cell += " (" + formatRatio(v/rv) + "×)"
					}
				}
			}
			row = append(row, cell)
		}
		out = append(out, row)
	}
	return out
}

// formatRate shows a rate with about three significant digits.
func formatRate(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// formatRatio shows a ratio with two significant digits.
func formatRatio(r float64) string {
	switch {
	case r >= 10:
		return fmt.Sprintf("%.0f", r)
	case r >= 1:
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.2g", r)
}

// The section's titles and introduction, shared by the Markdown and HTML
// writers.
const (
	effTitle       = "Efficiency"
	effIntro       = "Training speed and peak memory of each attention configuration at each sequence length, as the Long Range Arena's efficiency table (Tay et al. 2021, Table 2)."
	effSpeedTitle  = "Training steps per second"
	effMemoryTitle = "Peak memory"
)

package cli

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/tracking"
)

// export writes an experiment's metrics or trials as a table for pandas,
// R or a spreadsheet.

// exportFormats are the formats export writes.
var exportFormats = []string{"csv"}

type exportFlags struct {
	db     string
	format string
	out    string
	what   string
}

func exportCmd(g *globals) *cobra.Command {
	f := &exportFlags{}
	cmd := &cobra.Command{
		Use:   "export EXPERIMENT",
		Short: "Write an experiment's metrics (long form) or trials as CSV",
		Long: `Export writes the newest experiment of that name as a table.

--what metrics (the default) is long form, one row per logged point:
  trial_id, seed, status, one column per swept parameter, key, step, value
--what trials is one row per trial:
  trial_id, seed, status, attempt, error, one column per swept parameter,
  one column per summary (empty where a trial has none)

Swept parameters are the recorded parameters other than the seed; the
plugin names are included when they vary between trials. Values are written
in full precision; NaN as NaN and infinities as +Inf and -Inf.

Exit codes: 0 written, 2 bad input (unknown experiment, format or --what).`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return export(g, f, args[0]) },
	}
	cmd.Flags().StringVar(&f.db, "db", "runs.db", "SQLite store to read")
	cmd.Flags().StringVar(&f.format, "format", "csv", "output format: "+strings.Join(exportFormats, ", "))
	cmd.Flags().StringVar(&f.out, "out", "-", "file to write, or - for standard output")
	cmd.Flags().StringVar(&f.what, "what", "metrics", "what to export: metrics (one row per point) or trials (one row per trial)")
	return cmd
}

func export(g *globals, f *exportFlags, name string) error {
	if !slices.Contains(exportFormats, f.format) {
		return badInput(fmt.Errorf("--format %q is not supported: use one of %s", f.format, strings.Join(exportFormats, ", ")))
	}
	if f.what != "metrics" && f.what != "trials" {
		return badInput(fmt.Errorf("--what %q: want metrics or trials", f.what))
	}
	if f.out == "" {
		return badInput(errors.New("--out is empty: give a file name, or - for standard output"))
	}
	s, err := openRead(f.db)
	if err != nil {
		return err
	}
	defer s.Close()
	exp, err := s.LatestExperiment(name)
	if errors.Is(err, tracking.ErrNotFound) {
		return badInput(fmt.Errorf("no experiment %q in %s%s", name, f.db, experimentNames(s)))
	} else if err != nil {
		return err
	}
	trials, err := s.Trials(exp.ID)
	if err != nil {
		return err
	}

	w, finish, err := openOut(g, f.out)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if f.what == "trials" {
		err = writeTrialRows(cw, trials)
	} else {
		err = writeMetricRows(cw, s, exp.ID, trials)
	}
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	return finish(err)
}

// experimentNames lists the store's experiments for an error message.
func experimentNames(s *tracking.Store) string {
	exps, err := s.Experiments()
	if err != nil || len(exps) == 0 {
		return " (it has none)"
	}
	seen := map[string]bool{}
	var names []string
	for _, e := range exps {
		if !seen[e.Name] {
			seen[e.Name] = true
			names = append(names, e.Name)
		}
	}
	return " (it has: " + strings.Join(names, ", ") + ")"
}

// openOut opens the output; finish closes it and, if the export failed,
// removes a partly written file.
func openOut(g *globals, path string) (io.Writer, func(error) error, error) {
	if path == "-" {
		return g.stdout, func(err error) error { return err }, nil
	}
	file, err := os.Create(path)
	if err != nil {
		return nil, nil, badInput(fmt.Errorf("--out: %w", err))
	}
	return file, func(err error) error {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
		return err
	}, nil
}

// sweptKeys returns the parameter columns: every recorded parameter but
// the seed, and the plugin names only when they vary between trials.
func sweptKeys(trials []tracking.Trial) []string {
	values := map[string]map[string]bool{}
	for _, t := range trials {
		for k, v := range t.Params {
			if values[k] == nil {
				values[k] = map[string]bool{}
			}
			values[k][v] = true
		}
	}
	var keys []string
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if k == "seed" || strings.HasSuffix(k, ".plugin") && len(values[k]) < 2 {
			continue
		}
		keys = append(keys, k)
	}
	return keys
}

// formatValue writes a float in full precision: the shortest text that
// reads back to the same float64; NaN, +Inf and -Inf as such.
func formatValue(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func writeMetricRows(cw *csv.Writer, s *tracking.Store, expID int64, trials []tracking.Trial) error {
	params := sweptKeys(trials)
	header := append(append([]string{"trial_id", "seed", "status"}, params...), "key", "step", "value")
	if err := cw.Write(header); err != nil {
		return err
	}
	keySet := map[string]bool{}
	for _, t := range trials {
		ks, err := s.MetricKeys(t.ID)
		if err != nil {
			return err
		}
		for _, k := range ks {
			keySet[k] = true
		}
	}
	keys := slices.Sorted(maps.Keys(keySet))
	series := make(map[string]map[string][]tracking.Point, len(keys)) // key -> trial -> points
	for _, k := range keys {
		m, err := s.ExperimentMetrics(expID, k)
		if err != nil {
			return err
		}
		series[k] = m
	}
	row := make([]string, len(header))
	for _, t := range trials {
		row[0], row[1], row[2] = t.ID, strconv.FormatInt(t.Seed, 10), string(t.Status)
		for i, p := range params {
			row[3+i] = t.Params[p]
		}
		for _, k := range keys {
			for _, pt := range series[k][t.ID] {
				n := 3 + len(params)
				row[n], row[n+1], row[n+2] = k, strconv.Itoa(pt.Step), formatValue(pt.Value)
				if err := cw.Write(row); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func writeTrialRows(cw *csv.Writer, trials []tracking.Trial) error {
	params := sweptKeys(trials)
	sumSet := map[string]bool{}
	for _, t := range trials {
		for k := range t.Summaries {
			sumSet[k] = true
		}
	}
	sums := slices.Sorted(maps.Keys(sumSet))
	header := append(append([]string{"trial_id", "seed", "status", "attempt", "error"}, params...), sums...)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, t := range trials {
		row := []string{t.ID, strconv.FormatInt(t.Seed, 10), string(t.Status), strconv.Itoa(t.Attempt), t.Error}
		for _, p := range params {
			row = append(row, t.Params[p])
		}
		for _, k := range sums {
			v, ok := t.Summaries[k]
			if !ok {
				row = append(row, "")
				continue
			}
			row = append(row, formatValue(v))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	return nil
}

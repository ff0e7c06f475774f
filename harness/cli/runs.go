package cli

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/tracking"
)

func runsCmd(g *globals) *cobra.Command {
	var db string
	var asJSON bool
	cmd := &cobra.Command{Use: "runs", Short: "Inspect the trials recorded in a store"}
	list := &cobra.Command{
		Use:   "list [EXPERIMENT]",
		Short: "List trials (all experiments, or one by name) with status and summary metrics",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			return runsList(g, db, name, asJSON)
		},
	}
	show := &cobra.Command{
		Use:   "show TRIAL",
		Short: "Show one trial: status, error, params and summaries (TRIAL: id or unique prefix)",
		Args:  cobra.ExactArgs(1),
		RunE:  func(_ *cobra.Command, args []string) error { return runsShow(g, db, args[0], asJSON) },
	}
	for _, c := range []*cobra.Command{list, show} {
		c.Flags().StringVar(&db, "db", "runs.db", "SQLite store to read")
		c.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	}
	cmd.AddCommand(list, show)
	return cmd
}

func openRead(db string) (*tracking.Store, error) {
	s, err := tracking.OpenReadOnly(db)
	if err != nil {
		return nil, badInput(err)
	}
	return s, nil
}

// trialRow is the JSON form of a trial.
type trialRow struct {
	ID         string             `json:"id"`
	Experiment string             `json:"experiment"`
	Status     string             `json:"status"`
	Seed       int64              `json:"seed"`
	Attempt    int                `json:"attempt"`
	Error      string             `json:"error,omitempty"`
	Params     map[string]string  `json:"params"`
	Summaries  map[string]float64 `json:"summaries"`
}

func rows(s *tracking.Store, name string) ([]trialRow, error) {
	exps, err := s.Experiments()
	if err != nil {
		return nil, err
	}
	var out []trialRow
	found := false
	for _, e := range exps {
		if name != "" && e.Name != name {
			continue
		}
		found = true
		ts, err := s.Trials(e.ID)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			out = append(out, trialRow{ID: t.ID, Experiment: e.Name, Status: string(t.Status), Seed: t.Seed, Attempt: t.Attempt,
				Error: t.Error, Params: t.Params, Summaries: finiteOnly(t.Summaries)})
		}
	}
	if name != "" && !found {
		return nil, badInput(fmt.Errorf("no experiment %q in the store", name))
	}
	return out, nil
}

// finiteOnly drops NaN and ±Inf, which JSON cannot carry.
func finiteOnly(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if v == v && v < 1e308 && v > -1e308 {
			out[k] = v
		}
	}
	return out
}

func runsList(g *globals, db, name string, asJSON bool) error {
	s, err := openRead(db)
	if err != nil {
		return err
	}
	defer s.Close()
	rs, err := rows(s, name)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(g, rs)
	}
	w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TRIAL\tEXPERIMENT\tSTATUS\tSEED\tPARAMS\tEVAL LOSS\tEVAL ACC\tMS/STEP")
	for _, r := range rs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", short(r.ID), r.Experiment, r.Status, r.Seed, sweptParams(r.Params),
			num(r.Summaries, "eval/loss", 4), num(r.Summaries, "eval/accuracy", 4), num(r.Summaries, "step_ms", 1))
	}
	return w.Flush()
}

// sweptParams shows the parameters a sweep varied, without the fixed
// plugin names and seed that every trial records.
func sweptParams(p map[string]string) string {
	var keys []string
	for k := range p {
		if k != "seed" && !strings.HasSuffix(k, ".plugin") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+p[k])
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func num(m map[string]float64, k string, prec int) string {
	v, ok := m[k]
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func runsShow(g *globals, db, id string, asJSON bool) error {
	s, err := openRead(db)
	if err != nil {
		return err
	}
	defer s.Close()
	rs, err := rows(s, "")
	if err != nil {
		return err
	}
	var match []trialRow
	for _, r := range rs {
		if strings.HasPrefix(r.ID, id) {
			match = append(match, r)
		}
	}
	switch {
	case len(match) == 0:
		return badInput(fmt.Errorf("no trial %q in %s", id, db))
	case len(match) > 1 && match[0].ID != match[len(match)-1].ID:
		return badInput(fmt.Errorf("%q matches %d trials: give more of the id", id, len(match)))
	}
	r := match[0]
	if asJSON {
		return writeJSON(g, r)
	}
	fmt.Fprintf(g.stdout, "trial      %s\nexperiment %s\nstatus     %s (attempt %d)\nseed       %d\n", r.ID, r.Experiment, r.Status, r.Attempt, r.Seed)
	if r.Error != "" {
		fmt.Fprintf(g.stdout, "error      %s\n", r.Error)
	}
	fmt.Fprintln(g.stdout, "params:")
	for _, k := range slices.Sorted(maps.Keys(r.Params)) {
		fmt.Fprintf(g.stdout, "  %-24s %s\n", k, r.Params[k])
	}
	fmt.Fprintln(g.stdout, "summaries:")
	for _, k := range slices.Sorted(maps.Keys(r.Summaries)) {
		fmt.Fprintf(g.stdout, "  %-24s %.6g\n", k, r.Summaries[k])
	}
	return nil
}

func writeJSON(g *globals, v any) error {
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

package reports

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/attnlab/attnlab/tracking"
)

// curveMetrics are the metrics drawn against step, in report order.
var curveMetrics = []string{"train/loss", "eval/loss", "eval/accuracy"}

// Data is what a report shows about one experiment, read from a store.
type Data struct {
	Experiment tracking.Experiment
	Env        map[string]string
	Counts     map[tracking.Status]int // trials in each status
	Trials     int                     // trials in the experiment
	Configs    []*Config               // sorted, named C1, C2, ...
	Fixed      []Param                 // params shared by every configuration, sorted by key
	Unfinished []Unfinished            // trials whose status is not finished, by configuration and seed

	// series holds the points of each curve metric by trial id.
	series map[string]map[string][]tracking.Point
}

// Unfinished is a trial that did not finish and its configuration.
type Unfinished struct {
	Trial  tracking.Trial
	Config *Config
}

// Load reads the newest experiment named name from s. An unknown name
// gives an error wrapping tracking.ErrNotFound.
func Load(s *tracking.Store, name string) (*Data, error) {
	exp, err := s.LatestExperiment(name)
	if errors.Is(err, tracking.ErrNotFound) {
		return nil, fmt.Errorf("no experiment %q in %s%s: %w", name, s.Path(), knownNames(s), tracking.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	d := &Data{Experiment: exp, series: map[string]map[string][]tracking.Point{}}
	if d.Env, err = s.Environment(exp.ID); err != nil {
		return nil, err
	}
	if d.Counts, err = s.StatusCounts(exp.ID); err != nil {
		return nil, err
	}
	trials, err := s.Trials(exp.ID)
	if err != nil {
		return nil, err
	}
	d.Trials = len(trials)
	d.Configs, d.Fixed = groupConfigs(trials)
	for _, c := range d.Configs {
		for _, t := range c.Trials {
			if t.Status != tracking.StatusFinished {
				d.Unfinished = append(d.Unfinished, Unfinished{t, c})
			}
		}
	}
	for _, key := range curveMetrics {
		if d.series[key], err = s.ExperimentMetrics(exp.ID, key); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// knownNames lists the store's experiment names for an error message.
func knownNames(s *tracking.Store) string {
	exps, err := s.Experiments()
	if err != nil || len(exps) == 0 {
		return " (it holds no experiment)"
	}
	names := map[string]bool{}
	for _, e := range exps {
		names[e.Name] = true
	}
	return " (experiments: " + strings.Join(slices.Sorted(maps.Keys(names)), ", ") + ")"
}

// statusCounts formats counts in lifecycle order, "none" when empty.
func statusCounts(counts map[tracking.Status]int) string {
	var parts []string
	for _, st := range tracking.Statuses {
		if n := counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	// Statuses this version does not know, sorted.
	var other []string
	for st, n := range counts {
		if !st.Valid() && n > 0 {
			other = append(other, fmt.Sprintf("%d %s", n, st))
		}
	}
	slices.Sort(other)
	parts = append(parts, other...)
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

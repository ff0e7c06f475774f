package harness

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/tracking"
)

// HeartbeatInterval is how often a running trial refreshes its heartbeat;
// a running trial whose heartbeat is older than StaleAfter is taken to be
// dead (its harness crashed) and is run again.
const (
	HeartbeatInterval = 2 * time.Second
	StaleAfter        = 15 * time.Second
)

// Reporter is told what a sweep does, for progress display.
type Reporter interface {
	TrialStarted(t experiments.Trial, attempt, total int)
	TrialSkipped(t experiments.Trial, why string)
	Metric(t experiments.Trial, step int, key string, value float64)
	TrialFinished(t experiments.Trial, res Result)
}

// Sweep runs an experiment's trials against a store.
type Sweep struct {
	Experiment *experiments.Experiment
	Trials     []experiments.Trial // validated
	Launcher   Launcher
	Store      *tracking.Store
	Parallel   int               // trials at once; 0: the experiment's setting
	Env        map[string]string // recorded with the experiment
	Reporter   Reporter
}

// SweepResult counts how the trials ended.
type SweepResult struct {
	ExperimentID int64
	Counts       map[string]int // status -> trials, skipped ones included
	Skipped      int            // already finished, or running elsewhere
}

// Failed reports whether any trial did not finish.
func (r SweepResult) Failed() bool {
	for st, n := range r.Counts {
		if st != StatusFinished && n > 0 {
			return true
		}
	}
	return false
}

// Run runs every trial not yet finished in the store, Parallel at a time.
// Cancelling ctx (Ctrl-C) marks running trials killed and leaves the rest
// queued; running the same sweep again resumes.
func (s *Sweep) Run(ctx context.Context) (SweepResult, error) {
	e := s.Experiment
	hash := e.ConfigHash()
	exp, _, err := s.Store.EnsureExperiment(e.Name, configYAML(e), hash)
	if err != nil {
		return SweepResult{}, err
	}
	if err := s.Store.SetEnvironment(exp.ID, s.Env); err != nil {
		return SweepResult{}, err
	}
	res := SweepResult{ExperimentID: exp.ID, Counts: map[string]int{}}
	var todo []experiments.Trial
	for _, t := range s.Trials {
		st, err := s.Store.UpsertTrial(tracking.TrialSpec{ID: t.ID, ExperimentID: exp.ID, Seed: t.Seed,
			ConfigJSON: ConfigJSON(t), Params: stringParams(t)})
		if err != nil {
			return res, err
		}
		switch st {
		case tracking.StatusFinished:
			res.Counts[StatusFinished]++
			res.Skipped++
			s.report(func(r Reporter) { r.TrialSkipped(t, "finished in an earlier run") })
			continue
		case tracking.StatusRunning:
			tr, err := s.Store.Trial(t.ID)
			if err == nil && time.Since(tr.HeartbeatAt) < StaleAfter && !(tr.PID == os.Getpid()) && !deadHere(tr.Host, tr.PID) {
				res.Counts["running elsewhere"]++
				res.Skipped++
				s.report(func(r Reporter) { r.TrialSkipped(t, fmt.Sprintf("running in process %d on %s", tr.PID, tr.Host)) })
				continue
			}
		}
		todo = append(todo, t)
	}
	par := s.Parallel
	if par <= 0 {
		par = e.Parallel
	}
	pruner := newMedianPruner(e.EarlyStop)
	var mu sync.Mutex
	work := make(chan experiments.Trial)
	var wg sync.WaitGroup
	var firstErr error
	for range max(1, par) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				status, err := s.runTrial(ctx, t, len(s.Trials), pruner)
				mu.Lock()
				res.Counts[status]++
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, t := range todo {
		if ctx.Err() != nil {
			break
		}
		select {
		case work <- t:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	if err := s.Store.Flush(); err != nil && firstErr == nil {
		firstErr = err
	}
	return res, firstErr
}

// runTrial runs one trial with its retries and records it. The error is
// for store failures only; a failing trial is a status.
func (s *Sweep) runTrial(ctx context.Context, t experiments.Trial, total int, pruner *medianPruner) (string, error) {
	spec, err := SpecFromTrial(t)
	if err != nil {
		return StatusFailed, s.Store.FinishTrial(t.ID, tracking.StatusFailed, err.Error(), nil)
	}
	for attemptLeft := t.Train.Retries; ; attemptLeft-- {
		attempt, err := s.Store.StartTrial(t.ID)
		if err != nil {
			return StatusFailed, err
		}
		s.report(func(r Reporter) { r.TrialStarted(t, attempt, total) })
		hbCtx, stopHB := context.WithCancel(ctx)
		go func() {
			tick := time.NewTicker(HeartbeatInterval)
			defer tick.Stop()
			for {
				select {
				case <-hbCtx.Done():
					return
				case <-tick.C:
					s.Store.Heartbeat(t.ID)
				}
			}
		}()
		obs := ObserverFunc(func(step int, key string, v float64) {
			s.Store.Log(t.ID, key, step, v)
			s.report(func(r Reporter) { r.Metric(t, step, key, v) })
		})
		var p Pruner
		if pruner != nil {
			p = pruner.forTrial(t.ID)
		}
		res := Run(ctx, s.Launcher, spec, obs, p)
		stopHB()
		if pruner != nil {
			pruner.done(t.ID, res.Status)
		}
		s.report(func(r Reporter) { r.TrialFinished(t, res) })
		retry := res.Status == StatusFailed && attemptLeft > 0 && ctx.Err() == nil
		if retry {
			continue
		}
		errText := ""
		if res.Err != nil {
			errText = res.Err.Error()
		}
		return res.Status, s.Store.FinishTrial(t.ID, tracking.Status(res.Status), errText, res.Summaries)
	}
}

func (s *Sweep) report(f func(Reporter)) {
	if s.Reporter != nil {
		f(s.Reporter)
	}
}

func configYAML(e *experiments.Experiment) string {
	b, err := os.ReadFile(e.File)
	if err != nil {
		return ""
	}
	return string(b)
}

func stringParams(t experiments.Trial) map[string]string {
	out := map[string]string{}
	for k, v := range t.Params {
		out[k] = fmt.Sprint(v)
	}
	out["seed"] = strconv.FormatInt(t.Seed, 10)
	out["objective.plugin"] = t.Objective.Plugin
	out["architecture.plugin"] = t.Architecture.Plugin
	out["attention.plugin"] = t.Attention.Plugin
	return out
}

// medianPruner implements median stopping (Golovin et al., "Google
// Vizier", 2017): at an evaluation after min_steps, a trial whose best
// value of the metric so far is worse than the median of the other trials'
// values at the same step is stopped.
type medianPruner struct {
	cfg     *experiments.EarlyStop
	mu      sync.Mutex
	history map[string]map[int]float64 // trial -> step -> value
}

func newMedianPruner(cfg *experiments.EarlyStop) *medianPruner {
	if cfg == nil {
		return nil
	}
	return &medianPruner{cfg: cfg, history: map[string]map[int]float64{}}
}

type trialPruner struct {
	p    *medianPruner
	id   string
	best float64
	seen bool
}

func (m *medianPruner) forTrial(id string) Pruner {
	m.mu.Lock()
	m.history[id] = map[int]float64{}
	m.mu.Unlock()
	return &trialPruner{p: m, id: id}
}

func (m *medianPruner) done(id string, status string) {
	if status == StatusFailed || status == StatusKilled {
		m.mu.Lock()
		delete(m.history, id)
		m.mu.Unlock()
	}
}

func (tp *trialPruner) Prune(step int, metrics map[string]float64) bool {
	m := tp.p
	v, ok := metrics[m.cfg.Metric]
	if !ok || math.IsNaN(v) {
		return false
	}
	better := func(a, b float64) bool {
		if m.cfg.Mode == "max" {
			return a > b
		}
		return a < b
	}
	if !tp.seen || better(v, tp.best) {
		tp.best, tp.seen = v, true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.history[tp.id][step] = v
	if step < m.cfg.MinSteps {
		return false
	}
	var others []float64
	for id, h := range m.history {
		if id == tp.id {
			continue
		}
		if o, ok := h[step]; ok {
			others = append(others, o)
		}
	}
	if len(others) < 2 {
		return false
	}
	sort.Float64s(others)
	med := median(others)
	return better(med, tp.best)
}

// deadHere reports whether the process that recorded a running trial is
// known to be gone: it ran on this host and no process has its id now.
// Then the trial need not wait for its heartbeat to go stale. A live
// process with that id (possibly another program that reused it) leaves
// the decision to the heartbeat.
func deadHere(host string, pid int) bool {
	if pid <= 0 {
		return false
	}
	if h, err := os.Hostname(); err != nil || h != host {
		return false
	}
	err := syscall.Kill(pid, 0)
	return errors.Is(err, syscall.ESRCH)
}

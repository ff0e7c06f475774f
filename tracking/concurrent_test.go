package tracking

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Eight trials log at full speed while they heartbeat and record
// summaries, another goroutine runs control operations, and a reader
// queries through the read-only API all along: no error at all ("database
// is locked" included), and every point is in the file exactly once.
func TestParallelWritersAndReader(t *testing.T) {
	const trials, points = 8, 20000
	s := newStore(t, Options{})
	exp := newTrial(t, s, "parallel", "trial-0", nil)
	for i := 1; i < trials; i++ {
		newTrial(t, s, "parallel", fmt.Sprintf("trial-%d", i), nil)
	}
	var (
		wg       sync.WaitGroup
		writers  sync.WaitGroup
		errMu    sync.Mutex
		errs     []error
		stop     atomic.Bool
		reads    atomic.Int64
		controls atomic.Int64
	)
	fail := func(err error) {
		errMu.Lock()
		errs = append(errs, err)
		errMu.Unlock()
	}
	for i := 0; i < trials; i++ {
		writers.Add(1)
		go func(id string) {
			defer writers.Done()
			if _, err := s.StartTrial(id); err != nil {
				fail(err)
				return
			}
			for step := 0; step < points/2; step++ {
				s.Log(id, "loss", step, float64(step))
				s.Log(id, "accuracy", step, float64(step)/points)
				if step%1000 == 999 {
					if err := s.Heartbeat(id); err != nil {
						fail(err)
					}
					if err := s.PutSummaries(id, map[string]float64{"steps": float64(step + 1)}); err != nil {
						fail(err)
					}
				}
			}
			if err := s.FinishTrial(id, StatusFinished, "", map[string]float64{SummaryLoss: 0}); err != nil {
				fail(err)
			}
		}(fmt.Sprintf("trial-%d", i))
	}
	wg.Add(2)
	go func() { // control operations of a scheduler
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			id := fmt.Sprintf("queued-%d", i)
			if _, err := s.UpsertTrial(TrialSpec{ID: id, ExperimentID: exp.ID, Params: map[string]string{"i": fmt.Sprint(i)}}); err != nil {
				fail(err)
			}
			if err := s.SetEnvironment(exp.ID, map[string]string{EnvCPUModel: id}); err != nil {
				fail(err)
			}
			controls.Add(1)
			time.Sleep(time.Millisecond)
		}
	}()
	go func() { // a report generator or `attnlab runs list`
		defer wg.Done()
		for !stop.Load() {
			if _, err := s.Trials(exp.ID); err != nil {
				fail(err)
			}
			if _, err := s.ExperimentMetrics(exp.ID, "loss"); err != nil {
				fail(err)
			}
			if _, err := s.Metrics("trial-3", "accuracy"); err != nil {
				fail(err)
			}
			if _, err := s.StaleRunning(exp.ID, time.Hour); err != nil {
				fail(err)
			}
			reads.Add(1)
		}
	}()
	writers.Wait()
	stop.Store(true)
	wg.Wait()
	if err := s.Flush(); err != nil {
		fail(err)
	}
	for _, err := range errs {
		t.Error(err)
		if strings.Contains(err.Error(), "locked") {
			t.Fatal("database is locked under parallel writers")
		}
	}
	t.Logf("%d reader rounds and %d control rounds during the writes", reads.Load(), controls.Load())
	if n := count(t, s, `SELECT count(*) FROM metrics`); n != trials*points {
		t.Errorf("%d metric rows, want %d", n, trials*points)
	}
	// Exactly once: every (trial, key) has steps 0..points/2-1, each once.
	rows, err := s.rdb.Query(`SELECT trial_id, key, count(*), count(DISTINCT step), min(step), max(step),
		sum(value = step) FROM metrics WHERE key = 'loss' GROUP BY trial_id, key`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	groups := 0
	for rows.Next() {
		var id, key string
		var n, distinct, lo, hi, right int
		if err := rows.Scan(&id, &key, &n, &distinct, &lo, &hi, &right); err != nil {
			t.Fatal(err)
		}
		if n != points/2 || distinct != n || lo != 0 || hi != points/2-1 || right != n {
			t.Errorf("%s %s: %d rows, %d distinct steps in [%d, %d], %d right values", id, key, n, distinct, lo, hi, right)
		}
		groups++
	}
	if groups != trials {
		t.Errorf("%d trials have loss rows, want %d", groups, trials)
	}
	if c, err := s.StatusCounts(exp.ID); err != nil || c[StatusFinished] != trials {
		t.Errorf("StatusCounts = %v, %v", c, err)
	}
}

// Two Stores on one file stand for two processes (two sweeps sharing
// runs.db): their writers take turns through BEGIN IMMEDIATE and the busy
// timeout, and neither sees "database is locked".
func TestTwoWritersOnOneFile(t *testing.T) {
	const points = 5000
	a := newStore(t, Options{})
	b, err := Open(a.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	newTrial(t, a, "shared", "from-a", nil)
	newTrial(t, b, "shared", "from-b", nil)
	for _, id := range []string{"from-a", "from-b"} {
		if _, err := a.StartTrial(id); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, w := range []struct {
		s  *Store
		id string
	}{{a, "from-a"}, {b, "from-b"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for step := 0; step < points; step++ {
				w.s.Log(w.id, "loss", step, 1)
				if step%500 == 0 {
					if err := w.s.Heartbeat(w.id); err != nil {
						t.Error(err)
					}
				}
			}
			if err := w.s.Flush(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := count(t, a, `SELECT count(*) FROM metrics`); n != 2*points {
		t.Errorf("%d rows, want %d", n, 2*points)
	}
}

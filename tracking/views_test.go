package tracking

import (
	"database/sql"
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// viewStore holds two finished trials and one that diverged before it
// recorded summaries.
func viewStore(t *testing.T) (*Store, Experiment) {
	s := newStore(t, Options{})
	exp := newTrial(t, s, "views", "a", map[string]string{"train.lr": "0.001", "attention.plugin": "full"})
	newTrial(t, s, "views", "b", map[string]string{"train.lr": "0.01", "attention.plugin": "flash"})
	newTrial(t, s, "views", "c", map[string]string{"train.lr": "1", "attention.plugin": "full"})
	for _, id := range []string{"a", "b", "c"} {
		if _, err := s.StartTrial(id); err != nil {
			t.Fatal(err)
		}
		for step := 0; step < 5; step++ {
			s.Log(id, "loss", step*10, float64(5-step))
			s.Log(id, "accuracy", step*10, float64(step)/10)
		}
	}
	s.Log("c", "loss", 50, math.NaN())
	if err := s.FinishTrial("a", StatusFinished, "", map[string]float64{SummaryLoss: 0.5, SummaryAccuracy: 0.9}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishTrial("b", StatusFinished, "", map[string]float64{SummaryLoss: 0.7, SummaryAccuracy: 0.8}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishTrial("c", StatusDiverged, "loss is NaN at step 50", nil); err != nil {
		t.Fatal(err)
	}
	return s, exp
}

func TestTrialSummaryView(t *testing.T) {
	s, _ := viewStore(t)
	rows, err := s.rdb.Query(`SELECT experiment, trial_id, status, seed, attempt, error, params, loss, accuracy,
		summaries, started, finished, duration_s FROM trial_summary ORDER BY trial_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type row struct {
		exp, id, status   string
		seed, attempt     int
		errText, params   string
		loss, acc         sql.NullFloat64
		sums              sql.NullString
		started, finished string
		duration          float64
	}
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.exp, &r.id, &r.status, &r.seed, &r.attempt, &r.errText, &r.params, &r.loss, &r.acc,
			&r.sums, &r.started, &r.finished, &r.duration); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 3 {
		t.Fatalf("%d rows, want one per trial", len(got))
	}
	a, c := got[0], got[2]
	var params map[string]string
	if err := json.Unmarshal([]byte(a.params), &params); err != nil ||
		!reflect.DeepEqual(params, map[string]string{"train.lr": "0.001", "attention.plugin": "full"}) {
		t.Errorf("params of a = %s (%v)", a.params, err)
	}
	if a.exp != "views" || a.status != "finished" || a.seed != 7 || a.attempt != 1 ||
		a.loss.Float64 != 0.5 || a.acc.Float64 != 0.9 || len(a.started) != len("2006-01-02T15:04:05.000Z") ||
		a.duration < 0 {
		t.Errorf("row a = %+v", a)
	}
	// c has no summaries: loss and accuracy fall back to the last logged
	// values; its last loss is NaN, which SQL sees as NULL.
	if c.status != "diverged" || c.errText != "loss is NaN at step 50" || c.loss.Valid || c.acc.Float64 != 0.4 {
		t.Errorf("row c = %+v", c)
	}
}

func TestMetricLastView(t *testing.T) {
	s, _ := viewStore(t)
	var step, points int
	var value float64
	if err := s.rdb.QueryRow(`SELECT step, value, points FROM metric_last WHERE trial_id = 'a' AND key = 'loss'`).
		Scan(&step, &value, &points); err != nil {
		t.Fatal(err)
	}
	if step != 40 || value != 1 || points != 5 {
		t.Errorf("metric_last(a, loss) = step %d value %v points %d; want 40, 1, 5", step, value, points)
	}
	if n := count(t, s, `SELECT count(*) FROM metric_last`); n != 6 {
		t.Errorf("%d rows in metric_last, want 3 trials x 2 keys", n)
	}
}

func TestParamSummaryView(t *testing.T) {
	s, _ := viewStore(t)
	// Long format: one row per trial, param and summary (c has none).
	if n := count(t, s, `SELECT count(*) FROM param_summary`); n != 2*2*2 {
		t.Errorf("%d rows, want 2 trials x 2 params x 2 summaries", n)
	}
	var lr, acc float64
	if err := s.rdb.QueryRow(`SELECT param_real, value FROM param_summary
		WHERE param = 'train.lr' AND summary = 'accuracy' AND trial_id = 'b'`).Scan(&lr, &acc); err != nil {
		t.Fatal(err)
	}
	if lr != 0.01 || acc != 0.8 {
		t.Errorf("lr %v accuracy %v; want 0.01, 0.8", lr, acc)
	}
	if n := count(t, s, `SELECT count(*) FROM metric_long WHERE experiment = 'views' AND key = 'loss'`); n != 16 {
		t.Errorf("%d loss rows in metric_long, want 3 x 5 + 1", n)
	}
}

func TestExperimentMetrics(t *testing.T) {
	s, exp := viewStore(t)
	series, err := s.ExperimentMetrics(exp.ID, "loss")
	if err != nil || len(series) != 3 || len(series["a"]) != 5 || len(series["c"]) != 6 {
		t.Fatalf("ExperimentMetrics = %v, %v", series, err)
	}
	if last := series["c"][5]; last.Step != 50 || !math.IsNaN(last.Value) {
		t.Errorf("last point of c = %+v, want NaN at step 50", last)
	}
	if c, err := s.StatusCounts(exp.ID); err != nil || c[StatusFinished] != 2 || c[StatusDiverged] != 1 {
		t.Errorf("StatusCounts = %v, %v", c, err)
	}
}

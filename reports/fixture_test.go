package reports

import (
	"database/sql"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/attnlab/attnlab/tracking"
)

// fixtureTrial is one trial of a test store: its params, status, and the
// steps it logged before stopping (diverge: the step from which its train
// loss is NaN, then Inf).
type fixtureTrial struct {
	id      string
	scale   string
	seqLen  int
	seed    int64
	status  tracking.Status
	err     string
	steps   int // train steps logged (0..steps-1); eval every 10
	diverge int // -1: never
}

// zooTrials: two attention scales × two sequence lengths × two seeds, with
// a diverged, a failed, a diverged-from-the-start and a killed trial.
var zooTrials = []fixtureTrial{
	{"0a1f5e2d9c3b4a01", "0", 64, 1, tracking.StatusFinished, "", 60, -1},
	{"1b2e6f3a0d4c5b02", "0", 64, 2, tracking.StatusFinished, "", 60, -1},
	{"2c3d7a4b1e5f6c03", "0", 128, 1, tracking.StatusFinished, "", 60, -1},
	{"3d4c8b5c2f6a7d04", "0", 128, 2, tracking.StatusDiverged, "loss NaN at step 30", 35, 30},
	{"4e5b9c6d3a7b8e05", "0.5", 64, 1, tracking.StatusFailed, `attention plugin "full": Forward layer 0: no answer within 2s`, 0, -1},
	{"5f6aad7e4b8c9f06", "0.5", 64, 2, tracking.StatusDiverged, "loss NaN at step 0", 4, 0},
	{"6a7fbe8f5c9dae07", "0.5", 128, 1, tracking.StatusFinished, "", 60, -1},
	{"7b8ecf9a6daebf08", "0.5", 128, 2, tracking.StatusKilled, "interrupted | by SIGINT", 25, -1},
}

var zooEnv = map[string]string{
	tracking.EnvGitCommit: "4f2c0a1b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b", tracking.EnvGitDirty: "false",
	tracking.EnvGoVersion: "go1.26.0", tracking.EnvOSArch: "linux/amd64",
	tracking.EnvCPUModel: "Example CPU 8-Core @ 3.0GHz", tracking.EnvAttnlabVersion: "0.1.0",
}

// buildStore writes an experiment named name holding trials into a new
// store and returns its path. The experiment's creation time is fixed so
// reports of it are reproducible.
func buildStore(t *testing.T, name string, trials []fixtureTrial, seqLenParam bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "runs.db")
	s, err := tracking.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	exp, _, err := s.EnsureExperiment(name, "name: "+name+"\n", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetEnvironment(exp.ID, zooEnv); err != nil {
		t.Fatal(err)
	}
	for _, tr := range trials {
		params := map[string]string{"seed": fmt.Sprint(tr.seed), "attention.scale": tr.scale,
			"objective.plugin": "causal-lm", "architecture.plugin": "transformer", "attention.plugin": "full"}
		if seqLenParam {
			params["objective.seq_len"] = fmt.Sprint(tr.seqLen)
		}
		cfg := fmt.Sprintf(`{"seed":%d,"objective":{"Plugin":"causal-lm","Params":{"dataset":"copy","seq_len":%d}}}`, tr.seed, tr.seqLen)
		if _, err := s.UpsertTrial(tracking.TrialSpec{ID: tr.id, ExperimentID: exp.ID, Seed: tr.seed, ConfigJSON: cfg, Params: params}); err != nil {
			t.Fatal(err)
		}
		if tr.status == tracking.StatusQueued {
			continue
		}
		if _, err := s.StartTrial(tr.id); err != nil {
			t.Fatal(err)
		}
		logFixture(s, tr)
		if tr.status == tracking.StatusRunning {
			continue
		}
		if err := s.FinishTrial(tr.id, tr.status, tr.err, fixtureSummaries(tr)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE experiments SET created_at = 1735732800000`); err != nil { // 2025-01-01 12:00 UTC
		t.Fatal(err)
	}
	return path
}

// fixtureLoss is a smooth made-up loss curve: lower for seed 1, higher for
// the sharper scale.
func fixtureLoss(tr fixtureTrial, step int) float64 {
	off := 0.05 * float64(tr.seed)
	if tr.scale != "0" {
		off += 0.15
	}
	return 4*math.Exp(-float64(step)/float64(10+4*tr.seed)) + 0.1 + off
}

func logFixture(s *tracking.Store, tr fixtureTrial) {
	for step := range tr.steps {
		loss := fixtureLoss(tr, step)
		if tr.diverge >= 0 && step >= tr.diverge {
			loss = math.NaN()
			if step == tr.steps-1 {
				loss = math.Inf(1)
			}
		}
		s.Log(tr.id, "train/loss", step, loss)
		s.Log(tr.id, "train/accuracy", step, 1-loss/5)
		if (step+1)%10 == 0 && (tr.diverge < 0 || step < tr.diverge) {
			s.Log(tr.id, "eval/loss", step, loss+0.05)
			s.Log(tr.id, "eval/accuracy", step, 1-(loss+0.05)/5)
		}
	}
}

func fixtureSummaries(tr fixtureTrial) map[string]float64 {
	if tr.steps == 0 {
		return nil
	}
	ms := 10 * float64(tr.seqLen) / 64 * (1 + 0.5*float64(len(tr.scale)-1)) * (1 + 0.03*float64(tr.seed))
	sum := map[string]float64{"step_ms": ms, "tokens_per_s": 8 * float64(tr.seqLen) / (ms / 1000),
		"peak_rss_mb": 90 + float64(tr.seqLen)/4 + float64(tr.seed), "steps": float64(tr.steps)}
	if tr.status == tracking.StatusFinished {
		last := fixtureLoss(tr, tr.steps-1)
		sum["train/loss"] = last
		sum["eval/loss"] = last + 0.05
		sum["eval/accuracy"] = 1 - (last+0.05)/5
	}
	return sum
}

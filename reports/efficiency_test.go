package reports

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/tracking"
)

// effTrial is one trial of an efficiency sweep: attention plugin, length,
// seed, optionally a swept architecture.layers, its status and the speed
// and memory it recorded.
type effTrial struct {
	id      string
	plugin  string
	seqLen  int
	seed    int64
	layers  int // 0: not a param
	status  tracking.Status
	err     string
	stepMS  float64
	rssMB   float64
	skipped bool // no summaries (it failed before its first step)
}

// lraTrials fabricate a Long Range Arena efficiency sweep: four variants at
// three lengths, one seed (two for performer at 1024). Full attention runs
// out of memory at 4096, so flash there has no ratio; linformer fails at
// 2048.
var lraTrials = []effTrial{
	{"e001", "full", 1024, 1, 0, tracking.StatusFinished, "", 200, 400, false},
	{"e002", "full", 2048, 1, 0, tracking.StatusFinished, "", 800, 1400, false},
	{"e003", "full", 4096, 1, 0, tracking.StatusFailed, `architecture plugin "transformer" exited: signal: killed (out of memory)`, 0, 0, true},
	{"e004", "flash", 1024, 1, 0, tracking.StatusFinished, "", 180, 150, false},
	{"e005", "flash", 2048, 1, 0, tracking.StatusFinished, "", 700, 220, false},
	{"e006", "flash", 4096, 1, 0, tracking.StatusFinished, "", 2900, 380, false},
	{"e007", "linformer", 1024, 1, 0, tracking.StatusFinished, "", 50, 120, false},
	{"e008", "linformer", 2048, 1, 0, tracking.StatusFailed, `attention plugin "linformer": Init: k = 128`, 0, 0, true},
	{"e009", "linformer", 4096, 1, 0, tracking.StatusFinished, "", 190, 260, false},
	{"e010", "performer", 1024, 1, 0, tracking.StatusFinished, "", 60, 130, false},
	{"e011", "performer", 1024, 2, 0, tracking.StatusFinished, "", 70, 134, false},
	{"e012", "performer", 2048, 1, 0, tracking.StatusFinished, "", 120, 170, false},
	{"e013", "performer", 4096, 1, 0, tracking.StatusFinished, "", 250, 250, false},
}

// buildEffStore writes an experiment of efficiency trials into a new
// store and returns its path; its creation time is fixed.
func buildEffStore(t *testing.T, name string, trials []effTrial) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "runs.db")
	s, err := tracking.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	exp, _, err := s.EnsureExperiment(name, "name: "+name+"\n", "2c26b46b68ffc68ff99b453c1d30413413422d70")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetEnvironment(exp.ID, zooEnv); err != nil {
		t.Fatal(err)
	}
	for _, tr := range trials {
		params := map[string]string{"seed": fmt.Sprint(tr.seed), "objective.plugin": "classify", "architecture.plugin": "transformer",
			"attention.plugin": tr.plugin, "objective.seq_len": fmt.Sprint(tr.seqLen)}
		if tr.layers > 0 {
			params["architecture.layers"] = fmt.Sprint(tr.layers)
		}
		cfg := fmt.Sprintf(`{"seed":%d,"objective":{"Plugin":"classify","Params":{"dataset":"text","seq_len":%d}},"attention":{"Plugin":%q}}`, tr.seed, tr.seqLen, tr.plugin)
		if _, err := s.UpsertTrial(tracking.TrialSpec{ID: tr.id, ExperimentID: exp.ID, Seed: tr.seed, ConfigJSON: cfg, Params: params}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartTrial(tr.id); err != nil {
			t.Fatal(err)
		}
		var sum map[string]float64
		if !tr.skipped {
			for step := range 4 {
				s.Log(tr.id, "train/loss", step, 0.7-0.01*float64(step))
			}
			sum = map[string]float64{"step_ms": tr.stepMS, "peak_rss_mb": tr.rssMB,
				"tokens_per_s": 4 * float64(tr.seqLen) / (tr.stepMS / 1000), "eval/loss": 0.69, "eval/accuracy": 0.5, "steps": 4}
		}
		if err := s.FinishTrial(tr.id, tr.status, tr.err, sum); err != nil {
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

func TestEfficiencyTableGolden(t *testing.T) {
	dir, _ := report(t, buildEffStore(t, "lra-efficiency", lraTrials), "lra-efficiency")
	md := read(t, filepath.Join(dir, "report.md"))
	golden(t, "lra-efficiency.md.golden", md)
	html := string(read(t, filepath.Join(dir, "report.html")))
	for _, want := range []string{
		"<h2>Efficiency</h2>",
		`<td>attention.plugin=full</td><td class="num">5.00</td><td class="num">1.25</td><td class="num">-</td>`,
		`<td class="num">20.0 (4.0×)</td>`,                               // linformer at 1024: 1000/50 against 1000/200
		`<td class="num">120 MiB (0.3×)</td>`,                            // its memory: 120 against 400
		`<td class="num">0.34</td></tr>`,                                 // flash at 4096: full failed there, no ratio
		`signal: killed (out of memory)</td>`,                            // the failure, listed as before
		`<td class="num">15.4 (3.1×)</td>`,                               // performer at 1024: two seeds, 65 ms on average
		`<td class="num">132 MiB (0.33×)</td>`,                           // and 132 MiB
		`<td class="num">220 MiB (0.16×)</td>`,                           // flash at 2048: 220 against 1400
		`<td class="num">8.33 (6.7×)</td><td class="num">4.00</td></tr>`, // performer at 2048, and 4096 without full
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// Each row's ratios are to the full-attention row with the same params
// outside the attention section; a row with no such single row shows none.
func TestEfficiencyReferences(t *testing.T) {
	var trials []effTrial
	n := 0
	for _, layers := range []int{1, 2} {
		for _, plugin := range []string{"full", "linformer"} {
			for _, l := range []int{512, 1024} {
				if plugin == "full" && layers == 2 {
					continue // linformer with 2 layers has no full attention to compare with
				}
				n++
				ms := float64(l*layers) / 10
				if plugin == "linformer" {
					ms /= 4
				}
				trials = append(trials, effTrial{fmt.Sprintf("r%03d", n), plugin, l, 1, layers, tracking.StatusFinished, "", ms, 100, false})
			}
		}
	}
	dir, _ := report(t, buildEffStore(t, "refs", trials), "refs")
	md := string(read(t, filepath.Join(dir, "report.md")))
	for _, want := range []string{
		"| architecture.layers=1 attention.plugin=full | 19.5 | 9.77 |",
		"| architecture.layers=1 attention.plugin=linformer | 78.1 (4.0×) | 39.1 (4.0×) |",
		"| architecture.layers=2 attention.plugin=linformer | 39.1 | 19.5 |",
		"No ratios in the rows of C5: no single full-attention row with the same other parameters.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
}

// Without two sequence lengths, or without a varying attention param,
// there is no efficiency table.
func TestEfficiencyOnlyWhenAttentionAndLengthVary(t *testing.T) {
	for _, c := range []struct {
		name   string
		trials []effTrial
	}{
		{"one length", []effTrial{
			{"a1", "full", 1024, 1, 0, tracking.StatusFinished, "", 100, 100, false},
			{"a2", "flash", 1024, 1, 0, tracking.StatusFinished, "", 90, 50, false}}},
		{"one attention", []effTrial{
			{"b1", "full", 1024, 1, 0, tracking.StatusFinished, "", 100, 100, false},
			{"b2", "full", 2048, 1, 0, tracking.StatusFinished, "", 400, 300, false}}},
	} {
		dir, _ := report(t, buildEffStore(t, "x", c.trials), "x")
		if md := string(read(t, filepath.Join(dir, "report.md"))); strings.Contains(md, "## Efficiency") {
			t.Errorf("%s: report.md has an efficiency table:\n%s", c.name, md)
		}
		if html := string(read(t, filepath.Join(dir, "report.html"))); strings.Contains(html, "<h2>Efficiency</h2>") {
			t.Errorf("%s: report.html has an efficiency table", c.name)
		}
	}
}

package experiments

import (
	"os"
	"testing"
)

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ids(ts []Trial) (ids, configIDs []string) {
	for _, t := range ts {
		ids = append(ids, t.ID)
		configIDs = append(configIDs, t.ConfigID)
	}
	return ids, configIDs
}

func TestTrialIDStability(t *testing.T) {
	base := mustTrials(t, mustLoad(t, "grid.yaml", nil, nil))
	baseIDs, baseConfigIDs := ids(base)

	seen := map[string]bool{}
	for i, tr := range base {
		if seen[tr.ID] {
			t.Errorf("trial %d: duplicate ID %s", i, tr.ID)
		}
		seen[tr.ID] = true
		if len(tr.ID) != 32 {
			t.Errorf("trial %d: ID %q is not 16 bytes of hex", i, tr.ID)
		}
	}
	// The repeats of a configuration share a ConfigID and differ in ID.
	if base[0].ConfigID != base[4].ConfigID || base[0].ID == base[4].ID || base[0].ConfigID == base[1].ConfigID {
		t.Errorf("ConfigIDs %v: want trials 0 and 4 (repeats of config 0) equal, 0 and 1 different", baseConfigIDs)
	}

	same := []struct {
		name      string
		file      string
		overrides []string
	}{
		{"reordered keys, other formatting, runtime keys changed", "grid_reordered.yaml", nil},
		{"runtime keys changed by --set", "grid.yaml", []string{"train.threads=8", "train.timeout=2h", "train.retries=0", "parallel=1"}},
		{"a value set to what it was", "grid.yaml", []string{"train.lr=0.001", "architecture.layers=2.0"}},
	}
	for _, c := range same {
		got, _ := ids(mustTrials(t, mustLoad(t, c.file, c.overrides, nil)))
		for i := range baseIDs {
			if got[i] != baseIDs[i] {
				t.Errorf("%s: trial %d ID %s, want %s", c.name, i, got[i], baseIDs[i])
			}
		}
	}

	differ := []struct {
		name      string
		overrides []string
	}{
		{"lr", []string{"train.lr=3e-4"}},
		{"steps", []string{"train.steps=501"}},
		{"a plugin parameter", []string{"architecture.d_model=64"}},
		{"a new plugin parameter", []string{"attention.dropout=0"}},
		{"eval settings", []string{"train.eval_every=25"}},
	}
	for _, c := range differ {
		got, _ := ids(mustTrials(t, mustLoad(t, "grid.yaml", c.overrides, nil)))
		for i := range baseIDs {
			if got[i] == baseIDs[i] {
				t.Errorf("changed %s: trial %d keeps ID %s", c.name, i, got[i])
			}
		}
	}

	// Another base seed: other IDs, same configurations.
	got, gotConfig := ids(mustTrials(t, mustLoad(t, "grid.yaml", []string{"seed=2"}, nil)))
	for i := range baseIDs {
		if got[i] == baseIDs[i] || gotConfig[i] != baseConfigIDs[i] {
			t.Errorf("seed 2: trial %d ID %s (seed 1: %s), config ID %s (seed 1: %s)", i, got[i], baseIDs[i], gotConfig[i], baseConfigIDs[i])
		}
	}
	// Seed 2's first repeat is seed 1's second: the same trials.
	if got[0] != baseIDs[4] {
		t.Errorf("seed 2 repeat 0 (ID %s) should equal seed 1 repeat 1 (ID %s)", got[0], baseIDs[4])
	}
}

// TestTrialIDValue pins one ID, so that a change in the canonical form
// (which would orphan every stored trial) is a deliberate one.
func TestTrialIDValue(t *testing.T) {
	tr := Trial{
		Seed:         1,
		Objective:    Component{Plugin: "causal-lm", Params: map[string]any{"dataset": "copy", "seq_len": int64(256)}},
		Architecture: Component{Plugin: "transformer", Params: map[string]any{}},
		Train:        DefaultTrain(),
	}
	tr.identify()
	golden(t, "id.golden", tr.ID+" "+tr.ConfigID+"\n")
}

package experiments

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./experiments -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n%s", file, diff(string(want), got))
	}
}

// diff lists the lines that differ, for golden failures.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}

// dumpTrials renders trials for golden files, one block per trial.
func dumpTrials(ts []Trial) string {
	var b strings.Builder
	for _, t := range ts {
		fmt.Fprintf(&b, "trial %d config %d repeat %d seed %d resolved %v\n", t.Index, t.Config, t.Repeat, t.Seed, t.Resolved)
		fmt.Fprintf(&b, "  id           %s\n  config_id    %s\n", t.ID, t.ConfigID)
		fmt.Fprintf(&b, "  params       %s\n", showParams(t.Params))
		for _, c := range []struct {
			name string
			c    Component
		}{{"objective", t.Objective}, {"architecture", t.Architecture}, {"attention", t.Attention}} {
			fmt.Fprintf(&b, "  %-12s %s %s\n", c.name, c.c.Plugin, showTyped(c.c.Params))
		}
		fmt.Fprintf(&b, "  train        %s\n", showTyped(t.Train.Values()))
	}
	return b.String()
}

// showTyped renders a map with each value's Go type, so that goldens
// catch an int turning into a float.
func showTyped(m map[string]any) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s: %s (%T)", k, show(m[k]), m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// dumpError renders an error's problems one per line, each checked to
// be (or, for the "more" line, to accompany) a *ConfigError.
func dumpError(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return "no error\n"
	}
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Errorf("%v: not a *ConfigError", err)
	}
	return err.Error() + "\n"
}

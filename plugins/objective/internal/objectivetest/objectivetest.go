// Package objectivetest holds the helpers the objectives' tests share:
// tolerance comparison, temporary files, central finite differences of a
// loss, and the checks of Describe and Batch that every objective passes
// the same way.
package objectivetest

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/plugins/sdk"
)

// Within reports whether got is within abs + rel·|want| of want.
func Within(got, want, abs, rel float64) bool {
	return math.Abs(got-want) <= abs+rel*math.Abs(want)
}

// WriteFile writes data to name in a temporary directory and returns its
// path.
func WriteFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// MaxFDError returns the largest difference between grad[i] and the
// central finite difference (loss(x+h) - loss(x-h)) / (2h) of loss in
// x[i], over the indices i; loss reads x, which is restored after each
// index. The step is measured in float32 as x±h are, so rounding of the
// step does not count as error.
func MaxFDError(loss func() float32, x, grad []float32, indices []int, h float32) float64 {
	worst := 0.0
	for _, i := range indices {
		xi := x[i]
		x[i] = xi + h
		lp := loss()
		x[i] = xi - h
		lm := loss()
		x[i] = xi
		fd := (float64(lp) - float64(lm)) / (float64(xi+h) - float64(xi-h))
		worst = max(worst, math.Abs(fd-float64(grad[i])))
	}
	return worst
}

// Rows returns the indices of rows rows of width columns of a row-major
// matrix, in the order given.
func Rows(width int, rows ...int) []int {
	var idx []int
	for _, r := range rows {
		for c := range width {
			idx = append(idx, r*width+c)
		}
	}
	return idx
}

// CheckDescribe checks that d describes objective name at version 1.0.0,
// that its defaults are exactly want, and that every parameter has a
// one-line doc.
func CheckDescribe(t *testing.T, d sdk.Description, name string, want sdk.Config) {
	t.Helper()
	if d.Kind != sdk.KindObjective || d.Name != name || d.Version != "1.0.0" {
		t.Fatalf("Describe() = %s %q %q, want objective %q \"1.0.0\"", d.Kind, d.Name, d.Version, name)
	}
	cfg, err := d.Resolve(nil)
	if err != nil {
		t.Fatalf("Resolve(defaults): %v", err)
	}
	if len(cfg) != len(want) {
		t.Fatalf("defaults %v, want %v", cfg, want)
	}
	for k, v := range want {
		if cfg[k] != v {
			t.Errorf("default %s = %v (%T), want %v", k, cfg[k], cfg[k], v)
		}
	}
	for _, p := range d.Params {
		if p.Doc == "" || strings.Contains(p.Doc, "\n") {
			t.Errorf("parameter %s: doc %q must be one non-empty line", p.Name, p.Doc)
		}
	}
}

// CheckBatchRejects checks that Batch fails on fresh, never initialised,
// and on ready, initialised, for an unknown split and a negative index.
func CheckBatchRejects(t *testing.T, fresh, ready sdk.Objective) {
	t.Helper()
	if _, err := fresh.Batch(sdk.Train, 0); err == nil || !strings.Contains(err.Error(), "before a successful Init") {
		t.Errorf("Batch before Init: %v", err)
	}
	if _, err := ready.Batch("test", 0); err == nil || !strings.Contains(err.Error(), `unknown split "test"`) {
		t.Errorf("Batch(test): %v", err)
	}
	if _, err := ready.Batch(sdk.Train, -1); err == nil || !strings.Contains(err.Error(), "-1 must not be negative") {
		t.Errorf("Batch(-1): %v", err)
	}
}

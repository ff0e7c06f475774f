package reports

import (
	"bytes"
	"errors"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/tracking"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// report loads experiment name from the store at db and writes its report
// into a new directory, which it returns with the paths written.
func report(t *testing.T, db, name string) (string, []string) {
	t.Helper()
	s, err := tracking.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := Load(s, name)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "report")
	files, err := d.Write(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return dir, files
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReportMarkdownGolden(t *testing.T) {
	dir, files := report(t, buildStore(t, "zoo", zooTrials, true), "zoo")
	golden(t, "zoo.md.golden", read(t, filepath.Join(dir, "report.md")))
	if len(files) != 2+2*6 {
		t.Errorf("wrote %d files, want report.md, report.html and 6 plots as PNG and SVG: %v", len(files), files)
	}
}

// TestReportFiles checks every plot decodes as PNG or starts as SVG, and
// that report.html embeds its images and loads nothing from outside.
func TestReportFiles(t *testing.T) {
	dir, files := report(t, buildStore(t, "zoo", zooTrials, true), "zoo")
	for _, f := range files {
		b := read(t, f)
		if len(b) == 0 {
			t.Errorf("%s is empty", f)
		}
		switch filepath.Ext(f) {
		case ".png":
			if _, err := png.Decode(bytes.NewReader(b)); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		case ".svg":
			if !bytes.HasPrefix(b, []byte("<?xml")) && !bytes.HasPrefix(b, []byte("<svg")) {
				t.Errorf("%s starts with %q, want an SVG document", f, b[:min(len(b), 20)])
			}
			if bytes.Contains(b, []byte("NaN")) || bytes.Contains(b, []byte("Inf")) {
				t.Errorf("%s has a NaN or Inf coordinate", f)
			}
		}
	}
	html := string(read(t, filepath.Join(dir, "report.html")))
	if n := strings.Count(html, `src="data:image/png;base64,`); n != 6 {
		t.Errorf("report.html embeds %d PNG data URIs, want 6", n)
	}
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:|//)|url\(\s*["']?(https?:|//)|@import|https?://`).FindString(html); m != "" {
		t.Errorf("report.html refers to an external resource: %q", m)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "*", ".*.tmp")); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
	// A report of a store with the same content is the same, byte for byte.
	dir2, files2 := report(t, buildStore(t, "zoo", zooTrials, true), "zoo")
	if len(files2) != len(files) {
		t.Fatalf("second report wrote %d files, first %d", len(files2), len(files))
	}
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		if !bytes.Equal(read(t, f), read(t, filepath.Join(dir2, rel))) {
			t.Errorf("%s differs between two reports of the same data", rel)
		}
	}
}

// TestRewriteRemovesStalePlots writes a report over an older one that had
// more plots: the plots the new one does not draw are removed.
func TestRewriteRemovesStalePlots(t *testing.T) {
	dir, _ := report(t, buildStore(t, "zoo", zooTrials, true), "zoo")
	s, err := tracking.OpenReadOnly(buildStore(t, "zoo", nil, true))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := Load(s, "zoo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "plots", "*")); len(left) != 0 {
		t.Errorf("stale plots left: %v", left)
	}
}

// TestReportDegenerate renders experiments with nothing to plot.
func TestReportDegenerate(t *testing.T) {
	failedOnly := []fixtureTrial{
		{"aa01", "0", 64, 1, tracking.StatusFailed, "plugin crashed\nwith a stack trace", 0, -1},
		{"aa02", "0", 64, 2, tracking.StatusDiverged, "loss diverged at step 0", 3, 0},
		{"aa03", "0.5", 128, 1, tracking.StatusQueued, "", 0, -1},
		{"aa04", "0.5", 128, 2, tracking.StatusRunning, "", 5, -1},
	}
	for _, c := range []struct {
		name   string
		trials []fixtureTrial
		want   []string
	}{
		{"empty", nil, []string{"The experiment has no trials.", "No trials, so no results.", "Not drawn: no configuration has a finite train/loss value."}},
		{"failed", failedOnly, []string{"4 of 4 trials did not finish", "plugin crashed with a stack trace", "not started yet",
			"C1 not plotted: no finite value.", "| C1 | attention.scale=0 | 0/2 | - | - |",
			"Not drawn: no configuration has a finished trial with a positive value."}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Without objective.seq_len in the params, the length comes from the resolved config.
			dir, files := report(t, buildStore(t, c.name, c.trials, false), c.name)
			md := string(read(t, filepath.Join(dir, "report.md")))
			for _, w := range c.want {
				if !strings.Contains(md, w) {
					t.Errorf("report.md lacks %q:\n%s", w, md)
				}
			}
			for _, line := range strings.Split(md, "\n") {
				if strings.HasPrefix(line, "| ") && (strings.Contains(line, "NaN") || strings.Contains(line, "Inf")) {
					t.Errorf("report.md shows a non-finite number: %s", line)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "report.html")); err != nil {
				t.Error(err)
			}
			for _, f := range files {
				if len(read(t, f)) == 0 {
					t.Errorf("%s is empty", f)
				}
			}
		})
	}
}

func TestLoadUnknownExperiment(t *testing.T) {
	s, err := tracking.OpenReadOnly(buildStore(t, "zoo", nil, true))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Load(s, "nope")
	if !errors.Is(err, tracking.ErrNotFound) || !strings.Contains(err.Error(), "experiments: zoo") {
		t.Errorf("Load(nope) = %v, want not found naming the experiments there", err)
	}
}

func TestWriteUnwritable(t *testing.T) {
	s, err := tracking.OpenReadOnly(buildStore(t, "zoo", nil, true))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := Load(s, "zoo")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var oe *OutputError
	if _, err := d.Write(filepath.Join(file, "report"), Options{}); !errors.As(err, &oe) {
		t.Errorf("Write under a file = %v, want an OutputError", err)
	}
}

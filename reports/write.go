package reports

import (
	"fmt"
	"os"
	"path/filepath"
)

// OutputError is a failure to create or write the report's directory or
// files.
type OutputError struct {
	Path string
	Err  error
}

func (e *OutputError) Error() string {
	return fmt.Sprintf("cannot write the report to %s: %v", e.Path, e.Err)
}

func (e *OutputError) Unwrap() error { return e.Err }

// plotNames are the stems of every plot a report can draw: Write removes
// the files of those a new report leaves out, so no stale plot stays.
var plotNames = []string{"train_loss", "eval_loss", "eval_accuracy", "throughput_vs_seq_len", "memory_vs_seq_len", "accuracy_vs_throughput"}

// Write renders the report into dir (created if needed): the plots as
// plots/NAME.png and plots/NAME.svg, then report.md, then report.html. It
// returns the paths written, report.md and report.html first. Each file
// is written to a temporary file and renamed into place.
func (d *Data) Write(dir string, opt Options) ([]string, error) {
	plots := filepath.Join(dir, "plots")
	if err := os.MkdirAll(plots, 0o755); err != nil {
		return nil, &OutputError{dir, err}
	}
	figs := d.Figures(opt)
	html, err := d.HTML(figs)
	if err != nil {
		return nil, err
	}
	md := filepath.Join(dir, "report.md")
	page := filepath.Join(dir, "report.html")
	var plotFiles []string
	drawn := map[string]bool{}
	for _, f := range figs {
		if f.Missing != "" {
			continue
		}
		drawn[f.Name] = true
		for _, out := range []struct {
			ext  string
			data []byte
		}{{".png", f.PNG}, {".svg", f.SVG}} {
			path := filepath.Join(plots, f.Name+out.ext)
			if err := writeAtomic(path, out.data); err != nil {
				return nil, err
			}
			plotFiles = append(plotFiles, path)
		}
	}
	for _, name := range plotNames {
		if !drawn[name] {
			for _, ext := range []string{".png", ".svg"} {
				if err := os.Remove(filepath.Join(plots, name+ext)); err != nil && !os.IsNotExist(err) {
					return nil, &OutputError{plots, err}
				}
			}
		}
	}
	if err := writeAtomic(md, d.Markdown(figs)); err != nil {
		return nil, err
	}
	if err := writeAtomic(page, html); err != nil {
		return nil, err
	}
	return append([]string{md, page}, plotFiles...), nil
}

// writeAtomic writes data to a temporary file beside path, then renames it
// over path, so a reader or a crash never sees a half-written file.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return &OutputError{path, err}
	}
	name := tmp.Name()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(name, 0o644)
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		os.Remove(name)
		return &OutputError{path, err}
	}
	return nil
}

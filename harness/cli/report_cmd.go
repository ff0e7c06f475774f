package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/reports"
	"github.com/attnlab/attnlab/tracking"
)

// defaultReportDir is where a report goes without --out: under out/, which
// git ignores and make clean removes.
func defaultReportDir(experiment string) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, experiment)
	if strings.Trim(safe, ".") == "" {
		safe = "_"
	}
	return filepath.Join("out", "report", safe)
}

func reportCmd(g *globals) *cobra.Command {
	var db, out string
	cmd := &cobra.Command{
		Use:   "report EXPERIMENT",
		Short: "Write a Markdown and a self-contained HTML report with plots of an experiment",
		Long: `Report reads the newest experiment named EXPERIMENT from the store (read
only) and writes into the output directory:

  report.md      results table, trials that did not finish, plots linked from plots/
  report.html    the same page, self-contained: inline CSS, plots embedded as PNG
  plots/*.png, plots/*.svg
                 loss and eval curves (mean and min-max band over seeds),
                 throughput and peak memory against sequence length (log-log,
                 when it is swept), eval accuracy against throughput

Each file is written to a temporary file and renamed into place. The output
directory defaults to out/report/EXPERIMENT.

Exit codes: 0 report written, 2 bad input (no store, unknown experiment,
output directory that cannot be written).`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if out == "" {
				out = defaultReportDir(args[0])
			}
			return writeReport(g, db, args[0], out)
		},
	}
	cmd.Flags().StringVar(&db, "db", "runs.db", "SQLite store to read")
	cmd.Flags().StringVar(&out, "out", "", "directory to write the report into (default out/report/EXPERIMENT)")
	return cmd
}

func writeReport(g *globals, db, name, out string) error {
	s, err := openRead(db)
	if err != nil {
		return err
	}
	defer s.Close()
	d, err := reports.Load(s, name)
	if errors.Is(err, tracking.ErrNotFound) {
		return badInput(err)
	}
	if err != nil {
		return err
	}
	files, err := d.Write(out, reports.Options{})
	var oe *reports.OutputError
	if errors.As(err, &oe) {
		return badInput(err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "report of experiment %s (%d trials in %d configurations) in %s\n", d.Experiment.Name, d.Trials, len(d.Configs), out)
	for _, f := range files {
		fmt.Fprintf(g.stdout, "wrote %s\n", f)
	}
	return nil
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/harness"
	"github.com/attnlab/attnlab/plugins/builtin"
	"github.com/attnlab/attnlab/tracking"
)

type runFlags struct {
	db         string
	sets       []string
	parallel   int
	inprocess  bool
	logFile    string
	noProgress bool
}

func runCmd(g *globals) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run CONFIG.yaml",
		Short: "Run the trials an experiment config describes (resuming an interrupted run)",
		Long: `Run loads CONFIG.yaml, applies ATTNLAB_* environment variables and --set
overrides, validates every trial of the sweep against the plugins' schemas,
and runs the trials that are not finished yet, logging every metric to the
SQLite store. Running the same config again resumes: finished trials are
skipped, and trials left running by a crashed run are run again.

Exit codes: 0 every trial finished, 1 some trial failed, 2 bad input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return runExperiment(c.Context(), g, f, args[0]) },
	}
	cmd.Flags().StringVar(&f.db, "db", "runs.db", "SQLite store to log to")
	cmd.Flags().StringArrayVar(&f.sets, "set", nil, "override a config key, e.g. --set train.lr=3e-4 (repeatable)")
	cmd.Flags().IntVar(&f.parallel, "parallel", 0, "trials at once (default: the config's parallel)")
	cmd.Flags().BoolVar(&f.inprocess, "inprocess", false, "run the built-in components inside this process instead of as plugins (baseline, debugging)")
	cmd.Flags().StringVar(&f.logFile, "log", "", "write the harness and plugin log to this file (default: stderr, warnings only)")
	cmd.Flags().BoolVar(&f.noProgress, "no-progress", false, "print plain log lines even on a terminal (the default when stdout is not one)")
	return cmd
}

func runExperiment(ctx context.Context, g *globals, f *runFlags, path string) error {
	exp, err := experiments.Load(path, f.sets, os.Environ())
	if err != nil {
		return badInput(err)
	}
	logger, closeLog, err := harnessLogger(g, f.logFile)
	if err != nil {
		return badInput(err)
	}
	defer closeLog()
	l, plugins, err := newLauncher(g, f.inprocess, logger)
	if err != nil {
		return err
	}
	trials, err := exp.Resolve(harness.DescribeFunc(l))
	if err != nil {
		return badInput(err)
	}
	// Settings only the components can judge (a window longer than the
	// sequences, Linformer under a causal mask, ...) stop the sweep here.
	if err := harness.Preflight(ctx, l, trials); err != nil {
		return badInput(err)
	}
	store, err := tracking.Open(f.db)
	if err != nil {
		return badInput(err)
	}
	defer store.Close()

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(g.stdout, "experiment %s: %d trials, store %s\n", exp.Name, len(trials), f.db)
	rep := newReporter(g.stdout, f.noProgress, len(trials))
	s := &harness.Sweep{Experiment: exp, Trials: trials, Launcher: l, Store: store, Parallel: f.parallel,
		Env: harness.Environment(Version, plugins), Reporter: rep}
	res, err := s.Run(ctx)
	rep.Close()
	if err != nil {
		return err
	}
	printCounts(g, res)
	if ctx.Err() != nil {
		return &exitError{ExitFailed, errors.New("interrupted: running trials were marked killed; run the same command again to resume")}
	}
	if res.Failed() {
		return &exitError{ExitFailed, errors.New("some trials did not finish (see `attnlab runs list`)")}
	}
	return nil
}

// newLauncher returns the built-in components in this process, or the
// plugins of g.plugins (checked against their lock file) with the plugin
// files for the record.
func newLauncher(g *globals, inprocess bool, logger hclog.Logger) (harness.Launcher, []harness.PluginFile, error) {
	if inprocess {
		return &harness.InProcess{Registry: harness.Registry{Attention: builtin.Attention, Architecture: builtin.Architecture, Objective: builtin.Objective}}, nil, nil
	}
	host, err := harness.NewHost(g.plugins, logger)
	if err != nil {
		return nil, nil, badInput(err)
	}
	if probs := harness.Verify(host.Plugins(), mustLock(g.plugins)); len(probs) > 0 {
		return nil, nil, badInput(fmt.Errorf("plugins do not match their lock file:\n  %s", strings.Join(probs, "\n  ")))
	}
	return &harness.Plugins{Host: host}, host.Plugins(), nil
}

func mustLock(dir string) harness.Lock {
	l, err := harness.ReadLock(dir)
	if err != nil {
		return harness.Lock{}
	}
	return l
}

func printCounts(g *globals, res harness.SweepResult) {
	var keys []string
	for k := range res.Counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", res.Counts[k], k))
	}
	fmt.Fprintf(g.stdout, "done: %s\n", strings.Join(parts, ", "))
}

// harnessLogger writes the harness's and plugins' logs: to a file when
// asked, otherwise warnings and errors to stderr.
func harnessLogger(g *globals, path string) (hclog.Logger, func(), error) {
	if path == "" {
		return hclog.New(&hclog.LoggerOptions{Name: "attnlab", Output: g.stderr, Level: hclog.Warn}), func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("--log: %w", err)
	}
	return hclog.New(&hclog.LoggerOptions{Name: "attnlab", Output: f, Level: hclog.Debug}), func() { f.Close() }, nil
}

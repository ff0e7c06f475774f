// Package cli is attnlab's command-line interface (cobra); the attnlab
// binary in harness/cmd/attnlab only calls Main. Output that a person
// reads is tested against golden files in testdata/.
//
// Exit codes: 0 success (every trial finished), 1 a trial failed, 2 bad
// input (flags, configuration, plugins).
package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitFailed   = 1
	ExitBadInput = 2
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func badInput(err error) error { return &exitError{ExitBadInput, err} }

// Version is attnlab's version, recorded with every experiment.
const Version = "0.1.0"

// Main runs the command line and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "attnlab:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// cobra's own errors are about flags and arguments.
	return ExitBadInput
}

type globals struct {
	plugins string
	stdout  io.Writer
	stderr  io.Writer
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "attnlab",
		Short:         "Compare attention variants, architectures and objectives, reproducibly",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.PersistentFlags().StringVar(&g.plugins, "plugins", "bin/plugins", "directory holding the plugin binaries and their lock file")
	root.AddCommand(pluginsCmd(g), runCmd(g), runsCmd(g))
	root.AddCommand(rerunCmd(g))
	root.AddCommand(exportCmd(g))
	root.AddCommand(pluginCmd(g))
	root.AddCommand(reportCmd(g))
	return root
}

package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/harness"
	"github.com/attnlab/attnlab/plugins/sdk"
)

func pluginsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "plugins", Short: "List, lock and verify plugin binaries"}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "Show every plugin with its kind, version and checksum",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return pluginsList(g) },
	}, &cobra.Command{
		Use:   "lock",
		Short: "Record the sha256 of every plugin binary in the lock file",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return pluginsLock(g) },
	}, &cobra.Command{
		Use:   "verify",
		Short: "Check every plugin binary against the lock file",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return pluginsVerify(g) },
	})
	return cmd
}

func pluginsList(g *globals) error {
	host, err := harness.NewHost(g.plugins, nil)
	if err != nil {
		return badInput(err)
	}
	l := &harness.Plugins{Host: host}
	w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KIND\tNAME\tVERSION\tSHA256\tPARAMETERS")
	for _, p := range host.Plugins() {
		version, params := "?", ""
		if d, err := l.Describe(p.Kind, p.Name); err != nil {
			version = "error: " + err.Error()
		} else {
			version = d.Version
			params = paramList(d)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.Kind, p.Name, version, p.SHA256[:16], params)
	}
	return w.Flush()
}

func paramList(d sdk.Description) string {
	s := ""
	for i, p := range d.Params {
		if i > 0 {
			s += " "
		}
		s += p.Name
	}
	return s
}

func pluginsLock(g *globals) error {
	ps, err := harness.Discover(g.plugins)
	if err != nil {
		return badInput(err)
	}
	if len(ps) == 0 {
		return badInput(fmt.Errorf("no plugin binaries (named KIND-NAME) in %s", g.plugins))
	}
	if err := harness.WriteLock(g.plugins, ps); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "locked %d plugins in %s/%s\n", len(ps), g.plugins, harness.LockFileName)
	return nil
}

func pluginsVerify(g *globals) error {
	ps, err := harness.Discover(g.plugins)
	if err != nil {
		return badInput(err)
	}
	lock, err := harness.ReadLock(g.plugins)
	if err != nil {
		return badInput(err)
	}
	problems := harness.Verify(ps, lock)
	for _, p := range problems {
		fmt.Fprintln(g.stdout, p)
	}
	if len(problems) > 0 {
		return badInput(fmt.Errorf("%d plugin(s) do not match the lock file", len(problems)))
	}
	fmt.Fprintf(g.stdout, "%d plugins match %s\n", len(ps), harness.LockFileName)
	return nil
}

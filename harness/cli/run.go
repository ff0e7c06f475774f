package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func runCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run CONFIG.yaml",
		Short: "Run the trials an experiment config describes",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return fmt.Errorf("not wired yet")
		},
	}
	return cmd
}

// Command attnlab runs transformer experiments built from plugins: see
// `attnlab --help` and the README.
package main

import (
	"os"

	"github.com/attnlab/attnlab/harness/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

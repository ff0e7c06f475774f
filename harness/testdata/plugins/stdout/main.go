// Command stdout is a deliberately broken attention plugin for the
// harness's tests: it prints to stdout before the handshake.
package main

import (
	"fmt"

	"github.com/attnlab/attnlab/plugins/attention/full"
	"github.com/attnlab/attnlab/plugins/sdk"
)

func main() {
	fmt.Println("hello from a plugin that forgot stdout carries the handshake")
	sdk.Serve(full.New())
}

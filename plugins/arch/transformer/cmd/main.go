// Command arch-transformer serves the transformer architecture as an
// attnlab plugin. The harness starts it; it is not meant to be run by hand.
package main

import (
	"github.com/attnlab/attnlab/plugins/arch/transformer"
	"github.com/attnlab/attnlab/plugins/sdk"
)

func main() { sdk.Serve(transformer.New()) }

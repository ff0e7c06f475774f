// Command objective-causal-lm serves the causal language-modelling
// objective as an attnlab plugin. The harness starts it; it is not meant to
// be run by hand.
package main

import (
	causallm "github.com/attnlab/attnlab/plugins/objective/causal-lm"
	"github.com/attnlab/attnlab/plugins/sdk"
)

func main() { sdk.Serve(causallm.New()) }

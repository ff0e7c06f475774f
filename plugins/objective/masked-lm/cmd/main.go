// Command objective-masked-lm serves the masked language-modelling
// objective as an attnlab plugin. The harness starts it; it is not meant to
// be run by hand.
package main

import (
	maskedlm "github.com/attnlab/attnlab/plugins/objective/masked-lm"
	"github.com/attnlab/attnlab/plugins/sdk"
)

func main() { sdk.Serve(maskedlm.New()) }

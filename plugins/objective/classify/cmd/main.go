// Command objective-classify serves the sequence-classification objective
// as an attnlab plugin. The harness starts it; it is not meant to be run
// by hand.
package main

import (
	"github.com/attnlab/attnlab/plugins/objective/classify"
	"github.com/attnlab/attnlab/plugins/sdk"
)

func main() { sdk.Serve(classify.New()) }

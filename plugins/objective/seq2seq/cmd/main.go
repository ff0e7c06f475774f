// Command objective-seq2seq serves the sequence-to-sequence objective as
// an attnlab plugin. The harness starts it; it is not meant to be run by
// hand.
package main

import (
	"github.com/attnlab/attnlab/plugins/objective/seq2seq"
	"github.com/attnlab/attnlab/plugins/sdk"
)

func main() { sdk.Serve(seq2seq.New()) }

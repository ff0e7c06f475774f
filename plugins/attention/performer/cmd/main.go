// Command attention-performer serves the Performer attention component as
// an attnlab plugin. The harness starts it; it is not meant to be run by
// hand.
package main

import (
	"github.com/attnlab/attnlab/plugins/attention/performer"
	"github.com/attnlab/attnlab/plugins/sdk"
)

func main() { sdk.Serve(performer.New()) }

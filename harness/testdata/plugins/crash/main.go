// Command crash is a deliberately broken attention plugin for the
// harness's tests: Forward kills the whole process from another goroutine,
// which no recovery can catch.
package main

import (
	"time"

	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/attention/full"
	"github.com/attnlab/attnlab/plugins/sdk"
)

type crashy struct{ sdk.Attention }

func (c crashy) Describe() sdk.Description {
	d := c.Attention.Describe()
	d.Name = "crash"
	return d
}

func (crashy) Forward(int, *tensor.Tensor, *tensor.Tensor, *tensor.Tensor, []bool) (*tensor.Tensor, error) {
	go func() { panic("crash plugin: unrecoverable panic in a goroutine") }()
	time.Sleep(time.Minute)
	return nil, nil
}

func main() { sdk.Serve(crashy{full.New()}) }

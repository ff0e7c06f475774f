// Command panic is a deliberately broken attention plugin for the
// harness's tests: it panics in Forward.
package main

import (
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/attention/full"
	"github.com/attnlab/attnlab/plugins/sdk"
)

type panicky struct{ sdk.Attention }

func (p panicky) Describe() sdk.Description {
	d := p.Attention.Describe()
	d.Name = "panic"
	return d
}

func (panicky) Forward(int, *tensor.Tensor, *tensor.Tensor, *tensor.Tensor, []bool) (*tensor.Tensor, error) {
	var m map[string]int
	m["boom"]++ // assignment to entry in nil map
	return nil, nil
}

func main() { sdk.Serve(panicky{full.New()}) }

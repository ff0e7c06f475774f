// Command hang is a deliberately broken attention plugin for the harness's
// tests: Forward never returns.
package main

import (
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/attention/full"
	"github.com/attnlab/attnlab/plugins/sdk"
)

type hung struct{ sdk.Attention }

func (h hung) Describe() sdk.Description {
	d := h.Attention.Describe()
	d.Name = "hang"
	return d
}

func (hung) Forward(int, *tensor.Tensor, *tensor.Tensor, *tensor.Tensor, []bool) (*tensor.Tensor, error) {
	select {}
}

func main() { sdk.Serve(hung{full.New()}) }

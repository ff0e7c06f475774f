// Package builtin registers attnlab's built-in components by name, for
// running them inside the harness process (tests and the in-process
// baseline). As plugins, the same components are served by the binaries
// built from plugins/KIND/NAME/cmd.
package builtin

import (
	"github.com/attnlab/attnlab/plugins/arch/transformer"
	"github.com/attnlab/attnlab/plugins/attention/bigbird"
	"github.com/attnlab/attnlab/plugins/attention/flash"
	"github.com/attnlab/attnlab/plugins/attention/full"
	"github.com/attnlab/attnlab/plugins/attention/linformer"
	"github.com/attnlab/attnlab/plugins/attention/longformer"
	"github.com/attnlab/attnlab/plugins/attention/performer"
	causallm "github.com/attnlab/attnlab/plugins/objective/causal-lm"
	"github.com/attnlab/attnlab/plugins/objective/classify"
	maskedlm "github.com/attnlab/attnlab/plugins/objective/masked-lm"
	"github.com/attnlab/attnlab/plugins/objective/seq2seq"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// Attention, Architecture and Objective map plugin names to constructors.
var (
	Attention = map[string]func() sdk.Attention{
		"bigbird":    bigbird.New,
		"flash":      flash.New,
		"full":       full.New,
		"linformer":  linformer.New,
		"longformer": longformer.New,
		"performer":  performer.New,
	}
	Architecture = map[string]func() sdk.Architecture{
		"transformer": transformer.New,
	}
	Objective = map[string]func() sdk.Objective{
		"causal-lm": causallm.New,
		"classify":  classify.New,
		"masked-lm": maskedlm.New,
		"seq2seq":   seq2seq.New,
	}
)

// Package experiments is attnlab's experiment spec: YAML loading (viper),
// overrides, validation, sweep expansion and trial identity.
//
// # The file
//
//	name: attention-zoo          # required
//	seed: 1                      # base seed (default 1); repeat r runs with seed + r
//	repeats: 3                   # seeds per configuration (default 1)
//	parallel: 2                  # trials at once (default 1)
//	trial:
//	  objective:    {plugin: causal-lm, dataset: copy, seq_len: 256}
//	  architecture: {plugin: transformer, layers: 2, d_model: 128, heads: 4}
//	  attention:    {plugin: full}
//	  train:        {steps: 500, batch: 8, lr: 1e-3, warmup: 50, eval_every: 50, timeout: 10m}
//	sweep:                       # optional
//	  method: random             # grid (default) | random
//	  samples: 10                # random only, required there
//	  parameters:
//	    attention.plugin: [full, flash]                               # a list: grid axis / random choice
//	    train.lr: {distribution: log_uniform, min: 1e-4, max: 1e-2}   # distributions: random only
//	    architecture.layers: {distribution: int, min: 1, max: 4}      # both ends included
//	    objective.seq_len: {distribution: choice, values: [128, 256]}
//	    train.warmup: {distribution: int, min: 0, max: 100}
//	early_stop: {metric: loss, mode: min, min_steps: 100}             # optional: median stopping
//
// objective and architecture need a plugin (in the section or from the
// sweep); attention may be left out for an architecture that never calls
// it. Every other key of a component section is a plugin parameter (a
// scalar), checked against the plugin's Describe schema by ValidateTrials.
//
// A sweep parameter is SECTION.KEY, SECTION one of objective,
// architecture, attention, train; in every trial the swept value replaces
// the trial's. Its values are a list (distinct scalars: a grid axis, or a
// uniform choice when random) or, with method random only, a
// distribution: choice {values: [...]}; uniform {min, max} (floats);
// log_uniform {min, max} (0 < min, uniform in log space); int {min, max}
// (integers, both ends included); min < max. A train key's values are
// checked against its type and range when the file is loaded: an integer
// key takes int, choice or a list (not uniform), a string or duration key
// choice or a list, and the runtime keys (threads, timeout, retries) are
// not swept because they are not part of a trial's identity. A plugin
// parameter's values are checked by ValidateTrials. No sweep section
// runs the trial as it is; a sweep section with no parameters is an
// error.
//
// Keys are lower-case and written once; null values, unknown keys, wrong
// types and out-of-range values are errors, all reported at once (up to
// ten). YAML anchors and merge keys (<<: *base) work inside sections.
// Early stopping prunes a trial whose best metric at an evaluation after
// min_steps is worse (mode min: higher) than the median of the other
// trials at that step.
//
// # Train keys
//
// Every key of trial.train, from TrainKeys (TrainKeysTable prints this;
// a test keeps it equal). Ints accept integral floats (1e3); durations
// are Go durations (90s, 10m, 1h30m) or 0:
//
//	key           type      default  allowed                 doc
//	steps         int       1000     > 0                     optimiser steps
//	batch         int       8        > 0                     examples per batch
//	lr            float     0.001    > 0                     peak learning rate (after warm-up)
//	min_lr        float     0        >= 0                    learning rate at the last step; at most lr
//	warmup        int       0        >= 0                    linear warm-up steps from 0 to lr; at most steps
//	schedule      string    cosine   cosine|linear|constant  decay from lr to min_lr after warm-up
//	optimizer     string    adamw    adamw|sgd               optimiser
//	weight_decay  float     0.1      >= 0                    decoupled (adamw) or L2 (sgd) weight decay
//	beta1         float     0.9      in [0, 1)               adamw first-moment decay
//	beta2         float     0.999    in [0, 1)               adamw second-moment decay
//	eps           float     1e-8     > 0                     adamw denominator epsilon
//	momentum      float     0        in [0, 1)               sgd momentum; 0 = none
//	clip          float     1        >= 0                    global gradient-norm clip; 0 = off
//	eval_every    int       100      >= 0                    steps between evaluations; 0 = only after the last step
//	eval_batches  int       4        > 0                     eval batches per evaluation
//	threads       int       1        > 0                     kernel threads per trial (not in the trial ID)
//	timeout       duration  0        >= 0                    wall-clock limit per attempt, e.g. 10m; 0 = none (not in the trial ID)
//	retries       int       0        >= 0                    re-runs of a crashed or timed-out trial (not in the trial ID)
//
// # Overrides
//
// Precedence is file < environment < --set: Load applies ATTNLAB_*
// variables (sorted by name), then the --set overrides in order, so the
// last --set of a key wins. A --set is KEY=VALUE with KEY one of name,
// seed, repeats, parallel, SECTION.KEY (train.lr, attention.plugin; also
// trial.train.lr), early_stop.KEY, sweep.method or sweep.samples. The
// value is read as a YAML scalar: 3e-4 is a number, flash a string, '"1"'
// the string "1". An environment variable is ATTNLAB_ and the key path
// upper-cased with '.' as '_': ATTNLAB_TRAIN_LR=3e-4,
// ATTNLAB_ARCHITECTURE_D_MODEL=256, ATTNLAB_EARLY_STOP_MIN_STEPS=50.
// ATTNLAB_* variables that name no config key (ATTNLAB_DB) are left to
// the CLI. Sweep parameters are edited in the file only, and overriding
// a swept key is an error (the sweep would replace the value anyway).
//
// # Expansion
//
// Trials expands the sweep. Grid: the cartesian product of the lists,
// parameters in path order, the last one changing fastest. Random:
// samples draws; draw i of parameter P takes a uniform number in [0, 1)
// from the top 53 bits of sha256("attnlab.sweep.v1", seed, i, P), so
// draws are the same on every machine and Go version (no math/rand) and
// adding a parameter leaves the other parameters' draws unchanged.
// uniform and log_uniform values are rounded to 6 significant digits; a
// configuration drawn twice is kept once. Each configuration runs with
// seeds seed, seed+1, ..., seed+repeats-1 (the same seeds for every
// configuration, so configurations are compared on equal data order and
// initialisation); trials are ordered repeat-major: every configuration
// at the first seed, then every configuration at the second.
//
// # Trial identity
//
// A trial's ID is the hex of the first 16 bytes of the sha256 of the
// canonical JSON (encoding/json: sorted keys, shortest round-trip
// numbers) of
//
//	{"format": "attnlab.trial.v1", "seed": S, "train": {every train key but threads, timeout, retries},
//	 "objective": {"plugin": P, "params": {...}}, "architecture": {...}, "attention": {...} or null}
//
// with component params as resolved by ValidateTrials (defaults filled
// in), so the ID depends neither on key order, YAML formatting nor
// whether a default was written out, and changes when any value that
// affects results does. ConfigID is the same hash without the seed. The
// experiment's name, parallel, repeats and early_stop are not part of it.
//
// # Errors
//
// Load checks everything that does not need the plugins; ValidateTrials
// (or Resolve, which is Trials then ValidateTrials) checks the plugin
// parameters of the whole expanded sweep, so nothing runs on a bad
// config. Every error about the config is a *ConfigError (several are joined with
// errors.Join) naming the file, the line when the value came from the
// file (found with the yaml.v3 node API, since viper keeps no positions),
// the key path, the override it came from, what was given and what was
// expected:
//
//	zoo.yaml:9: trial.train.lr: got "fast", want a number > 0
//	zoo.yaml: trial.train.lr (from --set train.lr=0): got 0, want a number > 0
//	zoo.yaml:14: sweep.parameters[attention.plugin]: got "flsh", want one of the attention plugins: flash, full
//	zoo.yaml:8: trial.architecture.layers: got "two", want an integer >= 1 (architecture plugin "transformer": blocks)
//
// The CLI exits with code 2 when errors.As finds a *ConfigError. A
// plugin whose Describe fails is reported as a plain error beside them.
//
// # Dependencies
//
// The package imports viper and the YAML library viper itself uses
// (go.yaml.in/yaml/v3), nothing else outside the standard library. It
// does not import plugins/sdk, which would pull gRPC and go-plugin into
// a config loader: Schema and Param mirror sdk.Description's parameters,
// Kind* and Param* constants equal sdk's, and Param.convert follows
// sdk.Description.Resolve (a test runs both on the same cases).
package experiments

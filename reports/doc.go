// Package reports turns one experiment of a tracking store into a report
// a person reads: report.md, a self-contained report.html (inline CSS,
// every plot embedded as a base64 PNG data URI, no external resource), and
// every plot as PNG and SVG in plots/. It only reads the store (open it
// with tracking.OpenReadOnly).
//
//	s, err := tracking.OpenReadOnly("runs.db")
//	d, err := reports.Load(s, "quickstart")       // the newest experiment of that name
//	files, err := d.Write("out/report/quickstart", reports.Options{})
//
// # What a report holds
//
// A configuration is a trial's params without its seed; the repeats of a
// configuration (its seeds) are summarised together. Configurations are
// sorted by their params (numbers numerically) and named C1, C2, ... in
// that order; their labels show only the params that differ between
// configurations, the others are listed once as fixed parameters.
//
//   - Header: experiment name, id, config hash, creation time (UTC), the
//     recorded environment (attnlab version, git commit and dirty flag,
//     Go version, OS/arch, CPU) and the trial count in each status.
//   - Results table: one row per configuration: finished seeds out of
//     trials, eval loss and eval accuracy (mean ± sample standard
//     deviation over the finished seeds), then the median step time,
//     throughput and peak RSS (means over the finished seeds), and the
//     status counts.
//   - Efficiency, when the configurations differ both in an attention
//     param (attention.plugin or any other attention.*) and in the
//     sequence length: the Long Range Arena's efficiency table (Tay et al.
//     2021, Table 2), training steps per second (1000 / ms per step) and
//     peak RSS with one row per configuration of the other params and one
//     column per length, each cell with its ratio to the full-attention
//     row (attention.plugin=full, the same params outside the attention
//     section) at that length. Full attention comes first; a length
//     without a finished trial shows "-", and its failure is listed below.
//   - Trials that did not finish: every trial whose status is not
//     finished, with its configuration, seed, status and recorded error.
//   - Curves of train/loss, eval/loss and eval/accuracy against step: for
//     each configuration a line at the mean over its seeds and a shaded
//     band from the minimum to the maximum over its seeds. Every trial
//     that logged the metric contributes, finished or not, each series cut
//     at its first NaN or ±Inf (where a diverged run diverged); at each
//     step the mean and band are over the seeds with a value at that step.
//     A configuration with no finite point is left out and named under
//     the plot. Lines longer than Options.MaxPoints are downsampled in
//     equal buckets of steps (bucket mean of the mean, minimum of the
//     band's low edge, maximum of its high edge), so the band keeps its
//     extremes.
//   - Throughput (tokens_per_s) and peak memory (peak_rss_mb) against
//     sequence length on log-log axes, one line per configuration of the
//     other params, when the sequence length (objective.seq_len, from the
//     params or else from the trial's resolved config) differs between
//     configurations; otherwise the report says why they are missing.
//   - Eval accuracy against throughput: one point per configuration at
//     the means over its finished seeds, error bars from minimum to
//     maximum, labelled with the configuration name.
//
// # Determinism
//
// The Markdown depends only on the store: sorted configurations, fixed
// float formats, no time of generation, so it is golden-tested. Plots use
// the Liberation fonts that gonum/plot embeds (never the machine's
// fonts), so PNG and SVG bytes depend only on the data. The SVGs name the
// font family rather than embedding the font files, which keeps them
// small; a viewer without Liberation substitutes a similar font.
//
// # Robustness
//
// Bad data never panics: NaN and ±Inf never reach a plot axis, log axes
// get only positive values, and a plot that still fails to draw is left
// out with its error written in the report instead. Every file is written
// to a temporary file in the output directory and renamed into place, so
// a crash never leaves a half-written report.
package reports

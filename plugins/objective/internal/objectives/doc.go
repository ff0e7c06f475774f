// Package objectives holds what the attnlab objectives (causal-lm,
// masked-lm, seq2seq, classify) share, so that each plugin's own files are
// about its data: the token cross-entropy Loss with its shape checks and
// metrics, the checks at the start of Init and Batch, the per-split data
// streams, the hash partition of examples into train and eval, and a line
// reader whose errors name the file and line.
//
// Error messages are prefixed `objective "<name>": ` as every objective's
// own are.
package objectives

// Package proto holds attnlab's versioned plugin protocol: v1/attnlab.proto
// and the Go code generated from it (`make proto` regenerates it with the
// pinned generator versions the Makefile installs). Plugin authors never
// import it: plugins/sdk converts between these messages and Go types in
// one place.
package proto

package maskedlm

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"unicode/utf8"
)

// ln2 converts nats to bits: bits = nats / ln2.
const ln2 = math.Ln2

// readText returns the contents of the text file at path, or an error
// naming the file (and for invalid UTF-8 the line and column, 1-based, of
// the first invalid byte) when it cannot be read, is empty or is not
// UTF-8.
func readText(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read path %q: %v", path, err)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s is empty: want UTF-8 text", path)
	}
	if off := invalidUTF8(data); off >= 0 {
		line := 1 + bytes.Count(data[:off], []byte("\n"))
		col := off - bytes.LastIndexByte(data[:off], '\n')
		return nil, fmt.Errorf("%s:%d:%d: not UTF-8 (byte 0x%02x at offset %d): want UTF-8 text", path, line, col, data[off], off)
	}
	return data, nil
}

// invalidUTF8 returns the offset of the first byte of data that does not
// start a valid UTF-8 encoding, or -1 if data is valid UTF-8.
func invalidUTF8(data []byte) int {
	for off := 0; off < len(data); {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size <= 1 {
			return off
		}
		off += size
	}
	return -1
}

// UnigramEntropy returns the entropy of the byte distribution of data,
// H = -Σ_b p(b) ln p(b) with p(b) the frequency of byte b, in nats per
// byte (divide by ln 2 for bits); 0 for empty data. It is the cross-entropy
// of the best context-free byte predictor on data itself, the baseline a
// masked-token loss must beat to show that a model uses context.
func UnigramEntropy(data []byte) float64 {
	var counts [256]int
	for _, b := range data {
		counts[b]++
	}
	n := float64(len(data))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log(p)
		}
	}
	return h
}

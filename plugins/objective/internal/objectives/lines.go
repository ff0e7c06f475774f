package objectives

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// Lines calls fn with the 1-based number and text of each non-empty line
// of data, the contents of the file at path, a trailing CR dropped, and
// returns fn's first error. A line that is not UTF-8 is an error naming
// the file, line and column (1-based, in bytes) of its first invalid byte.
func Lines(path string, data []byte, fn func(n int, line []byte) error) error {
	for n := 1; len(data) > 0; n++ {
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(l) == 0 {
			continue
		}
		if !utf8.Valid(l) {
			col := 1
			for len(l) > 0 {
				r, size := utf8.DecodeRune(l)
				if r == utf8.RuneError && size <= 1 {
					break
				}
				l, col = l[size:], col+size
			}
			return fmt.Errorf("%s:%d:%d: not UTF-8 (byte 0x%02x): want UTF-8 text", path, n, col, l[0])
		}
		if err := fn(n, l); err != nil {
			return err
		}
	}
	return nil
}

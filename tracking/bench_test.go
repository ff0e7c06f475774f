package tracking

import (
	"fmt"
	"sync"
	"testing"
)

// BenchmarkLogMetrics measures sustained logging into the file: b.N points
// logged and then flushed, so the figure counts committed rows, not queued
// ones. Run: go test -run '^$' -bench LogMetrics ./tracking/
func BenchmarkLogMetrics(b *testing.B) {
	for _, trials := range []int{1, 8} {
		b.Run(fmt.Sprintf("trials=%d", trials), func(b *testing.B) {
			s := newStore(b, Options{})
			ids := make([]string, trials)
			for i := range ids {
				// Trial ids are identity hashes: 64 hex digits.
				ids[i] = fmt.Sprintf("%064x", i+1)
				newTrial(b, s, "bench", ids[i], nil)
			}
			b.ResetTimer()
			var wg sync.WaitGroup
			for i, id := range ids {
				n := b.N / trials
				if i == 0 {
					n += b.N % trials
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for step := 0; step < n; step++ {
						s.Log(id, "loss", step, float64(step))
					}
				}()
			}
			wg.Wait()
			if err := s.Flush(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
		})
	}
}

// Command benchsummary reads `go test -bench` output on standard input and
// prints, for every benchmark, the median of each reported metric over the
// -count repetitions, followed by the ratios that matter: each benchmark
// against its reference measured in the same run (BenchmarkX against
// BenchmarkXGonum or BenchmarkXUnfused with the same sub-benchmark name),
// each attention variant against full attention at the same shape, two
// threads against one, and the harness's overhead per trial.
//
//	go test -run '^$' -bench . -count 5 ./kernels/... | go run ./kernels/internal/benchsummary
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// references maps a benchmark family to its same-run reference family.
var references = map[string]string{
	"BenchmarkMatMul":    "BenchmarkMatMulGonum",
	"BenchmarkAttention": "BenchmarkAttentionUnfused",
}

var procSuffix = regexp.MustCompile(`-\d+$`)

type result struct {
	name    string               // without the -GOMAXPROCS suffix
	metrics map[string][]float64 // unit -> samples
}

func main() {
	results, order, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchsummary:", err)
		os.Exit(1)
	}
	if len(order) == 0 {
		fmt.Fprintln(os.Stderr, "benchsummary: no benchmark lines on standard input")
		os.Exit(1)
	}
	report(os.Stdout, results, order)
}

func parse(r io.Reader) (map[string]*result, []string, error) {
	results := map[string]*result{}
	var order []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := procSuffix.ReplaceAllString(f[0], "")
		res := results[name]
		if res == nil {
			res = &result{name: name, metrics: map[string][]float64{}}
			results[name] = res
			order = append(order, name)
		}
		// f[1] is the iteration count; then value/unit pairs.
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: metric %q is not a number", f[0], f[i])
			}
			res.metrics[f[i+1]] = append(res.metrics[f[i+1]], v)
		}
	}
	return results, order, sc.Err()
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// headline is the metric a ratio is computed on, by preference.
func headline(r *result) string {
	for _, u := range []string{"GFLOP/s", "ms/op", "ns/op"} {
		if _, ok := r.metrics[u]; ok {
			return u
		}
	}
	return ""
}

func report(w io.Writer, results map[string]*result, order []string) {
	fmt.Fprintln(w, "medians over repetitions:")
	for _, name := range order {
		r := results[name]
		units := make([]string, 0, len(r.metrics))
		for u := range r.metrics {
			units = append(units, u)
		}
		sort.Strings(units)
		var parts []string
		for _, u := range units {
			parts = append(parts, fmt.Sprintf("%s %s", fmtNum(median(r.metrics[u])), u))
		}
		fmt.Fprintf(w, "  %-70s n=%d  %s\n", name, len(r.metrics[units[0]]), strings.Join(parts, "  "))
	}
	fmt.Fprintln(w, "\nratios (same run, medians; >1 means the first is better):")
	for _, name := range order {
		r := results[name]
		u := headline(r)
		if u == "" {
			continue
		}
		family, sub, _ := strings.Cut(name, "/")
		if ref, ok := references[family]; ok {
			if rr, ok := results[ref+"/"+sub]; ok && len(rr.metrics[u]) > 0 {
				fmt.Fprintf(w, "  %-60s vs %s: %.2fx\n", name, ref, better(u, median(r.metrics[u]), median(rr.metrics[u])))
			}
		}
		if peak := peakGFLOPs(results); peak > 0 && u == "GFLOP/s" && family == "BenchmarkMatMul" {
			threads := 1.0
			if strings.Contains(name, "threads=2") {
				threads = 2
			}
			fmt.Fprintf(w, "  %-60s of FMA peak (%.0f GFLOP/s per core): %.0f%%\n", name, peak, 100*median(r.metrics[u])/(threads*peak))
		}
		if strings.Contains(name, "/variant=") && !strings.Contains(name, "/variant=full/") {
			// An attention variant against full attention at the same
			// shape: the LRA comparison at the kernel level.
			if v := strings.Index(name, "/variant="); v >= 0 {
				rest := name[v+len("/variant="):]
				if e := strings.Index(rest, "/"); e >= 0 {
					full := name[:v] + "/variant=full" + rest[e:]
					if rf, ok := results[full]; ok && len(rf.metrics[u]) > 0 {
						fmt.Fprintf(w, "  %-60s vs variant=full: %.2fx\n", name, better(u, median(r.metrics[u]), median(rf.metrics[u])))
					}
				}
			}
		}
		if strings.Contains(name, "mode=plugins") {
			in := strings.Replace(name, "mode=plugins", "mode=inprocess", 1)
			if ri, ok := results[in]; ok && len(ri.metrics[u]) > 0 {
				// The process boundary's cost: plugins time / in-process time.
				fmt.Fprintf(w, "  %-60s vs mode=inprocess: %.3fx the time\n", name, median(r.metrics[u])/median(ri.metrics[u]))
			}
		}
		if ov := r.metrics["overhead_ms/op"]; len(ov) > 0 && len(r.metrics["ms/op"]) > 0 {
			// BenchmarkTrialOverhead: what the harness adds to every trial.
			fmt.Fprintf(w, "  %-60s harness overhead per trial: %s ms of %s ms\n", name, fmtNum(median(ov)), fmtNum(median(r.metrics["ms/op"])))
		}
		if strings.Contains(name, "threads=2") {
			one := strings.Replace(name, "threads=2", "threads=1", 1)
			if r1, ok := results[one]; ok && len(r1.metrics[u]) > 0 {
				fmt.Fprintf(w, "  %-60s vs threads=1: %.2fx\n", name, better(u, median(r.metrics[u]), median(r1.metrics[u])))
			}
		}
	}
}

// peakGFLOPs is the measured single-core FMA throughput, if the run has
// BenchmarkFMAPeak: the widest ISA measured.
func peakGFLOPs(results map[string]*result) float64 {
	for _, isa := range []string{"avx512", "avx2"} {
		if r, ok := results["BenchmarkFMAPeak/isa="+isa]; ok {
			return median(r.metrics["GFLOP/s"])
		}
	}
	return 0
}

// better returns how many times better a is than b: higher is better for
// rates, lower for times.
func better(unit string, a, b float64) float64 {
	if strings.HasSuffix(unit, "/s") {
		return a / b
	}
	return b / a
}

func fmtNum(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

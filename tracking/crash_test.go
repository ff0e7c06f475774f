package tracking

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The crash child logs one point per step with batches of exactly
// crashBatch points (one Flush every crashBatch points, no timed flushes),
// so that any committed state holds a whole number of batches.
const (
	crashBatch = 1000
	crashEnv   = "ATTNLAB_TRACKING_CRASH_CHILD" // the store path, in the child
)

// TestCrashChild is the child process of TestSIGKILLMidWrite; it does
// nothing in a normal test run. It logs until it is killed, printing
// "flushed N" once the first N points are committed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("runs only as the child of TestSIGKILLMidWrite")
	}
	s, err := OpenOptions(path, Options{FlushRows: crashBatch, FlushInterval: time.Hour})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	exp := newTrial(t, s, "crash", "victim", map[string]string{"x": "1"})
	if _, err := s.StartTrial("victim"); err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	deadline := time.Now().Add(20 * time.Second) // never outlive a parent that died
	for step := 0; time.Now().Before(deadline); step++ {
		s.Log("victim", "loss", step, float64(step))
		if (step+1)%crashBatch != 0 {
			continue
		}
		if err := s.Flush(); err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
		fmt.Println("flushed", step+1)
		if (step+1)%(5*crashBatch) == 0 {
			if err := s.Heartbeat("victim"); err != nil {
				fmt.Println("error", err)
				os.Exit(3)
			}
			if err := s.SetEnvironment(exp.ID, map[string]string{"step": strconv.Itoa(step)}); err != nil {
				fmt.Println("error", err)
				os.Exit(3)
			}
		}
	}
	os.Exit(4) // not killed in time
}

// A real process is killed with SIGKILL while it writes. The parent then
// finds a clean file (integrity_check ok) holding a prefix of what was
// logged: whole batches only, every point acknowledged by a Flush, no
// duplicate, and a stale running trial to resume.
func TestSIGKILLMidWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for round, killAfter := range []int{8, 21, 34} { // flushes seen before the kill
		t.Run(fmt.Sprintf("kill after %d flushes", killAfter), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "runs.db")
			acked := runAndKill(t, path, killAfter, time.Duration(round)*700*time.Microsecond)
			checkAfterCrash(t, path, acked)
		})
	}
}

// runAndKill starts the child, waits for killAfter flushes plus delay,
// kills it with SIGKILL and returns the number of points it acknowledged.
func runAndKill(t *testing.T, path string, killAfter int, delay time.Duration) int {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked, flushes := 0, 0
	sc := bufio.NewScanner(out)
	for flushes < killAfter && sc.Scan() {
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, "flushed "); ok {
			acked, _ = strconv.Atoi(n)
			flushes++
		} else if strings.HasPrefix(line, "error") {
			t.Fatalf("child: %s", line)
		}
	}
	time.Sleep(delay)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() { // acknowledgements written before the kill landed
		if n, ok := strings.CutPrefix(sc.Text(), "flushed "); ok {
			acked, _ = strconv.Atoi(n)
		}
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not by SIGKILL", err)
	}
	if flushes < killAfter {
		t.Fatalf("child stopped after %d flushes", flushes)
	}
	return acked
}

func checkAfterCrash(t *testing.T, path string, acked int) {
	s, err := Open(path)
	if err != nil {
		t.Fatalf("open after SIGKILL: %v", err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	var check string
	if err := s.rdb.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	if n := count(t, s, `SELECT count(*) FROM pragma_foreign_key_check`); n != 0 {
		t.Errorf("%d foreign key violations", n)
	}
	var n, distinct, hi, right int
	if err := s.rdb.QueryRow(`SELECT count(*), count(DISTINCT step), coalesce(max(step), -1), coalesce(sum(value = step), 0)
		FROM metrics WHERE trial_id = 'victim' AND key = 'loss'`).Scan(&n, &distinct, &hi, &right); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d points in the file, %d acknowledged before the kill", n, acked)
	switch {
	case distinct != n || right != n:
		t.Errorf("%d rows but %d distinct steps and %d right values: duplicates or torn rows", n, distinct, right)
	case hi != n-1:
		t.Errorf("%d rows up to step %d: not a prefix of the logged steps", n, hi)
	case n%crashBatch != 0:
		t.Errorf("%d rows: a partial batch of %d points was committed", n, n%crashBatch)
	case n < acked:
		t.Errorf("%d rows, but %d points were acknowledged by Flush", n, acked)
	case n > acked+crashBatch:
		t.Errorf("%d rows, more than the %d acknowledged and one batch in flight", n, acked)
	}
	// Resume: the dead process's trial is stale, and a re-run starts clean.
	exp, err := s.LatestExperiment("crash")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	stale, err := s.StaleRunning(exp.ID, 10*time.Millisecond)
	if err != nil || len(stale) != 1 || stale[0].ID != "victim" || stale[0].Attempt != 1 {
		t.Fatalf("StaleRunning = %+v, %v; want the killed trial", stale, err)
	}
	if attempt, err := s.StartTrial("victim"); err != nil || attempt != 2 {
		t.Fatalf("StartTrial = %d, %v", attempt, err)
	}
	if n := count(t, s, `SELECT count(*) FROM metrics WHERE trial_id = 'victim'`); n != 0 {
		t.Errorf("%d rows of the killed attempt survived the re-run", n)
	}
}

package harness

import (
	"os"
	"os/exec"
	"testing"
)

func TestDeadHere(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Skip("no host name:", err)
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	gone := cmd.Process.Pid // exited and reaped
	for _, c := range []struct {
		host string
		pid  int
		want bool
	}{
		{host, gone, true},
		{host, os.Getpid(), false},
		{host + ".elsewhere", gone, false}, // another machine: only the heartbeat can tell
		{host, 0, false},
	} {
		if got := deadHere(c.host, c.pid); got != c.want {
			t.Errorf("deadHere(%q, %d) = %v, want %v", c.host, c.pid, got, c.want)
		}
	}
}

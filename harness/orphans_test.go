package harness

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A launch removes the trial directories of dead harnesses (lock file
// unlocked) and keeps those of live ones (locked) and those without a
// lock file.
func TestOrphanedTrialDirsRemoved(t *testing.T) {
	root := t.TempDir()
	mk := func(name string) string {
		d := filepath.Join(root, name)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "objective-1-0"), make([]byte, 4096), 0o600); err != nil {
			t.Fatal(err)
		}
		return d
	}
	orphan := mk("attnlab-trial-orphan")
	if f, err := lockTrialDir(orphan); err != nil {
		t.Fatal(err)
	} else {
		f.Close() // the harness died: its lock went with it
	}
	live := mk("attnlab-trial-live")
	held, err := lockTrialDir(live)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	unlocked := mk("attnlab-trial-nolock")
	other := mk("not-a-trial")

	removeOrphanedTrialDirs(root)
	for _, d := range []string{live, unlocked, other} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(d), err)
		}
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Errorf("the orphaned trial directory is still there (%v)", err)
	}
	if got := shmDirs(root); !slices.Equal(got, []string{live, unlocked}) {
		t.Errorf("trial directories left: %v", got)
	}
}

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A configuration that a component refuses at Init is bad input: exit 2,
// the component's reason, and no store written.
func TestRunRefusesWhatComponentsRefuse(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bad.yaml")
	const yaml = `name: refused
trial:
  objective:    {plugin: causal-lm, dataset: copy, seq_len: 32, copy_vocab: 16}
  architecture: {plugin: transformer, layers: 1, d_model: 32, heads: 3}
  attention:    {plugin: full}
  train: {steps: 2, batch: 2, lr: 1.0e-3}
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "runs.db")
	_, errOut, code := run("run", cfg, "--db", db, "--inprocess")
	if code != ExitBadInput || !strings.Contains(errOut, "nothing was started") || !strings.Contains(errOut, "heads") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming the refused setting", code, errOut)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("the store was created (%v); nothing should be written for bad input", err)
	}
}

package harness

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/attnlab/attnlab/plugins/sdk"
)

// LockFileName is the name of the checksum lock file in a plugins directory.
const LockFileName = "attnlab-plugins.lock"

// PluginFile is one plugin binary found in a plugins directory.
type PluginFile struct {
	Kind   sdk.Kind
	Name   string
	Path   string
	SHA256 string // hex
}

// ID is "kind-name", the binary's file name.
func (p PluginFile) ID() string { return string(p.Kind) + "-" + p.Name }

var kinds = []sdk.Kind{sdk.KindAttention, sdk.KindArchitecture, sdk.KindObjective}

// parseName splits a binary name KIND-NAME.
func parseName(file string) (sdk.Kind, string, bool) {
	for _, k := range kinds {
		if rest, ok := strings.CutPrefix(file, string(k)+"-"); ok && rest != "" {
			return k, rest, true
		}
	}
	return "", "", false
}

// Discover lists the plugin binaries in dir with their checksums, sorted
// by kind and name. Files that are not executables named KIND-NAME are
// ignored (the lock file among them).
func Discover(dir string) ([]PluginFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("plugins directory %s: %w (build the plugins with `make build`, or point --plugins at the directory that holds them)", dir, err)
	}
	var out []PluginFile
	for _, e := range entries {
		kind, name, ok := parseName(e.Name())
		if !ok || e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil || info.Mode()&0o111 == 0 {
			continue
		}
		path := filepath.Join(dir, e.Name())
		sum, err := fileSHA256(path)
		if err != nil {
			return nil, err
		}
		out = append(out, PluginFile{Kind: kind, Name: name, Path: path, SHA256: sum})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Lock maps a plugin ID (kind-name) to its sha256.
type Lock map[string]string

// WriteLock records the checksums of plugins in dir's lock file, replacing
// it atomically.
func WriteLock(dir string, plugins []PluginFile) error {
	var b strings.Builder
	b.WriteString("# attnlab plugin checksums: sha256  kind-name. Written by `attnlab plugins lock`.\n")
	for _, p := range plugins {
		fmt.Fprintf(&b, "%s  %s\n", p.SHA256, p.ID())
	}
	tmp := filepath.Join(dir, LockFileName+".tmp")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, LockFileName))
}

// ReadLock reads dir's lock file.
func ReadLock(dir string) (Lock, error) {
	path := filepath.Join(dir, LockFileName)
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("no lock file %s: run `attnlab plugins lock --plugins %s` after building the plugins", path, dir)
		}
		return nil, err
	}
	defer f.Close()
	lock := Lock{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 || len(f[0]) != 64 {
			return nil, fmt.Errorf("%s:%d: want \"<sha256>  <kind-name>\", got %q", path, n, line)
		}
		if _, err := hex.DecodeString(f[0]); err != nil {
			return nil, fmt.Errorf("%s:%d: %q is not a hex sha256", path, n, f[0])
		}
		lock[f[1]] = f[0]
	}
	return lock, sc.Err()
}

// Verify compares the plugins with the lock and returns one line per
// problem (empty when everything matches).
func Verify(plugins []PluginFile, lock Lock) []string {
	var problems []string
	seen := map[string]bool{}
	for _, p := range plugins {
		seen[p.ID()] = true
		want, ok := lock[p.ID()]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s is not in the lock file (run `attnlab plugins lock`)", p.ID()))
		case want != p.SHA256:
			problems = append(problems, fmt.Sprintf("%s changed since it was locked: sha256 %s, lock says %s", p.ID(), p.SHA256[:16], want[:16]))
		}
	}
	for id := range lock {
		if !seen[id] {
			problems = append(problems, fmt.Sprintf("%s is in the lock file but not in the plugins directory", id))
		}
	}
	sort.Strings(problems)
	return problems
}

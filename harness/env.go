package harness

import (
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/attnlab/attnlab/tracking"
)

// Environment captures what a run needs to be reproduced: the source
// revision (and whether the tree had uncommitted changes), the toolchain,
// the machine, the attnlab version and every plugin's checksum.
func Environment(version string, plugins []PluginFile) map[string]string {
	env := map[string]string{
		tracking.EnvGoVersion:      runtime.Version(),
		tracking.EnvOSArch:         runtime.GOOS + "/" + runtime.GOARCH,
		tracking.EnvCPUModel:       cpuModel(),
		tracking.EnvAttnlabVersion: version,
	}
	if out, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		env[tracking.EnvGitCommit] = strings.TrimSpace(string(out))
		dirty := "false"
		if out, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(out))) > 0 {
			dirty = "true"
		}
		env[tracking.EnvGitDirty] = dirty
	}
	for _, p := range plugins {
		env[tracking.PluginChecksumKey(p.ID())] = p.SHA256
	}
	return env
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

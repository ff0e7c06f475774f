package harness

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/attnlab/attnlab/plugins/sdk"
)

// Host starts plugin processes from a plugins directory.
type Host struct {
	Dir          string
	Logger       hclog.Logger  // plugin log lines are folded in here
	StartTimeout time.Duration // handshake deadline (default 20s)

	plugins map[string]PluginFile
	lock    Lock
}

// NewHost discovers the plugins in dir and reads its lock file; every
// plugin must be locked with its current checksum.
func NewHost(dir string, logger hclog.Logger) (*Host, error) {
	plugins, err := Discover(dir)
	if err != nil {
		return nil, err
	}
	lock, err := ReadLock(dir)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	h := &Host{Dir: dir, Logger: logger, StartTimeout: 20 * time.Second, plugins: map[string]PluginFile{}, lock: lock}
	for _, p := range plugins {
		h.plugins[p.ID()] = p
	}
	return h, nil
}

// Plugins returns the discovered plugins, sorted.
func (h *Host) Plugins() []PluginFile {
	out := make([]PluginFile, 0, len(h.plugins))
	for _, p := range h.plugins {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out
}

// Find returns the plugin of the given kind and name, or an error that
// lists the plugins of that kind.
func (h *Host) Find(kind sdk.Kind, name string) (PluginFile, error) {
	if p, ok := h.plugins[string(kind)+"-"+name]; ok {
		return p, nil
	}
	var have []string
	for _, p := range h.Plugins() {
		if p.Kind == kind {
			have = append(have, p.Name)
		}
	}
	return PluginFile{}, &UnknownPluginError{Kind: kind, Name: name, Available: have}
}

// Process is one running plugin.
type Process struct {
	File     PluginFile
	Conn     *grpc.ClientConn
	Endpoint sdk.Endpoint
	Pid      int

	client  *plugin.Client
	mu      sync.Mutex
	peakRSS int64
}

// Start launches plugin kind/name, checks its checksum against the lock,
// performs the versioned handshake and returns a connection to it. The
// plugin creates its gRPC socket in sockDir ("" for the system's temporary
// directory): a trial passes its own directory, which it removes at the
// end, so that the socket of a plugin killed mid-call goes with it
// instead of staying in /tmp.
func (h *Host) Start(kind sdk.Kind, name, sockDir string) (*Process, error) {
	pf, err := h.Find(kind, name)
	if err != nil {
		return nil, err
	}
	want, ok := h.lock[pf.ID()]
	if !ok {
		return nil, fmt.Errorf("plugin %s is not in the lock file %s/%s: run `attnlab plugins lock`", pf.ID(), h.Dir, LockFileName)
	}
	sum, _ := hex.DecodeString(want)
	cmd := exec.Command(pf.Path)
	if sockDir != "" {
		cmd.Env = append(os.Environ(), plugin.EnvUnixSocketDir+"="+sockDir)
	}
	// The kernel kills the plugin if the harness dies, even by SIGKILL.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	c := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.PluginSets(),
		Cmd:              cmd,
		SecureConfig:     &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           h.Logger.Named(pf.ID()),
		StartTimeout:     h.StartTimeout,
		GRPCDialOptions:  nil,
	})
	rpc, err := c.Client()
	if err != nil {
		c.Kill()
		return nil, explainStartError(pf, err)
	}
	raw, err := rpc.Dispense(string(kind))
	if err != nil {
		c.Kill()
		return nil, fmt.Errorf("plugin %s does not serve a %s component: %w", pf.ID(), kind, err)
	}
	rc := c.ReattachConfig()
	p := &Process{File: pf, Conn: raw.(*grpc.ClientConn), client: c, Pid: rc.Pid,
		Endpoint: sdk.Endpoint{Network: rc.Addr.Network(), Address: rc.Addr.String()}}
	return p, nil
}

// explainStartError turns go-plugin's start-up failures into advice.
func explainStartError(pf PluginFile, err error) error {
	msg := strings.ToLower(err.Error())
	switch {
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		return fmt.Errorf("plugin %s: its checksum no longer matches the lock file (was it rebuilt? run `attnlab plugins lock` to accept it): %w", pf.ID(), err)
	case strings.Contains(msg, "unrecognized remote plugin message"):
		return fmt.Errorf("plugin %s wrote to stdout before its handshake; plugins must log through sdk.Logger (stderr), never stdout: %w", pf.ID(), err)
	case strings.Contains(msg, "incompatible api version"):
		return fmt.Errorf("plugin %s speaks another protocol version than this harness (v%d): rebuild it against this SDK: %w", pf.ID(), sdk.ProtocolVersion, err)
	case strings.Contains(msg, "timeout"):
		return fmt.Errorf("plugin %s did not complete its handshake in time: %w", pf.ID(), err)
	}
	return fmt.Errorf("starting plugin %s: %w", pf.ID(), err)
}

// SampleRSS records the process's peak resident memory so far (VmHWM).
func (p *Process) SampleRSS() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if v := peakRSS(p.Pid); v > p.peakRSS {
		p.peakRSS = v
	}
	return p.peakRSS
}

// Kill samples the peak memory, stops the plugin (gracefully, then by
// force) and makes sure the process is gone.
func (p *Process) Kill() {
	p.SampleRSS()
	done := make(chan struct{})
	go func() { p.client.Kill(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	if p.Pid > 0 && alive(p.Pid) {
		syscall.Kill(p.Pid, syscall.SIGKILL)
		for i := 0; i < 100 && alive(p.Pid); i++ {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// Exited reports whether the plugin process has exited.
func (p *Process) Exited() bool { return p.client.Exited() }

// peakRSS reads VmHWM from /proc/PID/status, in bytes (0 if unavailable).
func peakRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

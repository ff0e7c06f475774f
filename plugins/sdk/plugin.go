package sdk

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/attnlab/attnlab/plugins/proto/v1"
)

// Handshake is the go-plugin handshake every attnlab plugin and host
// share. It is not a security measure: it stops a user from running a
// plugin binary by hand and tells them what it is.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "ATTNLAB_PLUGIN",
	MagicCookieValue: "attnlab plugin: start it through the attnlab harness, not by hand",
}

// grpcPlugin adapts a component to go-plugin. On the host side it hands
// back the raw connection; the harness builds a typed client on it with
// the trial's Session.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	kind Kind
	impl Component
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	fast := newFastServer()
	switch p.kind {
	case KindAttention:
		srv := &attentionServer{impl: p.impl.(Attention)}
		pb.RegisterAttentionServer(s, srv)
		fast.register(&pb.Attention_ServiceDesc, srv)
	case KindArchitecture:
		srv := &archServer{impl: p.impl.(Architecture)}
		pb.RegisterArchitectureServer(s, srv)
		fast.register(&pb.Architecture_ServiceDesc, srv)
	case KindObjective:
		srv := &objectiveServer{impl: p.impl.(Objective)}
		pb.RegisterObjectiveServer(s, srv)
		fast.register(&pb.Objective_ServiceDesc, srv)
	default:
		return fmt.Errorf("unknown component kind %q", p.kind)
	}
	pb.RegisterFastPathServer(s, fast)
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return c, nil
}

// PluginSets returns the versioned plugin sets a host offers go-plugin's
// VersionedPlugins: protocol version -> kind -> plugin.
func PluginSets() map[int]plugin.PluginSet {
	set := plugin.PluginSet{}
	for _, k := range []Kind{KindAttention, KindArchitecture, KindObjective} {
		set[string(k)] = &grpcPlugin{kind: k}
	}
	return map[int]plugin.PluginSet{ProtocolVersion: set}
}

var (
	logMu  sync.Mutex
	logger hclog.Logger = hclog.NewNullLogger()
)

// Logger returns the component's logger. In a plugin it writes structured
// lines to stderr, which the harness folds into its own log (a plugin must
// never write to stdout: stdout carries the go-plugin handshake).
func Logger() hclog.Logger {
	logMu.Lock()
	defer logMu.Unlock()
	return logger
}

// Serve runs c as a plugin process: the main function of every plugin
// binary is `func main() { sdk.Serve(mycomponent.New()) }`. It returns
// when the harness shuts the plugin down, and exits on its own if the
// harness dies.
func Serve(c Component) {
	d := c.Describe()
	var ok bool
	switch d.Kind {
	case KindAttention:
		_, ok = c.(Attention)
	case KindArchitecture:
		_, ok = c.(Architecture)
	case KindObjective:
		_, ok = c.(Objective)
	}
	if !ok {
		fmt.Fprintf(os.Stderr, "attnlab plugin %q: Describe says kind %q but %T does not implement that interface\n", d.Name, d.Kind, c)
		os.Exit(2)
	}
	l := hclog.New(&hclog.LoggerOptions{Name: string(d.Kind) + "." + d.Name, Output: os.Stderr, JSONFormat: true, Level: hclog.Info})
	logMu.Lock()
	logger = l
	logMu.Unlock()
	go exitWithParent(os.Getppid())
	stopProfile := startProfile(d)
	defer stopProfile()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: {string(d.Kind): &grpcPlugin{kind: d.Kind, impl: c}}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, grpc.UnaryInterceptor(recoverPanics))...)
		},
		Logger: l,
	})
	if m := currentMemory(); m != nil {
		m.close()
	}
}

// ProfileEnv names a directory: when it is set, every plugin writes a CPU
// profile of its whole life there (KIND-NAME-PID.prof), for `go tool
// pprof`. The harness passes its environment on to plugins.
const ProfileEnv = "ATTNLAB_PLUGIN_CPUPROFILE_DIR"

func startProfile(d Description) func() {
	dir := os.Getenv(ProfileEnv)
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%s-%d.prof", d.Kind, d.Name, os.Getpid())))
	if err != nil {
		Logger().Warn("cannot write the CPU profile", "error", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// exitWithParent ends the plugin when the process that started it is gone
// (its parent changes to the reaper), even if the harness was killed
// before it could shut the plugin down.
func exitWithParent(ppid int) {
	for {
		time.Sleep(250 * time.Millisecond)
		if os.Getppid() != ppid {
			if m := currentMemory(); m != nil {
				m.close()
			}
			os.Exit(3)
		}
	}
}

// recoverPanics turns a panic in a component into an error for that call,
// with the stack, so the harness can record why the trial failed.
func recoverPanics(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			stack := string(debug.Stack())
			Logger().Error("panic in component", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", stack)
			if len(stack) > 4000 {
				stack = stack[:4000] + "\n..."
			}
			err = status.Errorf(codes.Internal, "panic: %v\n%s", r, stack)
		}
	}()
	return h(ctx, req)
}

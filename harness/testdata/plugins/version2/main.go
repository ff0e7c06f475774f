// Command version2 is an attention plugin for the harness's tests that
// speaks only protocol version 2, which this harness does not know.
package main

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/attnlab/attnlab/plugins/sdk"
)

type v2 struct{ plugin.NetRPCUnsupportedPlugin }

func (v2) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error { return nil }
func (v2) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, nil
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{2: {"attention": v2{}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}

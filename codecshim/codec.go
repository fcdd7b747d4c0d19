// Package codec offers packer v1.6.6's rpc package the few names it uses
// from the 2015 ugorji codec, backed by codec v1.2.8: the wire format that
// Debian's packer (built with 1.2.8) speaks.
package codec

import (
	"io"
	"net/rpc"

	real "ugorji.invalid/codec"
)

// MsgpackHandle mirrors the two fields packer's rpc package sets.
type MsgpackHandle struct {
	// RawToString is ignored: with it set, codec 1.2.8 turns the HCL2
	// config's raw bytes into strings and Prepare cannot decode them.
	RawToString bool
	WriteExt    bool
}

func (h *MsgpackHandle) real() *real.MsgpackHandle {
	return &real.MsgpackHandle{WriteExt: h.WriteExt}
}

type goRPC struct{}

// GoRpc builds net/rpc codecs, like the original's GoRpc.
var GoRpc goRPC

// WrapServerCodec, if set, wraps every server codec made here. It is the
// one place between packer's rpc server and the wire that the plugin can
// reach: Packer's protocol v2 changes one reply of that server.
var WrapServerCodec func(rpc.ServerCodec) rpc.ServerCodec

// ServerCodec returns a msgpack net/rpc server codec on conn.
func (goRPC) ServerCodec(conn io.ReadWriteCloser, h *MsgpackHandle) rpc.ServerCodec {
	c := real.GoRpc.ServerCodec(conn, h.real())
	if WrapServerCodec != nil {
		return WrapServerCodec(c)
	}
	return c
}

// ClientCodec returns a msgpack net/rpc client codec on conn.
func (goRPC) ClientCodec(conn io.ReadWriteCloser, h *MsgpackHandle) rpc.ClientCodec {
	return real.GoRpc.ClientCodec(conn, h.real())
}

package main

import (
	"fmt"
	"net/rpc"
	"sort"

	"github.com/hashicorp/hcl/v2/hcldec"
	packrpc "github.com/hashicorp/packer/packer-plugin-sdk/rpc"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/protobuf/encoding/protowire"
)

// Packer's plugin protocol v2 differs from the original in one reply only:
// a builder's ConfigSpec travels as a protobuf message (the Spec of
// packer-plugin-sdk's rpc/hcl_spec.proto) instead of a gob. Every other
// call, the codec and the handshake stay as they are.

// Field numbers of hcl_spec.proto.
const (
	specObject    protowire.Number = 1
	specAttr      protowire.Number = 2
	specBlock     protowire.Number = 3
	specBlockList protowire.Number = 4

	objectAttributes protowire.Number = 1
	mapEntryKey      protowire.Number = 1
	mapEntryValue    protowire.Number = 2

	attrName     protowire.Number = 1
	attrType     protowire.Number = 2
	attrRequired protowire.Number = 3

	blockName     protowire.Number = 1
	blockRequired protowire.Number = 2
	blockNested   protowire.Number = 3

	blockListName   protowire.Number = 1
	blockListNested protowire.Number = 2

	typePrimitive     protowire.Number = 1
	typeList          protowire.Number = 2
	typeMap           protowire.Number = 3
	primitiveName     protowire.Number = 1
	collectionElement protowire.Number = 1
)

// specProto encodes spec as the protobuf Spec message. Packer decodes only
// objects, attributes, blocks and block lists, of strings, bools, numbers
// and lists and maps of them: anything else is an error here, not a panic
// in Packer.
func specProto(spec hcldec.Spec) ([]byte, error) {
	switch s := spec.(type) {
	case hcldec.ObjectSpec:
		var object []byte
		names := make([]string, 0, len(s))
		for name := range s {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			value, err := specProto(s[name])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			var entry []byte
			entry = appendString(entry, mapEntryKey, name)
			entry = appendMessage(entry, mapEntryValue, value)
			object = appendMessage(object, objectAttributes, entry)
		}
		return appendMessage(nil, specObject, object), nil
	case *hcldec.AttrSpec:
		typ, err := ctyTypeProto(s.Type)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
		var attr []byte
		attr = appendString(attr, attrName, s.Name)
		attr = appendMessage(attr, attrType, typ)
		attr = appendBool(attr, attrRequired, s.Required)
		return appendMessage(nil, specAttr, attr), nil
	case *hcldec.BlockSpec:
		nested, err := specProto(s.Nested)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.TypeName, err)
		}
		var block []byte
		block = appendString(block, blockName, s.TypeName)
		block = appendBool(block, blockRequired, s.Required)
		block = appendMessage(block, blockNested, nested)
		return appendMessage(nil, specBlock, block), nil
	case *hcldec.BlockListSpec:
		nested, err := specProto(s.Nested)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.TypeName, err)
		}
		var list []byte
		list = appendString(list, blockListName, s.TypeName)
		list = appendMessage(list, blockListNested, nested)
		return appendMessage(nil, specBlockList, list), nil
	}
	return nil, fmt.Errorf("protocol v2 has no encoding for a %T", spec)
}

// ctyTypeProto encodes t as the CtyType message; primitives go by the
// name cty's GoString gives them, which is what Packer parses.
func ctyTypeProto(t cty.Type) ([]byte, error) {
	switch {
	case t.Equals(cty.String), t.Equals(cty.Bool), t.Equals(cty.Number):
		return appendMessage(nil, typePrimitive, appendString(nil, primitiveName, t.GoString())), nil
	case t.IsListType():
		elem, err := ctyTypeProto(t.ElementType())
		if err != nil {
			return nil, err
		}
		return appendMessage(nil, typeList, appendMessage(nil, collectionElement, elem)), nil
	case t.IsMapType():
		elem, err := ctyTypeProto(t.ElementType())
		if err != nil {
			return nil, err
		}
		return appendMessage(nil, typeMap, appendMessage(nil, collectionElement, elem)), nil
	}
	return nil, fmt.Errorf("protocol v2 has no encoding for the type %s", t.FriendlyName())
}

// appendMessage appends a length-delimited field, even an empty one: a
// oneof member must be present for Packer to see which one it is.
func appendMessage(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendBool leaves false out, as proto3 does.
func appendBool(b []byte, num protowire.Number, v bool) []byte {
	if !v {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, 1)
}

// builderConfigSpec is the net/rpc method whose reply protocol v2 changes.
const builderConfigSpec = packrpc.DefaultBuilderEndpoint + ".ConfigSpec"

// protobufConfigSpec is a net/rpc server codec that sends the builder's
// ConfigSpec reply in protobuf. Packer v1.6.6's rpc server, which the
// plugin serves, has gob-encoded the reply by then; it is replaced here,
// the one place between that server and the wire the plugin can reach.
type protobufConfigSpec struct {
	rpc.ServerCodec
	spec func() hcldec.ObjectSpec
}

func (c protobufConfigSpec) WriteResponse(r *rpc.Response, body any) error {
	if reply, ok := body.(*packrpc.ConfigSpecResponse); ok && r.ServiceMethod == builderConfigSpec && r.Error == "" {
		encoded, err := specProto(c.spec())
		if err != nil {
			r.Error = "ConfigSpec in protobuf: " + err.Error()
			reply.ConfigSpec = nil
		} else {
			reply.ConfigSpec = encoded
		}
	}
	return c.ServerCodec.WriteResponse(r, body)
}

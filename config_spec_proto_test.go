package main

import (
	"bytes"
	"fmt"
	"net/rpc"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
	packrpc "github.com/hashicorp/packer/packer-plugin-sdk/rpc"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/protobuf/encoding/protowire"
)

// The plugin's whole spec survives the encoding: read back field by field
// (tools/sdkcheck reads it with Packer's own SDK), it names every option
// with its type.
func TestConfigSpecProtoHoldsEveryOption(t *testing.T) {
	spec := new(Builder).ConfigSpec()
	encoded, err := specProto(spec)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for name, s := range spec {
		attr := s.(*hcldec.AttrSpec)
		want = append(want, fmt.Sprintf("%s=%s:%s", name, attr.Name, attr.Type.GoString()))
	}
	sort.Strings(want)
	got := readSpec(t, encoded)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// An empty object still says it is one: Packer tells the kinds of spec
// apart by which field is present.
func TestConfigSpecProtoOfEmptyObject(t *testing.T) {
	encoded, err := specProto(hcldec.ObjectSpec{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x0a, 0x00}; !bytes.Equal(encoded, want) {
		t.Errorf("got % x, want % x", encoded, want)
	}
}

func TestConfigSpecProtoOfBlocks(t *testing.T) {
	spec := hcldec.ObjectSpec{
		"inner": &hcldec.BlockSpec{TypeName: "inner", Required: true, Nested: hcldec.ObjectSpec{
			"on": &hcldec.AttrSpec{Name: "on", Type: cty.Bool},
		}},
		"many": &hcldec.BlockListSpec{TypeName: "many", Nested: hcldec.ObjectSpec{
			"n": &hcldec.AttrSpec{Name: "n", Type: cty.Map(cty.Number), Required: true},
		}},
	}
	encoded, err := specProto(spec)
	if err != nil {
		t.Fatal(err)
	}
	got := readSpec(t, encoded)
	want := []string{"inner=block inner required{on=on:cty.Bool}", "many=blocks many{n=n:cty.Map(cty.Number) required}"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %q, want %q", got, want)
	}
}

// What Packer cannot decode is an error here, naming the option.
func TestConfigSpecProtoRefusesWhatPackerCannotRead(t *testing.T) {
	for _, spec := range []hcldec.Spec{
		hcldec.ObjectSpec{"tags": &hcldec.AttrSpec{Name: "tags", Type: cty.Set(cty.String)}},
		hcldec.ObjectSpec{"any": &hcldec.AttrSpec{Name: "any", Type: cty.DynamicPseudoType}},
		hcldec.ObjectSpec{"attrs": &hcldec.BlockAttrsSpec{TypeName: "attrs", ElementType: cty.String}},
	} {
		if _, err := specProto(spec); err == nil {
			t.Errorf("%#v: no error", spec)
		}
	}
}

// The codec sends the Builder's ConfigSpec reply in protobuf and leaves
// every other reply as packer's rpc server made it.
func TestProtobufCodecRewritesOnlyTheConfigSpec(t *testing.T) {
	spec := hcldec.ObjectSpec{"suite": &hcldec.AttrSpec{Name: "suite", Type: cty.String}}
	inner := &recordingCodec{}
	codec := protobufConfigSpec{ServerCodec: inner, spec: func() hcldec.ObjectSpec { return spec }}
	want, _ := specProto(spec)

	reply := &packrpc.ConfigSpecResponse{ConfigSpec: []byte("gob")}
	if err := codec.WriteResponse(&rpc.Response{ServiceMethod: "Builder.ConfigSpec"}, reply); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(inner.body.(*packrpc.ConfigSpecResponse).ConfigSpec, want) {
		t.Errorf("Builder.ConfigSpec sent % x, want % x", reply.ConfigSpec, want)
	}
	for _, method := range []string{"Provisioner.ConfigSpec", "Builder.Prepare"} {
		other := &packrpc.ConfigSpecResponse{ConfigSpec: []byte("gob")}
		if err := codec.WriteResponse(&rpc.Response{ServiceMethod: method}, other); err != nil {
			t.Fatal(err)
		}
		if string(other.ConfigSpec) != "gob" {
			t.Errorf("%s's reply was changed", method)
		}
	}
	failed := &packrpc.ConfigSpecResponse{}
	if err := codec.WriteResponse(&rpc.Response{ServiceMethod: "Builder.ConfigSpec", Error: "boom"}, failed); err != nil {
		t.Fatal(err)
	}
	if failed.ConfigSpec != nil {
		t.Errorf("a failed call's reply was filled in")
	}
}

type recordingCodec struct {
	rpc.ServerCodec
	body any
}

func (c *recordingCodec) WriteResponse(_ *rpc.Response, body any) error {
	c.body = body
	return nil
}

// readSpec decodes a Spec message into one line per attribute of its
// root object, sorted, failing the test on anything malformed.
func readSpec(t *testing.T, b []byte) []string {
	t.Helper()
	num, body := oneField(t, b)
	if num != specObject {
		t.Fatalf("root is field %d, not an object", num)
	}
	var lines []string
	for _, entry := range fields(t, body) {
		if entry.num != objectAttributes {
			t.Fatalf("object field %d", entry.num)
		}
		var key, value string
		for _, f := range fields(t, entry.body) {
			switch f.num {
			case mapEntryKey:
				key = string(f.body)
			case mapEntryValue:
				value = describeSpec(t, f.body)
			}
		}
		lines = append(lines, key+"="+value)
	}
	sort.Strings(lines)
	return lines
}

func describeSpec(t *testing.T, b []byte) string {
	num, body := oneField(t, b)
	var name, typ, nested string
	var required bool
	for _, f := range fields(t, body) {
		switch {
		case f.num == 1:
			name = string(f.body)
		case num == specAttr && f.num == attrType:
			typ = describeType(t, f.body)
		case num == specAttr && f.num == attrRequired, num == specBlock && f.num == blockRequired:
			required = f.varint == 1
		case num == specBlock && f.num == blockNested, num == specBlockList && f.num == blockListNested:
			nested = "{" + strings.Join(readSpec(t, f.body), ",") + "}"
		}
	}
	suffix := ""
	if required {
		suffix = " required"
	}
	switch num {
	case specAttr:
		return name + ":" + typ + suffix
	case specBlock:
		return "block " + name + suffix + nested
	case specBlockList:
		return "blocks " + name + suffix + nested
	}
	t.Fatalf("spec kind %d", num)
	return ""
}

func describeType(t *testing.T, b []byte) string {
	num, body := oneField(t, b)
	_, inner := oneField(t, body)
	switch num {
	case typePrimitive:
		return string(inner)
	case typeList:
		return "cty.List(" + describeType(t, inner) + ")"
	case typeMap:
		return "cty.Map(" + describeType(t, inner) + ")"
	}
	t.Fatalf("type kind %d", num)
	return ""
}

type field struct {
	num    protowire.Number
	body   []byte
	varint uint64
}

func fields(t *testing.T, b []byte) []field {
	t.Helper()
	var out []field
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num}
		switch typ {
		case protowire.BytesType:
			f.body, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			f.varint, n = protowire.ConsumeVarint(b)
		default:
			t.Fatalf("field %d has wire type %d", num, typ)
		}
		if n < 0 {
			t.Fatalf("field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		out = append(out, f)
	}
	return out
}

// oneField reads a message that holds one field, as a oneof does.
func oneField(t *testing.T, b []byte) (protowire.Number, []byte) {
	t.Helper()
	fs := fields(t, b)
	if len(fs) != 1 {
		t.Fatalf("want one field, got %d", len(fs))
	}
	return fs[0].num, fs[0].body
}

// Stand-in for github.com/ugorji/go/codec: see the replace notes in ../go.mod.
module github.com/ugorji/go/codec

go 1.26

require ugorji.invalid/codec v1.2.8

replace ugorji.invalid/codec => github.com/ugorji/go/codec v1.2.8

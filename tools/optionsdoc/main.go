// Command optionsdoc writes the README's option table from the comments on
// the Config struct, so the two never drift apart.
//
//	optionsdoc CONFIG.go README.md
//
// It replaces what stands between the README's options markers.
package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"strings"
)

const (
	beginMarker = "<!-- options: generated from config.go by make generate -->\n"
	endMarker   = "<!-- options end -->\n"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: optionsdoc CONFIG.go README.md")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "optionsdoc:", err)
		os.Exit(1)
	}
}

func run(configPath, readmePath string) error {
	table, err := optionTable(configPath)
	if err != nil {
		return err
	}
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		return err
	}
	begin := bytes.Index(readme, []byte(beginMarker))
	end := bytes.Index(readme, []byte(endMarker))
	if begin < 0 || end < begin {
		return fmt.Errorf("%s lacks the markers %q and %q", readmePath, beginMarker, endMarker)
	}
	var out bytes.Buffer
	out.Write(readme[:begin+len(beginMarker)])
	out.WriteString(table)
	out.Write(readme[end:])
	return os.WriteFile(readmePath, out.Bytes(), 0o644)
}

// optionTable renders one row per Config field that has a mapstructure
// name, with the field's comment as the text.
func optionTable(configPath string) (string, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, configPath, nil, parser.ParseComments)
	if err != nil {
		return "", err
	}
	var fields *ast.FieldList
	ast.Inspect(file, func(n ast.Node) bool {
		if spec, ok := n.(*ast.TypeSpec); ok && spec.Name.Name == "Config" {
			if st, ok := spec.Type.(*ast.StructType); ok {
				fields = st.Fields
			}
		}
		return fields == nil
	})
	if fields == nil {
		return "", fmt.Errorf("%s has no Config struct", configPath)
	}
	var b strings.Builder
	b.WriteString("| option | meaning |\n|---|---|\n")
	for _, f := range fields.List {
		if f.Tag == nil || f.Doc == nil {
			continue
		}
		name := reflect.StructTag(strings.Trim(f.Tag.Value, "`")).Get("mapstructure")
		if name == "" || strings.HasPrefix(name, ",") {
			continue
		}
		text := strings.Join(strings.Fields(f.Doc.Text()), " ")
		fmt.Fprintf(&b, "| `%s` | %s |\n", name, strings.ReplaceAll(text, "|", "\\|"))
	}
	return b.String(), nil
}

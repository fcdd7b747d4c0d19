package main

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// builderDoc is the page whose errors table TestErrorsTableMatchesCode
// holds against the code.
const builderDoc = "docs/builders/nspawn.mdx"

// A row of the errors table lists in its first column the messages it
// explains, separated by " / ", each the first code span of its part; the
// rest of a part is a note. A message is the start of what the user sees,
// or, after the first, what follows the first's value when it does not
// name an option itself: `is empty` after `import: "…" is not a tar
// archive` stands for `import: "…" is empty`. In a message, NAME, … and
// ... stand for a value.
type errorRow struct {
	line     int
	messages []string
}

// TestErrorsTableMatchesCode checks that the code still produces every
// message the errors table explains: each must match a string literal of
// the plugin's own non-test Go files (a concatenation counts as one, its
// other operands as wildcards, as are formatting verbs), or such a string
// with another filling one of its wildcards, as an error wraps another.
func TestErrorsTableMatchesCode(t *testing.T) {
	doc, err := os.ReadFile(builderDoc)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := errorsTable(doc)
	if err != nil {
		t.Fatalf("%s: %v", builderDoc, err)
	}
	// A table this parser misreads as nearly empty would prove nothing.
	if len(rows) < 30 {
		t.Fatalf("%s: read %d rows of the errors table, want at least 30", builderDoc, len(rows))
	}
	code, err := codeStrings(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		for _, msg := range row.messages {
			if !producedBy(msg, code) {
				t.Errorf("%s:%d: no string in the code produces %q; make the row say what the code says", builderDoc, row.line, msg)
			}
		}
	}
}

func TestProducedBy(t *testing.T) {
	code := []string{
		"timeout: %q is not positive; give a duration",
		"%s: %q does not exist",
		"start %s: %w",
		"%s failed (%w): %s",
		"%s is not one of %s",
		"%s %s",
		"Warning: " + "%v",
	}
	for i := range code {
		code[i] = wildcardVerbs(code[i])
	}
	for _, tc := range []struct {
		msg  string
		want bool
	}{
		{`timeout: "…" is not positive`, true},
		{`timeout: "…" is not negative`, false},
		{`is not positive`, false}, // a message is the start of one
		{`cache_dir: "…" does not exist`, true},
		{`start NAME: machinectl start failed (…)`, true}, // one string in another
		{`start NAME: the container vanished while booting`, false},
		{`network: "…" is not one of veth, host, none`, true}, // a list is a value
		{`network: "…" is not one of two or three things`, false},
		{`unknown configuration key`, false}, // "%s %s" says nothing
		{`Warning: …`, true},
	} {
		if got := producedBy(tc.msg, code); got != tc.want {
			t.Errorf("producedBy(%q) = %v, want %v", tc.msg, got, tc.want)
		}
	}
}

func TestErrorsTableParsing(t *testing.T) {
	doc := "# x\n\n| a | b |\n|---|---|\n| `not` | this table is not the errors one |\n\n## Errors\n\nText.\n\n" +
		"| message | fix |\n|---|---|\n" +
		"| `a: \"…\" is bad` / `is worse` (a note with `code`) | Fix it. |\n" +
		"| `pipe \\| inside` | Fix \\| it. |\n\n" +
		"| `after the table` | no |\n"
	rows, err := errorsTable([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []errorRow{
		{line: 13, messages: []string{`a: "…" is bad`, `a: "…" is worse`}},
		{line: 14, messages: []string{"pipe | inside"}},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("rows: got %v, want %v", rows, want)
	}
	for _, bad := range []string{
		"# x\n",
		"## Errors\n\n| m | f |\n|---|---|\n| no code span | x |\n",
		"## Errors\n\n| m | f |\n|---|---|\n| `a: no value` / `is bad` | x |\n",
	} {
		if _, err := errorsTable([]byte(bad)); err == nil {
			t.Errorf("errorsTable(%q): want an error", bad)
		}
	}
}

// optionPrefix is how a message about an option starts; firstValue is a
// message up to its first value.
var (
	optionPrefix = regexp.MustCompile(`^[a-z_]+: `)
	firstValue   = regexp.MustCompile(`^.*?("…"|…)`)
)

// errorsTable reads the first column of the table under "## Errors".
func errorsTable(doc []byte) ([]errorRow, error) {
	var rows []errorRow
	inSection, inTable, seen := false, false, 0
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			if inSection {
				break
			}
			inSection = strings.TrimSpace(line) == "## Errors"
			continue
		}
		if !inSection {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break
			}
			continue
		}
		inTable = true
		if seen++; seen <= 2 { // the header and the delimiter row
			continue
		}
		cells := splitOutsideCode(line, "|")
		if len(cells) < 3 {
			return nil, fmt.Errorf("line %d: not a table row", n)
		}
		row := errorRow{line: n}
		for _, part := range splitOutsideCode(cells[1], " / ") {
			spans := codeSpans(part)
			if len(spans) == 0 {
				return nil, fmt.Errorf("line %d: %q holds no message in a code span", n, strings.TrimSpace(part))
			}
			msg := strings.ReplaceAll(spans[0], `\|`, "|")
			if len(row.messages) > 0 && !optionPrefix.MatchString(msg) {
				value := firstValue.FindString(row.messages[0])
				if value == "" {
					return nil, fmt.Errorf("line %d: %q continues a message with no value to continue from", n, msg)
				}
				msg = value + " " + msg
			}
			row.messages = append(row.messages, msg)
		}
		rows = append(rows, row)
	}
	if !inTable {
		return nil, fmt.Errorf("no table under \"## Errors\"")
	}
	return rows, nil
}

// splitOutsideCode splits s at each sep that is neither inside a code span
// nor, for "|", escaped.
func splitOutsideCode(s, sep string) []string {
	var parts []string
	inCode, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '`':
			inCode = !inCode
		case !inCode && strings.HasPrefix(s[i:], sep) && (i == 0 || s[i-1] != '\\'):
			parts = append(parts, s[start:i])
			start = i + len(sep)
			i += len(sep) - 1
		}
	}
	return append(parts, s[start:])
}

// codeSpans returns the contents of s's code spans.
func codeSpans(s string) []string {
	f := strings.Split(s, "`")
	var spans []string
	for i := 1; i < len(f)-1; i += 2 {
		spans = append(spans, f[i])
	}
	return spans
}

// codeStrings returns the string literals of the non-test Go files in dir,
// a concatenation as one string with its other operands as wildcards, and
// formatting verbs turned into wildcards.
func codeStrings(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var out []string
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BinaryExpr:
				if n.Op != token.ADD {
					return true
				}
				if s, ok := concatenation(n); ok {
					out = append(out, wildcardVerbs(s))
					return false
				}
			case *ast.BasicLit:
				if n.Kind == token.STRING {
					if s, err := strconv.Unquote(n.Value); err == nil {
						out = append(out, wildcardVerbs(s))
					}
				}
			}
			return true
		})
	}
	return out, nil
}

// wildcard stands for any value in both the code's strings and the
// table's messages.
const wildcard = '\x00'

// concatenation renders a + b + … holding at least one string literal,
// its other operands as wildcards.
func concatenation(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return concatenation(e.X)
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			break
		}
		x, xok := concatenation(e.X)
		y, yok := concatenation(e.Y)
		if !xok && !yok {
			return "", false
		}
		if !xok {
			x = "%v"
		}
		if !yok {
			y = "%v"
		}
		return x + y, true
	}
	return "", false
}

var verb = regexp.MustCompile(`%(%|[-+# 0]*(\[\d+\])?(\d+|\*)?(\.(\d+|\*)?)?[a-zA-Z])`)

func wildcardVerbs(s string) string {
	return verb.ReplaceAllStringFunc(s, func(v string) string {
		if v == "%%" {
			return "%"
		}
		return string(wildcard)
	})
}

var placeholder = regexp.MustCompile(`NAME|…|\.\.\.`)

// maxNesting bounds how deep a message may be built of the code's strings:
// an error wrapping another.
const maxNesting = 2

// minLetters is how many letters a string of the code needs to take part:
// a bare "%s: %s" says nothing a row could be held to.
const minLetters = 3

// producedBy says whether the code can produce msg, msg's placeholders
// filled in, at the start of a message: some string of the code matches it,
// each wildcard of that string filled in with a value (a word or two, or a
// comma-separated list: a name, a state, "machinectl start") or with
// another string of the code, in turn filled in. A wildcard never stands
// for a phrase, so a message the code lost cannot hide behind a "%s".
func producedBy(msg string, code []string) bool {
	m := &matcher{
		doc:     []rune(placeholder.ReplaceAllString(msg, string(wildcard)) + string(wildcard)),
		byFirst: make(map[rune][]int),
		memo:    make(map[state]bool),
	}
	// Only strings that hold some of the message's own text take part.
	grams := trigrams(m.doc)
	for _, s := range code {
		if !sharesTrigram([]rune(s), grams) {
			continue
		}
		letters := 0
		for _, r := range s {
			if unicode.IsLetter(r) {
				letters++
			}
		}
		if letters < minLetters {
			continue
		}
		r := []rune(s)
		m.code = append(m.code, r)
		m.byFirst[r[0]] = append(m.byFirst[r[0]], len(m.code)-1)
	}
	// The message is the start of what the user sees: of a string of the
	// code that starts as it does, or with a wildcard.
	for _, c := range slices.Concat(m.byFirst[m.doc[0]], m.byFirst[wildcard]) {
		if m.match(state{n: 1, stack: [maxNesting]frame{{c: c}}}) {
			return true
		}
	}
	return false
}

func trigrams(r []rune) map[string]bool {
	g := make(map[string]bool)
	for i := 0; i+3 <= len(r); i++ {
		if !slices.Contains(r[i:i+3], wildcard) {
			g[string(r[i:i+3])] = true
		}
	}
	return g
}

func sharesTrigram(r []rune, grams map[string]bool) bool {
	for i := 0; i+3 <= len(r); i++ {
		if grams[string(r[i:i+3])] {
			return true
		}
	}
	return false
}

// frame is a place in one of the code's strings: at j of string c, and
// whether its wildcard at j has taken runes of the message so far, and a
// space.
type frame struct {
	c, j         int
	took, spaced bool
}

// state is a place in the message, i, and the stack of code strings being
// matched, n deep, the innermost last.
type state struct {
	i, n  int
	stack [maxNesting]frame
}

type matcher struct {
	doc     []rune
	code    [][]rune
	byFirst map[rune][]int // the code's strings by their first rune
	memo    map[state]bool
}

func (m *matcher) match(s state) bool {
	if done, ok := m.memo[s]; ok {
		return done
	}
	m.memo[s] = false
	ok := m.step(s)
	m.memo[s] = ok
	return ok
}

func (m *matcher) step(s state) bool {
	top := s.stack[s.n-1]
	code, doc, i := m.code[top.c], m.doc, s.i
	if top.j == len(code) {
		if s.n == 1 {
			for ; i < len(doc); i++ {
				if doc[i] != wildcard {
					return false
				}
			}
			return true
		}
		s.stack[s.n-1] = frame{}
		s.n--
		return m.match(s.advance())
	}
	if i < len(doc) && doc[i] == wildcard {
		// The message's placeholder ends here, or takes the code's next
		// rune (or its whole wildcard).
		return m.match(s.at(i+1)) || m.match(s.advance())
	}
	if code[top.j] != wildcard {
		return i < len(doc) && doc[i] == code[top.j] && m.match(s.advance().at(i+1))
	}
	// The code's wildcard ends here, takes one more rune of a value, or
	// takes another of the code's strings.
	if m.match(s.advance()) {
		return true
	}
	if i == len(doc) {
		return false
	}
	t := s.at(i + 1)
	t.stack[t.n-1].took = true
	switch r := doc[i]; {
	case !unicode.IsSpace(r), i > 0 && doc[i-1] == ',':
		if m.match(t) {
			return true
		}
	case !top.spaced:
		t.stack[t.n-1].spaced = true
		if m.match(t) {
			return true
		}
	}
	// A wildcard is a value or another string, never both.
	if !top.took && s.n < maxNesting {
		for _, c := range slices.Concat(m.byFirst[doc[i]], m.byFirst[wildcard]) {
			t := s
			t.stack[t.n] = frame{c: c}
			t.n++
			if m.match(t) {
				return true
			}
		}
	}
	return false
}

func (s state) at(i int) state {
	s.i = i
	return s
}

// advance moves the innermost string past its current rune.
func (s state) advance() state {
	top := &s.stack[s.n-1]
	top.j++
	top.took, top.spaced = false, false
	return s
}

// linkedDocs are the documents whose relative links TestDocLinks follows.
var linkedDocs = []string{"README.md", "BENCHMARKS.md", "docs/README.md", "docs/builders/nspawn.mdx", "docs/testing.md", "docs/development.md"}

// TestDocLinks checks that every relative link in the docs leads to a file
// that exists and, with a #fragment, to a heading in it.
func TestDocLinks(t *testing.T) {
	docs, _ := filepath.Glob("docs/*.md")
	more, _ := filepath.Glob("docs/*/*.mdx")
	for _, d := range slices.Concat(docs, more) {
		if !slices.Contains(linkedDocs, d) {
			t.Errorf("%s is not in linkedDocs, so its links go unchecked", d)
		}
	}
	checked := 0
	for _, doc := range linkedDocs {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range links(string(text)) {
			checked++
			path, frag, _ := strings.Cut(l.target, "#")
			target := doc
			if path != "" {
				target = filepath.Join(filepath.Dir(doc), path)
				if _, err := os.Stat(target); err != nil {
					t.Errorf("%s:%d: link %q: %v", doc, l.line, l.target, err)
					continue
				}
			}
			if frag == "" {
				continue
			}
			body, err := os.ReadFile(target)
			if err != nil {
				t.Errorf("%s:%d: link %q: %v", doc, l.line, l.target, err)
				continue
			}
			if !slices.Contains(anchors(string(body)), frag) {
				t.Errorf("%s:%d: link %q: %s has no heading with the anchor #%s", doc, l.line, l.target, target, frag)
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked %d links, want at least 20: is the link syntax still read?", checked)
	}
}

// TestMDXHasNoStrayMarkup checks the MDX pages for what MDX would take for
// JSX or an expression outside code: "{", "}" or a "<" that opens no
// comment.
func TestMDXHasNoStrayMarkup(t *testing.T) {
	pages, _ := filepath.Glob("docs/*/*.mdx")
	partials, _ := filepath.Glob("docs-partials/*.mdx")
	for _, page := range slices.Concat(pages, partials) {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range proseLines(string(text)) {
			if strings.ContainsAny(strings.ReplaceAll(l.prose, "<!--", ""), "{}<") {
				t.Errorf("%s:%d: %q holds {, } or < outside code, which MDX reads as markup", page, l.n, l.text)
			}
		}
	}
}

type link struct {
	line   int
	target string
}

var linkPattern = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// links returns the relative links of a Markdown text, outside code.
func links(text string) []link {
	var out []link
	for _, l := range proseLines(text) {
		for _, m := range linkPattern.FindAllStringSubmatch(l.prose, -1) {
			if !strings.Contains(m[1], "://") && !strings.HasPrefix(m[1], "mailto:") {
				out = append(out, link{line: l.n, target: m[1]})
			}
		}
	}
	return out
}

// numberedLine is a line of Markdown, n its number; prose is its text
// outside code spans, which may run on from the line before.
type numberedLine struct {
	n           int
	text, prose string
}

// proseLines returns a Markdown text's lines, less fenced code blocks and
// a front matter.
func proseLines(text string) []numberedLine {
	var out []numberedLine
	fenced, front, inCode := false, false, false
	for n, line := range strings.Split(text, "\n") {
		switch {
		case n == 0 && line == "---":
			front = true
		case front:
			front = line != "---"
		case strings.HasPrefix(strings.TrimSpace(line), "```"):
			fenced = !fenced
		case !fenced:
			if strings.TrimSpace(line) == "" {
				inCode = false // a code span ends with its paragraph
			}
			var prose strings.Builder
			for i, part := range strings.Split(line, "`") {
				if i > 0 {
					inCode = !inCode
				}
				if !inCode {
					prose.WriteString(part + " ")
				}
			}
			out = append(out, numberedLine{n + 1, line, prose.String()})
		}
	}
	return out
}

// anchors returns the fragments GitHub gives a text's headings: lower
// case, spaces as hyphens, other punctuation dropped, repeats numbered.
func anchors(text string) []string {
	var out []string
	seen := make(map[string]int)
	for _, l := range proseLines(text) {
		title, ok := strings.CutPrefix(strings.TrimLeft(l.text, "#"), " ")
		if !ok || !strings.HasPrefix(l.text, "#") {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(title)) {
			switch {
			case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		a := b.String()
		if k := seen[a]; k > 0 {
			a = fmt.Sprintf("%s-%d", a, k)
		}
		seen[b.String()]++
		out = append(out, a)
	}
	return out
}

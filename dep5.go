package main

import (
	"regexp"
	"strings"
)

// The licenses of a Debian package, from its machine-readable copyright
// file (DEP-5, https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/),
// as an SPDX license expression.

// noAssertion is SPDX's word for "not known": the copyright file is
// missing, not machine-readable, or names no license.
const noAssertion = "NOASSERTION"

// dep5Licenses is the declared license of the package whose copyright
// file is text: the distinct licenses of its Files paragraphs, each
// turned into an SPDX expression, joined with AND. It is NOASSERTION when
// the file is not in the copyright format 1.0 or names no license.
func dep5Licenses(text []byte) string {
	paragraphs := deb822Paragraphs(string(text))
	if len(paragraphs) == 0 || !strings.Contains(paragraphs[0]["format"], "copyright-format/1.0") {
		return noAssertion
	}
	// The licenses are ANDed: each expression's own AND terms count once.
	var terms []string
	seen := map[string]bool{}
	for _, p := range paragraphs[1:] {
		if _, ok := p["files"]; !ok {
			continue
		}
		// The license's short name; the lines after it, its text.
		synopsis := p["license"]
		if synopsis == "" {
			continue
		}
		for _, term := range splitTopLevel(dep5Expression(synopsis), " AND ") {
			term = unwrap(term)
			if len(splitTopLevel(term, " OR ")) > 1 {
				term = "(" + term + ")"
			}
			if !seen[term] {
				seen[term] = true
				terms = append(terms, term)
			}
		}
	}
	switch len(terms) {
	case 0:
		return noAssertion
	case 1:
		return unwrap(terms[0])
	}
	return strings.Join(terms, " AND ")
}

// splitTopLevel splits expr at each op outside parentheses.
func splitTopLevel(expr, op string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(expr); i++ {
		switch {
		case expr[i] == '(':
			depth++
		case expr[i] == ')':
			depth--
		case depth == 0 && strings.HasPrefix(expr[i:], op):
			parts = append(parts, expr[start:i])
			start = i + len(op)
			i += len(op) - 1
		}
	}
	return append(parts, expr[start:])
}

// unwrap drops parentheses around the whole of expr.
func unwrap(expr string) string {
	for strings.HasPrefix(expr, "(") && strings.HasSuffix(expr, ")") {
		depth := 0
		for i := 0; i < len(expr); i++ {
			switch expr[i] {
			case '(':
				depth++
			case ')':
				depth--
			}
			if depth == 0 && i < len(expr)-1 {
				return expr // "(a) AND (b)"
			}
		}
		expr = expr[1 : len(expr)-1]
	}
	return expr
}

// deb822Paragraphs splits text into paragraphs of fields, each keyed by
// its lower-case name. Only a field's first line is kept, all that the
// license needs: the rest is its text, which may run to megabytes.
func deb822Paragraphs(text string) []map[string]string {
	var paragraphs []map[string]string
	var p map[string]string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		switch {
		case strings.TrimSpace(line) == "":
			p = nil
		case line[0] == '#', line[0] == ' ', line[0] == '\t':
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			if p == nil {
				p = map[string]string{}
				paragraphs = append(paragraphs, p)
			}
			p[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(value)
		}
	}
	return paragraphs
}

var (
	// A comma before "and" or "or" makes it bind last: "A or B, and C"
	// is (A or B) and C.
	dep5CommaOp = regexp.MustCompile(`(?i)\s*,\s*(and|or)\s+`)
	dep5Or      = regexp.MustCompile(`(?i)\s+or\s+`)
	dep5And     = regexp.MustCompile(`(?i)\s+and\s+`)
	dep5With    = regexp.MustCompile(`(?i)\s+with\s+`)
)

// dep5Expression turns a License field's short name, such as "GPL-2+ or
// Artistic" or "GPL-2+ with OpenSSL exception", into an SPDX expression.
func dep5Expression(synopsis string) string {
	synopsis = strings.Join(strings.Fields(synopsis), " ")
	ops := dep5CommaOp.FindAllStringSubmatch(synopsis, -1)
	parts := dep5CommaOp.Split(synopsis, -1)
	expr := dep5OrExpression(parts[0])
	for i, op := range ops {
		o := strings.ToUpper(op[1])
		expr = parenthesised(expr, o) + " " + o + " " + parenthesised(dep5OrExpression(parts[i+1]), o)
	}
	return expr
}

// dep5OrExpression translates "A and B or C": and binds tighter, as AND
// does in SPDX, so the operators carry over as they are.
func dep5OrExpression(s string) string {
	var alternatives []string
	for _, alt := range dep5Or.Split(s, -1) {
		var terms []string
		conjuncts := dep5And.Split(alt, -1)
		for _, term := range conjuncts {
			t := dep5Term(term)
			if len(conjuncts) > 1 {
				t = parenthesised(t, "AND") // Perl's terms
			}
			terms = append(terms, t)
		}
		alternatives = append(alternatives, strings.Join(terms, " AND "))
	}
	return strings.Join(alternatives, " OR ")
}

// parenthesised wraps expr for use as an operand of op when it has the
// other operator at its top level.
func parenthesised(expr, op string) string {
	other := " OR "
	if op == "OR" {
		other = " AND "
	}
	if len(splitTopLevel(expr, other)) > 1 {
		return "(" + expr + ")"
	}
	return expr
}

// dep5Term translates one license, with its exception if any. A license
// or exception SPDX does not list makes the whole term a LicenseRef.
func dep5Term(term string) string {
	name, exception, with := cutRegexp(term, dep5With)
	id := spdxLicenseID(name)
	if !with {
		if id == "" {
			return licenseRef(term)
		}
		return id
	}
	exceptionID := spdxExceptionID(exception, id)
	if id == "" || exceptionID == "" || strings.HasPrefix(id, "LicenseRef-") || strings.Contains(id, " ") {
		return licenseRef(term)
	}
	return id + " WITH " + exceptionID
}

func cutRegexp(s string, re *regexp.Regexp) (before, after string, found bool) {
	loc := re.FindStringIndex(s)
	if loc == nil {
		return s, "", false
	}
	return s[:loc[0]], s[loc[1]:], true
}

// licenseRef names a license SPDX does not list: LicenseRef- and the name
// in SPDX's idstring characters.
func licenseRef(name string) string {
	return "LicenseRef-" + spdxID(strings.TrimSpace(name))
}

// spdxID puts s in SPDX's idstring characters, [A-Za-z0-9.-], for
// element ids and LicenseRefs: '+' becomes "-plus", any other character
// outside them '-'.
func spdxID(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		case r == '+':
			b.WriteString("-plus")
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// gnuLicense is a GNU license with its version, as DEP-5 ("GPL-2+") or
// SPDX ("GPL-2.0-or-later") writes it.
var gnuLicense = regexp.MustCompile(`^(gpl|lgpl|agpl|gfdl|gfdl-niv)-([0-9](?:\.[0-9])?)(\+|-or-later|-only)?$`)

// gnuVersions are the versions SPDX lists of each GNU license.
var gnuVersions = map[string][]string{
	"GPL":      {"1.0", "2.0", "3.0"},
	"LGPL":     {"2.0", "2.1", "3.0"},
	"AGPL":     {"1.0", "3.0"},
	"GFDL":     {"1.1", "1.2", "1.3"},
	"GFDL-NIV": {"1.1", "1.2", "1.3"},
}

// dep5Names maps the short names DEP-5 and Debian's copyright files use
// to SPDX identifiers, keyed in lower case; the GNU licenses are
// gnuLicense's. An SPDX identifier itself maps to itself.
var dep5Names = map[string]string{
	"expat":                    "MIT",
	"mit":                      "MIT",
	"mit-0":                    "MIT-0",
	"x11":                      "X11",
	"bsd-2-clause":             "BSD-2-Clause",
	"bsd-3-clause":             "BSD-3-Clause",
	"bsd-4-clause":             "BSD-4-Clause",
	"0bsd":                     "0BSD",
	"isc":                      "ISC",
	"zlib":                     "Zlib",
	"apache-1.0":               "Apache-1.0",
	"apache-1.1":               "Apache-1.1",
	"apache-2":                 "Apache-2.0",
	"apache-2.0":               "Apache-2.0",
	"artistic":                 "Artistic-1.0-Perl",
	"artistic-1.0":             "Artistic-1.0",
	"artistic-2.0":             "Artistic-2.0",
	"perl":                     "GPL-1.0-or-later OR Artistic-1.0-Perl",
	"public-domain":            "LicenseRef-public-domain",
	"mpl-1.1":                  "MPL-1.1",
	"mpl-2.0":                  "MPL-2.0",
	"cc0":                      "CC0-1.0",
	"cc0-1.0":                  "CC0-1.0",
	"cc-by-3.0":                "CC-BY-3.0",
	"cc-by-4.0":                "CC-BY-4.0",
	"cc-by-sa-3.0":             "CC-BY-SA-3.0",
	"cc-by-sa-4.0":             "CC-BY-SA-4.0",
	"epl-1.0":                  "EPL-1.0",
	"epl-2.0":                  "EPL-2.0",
	"psf-2":                    "PSF-2.0",
	"psf-2.0":                  "PSF-2.0",
	"python-2.0":               "Python-2.0",
	"openssl":                  "OpenSSL",
	"bsl-1.0":                  "BSL-1.0",
	"boost-1.0":                "BSL-1.0",
	"curl":                     "curl",
	"ftl":                      "FTL",
	"ijg":                      "IJG",
	"libpng":                   "Libpng",
	"libpng-2.0":               "libpng-2.0",
	"ofl-1.1":                  "OFL-1.1",
	"sil-ofl-1.1":              "OFL-1.1",
	"unicode-dfs-2016":         "Unicode-DFS-2016",
	"ruby":                     "Ruby",
	"sleepycat":                "Sleepycat",
	"tcl":                      "TCL",
	"info-zip":                 "Info-ZIP",
	"postgresql":               "PostgreSQL",
	"hpnd":                     "HPND",
	"ntp":                      "NTP",
	"wtfpl":                    "WTFPL",
	"unlicense":                "Unlicense",
	"bzip2-1.0.6":              "bzip2-1.0.6",
	"beerware":                 "Beerware",
	"fsfap":                    "FSFAP",
	"fsful":                    "FSFUL",
	"fsfullr":                  "FSFULLR",
	"latex2e":                  "Latex2e",
	"afl-2.1":                  "AFL-2.1",
	"afl-3.0":                  "AFL-3.0",
	"mit-cmu":                  "MIT-CMU",
	"openldap-2.8":             "OLDAP-2.8",
	"bsd-3-clause-attribution": "BSD-3-Clause-Attribution",
	"bsd-4-clause-uc":          "BSD-4-Clause-UC",
	"cc-by-sa-2.0":             "CC-BY-SA-2.0",
	"cc-by-2.0":                "CC-BY-2.0",
	"mpl-1.0":                  "MPL-1.0",
	"ncsa":                     "NCSA",
	"w3c":                      "W3C",
	"vim":                      "Vim",
	"zpl-2.1":                  "ZPL-2.1",
}

// spdxLicenseID is the SPDX identifier (or, for Perl's terms, expression)
// for a DEP-5 short name, or "" if it has none.
func spdxLicenseID(name string) string {
	lower := strings.ToLower(strings.TrimSpace(name))
	if id, ok := dep5Names[lower]; ok {
		return id
	}
	m := gnuLicense.FindStringSubmatch(lower)
	if m == nil {
		return ""
	}
	family, version := strings.ToUpper(m[1]), m[2]
	if !strings.Contains(version, ".") {
		version += ".0"
	}
	if !contains(gnuVersions[family], version) {
		return ""
	}
	suffix := "-only"
	if m[3] == "+" || m[3] == "-or-later" {
		suffix = "-or-later"
	}
	if family == "GFDL-NIV" {
		return "GFDL-" + version + "-no-invariants" + suffix
	}
	return family + "-" + version + suffix
}

// dep5Exceptions maps the exceptions Debian's copyright files name after
// "with" (less the word "exception") to SPDX's exception identifiers.
var dep5Exceptions = map[string]string{
	"font":               "Font-exception-2.0",
	"libtool":            "Libtool-exception",
	"bison":              "Bison-exception-2.2",
	"bison-2.2":          "Bison-exception-2.2",
	"gcc-runtime-3.1":    "GCC-exception-3.1",
	"gcc-3.1":            "GCC-exception-3.1",
	"gcc-2.0":            "GCC-exception-2.0",
	"classpath":          "Classpath-exception-2.0",
	"classpath-2.0":      "Classpath-exception-2.0",
	"linux-syscall-note": "Linux-syscall-note",
	"llvm":               "LLVM-exception",
	"autoconf-2.0":       "Autoconf-exception-2.0",
	"autoconf-3.0":       "Autoconf-exception-3.0",
}

// spdxExceptionID is SPDX's identifier for the exception phrase ("OpenSSL
// exception", "Autoconf exception") attached to the license id, or "".
func spdxExceptionID(phrase, license string) string {
	// "Font exception", "BISON-EXCEPTION", "Autoconf-data exception".
	name := strings.ToLower(strings.TrimSpace(phrase))
	name = strings.Trim(strings.TrimSuffix(name, "exception"), " -")
	if name == "autoconf" {
		// The autoconf exceptions differ by the GPL they go with.
		switch {
		case strings.HasPrefix(license, "GPL-2.0"):
			return "Autoconf-exception-2.0"
		case strings.HasPrefix(license, "GPL-3.0"):
			return "Autoconf-exception-3.0"
		}
		return ""
	}
	return dep5Exceptions[name]
}

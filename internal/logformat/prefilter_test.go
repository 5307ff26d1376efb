package logformat

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
	"unicode/utf8"
)

// TestPrefilterHoldsEveryMapping reads the mappings' source and checks that
// every message and prefix they compare a message with passes the
// prefilter, also when the message is written with escapes: a mapping
// added without its head in prefilter.go fails here.
func TestPrefilterHoldsEveryMapping(t *testing.T) {
	checks := []struct {
		file, fn string
		may      func(string) bool
	}{
		{"kubelet.go", "kubeletEvent", kubeletMayMatch},
		{"containerd.go", "containerdEvent", runtimeMayMatch},
		{"crio.go", "crioEvent", runtimeMayMatch},
	}
	for _, c := range checks {
		lits := mappingLiterals(t, c.file, c.fn)
		if len(lits) < 8 {
			t.Fatalf("%s: only %d literals found in %s: the source walk is broken", c.file, len(lits), c.fn)
		}
		for _, l := range lits {
			// The message as written in a quoted value, alone and with
			// more text (with escapes) after it.
			for _, m := range []string{l, l + ` rest "quoted"`} {
				q := strconv.Quote(m)
				if raw := q[1 : len(q)-1]; !c.may(raw) {
					t.Errorf("%s: %s compares with %q, but the prefilter rejects the message %s", c.file, c.fn, l, q)
				}
			}
		}
	}
}

// mappingLiterals returns the string literals fn compares its message m
// with: switch m cases, strings.HasPrefix/CutPrefix/Contains(m, …),
// cutPrefix2(m, …), and the elements of array literals it ranges over.
func mappingLiterals(t *testing.T, file, fn string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	add := func(e ast.Expr) {
		if bl, ok := e.(*ast.BasicLit); ok && bl.Kind == token.STRING {
			s, err := strconv.Unquote(bl.Value)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
	}
	isM := func(e ast.Expr) bool { id, ok := e.(*ast.Ident); return ok && id.Name == "m" }
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != fn {
			continue
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SwitchStmt:
				if n.Tag != nil && isM(n.Tag) {
					for _, s := range n.Body.List {
						for _, e := range s.(*ast.CaseClause).List {
							add(e)
						}
					}
				}
			case *ast.CallExpr:
				name := ""
				switch f := n.Fun.(type) {
				case *ast.SelectorExpr:
					name = f.Sel.Name
				case *ast.Ident:
					name = f.Name
				}
				switch name {
				case "HasPrefix", "CutPrefix", "Contains", "cutPrefix2":
					if len(n.Args) > 1 && isM(n.Args[0]) {
						for _, a := range n.Args[1:] {
							add(a)
						}
					}
				}
			case *ast.RangeStmt:
				if cl, ok := n.X.(*ast.CompositeLit); ok {
					for _, e := range cl.Elts {
						add(e)
					}
				}
			}
			return true
		})
	}
	return out
}

func TestUnquoteAndValidQuoted(t *testing.T) {
	for _, s := range []string{``, `a`, `a\"b`, `\\`, `\`, `a\`, `\x41\u00e9\U0001F600\101\n\t\a`, `\'`, `\8`, `\400`, `\uD800`, `\U00110000`, `a"b`, "a\nb", `\q`, `\x4`, `é\"`} {
		checkUnquote(t, s)
	}
}

func checkUnquote(t *testing.T, s string) {
	t.Helper()
	q := `"` + s + `"`
	want, wantErr := strconv.Unquote(q)
	got, gotErr := unquote(q)
	if (wantErr != nil) != (gotErr != nil) || got != want {
		t.Errorf("unquote(%s) = %q, %v; strconv.Unquote: %q, %v", q, got, gotErr, want, wantErr)
	}
	if utf8.ValidString(s) {
		if v := validQuoted(s); v != (wantErr == nil) {
			t.Errorf("validQuoted(%q) = %v; strconv.Unquote's error: %v", s, v, wantErr)
		}
	}
}

// FuzzUnquote: unquote and validQuoted agree with strconv.Unquote.
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`a\"b`, `\x41\u00e9`, `\400`, `\uD800`, "\xff\\\"", `PullImage \"busybox:1\"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkUnquote(t, s) })
}

// FuzzQuotedEnd: quotedEnd finds the quote a byte-by-byte scan finds.
func FuzzQuotedEnd(f *testing.F) {
	for _, s := range []string{`"a\"b" c`, `"\\" x`, `"\\\"`, `"`, `"abc`, `"a\\\\"b"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := -1
		for i := 1; i < len(s); i++ {
			if s[i] == '\\' {
				i++
			} else if s[i] == '"' {
				want = i
				break
			}
		}
		if got := quotedEnd(s); got != want {
			t.Errorf("quotedEnd(%q) = %d, want %d", s, got, want)
		}
	})
}

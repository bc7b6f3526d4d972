package keel_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
	"time"

	"github.com/keel-go/keel"
)

// TestDefaultsDocumented: each Default constant's doc comment ends with its
// value, since go doc shows the constant as the internal name it refers to;
// this keeps the two from drifting apart.
func TestDefaultsDocumented(t *testing.T) {
	values := map[string]any{
		"DefaultDialTimeout":      keel.DefaultDialTimeout,
		"DefaultHealthTimeout":    keel.DefaultHealthTimeout,
		"DefaultPingInterval":     keel.DefaultPingInterval,
		"DefaultIdlePingInterval": keel.DefaultIdlePingInterval,
		"DefaultRefreshInterval":  keel.DefaultRefreshInterval,
		"DefaultIncidentInterval": keel.DefaultIncidentInterval,
		"DefaultRefreshTimeout":   keel.DefaultRefreshTimeout,
		"DefaultMaxRedirects":     keel.DefaultMaxRedirects,
		"DefaultRetryTimeout":     keel.DefaultRetryTimeout,
		"DefaultWatchAttempts":    keel.DefaultWatchAttempts,
		"DefaultCloseTimeout":     keel.DefaultCloseTimeout,
	}
	f, err := parser.ParseFile(token.NewFileSet(), "options.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			name := vs.Names[0].Name
			v, ok := values[name]
			if !ok {
				continue
			}
			seen++
			if d, ok := v.(time.Duration); ok {
				v = d.String()
			}
			doc := strings.TrimSpace(vs.Doc.Text())
			if want := fmt.Sprintf(": %v.", v); !strings.HasSuffix(doc, want) {
				t.Errorf("%s = %v, but its comment says %q", name, v, doc)
			}
		}
	}
	if seen != len(values) {
		t.Errorf("found %d of the %d Default constants in options.go", seen, len(values))
	}
}

package client_test

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/volcard/volcard/"

// TestImports keeps the layering of issue #21: the server and the client
// side share only the wire types. The api package (not its tests) imports
// no client package, the client side imports no server package, and wire
// imports nothing of volcard's but evidence.
func TestImports(t *testing.T) {
	for _, tc := range []struct {
		dir       string // relative to this package
		forbidden []string
		allowed   []string // when set, the only volcard imports allowed
	}{
		{dir: "../api", forbidden: []string{"client"}},
		{dir: ".", forbidden: []string{"api"}},
		{dir: "terminal", forbidden: []string{"api"}},
		{dir: "personalize", forbidden: []string{"api"}},
		{dir: "enroll", forbidden: []string{"api"}},
		{dir: "../wire", allowed: []string{"evidence"}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			p, err := build.ImportDir(filepath.FromSlash(tc.dir), 0)
			require.NoError(t, err)
			for _, imp := range p.Imports {
				rel, ok := strings.CutPrefix(imp, module)
				if !ok {
					continue
				}
				for _, f := range tc.forbidden {
					require.False(t, rel == f || strings.HasPrefix(rel, f+"/"), "%s imports %s", tc.dir, imp)
				}
				if tc.allowed != nil {
					require.Contains(t, tc.allowed, rel, "%s imports %s", tc.dir, imp)
				}
			}
		})
	}
}

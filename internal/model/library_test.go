package model

import (
	"io/fs"
	"testing"
)

// The whole embedded library loads and validates with zero problems. It
// runs over whatever the library holds.
func TestLibrary(t *testing.T) {
	set, ps := Builtins()
	for _, p := range ps {
		t.Error(p.String())
	}
	var files []string
	for _, dir := range libraryDirs {
		m, _ := fs.Glob(Library(), dir+"/*.yaml")
		files = append(files, m...)
	}
	if set.Len() != len(files) && len(ps) == 0 {
		t.Errorf("%d documents for %d files", set.Len(), len(files))
	}
	t.Logf("%d built-in documents", set.Len())
}

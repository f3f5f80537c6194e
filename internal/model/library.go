package model

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// The built-in library: knowledge bases in library/kb, regulatory models in
// library/regulatory, sector models in library/sectors. Other files (such as
// library/sectors-misp.yaml, the sector lists) are not model documents.
//
//go:embed library
var libraryFS embed.FS

// libraryDirs are the folders of the library that hold model documents.
var libraryDirs = []string{"kb", "regulatory", "sectors"}

// Library returns the embedded library folder (for tools and tests).
func Library() fs.FS {
	sub, _ := fs.Sub(libraryFS, "library")
	return sub
}

// Builtins parses and validates every built-in document. Problems name the
// files relative to the library ("sectors/rail.yaml"). The set holds every
// document that could be decoded, even when some have problems.
func Builtins() (*Set, []Problem) {
	return LoadDir(Library(), libraryDirs...)
}

// LoadDir parses every .yaml, .yml and .json file under dirs of fsys (in
// name order) into a set, and validates it.
func LoadDir(fsys fs.FS, dirs ...string) (*Set, []Problem) {
	var names []string
	for _, dir := range dirs {
		_ = fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			switch strings.ToLower(path.Ext(p)) {
			case ".yaml", ".yml", ".json":
				names = append(names, p)
			}
			return nil
		})
	}
	sort.Strings(names)
	set := &Set{}
	var ps []Problem
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			ps = append(ps, problem(n, 0, "", "model.err.syntax", err.Error()))
			continue
		}
		d, p := Parse(n, b)
		ps = append(ps, p...)
		set.Add(d)
	}
	ps = append(ps, Validate(set)...)
	SortProblems(ps)
	return set, ps
}

package model

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
)

// Op is what happened to an element between two versions.
type Op string

const (
	Added   Op = "added"
	Removed Op = "removed"
	Changed Op = "changed"
)

// Change is one difference between two documents. Path names elements of
// lists by their code (or level number, or threat), prefixed with "+" when
// added and "-" when removed:
// "essential_services[electricity-transmission].sub_services[+dispatching]",
// "risk.matrix.cells[2][3]", "assets[scada-ems].labels.fr". Old and New are
// the JSON values (nil when absent).
type Change struct {
	Op   Op     `json:"op"`
	Path string `json:"path"`
	Old  any    `json:"old,omitempty"`
	New  any    `json:"new,omitempty"`
}

// Diff returns what changed from a to b, in document order for b (removed
// elements follow the place they had in a). Pure; a nil document is empty.
func Diff(a, b *Document) []Change {
	var out []Change
	diffValue(&out, "", tree(a), tree(b))
	return out
}

func tree(d *Document) any {
	if d == nil {
		return map[string]any{}
	}
	var v any
	_ = json.Unmarshal(d.JSON(), &v)
	return v
}

func diffValue(out *[]Change, path string, a, b any) {
	switch av := a.(type) {
	case map[string]any:
		if bv, ok := b.(map[string]any); ok {
			diffMap(out, path, av, bv)
			return
		}
	case []any:
		if bv, ok := b.([]any); ok {
			diffList(out, path, av, bv)
			return
		}
	}
	if !reflect.DeepEqual(a, b) {
		*out = append(*out, Change{Op: Changed, Path: path, Old: a, New: b})
	}
}

func diffMap(out *[]Change, path string, a, b map[string]any) {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := joinPath(path, k)
		av, inA := a[k]
		bv, inB := b[k]
		switch {
		case !inA:
			*out = append(*out, Change{Op: Added, Path: p, New: bv})
		case !inB:
			*out = append(*out, Change{Op: Removed, Path: p, Old: av})
		default:
			diffValue(out, p, av, bv)
		}
	}
}

// elementKey returns the field that identifies the elements of a list, or
// "" when the list is matched by position.
func elementKey(xs ...[]any) string {
	for _, key := range []string{"code", "threat", "level"} {
		ok, some := true, false
		for _, l := range xs {
			for _, x := range l {
				m, isMap := x.(map[string]any)
				if !isMap || m[key] == nil {
					ok = false
				}
				some = true
			}
		}
		if ok && some {
			return key
		}
	}
	return ""
}

func keyOf(x any, key string) string {
	return fmt.Sprint(x.(map[string]any)[key])
}

// scalars reports whether every element is a distinct string (a list of
// codes, diffed as a set).
func scalars(xs ...[]any) bool {
	for _, l := range xs {
		seen := map[string]bool{}
		for _, x := range l {
			s, ok := x.(string)
			if !ok || seen[s] {
				return false
			}
			seen[s] = true
		}
	}
	return true
}

func diffList(out *[]Change, path string, a, b []any) {
	if key := elementKey(a, b); key != "" {
		ia := map[string]any{}
		for _, x := range a {
			ia[keyOf(x, key)] = x
		}
		ib := map[string]bool{}
		for _, x := range b {
			ib[keyOf(x, key)] = true
		}
		for _, x := range a {
			if k := keyOf(x, key); !ib[k] {
				*out = append(*out, Change{Op: Removed, Path: fmt.Sprintf("%s[-%s]", path, k), Old: x})
			}
		}
		for _, x := range b {
			k := keyOf(x, key)
			if old, ok := ia[k]; ok {
				diffValue(out, fmt.Sprintf("%s[%s]", path, k), old, x)
			} else {
				*out = append(*out, Change{Op: Added, Path: fmt.Sprintf("%s[+%s]", path, k), New: x})
			}
		}
		return
	}
	if scalars(a, b) {
		inB := map[string]bool{}
		for _, x := range b {
			inB[x.(string)] = true
		}
		inA := map[string]bool{}
		for _, x := range a {
			inA[x.(string)] = true
			if !inB[x.(string)] {
				*out = append(*out, Change{Op: Removed, Path: fmt.Sprintf("%s[-%s]", path, x), Old: x})
			}
		}
		for _, x := range b {
			if !inA[x.(string)] {
				*out = append(*out, Change{Op: Added, Path: fmt.Sprintf("%s[+%s]", path, x), New: x})
			}
		}
		return
	}
	for i := 0; i < len(a) || i < len(b); i++ {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case i >= len(a):
			*out = append(*out, Change{Op: Added, Path: p, New: b[i]})
		case i >= len(b):
			*out = append(*out, Change{Op: Removed, Path: p, Old: a[i]})
		default:
			diffValue(out, p, a[i], b[i])
		}
	}
}

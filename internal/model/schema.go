package model

import (
	"bytes"
	"embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed schema/*.json
var schemaFiles embed.FS

// Schema returns the JSON Schema (2020-12) of a document kind
// ("regulatory-model", "knowledge-base" or "sector-model"), as served at
// /api/v1/schemas/{kind}.json.
func Schema(k string) ([]byte, bool) {
	if !Kind(k).Valid() {
		return nil, false
	}
	b, err := schemaFiles.ReadFile("schema/" + k + ".json")
	return b, err == nil
}

var (
	compileOnce sync.Once
	compiled    map[Kind]*jsonschema.Schema
	compileErr  error
)

func compileSchemas() {
	compiled = map[Kind]*jsonschema.Schema{}
	c := jsonschema.NewCompiler()
	for _, k := range Kinds {
		b, _ := Schema(string(k))
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			compileErr = fmt.Errorf("schema %s: %w", k, err)
			return
		}
		url := "https://nisduc.eu/api/v1/schemas/" + string(k) + ".json"
		if err := c.AddResource(url, doc); err != nil {
			compileErr = fmt.Errorf("schema %s: %w", k, err)
			return
		}
		s, err := c.Compile(url)
		if err != nil {
			compileErr = fmt.Errorf("schema %s: %w", k, err)
			return
		}
		compiled[k] = s
	}
}

var printer = message.NewPrinter(language.English)

// schemaProblems validates a decoded JSON value against the schema of k and
// locates each error with line(path).
func schemaProblems(k Kind, value any, file string, line func(string) int) []Problem {
	compileOnce.Do(compileSchemas)
	if compileErr != nil {
		return []Problem{problem(file, 0, "", "model.err.schema", compileErr.Error())}
	}
	err := compiled[k].Validate(value)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []Problem{problem(file, 0, "", "model.err.schema", err.Error())}
	}
	var out []Problem
	seen := map[string]bool{}
	add := func(p Problem) {
		if k := p.Path + "\x00" + p.Message; !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		path := pointerPath(e.InstanceLocation)
		switch ek := e.ErrorKind.(type) {
		case *kind.AdditionalProperties:
			for _, prop := range ek.Properties {
				p := joinPath(path, prop)
				add(problem(file, line(p), p, "model.err.unknown_field", prop))
			}
		case *kind.Required:
			for _, m := range ek.Missing {
				add(problem(file, line(path), path, "model.err.required", m))
			}
		case *kind.Pattern:
			add(problem(file, line(path), path, "model.err.pattern", fmt.Sprint(valueAt(value, e.InstanceLocation)), patternName(ek.Want)))
		default:
			add(problem(file, line(path), path, "model.err.schema", e.ErrorKind.LocalizedString(printer)))
		}
	}
	walk(ve)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

func patternName(re string) string {
	switch re {
	case "^[a-z0-9]+(-[a-z0-9]+)*$":
		return "a code: lower-case letters and digits, words joined by '-'"
	case "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$":
		return "a UUID in lower case"
	case "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$":
		return "a UUID in lower case"
	case "^[a-z]{2}$":
		return "a two-letter language code"
	}
	return "pattern " + re
}

// valueAt returns the value at a JSON pointer's tokens.
func valueAt(v any, loc []string) any {
	for _, t := range loc {
		switch x := v.(type) {
		case map[string]any:
			v = x[t]
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// pointerPath turns JSON pointer tokens into a path: "a.b[2].c". Object
// keys in model documents never consist of digits only.
func pointerPath(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		if t != "" && strings.Trim(t, "0123456789") == "" {
			b.WriteString("[" + t + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}

func joinPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nisduc/nisduc/internal/i18n"
)

// MaxSize is the largest document Parse accepts, in bytes.
const MaxSize = 4 << 20

// maxDepth bounds nesting (no model document needs more than a dozen levels).
const maxDepth = 32

// problem builds a problem whose message is the catalogue entry key.
func problem(file string, line int, path, key string, args ...any) Problem {
	return Problem{File: file, Line: line, Path: path, Message: i18n.T("en", key, args...), Key: key, Args: args}
}

// Parse reads one model document, YAML or JSON (YAML is a superset), under
// name (the file name shown in problems). It checks the syntax, the size, and
// the document's JSON Schema (required fields, types, code and UUID syntax,
// no unknown fields). The rules that need other documents are Validate's.
//
// The document is returned whenever it could be decoded, even with schema
// problems, so that Validate can report the rest at once; it is nil when the
// input is not a decodable mapping.
func Parse(name string, data []byte) (*Document, []Problem) {
	if len(data) > MaxSize {
		return nil, []Problem{problem(name, 0, "", "model.err.too_large", MaxSize)}
	}
	if json.Valid(data) {
		data = jsonForYAML(data)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, []Problem{problem(name, 0, "", "model.err.empty")}
		}
		return nil, []Problem{syntaxProblem(name, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, []Problem{problem(name, extra.Line, "", "model.err.several")}
	} else if !errors.Is(err, io.EOF) {
		return nil, []Problem{syntaxProblem(name, err)}
	}
	c := converter{file: name, lines: map[string]int{}}
	node := &root
	if node.Kind == yaml.DocumentNode {
		if len(node.Content) == 0 {
			return nil, []Problem{problem(name, 0, "", "model.err.empty")}
		}
		node = node.Content[0]
	}
	if node.Kind != yaml.MappingNode {
		return nil, []Problem{problem(name, node.Line, "", "model.err.not_mapping")}
	}
	value := c.convert(node, "", 0)
	if len(c.problems) > 0 {
		return nil, c.problems
	}
	obj, _ := value.(map[string]any)
	kind, _ := obj["kind"].(string)
	var problems []Problem
	if !Kind(kind).Valid() {
		problems = append(problems, problem(name, c.line("kind"), "kind", "model.err.kind", kind))
	} else {
		problems = append(problems, schemaProblems(Kind(kind), value, name, c.line)...)
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return nil, append(problems, problem(name, 0, "", "model.err.syntax", err.Error()))
	}
	var doc Document
	if err := json.Unmarshal(raw, &doc); err != nil {
		if len(problems) == 0 {
			problems = append(problems, problem(name, 0, "", "model.err.syntax", err.Error()))
		}
		SortProblems(problems)
		return nil, problems
	}
	normalize(reflect.ValueOf(&doc).Elem())
	doc.file, doc.lines = name, c.lines
	SortProblems(problems)
	return &doc, problems
}

// jsonForYAML rewrites the escapes of valid JSON that YAML does not know
// (solidus "\/", and surrogate pairs "\ud83d\ude00") so that a JSON
// document reads the same through the YAML parser, on the same lines.
func jsonForYAML(data []byte) []byte {
	if !bytes.Contains(data, []byte(`\`)) {
		return data
	}
	out := make([]byte, 0, len(data))
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '"':
			inString = !inString
		case c == '\\' && inString && i+1 < len(data):
			next := data[i+1]
			if next == '/' {
				out = append(out, '/')
				i++
				continue
			}
			if next == 'u' && i+12 <= len(data) {
				if r, n := surrogatePair(data[i:]); n > 0 {
					out = append(out, `\U`...)
					out = append(out, fmt.Sprintf("%08x", r)...)
					i += n - 1
					continue
				}
			}
			out = append(out, c, next)
			i++
			continue
		}
		out = append(out, c)
	}
	return out
}

// surrogatePair decodes "\uD8xx\uDCxx" at the start of b.
func surrogatePair(b []byte) (rune, int) {
	if len(b) < 12 || b[6] != '\\' || b[7] != 'u' {
		return 0, 0
	}
	hi, err1 := strconv.ParseUint(string(b[2:6]), 16, 16)
	lo, err2 := strconv.ParseUint(string(b[8:12]), 16, 16)
	if err1 != nil || err2 != nil || hi < 0xd800 || hi > 0xdbff || lo < 0xdc00 || lo > 0xdfff {
		return 0, 0
	}
	return rune((hi-0xd800)<<10|(lo-0xdc00)) + 0x10000, 12
}

// syntaxProblem turns a YAML error ("yaml: line 4: …") into a located problem.
func syntaxProblem(name string, err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ":"); ok {
			if v, err := strconv.Atoi(n); err == nil {
				line, msg = v, strings.TrimSpace(after)
			}
		}
	}
	return problem(name, line, "", "model.err.syntax", msg)
}

// converter turns a YAML node tree into JSON values, recording the line of
// every path.
type converter struct {
	file     string
	lines    map[string]int
	problems []Problem
}

func (c *converter) line(path string) int {
	for {
		if l, ok := c.lines[path]; ok {
			return l
		}
		if path == "" {
			return 0
		}
		path = parentPath(path)
	}
}

func (c *converter) fail(n *yaml.Node, path, key string, args ...any) {
	c.problems = append(c.problems, problem(c.file, n.Line, path, key, args...))
}

func (c *converter) convert(n *yaml.Node, path string, depth int) any {
	if _, ok := c.lines[path]; !ok {
		c.lines[path] = n.Line
	}
	if depth > maxDepth {
		c.fail(n, path, "model.err.depth", maxDepth)
		return nil
	}
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		c.fail(n, path, "model.err.alias")
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				c.fail(k, path, "model.err.key")
				continue
			}
			if k.Tag == "!!merge" {
				c.fail(k, path, "model.err.alias")
				continue
			}
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if _, dup := m[k.Value]; dup {
				c.fail(k, p, "model.err.duplicate_key", k.Value)
				continue
			}
			c.lines[p] = k.Line
			m[k.Value] = c.convert(v, p, depth+1)
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for i, v := range n.Content {
			s = append(s, c.convert(v, fmt.Sprintf("%s[%d]", path, i), depth+1))
		}
		return s
	case yaml.ScalarNode:
		return c.scalar(n, path)
	}
	c.fail(n, path, "model.err.syntax", "unexpected node")
	return nil
}

func (c *converter) scalar(n *yaml.Node, path string) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			c.fail(n, path, "model.err.syntax", err.Error())
		}
		return b
	case "!!int", "!!float":
		s := strings.ReplaceAll(n.Value, "_", "")
		if n.ShortTag() == "!!int" {
			var i big.Int
			if _, ok := i.SetString(s, 0); ok {
				return json.Number(i.String())
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f != f || f > 1e300 || f < -1e300 {
			c.fail(n, path, "model.err.number", n.Value)
			return nil
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	case "!!str":
		return n.Value
	}
	// Timestamps, binary and custom tags: keep the text.
	return n.Value
}

// normalize turns empty slices and maps into nil, so that a document reads
// the same whether a list was written empty or left out (omitempty drops it
// on export).
func normalize(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			normalize(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				normalize(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			if !v.IsNil() && v.CanSet() {
				v.Set(reflect.Zero(v.Type()))
			}
			return
		}
		for i := 0; i < v.Len(); i++ {
			normalize(v.Index(i))
		}
	case reflect.Map:
		if v.Len() == 0 && !v.IsNil() && v.CanSet() {
			v.Set(reflect.Zero(v.Type()))
		}
	}
}

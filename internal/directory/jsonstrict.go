package directory

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/nisduc/nisduc/internal/authz"
)

// Strict JSON reading for documents that come from outside (imports, the
// API): unlike encoding/json, every problem is reported under its JSON
// path ("organizations[3].prefixes[1]"), all of them at once — an unknown
// field, a field given twice, a number where a string belongs — and
// nothing is silently dropped or overwritten.

// maxJSONDepth bounds nesting: the formats nest four levels; a hostile
// document must not make the parser recurse deeply.
const maxJSONDepth = 32

// jobj is a JSON object that remembers its key order.
type jobj struct {
	keys []string
	vals map[string]any
}

// parseJSON reads one JSON value (objects as *jobj, arrays as []any,
// numbers as json.Number, strings, booleans, nil) and refuses duplicate
// keys and trailing data. Syntax errors come back under field "document"
// with the byte offset. It is a small recursive-descent parser rather than
// encoding/json's Token API, which is several times slower (it builds an
// error value for every token) and would make a large import crawl.
func parseJSON(data []byte) (any, error) {
	p := jparser{data: data}
	p.ws()
	v, err := p.value("", 0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.pos < len(p.data) {
		return nil, p.fail("", "dir.err.json_trailing")
	}
	return v, nil
}

type jparser struct {
	data []byte
	pos  int
}

func (p *jparser) fail(path, key string, args ...any) error {
	var v validator
	v.add(orDoc(path), key, args...)
	return v.err()
}

// syntax reports a syntax error at the current offset.
func (p *jparser) syntax(what string) error {
	if p.pos >= len(p.data) {
		return p.fail("", "dir.err.json_eof")
	}
	return p.fail("", "dir.err.json", p.pos, what)
}

func (p *jparser) ws() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jparser) value(path string, depth int) (any, error) {
	if p.pos >= len(p.data) {
		return nil, p.syntax("")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		if depth >= maxJSONDepth {
			return nil, p.fail(path, "dir.err.json_depth")
		}
		return p.object(path, depth)
	case c == '[':
		if depth >= maxJSONDepth {
			return nil, p.fail(path, "dir.err.json_depth")
		}
		return p.array(path, depth)
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	}
	return nil, p.syntax("unexpected " + strconv.QuoteRune(rune(p.data[p.pos])))
}

func (p *jparser) literal(word string) error {
	if !bytes.HasPrefix(p.data[p.pos:], []byte(word)) {
		return p.syntax("invalid literal")
	}
	p.pos += len(word)
	return nil
}

func (p *jparser) object(path string, depth int) (any, error) {
	p.pos++ // {
	o := &jobj{vals: map[string]any{}}
	p.ws()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return o, nil
	}
	for {
		p.ws()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.syntax("expected a field name")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		kp := joinPath(path, k)
		if _, dup := o.vals[k]; dup {
			return nil, p.fail(kp, "dir.err.json_duplicate_key")
		}
		p.ws()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.syntax("expected ':'")
		}
		p.pos++
		p.ws()
		v, err := p.value(kp, depth+1)
		if err != nil {
			return nil, err
		}
		o.keys = append(o.keys, k)
		o.vals[k] = v
		p.ws()
		if p.pos >= len(p.data) {
			return nil, p.syntax("")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return o, nil
		default:
			return nil, p.syntax("expected ',' or '}'")
		}
	}
}

func (p *jparser) array(path string, depth int) (any, error) {
	p.pos++ // [
	a := []any{}
	p.ws()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return a, nil
	}
	for {
		p.ws()
		v, err := p.value(idx(path, len(a)), depth+1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.ws()
		if p.pos >= len(p.data) {
			return nil, p.syntax("")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return a, nil
		default:
			return nil, p.syntax("expected ',' or ']'")
		}
	}
}

// str reads a string. Strings without escapes (nearly all) are sliced
// directly; those with escapes are decoded by encoding/json, whose rules
// (surrogate pairs, \u escapes) are the standard's.
func (p *jparser) str() (string, error) {
	start := p.pos
	p.pos++ // opening quote
	escaped := false
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			raw := p.data[start:p.pos]
			if !escaped {
				if !utf8.Valid(raw) {
					p.pos = start
					return "", p.syntax("invalid UTF-8 in a string")
				}
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil || !utf8.Valid(raw) {
				p.pos = start
				return "", p.syntax("invalid string escape or UTF-8")
			}
			return s, nil
		case c == '\\':
			escaped = true
			p.pos += 2
		case c < 0x20:
			return "", p.syntax("control character in a string")
		default:
			p.pos++
		}
	}
	return "", p.syntax("")
}

// number reads a number with JSON's grammar, kept as text (json.Number)
// so that large integers lose nothing.
func (p *jparser) number() (any, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.data[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.data) && p.data[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return nil, p.syntax("invalid number")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.syntax("invalid number")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.syntax("invalid number")
		}
	}
	return json.Number(p.data[start:p.pos]), nil
}

// joinPath appends an object key to a JSON path: path.key, or
// path["odd key"] when the key is empty or not a plain name, so that every
// problem has a visible, unambiguous place.
func joinPath(path, key string) string {
	if !plainKey(key) {
		return path + "[" + strconv.Quote(clip(key)) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func plainKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// objReader reads the fields of one object, reporting type errors and,
// at done, the fields it did not expect.
type objReader struct {
	v    *validator
	path string
	o    *jobj
	used map[string]bool
}

// object starts reading x as an object at path; ok is false (and the
// problem recorded) when x is not one.
func (v *validator) object(path string, x any) (*objReader, bool) {
	o, ok := x.(*jobj)
	if !ok {
		v.add(orDoc(path), "dir.err.want_object")
		return nil, false
	}
	return &objReader{v: v, path: path, o: o, used: map[string]bool{}}, true
}

func orDoc(path string) string {
	if path == "" {
		return "document"
	}
	return path
}

func (r *objReader) get(key string) (any, bool) {
	r.used[key] = true
	x, ok := r.o.vals[key]
	if !ok || x == nil {
		return nil, false // absent and null both mean "not given"
	}
	return x, true
}

// str reads a string field ("" when absent or null).
func (r *objReader) str(key string) string {
	x, ok := r.get(key)
	if !ok {
		return ""
	}
	s, isStr := x.(string)
	if !isStr {
		r.v.add(joinPath(r.path, key), "dir.err.want_string")
	}
	return s
}

// has reports whether key is present (even null).
func (r *objReader) has(key string) bool {
	_, ok := r.o.vals[key]
	return ok
}

// int reads an integer field.
func (r *objReader) int(key string) (int64, bool) {
	x, ok := r.get(key)
	if !ok {
		return 0, false
	}
	n, isNum := x.(json.Number)
	if !isNum {
		r.v.add(joinPath(r.path, key), "dir.err.want_integer")
		return 0, false
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		r.v.add(joinPath(r.path, key), "dir.err.want_integer")
		return 0, false
	}
	return i, true
}

// list reads an array field (nil when absent or null).
func (r *objReader) list(key string) ([]any, string) {
	p := joinPath(r.path, key)
	x, ok := r.get(key)
	if !ok {
		return nil, p
	}
	a, isArr := x.([]any)
	if !isArr {
		r.v.add(p, "dir.err.want_array")
		return nil, p
	}
	return a, p
}

// strings reads an array of strings.
func (r *objReader) strings(key string) []string {
	a, p := r.list(key)
	out := make([]string, 0, len(a))
	for i, x := range a {
		s, ok := x.(string)
		if !ok {
			r.v.add(idx(p, i), "dir.err.want_string")
			continue
		}
		out = append(out, s)
	}
	return out
}

// done reports every field that was not read, in document order.
func (r *objReader) done() {
	for _, k := range r.o.keys {
		if !r.used[k] {
			r.v.add(joinPath(r.path, k), "dir.err.unknown_field")
		}
	}
}

// readOrgInput reads an organisation object. ASNs may be strings
// ("AS64500") or numbers (64500), since exports write numbers. Indexes in
// paths are those of the document, so a skipped bad element does not
// shift the next one's path.
func (v *validator) readOrgInput(path string, x any) (OrgInput, bool) {
	r, ok := v.object(path, x)
	if !ok {
		return OrgInput{}, false
	}
	in := OrgInput{
		ID: r.str("id"), ShortName: r.str("short_name"), Name: r.str("name"), Country: r.str("country"),
		TimeZone: r.str("timezone"), Kind: authz.OrgKind(r.str("kind")), Category: r.str("nis2_category"),
		SizeClass: r.str("size_class"), Description: r.str("description"),
	}
	secs, sp := r.list("sectors")
	for i, x := range secs {
		sr, ok := v.object(idx(sp, i), x)
		if !ok {
			in.Sectors = append(in.Sectors, OrgSector{Sector: "\x00invalid"})
			continue
		}
		in.Sectors = append(in.Sectors, OrgSector{Sector: sr.str("sector"), Subsector: sr.str("subsector"), EntityType: sr.str("entity_type")})
		sr.done()
	}
	cons, cp := r.list("contacts")
	for i, x := range cons {
		cr, ok := v.object(idx(cp, i), x)
		if !ok {
			in.Contacts = append(in.Contacts, Contact{Role: "\x00invalid"})
			continue
		}
		in.Contacts = append(in.Contacts, Contact{Role: cr.str("role"), Name: cr.str("name"), Email: cr.str("email"), Phone: cr.str("phone")})
		cr.done()
	}
	in.Prefixes = r.keepStrings("prefixes")
	asns, ap := r.list("asns")
	for i, x := range asns {
		switch t := x.(type) {
		case string:
			in.ASNs = append(in.ASNs, t)
		case json.Number:
			in.ASNs = append(in.ASNs, string(t))
		default:
			v.add(idx(ap, i), "dir.err.want_asn")
			in.ASNs = append(in.ASNs, "\x00invalid")
		}
	}
	in.Domains = r.keepStrings("domains")
	r.done()
	return in, true
}

// keepStrings reads an array of strings keeping one element per document
// element (a non-string becomes an invalid placeholder, already reported),
// so the validator's indexes stay those of the document.
func (r *objReader) keepStrings(key string) []string {
	a, p := r.list(key)
	out := make([]string, 0, len(a))
	for i, x := range a {
		s, ok := x.(string)
		if !ok {
			r.v.add(idx(p, i), "dir.err.want_string")
			s = "\x00invalid"
		}
		out = append(out, s)
	}
	return out
}

// ParseOrgInput reads an organisation from JSON (the API's body) strictly:
// unknown fields, duplicate fields and wrong types are errors naming their
// path. It does not validate values: pass the result to CreateOrg or
// UpdateOrg, which do.
//
// Errors: Invalid.
func ParseOrgInput(data []byte) (OrgInput, error) {
	x, err := parseJSON(data)
	if err != nil {
		return OrgInput{}, err
	}
	var v validator
	in, _ := v.readOrgInput("", x)
	if err := v.err(); err != nil {
		return OrgInput{}, err
	}
	return in, nil
}

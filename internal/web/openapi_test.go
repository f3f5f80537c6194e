package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/nisduc/nisduc/internal/storetest"
)

// The OpenAPI document (openapi.json) is checked three ways: it is a
// well-formed OpenAPI 3.1 document whose every $ref resolves and whose
// every schema compiles (TestOpenAPIDocument); it describes exactly the
// API routes the server registers (TestOpenAPICoversRoutes); and every
// request and response of the API tests (api_test.go) goes through
// apiSpec.check, which finds the operation and validates parameters,
// bodies, statuses and headers against it.

// specURL is where the document is loaded in the JSON Schema compiler, so
// that "#/components/schemas/…" references resolve inside it.
const specURL = "https://nisduc.invalid/api/v1/openapi.json"

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// apiSpec is the parsed document with its operations.
type apiSpec struct {
	doc map[string]any
	ops []*specOp

	mu       sync.Mutex
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema // by JSON pointer
}

// specOp is one operation: a method on a path template.
type specOp struct {
	method string // upper case
	path   string // template, e.g. /api/v1/organizations/{id}
	ptr    string // JSON pointer of the operation object
	node   map[string]any
	params []specParam // path-level and operation-level, resolved
}

type specParam struct {
	name, in string
	required bool
	ptr      string // JSON pointer of the parameter object, after $ref
	node     map[string]any
}

var (
	specOnce   sync.Once
	sharedSpec *apiSpec
	specErr    error
)

// loadSpec parses OpenAPIDoc once per test binary.
func loadSpec(t testing.TB) *apiSpec {
	t.Helper()
	specOnce.Do(func() { sharedSpec, specErr = parseSpec(OpenAPIDoc) })
	if specErr != nil {
		t.Fatalf("openapi.json: %v", specErr)
	}
	return sharedSpec
}

func parseSpec(data []byte) (*apiSpec, error) {
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	doc, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(specURL, doc); err != nil {
		return nil, fmt.Errorf("add resource: %w", err)
	}
	s := &apiSpec{doc: doc, compiler: c, schemas: map[string]*jsonschema.Schema{}}
	paths, _ := doc["paths"].(map[string]any)
	for _, p := range sortedKeys(paths) {
		item, _ := paths[p].(map[string]any)
		itemPtr := ptrJoin("/paths", p)
		var shared []any
		if ps, ok := item["parameters"].([]any); ok {
			shared = ps
		}
		for _, m := range httpMethods {
			opNode, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			op := &specOp{method: strings.ToUpper(m), path: p, ptr: ptrJoin(itemPtr, m), node: opNode}
			byKey := map[string]specParam{}
			var order []string
			add := func(list []any, base string) error {
				for i := range list {
					n, ptr, err := s.resolve(ptrJoin(base, strconv.Itoa(i)))
					if err != nil {
						return err
					}
					sp := specParam{name: str(n["name"]), in: str(n["in"]), required: n["required"] == true, ptr: ptr, node: n}
					key := sp.in + ":" + sp.name
					if _, seen := byKey[key]; !seen {
						order = append(order, key)
					}
					byKey[key] = sp // operation-level overrides path-level
				}
				return nil
			}
			if err := add(shared, ptrJoin(itemPtr, "parameters")); err != nil {
				return nil, err
			}
			if ps, ok := opNode["parameters"].([]any); ok {
				if err := add(ps, ptrJoin(op.ptr, "parameters")); err != nil {
					return nil, err
				}
			}
			for _, k := range order {
				op.params = append(op.params, byKey[k])
			}
			s.ops = append(s.ops, op)
		}
	}
	return s, nil
}

func str(v any) string { s, _ := v.(string); return s }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ptrJoin appends reference tokens to a JSON pointer, escaped (RFC 6901).
func ptrJoin(base string, tokens ...string) string {
	for _, t := range tokens {
		base += "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(t)
	}
	return base
}

// lookup returns the value at a JSON pointer of the document.
func (s *apiSpec) lookup(ptr string) (any, bool) {
	var cur any = s.doc
	if ptr == "" {
		return cur, true
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, false
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// resolve returns the object at ptr, following OpenAPI $refs (to
// parameters, responses, headers …), and its final pointer.
func (s *apiSpec) resolve(ptr string) (map[string]any, string, error) {
	for range 10 {
		v, ok := s.lookup(ptr)
		if !ok {
			return nil, "", fmt.Errorf("%s: nothing there", ptr)
		}
		n, ok := v.(map[string]any)
		if !ok {
			return nil, "", fmt.Errorf("%s: not an object", ptr)
		}
		ref, ok := n["$ref"].(string)
		if !ok {
			return n, ptr, nil
		}
		if !strings.HasPrefix(ref, "#") {
			return nil, "", fmt.Errorf("%s: $ref %q is not local", ptr, ref)
		}
		ptr = ref[1:]
	}
	return nil, "", fmt.Errorf("%s: $ref loop", ptr)
}

// schema compiles the JSON Schema at ptr (once).
func (s *apiSpec) schema(ptr string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.schemas[ptr]; ok {
		return sch, nil
	}
	sch, err := s.compiler.Compile(specURL + "#" + (&url.URL{Fragment: ptr}).EscapedFragment())
	if err != nil {
		return nil, err
	}
	s.schemas[ptr] = sch
	return sch, nil
}

// validate checks a JSON value against the schema at ptr.
func (s *apiSpec) validate(ptr string, v any) error {
	sch, err := s.schema(ptr)
	if err != nil {
		return fmt.Errorf("schema %s: %v", ptr, err)
	}
	return sch.Validate(v)
}

// find returns the operation serving method and path (no query), and the
// path parameters. Like ServeMux, a literal segment wins over a wildcard.
func (s *apiSpec) find(method, path string) (*specOp, map[string]string) {
	segs := strings.Split(path, "/")
	var best *specOp
	var bestVars map[string]string
	bestLiterals := -1
	for _, op := range s.ops {
		if op.method != method {
			continue
		}
		tsegs := strings.Split(op.path, "/")
		if len(tsegs) != len(segs) {
			continue
		}
		vars, literals, ok := map[string]string{}, 0, true
		for i, ts := range tsegs {
			if strings.HasPrefix(ts, "{") && strings.HasSuffix(ts, "}") {
				if segs[i] == "" {
					ok = false
					break
				}
				v, err := url.PathUnescape(segs[i])
				if err != nil {
					ok = false
					break
				}
				vars[ts[1:len(ts)-1]] = v
				continue
			}
			if ts != segs[i] {
				ok = false
				break
			}
			literals++
		}
		if ok && literals > bestLiterals {
			best, bestVars, bestLiterals = op, vars, literals
		}
	}
	return best, bestVars
}

// exchange is one request to the API and its response.
type exchange struct {
	method     string
	target     string // path and query
	reqHeader  http.Header
	reqBody    []byte
	status     int
	respHeader http.Header
	respBody   []byte
}

// check validates an exchange against the document. reqProblems say how
// the request departs from the document (a test of the server's refusals
// sends such requests on purpose); respProblems say how the response
// does, and are always failures.
func (s *apiSpec) check(x exchange) (reqProblems, respProblems []string) {
	u, err := url.Parse(x.target)
	if err != nil {
		return nil, []string{fmt.Sprintf("bad target %q: %v", x.target, err)}
	}
	op, vars := s.find(x.method, u.Path)
	if op == nil {
		return nil, []string{fmt.Sprintf("no operation %s %s in the document", x.method, u.Path)}
	}
	reqProblems = s.checkRequest(op, vars, u.Query(), x)
	respProblems = s.checkResponse(op, x)
	return reqProblems, respProblems
}

func (s *apiSpec) checkRequest(op *specOp, vars map[string]string, query url.Values, x exchange) []string {
	var out []string
	for _, p := range op.params {
		var vals []string
		switch p.in {
		case "path":
			if v, ok := vars[p.name]; ok {
				vals = []string{v}
			}
		case "query":
			vals = query[p.name]
		case "header":
			vals = x.reqHeader.Values(p.name)
		default:
			continue
		}
		if len(vals) == 0 {
			if p.required {
				out = append(out, fmt.Sprintf("missing %s parameter %q", p.in, p.name))
			}
			continue
		}
		if len(vals) > 1 {
			out = append(out, fmt.Sprintf("%s parameter %q given %d times", p.in, p.name, len(vals)))
		}
		if err := s.validate(p.ptr+"/schema", s.paramValue(p, vals[0])); err != nil {
			out = append(out, fmt.Sprintf("%s parameter %q=%q: %v", p.in, p.name, vals[0], err))
		}
	}
	for name := range query {
		if !slices.ContainsFunc(op.params, func(p specParam) bool { return p.in == "query" && p.name == name }) {
			out = append(out, fmt.Sprintf("undocumented query parameter %q", name))
		}
	}

	_, hasBody := op.node["requestBody"]
	if !hasBody {
		if len(bytes.TrimSpace(x.reqBody)) > 0 {
			out = append(out, "a body where the operation takes none")
		}
		return out
	}
	rb, rbPtr, err := s.resolve(op.ptr + "/requestBody")
	if err != nil {
		return append(out, err.Error())
	}
	if len(x.reqBody) == 0 {
		if rb["required"] == true {
			out = append(out, "missing the required body")
		}
		return out
	}
	ct := x.reqHeader.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	content, _ := rb["content"].(map[string]any)
	if _, ok := content[mt]; err != nil || !ok {
		return append(out, fmt.Sprintf("Content-Type %q is not one of the document's %v", ct, sortedKeys(content)))
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(x.reqBody))
	if err != nil {
		return append(out, fmt.Sprintf("body is not JSON: %v", err))
	}
	if err := s.validate(ptrJoin(rbPtr, "content", mt, "schema"), v); err != nil {
		out = append(out, fmt.Sprintf("body: %v", err))
	}
	return out
}

// paramValue turns a parameter's text into the JSON value its schema
// expects (a number for an integer parameter that parses as one).
func (s *apiSpec) paramValue(p specParam, text string) any {
	sch, _ := p.node["schema"].(map[string]any)
	if ref, ok := sch["$ref"].(string); ok {
		if n, _, err := s.resolve(ref[1:]); err == nil {
			sch = n
		}
	}
	switch sch["type"] {
	case "integer", "number":
		if _, err := strconv.ParseFloat(text, 64); err == nil {
			return json.Number(text)
		}
	case "boolean":
		if b, err := strconv.ParseBool(text); err == nil {
			return b
		}
	}
	return text
}

func (s *apiSpec) checkResponse(op *specOp, x exchange) []string {
	var out []string
	responses, _ := op.node["responses"].(map[string]any)
	key := strconv.Itoa(x.status)
	if _, ok := responses[key]; !ok {
		return []string{fmt.Sprintf("status %d is not documented for %s %s (documented: %v)", x.status, op.method, op.path, sortedKeys(responses))}
	}
	resp, respPtr, err := s.resolve(ptrJoin(op.ptr, "responses", key))
	if err != nil {
		return []string{err.Error()}
	}
	headers, _ := resp["headers"].(map[string]any)
	for _, name := range sortedKeys(headers) {
		h, hPtr, err := s.resolve(ptrJoin(respPtr, "headers", name))
		if err != nil {
			out = append(out, err.Error())
			continue
		}
		v := x.respHeader.Get(name)
		if v == "" {
			if h["required"] == true {
				out = append(out, fmt.Sprintf("missing header %s", name))
			}
			continue
		}
		if _, ok := h["schema"]; ok {
			if err := s.validate(hPtr+"/schema", v); err != nil {
				out = append(out, fmt.Sprintf("header %s: %v", name, err))
			}
		}
	}
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if len(bytes.TrimSpace(x.respBody)) > 0 {
			out = append(out, fmt.Sprintf("a body where the document has none: %.200s", x.respBody))
		}
		return out
	}
	ct := x.respHeader.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if _, ok := content[mt]; err != nil || !ok {
		return append(out, fmt.Sprintf("Content-Type %q is not one of the document's %v", ct, sortedKeys(content)))
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(x.respBody))
	if err != nil {
		return append(out, fmt.Sprintf("body is not JSON: %v: %.200s", err, x.respBody))
	}
	if err := s.validate(ptrJoin(respPtr, "content", mt, "schema"), v); err != nil {
		out = append(out, fmt.Sprintf("body: %v\n%.600s", err, x.respBody))
	}
	// An error's request_id is the one in X-Request-Id.
	if x.status >= 400 {
		if m, ok := v.(map[string]any); ok {
			if e, ok := m["error"].(map[string]any); ok && e["request_id"] != x.respHeader.Get("X-Request-Id") {
				out = append(out, fmt.Sprintf("error.request_id %v is not X-Request-Id %q", e["request_id"], x.respHeader.Get("X-Request-Id")))
			}
		}
	}
	return out
}

// walk calls fn for every value of the document with its JSON pointer.
func walk(v any, ptr string, fn func(ptr string, v any)) {
	fn(ptr, v)
	switch c := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(c) {
			walk(c[k], ptrJoin(ptr, k), fn)
		}
	case []any:
		for i, x := range c {
			walk(x, ptrJoin(ptr, strconv.Itoa(i)), fn)
		}
	}
}

var (
	pathParamRE = regexp.MustCompile(`\{([^}]*)\}`)
	statusRE    = regexp.MustCompile(`^[1-5][0-9][0-9]$`)
)

// The document is well-formed OpenAPI 3.1: the fields the specification
// requires, unique operation ids, declared tags and security schemes, path
// parameters that match their templates, every $ref resolving and every
// schema compiling as JSON Schema 2020-12.
func TestOpenAPIDocument(t *testing.T) {
	if !json.Valid(OpenAPIDoc) {
		t.Fatal("openapi.json is not valid JSON")
	}
	s := loadSpec(t)
	if s.doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", s.doc["openapi"])
	}
	if d := s.doc["jsonSchemaDialect"]; d != nil && d != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("jsonSchemaDialect = %v, want JSON Schema 2020-12", d)
	}
	info, _ := s.doc["info"].(map[string]any)
	if str(info["title"]) == "" || str(info["version"]) == "" {
		t.Errorf("info needs a title and a version: %v", info)
	}
	if !strings.Contains(str(info["description"]), "Authorization: Bearer") {
		t.Errorf("info.description does not explain authentication")
	}
	if servers, _ := s.doc["servers"].([]any); len(servers) == 0 {
		t.Errorf("no servers")
	}

	// Every $ref resolves, to an object.
	refs := 0
	walk(s.doc, "", func(ptr string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			if _, has := m["$ref"]; has {
				t.Errorf("%s: $ref is not a string", ptr)
			}
			return
		}
		refs++
		if !strings.HasPrefix(ref, "#/") {
			t.Errorf("%s: $ref %q is not a local JSON pointer", ptr, ref)
			return
		}
		if target, ok := s.lookup(ref[1:]); !ok {
			t.Errorf("%s: $ref %q resolves to nothing", ptr, ref)
		} else if _, ok := target.(map[string]any); !ok {
			t.Errorf("%s: $ref %q is not an object", ptr, ref)
		}
	})
	if refs == 0 {
		t.Errorf("no $ref at all: the walk is broken")
	}

	comps, _ := s.doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	if _, ok := schemas["Error"]; !ok {
		t.Errorf("no components.schemas.Error")
	}
	for _, name := range sortedKeys(schemas) {
		if _, err := s.schema(ptrJoin("/components/schemas", name)); err != nil {
			t.Errorf("schema %s: %v", name, err)
		}
	}
	schemes, _ := comps["securitySchemes"].(map[string]any)
	checkSecurity := func(where string, v any) {
		reqs, ok := v.([]any)
		if !ok {
			t.Errorf("%s: security is not a list", where)
			return
		}
		for _, r := range reqs {
			for name := range r.(map[string]any) {
				if _, ok := schemes[name]; !ok {
					t.Errorf("%s: security scheme %q is not declared", where, name)
				}
			}
		}
	}
	checkSecurity("root", s.doc["security"])
	if b, _ := schemes["bearer"].(map[string]any); b["type"] != "http" || b["scheme"] != "bearer" {
		t.Errorf("securitySchemes.bearer = %v, want http bearer", b)
	}
	if c, _ := schemes["cookie"].(map[string]any); c["type"] != "apiKey" || c["in"] != "cookie" || c["name"] != sessionCookie {
		t.Errorf("securitySchemes.cookie = %v, want the %s cookie", c, sessionCookie)
	}

	var tags []string
	for _, tg := range s.doc["tags"].([]any) {
		tags = append(tags, str(tg.(map[string]any)["name"]))
	}
	ids := map[string]string{}
	for _, op := range s.ops {
		where := op.method + " " + op.path
		if !strings.HasPrefix(op.path, "/api/v1/") {
			t.Errorf("%s: not under /api/v1/", where)
		}
		id := str(op.node["operationId"])
		if id == "" {
			t.Errorf("%s: no operationId", where)
		} else if other, dup := ids[id]; dup {
			t.Errorf("%s: operationId %s is also %s's", where, id, other)
		}
		ids[id] = where
		if str(op.node["summary"]) == "" {
			t.Errorf("%s: no summary", where)
		}
		opTags, _ := op.node["tags"].([]any)
		if len(opTags) == 0 {
			t.Errorf("%s: no tags", where)
		}
		for _, tg := range opTags {
			if !slices.Contains(tags, str(tg)) {
				t.Errorf("%s: tag %v is not declared", where, tg)
			}
		}
		if sec, ok := op.node["security"]; ok {
			checkSecurity(where, sec)
		}

		// Path parameters and the template name the same variables.
		var inTemplate []string
		for _, m := range pathParamRE.FindAllStringSubmatch(op.path, -1) {
			inTemplate = append(inTemplate, m[1])
		}
		var declared []string
		for _, p := range op.params {
			if p.in == "path" {
				declared = append(declared, p.name)
				if !p.required {
					t.Errorf("%s: path parameter %s is not required", where, p.name)
				}
			}
			if p.in != "path" && p.in != "query" && p.in != "header" && p.in != "cookie" {
				t.Errorf("%s: parameter %s in %q", where, p.name, p.in)
			}
			if _, err := s.schema(p.ptr + "/schema"); err != nil {
				t.Errorf("%s: parameter %s: %v", where, p.name, err)
			}
		}
		slices.Sort(inTemplate)
		slices.Sort(declared)
		if !slices.Equal(inTemplate, declared) {
			t.Errorf("%s: template variables %v, path parameters %v", where, inTemplate, declared)
		}

		if _, ok := op.node["requestBody"]; ok {
			rb, rbPtr, err := s.resolve(op.ptr + "/requestBody")
			if err != nil {
				t.Errorf("%s: %v", where, err)
			} else {
				content, _ := rb["content"].(map[string]any)
				if len(content) == 0 {
					t.Errorf("%s: request body without content", where)
				}
				for _, mt := range sortedKeys(content) {
					if _, err := s.schema(ptrJoin(rbPtr, "content", mt, "schema")); err != nil {
						t.Errorf("%s: request body %s: %v", where, mt, err)
					}
				}
			}
		}

		responses, _ := op.node["responses"].(map[string]any)
		if len(responses) == 0 {
			t.Errorf("%s: no responses", where)
		}
		success := false
		for _, code := range sortedKeys(responses) {
			if !statusRE.MatchString(code) {
				t.Errorf("%s: response key %q is not a status code", where, code)
				continue
			}
			success = success || code[0] == '2'
			r, rPtr, err := s.resolve(ptrJoin(op.ptr, "responses", code))
			if err != nil {
				t.Errorf("%s %s: %v", where, code, err)
				continue
			}
			if str(r["description"]) == "" {
				t.Errorf("%s %s: no description", where, code)
			}
			content, _ := r["content"].(map[string]any)
			if code == "204" && len(content) > 0 {
				t.Errorf("%s 204 with content", where)
			}
			for _, mt := range sortedKeys(content) {
				if _, err := s.schema(ptrJoin(rPtr, "content", mt, "schema")); err != nil {
					t.Errorf("%s %s %s: %v", where, code, mt, err)
				}
			}
			if code >= "400" {
				sch, _ := content["application/json"].(map[string]any)["schema"].(map[string]any)
				if sch["$ref"] != "#/components/schemas/Error" {
					t.Errorf("%s %s: an error response must be the shared Error schema", where, code)
				}
			}
			if code == "401" {
				if h, _ := r["headers"].(map[string]any); h["WWW-Authenticate"] == nil {
					t.Errorf("%s 401 without WWW-Authenticate", where)
				}
			}
		}
		if !success {
			t.Errorf("%s: no success response", where)
		}
	}
}

// The document describes exactly the API routes the server registers,
// with the same access: public routes have no security requirement.
func TestOpenAPICoversRoutes(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	s := loadSpec(t)
	ops := map[string]*specOp{}
	for _, op := range s.ops {
		ops[op.method+" "+op.path] = op
	}
	seen := map[string]bool{}
	for _, r := range f.srv.Routes() {
		if !strings.HasPrefix(r.Path, "/api/") {
			continue
		}
		if !strings.HasPrefix(r.Path, "/api/v1/") || strings.Contains(r.Path, "...}") || strings.Contains(r.Path, "{$}") {
			t.Errorf("route %s cannot be described by an OpenAPI path template", r.Pattern())
			continue
		}
		seen[r.Pattern()] = true
		op, ok := ops[r.Pattern()]
		if !ok {
			t.Errorf("route %s is not in openapi.json", r.Pattern())
			continue
		}
		sec, hasOwn := op.node["security"].([]any)
		public := hasOwn && len(sec) == 0
		if public != (r.Access == Public) {
			t.Errorf("route %s: access %d, but the document says public=%v", r.Pattern(), r.Access, public)
		}
		if r.Access == Signed {
			if _, ok := op.node["responses"].(map[string]any)["401"]; !ok {
				t.Errorf("route %s needs sign-in but documents no 401", r.Pattern())
			}
		}
	}
	for key := range ops {
		if !seen[key] {
			t.Errorf("openapi.json describes %s, which is no registered route", key)
		}
	}
	if len(seen) == 0 {
		t.Fatal("no API route registered")
	}
}

// The harness itself: it must refuse what the document refuses, or the
// journeys prove nothing.
func TestOpenAPIHarness(t *testing.T) {
	s := loadSpec(t)
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	okErr := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"abc"}}
	uuid1 := "6f1c1f0e-3d7a-4c55-9a63-0b6a5e1f2b3c"
	tests := []struct {
		name          string
		x             exchange
		wantReq       bool // request problems expected
		wantResp      bool // response problems expected
		wantOperation string
	}{
		{name: "literal beats wildcard", x: exchange{method: "POST", target: "/api/v1/inbox/read", reqHeader: jsonCT, reqBody: []byte(`{}`), status: 204, respHeader: http.Header{}},
			wantOperation: "markInboxRead"},
		{name: "unknown path", x: exchange{method: "GET", target: "/api/v1/nothing", status: 200, respHeader: jsonCT}, wantResp: true},
		{name: "wrong method", x: exchange{method: "PUT", target: "/api/v1/me", status: 200, respHeader: jsonCT}, wantResp: true},
		{name: "undocumented status", x: exchange{method: "GET", target: "/api/v1/me", status: 418, respHeader: okErr,
			respBody: []byte(`{"error":{"code":"internal","message":"x","request_id":"abc"}}`)}, wantResp: true},
		{name: "response missing a required field", x: exchange{method: "GET", target: "/api/v1/inbox", status: 200, respHeader: jsonCT,
			respBody: []byte(`{"items":[]}`)}, wantResp: true},
		{name: "response with an undocumented field", x: exchange{method: "GET", target: "/api/v1/inbox", status: 200, respHeader: jsonCT,
			respBody: []byte(`{"items":[],"unread":0,"extra":1}`)}, wantResp: true},
		{name: "good inbox", x: exchange{method: "GET", target: "/api/v1/inbox", status: 200, respHeader: jsonCT,
			respBody: []byte(`{"items":[{"id":"` + uuid1 + `","kind":"k","subject":"s","body":"b","link":"","created_at":"2025-01-02T03:04:05Z","read_at":null}],"unread":1}`)}},
		{name: "bad uuid format", x: exchange{method: "GET", target: "/api/v1/inbox", status: 200, respHeader: jsonCT,
			respBody: []byte(`{"items":[{"id":"nope","kind":"k","subject":"s","body":"b","link":"","created_at":"2025-01-02T03:04:05Z","read_at":null}],"unread":1}`)}, wantResp: true},
		{name: "bad date-time", x: exchange{method: "GET", target: "/api/v1/inbox", status: 200, respHeader: jsonCT,
			respBody: []byte(`{"items":[{"id":"` + uuid1 + `","kind":"k","subject":"s","body":"b","link":"","created_at":"yesterday","read_at":null}],"unread":1}`)}, wantResp: true},
		{name: "201 without Location", x: exchange{method: "POST", target: "/api/v1/users", reqHeader: jsonCT,
			reqBody: []byte(`{"org_id":"x","email":"a@b.example","name":"A","roles":["read_only"]}`), status: 201, respHeader: jsonCT,
			respBody: []byte(`{}`)}, wantResp: true},
		{name: "401 without WWW-Authenticate", x: exchange{method: "GET", target: "/api/v1/me", status: 401, respHeader: okErr,
			respBody: []byte(`{"error":{"code":"unauthenticated","message":"x","request_id":"abc"}}`)}, wantResp: true},
		{name: "request_id differs from X-Request-Id", x: exchange{method: "GET", target: "/api/v1/organizations/x", status: 404, respHeader: okErr,
			respBody: []byte(`{"error":{"code":"not_found","message":"x","request_id":"def"}}`)}, wantResp: true},
		{name: "a body on 204", x: exchange{method: "DELETE", target: "/api/v1/tokens/" + uuid1, status: 204, respHeader: http.Header{},
			respBody: []byte(`{}`)}, wantResp: true},
		{name: "request with an unknown field", x: exchange{method: "POST", target: "/api/v1/tokens", reqHeader: jsonCT,
			reqBody: []byte(`{"name":"n","colour":"blue"}`), status: 422, respHeader: okErr,
			respBody: []byte(`{"error":{"code":"invalid","message":"x","fields":[{"field":"colour","message":"unknown field"}],"request_id":"abc"}}`)}, wantReq: true},
		{name: "request not JSON", x: exchange{method: "POST", target: "/api/v1/tokens", reqHeader: jsonCT, reqBody: []byte(`{"name":`),
			status: 422, respHeader: okErr, respBody: []byte(`{"error":{"code":"invalid","message":"x","request_id":"abc"}}`)}, wantReq: true},
		{name: "request of the wrong media type", x: exchange{method: "POST", target: "/api/v1/tokens", reqHeader: http.Header{"Content-Type": {"text/plain"}},
			reqBody: []byte(`{"name":"n"}`), status: 422, respHeader: okErr, respBody: []byte(`{"error":{"code":"invalid","message":"x","request_id":"abc"}}`)}, wantReq: true},
		{name: "query parameter out of range", x: exchange{method: "GET", target: "/api/v1/organizations?limit=501", status: 422, respHeader: okErr,
			respBody: []byte(`{"error":{"code":"invalid","message":"x","request_id":"abc"}}`)}, wantReq: true},
		{name: "query parameter not a number", x: exchange{method: "GET", target: "/api/v1/organizations?offset=x", status: 422, respHeader: okErr,
			respBody: []byte(`{"error":{"code":"invalid","message":"x","request_id":"abc"}}`)}, wantReq: true},
		{name: "undocumented query parameter", x: exchange{method: "GET", target: "/api/v1/organizations?colour=blue", status: 200, respHeader: jsonCT,
			respBody: []byte(`{"items":[],"total":0,"limit":50,"offset":0}`)}, wantReq: true},
		{name: "path parameter not a uuid", x: exchange{method: "GET", target: "/api/v1/users/nope", status: 404, respHeader: okErr,
			respBody: []byte(`{"error":{"code":"not_found","message":"x","request_id":"abc"}}`)}, wantReq: true},
	}
	for _, tt := range tests {
		reqP, respP := s.check(tt.x)
		if (len(reqP) > 0) != tt.wantReq {
			t.Errorf("%s: request problems %q, want some: %v", tt.name, reqP, tt.wantReq)
		}
		if (len(respP) > 0) != tt.wantResp {
			t.Errorf("%s: response problems %q, want some: %v", tt.name, respP, tt.wantResp)
		}
		if tt.wantOperation != "" {
			u, _ := url.Parse(tt.x.target)
			if op, _ := s.find(tt.x.method, u.Path); op == nil || op.node["operationId"] != tt.wantOperation {
				t.Errorf("%s: found %v, want %s", tt.name, op, tt.wantOperation)
			}
		}
	}
}

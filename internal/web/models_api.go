package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/i18n"
	"github.com/nisduc/nisduc/internal/model"
)

// The models API: list, get (any version, JSON or YAML), versions, diff,
// validate, import, drafts, save, publish, and the JSON Schemas.

func (s *Server) registerModelsAPI() {
	s.handle("GET", "/api/v1/models", Signed, s.apiModelList)
	s.handle("POST", "/api/v1/models", Signed, s.apiModelImport)
	s.handle("POST", "/api/v1/models/validate", Signed, s.apiModelValidate)
	s.handle("GET", "/api/v1/models/{code}", Signed, s.apiModelGet)
	s.handle("GET", "/api/v1/models/{code}/versions", Signed, s.apiModelVersions)
	s.handle("GET", "/api/v1/models/{code}/diff", Signed, s.apiModelDiff)
	s.handle("POST", "/api/v1/models/{code}/drafts", Signed, s.apiModelCreateDraft)
	s.handle("PUT", "/api/v1/models/{code}/versions/{version}", Signed, s.apiModelSave)
	s.handle("POST", "/api/v1/models/{code}/versions/{version}/publish", Signed, s.apiModelPublish)
	// The schemas are public: editors and validators fetch them by their
	// $id without credentials, and they hold no data.
	s.handle("GET", "/api/v1/schemas/{kind}", Public, s.apiModelSchema)
}

func (s *Server) apiModelList(w http.ResponseWriter, r *http.Request) error {
	list, err := s.deps.Models.List(r.Context())
	if err != nil {
		return err
	}
	list = nonNil(list)
	if !canEditModels(r.Context()) {
		for i := range list {
			list[i].CreatedBy = ""
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

// apiVersionParam reads the optional ?version= (or another name).
func apiVersionParam(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, errs.Field(name, "must be a whole number ≥ 1")
	}
	return n, nil
}

func (s *Server) apiModelGet(w http.ResponseWriter, r *http.Request) error {
	ver, err := apiVersionParam(r, "version")
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "yaml" {
		return errs.Field("format", "must be json or yaml")
	}
	v, err := s.getModel(r.Context(), r.PathValue("code"), ver)
	if err != nil {
		return err
	}
	w.Header().Set("X-Model-Status", string(v.Status))
	return writeModel(w, v.Doc, format, false)
}

func (s *Server) apiModelVersions(w http.ResponseWriter, r *http.Request) error {
	infos, err := s.deps.Models.Versions(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	// Who wrote a version is the editors' business: their colleagues' e-mail
	// addresses are not shown to operators.
	if !canEditModels(r.Context()) {
		for i := range infos {
			infos[i].CreatedBy = ""
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": infos})
	return nil
}

type apiDiff struct {
	Code    string         `json:"code"`
	From    int            `json:"from"`
	To      int            `json:"to"`
	Changes []model.Change `json:"changes"`
}

func (s *Server) apiModelDiff(w http.ResponseWriter, r *http.Request) error {
	var f errs.Fields
	from, err := apiVersionParam(r, "from")
	if err != nil {
		f.Add("from", "must be a whole number ≥ 1")
	} else if from == 0 {
		f.Add("from", "required")
	}
	to, err := apiVersionParam(r, "to")
	if err != nil {
		f.Add("to", "must be a whole number ≥ 1")
	} else if to == 0 {
		f.Add("to", "required")
	}
	if err := f.Err(); err != nil {
		return err
	}
	code := r.PathValue("code")
	_, _, changes, err := s.diffVersions(r.Context(), code, from, to)
	if err != nil {
		return err
	}
	changes = nonNil(changes)
	writeJSON(w, http.StatusOK, apiDiff{Code: code, From: from, To: to, Changes: changes})
	return nil
}

// readModelBody reads a model document body: JSON or YAML by Content-Type.
func readModelBody(r *http.Request) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	if ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			return nil, errs.Field("Content-Type", "unreadable media type")
		case mt == "application/json", mt == "application/yaml", mt == "application/x-yaml", mt == "text/yaml", mt == "text/x-yaml":
		default:
			return nil, errs.Field("Content-Type", "must be application/json or application/yaml")
		}
	}
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, model.MaxSize))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, errs.Field("body", "larger than %d bytes", mbe.Limit)
	case err != nil:
		return nil, errs.Field("body", "%v", err)
	case len(strings.TrimSpace(string(data))) == 0:
		return nil, errs.Field("body", "empty body; a model document is expected")
	}
	return data, nil
}

// docName is the file name problems carry: ?name= or "body".
func docName(r *http.Request) string {
	if n := strings.TrimSpace(r.URL.Query().Get("name")); n != "" && len(n) <= 200 {
		return n
	}
	return "body"
}

// problemsError is the 422 of a document's problems: one field per
// problem, field = its path ("body" for the whole document), message
// "file:line: message".
func problemsError(ps []model.Problem) error {
	e := &errs.Error{Code: errs.Invalid, Message: i18n.T("en", "model.err.invalid", len(ps)), Key: "model.err.invalid", Args: []any{len(ps)}}
	for _, p := range ps {
		field := p.Path
		if field == "" {
			field = "body"
		}
		msg := p.Message
		if p.File != "" || p.Line > 0 {
			loc := p.File
			if p.Line > 0 {
				loc = fmt.Sprintf("%s:%d", p.File, p.Line)
			}
			msg = loc + ": " + msg
		}
		e.Fields = append(e.Fields, errs.FieldError{Field: field, Message: msg})
	}
	return e
}

// bodyFields names "body" the fields of a service error that have no path.
func bodyFields(err error) error {
	if e, ok := err.(*errs.Error); ok {
		for i := range e.Fields {
			if e.Fields[i].Field == "" {
				e.Fields[i].Field = "body"
			}
		}
	}
	return err
}

// checkBody reads and validates a document body.
func (s *Server) checkBody(ctx context.Context, r *http.Request) ([]byte, *model.Document, error) {
	data, err := readModelBody(r)
	if err != nil {
		return nil, nil, err
	}
	doc, ps, err := s.checkModel(ctx, docName(r), data)
	if err != nil {
		return nil, nil, err
	}
	if len(ps) > 0 {
		return nil, nil, problemsError(ps)
	}
	return data, doc, nil
}

func (s *Server) apiModelValidate(w http.ResponseWriter, r *http.Request) error {
	if _, _, err := s.checkBody(r.Context(), r); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	return nil
}

func infoLocation(in model.Info) string {
	return fmt.Sprintf("/api/v1/models/%s?version=%d", url.PathEscape(in.Code), in.Version)
}

func (s *Server) apiModelImport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := checkModelEdit(ctx); err != nil {
		return err
	}
	publish := false
	if v := r.URL.Query().Get("publish"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errs.Field("publish", "must be true or false")
		}
		publish = b
	}
	data, _, err := s.checkBody(ctx, r)
	if err != nil {
		return err
	}
	in, err := s.deps.Models.Import(ctx, data, model.ImportOptions{Name: docName(r), Publish: publish})
	if err != nil {
		return bodyFields(err)
	}
	w.Header().Set("Location", infoLocation(in))
	writeJSON(w, http.StatusCreated, in)
	return nil
}

func (s *Server) apiModelCreateDraft(w http.ResponseWriter, r *http.Request) error {
	in, err := s.deps.Models.CreateDraft(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	w.Header().Set("Location", infoLocation(in))
	writeJSON(w, http.StatusCreated, in)
	return nil
}

func pathVersion(r *http.Request) (int, error) {
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || n < 1 {
		return 0, errs.Field("version", "must be a whole number ≥ 1")
	}
	return n, nil
}

func (s *Server) apiModelSave(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := checkModelEdit(ctx); err != nil {
		return err
	}
	ver, err := pathVersion(r)
	if err != nil {
		return err
	}
	_, doc, err := s.checkBody(ctx, r)
	if err != nil {
		return err
	}
	in, err := s.deps.Models.SaveDraft(ctx, r.PathValue("code"), ver, doc)
	if err != nil {
		return bodyFields(err)
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

func (s *Server) apiModelPublish(w http.ResponseWriter, r *http.Request) error {
	ver, err := pathVersion(r)
	if err != nil {
		return err
	}
	in, err := s.deps.Models.Publish(r.Context(), r.PathValue("code"), ver)
	if err != nil {
		return bodyFields(err)
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

func (s *Server) apiModelSchema(w http.ResponseWriter, r *http.Request) error {
	kind := strings.TrimSuffix(r.PathValue("kind"), ".json")
	b, ok := model.Schema(kind)
	if !ok {
		return errs.E(errs.NotFound, "no schema %q: want regulatory-model, knowledge-base or sector-model", kind)
	}
	w.Header().Set("Content-Type", "application/schema+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(b)
	return nil
}

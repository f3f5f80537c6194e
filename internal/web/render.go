package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/nisduc/nisduc/internal/auth"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/i18n"
)

var errForbiddenCSRF = errs.E(errs.Forbidden, "cross-origin request refused")

// page is what every template receives.
type page struct {
	Title   string // catalogue key
	Lang    string
	Actor   *authz.Actor
	Demo    bool
	Flash   string // catalogue key
	FlashOK bool
	Unread  int
	Path    string
	Version string
	// Err is the form's error, with its field problems.
	Err *errs.Error
	// Form holds submitted values to show again after an error.
	Form url.Values
	Data any
	loc  *time.Location
}

// T translates key in the page's language.
func (p *page) T(key string, args ...any) string { return i18n.T(p.Lang, key, args...) }

// FieldErr returns the problem with field, translated, or "".
func (p *page) FieldErr(field string) string {
	if p.Err == nil {
		return ""
	}
	for _, f := range p.Err.Fields {
		if f.Field == field || strings.HasPrefix(f.Field, field+"[") || strings.HasPrefix(f.Field, field+".") {
			return f.Localized(p.Lang)
		}
	}
	return ""
}

// Time shows t in the viewer's time zone.
func (p *page) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(p.loc).Format("2006-01-02 15:04 MST")
}

// Can tells a template whether to show an action (the service still checks).
func (p *page) Can(act string, orgID string, kind authz.OrgKind) bool {
	return authz.Can(p.Actor, authz.Action(act), authz.Target{OrgID: orgID, OrgKind: kind})
}

// Has tells whether the viewer holds a role.
func (p *page) Has(role string) bool { return p.Actor.Has(authz.Role(role)) }

func (s *Server) parseTemplates() error {
	funcs := template.FuncMap{
		"join":  strings.Join,
		"lower": strings.ToLower,
		"add":   func(a, b int) int { return a + b },
		"seq": func(n int) []int {
			out := make([]int, n)
			for i := range out {
				out[i] = i
			}
			return out
		},
		"hasRole": func(roles []authz.Role, r authz.Role) bool {
			for _, x := range roles {
				if x == r {
					return true
				}
			}
			return false
		},
		"contains": func(list []string, v string) bool {
			for _, x := range list {
				if x == v {
					return true
				}
			}
			return false
		},
		"query": func(kv ...string) template.URL {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] != "" {
					v.Set(kv[i], kv[i+1])
				}
			}
			return template.URL(v.Encode())
		},
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return fmt.Errorf("layout: %w", err)
	}
	pages, err := fs.Glob(assets, "templates/pages/*.html")
	if err != nil {
		return err
	}
	s.tmpl = map[string]*template.Template{}
	for _, p := range pages {
		t, err := layout.Clone()
		if err != nil {
			return err
		}
		if _, err := t.ParseFS(assets, p); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		s.tmpl[strings.TrimSuffix(path.Base(p), ".html")] = t
	}
	return nil
}

// newPage builds the common part of a page for r.
func (s *Server) newPage(r *http.Request, title string, data any) *page {
	a := authz.ActorFrom(r.Context())
	p := &page{Title: title, Lang: langOf(r), Actor: a, Demo: s.cfg.Demo, Path: r.URL.Path, Version: s.cfg.Version, Data: data, loc: time.UTC}
	if a != nil && a.TZ != "" {
		if loc, err := time.LoadLocation(a.TZ); err == nil {
			p.loc = loc
		}
	}
	if a != nil && a.UserID != "" && s.deps.Notify != nil {
		if n, err := s.deps.Notify.UnreadCount(r.Context(), a.UserID); err == nil {
			p.Unread = n
		}
	}
	return p
}

// render writes a page with status 200 (or the status given).
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, p *page, status ...int) {
	t, ok := s.tmpl[name]
	if !ok {
		s.renderError(w, r, fmt.Errorf("no template %q", name))
		return
	}
	if p.Flash == "" {
		p.Flash, p.FlashOK = s.takeFlash(w, r)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		slog.Error("template", "name", name, "err", err, "request_id", requestID(r.Context()))
		http.Error(w, i18n.T(p.Lang, "err.internal"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	code := http.StatusOK
	if len(status) > 0 {
		code = status[0]
	}
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// isAPI reports whether r wants JSON (the API, or a client that asks).
func isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") ||
		(strings.Contains(r.Header.Get("Accept"), "application/json") && !strings.Contains(r.Header.Get("Accept"), "text/html"))
}

// apiError is the JSON body of every API error.
type apiError struct {
	Error struct {
		Code      string            `json:"code"`
		Message   string            `json:"message"`
		Fields    []errs.FieldError `json:"fields,omitempty"`
		RequestID string            `json:"request_id"`
	} `json:"error"`
}

// renderError maps err to a status in one place (errs.HTTPStatus) and
// renders it as JSON or as an error page. Internal errors are logged with
// detail and shown as "internal error", never with a stack trace.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	e := errs.As(err)
	status := errs.HTTPStatus(e.Code)
	rid := requestID(r.Context())
	if e.Code == errs.Internal {
		slog.Error("request failed", "request_id", rid, "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if e.Code == errs.TooMany {
		setRetryAfter(w, err)
	}
	lang := langOf(r)
	if isAPI(r) {
		var body apiError
		body.Error.Code = string(e.Code)
		body.Error.Message = e.Message
		if e.Code == errs.Internal {
			body.Error.Message = "internal error"
		}
		body.Error.Fields = e.Fields
		body.Error.RequestID = rid
		if e.Code == errs.Unauthenticated {
			w.Header().Set("WWW-Authenticate", `Bearer realm="nisduc"`)
		}
		writeJSON(w, status, body)
		return
	}
	if e.Code == errs.Unauthenticated && r.Method == http.MethodGet {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	p := s.newPage(r, "err.title."+string(e.Code), nil)
	p.Err = e
	msg := i18n.T(lang, "err."+string(e.Code))
	if e.Code != errs.Internal && e.Message != "" && e.Key == "" && e.Code != errs.Forbidden {
		msg = e.Message
	} else if e.Key != "" {
		msg = i18n.T(lang, e.Key, e.Args...)
	}
	p.Data = map[string]any{"Status": status, "Message": msg, "RequestID": rid}
	s.render(w, r, "error", p, status)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// decodeJSON reads a JSON request body strictly: unknown fields and
// trailing data are errors naming what is wrong.
func decodeJSON(r *http.Request, v any) error {
	if !jsonContentType(r.Header.Get("Content-Type")) {
		return errs.Field("Content-Type", "must be application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 4<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &se):
			return errs.Field("body", "malformed JSON at byte %d", se.Offset)
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				field = "body" // the body itself has the wrong type (e.g. an array)
			}
			return errs.Field(field, "must be %s, not %s", te.Type.String(), te.Value)
		case errors.As(err, &mbe):
			return errs.Field("body", "larger than %d bytes", mbe.Limit)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return errs.Field(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "unknown field")
		case err.Error() == "EOF":
			return errs.Field("body", "empty body; a JSON object is expected")
		default:
			return errs.Field("body", "%v", err)
		}
	}
	if dec.More() {
		return errs.Field("body", "unexpected data after the JSON value")
	}
	return nil
}

// flash: a one-shot message key in a cookie, shown on the next page.
// Only catalogue keys are accepted, so a crafted cookie cannot inject text.
func (s *Server) setFlash(w http.ResponseWriter, key string, ok bool) {
	v := key
	if ok {
		v = "+" + key
	}
	http.SetCookie(w, &http.Cookie{Name: "nisduc_flash", Value: url.QueryEscape(v), Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies, MaxAge: 60})
}

func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) (string, bool) {
	c, err := r.Cookie("nisduc_flash")
	if err != nil {
		return "", false
	}
	http.SetCookie(w, &http.Cookie{Name: "nisduc_flash", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
	v, _ := url.QueryUnescape(c.Value)
	ok := strings.HasPrefix(v, "+")
	v = strings.TrimPrefix(v, "+")
	if !i18n.Has(v) {
		return "", false
	}
	return v, ok
}

// t translates for handlers (templates use page.T).
func (s *Server) t(lang, key string, args ...any) string { return i18n.T(lang, key, args...) }

// Labels of directory vocabulary in the page's language.
func (p *page) SectorLabel(code string) string   { return directory.SectorLabel(p.Lang, code) }
func (p *page) EntityLabel(code string) string   { return directory.EntityTypeLabel(p.Lang, code) }
func (p *page) CountryLabel(code string) string  { return directory.CountryLabel(p.Lang, code) }
func (p *page) ModelLabel(code string) string    { return directory.ModelLabel(p.Lang, code) }
func (p *page) KindLabel(k authz.OrgKind) string { return i18n.T(p.Lang, "dir.kind."+string(k)) }

// setRetryAfter tells a throttled client when to come back.
func setRetryAfter(w http.ResponseWriter, err error) {
	secs := 60
	if d, ok := auth.RetryAfter(err, time.Now()); ok {
		secs = max(1, int(d.Seconds()+0.999))
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
}

// jsonContentType accepts an absent Content-Type, application/json and the
// application/*+json types (such as application/merge-patch+json).
func jsonContentType(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, _ := strings.Cut(strings.ToLower(ct), ";")
	mt = strings.TrimSpace(mt)
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// nonNil turns a nil slice into an empty one, so that JSON shows [] rather
// than null for a list with nothing in it.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

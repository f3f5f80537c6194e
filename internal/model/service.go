package model

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/i18n"
	"github.com/nisduc/nisduc/internal/store"
)

// Status is the state of a version: a draft may change, a published
// version never does.
type Status string

const (
	Draft     Status = "draft"
	Published Status = "published"
)

// Info describes one stored version, without its content.
type Info struct {
	Code        string     `json:"code"`
	Kind        Kind       `json:"kind"`
	Version     int        `json:"version"`
	Status      Status     `json:"status"`
	Title       string     `json:"title"`
	Builtin     bool       `json:"builtin"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
}

// Summary is one model in a list: its latest published version (or its
// latest draft when none is published yet), and the numbers of its newest
// published version and draft.
type Summary struct {
	Info
	Published int `json:"published"` // latest published version, 0 if none
	Draft     int `json:"draft"`     // newest draft version, 0 if none
}

// Version is a stored version with its document.
type Version struct {
	Info
	Doc *Document `json:"document"`
}

// ImportOptions say how Import stores a document.
type ImportOptions struct {
	// Name is the file name shown in problems.
	Name string
	// Publish publishes a document with a new code at once (after
	// validation); a document whose code exists always becomes a draft.
	Publish bool
}

// Service stores model versions.
type Service struct {
	db  *store.DB
	log *audit.Log
	// builtins gives the documents SyncBuiltins stores (tests replace it).
	builtins func() (*Set, []Problem)
}

// New returns the model service on db, auditing changes in log.
func New(db *store.DB, log *audit.Log) *Service {
	return &Service{db: db, log: log, builtins: Builtins}
}

// keyErr builds a coded error whose message is a catalogue entry.
func keyErr(code errs.Code, key string, args ...any) error {
	return &errs.Error{Code: code, Message: i18n.T("en", key, args...), Key: key, Args: args}
}

// problemsErr turns problems into an Invalid error with one field per
// problem (field = path; the message carries file and line when known).
func problemsErr(ps []Problem) error {
	e := &errs.Error{Code: errs.Invalid, Message: i18n.T("en", "model.err.invalid", len(ps)),
		Key: "model.err.invalid", Args: []any{len(ps)}}
	for _, p := range ps {
		msg := p.Message
		if p.Line > 0 || p.File != "" {
			loc := p.File
			if p.Line > 0 {
				loc = fmt.Sprintf("%s:%d", p.File, p.Line)
			}
			msg = loc + ": " + msg
		}
		e.Fields = append(e.Fields, errs.FieldError{Field: p.Path, Message: msg})
	}
	return e
}

func canEdit(ctx context.Context) (*authz.Actor, error) {
	a := authz.ActorFrom(ctx)
	if err := authz.Check(a, authz.ModelEdit, targetOf(a)); err != nil {
		return nil, err
	}
	return a, nil
}

func targetOf(a *authz.Actor) authz.Target {
	if a == nil {
		return authz.Target{}
	}
	return authz.Target{OrgID: a.OrgID, OrgKind: a.OrgKind}
}

func actorName(a *authz.Actor) string {
	switch {
	case a == nil:
		return "system"
	case a.Email != "":
		return a.Email
	case a.Name != "":
		return a.Name
	}
	return a.UserID
}

func (s *Service) record(ctx context.Context, tx *store.Tx, action string, d *Document, details map[string]any) error {
	if details == nil {
		details = map[string]any{}
	}
	details["kind"] = string(d.Kind)
	details["version"] = d.Version
	return s.log.Record(ctx, tx, audit.Entry{Action: action, ObjectType: "model", ObjectID: d.ID(), Details: details})
}

const infoCols = `v.code, v.kind, v.version, v.status, v.title, d.builtin, v.created_by, v.created_at, v.published_at`

type querier interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// versions runs a query over model_versions v JOIN model_documents d and
// scans Info (plus content when withContent).
func versions(ctx context.Context, q querier, where string, withContent bool, args ...any) ([]Info, []string, error) {
	cols := infoCols
	if withContent {
		cols += ", v.content"
	}
	rows, err := q.Query(ctx, `SELECT `+cols+` FROM model_versions v JOIN model_documents d ON d.code = v.code `+where, args...)
	if err != nil {
		return nil, nil, errs.Wrap(err, "model query")
	}
	defer rows.Close()
	var infos []Info
	var contents []string
	for rows.Next() {
		var in Info
		var pub sql.NullTime
		var content string
		dest := []any{&in.Code, &in.Kind, &in.Version, &in.Status, &in.Title, &in.Builtin, &in.CreatedBy, &in.CreatedAt, &pub}
		if withContent {
			dest = append(dest, &content)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, errs.Wrap(err, "model scan")
		}
		in.CreatedAt = in.CreatedAt.UTC()
		if pub.Valid {
			t := pub.Time.UTC()
			in.PublishedAt = &t
		}
		infos = append(infos, in)
		contents = append(contents, content)
	}
	return infos, contents, errs.Wrap(rows.Err(), "model rows")
}

// decode reads a stored version's content.
func decode(in Info, content string) (*Document, error) {
	d, ps := Parse(fmt.Sprintf("%s@%d", in.Code, in.Version), []byte(content))
	if d == nil || len(ps) > 0 {
		return nil, errs.Wrap(fmt.Errorf("%v", ps), "stored model %s@%d does not parse", in.Code, in.Version)
	}
	return d, nil
}

// List returns every model, one summary per code, ordered by kind and code.
// Anyone may list models.
func (s *Service) List(ctx context.Context) ([]Summary, error) {
	infos, _, err := versions(ctx, s.db, `ORDER BY v.kind, v.code, v.version`, false)
	if err != nil {
		return nil, err
	}
	var out []Summary
	for _, in := range infos {
		if len(out) == 0 || out[len(out)-1].Code != in.Code {
			out = append(out, Summary{Info: in})
		}
		sm := &out[len(out)-1]
		if in.Status == Published {
			sm.Info, sm.Published = in, in.Version
		} else {
			sm.Draft = in.Version
			if sm.Published == 0 {
				sm.Info = in
			}
		}
	}
	return out, nil
}

// Versions returns every version of code, oldest first. Errors: NotFound.
func (s *Service) Versions(ctx context.Context, code string) ([]Info, error) {
	infos, _, err := versions(ctx, s.db, `WHERE v.code = ? ORDER BY v.version`, false, code)
	if err != nil {
		return nil, err
	}
	if len(infos) == 0 {
		return nil, keyErr(errs.NotFound, "model.err.not_found", code)
	}
	return infos, nil
}

// Get returns version of code; version 0 is the latest published one.
// Errors: NotFound.
func (s *Service) Get(ctx context.Context, code string, version int) (*Version, error) {
	return s.get(ctx, s.db, code, version)
}

func (s *Service) get(ctx context.Context, q querier, code string, version int) (*Version, error) {
	var infos []Info
	var contents []string
	var err error
	if version == 0 {
		infos, contents, err = versions(ctx, q, `WHERE v.code = ? AND v.status = ? ORDER BY v.version DESC`, true, code, string(Published))
		if err == nil && len(infos) == 0 {
			all, _, err := versions(ctx, q, `WHERE v.code = ?`, false, code)
			if err != nil {
				return nil, err
			}
			if len(all) == 0 {
				return nil, keyErr(errs.NotFound, "model.err.not_found", code)
			}
			return nil, keyErr(errs.NotFound, "model.err.no_published", code)
		}
	} else {
		infos, contents, err = versions(ctx, q, `WHERE v.code = ? AND v.version = ?`, true, code, version)
		if err == nil && len(infos) == 0 {
			return nil, keyErr(errs.NotFound, "model.err.not_found", fmt.Sprintf("%s@%d", code, version))
		}
	}
	if err != nil {
		return nil, err
	}
	d, err := decode(infos[0], contents[0])
	if err != nil {
		return nil, err
	}
	return &Version{Info: infos[0], Doc: d}, nil
}

// published loads the latest published version of every model as a set.
func (s *Service) published(ctx context.Context, q querier) (*Set, error) {
	infos, contents, err := versions(ctx, q, `WHERE v.status = 'published' AND v.version =
		(SELECT MAX(w.version) FROM model_versions w WHERE w.code = v.code AND w.status = 'published')
		ORDER BY v.kind, v.code`, true)
	if err != nil {
		return nil, err
	}
	set := &Set{}
	for i, in := range infos {
		d, err := decode(in, contents[i])
		if err != nil {
			return nil, err
		}
		set.Add(d)
	}
	return set, nil
}

// check validates d (schema and rules) in set, with d in place of its
// namesake. A document built in code (not parsed: no lines) has its schema
// checked through its canonical JSON, and its problems carry no file or
// line. Only problems of d are returned unless all is set (publishing
// reports the problems d causes in other documents too).
func check(d *Document, set *Set, all bool) []Problem {
	var ps []Problem
	doc := d
	if d.lines == nil {
		parsed, sp := Parse(d.ID(), d.JSON())
		if parsed == nil {
			return sp
		}
		parsed.lines = nil
		doc, ps = parsed, sp
	}
	full := NewSet(set.Docs()...)
	full.Put(doc)
	for _, p := range Validate(full) {
		if all || p.File == doc.file {
			ps = append(ps, p)
		}
	}
	if d.lines == nil {
		for i := range ps {
			if ps[i].File == doc.file {
				ps[i].File, ps[i].Line = "", 0
			}
		}
	}
	SortProblems(ps)
	return ps
}

func nextVersion(ctx context.Context, tx *store.Tx, code string) (int, error) {
	var max int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE code = ?`, code).Scan(&max); err != nil {
		return 0, errs.Wrap(err, "model version")
	}
	return max + 1, nil
}

func insertVersion(ctx context.Context, tx *store.Tx, d *Document, status Status, by string) error {
	var pub any
	if status == Published {
		pub = tx.Now
	}
	_, err := tx.Exec(ctx, `INSERT INTO model_versions (code, version, kind, status, title, content, created_by, created_at, published_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.Code, d.Version, string(d.Kind), string(status), d.Title(), string(d.JSON()), by, tx.Now, pub)
	return err
}

// ensureDocument inserts the document row of d if its code is new, and
// checks that an existing code has d's kind.
func ensureDocument(ctx context.Context, tx *store.Tx, d *Document, builtin bool) (isNew bool, err error) {
	var kind string
	err = tx.QueryRow(ctx, `SELECT kind FROM model_documents WHERE code = ?`, d.Code).Scan(&kind)
	switch {
	case err == sql.ErrNoRows:
		var other string
		if err := tx.QueryRow(ctx, `SELECT code FROM model_documents WHERE uuid = ?`, d.UUID).Scan(&other); err == nil {
			return false, keyErr(errs.Conflict, "model.err.uuid_taken", d.UUID, other)
		}
		_, err := tx.Exec(ctx, `INSERT INTO model_documents (code, kind, uuid, builtin, created_at) VALUES (?, ?, ?, ?, ?)`,
			d.Code, string(d.Kind), d.UUID, builtin, tx.Now)
		return true, err
	case err != nil:
		return false, errs.Wrap(err, "model document")
	case Kind(kind) != d.Kind:
		return false, keyErr(errs.Conflict, "model.err.kind_mismatch", d.Code, kind, d.Kind)
	}
	return false, nil
}

// SyncBuiltins stores every embedded document's version that is not stored
// yet, as published (run it at start). A built-in document with problems is
// skipped and logged. A stored published built-in version whose content
// differs from the embedded one is an error naming it: built-in content
// must not change without a version bump. A user's draft that holds the
// number of a new built-in version is moved to the next free number.
func (s *Service) SyncBuiltins(ctx context.Context) error {
	set, ps := s.builtins()
	bad := map[string]bool{}
	for _, p := range ps {
		bad[p.File] = true
		slog.Warn("built-in model problem", "problem", p.String())
	}
	return s.db.Update(ctx, func(tx *store.Tx) error {
		for _, d := range set.Docs() {
			if bad[d.File()] {
				slog.Warn("built-in model skipped: it has problems", "file", d.File(), "code", d.Code)
				continue
			}
			var status, content string
			err := tx.QueryRow(ctx, `SELECT status, content FROM model_versions WHERE code = ? AND version = ?`, d.Code, d.Version).Scan(&status, &content)
			switch {
			case err == nil && Status(status) == Published:
				if content != string(d.JSON()) {
					return keyErr(errs.Conflict, "model.err.builtin_changed", d.Code, d.Version)
				}
				continue
			case err == nil: // a draft holds the number
				next, err := nextVersion(ctx, tx, d.Code)
				if err != nil {
					return err
				}
				if err := s.renumber(ctx, tx, d.Code, d.Version, next, content); err != nil {
					return err
				}
			case err != sql.ErrNoRows:
				return errs.Wrap(err, "model sync")
			}
			if _, err := ensureDocument(ctx, tx, d, true); err != nil {
				return err
			}
			if err := insertVersion(ctx, tx, d, Published, "system"); err != nil {
				return err
			}
			if err := s.record(ctx, tx, "model.publish", d, map[string]any{"builtin": true}); err != nil {
				return err
			}
		}
		return nil
	})
}

// renumber moves a draft to another version number (its content's version
// follows).
func (s *Service) renumber(ctx context.Context, tx *store.Tx, code string, from, to int, content string) error {
	d, err := decode(Info{Code: code, Version: from}, content)
	if err != nil {
		return err
	}
	d.Version = to
	if _, err := tx.Exec(ctx, `UPDATE model_versions SET version = ?, content = ? WHERE code = ? AND version = ?`,
		to, string(d.JSON()), code, from); err != nil {
		return err
	}
	return s.record(ctx, tx, "model.save", d, map[string]any{"renumbered_from": from})
}

// CreateDraft copies the latest published version of code as a new draft
// (version = highest + 1). It needs authz.ModelEdit.
// Errors: Unauthenticated, Forbidden, NotFound, Conflict (a draft exists).
func (s *Service) CreateDraft(ctx context.Context, code string) (Info, error) {
	a, err := canEdit(ctx)
	if err != nil {
		return Info{}, err
	}
	var out Info
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		drafts, _, err := versions(ctx, tx, `WHERE v.code = ? AND v.status = 'draft' ORDER BY v.version DESC`, false, code)
		if err != nil {
			return err
		}
		if len(drafts) > 0 {
			return keyErr(errs.Conflict, "model.err.draft_exists", code, drafts[0].Version)
		}
		cur, err := s.get(ctx, tx, code, 0)
		if err != nil {
			return err
		}
		next, err := nextVersion(ctx, tx, code)
		if err != nil {
			return err
		}
		d := cur.Doc
		from := d.Version
		d.Version = next
		if err := insertVersion(ctx, tx, d, Draft, actorName(a)); err != nil {
			return err
		}
		out = Info{Code: code, Kind: d.Kind, Version: next, Status: Draft, Title: d.Title(), Builtin: cur.Builtin, CreatedBy: actorName(a), CreatedAt: tx.Now}
		return s.record(ctx, tx, "model.draft", d, map[string]any{"from": from})
	})
	return out, err
}

// SaveDraft replaces the content of draft version of code with doc, after
// validating it (schema and rules, against the published models). It needs
// authz.ModelEdit. Errors: Unauthenticated, Forbidden, NotFound, Conflict
// (the version is published), Invalid (one field per problem, field = path).
func (s *Service) SaveDraft(ctx context.Context, code string, version int, doc *Document) (Info, error) {
	a, err := canEdit(ctx)
	if err != nil {
		return Info{}, err
	}
	if doc == nil {
		return Info{}, errs.E(errs.Invalid, "no document")
	}
	var out Info
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		cur, err := s.get(ctx, tx, code, version)
		if err != nil {
			return err
		}
		if cur.Status == Published {
			return keyErr(errs.Conflict, "model.err.published", code, version)
		}
		var f errs.Fields
		if doc.Code != code {
			f.AddKey("code", "model.err.mismatch", code, doc.Code)
		}
		if doc.Version != version {
			f.AddKey("version", "model.err.mismatch", version, doc.Version)
		}
		if doc.Kind != cur.Kind {
			f.AddKey("kind", "model.err.mismatch", cur.Kind, doc.Kind)
		}
		if doc.UUID != cur.Doc.UUID {
			f.AddKey("uuid", "model.err.mismatch", cur.Doc.UUID, doc.UUID)
		}
		if err := f.Err(); err != nil {
			return err
		}
		set, err := s.published(ctx, tx)
		if err != nil {
			return err
		}
		if ps := check(doc, set, false); len(ps) > 0 {
			return problemsErr(ps)
		}
		if _, err := tx.Exec(ctx, `UPDATE model_versions SET content = ?, title = ? WHERE code = ? AND version = ? AND status = 'draft'`,
			string(doc.JSON()), doc.Title(), code, version); err != nil {
			return err
		}
		out = cur.Info
		out.Title = doc.Title()
		diff := Diff(cur.Doc, doc)
		return s.record(ctx, tx, "model.save", doc, map[string]any{"changes": len(diff), "by": actorName(a)})
	})
	return out, err
}

// Publish makes draft version of code published, after validating it
// against the current published models (every problem it causes, in any
// document, is reported). It needs authz.ModelEdit. Errors:
// Unauthenticated, Forbidden, NotFound, Conflict (already published),
// Invalid.
func (s *Service) Publish(ctx context.Context, code string, version int) (Info, error) {
	if _, err := canEdit(ctx); err != nil {
		return Info{}, err
	}
	var out Info
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		cur, err := s.get(ctx, tx, code, version)
		if err != nil {
			return err
		}
		if cur.Status == Published {
			return keyErr(errs.Conflict, "model.err.published", code, version)
		}
		set, err := s.published(ctx, tx)
		if err != nil {
			return err
		}
		if ps := check(cur.Doc, set, true); len(ps) > 0 {
			return problemsErr(ps)
		}
		if _, err := tx.Exec(ctx, `UPDATE model_versions SET status = 'published', published_at = ? WHERE code = ? AND version = ?`,
			tx.Now, code, version); err != nil {
			return err
		}
		out = cur.Info
		out.Status = Published
		t := tx.Now
		out.PublishedAt = &t
		return s.record(ctx, tx, "model.publish", cur.Doc, nil)
	})
	return out, err
}

// Import stores a document from outside (YAML or JSON): a new code becomes
// version 1, a draft or (opts.Publish) published after validation against
// the published models; an existing code gets a new draft version. It
// needs authz.ModelEdit. Errors: Unauthenticated, Forbidden, Invalid (the
// document's problems), Conflict (the code is another kind, or the UUID
// belongs to another model).
func (s *Service) Import(ctx context.Context, data []byte, opts ImportOptions) (Info, error) {
	a, err := canEdit(ctx)
	if err != nil {
		return Info{}, err
	}
	name := opts.Name
	if name == "" {
		name = "import"
	}
	doc, ps := Parse(name, data)
	if doc == nil || len(ps) > 0 {
		return Info{}, problemsErr(ps)
	}
	var out Info
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		isNew, err := ensureDocument(ctx, tx, doc, false)
		if err != nil {
			return err
		}
		status := Draft
		if isNew {
			doc.Version = 1
			if opts.Publish {
				status = Published
			}
		} else {
			if doc.Version, err = nextVersion(ctx, tx, doc.Code); err != nil {
				return err
			}
		}
		set, err := s.published(ctx, tx)
		if err != nil {
			return err
		}
		if ps := check(doc, set, status == Published); len(ps) > 0 {
			return problemsErr(ps)
		}
		if err := insertVersion(ctx, tx, doc, status, actorName(a)); err != nil {
			return err
		}
		out = Info{Code: doc.Code, Kind: doc.Kind, Version: doc.Version, Status: status, Title: doc.Title(), CreatedBy: actorName(a), CreatedAt: tx.Now}
		if status == Published {
			t := tx.Now
			out.PublishedAt = &t
		}
		return s.record(ctx, tx, "model.import", doc, map[string]any{"status": string(status)})
	})
	return out, err
}

// Set returns the latest published version of every stored model.
func (s *Service) Set(ctx context.Context) (*Set, error) { return s.published(ctx, s.db) }

// Check parses data under name and validates it against the published
// models, as saving it would: every problem of the document (with its
// line), none of the others'. doc is nil when data is not a decodable
// document. Nothing is stored and no permission is needed.
//
// Errors: Internal when the published models cannot be read.
func (s *Service) Check(ctx context.Context, name string, data []byte) (*Document, []Problem, error) {
	doc, ps := Parse(name, data)
	if doc == nil {
		return nil, ps, nil
	}
	set, err := s.Set(ctx)
	if err != nil {
		return nil, nil, err
	}
	ps = append(ps, check(doc, set, false)...)
	SortProblems(ps)
	return doc, ps, nil
}

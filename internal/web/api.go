package web

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/auth"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/errs"
)

// OpenAPIDoc is the API's description, served at /api/v1/openapi.json; the
// API tests validate every request and response against it.
//
//go:embed openapi.json
var OpenAPIDoc []byte

func (s *Server) registerAPI() {
	s.handle("GET", "/api/v1/openapi.json", Public, s.apiOpenAPI)
	s.handle("GET", "/api/v1/me", Signed, s.apiMe)

	s.handle("GET", "/api/v1/organizations", Signed, s.apiOrgList)
	s.handle("POST", "/api/v1/organizations", Signed, s.apiOrgCreate)
	s.handle("GET", "/api/v1/organizations/{id}", Signed, s.apiOrgGet)
	s.handle("PATCH", "/api/v1/organizations/{id}", Signed, s.apiOrgPatch)
	s.handle("GET", "/api/v1/organizations/{id}/supervision", Signed, s.apiOrgLinks)
	s.handle("GET", "/api/v1/organizations/{id}/users", Signed, s.apiOrgUsers)

	s.handle("GET", "/api/v1/supervision", Signed, s.apiLinkList)
	s.handle("POST", "/api/v1/supervision", Signed, s.apiLinkCreate)
	s.handle("DELETE", "/api/v1/supervision/{id}", Signed, s.apiLinkDelete)

	s.handle("GET", "/api/v1/directory", Signed, s.apiDirectoryExport)
	s.handle("POST", "/api/v1/directory", Signed, s.apiDirectoryImport)

	s.handle("GET", "/api/v1/users", Signed, s.apiUserList)
	s.handle("POST", "/api/v1/users", Signed, s.apiUserCreate)
	s.handle("GET", "/api/v1/users/{id}", Signed, s.apiUserGet)
	s.handle("PATCH", "/api/v1/users/{id}", Signed, s.apiUserPatch)

	s.handle("GET", "/api/v1/tokens", Signed, s.apiTokenList)
	s.handle("POST", "/api/v1/tokens", Signed, s.apiTokenCreate)
	s.handle("DELETE", "/api/v1/tokens/{id}", Signed, s.apiTokenDelete)

	s.handle("GET", "/api/v1/audit", Signed, s.apiAudit)

	s.handle("GET", "/api/v1/inbox", Signed, s.apiInbox)
	s.handle("POST", "/api/v1/inbox/read", Signed, s.apiInboxRead)
}

func (s *Server) apiOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(OpenAPIDoc)
	return nil
}

type apiActor struct {
	UserID   string        `json:"user_id"`
	Email    string        `json:"email"`
	Name     string        `json:"name"`
	OrgID    string        `json:"org_id"`
	OrgKind  authz.OrgKind `json:"org_kind"`
	Roles    []authz.Role  `json:"roles"`
	Sectors  []string      `json:"sectors"`
	Language string        `json:"language"`
	TimeZone string        `json:"timezone"`
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) error {
	a := authz.ActorFrom(r.Context())
	out := apiActor{UserID: a.UserID, Email: a.Email, Name: a.Name, OrgID: a.OrgID, OrgKind: a.OrgKind,
		Roles: a.Roles, Sectors: a.Sectors, Language: a.Lang, TimeZone: a.TZ}
	out.Roles = nonNil(out.Roles)
	out.Sectors = nonNil(out.Sectors)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// intParam reads an optional whole-number query parameter.
func intParam(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errs.Field(name, "must be a whole number ≥ 0")
	}
	return n, nil
}

type orgList struct {
	Items  []directory.Org `json:"items"`
	Total  int             `json:"total"`
	Limit  int             `json:"limit"`
	Offset int             `json:"offset"`
}

func (s *Server) apiOrgList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := intParam(r, "limit")
	if err != nil {
		return err
	}
	offset, err := intParam(r, "offset")
	if err != nil {
		return err
	}
	f := directory.OrgFilter{Query: q.Get("q"), Kind: q.Get("kind"), Country: q.Get("country"), Sector: q.Get("sector"), Limit: limit, Offset: offset}
	pg, err := s.deps.Directory.ListOrgs(r.Context(), f)
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = directory.DefaultLimit
	}
	items := pg.Items
	items = nonNil(items)
	writeJSON(w, http.StatusOK, orgList{Items: items, Total: pg.Total, Limit: min(limit, directory.MaxLimit), Offset: offset})
	return nil
}

// readOrgInput reads an organisation body with the directory's strict
// parser, so that problems are named by their JSON path
// ("contacts[1].email", not "contacts.email") and AS numbers may be given
// as numbers, as the API answers them, or as strings.
func readOrgInput(r *http.Request) (directory.OrgInput, error) {
	if !jsonContentType(r.Header.Get("Content-Type")) {
		return directory.OrgInput{}, errs.Field("Content-Type", "must be application/json")
	}
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 4<<20))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return directory.OrgInput{}, errs.Field("body", "larger than %d bytes", mbe.Limit)
	case err != nil:
		return directory.OrgInput{}, errs.Field("body", "%v", err)
	case len(bytes.TrimSpace(data)) == 0:
		return directory.OrgInput{}, errs.Field("body", "empty body; a JSON object is expected")
	}
	in, err := directory.ParseOrgInput(data)
	return in, bodyNotDocument(err)
}

// bodyNotDocument names the whole input "body", as decodeJSON does, where
// the directory's parser says "document".
func bodyNotDocument(err error) error {
	if e, ok := err.(*errs.Error); ok {
		for i := range e.Fields {
			if e.Fields[i].Field == "document" {
				e.Fields[i].Field = "body"
			}
		}
	}
	return err
}

func (s *Server) apiOrgCreate(w http.ResponseWriter, r *http.Request) error {
	in, err := readOrgInput(r)
	if err != nil {
		return err
	}
	o, err := s.deps.Directory.CreateOrg(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/organizations/"+o.ID)
	writeJSON(w, http.StatusCreated, o)
	return nil
}

func (s *Server) apiOrgGet(w http.ResponseWriter, r *http.Request) error {
	o, err := s.deps.Directory.GetOrg(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

// apiOrgPatch applies a JSON merge patch (RFC 7396) to the organisation's
// input document, then validates the result as a whole.
func (s *Server) apiOrgPatch(w http.ResponseWriter, r *http.Request) error {
	cur, err := s.deps.Directory.GetOrg(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	var patch map[string]any
	if err := decodeJSON(r, &patch); err != nil {
		return err
	}
	base, err := json.Marshal(cur.Input())
	if err != nil {
		return errs.Wrap(err, "encode organization")
	}
	var doc map[string]any
	if err := json.Unmarshal(base, &doc); err != nil {
		return errs.Wrap(err, "decode organization")
	}
	if v, ok := patch["id"]; ok && v != cur.ID {
		return errs.Field("id", "cannot be changed")
	}
	mergePatch(doc, patch)
	merged, err := json.Marshal(doc)
	if err != nil {
		return errs.Wrap(err, "encode patch")
	}
	in, err := directory.ParseOrgInput(merged)
	if err != nil {
		return bodyNotDocument(err)
	}
	o, err := s.deps.Directory.UpdateOrg(r.Context(), cur.ID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

// mergePatch applies an RFC 7396 merge patch to doc in place.
func mergePatch(doc, patch map[string]any) {
	for k, v := range patch {
		if v == nil {
			delete(doc, k)
			continue
		}
		if pm, ok := v.(map[string]any); ok {
			if dm, ok := doc[k].(map[string]any); ok {
				mergePatch(dm, pm)
				continue
			}
		}
		doc[k] = v
	}
}

func (s *Server) apiOrgLinks(w http.ResponseWriter, r *http.Request) error {
	o, err := s.deps.Directory.GetOrg(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	links, err := s.deps.Directory.LinksFor(r.Context(), o.ID)
	if err != nil {
		return err
	}
	links = nonNil(links)
	writeJSON(w, http.StatusOK, map[string]any{"items": links})
	return nil
}

func (s *Server) apiOrgUsers(w http.ResponseWriter, r *http.Request) error {
	o, err := s.deps.Directory.GetOrg(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	users, err := s.deps.Directory.ListUsers(r.Context(), o.ID)
	if err != nil {
		return err
	}
	users = nonNil(users)
	writeJSON(w, http.StatusOK, map[string]any{"items": users})
	return nil
}

func (s *Server) apiLinkList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	links, err := s.deps.Directory.ListLinks(r.Context(), directory.LinkFilter{Country: q.Get("country"), Sector: q.Get("sector"),
		Role: authz.LinkRole(q.Get("role")), AuthorityOrgID: q.Get("authority")})
	if err != nil {
		return err
	}
	links = nonNil(links)
	writeJSON(w, http.StatusOK, map[string]any{"items": links})
	return nil
}

type linkInput struct {
	Country        string         `json:"country"`
	Sector         string         `json:"sector"`
	Subsector      string         `json:"subsector"`
	Role           authz.LinkRole `json:"role"`
	AuthorityOrgID string         `json:"authority"`
	Model          string         `json:"regulatory_model"`
}

func (s *Server) apiLinkCreate(w http.ResponseWriter, r *http.Request) error {
	var in linkInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	l, err := s.deps.Directory.AddLink(r.Context(), directory.Link{Country: in.Country, Sector: in.Sector, Subsector: in.Subsector,
		Role: in.Role, AuthorityOrgID: in.AuthorityOrgID, Model: in.Model})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, l)
	return nil
}

func (s *Server) apiLinkDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.deps.Directory.RemoveLink(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiDirectoryExport(w http.ResponseWriter, r *http.Request) error {
	if err := authz.Check(authz.ActorFrom(r.Context()), authz.OrgAdmin, authz.Target{}); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := s.deps.Directory.Export(r.Context(), &buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(buf.Bytes())
	return nil
}

func (s *Server) apiDirectoryImport(w http.ResponseWriter, r *http.Request) error {
	if !jsonContentType(r.Header.Get("Content-Type")) {
		return errs.Field("Content-Type", "must be application/json")
	}
	res, err := s.deps.Directory.Import(r.Context(), http.MaxBytesReader(w, r.Body, 64<<20))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) apiUserList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := intParam(r, "limit")
	if err != nil {
		return err
	}
	offset, err := intParam(r, "offset")
	if err != nil {
		return err
	}
	users, err := s.deps.Directory.ListAllUsers(r.Context(), directory.UserFilter{Query: q.Get("q"), OrgID: q.Get("org"),
		Role: authz.Role(q.Get("role")), Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	users = nonNil(users)
	writeJSON(w, http.StatusOK, map[string]any{"items": users})
	return nil
}

type userInput struct {
	OrgID    string       `json:"org_id"`
	Email    string       `json:"email"`
	Name     string       `json:"name"`
	Roles    []authz.Role `json:"roles"`
	Sectors  []string     `json:"sectors"`
	Language string       `json:"language"`
	TimeZone string       `json:"timezone"`
	Password string       `json:"password"`
}

func (s *Server) apiUserCreate(w http.ResponseWriter, r *http.Request) error {
	var in userInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	u, err := s.deps.Directory.CreateUser(r.Context(), directory.NewUser{OrgID: in.OrgID, Email: in.Email, Name: in.Name,
		Roles: in.Roles, Sectors: in.Sectors, Language: in.Language, TimeZone: in.TimeZone, Password: in.Password})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+u.ID)
	writeJSON(w, http.StatusCreated, u)
	return nil
}

// apiUserGet shows a user to whoever may list that organisation's users,
// and to the user themselves.
func (s *Server) apiUserGet(w http.ResponseWriter, r *http.Request) error {
	u, err := s.deps.Directory.GetUser(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

type userPatch struct {
	Name     *string       `json:"name"`
	Language *string       `json:"language"`
	TimeZone *string       `json:"timezone"`
	Roles    *[]authz.Role `json:"roles"`
	Sectors  *[]string     `json:"sectors"`
	Disabled *bool         `json:"disabled"`
}

func (s *Server) apiUserPatch(w http.ResponseWriter, r *http.Request) error {
	var in userPatch
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	u, err := s.deps.Directory.UpdateUser(r.Context(), r.PathValue("id"), directory.UserUpdate{Name: in.Name, Language: in.Language,
		TimeZone: in.TimeZone, Roles: in.Roles, Sectors: in.Sectors, Disabled: in.Disabled})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

type apiToken struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	// Token is the secret, present only in the creation response.
	Token string `json:"token,omitempty"`
}

func toAPIToken(t auth.Token) apiToken {
	return apiToken{ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt}
}

func (s *Server) apiTokenList(w http.ResponseWriter, r *http.Request) error {
	list, err := s.deps.Auth.ListTokens(r.Context(), authz.ActorFrom(r.Context()).UserID)
	if err != nil {
		return err
	}
	out := make([]apiToken, 0, len(list))
	for _, t := range list {
		out = append(out, toAPIToken(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

type tokenInput struct {
	Name    string `json:"name"`
	TTLDays int    `json:"ttl_days"`
}

func (s *Server) apiTokenCreate(w http.ResponseWriter, r *http.Request) error {
	var in tokenInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	// Checked here, in days, before the multiplication could overflow and
	// wrap around to a valid duration.
	if maxDays := int(auth.MaxTokenTTL / (24 * time.Hour)); in.TTLDays < 0 {
		return errs.FieldKey("ttl_days", "auth.token.ttl_invalid")
	} else if in.TTLDays > maxDays {
		return errs.FieldKey("ttl_days", "auth.token.ttl_too_long", maxDays)
	}
	ttl := time.Duration(in.TTLDays) * 24 * time.Hour
	secret, tok, err := s.deps.Auth.CreateToken(r.Context(), authz.ActorFrom(r.Context()).UserID, in.Name, ttl)
	if err != nil {
		return err
	}
	out := toAPIToken(tok)
	out.Token = secret
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) apiTokenDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.deps.Auth.RevokeToken(r.Context(), authz.ActorFrom(r.Context()).UserID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type apiAuditRecord struct {
	Seq         int64           `json:"seq"`
	ID          string          `json:"id"`
	At          time.Time       `json:"at"`
	ActorUserID string          `json:"actor_user_id"`
	ActorOrgID  string          `json:"actor_org_id"`
	ActorName   string          `json:"actor_name"`
	Addr        string          `json:"addr"`
	OrgID       string          `json:"org_id"`
	Action      string          `json:"action"`
	ObjectType  string          `json:"object_type"`
	ObjectID    string          `json:"object_id"`
	Details     json.RawMessage `json:"details"`
	Hash        string          `json:"hash"`
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) error {
	f, _, err := s.auditFilter(r)
	if err != nil {
		return err
	}
	recs, err := s.deps.Audit.List(r.Context(), s.deps.DB, f)
	if err != nil {
		return err
	}
	out := make([]apiAuditRecord, 0, len(recs))
	for _, x := range recs {
		d := json.RawMessage(x.Details)
		if !json.Valid(d) {
			d = json.RawMessage("{}")
		}
		out = append(out, apiAuditRecord{Seq: x.Seq, ID: x.ID, At: x.At, ActorUserID: x.ActorUserID, ActorOrgID: x.ActorOrgID,
			ActorName: x.ActorName, Addr: x.Addr, OrgID: x.OrgID, Action: x.Action, ObjectType: x.ObjectType, ObjectID: x.ObjectID, Details: d, Hash: x.Hash})
	}
	body := map[string]any{"items": out}
	limit := f.Limit
	if limit == 0 {
		limit = audit.DefaultLimit
	}
	if len(recs) == limit {
		body["next_before"] = recs[len(recs)-1].Seq
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

type apiNotification struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	Subject   string     `json:"subject"`
	Body      string     `json:"body"`
	Link      string     `json:"link"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

func (s *Server) apiInbox(w http.ResponseWriter, r *http.Request) error {
	a := authz.ActorFrom(r.Context())
	list, err := s.deps.Notify.Inbox(r.Context(), a.UserID, 200)
	if err != nil {
		return err
	}
	unread, err := s.deps.Notify.UnreadCount(r.Context(), a.UserID)
	if err != nil {
		return err
	}
	out := make([]apiNotification, 0, len(list))
	for _, n := range list {
		x := apiNotification{ID: n.ID, Kind: n.Kind, Subject: n.Subject, Body: n.Body, Link: n.Link, CreatedAt: n.CreatedAt}
		if !n.ReadAt.IsZero() {
			t := n.ReadAt
			x.ReadAt = &t
		}
		out = append(out, x)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out, "unread": unread})
	return nil
}

type inboxReadInput struct {
	ID string `json:"id"`
}

func (s *Server) apiInboxRead(w http.ResponseWriter, r *http.Request) error {
	var in inboxReadInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	a := authz.ActorFrom(r.Context())
	var err error
	if in.ID != "" {
		err = s.deps.Notify.MarkRead(r.Context(), a.UserID, in.ID)
	} else {
		err = s.deps.Notify.MarkAllRead(r.Context(), a.UserID)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

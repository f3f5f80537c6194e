package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/i18n"
)

// Access says who may reach a route at all; what they may do there is the
// policy's business (services call authz.Check).
type Access int

const (
	// Public routes need no sign-in (login page, health, static files).
	Public Access = iota
	// Signed routes need a signed-in user with the second factor done
	// (a browser session, or for /api/ a bearer token).
	Signed
	// Enrol routes are reachable by a signed-in user who still has to set
	// up or complete the second factor (the 2FA pages, logout).
	Enrol
)

// Route is one registered route.
type Route struct {
	Method string
	Path   string // ServeMux pattern path, e.g. /orgs/{id}
	Access Access
}

// Pattern is the ServeMux pattern.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers a route: the access gate, then h; an error from h is
// rendered by renderError (HTML or JSON by path).
func (s *Server) handle(method, path string, access Access, h handlerFunc) {
	s.routes = append(s.routes, Route{Method: method, Path: path, Access: access})
	s.mux.HandleFunc(method+" "+path, func(w http.ResponseWriter, r *http.Request) {
		r, err := s.authenticate(w, r, access)
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			if err == errRedirected {
				return
			}
			s.renderError(w, r, err)
		}
	})
}

// errRedirected tells handle that the response is already written.
var errRedirected = errs.E(errs.Internal, "redirected")

func (s *Server) registerRoutes() {
	// Operations
	s.handle("GET", "/healthz", Public, s.healthz)
	s.handle("GET", "/readyz", Public, s.readyz)
	s.handle("GET", "/metrics", Public, s.metricsHandler)
	s.handle("GET", "/static/", Public, s.staticFiles)

	// Sign-in
	s.handle("GET", "/login", Public, s.loginForm)
	s.handle("POST", "/login", Public, s.loginSubmit)
	s.handle("GET", "/login/2fa", Enrol, s.secondFactorForm)
	s.handle("POST", "/login/2fa", Enrol, s.secondFactorSubmit)
	s.handle("POST", "/logout", Enrol, s.logout)
	s.handle("POST", "/lang", Public, s.setLanguage)

	// Account
	s.handle("GET", "/account", Signed, s.accountPage)
	s.handle("POST", "/account/profile", Signed, s.accountProfile)
	s.handle("POST", "/account/password", Signed, s.accountPassword)
	s.handle("GET", "/account/2fa", Enrol, s.totpSetupForm)
	s.handle("POST", "/account/2fa", Enrol, s.totpSetupSubmit)
	s.handle("POST", "/account/2fa/disable", Signed, s.totpDisable)
	s.handle("GET", "/account/tokens", Signed, s.tokensPage)
	s.handle("POST", "/account/tokens", Signed, s.tokenCreate)
	s.handle("POST", "/account/tokens/{id}/revoke", Signed, s.tokenRevoke)

	// Dashboard, inbox
	s.handle("GET", "/{$}", Signed, s.dashboard)
	s.handle("GET", "/inbox", Signed, s.inboxPage)
	s.handle("POST", "/inbox/read", Signed, s.inboxRead)

	// Directory
	s.handle("GET", "/orgs", Signed, s.orgList)
	s.handle("GET", "/orgs/new", Signed, s.orgNewForm)
	s.handle("POST", "/orgs", Signed, s.orgCreate)
	s.handle("GET", "/orgs/{id}", Signed, s.orgView)
	s.handle("GET", "/orgs/{id}/edit", Signed, s.orgEditForm)
	s.handle("POST", "/orgs/{id}", Signed, s.orgUpdate)
	s.handle("GET", "/orgs/{id}/users", Signed, s.orgUsers)
	s.handle("POST", "/orgs/{id}/users", Signed, s.userCreate)
	s.handle("GET", "/users/{id}", Signed, s.userEditForm)
	s.handle("POST", "/users/{id}", Signed, s.userUpdate)
	s.handle("GET", "/supervision", Signed, s.supervisionPage)
	s.handle("POST", "/supervision", Signed, s.supervisionAdd)
	s.handle("POST", "/supervision/{id}/delete", Signed, s.supervisionRemove)
	s.handle("GET", "/directory/export", Signed, s.directoryExport)
	s.handle("GET", "/directory/import", Signed, s.importForm)
	s.handle("POST", "/directory/import", Signed, s.directoryImport)

	// Audit, settings
	s.handle("GET", "/audit", Signed, s.auditPage)
	s.handle("GET", "/settings", Signed, s.settingsPage)
	s.handle("POST", "/settings", Signed, s.settingsSave)

	s.registerAPI()
	s.registerModels()
	// Anything else under /api/ answers in JSON too, not with ServeMux's
	// plain text. It is not a route (it serves no data), so the
	// authorization matrix does not list it.
	s.mux.HandleFunc("/api/", s.apiNoRoute)
}

// apiNoRoute answers 405 (with Allow) when the path exists for other
// methods, 404 otherwise.
func (s *Server) apiNoRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{"GET", "POST", "PATCH", "PUT", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/api/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		var body apiError
		body.Error.Code = "method_not_allowed"
		body.Error.Message = "method " + r.Method + " is not allowed here; allowed: " + strings.Join(allow, ", ")
		body.Error.RequestID = requestID(r.Context())
		writeJSON(w, http.StatusMethodNotAllowed, body)
		return
	}
	s.renderError(w, r, errs.E(errs.NotFound, "no API endpoint %s", r.URL.Path))
}

// authenticate resolves the actor of r (session cookie, or bearer token on
// the API) and applies the route's access gate.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, access Access) (*http.Request, error) {
	api := strings.HasPrefix(r.URL.Path, "/api/")
	ctx := r.Context()
	var actor *authz.Actor
	secondFactorDone := true
	if api && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		tok, err := s.deps.Auth.AuthenticateToken(ctx, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err != nil {
			return r, err
		}
		a, err := s.deps.Auth.ActorFor(ctx, tok.UserID)
		if err != nil {
			return r, err
		}
		a.Via, a.TokenID = "api", tok.ID
		actor = a
	} else if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		sess, err := s.deps.Auth.LookupSession(ctx, c.Value)
		if err == nil {
			a, aerr := s.deps.Auth.ActorFor(ctx, sess.UserID)
			if aerr == nil {
				a.Via, a.SessionID = "web", sess.ID
				if api {
					a.Via = "api"
				}
				actor = a
				secondFactorDone = sess.SecondFactorDone
			} else if !errs.Is(aerr, errs.Unauthenticated) {
				return r, aerr
			}
		} else if !errs.Is(err, errs.Unauthenticated) {
			return r, err
		} else {
			s.clearSessionCookie(w)
		}
	}
	if actor != nil {
		actor.Addr = s.clientAddr(r)
		r = r.WithContext(authz.WithActor(ctx, actor))
	}
	switch access {
	case Public:
		return r, nil
	case Enrol:
		if actor == nil {
			return r, errs.E(errs.Unauthenticated, "sign in first")
		}
		return r, nil
	}
	if actor == nil {
		return r, errs.E(errs.Unauthenticated, "sign in first")
	}
	// The second factor gate: a session is created with its second factor
	// pending whenever one is owed (required by the policy, or enrolled by
	// the user), so a pending session reaches only the Enrol routes — the
	// second-factor and enrolment pages, and logout. Tokens are created from
	// fully signed-in sessions, so they pass.
	if actor.TokenID == "" && !secondFactorDone {
		if api {
			return r, errs.E(errs.Unauthenticated, "complete the second factor first")
		}
		target := "/login/2fa"
		enrolled, err := s.deps.Auth.HasTOTP(r.Context(), actor.UserID)
		if err != nil {
			return r, err
		}
		if !enrolled {
			target = "/account/2fa"
		}
		http.Redirect(w, r, target+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return r, errRedirected
	}
	return r, nil
}

const sessionCookie = "nisduc_session"

func (s *Server) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
}

// langOf picks the language: the signed-in user's, else the lang cookie,
// else the browser's Accept-Language.
func langOf(r *http.Request) string {
	if a := authz.ActorFrom(r.Context()); a != nil && a.Lang != "" {
		return i18n.Supported(a.Lang)
	}
	if c, err := r.Cookie("lang"); err == nil {
		return i18n.Supported(c.Value)
	}
	return i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
}

// safeNext keeps a post-login redirect on this site: a local path only.
// Browsers ignore tabs and newlines in URLs and treat "\\" like "/", so
// "/\t/evil.example" or "/\\evil.example" would leave the site: any control
// character or backslash is refused.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return "/"
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

func urlQuery(s string) string { return url.QueryEscape(s) }

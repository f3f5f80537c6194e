package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/nisduc/nisduc/internal/auth"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/i18n"
)

type accountData struct {
	User      directory.User
	HasTOTP   bool
	Required  bool
	Languages []string
	LangNames map[string]string
	TimeZones []string
}

// Common IANA zones offered in the profile form (any valid zone is accepted).
var commonZones = []string{"Europe/Luxembourg", "Europe/Brussels", "Europe/Paris", "Europe/Berlin", "Europe/Amsterdam",
	"Europe/Vienna", "Europe/Madrid", "Europe/Rome", "Europe/Warsaw", "Europe/Lisbon", "Europe/Dublin", "Europe/Helsinki",
	"Europe/Athens", "Europe/Bucharest", "Europe/Stockholm", "Europe/Copenhagen", "Europe/Prague", "UTC"}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) error {
	a := authz.ActorFrom(r.Context())
	u, err := s.deps.Directory.GetUser(r.Context(), a.UserID)
	if err != nil {
		return err
	}
	has, err := s.deps.Auth.HasTOTP(r.Context(), a.UserID)
	if err != nil {
		return err
	}
	req, err := s.deps.Auth.SecondFactorRequired(r.Context(), a)
	if err != nil {
		return err
	}
	s.render(w, r, "account", s.newPage(r, "web.account.title", accountData{User: u, HasTOTP: has, Required: req,
		Languages: i18n.Languages, LangNames: i18n.Names, TimeZones: commonZones}))
	return nil
}

func (s *Server) accountProfile(w http.ResponseWriter, r *http.Request) error {
	a := authz.ActorFrom(r.Context())
	name, lang, tz := r.PostFormValue("name"), r.PostFormValue("language"), r.PostFormValue("timezone")
	if _, err := s.deps.Directory.UpdateUser(r.Context(), a.UserID, directory.UserUpdate{Name: &name, Language: &lang, TimeZone: &tz}); err != nil {
		if errs.Is(err, errs.Invalid) {
			return s.accountFormError(w, r, err)
		}
		return err
	}
	s.setFlash(w, "web.account.saved", true)
	http.Redirect(w, r, "/account", http.StatusSeeOther)
	return nil
}

func (s *Server) accountPassword(w http.ResponseWriter, r *http.Request) error {
	a := authz.ActorFrom(r.Context())
	if r.PostFormValue("new_password") != r.PostFormValue("confirm_password") {
		return s.accountFormError(w, r, errs.FieldKey("confirm_password", "web.account.password_mismatch"))
	}
	err := s.deps.Auth.ChangePassword(r.Context(), a.UserID, r.PostFormValue("old_password"), r.PostFormValue("new_password"), a.SessionID)
	if err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.TooMany) {
			return s.accountFormError(w, r, err)
		}
		return err
	}
	s.setFlash(w, "web.account.password_changed", true)
	http.Redirect(w, r, "/account", http.StatusSeeOther)
	return nil
}

func (s *Server) accountFormError(w http.ResponseWriter, r *http.Request, err error) error {
	a := authz.ActorFrom(r.Context())
	u, gerr := s.deps.Directory.GetUser(r.Context(), a.UserID)
	if gerr != nil {
		return gerr
	}
	has, _ := s.deps.Auth.HasTOTP(r.Context(), a.UserID)
	req, _ := s.deps.Auth.SecondFactorRequired(r.Context(), a)
	p := s.newPage(r, "web.account.title", accountData{User: u, HasTOTP: has, Required: req, Languages: i18n.Languages, LangNames: i18n.Names, TimeZones: commonZones})
	p.Err, p.Form = errs.As(err), r.PostForm
	s.render(w, r, "account", p, http.StatusUnprocessableEntity)
	return nil
}

type totpData struct {
	Secret, URL, Next, Message string
	Recovery                   []string
}

// totpSetupForm starts (or restarts) enrolment: a fresh secret each time
// the page is shown, confirmed by a code from the authenticator app.
func (s *Server) totpSetupForm(w http.ResponseWriter, r *http.Request) error {
	a := authz.ActorFrom(r.Context())
	secret, u, err := s.deps.Auth.BeginTOTP(r.Context(), a.UserID)
	if err != nil {
		return err
	}
	s.render(w, r, "totp_setup", s.newPage(r, "web.totp.title", totpData{Secret: secret, URL: u, Next: safeNext(r.URL.Query().Get("next"))}))
	return nil
}

func (s *Server) totpSetupSubmit(w http.ResponseWriter, r *http.Request) error {
	a := authz.ActorFrom(r.Context())
	next := safeNext(r.PostFormValue("next"))
	codes, err := s.deps.Auth.ConfirmTOTP(r.Context(), a.UserID, r.PostFormValue("code"))
	if err != nil {
		if !errs.Is(err, errs.Invalid) && !errs.Is(err, errs.Unauthenticated) && !errs.Is(err, errs.TooMany) {
			return err
		}
		secret, u, berr := s.deps.Auth.BeginTOTP(r.Context(), a.UserID)
		if berr != nil {
			return berr
		}
		s.render(w, r, "totp_setup", s.newPage(r, "web.totp.title", totpData{Secret: secret, URL: u, Next: next,
			Message: i18n.T(langOf(r), "web.2fa.failed")}), http.StatusUnprocessableEntity)
		return nil
	}
	// Enrolling proves the second factor for this session too.
	if c, err := r.Cookie(sessionCookie); err == nil {
		token, err := s.deps.Auth.CompleteSecondFactor(r.Context(), c.Value)
		if err != nil {
			return err
		}
		s.setSessionCookie(w, token)
	}
	s.render(w, r, "totp_done", s.newPage(r, "web.totp.title", totpData{Recovery: codes, Next: next}))
	return nil
}

func (s *Server) totpDisable(w http.ResponseWriter, r *http.Request) error {
	a := authz.ActorFrom(r.Context())
	req, err := s.deps.Auth.SecondFactorRequired(r.Context(), a)
	if err != nil {
		return err
	}
	if req {
		return errs.E(errs.Forbidden, "your role requires a second factor")
	}
	if err := s.deps.Auth.DisableTOTP(r.Context(), a.UserID); err != nil {
		return err
	}
	s.setFlash(w, "web.totp.disabled", true)
	http.Redirect(w, r, "/account", http.StatusSeeOther)
	return nil
}

type tokensData struct {
	Tokens  []auth.Token
	Secret  string
	Created *auth.Token
}

func (s *Server) tokensPage(w http.ResponseWriter, r *http.Request) error {
	a := authz.ActorFrom(r.Context())
	list, err := s.deps.Auth.ListTokens(r.Context(), a.UserID)
	if err != nil {
		return err
	}
	s.render(w, r, "tokens", s.newPage(r, "web.tokens.title", tokensData{Tokens: list}))
	return nil
}

func (s *Server) tokenCreate(w http.ResponseWriter, r *http.Request) error {
	a := authz.ActorFrom(r.Context())
	// Check the range before multiplying: a huge day count would overflow
	// the duration into a short (or negative) one.
	days, err := strconv.Atoi(r.PostFormValue("days"))
	if err != nil || days < 1 || days > 366 {
		days = -1
	}
	ttl := time.Duration(days) * 24 * time.Hour
	secret, tok, err := s.deps.Auth.CreateToken(r.Context(), a.UserID, r.PostFormValue("name"), ttl)
	if err != nil {
		if !errs.Is(err, errs.Invalid) {
			return err
		}
		list, _ := s.deps.Auth.ListTokens(r.Context(), a.UserID)
		p := s.newPage(r, "web.tokens.title", tokensData{Tokens: list})
		p.Err, p.Form = errs.As(err), r.PostForm
		s.render(w, r, "tokens", p, http.StatusUnprocessableEntity)
		return nil
	}
	list, err := s.deps.Auth.ListTokens(r.Context(), a.UserID)
	if err != nil {
		return err
	}
	// The secret is shown once, on this response only.
	s.render(w, r, "tokens", s.newPage(r, "web.tokens.title", tokensData{Tokens: list, Secret: secret, Created: &tok}))
	return nil
}

func (s *Server) tokenRevoke(w http.ResponseWriter, r *http.Request) error {
	a := authz.ActorFrom(r.Context())
	if err := s.deps.Auth.RevokeToken(r.Context(), a.UserID, r.PathValue("id")); err != nil {
		return err
	}
	s.setFlash(w, "web.tokens.revoked", true)
	http.Redirect(w, r, "/account/tokens", http.StatusSeeOther)
	return nil
}

package web

import (
	"net/http"
	"time"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/i18n"
)

type loginData struct {
	Next, Email, Message string
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) error {
	if authz.ActorFrom(r.Context()) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	s.render(w, r, "login", s.newPage(r, "web.login.title", loginData{Next: safeNext(r.URL.Query().Get("next"))}))
	return nil
}

// loginSubmit checks the password; a new session is created at every login
// (the old one, if any, is ended), so a session id never survives a login.
func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("body", "unreadable form")
	}
	email, next := r.PostFormValue("email"), safeNext(r.PostFormValue("next"))
	addr := s.clientAddr(r)
	userID, err := s.deps.Auth.Authenticate(r.Context(), email, r.PostFormValue("password"), addr)
	if err != nil {
		code := errs.CodeOf(err)
		if code != errs.Unauthenticated && code != errs.TooMany {
			return err
		}
		key := "web.login.failed"
		status := http.StatusUnauthorized
		if code == errs.TooMany {
			key, status = "web.login.throttled", http.StatusTooManyRequests
			setRetryAfter(w, err)
		}
		p := s.newPage(r, "web.login.title", loginData{Next: next, Email: email, Message: i18n.T(langOf(r), key)})
		s.render(w, r, "login", p, status)
		return nil
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		_ = s.deps.Auth.DeleteSession(r.Context(), c.Value)
	}
	actor, err := s.deps.Auth.ActorFor(r.Context(), userID)
	if err != nil {
		return err
	}
	required, err := s.deps.Auth.SecondFactorRequired(r.Context(), actor)
	if err != nil {
		return err
	}
	enrolled, err := s.deps.Auth.HasTOTP(r.Context(), userID)
	if err != nil {
		return err
	}
	// A second factor is asked whenever the user has one, even where the
	// policy does not require it; done=true only when neither applies.
	done := !required && !enrolled
	token, _, err := s.deps.Auth.CreateSession(r.Context(), userID, addr, r.UserAgent(), done)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, token)
	switch {
	case done:
		http.Redirect(w, r, next, http.StatusSeeOther)
	case enrolled:
		http.Redirect(w, r, "/login/2fa?next="+urlQuery(next), http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/account/2fa?next="+urlQuery(next), http.StatusSeeOther)
	}
	return nil
}

func (s *Server) secondFactorForm(w http.ResponseWriter, r *http.Request) error {
	// A user with no authenticator yet enrols first.
	if has, err := s.deps.Auth.HasTOTP(r.Context(), authz.ActorFrom(r.Context()).UserID); err != nil {
		return err
	} else if !has {
		http.Redirect(w, r, "/account/2fa?next="+urlQuery(safeNext(r.URL.Query().Get("next"))), http.StatusSeeOther)
		return nil
	}
	s.render(w, r, "login_2fa", s.newPage(r, "web.2fa.title", loginData{Next: safeNext(r.URL.Query().Get("next"))}))
	return nil
}

func (s *Server) secondFactorSubmit(w http.ResponseWriter, r *http.Request) error {
	a := authz.ActorFrom(r.Context())
	next := safeNext(r.PostFormValue("next"))
	if err := s.deps.Auth.VerifySecondFactor(r.Context(), a.UserID, r.PostFormValue("code")); err != nil {
		code := errs.CodeOf(err)
		// Conflict: no second factor enrolled — treated as a wrong code.
		if code != errs.Unauthenticated && code != errs.TooMany && code != errs.Invalid && code != errs.Conflict {
			return err
		}
		key := "web.2fa.failed"
		if code == errs.TooMany {
			key = "web.login.throttled"
		}
		s.render(w, r, "login_2fa", s.newPage(r, "web.2fa.title", loginData{Next: next, Message: i18n.T(langOf(r), key)}), http.StatusUnauthorized)
		return nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return errs.E(errs.Unauthenticated, "sign in first")
	}
	token, err := s.deps.Auth.CompleteSecondFactor(r.Context(), c.Value)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, token)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.deps.Auth.DeleteSession(r.Context(), c.Value); err != nil && !errs.Is(err, errs.Unauthenticated) && !errs.Is(err, errs.NotFound) {
			return err
		}
	}
	s.clearSessionCookie(w)
	s.setFlash(w, "web.logout.done", true)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// setLanguage remembers the language chosen before signing in.
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request) error {
	lang := i18n.Supported(r.PostFormValue("lang"))
	http.SetCookie(w, &http.Cookie{Name: "lang", Value: lang, Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()),
		SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies, HttpOnly: true})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
	return nil
}

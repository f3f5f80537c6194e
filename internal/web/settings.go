package web

import (
	"net/http"

	"github.com/nisduc/nisduc/internal/authz"
)

type settingsData struct {
	RequireTOTPAll bool
}

// settingsPage shows the platform-wide settings (administrators).
func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) error {
	if err := authz.Check(authz.ActorFrom(r.Context()), authz.SettingsAdmin, authz.Target{}); err != nil {
		return err
	}
	on, err := s.deps.Auth.RequireTOTPAll(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, "settings", s.newPage(r, "web.settings.title", settingsData{RequireTOTPAll: on}))
	return nil
}

func (s *Server) settingsSave(w http.ResponseWriter, r *http.Request) error {
	if err := s.deps.Auth.SetRequireTOTPAll(r.Context(), r.PostFormValue("require_totp_all") == "on"); err != nil {
		return err
	}
	s.setFlash(w, "web.settings.saved", true)
	http.Redirect(w, r, "/settings", http.StatusSeeOther)
	return nil
}

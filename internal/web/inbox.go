package web

import (
	"net/http"

	"github.com/nisduc/nisduc/internal/authz"
)

func (s *Server) inboxPage(w http.ResponseWriter, r *http.Request) error {
	a := authz.ActorFrom(r.Context())
	list, err := s.deps.Notify.Inbox(r.Context(), a.UserID, 100)
	if err != nil {
		return err
	}
	s.render(w, r, "inbox", s.newPage(r, "web.inbox.title", list))
	return nil
}

// inboxRead marks one message (id) or all of them read.
func (s *Server) inboxRead(w http.ResponseWriter, r *http.Request) error {
	a := authz.ActorFrom(r.Context())
	var err error
	if id := r.PostFormValue("id"); id != "" {
		err = s.deps.Notify.MarkRead(r.Context(), a.UserID, id)
	} else {
		err = s.deps.Notify.MarkAllRead(r.Context(), a.UserID)
	}
	if err != nil {
		return err
	}
	if next := r.PostFormValue("next"); next != "" {
		http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/inbox", http.StatusSeeOther)
	return nil
}

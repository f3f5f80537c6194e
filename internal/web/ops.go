package web

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nisduc/nisduc/internal/errs"
)

// healthz says the process is alive; it touches nothing else.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version})
	return nil
}

// readyz says the process can serve: the database answers and every
// migration is applied.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "migrations": "ok"}
	status := http.StatusOK
	if err := s.deps.DB.Ping(ctx); err != nil {
		checks["database"], status = "unreachable", http.StatusServiceUnavailable
	} else if pending, err := s.deps.DB.Pending(ctx); err != nil || pending {
		checks["migrations"], status = "pending", http.StatusServiceUnavailable
	}
	if s.deps.Ready != nil && status == http.StatusOK {
		if err := s.deps.Ready(ctx); err != nil {
			checks["jobs"], status = errs.As(err).Message, http.StatusServiceUnavailable
		} else {
			checks["jobs"] = "ok"
		}
	}
	st := "ready"
	if status != http.StatusOK {
		st = "not ready"
	}
	writeJSON(w, status, map[string]any{"status": st, "checks": checks})
	return nil
}

func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request) error {
	promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}

func (s *Server) staticFiles(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.StripPrefix("/static/", http.FileServerFS(s.static)).ServeHTTP(w, r)
	return nil
}

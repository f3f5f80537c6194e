// Package web is nisduc's HTTP face: the server-rendered UI (html/template,
// usable without JavaScript) and the JSON API under /api/v1/, both thin
// layers over the same capability services. Authorization is never decided
// here: handlers call services, which ask internal/authz.
package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/auth"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/model"
	"github.com/nisduc/nisduc/internal/notify"
	"github.com/nisduc/nisduc/internal/store"
)

//go:embed templates static
var assets embed.FS

// Config is what the server needs to know about its deployment.
type Config struct {
	// Demo shows the demo banner and explains that no second factor is needed.
	Demo bool
	// SecureCookies marks cookies Secure (set when served over TLS or behind
	// a TLS-terminating proxy).
	SecureCookies bool
	// TrustProxy takes the client address from X-Forwarded-For (only behind
	// a proxy you run).
	TrustProxy bool
	// Version is shown in the footer and /healthz.
	Version string
}

// Deps are the services the handlers call.
type Deps struct {
	DB        *store.DB
	Directory *directory.Service
	Auth      *auth.Service
	Audit     *audit.Log
	Notify    *notify.Service
	Models    *model.Service
	// Ready, when set, adds checks to /readyz (e.g. job queue migrations).
	Ready func(ctx context.Context) error
}

// Server is the HTTP handler of nisduc.
type Server struct {
	cfg     Config
	deps    Deps
	mux     *http.ServeMux
	routes  []Route
	tmpl    map[string]*template.Template
	static  fs.FS
	metrics *metrics
	reg     *prometheus.Registry
	handler http.Handler
}

// New builds the server and its routes. Each server has its own metrics
// registry (with the Go and process collectors), served at /metrics.
func New(cfg Config, deps Deps) (*Server, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Server{cfg: cfg, deps: deps, mux: http.NewServeMux(), reg: reg}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, err
	}
	s.static = static
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.metrics = newMetrics(reg)
	s.registerRoutes()
	s.handler = s.middleware(s.mux)
	return s, nil
}

// Registry is where other components register their metrics.
func (s *Server) Registry() prometheus.Registerer { return s.reg }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Routes lists every registered route (the authorization matrix test
// walks them, and fails on a route it does not know).
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// ListenAndServe serves on addr until ctx is cancelled, then shuts down
// gracefully, giving in-flight requests up to 20 s.
func ListenAndServe(ctx context.Context, addr string, h http.Handler, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	slog.Info("shutting down http server")
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

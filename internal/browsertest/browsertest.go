// Package browsertest gives browser journeys one shared headless Chromium
// (Debian's, driven by chromedp): starting a browser costs seconds, so a
// test binary starts it once and each journey gets its own browser context
// (separate cookies, like a separate user). Without Chromium a journey
// skips — except in CI (CI=true), where it fails.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var (
	once      sync.Once
	allocCtx  context.Context
	browser   context.Context
	cancelAll func()
	startErr  error
	execPath  string
)

func findChromium() string {
	for _, p := range []string{os.Getenv("NISDUC_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

func start() {
	execPath = findChromium()
	if execPath == "" {
		return
	}
	dir, err := os.MkdirTemp("", "nisduc-chromium-")
	if err != nil {
		startErr = err
		return
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(dir),
		chromedp.Flag("disable-quic", true),
		// The machine's network is closed: without these Chromium keeps
		// trying to reach Google's services.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.WindowSize(1366, 900),
	}
	var c1, c2 context.CancelFunc
	allocCtx, c1 = chromedp.NewExecAllocator(context.Background(), opts...)
	browser, c2 = chromedp.NewContext(allocCtx)
	// Start the browser now, so a broken install fails here, clearly.
	if err := chromedp.Do(browser); err != nil {
		startErr = err
	}
	cancelAll = func() { c2(); c1(); os.RemoveAll(dir) }
}

// Context returns a fresh browser context (its own cookies) in the shared
// browser, cancelled at the end of the test, with an overall timeout.
func Context(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	once.Do(start)
	if execPath == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("Chromium not found: install Debian's chromium (.ci/run does)")
		}
		t.Skip("Chromium not found (apt-get install chromium): browser journey skipped")
	}
	if startErr != nil {
		t.Fatalf("start Chromium %s: %v", execPath, startErr)
	}
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	ctx, cancelT := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelT(); cancel() })
	return ctx
}

// Close stops the shared browser; call it from TestMain after m.Run.
func Close() {
	if cancelAll != nil {
		cancelAll()
	}
}

// Screenshot saves a full-page PNG (quality 100 means PNG to chromedp) as a test artefact under
// $NISDUC_ARTIFACTS (default testdata/artifacts in the package folder).
func Screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	dir := os.Getenv("NISDUC_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artefacts folder: %v", err)
	}
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatalf("write screenshot: %v", err)
	}
	t.Logf("screenshot: %s", p)
	return p
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nisduc/nisduc/internal/browsertest"
)

func TestMain(m *testing.M) {
	if os.Getenv("NISDUC_TEST_LOG") == "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	code := m.Run()
	browsertest.Close()
	os.Exit(code)
}

// cli runs one nisduc command line in-process, as a user would type it,
// and returns its exit code and output.
func cli(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: testGetenv}
	code := run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

// testGetenv hides the developer's NISDUC_* settings from the tests, and
// silences logs (setupLogging would otherwise reset them).
func testGetenv(k string) string {
	if k == "NISDUC_LOG_LEVEL" {
		return "error"
	}
	return ""
}

// lockedBuffer is a bytes.Buffer safe for a server goroutine and a test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe runs `nisduc serve` with args on a random port and returns
// its base URL and what it printed; the server stops at the end of the test.
func startServe(t *testing.T, args ...string) (string, *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	out := &lockedBuffer{}
	e := &env{stdin: strings.NewReader(""), stdout: io.MultiWriter(pw, out), stderr: io.Discard, getenv: testGetenv}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, e, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...))
		pw.Close()
	}()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), "nisduc is listening on "); ok {
				urlc <- u
			}
		}
		close(urlc)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited with %d after shutdown", code)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30 s of SIGTERM-like cancellation")
		}
	})
	select {
	case u, ok := <-urlc:
		if !ok {
			t.Fatalf("serve stopped before listening:\n%s", out.String())
		}
		return u, out
	case code := <-done:
		t.Fatalf("serve exited with %d:\n%s", code, out.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not start within 60 s:\n%s", out.String())
	}
	return "", nil
}

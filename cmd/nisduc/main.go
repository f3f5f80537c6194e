// Command nisduc is the whole platform in one binary: the web server and
// job workers (serve), and the administrators' and scripts' command line
// (migrate, demo, org, user, token, audit). Every command works on the same
// store: --data DIR (embedded SQLite, the default ./data) or --db URL
// (PostgreSQL; also NISDUC_DATABASE_URL).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	_ "time/tzdata" // time zones everywhere, even on a minimal host

	"github.com/nisduc/nisduc/internal/errs"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a command runs with: its streams, so tests can drive the CLI
// in-process exactly as a user would.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

func commands() []command {
	return []command{
		{"serve", "run the web server and the job workers", cmdServe},
		{"migrate", "apply database migrations", cmdMigrate},
		{"demo", "load the demo organisations and users into an empty store", cmdDemo},
		{"org", "organisations: list | show | add | import | export", cmdOrg},
		{"user", "users: add | list", cmdUser},
		{"token", "API tokens: create", cmdToken},
		{"model", "regulatory and sector models: list | validate | export | import", cmdModel},
		{"audit", "audit trail: verify | list", cmdAudit},
		{"version", "print the version", cmdVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	os.Exit(run(ctx, e, os.Args[1:]))
}

// run executes one command line and returns the process exit code:
// 0 success, 1 the user's mistake (bad input, not found, refused),
// 2 usage, 3 internal failure.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		if err == nil {
			return 0
		}
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(e.stderr, "nisduc %s: %s\n", c.name, ue.msg)
			return 2
		}
		printErr(e.stderr, err)
		return errs.ExitCode(errs.CodeOf(err))
	}
	fmt.Fprintf(e.stderr, "nisduc: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return 2
}

func printErr(w io.Writer, err error) {
	ee := errs.As(err)
	if ee.Code == errs.Internal {
		slog.Error("command failed", "err", err)
		fmt.Fprintln(w, "error: internal error (details in the log above)")
		return
	}
	if len(ee.Fields) == 0 {
		fmt.Fprintf(w, "error: %s\n", ee.Message)
		return
	}
	if ee.Message != "" && ee.Message != "invalid input" {
		fmt.Fprintf(w, "error: %s\n", ee.Message)
	} else {
		fmt.Fprintln(w, "error: invalid input")
	}
	for _, f := range ee.Fields {
		if f.Field != "" {
			fmt.Fprintf(w, "  %s: %s\n", f.Field, f.Message)
		} else {
			fmt.Fprintf(w, "  %s\n", f.Message)
		}
	}
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func usage(w io.Writer) {
	fmt.Fprintln(w, "nisduc — the NIS/NIS2 platform for operators, authorities and CSIRTs")
	fmt.Fprintln(w, "\nUsage: nisduc COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --data DIR (SQLite, default ./data) or --db URL (PostgreSQL, or NISDUC_DATABASE_URL).")
	fmt.Fprintln(w, "Run 'nisduc COMMAND -h' for a command's flags. Start with: nisduc serve --demo")
}

func cmdVersion(ctx context.Context, e *env, args []string) error {
	fmt.Fprintln(e.stdout, "nisduc", version)
	return nil
}

package errs

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestStatusAndExitCodes(t *testing.T) {
	tests := []struct {
		code   Code
		status int
		exit   int
	}{
		{Invalid, http.StatusUnprocessableEntity, 1},
		{NotFound, http.StatusNotFound, 1},
		{Conflict, http.StatusConflict, 1},
		{Forbidden, http.StatusForbidden, 1},
		{Unauthenticated, http.StatusUnauthorized, 1},
		{TooMany, http.StatusTooManyRequests, 1},
		{Internal, http.StatusInternalServerError, 3},
	}
	for _, tt := range tests {
		if got := HTTPStatus(tt.code); got != tt.status {
			t.Errorf("HTTPStatus(%s) = %d, want %d", tt.code, got, tt.status)
		}
		if got := ExitCode(tt.code); got != tt.exit {
			t.Errorf("ExitCode(%s) = %d, want %d", tt.code, got, tt.exit)
		}
	}
}

// An uncoded error is internal and its text never reaches the user.
func TestInternalErrorsHideTheCause(t *testing.T) {
	cause := errors.New("pq: password authentication failed for user secret")
	for _, err := range []error{cause, Wrap(cause, "open store"), fmt.Errorf("wrapped: %w", cause)} {
		e := As(err)
		if e.Code != Internal || e.Message != "internal error" {
			t.Errorf("As(%v) = %s %q, want internal error", err, e.Code, e.Message)
		}
		if !errors.Is(e, cause) {
			t.Errorf("As(%v) lost the cause for the logs", err)
		}
	}
	coded := fmt.Errorf("ctx: %w", E(NotFound, "organization %s", "x"))
	if CodeOf(coded) != NotFound || As(coded).Message != "organization x" {
		t.Errorf("a coded error wrapped with %%w keeps its code and message: %v", As(coded))
	}
}

// Fields reports every problem, with nested paths merged under a prefix.
func TestFieldsCollectsEveryProblem(t *testing.T) {
	var inner Fields
	inner.Add("email", "not an address")
	inner.Add("[2]", "too long")
	var f Fields
	if f.Err() != nil {
		t.Fatal("no problem must give a nil error")
	}
	f.Add("name", "required")
	f.Merge("contacts[0]", inner.Err())
	f.Merge("prefixes", inner.Err())
	e := As(f.Err())
	want := []string{"name", "contacts[0].email", "contacts[0][2]", "prefixes.email", "prefixes[2]"}
	if e.Code != Invalid || len(e.Fields) != len(want) {
		t.Fatalf("got %+v", e.Fields)
	}
	for i, w := range want {
		if e.Fields[i].Field != w {
			t.Errorf("field %d = %q, want %q", i, e.Fields[i].Field, w)
		}
	}
}

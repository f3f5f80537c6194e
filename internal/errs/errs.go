// Package errs is the one error type of nisduc: every error a user may see
// carries a Code (mapped to an HTTP status and a CLI exit code in one place)
// and a message meant for that user. Anything else is an internal error:
// logged with detail, shown as "internal error".
package errs

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/nisduc/nisduc/internal/i18n"
)

// Code classifies an error for the caller.
type Code string

const (
	Invalid         Code = "invalid"         // bad input: 400/422
	NotFound        Code = "not_found"       // 404
	Conflict        Code = "conflict"        // 409: duplicate, stale version
	Forbidden       Code = "forbidden"       // 403: authenticated, not allowed
	Unauthenticated Code = "unauthenticated" // 401
	TooMany         Code = "too_many"        // 429: throttled
	Internal        Code = "internal"        // 500: a bug or an outage
)

// FieldError names one bad input: the field (a JSON path such as
// "contacts[1].email" or a form field name) and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	// Key and Args, when set, are the catalogue key of Message, so the web
	// layer can show it in the user's language.
	Key  string `json:"-"`
	Args []any  `json:"-"`
}

// Localized returns the message in lang when it has a key.
func (f FieldError) Localized(lang string) string {
	if f.Key == "" {
		return f.Message
	}
	return i18n.T(lang, f.Key, f.Args...)
}

// Error is a coded error. Message is written for the user (English; the web
// layer may translate it through Key). Fields lists every bad field found, so
// a form can show all problems at once rather than the first.
type Error struct {
	Code    Code
	Message string
	// Key is the message-catalogue key of Message, when there is one; Args
	// are its arguments. The web layer uses them to show the message in the
	// user's language.
	Key    string
	Args   []any
	Fields []FieldError
	// Err is the underlying cause, for logs only; never shown to a client.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	for i, f := range e.Fields {
		if i == 0 && e.Message != "" {
			b.WriteString(": ")
		} else if i > 0 {
			b.WriteString("; ")
		}
		if f.Field != "" {
			b.WriteString(f.Field)
			b.WriteString(": ")
		}
		b.WriteString(f.Message)
	}
	if b.Len() == 0 {
		return string(e.Code)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// E builds a coded error with a formatted message.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap marks err as internal, keeping it for the logs.
func Wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err // already carries a code meant for the user
	}
	return &Error{Code: Internal, Message: fmt.Sprintf(format, args...), Err: err}
}

// Field returns an invalid-input error naming one field.
func Field(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Message: "invalid input",
		Fields: []FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}}}
}

// FieldKey returns an invalid-input error for one field whose message is
// the catalogue entry key.
func FieldKey(field, key string, args ...any) *Error {
	var f Fields
	f.AddKey(field, key, args...)
	return f.Err().(*Error)
}

// Fields collects field errors during validation; Err returns nil when none
// were added, so a validator can report every problem at once.
type Fields struct{ list []FieldError }

// Add records a problem with field.
func (f *Fields) Add(field, format string, args ...any) {
	f.list = append(f.list, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// AddKey records a problem whose message is the catalogue entry key
// (English kept in Message for logs, the CLI and the API).
func (f *Fields) AddKey(field, key string, args ...any) {
	f.list = append(f.list, FieldError{Field: field, Message: i18n.T("en", key, args...), Key: key, Args: args})
}

// Merge adds the field errors of err (if it is an invalid *Error) under prefix.
func (f *Fields) Merge(prefix string, err error) {
	var e *Error
	if !errors.As(err, &e) || e.Code != Invalid {
		if err != nil {
			f.Add(prefix, "%v", err)
		}
		return
	}
	for _, fe := range e.Fields {
		name := fe.Field
		if prefix != "" {
			if strings.HasPrefix(name, "[") {
				name = prefix + name
			} else if name != "" {
				name = prefix + "." + name
			} else {
				name = prefix
			}
		}
		fe.Field = name
		f.list = append(f.list, fe)
	}
}

// Len is the number of problems recorded.
func (f *Fields) Len() int { return len(f.list) }

// Err returns the collected problems as one invalid error, or nil.
func (f *Fields) Err() error {
	if len(f.list) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: "invalid input", Fields: append([]FieldError(nil), f.list...)}
}

// CodeOf returns the code of err: Internal for any error without one.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// As returns err as *Error; an uncoded error becomes an internal one whose
// message hides the cause.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.Code == Internal {
			return &Error{Code: Internal, Message: "internal error", Err: e}
		}
		return e
	}
	return &Error{Code: Internal, Message: "internal error", Err: err}
}

// HTTPStatus maps a code to its HTTP status. It is the only such mapping.
func HTTPStatus(code Code) int {
	switch code {
	case Invalid:
		return http.StatusUnprocessableEntity
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case Forbidden:
		return http.StatusForbidden
	case Unauthenticated:
		return http.StatusUnauthorized
	case TooMany:
		return http.StatusTooManyRequests
	default:
		return http.StatusInternalServerError
	}
}

// ExitCode maps a code to a CLI exit status: 1 for the user's mistakes,
// 2 for usage, 3 for internal failures.
func ExitCode(code Code) int {
	switch code {
	case "":
		return 0
	case Internal:
		return 3
	default:
		return 1
	}
}

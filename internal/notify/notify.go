// Package notify tells a user something: an entry in their in-platform
// inbox and, when they have an e-mail address, an e-mail sent by a durable
// job, both decided in the transaction of the change that caused them.
//
// Texts arrive already localised (the caller knows the recipient's
// language); notify only adds the e-mail footer, in the user's language.
package notify

import (
	"context"
	"database/sql"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/jobs"
	"github.com/nisduc/nisduc/internal/store"
)

// Message is one thing to tell one user.
type Message struct {
	UserID string
	// Kind classifies the message for filtering and icons:
	// "incident.report_requested", "risk.returned" (lower case, dots).
	Kind string
	// Subject is one line; Body is plain text (paragraphs separated by
	// blank lines). Both are already in the recipient's language.
	Subject string
	Body    string
	// Link is the page the message is about, a path within nisduc
	// ("/incidents/…"); the e-mail makes it absolute with Config.BaseURL.
	Link string
}

// Notification is a stored inbox entry.
type Notification struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	Kind      string    `json:"kind"`
	Subject   string    `json:"subject"`
	Body      string    `json:"body"`
	Link      string    `json:"link"`
	CreatedAt time.Time `json:"created_at"`
	ReadAt    time.Time `json:"read_at"`    // zero while unread
	EmailedAt time.Time `json:"emailed_at"` // zero until the e-mail was handed to the SMTP server
}

// Unread reports whether the user has not read n yet.
func (n *Notification) Unread() bool { return n.ReadAt.IsZero() }

// Config wires the service.
type Config struct {
	// Mailer sends the e-mails (it logs them instead in demo mode, with no
	// SMTP host). Nil: inbox only, no e-mail job is enqueued.
	Mailer *Mailer
	// BaseURL is the web interface's address ("https://nisduc.example.lu"),
	// prefixed to Link in e-mails. Empty: e-mails carry no link.
	BaseURL string
}

// Service sends notifications and serves the inbox.
type Service struct {
	db      *store.DB
	mailer  *Mailer
	baseURL string
}

// New returns the service on db.
func New(db *store.DB, cfg Config) *Service {
	return &Service{db: db, mailer: cfg.Mailer, baseURL: strings.TrimRight(cfg.BaseURL, "/")}
}

// Limits of a message.
const (
	MaxSubject = 200   // runes
	MaxBody    = 20000 // runes
	MaxLink    = 2000  // bytes
	MaxKind    = 64
)

var kindRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// validate checks m and returns it cleaned: the subject on one line,
// line ends in the body as "\n".
func (m Message) validate() (Message, error) {
	var f errs.Fields
	if m.UserID == "" {
		f.AddKey("user_id", "notify.err.required")
	} else if uuid.Validate(m.UserID) != nil {
		f.AddKey("user_id", "notify.err.id")
	}
	switch {
	case m.Kind == "":
		f.AddKey("kind", "notify.err.required")
	case len(m.Kind) > MaxKind || !kindRE.MatchString(m.Kind):
		f.AddKey("kind", "notify.err.kind", MaxKind)
	}
	validSubject := utf8.ValidString(m.Subject) // before oneLine, which would replace bad bytes
	m.Subject = oneLine(m.Subject)
	switch {
	case !validSubject:
		f.AddKey("subject", "notify.err.utf8")
	case m.Subject == "":
		f.AddKey("subject", "notify.err.required")
	case utf8.RuneCountInString(m.Subject) > MaxSubject:
		f.AddKey("subject", "notify.err.too_long", MaxSubject)
	}
	m.Body = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\r", "\n"))
	switch {
	case !utf8.ValidString(m.Body):
		f.AddKey("body", "notify.err.utf8")
	case utf8.RuneCountInString(m.Body) > MaxBody:
		f.AddKey("body", "notify.err.too_long", MaxBody)
	}
	if m.Link != "" && !validLink(m.Link) {
		f.AddKey("link", "notify.err.link")
	}
	return m, f.Err()
}

// oneLine turns every run of control characters and line breaks into one
// space: a subject becomes an e-mail header, where a line break would let
// the text add headers of its own.
func oneLine(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// validLink accepts a path within nisduc only: "/…" but not "//host" or
// "/\host" (which browsers treat as another site), with no control
// characters or spaces.
func validLink(l string) bool {
	if len(l) > MaxLink || !strings.HasPrefix(l, "/") || strings.HasPrefix(l, "//") || strings.HasPrefix(l, `/\`) {
		return false
	}
	for _, r := range l {
		if r <= ' ' || r == 0x7f || r == '\\' || !utf8.ValidRune(r) {
			return false
		}
	}
	return utf8.ValidString(l)
}

// Send writes m to the user's inbox inside tx and, when the user has an
// e-mail address and is not disabled, enqueues the e-mail in tx too: both
// happen exactly when the caller's change commits.
//
// Errors: Invalid naming the field (user_id, kind, subject, body, link);
// NotFound when the user does not exist.
func (s *Service) Send(ctx context.Context, tx *store.Tx, m Message) error {
	m, err := m.validate()
	if err != nil {
		return err
	}
	var (
		email    string
		disabled bool
	)
	if err := tx.QueryRow(ctx, `SELECT email, disabled FROM users WHERE id = ?`, m.UserID).Scan(&email, &disabled); err != nil {
		return store.NotFound(err, "user %s", m.UserID)
	}
	id := uuid.NewString()
	if _, err := tx.Exec(ctx, `INSERT INTO notifications (id, user_id, kind, subject, body, link, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, m.UserID, m.Kind, m.Subject, m.Body, m.Link, tx.Now); err != nil {
		return errs.Wrap(err, "notify: inbox")
	}
	if s.mailer != nil && email != "" && !disabled {
		if err := jobs.Insert(ctx, tx, EmailArgs{NotificationID: id}, nil); err != nil {
			return err
		}
	}
	return nil
}

// Inbox sizes.
const (
	DefaultInbox = 20
	MaxInbox     = 200
)

// Inbox returns the user's latest notifications, newest first; limit 0
// means DefaultInbox.
//
// Errors: Invalid naming user_id or limit.
func (s *Service) Inbox(ctx context.Context, userID string, limit int) ([]Notification, error) {
	var f errs.Fields
	if uuid.Validate(userID) != nil {
		f.AddKey("user_id", "notify.err.id")
	}
	if limit < 0 || limit > MaxInbox {
		f.AddKey("limit", "notify.err.limit", MaxInbox)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if limit == 0 {
		limit = DefaultInbox
	}
	rows, err := s.db.Query(ctx, `SELECT id, user_id, kind, subject, body, link, created_at, read_at, emailed_at
		FROM notifications WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var (
			n             Notification
			read, emailed sql.NullTime
		)
		if err := rows.Scan(&n.ID, &n.UserID, &n.Kind, &n.Subject, &n.Body, &n.Link, &n.CreatedAt, &read, &emailed); err != nil {
			return nil, errs.Wrap(err, "notify: inbox")
		}
		n.CreatedAt = n.CreatedAt.UTC()
		if read.Valid {
			n.ReadAt = read.Time.UTC()
		}
		if emailed.Valid {
			n.EmailedAt = emailed.Time.UTC()
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "notify: inbox")
	}
	return out, nil
}

// UnreadCount is the number of unread notifications of the user, for the
// badge on every page: one index-only count (notifications_unread).
//
// Errors: Invalid naming user_id.
func (s *Service) UnreadCount(ctx context.Context, userID string) (int, error) {
	if uuid.Validate(userID) != nil {
		return 0, errs.FieldKey("user_id", "notify.err.id")
	}
	var n int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE user_id = ? AND read_at IS NULL`, userID).Scan(&n); err != nil {
		return 0, errs.Wrap(err, "notify: unread count")
	}
	return n, nil
}

// MarkRead marks one of the user's notifications read; marking it again
// does nothing. Reading is not audited: it changes nothing but the badge.
//
// Errors: Invalid naming user_id or id; NotFound when the notification does
// not exist or is another user's (the two are not told apart).
func (s *Service) MarkRead(ctx context.Context, userID, id string) error {
	var f errs.Fields
	if uuid.Validate(userID) != nil {
		f.AddKey("user_id", "notify.err.id")
	}
	if uuid.Validate(id) != nil {
		f.AddKey("id", "notify.err.id")
	}
	if err := f.Err(); err != nil {
		return err
	}
	return s.db.Update(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL`, tx.Now, id, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		var one int
		err = tx.QueryRow(ctx, `SELECT 1 FROM notifications WHERE id = ? AND user_id = ?`, id, userID).Scan(&one)
		return store.NotFound(err, "notification %s", id)
	})
}

// MarkAllRead marks every notification of the user read.
//
// Errors: Invalid naming user_id.
func (s *Service) MarkAllRead(ctx context.Context, userID string) error {
	if uuid.Validate(userID) != nil {
		return errs.FieldKey("user_id", "notify.err.id")
	}
	return s.db.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL`, tx.Now, userID)
		return err
	})
}

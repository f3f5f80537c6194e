package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/i18n"
	"github.com/nisduc/nisduc/internal/store"
)

// EmailArgs is the job that e-mails one notification. It carries only the
// notification's id: the text stays in one place (the inbox row), and the
// address is read when sending, so a changed or removed address is honoured.
type EmailArgs struct {
	NotificationID string `json:"notification_id"`
}

// Kind names the job in River.
func (EmailArgs) Kind() string { return "notify.email" }

// EmailAttempts is how often an e-mail is tried: River waits attempt⁴
// seconds between tries, so 12 attempts span about 17 hours — long enough
// to ride out a relay's maintenance, short enough to stay relevant.
const EmailAttempts = 12

// InsertOpts: see EmailAttempts.
func (EmailArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: EmailAttempts} }

// EmailWorker sends EmailArgs jobs. Register it with
// river.AddWorker(workers, notify.NewEmailWorker(svc)).
type EmailWorker struct {
	river.WorkerDefaults[EmailArgs]
	s *Service
}

// NewEmailWorker returns the worker sending s's e-mails.
func NewEmailWorker(s *Service) *EmailWorker { return &EmailWorker{s: s} }

// Timeout bounds one attempt: the mailer's own timeout, plus the database.
func (w *EmailWorker) Timeout(*river.Job[EmailArgs]) time.Duration {
	if w.s.mailer != nil {
		return w.s.mailer.cfg.Timeout + 30*time.Second
	}
	return time.Minute
}

// Work sends the e-mail and records when it was handed over. A failure is
// retried by River, except a permanent one (the server refused the
// recipient), which cancels the job.
func (w *EmailWorker) Work(ctx context.Context, job *river.Job[EmailArgs]) error {
	if w.s.mailer == nil {
		return river.JobCancel(errors.New("no mailer configured"))
	}
	id := job.Args.NotificationID
	var (
		subject, body, link, email, lang string
		disabled                         bool
		emailed                          sql.NullTime
	)
	err := w.s.db.QueryRow(ctx, `SELECT n.subject, n.body, n.link, n.emailed_at, u.email, u.language, u.disabled
		FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.id = ?`, id).
		Scan(&subject, &body, &link, &emailed, &email, &lang, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("notification %s no longer exists", id))
	}
	if err != nil {
		return errs.Wrap(err, "notify: load %s", id)
	}
	switch {
	case emailed.Valid:
		return nil // sent by an earlier attempt that failed to complete
	case email == "" || disabled:
		return nil // the user lost their address or was disabled meanwhile
	}
	err = w.s.mailer.Send(ctx, Mail{To: email, Subject: subject, Body: w.s.emailBody(lang, body, link), ID: id})
	var perm *PermanentError
	switch {
	case errors.As(err, &perm), errs.Is(err, errs.Invalid):
		slog.WarnContext(ctx, "e-mail refused; not retrying", "notification", id, "err", err)
		return river.JobCancel(err)
	case err != nil:
		return err
	case w.s.mailer.Demo():
		return nil // logged, not e-mailed: the inbox must not say it was
	}
	return w.s.db.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE notifications SET emailed_at = ? WHERE id = ?`, tx.Now, id)
		return err
	})
}

// emailBody is the message's body with a footer, in the user's language,
// pointing at the page and the inbox.
func (s *Service) emailBody(lang, body, link string) string {
	var b strings.Builder
	b.WriteString(body)
	if body != "" {
		b.WriteString("\n\n")
	}
	b.WriteString("-- \n")
	if s.baseURL != "" && link != "" {
		b.WriteString(i18n.T(lang, "notify.email.footer_link", s.baseURL+link))
	} else {
		b.WriteString(i18n.T(lang, "notify.email.footer"))
	}
	b.WriteString("\n")
	return b.String()
}

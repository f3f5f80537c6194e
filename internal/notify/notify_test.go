package notify

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/jobs"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

// seedUser adds an organisation (once) and a user; it returns the user id.
func seedUser(t testing.TB, db *store.DB, email, lang string, disabled bool) string {
	t.Helper()
	ctx := context.Background()
	id := uuid.NewString()
	err := db.Update(ctx, func(tx *store.Tx) error {
		org := "c0000000-0000-4000-8000-000000000001"
		if _, err := tx.Exec(ctx, `INSERT INTO organizations (id, short_name, name, country, timezone, kind, created_at, updated_at)
			VALUES (?, 'ILR', 'ILR', 'LU', 'Europe/Luxembourg', 'NCA', ?, ?) ON CONFLICT DO NOTHING`, org, tx.Now, tx.Now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO users (id, org_id, email, name, language, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			id, org, email, "User "+email, lang, disabled, tx.Now, tx.Now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func migrated(t testing.TB, db *store.DB) {
	t.Helper()
	if err := jobs.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
}

func send(t testing.TB, db *store.DB, s *Service, m Message) error {
	t.Helper()
	ctx := context.Background()
	return db.Update(ctx, func(tx *store.Tx) error { return s.Send(ctx, tx, m) })
}

// emailJobs counts the e-mail jobs in River's table.
func emailJobs(t testing.TB, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = ?`, EmailArgs{}.Kind()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func demoMailer(t testing.TB) *Mailer {
	m, err := NewMailer(SMTPConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSendValidates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		migrated(t, db)
		s := New(db, Config{Mailer: demoMailer(t)})
		user := seedUser(t, db, "a@example.lu", "en", false)
		ok := Message{UserID: user, Kind: "incident.report_requested", Subject: "s", Body: "b", Link: "/incidents/1"}
		tests := []struct {
			name   string
			mod    func(m *Message)
			fields []string
		}{
			{"no user", func(m *Message) { m.UserID = "" }, []string{"user_id"}},
			{"user not an id", func(m *Message) { m.UserID = "bob'--" }, []string{"user_id"}},
			{"no kind", func(m *Message) { m.Kind = "" }, []string{"kind"}},
			{"kind with spaces", func(m *Message) { m.Kind = "Incident Report" }, []string{"kind"}},
			{"blank subject", func(m *Message) { m.Subject = " \r\n\t" }, []string{"subject"}},
			{"long subject", func(m *Message) { m.Subject = strings.Repeat("é", MaxSubject+1) }, []string{"subject"}},
			{"subject not UTF-8", func(m *Message) { m.Subject = "a\xffb" }, []string{"subject"}},
			{"long body", func(m *Message) { m.Body = strings.Repeat("x", MaxBody+1) }, []string{"body"}},
			{"absolute link", func(m *Message) { m.Link = "https://evil.example/phish" }, []string{"link"}},
			{"protocol-relative link", func(m *Message) { m.Link = "//evil.example/phish" }, []string{"link"}},
			{"backslash link", func(m *Message) { m.Link = `/\evil.example` }, []string{"link"}},
			{"javascript link", func(m *Message) { m.Link = "javascript:alert(1)" }, []string{"link"}},
			{"link with a line break", func(m *Message) { m.Link = "/a\r\nb" }, []string{"link"}},
			{"everything wrong at once", func(m *Message) { *m = Message{Link: "x"} }, []string{"user_id", "kind", "subject", "link"}},
		}
		for _, tt := range tests {
			m := ok
			tt.mod(&m)
			err := send(t, db, s, m)
			e := errs.As(err)
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
			if e.Code != errs.Invalid || strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("%s: got %v (%v), want Invalid naming %v", tt.name, err, got, tt.fields)
			}
		}
		if err := send(t, db, s, Message{UserID: uuid.NewString(), Kind: "x", Subject: "s"}); !errs.Is(err, errs.NotFound) {
			t.Errorf("unknown user: got %v, want NotFound", err)
		}
		if n, _ := s.UnreadCount(context.Background(), user); n != 0 || emailJobs(t, db) != 0 {
			t.Errorf("invalid messages left %d notifications, %d jobs", n, emailJobs(t, db))
		}
	})
}

func TestSendWritesInboxAndEnqueuesEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		migrated(t, db)
		ctx := context.Background()
		s := New(db, Config{Mailer: demoMailer(t)})
		withMail := seedUser(t, db, "a@example.lu", "fr", false)
		noMail := seedUser(t, db, "", "en", false)
		disabled := seedUser(t, db, "d@example.lu", "en", true)
		for _, u := range []string{withMail, noMail, disabled} {
			if err := send(t, db, s, Message{UserID: u, Kind: "risk.returned", Subject: "Évaluation\r\nrenvoyée", Body: "Voir les remarques.\r\n", Link: "/risk/42"}); err != nil {
				t.Fatal(err)
			}
		}
		if n := emailJobs(t, db); n != 1 {
			t.Errorf("%d e-mail jobs, want 1 (only the user with an address who is not disabled)", n)
		}
		inbox, err := s.Inbox(ctx, withMail, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(inbox) != 1 {
			t.Fatalf("%d notifications", len(inbox))
		}
		n := inbox[0]
		if n.Subject != "Évaluation renvoyée" || n.Body != "Voir les remarques." || n.Link != "/risk/42" || n.Kind != "risk.returned" ||
			n.UserID != withMail || !n.Unread() || !n.EmailedAt.IsZero() || time.Since(n.CreatedAt) > time.Minute {
			t.Errorf("stored %+v", n)
		}

		// A rolled-back change leaves neither a notification nor an e-mail.
		err = db.Update(ctx, func(tx *store.Tx) error {
			if err := s.Send(ctx, tx, Message{UserID: withMail, Kind: "x", Subject: "never"}); err != nil {
				return err
			}
			return errors.New("the change failed")
		})
		if err == nil {
			t.Fatal("expected the rollback")
		}
		if c, _ := s.UnreadCount(ctx, withMail); c != 1 || emailJobs(t, db) != 1 {
			t.Errorf("after rollback: %d unread, %d jobs", c, emailJobs(t, db))
		}

		// Without a mailer, the inbox alone.
		inboxOnly := New(db, Config{})
		if err := send(t, db, inboxOnly, Message{UserID: withMail, Kind: "x", Subject: "inbox only"}); err != nil {
			t.Fatal(err)
		}
		if emailJobs(t, db) != 1 {
			t.Error("a service without mailer enqueued an e-mail")
		}
	})
}

func TestInbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		migrated(t, db)
		ctx := context.Background()
		s := New(db, Config{})
		me := seedUser(t, db, "me@example.lu", "en", false)
		other := seedUser(t, db, "other@example.lu", "en", false)
		t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
		for i := range 5 {
			db.Now = func() time.Time { return t0.Add(time.Duration(i) * time.Minute) }
			if err := send(t, db, s, Message{UserID: me, Kind: "k", Subject: string(rune('A' + i))}); err != nil {
				t.Fatal(err)
			}
		}
		send(t, db, s, Message{UserID: other, Kind: "k", Subject: "theirs"})
		db.Now = func() time.Time { return t0.Add(time.Hour) }

		subjects := func(limit int) string {
			t.Helper()
			list, err := s.Inbox(ctx, me, limit)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, n := range list {
				mark := ""
				if !n.Unread() {
					mark = "*"
				}
				out = append(out, n.Subject+mark)
			}
			return strings.Join(out, ",")
		}
		unread := func() int {
			t.Helper()
			n, err := s.UnreadCount(ctx, me)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if got := subjects(0); got != "E,D,C,B,A" {
			t.Errorf("inbox %s", got)
		}
		if got := subjects(2); got != "E,D" {
			t.Errorf("limited inbox %s", got)
		}
		if unread() != 5 {
			t.Errorf("unread %d", unread())
		}
		list, _ := s.Inbox(ctx, me, 0)
		if err := s.MarkRead(ctx, me, list[1].ID); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkRead(ctx, me, list[1].ID); err != nil {
			t.Errorf("marking again: %v", err)
		}
		if got := subjects(0); got != "E,D*,C,B,A" || unread() != 4 {
			t.Errorf("after MarkRead: %s, %d unread", got, unread())
		}
		if again, _ := s.Inbox(ctx, me, 0); !again[1].ReadAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("read at %v", again[1].ReadAt)
		}
		theirs, _ := s.Inbox(ctx, other, 0)
		if err := s.MarkRead(ctx, me, theirs[0].ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("marking another user's notification: got %v, want NotFound", err)
		}
		if err := s.MarkRead(ctx, me, uuid.NewString()); !errs.Is(err, errs.NotFound) {
			t.Errorf("unknown notification: got %v, want NotFound", err)
		}
		if err := s.MarkAllRead(ctx, me); err != nil {
			t.Fatal(err)
		}
		if got := subjects(0); got != "E*,D*,C*,B*,A*" || unread() != 0 {
			t.Errorf("after MarkAllRead: %s, %d unread", got, unread())
		}
		if n, _ := s.UnreadCount(ctx, other); n != 1 {
			t.Errorf("MarkAllRead touched another user: %d unread", n)
		}

		bad := []struct {
			name  string
			err   error
			field string
		}{
			{"inbox of a non-id", func() error { _, err := s.Inbox(ctx, "x", 0); return err }(), "user_id"},
			{"inbox limit", func() error { _, err := s.Inbox(ctx, me, MaxInbox+1); return err }(), "limit"},
			{"negative limit", func() error { _, err := s.Inbox(ctx, me, -1); return err }(), "limit"},
			{"count of a non-id", func() error { _, err := s.UnreadCount(ctx, "1 OR 1=1"); return err }(), "user_id"},
			{"mark a non-id", s.MarkRead(ctx, me, "42"), "id"},
			{"mark for a non-id", s.MarkRead(ctx, "", list[0].ID), "user_id"},
			{"mark all for a non-id", s.MarkAllRead(ctx, "x"), "user_id"},
		}
		for _, b := range bad {
			e := errs.As(b.err)
			if e.Code != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != b.field {
				t.Errorf("%s: got %v, want Invalid naming %s", b.name, b.err, b.field)
			}
		}
	})
}

// TestEmailEndToEnd: Send in a transaction → River job → worker → the
// stand-in SMTP server receives the message, with the footer in the
// user's language; the notification records when it was e-mailed.
func TestEmailEndToEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		migrated(t, db)
		ctx := context.Background()
		srv := newSMTPD(t, func(s *smtpd) { s.rcptReply["gone@example.lu"] = "550 5.1.1 no such user" })
		svc := New(db, Config{Mailer: mailer(t, srv, nil), BaseURL: "https://nisduc.example.lu/"})
		w := river.NewWorkers()
		river.AddWorker(w, NewEmailWorker(svc))
		c, err := jobs.New(db, jobs.Config{Workers: w, PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		events, stop := c.River().Subscribe(river.EventKindJobCompleted, river.EventKindJobCancelled, river.EventKindJobFailed)
		defer stop()
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			c.Stop(sctx)
		}()

		user := seedUser(t, db, "analyste@ilr.example.lu", "fr", false)
		if err := send(t, db, svc, Message{UserID: user, Kind: "incident.notified", Subject: "Nouvel incident notifié",
			Body: "Creos a notifié un incident sur le réseau électrique.", Link: "/incidents/7"}); err != nil {
			t.Fatal(err)
		}
		r := srv.wait(10 * time.Second)
		if len(r.To) != 1 || r.To[0] != "analyste@ilr.example.lu" {
			t.Errorf("recipient %v", r.To)
		}
		p := parse(t, r.Data)
		if p.Subject != "Nouvel incident notifié" {
			t.Errorf("subject %q", p.Subject)
		}
		for _, want := range []string{"Creos a notifié un incident sur le réseau électrique.", "Ouvrez-le dans nisduc : https://nisduc.example.lu/incidents/7"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("body lacks %q:\n%s", want, p.Body)
			}
		}
		ev := nextEvent(t, events)
		if ev.Kind != river.EventKindJobCompleted {
			t.Fatalf("job %s: %v", ev.Kind, ev.Job.Errors)
		}
		inbox, _ := svc.Inbox(ctx, user, 0)
		if len(inbox) != 1 || inbox[0].EmailedAt.IsZero() || !strings.Contains(p.Header.Get("Message-Id"), inbox[0].ID) {
			t.Errorf("inbox %+v, Message-ID %s", inbox, p.Header.Get("Message-Id"))
		}

		// A recipient the server refuses for good: the job is cancelled, not retried.
		gone := seedUser(t, db, "gone@example.lu", "en", false)
		if err := send(t, db, svc, Message{UserID: gone, Kind: "k", Subject: "s"}); err != nil {
			t.Fatal(err)
		}
		ev = nextEvent(t, events)
		if ev.Kind != river.EventKindJobCancelled || ev.Job.State != rivertype.JobStateCancelled || ev.Job.Attempt != 1 {
			t.Fatalf("refused recipient: %s %s after %d attempts", ev.Kind, ev.Job.State, ev.Job.Attempt)
		}
		if inbox, _ := svc.Inbox(ctx, gone, 0); len(inbox) != 1 || !inbox[0].EmailedAt.IsZero() {
			t.Errorf("refused e-mail recorded as sent: %+v", inbox)
		}
		if srv.count() != 1 {
			t.Errorf("%d messages delivered", srv.count())
		}
	})
}

func nextEvent(t *testing.T, events <-chan *river.Event) *river.Event {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no job event")
		return nil
	}
}

func FuzzMessageValidate(f *testing.F) {
	f.Add("incident.x", "Sujet\r\nBcc: x", "corps", "/a/b?c=d")
	f.Add("", "", "", "//evil")
	f.Add("a", "\xff", "\x00", "/\\x")
	f.Fuzz(func(t *testing.T, kind, subject, body, link string) {
		m, err := Message{UserID: "c0000000-0000-4000-8000-000000000009", Kind: kind, Subject: subject, Body: body, Link: link}.validate()
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("error %v is not Invalid", err)
			}
			return
		}
		if strings.ContainsAny(m.Subject, "\r\n") || m.Subject == "" {
			t.Fatalf("subject %q accepted", m.Subject)
		}
		if strings.Contains(m.Body, "\r") {
			t.Fatalf("body kept a CR")
		}
		if m.Link != "" && (!strings.HasPrefix(m.Link, "/") || strings.HasPrefix(m.Link, "//") || strings.ContainsAny(m.Link, "\\ \r\n\t")) {
			t.Fatalf("link %q accepted", m.Link)
		}
	})
}

// TestEmailWorkerCases runs the worker on one job at a time (River's
// retries are covered by the jobs package and TestEmailEndToEnd).
func TestEmailWorkerCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		migrated(t, db)
		ctx := context.Background()
		srv := newSMTPD(t, func(s *smtpd) { s.rcptReply["later@example.lu"] = "451 4.3.0 try again later" })
		real := New(db, Config{Mailer: mailer(t, srv, nil)})
		demo := New(db, Config{Mailer: demoMailer(t)})
		notification := func(email string, disabled bool) string {
			u := seedUser(t, db, email, "de", disabled)
			if err := send(t, db, real, Message{UserID: u, Kind: "k", Subject: "s"}); err != nil {
				t.Fatal(err)
			}
			list, _ := real.Inbox(ctx, u, 1)
			return list[0].ID
		}
		emailedAt := func(id string) bool {
			var at sql.NullTime
			db.QueryRow(ctx, `SELECT emailed_at FROM notifications WHERE id = ?`, id).Scan(&at)
			return at.Valid
		}
		work := func(s *Service, id string) error {
			return NewEmailWorker(s).Work(ctx, &river.Job[EmailArgs]{JobRow: &rivertype.JobRow{}, Args: EmailArgs{NotificationID: id}})
		}
		isCancel := func(err error) bool {
			var c *rivertype.JobCancelError
			return errors.As(err, &c)
		}

		id := notification("a@example.lu", false)
		if err := work(demo, id); err != nil || emailedAt(id) || srv.count() != 0 {
			t.Errorf("demo mode: err %v, emailed %v, %d sent", err, emailedAt(id), srv.count())
		}
		if err := work(real, id); err != nil || !emailedAt(id) || srv.count() != 1 {
			t.Errorf("send: err %v, emailed %v, %d sent", err, emailedAt(id), srv.count())
		}
		if err := work(real, id); err != nil || srv.count() != 1 {
			t.Errorf("already e-mailed: err %v, %d sent", err, srv.count())
		}
		if p := parse(t, srv.wait(time.Second).Data); !strings.Contains(p.Body, "Diese Nachricht wurde von nisduc gesendet") {
			t.Errorf("footer not in the user's language:\n%s", p.Body)
		}
		later := notification("later@example.lu", false)
		if err := work(real, later); err == nil || isCancel(err) || emailedAt(later) {
			t.Errorf("deferred recipient: got %v, want an error to retry", err)
		}
		off := notification("off@example.lu", false)
		if err := db.Update(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE users SET disabled = ? WHERE email = ?`, true, "off@example.lu")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := work(real, off); err != nil || srv.count() != 1 {
			t.Errorf("user disabled since: err %v, %d sent", err, srv.count())
		}
		if err := work(real, uuid.NewString()); !isCancel(err) {
			t.Errorf("notification gone: got %v, want the job cancelled", err)
		}
		if err := work(New(db, Config{}), id); !isCancel(err) {
			t.Errorf("no mailer: got %v, want the job cancelled", err)
		}
	})
}

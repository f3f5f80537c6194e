package notify

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nisduc/nisduc/internal/errs"
)

// parsed is a received message read back as a mail client would.
type parsed struct {
	Header  mail.Header
	Subject string
	Body    string
}

func parse(t testing.TB, data string) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, data)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject: %v", err)
	}
	if got := msg.Header.Get("Content-Transfer-Encoding"); got != "quoted-printable" {
		t.Fatalf("Content-Transfer-Encoding %q", got)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	return parsed{Header: msg.Header, Subject: subject, Body: string(body)}
}

func mailer(t testing.TB, s *smtpd, mod func(c *SMTPConfig)) *Mailer {
	t.Helper()
	cfg := SMTPConfig{Host: "127.0.0.1", Port: s.port, From: "Plateforme NIS — nisduc <noreply@nisduc.example.lu>", StartTLS: StartTLSNever, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	m, err := NewMailer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMailerDeliversUTF8(t *testing.T) {
	s := newSMTPD(t, nil)
	m := mailer(t, s, nil)
	subject := "Incident signalé : réseau électrique — Störung im Netz"
	body := "Bonjour,\n\nUn incident a été signalé. Überprüfen Sie die Meldung.\n.\nA line with a lone dot above, and a very long line that goes on and on well past the seventy-six characters quoted-printable allows per line."
	err := m.Send(context.Background(), Mail{To: "Ana.Lyst@ILR.example.lu", Subject: subject, Body: body, ID: "0f6a2d9e-3c1b-4f6e-9e0b-1f0e6c1b7a10"})
	if err != nil {
		t.Fatal(err)
	}
	r := s.wait(5 * time.Second)
	if r.BareLineEnd {
		t.Error("a DATA line did not end in CRLF")
	}
	if r.From != "noreply@nisduc.example.lu" || len(r.To) != 1 || r.To[0] != "Ana.Lyst@ILR.example.lu" {
		t.Errorf("envelope from %q to %v", r.From, r.To)
	}
	p := parse(t, r.Data)
	if p.Subject != subject {
		t.Errorf("subject %q, want %q", p.Subject, subject)
	}
	if want := strings.ReplaceAll(body, "\n", "\r\n") + "\r\n"; p.Body != want {
		t.Errorf("body\n%q\nwant\n%q", p.Body, want)
	}
	checks := map[string]string{
		"To":             "<Ana.Lyst@ILR.example.lu>",
		"Message-Id":     "<0f6a2d9e-3c1b-4f6e-9e0b-1f0e6c1b7a10@nisduc.example.lu>",
		"Mime-Version":   "1.0",
		"Content-Type":   "text/plain; charset=utf-8",
		"Auto-Submitted": "auto-generated",
	}
	for k, want := range checks {
		if got := p.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	from, err := p.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Plateforme NIS — nisduc" || from[0].Address != "noreply@nisduc.example.lu" {
		t.Errorf("From %v %v", from, err)
	}
	if d, err := p.Header.Date(); err != nil || time.Since(d) > time.Minute {
		t.Errorf("Date %q: %v", p.Header.Get("Date"), err)
	}
	for _, line := range strings.Split(r.Data, "\r\n") {
		if len(line) > 78 {
			t.Errorf("line longer than 78 characters: %q", line)
		}
		for i := 0; i < len(line); i++ {
			if line[i] >= 0x80 {
				t.Fatalf("raw 8-bit byte in the message: %q", line)
			}
		}
	}
}

func TestMailerHeaderInjection(t *testing.T) {
	s := newSMTPD(t, nil)
	m := mailer(t, s, nil)
	for _, subject := range []string{
		"Hello\r\nBcc: victim@example.org",
		"Hello\nBcc: victim@example.org",
		"Hello\rBcc: victim@example.org",
		"Hello\u2028Bcc: victim@example.org\x00",
	} {
		if err := m.Send(context.Background(), Mail{To: "a@example.lu", Subject: subject, Body: "x"}); err != nil {
			t.Fatal(err)
		}
		p := parse(t, s.wait(5*time.Second).Data)
		if len(p.Header["Bcc"]) != 0 || len(p.Header["Subject"]) != 1 {
			t.Fatalf("subject %q added headers: %v", subject, p.Header)
		}
		if p.Subject != "Hello Bcc: victim@example.org" {
			t.Errorf("subject %q became %q", subject, p.Subject)
		}
	}
	if err := m.Send(context.Background(), Mail{To: "a@example.lu\r\nRCPT TO:<b@example.org>", Subject: "x"}); !errs.Is(err, errs.Invalid) {
		t.Errorf("recipient with a line break: got %v, want Invalid", err)
	}
	if s.count() != 4 {
		t.Errorf("%d messages", s.count())
	}
}

func TestMailerTLSAndAuth(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	tests := []struct {
		name    string
		server  func(s *smtpd)
		mode    TLSMode
		user    string
		wantTLS bool
		wantErr string
	}{
		{"STARTTLS required and offered, with login", func(s *smtpd) { s.starttls, s.tls = true, serverTLS }, StartTLSAlways, "relay-user", true, ""},
		{"STARTTLS required, not offered", nil, StartTLSAlways, "", false, "STARTTLS"},
		{"STARTTLS opportunistic, offered", func(s *smtpd) { s.starttls, s.tls = true, serverTLS }, StartTLSAuto, "", true, ""},
		{"STARTTLS opportunistic, not offered", nil, StartTLSAuto, "", false, ""},
		{"implicit TLS", func(s *smtpd) { s.implicit, s.tls = true, serverTLS }, ImplicitTLS, "relay-user", true, ""},
		{"untrusted certificate", func(s *smtpd) { s.starttls, s.tls = true, serverTLS }, "untrusted", "", false, "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSMTPD(t, tt.server)
			m := mailer(t, s, func(c *SMTPConfig) {
				c.StartTLS, c.TLSConfig = tt.mode, clientTLS
				if tt.mode == "untrusted" {
					c.StartTLS, c.TLSConfig = StartTLSAlways, nil // system roots do not know the test CA
				}
				c.Username, c.Password = tt.user, "pa55 wörd"
			})
			err := m.Send(context.Background(), Mail{To: "a@example.lu", Subject: "s", Body: "b"})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error about %s", err, tt.wantErr)
				}
				if s.count() != 0 {
					t.Fatal("a message was delivered anyway")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := s.wait(5 * time.Second)
			if r.TLS != tt.wantTLS {
				t.Errorf("TLS %v, want %v", r.TLS, tt.wantTLS)
			}
			if r.User != tt.user || (tt.user != "" && r.Password != "pa55 wörd") {
				t.Errorf("credentials %q %q", r.User, r.Password)
			}
		})
	}
}

func TestMailerFailures(t *testing.T) {
	tests := []struct {
		name      string
		server    func(s *smtpd)
		timeout   time.Duration
		permanent bool
	}{
		{"recipient refused", func(s *smtpd) { s.rcptReply["a@example.lu"] = "550 5.1.1 no such user" }, 0, true},
		{"recipient deferred", func(s *smtpd) { s.rcptReply["a@example.lu"] = "450 4.2.1 try later" }, 0, false},
		{"server never answers", func(s *smtpd) { s.silent = true }, 300 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSMTPD(t, tt.server)
			m := mailer(t, s, nil)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			began := time.Now()
			err := m.Send(ctx, Mail{To: "a@example.lu", Subject: "s", Body: "b"})
			if err == nil {
				t.Fatal("no error")
			}
			var perm *PermanentError
			if errors.As(err, &perm) != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", !tt.permanent, tt.permanent, err)
			}
			if took := time.Since(began); took > 3*time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
	// Nothing listening.
	s := newSMTPD(t, nil)
	m := mailer(t, s, nil)
	s.ln.Close()
	if err := m.Send(context.Background(), Mail{To: "a@example.lu", Subject: "s"}); err == nil {
		t.Error("no error with no server")
	}
}

func TestMailerDemoModeLogs(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	m, err := NewMailer(SMTPConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), Mail{To: "a@example.lu", Subject: "Réunion", Body: "Ordre du jour"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"demo mode", "a@example.lu", "Réunion", "Ordre du jour"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q: %s", want, buf.String())
		}
	}
}

func TestConfigFrom(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		want  SMTPConfig // compared on Host, Port, StartTLS, From, Username, Password
		field string     // invalid field expected
	}{
		{"demo mode", nil, SMTPConfig{Port: 587, StartTLS: StartTLSAlways}, ""},
		{"relay", map[string]string{EnvHost: "smtp.example.lu", EnvFrom: "nisduc <no@example.lu>", EnvUser: "u", EnvPassword: "s3cr3t"},
			SMTPConfig{Host: "smtp.example.lu", Port: 587, StartTLS: StartTLSAlways, From: "nisduc <no@example.lu>", Username: "u", Password: "s3cr3t"}, ""},
		{"port 465 means implicit TLS", map[string]string{EnvHost: "h", EnvFrom: "a@b.lu", EnvPort: "465"},
			SMTPConfig{Host: "h", Port: 465, StartTLS: ImplicitTLS, From: "a@b.lu"}, ""},
		{"tls means 465", map[string]string{EnvHost: "h", EnvFrom: "a@b.lu", EnvStartTLS: "TLS"},
			SMTPConfig{Host: "h", Port: 465, StartTLS: ImplicitTLS, From: "a@b.lu"}, ""},
		{"local relay", map[string]string{EnvHost: "localhost", EnvFrom: "a@b.lu", EnvPort: "25", EnvStartTLS: "never"},
			SMTPConfig{Host: "localhost", Port: 25, StartTLS: StartTLSNever, From: "a@b.lu"}, ""},
		{"port not a number", map[string]string{EnvPort: "smtp"}, SMTPConfig{}, EnvPort},
		{"port out of range", map[string]string{EnvPort: "70000"}, SMTPConfig{}, EnvPort},
		{"unknown TLS mode", map[string]string{EnvStartTLS: "maybe"}, SMTPConfig{}, EnvStartTLS},
		{"host without sender", map[string]string{EnvHost: "h"}, SMTPConfig{}, EnvFrom},
		{"bad sender", map[string]string{EnvHost: "h", EnvFrom: "not an address"}, SMTPConfig{}, EnvFrom},
		{"bad host", map[string]string{EnvHost: "h\r\nx", EnvFrom: "a@b.lu"}, SMTPConfig{}, EnvHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFrom(func(k string) string { return tt.env[k] })
			if tt.field != "" {
				e := errs.As(err)
				if e.Code != errs.Invalid || len(e.Fields) == 0 || e.Fields[0].Field != tt.field {
					t.Fatalf("got %v, want Invalid naming %s", err, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Host != tt.want.Host || got.Port != tt.want.Port || got.StartTLS != tt.want.StartTLS || got.From != tt.want.From ||
				got.Username != tt.want.Username || got.Password != tt.want.Password {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if got.Password != "" && strings.Contains(got.String(), got.Password) {
				t.Errorf("String() shows the password: %s", got)
			}
		})
	}
}

func FuzzConfigFrom(f *testing.F) {
	f.Add("smtp.example.lu", "587", "always", "nisduc <a@b.lu>")
	f.Add("", "", "", "")
	f.Add("h", "-1", "TLS", "a@b")
	f.Add("h\n", "99999999999999999999", "x", "<>")
	f.Fuzz(func(t *testing.T, host, port, mode, from string) {
		env := map[string]string{EnvHost: host, EnvPort: port, EnvStartTLS: mode, EnvFrom: from}
		c, err := ConfigFrom(func(k string) string { return env[k] })
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("error %v is not Invalid", err)
			}
			return
		}
		if c.Port < 1 || c.Port > 65535 {
			t.Fatalf("accepted port %d", c.Port)
		}
		if _, err := NewMailer(c); err != nil {
			t.Fatalf("ConfigFrom accepted what NewMailer refuses: %v", err)
		}
	})
}

// FuzzBuildMessage: whatever the subject and body, the message parses, has
// exactly the headers we write, and gives back the text.
func FuzzBuildMessage(f *testing.F) {
	f.Add("Incident signalé", "Bonjour\n.\nfin", "Équipe NIS")
	f.Add("a\r\nBcc: x@y", "=?utf-8?q?x?=", "")
	f.Add(strings.Repeat("é", 200), strings.Repeat("x", 1000), "\"quoted\" <name>")
	f.Add("\x00\x7f\u2028", "\r\r\n\n", "a\nb")
	from := "noreply@nisduc.example.lu"
	f.Fuzz(func(t *testing.T, subject, body, name string) {
		if !utf8.ValidString(subject) || !utf8.ValidString(body) || !utf8.ValidString(name) {
			return // Send's callers store validated UTF-8 (Message.validate)
		}
		raw, err := buildMessage(&mail.Address{Name: name, Address: from}, "to@example.lu", subject, body, messageID("x", from), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("does not parse: %v\n%q", err, raw)
		}
		allowed := map[string]bool{"From": true, "To": true, "Subject": true, "Date": true, "Message-Id": true,
			"Mime-Version": true, "Content-Type": true, "Content-Transfer-Encoding": true, "Auto-Submitted": true}
		for k, v := range msg.Header {
			if !allowed[k] || len(v) != 1 {
				t.Fatalf("header %s %q", k, v)
			}
		}
		got, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil {
			t.Fatalf("subject %q: %v", msg.Header.Get("Subject"), err)
		}
		if want := oneLine(subject); got != want {
			t.Fatalf("subject %q, want %q", got, want)
		}
		b, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if err != nil {
			t.Fatal(err)
		}
		want := strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\r", "\n"), "\n", "\r\n") + "\r\n"
		if string(b) != want {
			t.Fatalf("body %q, want %q", b, want)
		}
		for _, line := range bytes.Split(raw, []byte("\r\n")) {
			if len(line) > 998 {
				t.Fatalf("line of %d bytes", len(line))
			}
		}
	})
}

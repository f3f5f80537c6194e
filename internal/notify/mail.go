package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nisduc/nisduc/internal/errs"
)

// TLSMode says how the SMTP connection is protected.
type TLSMode string

const (
	// StartTLSAlways upgrades with STARTTLS and refuses a server that does
	// not offer it (the default: credentials and messages never cross the
	// network in clear, and a stripped STARTTLS is noticed).
	StartTLSAlways TLSMode = "always"
	// StartTLSAuto upgrades when the server offers STARTTLS.
	StartTLSAuto TLSMode = "auto"
	// StartTLSNever speaks plain SMTP (a relay on the same host).
	StartTLSNever TLSMode = "never"
	// ImplicitTLS speaks TLS from the first byte (SMTPS, port 465).
	ImplicitTLS TLSMode = "tls"
)

// SMTPConfig says where e-mail goes. With no Host, e-mails are written to
// the log instead (demo mode).
type SMTPConfig struct {
	Host     string
	Port     int // default 587, or 465 with ImplicitTLS
	Username string
	Password string
	// From is the sender, "nisduc <noreply@example.lu>" or a bare address.
	From string
	// StartTLS: StartTLSAlways (default), StartTLSAuto, StartTLSNever or
	// ImplicitTLS.
	StartTLS TLSMode
	// TLSConfig, when set, replaces the default (system roots, server name
	// = Host, TLS 1.2 or later): for a relay with a private CA.
	TLSConfig *tls.Config
	// HelloName is the name given in EHLO; default: this host's name.
	HelloName string
	// Timeout bounds one delivery (connect to QUIT); default 60 s.
	Timeout time.Duration
}

// String describes the configuration without the password, for logs.
func (c SMTPConfig) String() string {
	if c.Host == "" {
		return "no SMTP host: e-mails are logged, not sent"
	}
	user := ""
	if c.Username != "" {
		user = c.Username + "@"
	}
	return fmt.Sprintf("smtp://%s%s (%s), from %s", user, net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), c.StartTLS, c.From)
}

// Environment variables read by ConfigFromEnv.
const (
	EnvHost     = "NISDUC_SMTP_HOST"
	EnvPort     = "NISDUC_SMTP_PORT"
	EnvUser     = "NISDUC_SMTP_USER"
	EnvPassword = "NISDUC_SMTP_PASSWORD"
	EnvFrom     = "NISDUC_SMTP_FROM"
	EnvStartTLS = "NISDUC_SMTP_STARTTLS"
)

// ConfigFromEnv reads the NISDUC_SMTP_* variables. See ConfigFrom.
func ConfigFromEnv() (SMTPConfig, error) { return ConfigFrom(os.Getenv) }

// ConfigFrom reads the NISDUC_SMTP_* variables through getenv, fills the
// defaults and checks the result.
//
// Errors: Invalid naming the variable (NISDUC_SMTP_PORT, NISDUC_SMTP_FROM,
// NISDUC_SMTP_STARTTLS, …).
func ConfigFrom(getenv func(string) string) (SMTPConfig, error) {
	c := SMTPConfig{
		Host:     strings.TrimSpace(getenv(EnvHost)),
		Username: getenv(EnvUser),
		Password: getenv(EnvPassword),
		From:     strings.TrimSpace(getenv(EnvFrom)),
		StartTLS: TLSMode(strings.ToLower(strings.TrimSpace(getenv(EnvStartTLS)))),
	}
	var f errs.Fields
	if p := strings.TrimSpace(getenv(EnvPort)); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			f.AddKey(EnvPort, "notify.err.port")
		}
		c.Port = n
	}
	if err := f.Err(); err != nil {
		return SMTPConfig{}, err
	}
	return c.withDefaults()
}

// withDefaults fills the defaults and checks c.
func (c SMTPConfig) withDefaults() (SMTPConfig, error) {
	var f errs.Fields
	switch c.StartTLS {
	case "":
		c.StartTLS = StartTLSAlways
		if c.Port == 465 {
			c.StartTLS = ImplicitTLS
		}
	case StartTLSAlways, StartTLSAuto, StartTLSNever, ImplicitTLS:
	default:
		f.AddKey(EnvStartTLS, "notify.err.starttls")
	}
	if c.Port == 0 {
		c.Port = 587
		if c.StartTLS == ImplicitTLS {
			c.Port = 465
		}
	}
	if c.Port < 1 || c.Port > 65535 {
		f.AddKey(EnvPort, "notify.err.port")
	}
	if strings.ContainsAny(c.Host, " /\r\n") {
		f.AddKey(EnvHost, "notify.err.host")
	}
	if c.Host != "" || c.From != "" {
		if _, err := parseSender(c.From); err != nil {
			f.AddKey(EnvFrom, "notify.err.from")
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = 60 * time.Second
	}
	if c.HelloName == "" {
		c.HelloName = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
			c.HelloName = h
		}
	}
	return c, f.Err()
}

func parseSender(from string) (*mail.Address, error) {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(a.Address, "\r\n") || !strings.Contains(a.Address, "@") {
		return nil, errors.New("bad address")
	}
	return a, nil
}

// Mailer sends e-mail through SMTP, or logs it in demo mode.
type Mailer struct {
	cfg  SMTPConfig
	from *mail.Address
}

// NewMailer checks cfg and returns a mailer. With no Host it logs e-mails
// instead of sending them (demo mode).
//
// Errors: Invalid naming the bad setting (as ConfigFrom).
func NewMailer(cfg SMTPConfig) (*Mailer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.From == "" { // demo mode only: withDefaults requires From with a host
		cfg.From = "nisduc <nisduc@localhost>"
	}
	from, err := parseSender(cfg.From)
	if err != nil {
		return nil, errs.FieldKey(EnvFrom, "notify.err.from")
	}
	return &Mailer{cfg: cfg, from: from}, nil
}

// Demo reports whether the mailer only logs (no SMTP host).
func (m *Mailer) Demo() bool { return m.cfg.Host == "" }

// Mail is one e-mail to send.
type Mail struct {
	To      string // bare address
	Subject string // one line, any language
	Body    string // plain text
	// ID makes the Message-ID, so that a message sent twice (a job retried
	// after the server took it) carries the same Message-ID and mail
	// clients can show it once. Empty: random.
	ID string
}

// PermanentError is a failure that retrying will not cure: the server
// refused the recipient or the message (a 5xx reply to RCPT or DATA).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Send delivers m, or logs it in demo mode. It honours ctx's deadline and
// cancellation as well as the configured timeout.
//
// Errors: Invalid when the recipient address is malformed; *PermanentError
// (wrapped) when the server refuses the recipient or the message; other
// errors are transient (network, 4xx replies, TLS) and worth a retry.
func (m *Mailer) Send(ctx context.Context, msg Mail) error {
	to, err := mail.ParseAddress(msg.To)
	if err != nil || strings.ContainsAny(to.Address, "\r\n<>") {
		return errs.FieldKey("to", "notify.err.email")
	}
	date := time.Now()
	raw, err := buildMessage(m.from, to.Address, msg.Subject, msg.Body, messageID(msg.ID, m.from.Address), date)
	if err != nil {
		return err
	}
	if m.cfg.Host == "" {
		slog.InfoContext(ctx, "e-mail not sent (demo mode: no SMTP host)", "to", to.Address,
			"subject", oneLine(msg.Subject), "body", msg.Body)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	return m.deliver(ctx, to.Address, raw)
}

func (m *Mailer) tlsConfig() *tls.Config {
	if m.cfg.TLSConfig != nil {
		return m.cfg.TLSConfig.Clone()
	}
	return &tls.Config{ServerName: m.cfg.Host, MinVersion: tls.VersionTLS12}
}

func (m *Mailer) deliver(ctx context.Context, to string, raw []byte) (err error) {
	addr := net.JoinHostPort(m.cfg.Host, strconv.Itoa(m.cfg.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	// net/smtp takes no context: a deadline on the connection bounds every
	// read and write, and cancellation cuts the connection short.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if m.cfg.StartTLS == ImplicitTLS {
		conn = tls.Client(conn, m.tlsConfig())
	}
	c, err := smtp.NewClient(conn, m.cfg.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	defer c.Close()
	step := func(what string, err error) error {
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return fmt.Errorf("smtp %s: %s: %w", addr, what, err)
	}
	if err := c.Hello(m.cfg.HelloName); err != nil {
		return step("EHLO", err)
	}
	if m.cfg.StartTLS == StartTLSAlways || m.cfg.StartTLS == StartTLSAuto {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(m.tlsConfig()); err != nil {
				return step("STARTTLS", err)
			}
		} else if m.cfg.StartTLS == StartTLSAlways {
			return step("STARTTLS", errors.New("the server does not offer STARTTLS (set NISDUC_SMTP_STARTTLS=auto or never to send anyway)"))
		}
	}
	if m.cfg.Username != "" {
		// PlainAuth itself refuses to send the password without TLS except
		// to localhost.
		if err := c.Auth(smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, m.cfg.Host)); err != nil {
			return step("AUTH", err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return step("MAIL FROM", err)
	}
	if err := c.Rcpt(to); err != nil {
		return step("RCPT TO", permanent(err))
	}
	w, err := c.Data()
	if err != nil {
		return step("DATA", permanent(err))
	}
	if _, err := w.Write(raw); err != nil {
		return step("DATA", err)
	}
	if err := w.Close(); err != nil {
		return step("DATA", permanent(err))
	}
	if err := c.Quit(); err != nil {
		// The message was accepted: a failed QUIT does not undo that.
		slog.DebugContext(ctx, "smtp QUIT", "err", err)
	}
	return nil
}

// permanent marks a 5xx reply as permanent.
func permanent(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 && te.Code < 600 {
		return &PermanentError{Err: err}
	}
	return err
}

// messageID returns "<id@domain>", the domain being the sender's.
func messageID(id, from string) string {
	domain := "localhost"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		domain = from[i+1:]
	}
	if id == "" {
		var b [16]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	id = strings.Map(func(r rune) rune {
		if r > ' ' && r < 0x7f && !strings.ContainsRune(`<>@"()[]\,;:`, r) {
			return r
		}
		return -1
	}, id)
	return "<" + id + "@" + domain + ">"
}

// buildMessage writes an RFC 5322 message: UTF-8 plain text, body in
// quoted-printable, subject and sender name as RFC 2047 encoded words when
// they are not ASCII. The subject is reduced to one line first, so no text
// can add a header of its own.
func buildMessage(from *mail.Address, to, subject, body, msgID string, date time.Time) ([]byte, error) {
	var b bytes.Buffer
	header := func(k, v string) {
		b.WriteString(fold(k+": "+v, 78))
		b.WriteString("\r\n")
	}
	header("From", from.String())
	header("To", "<"+to+">")
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(subject)))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", msgID)
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	// RFC 3834: no vacation auto-replies to a notification.
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body = strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\r", "\n")
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, errs.Wrap(err, "e-mail body")
	}
	if err := qp.Close(); err != nil {
		return nil, errs.Wrap(err, "e-mail body")
	}
	b.WriteString("\r\n")
	return b.Bytes(), nil
}

// fold breaks a header line at spaces so that its lines stay within width
// where possible (RFC 5322 §2.2.3: unfolding removes only the CRLF, so the
// text is unchanged; encoded words have no spaces inside and are kept
// whole). A single word longer than width stays on one line, which is
// still far below the 998-character limit for our inputs.
func fold(line string, width int) string {
	if len(line) <= width {
		return line
	}
	var b strings.Builder
	n := 0
	for i, word := range strings.Split(line, " ") {
		switch {
		case i == 0:
		case n+1+len(word) > width:
			b.WriteString("\r\n")
			n = 0
			fallthrough
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}

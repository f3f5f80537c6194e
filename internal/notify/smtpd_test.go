package notify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpd is a stand-in SMTP server for tests: a real TCP listener on
// 127.0.0.1 speaking enough of RFC 5321 (EHLO, STARTTLS, AUTH PLAIN, MAIL,
// RCPT, DATA, RSET, NOOP, QUIT) to receive what the Mailer sends.
type smtpd struct {
	t        testing.TB
	ln       net.Listener
	port     int
	starttls bool        // offer STARTTLS
	implicit bool        // TLS from the first byte
	tls      *tls.Config // server side, for both
	silent   bool        // accept connections but never answer
	// rcptReply, when set, answers RCPT TO for an address ("550 5.1.1 no such user").
	rcptReply map[string]string

	mu   sync.Mutex
	msgs []received
	got  chan received
}

// received is one message the stand-in accepted.
type received struct {
	Helo     string
	From     string
	To       []string
	Data     string
	TLS      bool
	User     string
	Password string
	// BareLineEnd is set when a DATA line ended otherwise than in CRLF.
	BareLineEnd bool
}

func newSMTPD(t testing.TB, configure func(s *smtpd)) *smtpd {
	t.Helper()
	s := &smtpd{t: t, got: make(chan received, 16), rcptReply: map[string]string{}}
	if configure != nil {
		configure(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if s.implicit {
		ln = tls.NewListener(ln, s.tls)
	}
	s.ln = ln
	s.port = ln.Addr().(*net.TCPAddr).Port
	var wg sync.WaitGroup
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(c) })
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return s
}

func (s *smtpd) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if s.silent {
		buf := make([]byte, 1)
		c.Read(buf) // until the client gives up
		return
	}
	_, isTLS := c.(*tls.Conn)
	tp := textproto.NewConn(c)
	reply := func(format string, args ...any) { tp.PrintfLine(format, args...) }
	reply("220 stand-in ESMTP ready")
	var cur received
	cur.TLS = isTLS
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			cur.Helo = arg
			ext := []string{"250-stand-in", "250-8BITMIME"}
			if s.starttls && !cur.TLS {
				ext = append(ext, "250-STARTTLS")
			}
			ext = append(ext, "250 AUTH PLAIN")
			for _, e := range ext {
				reply("%s", e)
			}
		case "STARTTLS":
			reply("220 2.0.0 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c = tc
			tp = textproto.NewConn(tc)
			cur = received{TLS: true}
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			b, err := base64.StdEncoding.DecodeString(ir)
			parts := strings.Split(string(b), "\x00")
			if mech != "PLAIN" || err != nil || len(parts) != 3 {
				reply("535 5.7.8 bad credentials")
				continue
			}
			cur.User, cur.Password = parts[1], parts[2]
			reply("235 2.7.0 authenticated")
		case "MAIL":
			cur.From = addrArg(arg)
			reply("250 2.1.0 ok")
		case "RCPT":
			to := addrArg(arg)
			if r, ok := s.rcptReply[to]; ok {
				reply("%s", r)
				continue
			}
			cur.To = append(cur.To, to)
			reply("250 2.1.5 ok")
		case "DATA":
			reply("354 end with <CRLF>.<CRLF>")
			// Read the raw lines (not ReadDotBytes, which hides line
			// ends): the message must use CRLF throughout.
			var data strings.Builder
			for {
				l, err := tp.R.ReadString('\n')
				if err != nil {
					return
				}
				if !strings.HasSuffix(l, "\r\n") || strings.Contains(strings.TrimSuffix(l, "\r\n"), "\r") {
					cur.BareLineEnd = true
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, ".")) // dot-unstuffing
			}
			cur.Data = data.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			s.got <- cur
			reply("250 2.0.0 queued")
			cur = received{TLS: cur.TLS, Helo: cur.Helo}
		case "RSET":
			cur = received{TLS: cur.TLS, Helo: cur.Helo}
			reply("250 2.0.0 ok")
		case "NOOP":
			reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 not implemented")
		}
	}
}

// addrArg extracts the address of "FROM:<a@b> SIZE=1" or "TO:<a@b>".
func addrArg(arg string) string {
	i, j := strings.IndexByte(arg, '<'), strings.IndexByte(arg, '>')
	if i < 0 || j < i {
		return ""
	}
	return arg[i+1 : j]
}

// count is the number of messages received so far.
func (s *smtpd) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// wait returns the next message received, or fails after d.
func (s *smtpd) wait(d time.Duration) received {
	s.t.Helper()
	select {
	case r := <-s.got:
		return r
	case <-time.After(d):
		s.t.Fatalf("no message received within %v", d)
		return received{}
	}
}

// testTLS returns a server config with a fresh self-signed certificate for
// 127.0.0.1 and a client config trusting it.
func testTLS(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "stand-in SMTP"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return server, client
}

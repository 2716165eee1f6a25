// A test agent that drives the Connector as the deployed ioFog network microservice (Go) does: it always
// dials TLS, each Write is one TLS record, each Read returns at most one record, markers (BEAT, TXEND, ACK)
// are written back to back with no pause, and a marker counts only when one Read returns exactly it.
// Every mode prints one JSON object with what it saw and exits; every mode is bounded by -deadline.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

var (
	beatWord  = []byte("BEAT")
	beatTwice = []byte("BEATBEAT")
	txend     = []byte("TXEND")
	ack       = []byte("ACK")
)

type common struct {
	addr     string
	passcode string
	ca       string
	plain    bool
	deadline time.Duration
	beat     time.Duration
	tls12    string
}

// TLS 1.2 suites by name, for an ECDSA certificate (the tests' certificate is EC).
var tls12Suites = map[string]uint16{
	"gcm":    tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	"gcm256": tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	"chacha": tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,
	"cbc":    tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
}

func (c *common) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", "127.0.0.1:0", "host:port of the Connector port")
	fs.StringVar(&c.passcode, "passcode", "", "the port's passcode")
	fs.StringVar(&c.ca, "ca", "", "PEM file of the Connector's certificate, trusted as the only root")
	fs.BoolVar(&c.plain, "plain", false, "plain TCP instead of TLS (tools and tests only; the agent never does this)")
	fs.DurationVar(&c.deadline, "deadline", 60*time.Second, "give up and report after this long")
	fs.DurationVar(&c.beat, "beat", 20*time.Second, "interval of BEAT writes")
	fs.StringVar(&c.tls12, "tls12", "", "speak TLS 1.2 with this suite only (gcm, gcm256, chacha, cbc) instead of Go's defaults")
}

func (c *common) dial() (net.Conn, error) {
	if c.plain {
		return net.DialTimeout("tcp", c.addr, 5*time.Second)
	}
	pem, err := os.ReadFile(c.ca)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	host, _, _ := net.SplitHostPort(c.addr)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	config := &tls.Config{RootCAs: roots, ServerName: host}
	if c.tls12 != "" {
		suite, ok := tls12Suites[c.tls12]
		if !ok {
			return nil, fmt.Errorf("unknown suite %q", c.tls12)
		}
		config.MaxVersion = tls.VersionTLS12
		config.CipherSuites = []uint16{suite}
	}
	return tls.DialWithDialer(dialer, "tcp", c.addr, config)
}

// link is one authorized connection; writes are serialised so that each message is one Write.
type link struct {
	conn net.Conn
	mu   sync.Mutex
}

func (l *link) write(p []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.conn.Write(p)
	return err
}

// authorize writes the passcode as the first write and reads the 10-byte answer into a 10-byte buffer.
func (c *common) authorize() (*link, error) {
	conn, err := c.dial()
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write([]byte(c.passcode)); err != nil {
		conn.Close()
		return nil, err
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(conn, buf); err != nil {
		conn.Close()
		return nil, fmt.Errorf("no AUTHORIZED: %v", err)
	}
	if string(buf) != "AUTHORIZED" {
		conn.Close()
		return nil, fmt.Errorf("answer %q instead of AUTHORIZED", buf)
	}
	return &link{conn: conn}, nil
}

// beats writes BEAT every interval until stop is closed.
func beats(l *link, every time.Duration, stop <-chan struct{}, sent *int64, mu *sync.Mutex) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if l.write(beatWord) != nil {
				return
			}
			mu.Lock()
			*sent++
			mu.Unlock()
		}
	}
}

// pattern fills p with bytes determined by seed and position, so a reader can check every byte.
func pattern(p []byte, seed uint64, offset int64) {
	for i := range p {
		x := seed ^ uint64(offset+int64(i))*0x9E3779B97F4A7C15
		x ^= x >> 29
		p[i] = byte(x*0xBF58476D1CE4E5B9>>56) | 0x80 // never ASCII: no marker can hide in it
	}
}

func message(seed uint64, seq uint32, size int) []byte {
	m := make([]byte, size)
	pattern(m, seed+uint64(seq)*1_000_003, 0)
	if size >= 8 {
		binary.BigEndian.PutUint32(m[0:4], seq)
		binary.BigEndian.PutUint32(m[4:8], uint32(size))
	}
	return m
}

// closeWrite ends the writes of a TLS (close_notify, as Go does) or plain TCP (FIN) connection.
func closeWrite(conn net.Conn) {
	switch c := conn.(type) {
	case *tls.Conn:
		c.CloseWrite()
	case *net.TCPConn:
		c.CloseWrite()
	}
}

func emit(v any) {
	out, _ := json.Marshal(v)
	fmt.Println(string(out))
}

func parseSizes(s string) []int {
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		var n int
		fmt.Sscanf(f, "%d", &n)
		if n < 8 {
			n = 8
		}
		sizes = append(sizes, n)
	}
	return sizes
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go-agent private|public-agent|public-client [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "private":
		private(os.Args[2:])
	case "public-agent":
		publicAgent(os.Args[2:])
	case "public-client":
		publicClient(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(2)
	}
}

// A test agent that drives the Connector as the deployed ioFog network microservice (Go) does: it always
// dials TLS, each Write is one TLS record, each Read returns at most one record, markers (BEAT, TXEND, ACK)
// are written back to back with no pause, and a marker counts only when one Read returns exactly it.
// Every mode prints one JSON object with what it saw and exits; every mode is bounded by -deadline.
package main

import (
	"bytes"
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

// private: sends -count messages (stop-and-wait, TXEND behind each, resent after 1, 3, 7, 15 s, dropped
// at 31 s) while receiving the peer's, ACKing each as soon as its TXEND is read.
func private(args []string) {
	fs := flag.NewFlagSet("private", flag.ExitOnError)
	var c common
	c.flags(fs)
	count := fs.Int("count", 0, "messages to send")
	expect := fs.Int("expect", 0, "messages to receive")
	sizes := fs.String("sizes", "64", "message sizes, used in turn")
	seed := fs.Uint64("seed", 1, "seed of the messages sent")
	peerSeed := fs.Uint64("peer-seed", 2, "seed of the messages expected")
	peerSizes := fs.String("peer-sizes", "64", "sizes of the messages expected, in turn")
	linger := fs.Duration("linger", 0, "keep the connection open this long after the work is done")
	fs.Parse(args)
	sendSizes, recvSizes := parseSizes(*sizes), parseSizes(*peerSizes)

	res := map[string]any{}
	var mu sync.Mutex
	var beatsSent, beatsHeard, received, corrupt, duplicates, merged, acked, resends, dropped int64
	var firstError string
	fail := func(s string) {
		mu.Lock()
		if firstError == "" {
			firstError = s
		}
		mu.Unlock()
	}
	l, err := c.authorize()
	if err != nil {
		emit(map[string]any{"error": err.Error()})
		os.Exit(1)
	}
	deadline := time.After(c.deadline)
	stop := make(chan struct{})
	go beats(l, c.beat, stop, &beatsSent, &mu)

	ackCh := make(chan struct{}, 16)
	recvDone := make(chan struct{})
	if *expect == 0 {
		close(recvDone)
	}
	readerGone := make(chan struct{})
	go func() {
		defer close(readerGone)
		buf := make([]byte, 64*1024)
		var incoming []byte
		next := uint32(0)
		for {
			n, err := l.conn.Read(buf)
			if err != nil {
				return
			}
			r := buf[:n]
			switch {
			case bytes.Equal(r, beatWord) || bytes.Equal(r, beatTwice):
				mu.Lock()
				beatsHeard++
				mu.Unlock()
			case bytes.Equal(r, ack):
				select {
				case ackCh <- struct{}{}:
				default:
				}
			case bytes.Equal(r, txend):
				l.write(ack)
				m := incoming
				incoming = nil
				if len(m) < 8 {
					corrupt++
					fail(fmt.Sprintf("message of %d bytes", len(m)))
					continue
				}
				seq := binary.BigEndian.Uint32(m[0:4])
				if seq < next {
					duplicates++
					continue
				}
				want := message(*peerSeed, seq, recvSizes[int(seq)%len(recvSizes)])
				if seq != next || !bytes.Equal(m, want) {
					corrupt++
					fail(fmt.Sprintf("message %d (expected %d): %d bytes, want %d", seq, next, len(m), len(want)))
				}
				next = seq + 1
				mu.Lock()
				received++
				if int(received) == *expect {
					close(recvDone)
				}
				mu.Unlock()
			default:
				// A marker glued to its neighbours: the agent would not see it.
				if bytes.HasSuffix(r, txend) || bytes.HasSuffix(r, ack) || bytes.HasPrefix(r, beatWord) || bytes.HasSuffix(r, beatWord) {
					merged++
				}
				incoming = append(incoming, r...)
			}
		}
	}()

	sendDone := make(chan struct{})
	go func() {
		defer close(sendDone)
		resendAt := []time.Duration{1 * time.Second, 3 * time.Second, 7 * time.Second, 15 * time.Second}
		giveUp := 31 * time.Second
		for i := 0; i < *count; i++ {
			m := message(*seed, uint32(i), sendSizes[i%len(sendSizes)])
			// An ACK left over from a resent message is not this message's.
			for len(ackCh) > 0 {
				<-ackCh
			}
			start := time.Now()
			if l.write(m) != nil || l.write(txend) != nil {
				return
			}
			ok := false
			for step := 0; step <= len(resendAt) && !ok; step++ {
				until := giveUp
				if step < len(resendAt) {
					until = resendAt[step]
				}
				select {
				case <-ackCh:
					ok = true
				case <-time.After(time.Until(start.Add(until))):
					if step < len(resendAt) {
						resends++
						if l.write(m) != nil || l.write(txend) != nil {
							return
						}
					}
				case <-readerGone:
					return
				}
			}
			if ok {
				acked++
			} else {
				dropped++
			}
		}
	}()

	timedOut := false
	for _, ch := range []<-chan struct{}{sendDone, recvDone} {
		select {
		case <-ch:
		case <-deadline:
			timedOut = true
		}
		if timedOut {
			break
		}
	}
	if *linger > 0 && !timedOut {
		time.Sleep(*linger)
	}
	close(stop)
	mu.Lock()
	res["sent"] = *count
	res["acked"] = acked
	res["resends"] = resends
	res["dropped"] = dropped
	res["received"] = received
	res["corrupt"] = corrupt
	res["duplicates"] = duplicates
	res["merged"] = merged
	res["beatsSent"] = beatsSent
	res["beatsHeard"] = beatsHeard
	res["timedOut"] = timedOut
	res["error"] = firstError
	mu.Unlock()
	l.conn.Close()
	emit(res)
}

// public-agent: keeps -pool authorized connections; on each, answers the first request read with a
// -stream of payload (16 KiB per Write) interleaved with BEAT every -beat, then waits for the Connector
// to close it, and dials a fresh one. -stale bytes are written on each fresh connection before any
// client is bound to it.
func publicAgent(args []string) {
	fs := flag.NewFlagSet("public-agent", flag.ExitOnError)
	var c common
	c.flags(fs)
	pool := fs.Int("pool", 1, "connections kept open")
	stream := fs.Duration("stream", 0, "answer each request by streaming for this long")
	maxBytes := fs.Int64("max", 64<<20, "at most this many bytes per answer")
	stale := fs.Int("stale", 0, "bytes written on each fresh connection before a client is bound")
	requests := fs.Int("requests", 1, "answer this many requests, then report")
	halfClose := fs.Bool("half-close", false, "end the writes (FIN) after each answer and go on reading until the Connector ends")
	keepOpen := fs.Bool("keep-open", false, "when the Connector ends its writes, keep the connection open until -deadline")
	fs.Parse(args)

	var mu sync.Mutex
	var served, finished, beatsSent, beatsHeard, staleWritten, dials, afterHalfClose int64
	var answered []int64
	var firstError string
	done := make(chan struct{})
	var once sync.Once
	expired := time.After(c.deadline)
	deadline := make(chan struct{})
	go func() { <-expired; close(deadline) }()
	quit := make(chan struct{})

	serve := func() {
		for {
			select {
			case <-quit:
				return
			default:
			}
			mu.Lock()
			dials++
			mu.Unlock()
			l, err := c.authorize()
			if err != nil {
				mu.Lock()
				if firstError == "" {
					firstError = err.Error()
				}
				mu.Unlock()
				select {
				case <-quit:
					return
				case <-time.After(50 * time.Millisecond):
				}
				continue
			}
			if *stale > 0 {
				junk := bytes.Repeat([]byte("STALE!"), *stale/6+1)[:*stale]
				l.write(junk)
				mu.Lock()
				staleWritten += int64(*stale)
				mu.Unlock()
			}
			buf := make([]byte, 64*1024)
			wasServing := false
			writesEnded := false
			for {
				n, err := l.conn.Read(buf)
				if err != nil {
					if *keepOpen && err == io.EOF {
						select {
						case <-quit:
						case <-deadline:
						}
					}
					break
				}
				r := buf[:n]
				if writesEnded {
					mu.Lock()
					afterHalfClose += int64(n)
					mu.Unlock()
					continue
				}
				if bytes.Equal(r, beatWord) || bytes.Equal(r, beatTwice) {
					mu.Lock()
					beatsHeard++
					mu.Unlock()
					continue
				}
				// A request: its bytes seed the answer, so the client can check every byte of it.
				var seed uint64
				for _, b := range r {
					seed = seed*131 + uint64(b)
				}
				// BEAT goes out every -beat while the answer flows, written back to back with the payload.
				chunk := make([]byte, 16*1024)
				var sent int64
				start := time.Now()
				lastBeat := start
				for sent < *maxBytes && (*stream == 0 || time.Since(start) < *stream) {
					if time.Since(lastBeat) >= c.beat {
						lastBeat = time.Now()
						if l.write(beatWord) != nil {
							break
						}
						mu.Lock()
						beatsSent++
						mu.Unlock()
					}
					size := int64(len(chunk))
					if *maxBytes-sent < size {
						size = *maxBytes - sent
					}
					pattern(chunk[:size], seed, sent)
					if l.write(chunk[:size]) != nil {
						break
					}
					sent += size
				}
				// The answer ends with its length, as a line of its own, so the client knows when it has all of it.
				l.write([]byte(fmt.Sprintf("\nEND %d\n", sent)))
				if *halfClose {
					closeWrite(l.conn)
					writesEnded = true
				}
				mu.Lock()
				served++
				answered = append(answered, sent)
				mu.Unlock()
				wasServing = true
			}
			l.conn.Close()
			// Done once the Connector has closed the connection of the last answer: the client has all of it.
			if wasServing {
				mu.Lock()
				finished++
				if int(finished) >= *requests {
					once.Do(func() { close(done) })
				}
				mu.Unlock()
			}
		}
	}
	for i := 0; i < *pool; i++ {
		go serve()
	}
	timedOut := false
	select {
	case <-done:
	case <-deadline:
		timedOut = true
	}
	close(quit)
	mu.Lock()
	emit(map[string]any{"served": served, "answered": answered, "beatsSent": beatsSent, "beatsHeard": beatsHeard,
		"staleWritten": staleWritten, "dials": dials, "afterHalfClose": afterHalfClose, "timedOut": timedOut, "error": firstError})
	mu.Unlock()
}

// public-client: a client on the public port (TLS): writes -request and reads the answer, checking
// every byte against the pattern the agent derives from the request.
func publicClient(args []string) {
	fs := flag.NewFlagSet("public-client", flag.ExitOnError)
	var c common
	c.flags(fs)
	request := fs.String("request", "GET /", "what the client writes")
	halfClose := fs.Bool("half-close", false, "end the writes (FIN) right after the request")
	after := fs.Int("after", 0, "bytes written once the whole answer is read, then the writes are ended")
	awaitEnd := fs.Bool("await-end", false, "after the answer, read on until the Connector ends the connection, and report how")
	fs.Parse(args)
	conn, err := c.dial()
	if err != nil {
		emit(map[string]any{"error": err.Error()})
		os.Exit(1)
	}
	conn.SetDeadline(time.Now().Add(c.deadline))
	conn.Write([]byte(*request))
	if *halfClose {
		closeWrite(conn)
	}
	var seed uint64
	for _, b := range []byte(*request) {
		seed = seed*131 + uint64(b)
	}
	// The answer is checked as it arrives (it may be gigabytes): every byte against the pattern, the
	// END line at its end. Payload bytes are never ASCII, so the END line cannot hide in them.
	res := map[string]any{"firstDifference": -1}
	var body, received, beatsIn, staleIn int64
	var pending []byte
	want := make([]byte, 64*1024+64)
	check := func(p []byte) {
		beatsIn += int64(bytes.Count(p, beatWord))
		staleIn += int64(bytes.Count(p, []byte("STALE!")))
		pattern(want[:len(p)], seed, body)
		if res["firstDifference"] == -1 {
			for k := range p {
				if p[k] != want[k] {
					res["firstDifference"] = body + int64(k)
					break
				}
			}
		}
		body += int64(len(p))
	}
	buf := make([]byte, 64*1024)
	var announced int64 = -1
	for announced < 0 {
		n, err := conn.Read(buf)
		received += int64(n)
		pending = append(pending, buf[:n]...)
		if i := bytes.Index(pending, []byte("\nEND ")); i >= 0 {
			if j := bytes.IndexByte(pending[i+1:], '\n'); j >= 0 {
				check(pending[:i])
				fmt.Sscanf(string(pending[i+5:i+1+j]), "%d", &announced)
				break
			}
		} else if len(pending) > 32 {
			check(pending[:len(pending)-32])
			pending = append(pending[:0], pending[len(pending)-32:]...)
		}
		if err != nil {
			res["readError"] = err.Error()
			res["error"] = "no END line"
			break
		}
	}
	if *after > 0 && announced >= 0 {
		conn.Write(bytes.Repeat([]byte{0xAA}, *after))
		closeWrite(conn)
	}
	// What follows the answer: a clean end (FIN) or an error.
	if *awaitEnd {
		if n, err := conn.Read(buf); err == io.EOF && n == 0 {
			res["end"] = "eof"
		} else if err != nil {
			res["end"] = err.Error()
		} else {
			res["end"] = fmt.Sprintf("%d more bytes", n)
		}
	}
	conn.Close()
	res["received"] = received
	res["body"] = body
	res["announced"] = announced
	res["beatsInStream"] = beatsIn
	res["staleInStream"] = staleIn
	emit(res)
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

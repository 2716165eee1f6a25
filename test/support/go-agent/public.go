// Public mode: an agent pool that answers requests, and a client on the public port that checks the answers.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

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

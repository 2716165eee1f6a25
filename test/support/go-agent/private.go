// Private mode: two agents that exchange messages framed by TXEND and acknowledged by ACK.
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"
)

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

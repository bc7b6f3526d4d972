//go:build unix

package conn

import (
	"net"
	"testing"
	"time"
)

// A wait is blamed on the server only once it is over budget without the
// monitor's own lag, and only when corroborated on consecutive looks.
func TestWaitBlamesOnlyCorroboratedOverdueWaits(t *testing.T) {
	ms := func(n int64) int64 { return n * int64(time.Millisecond) }
	const budget = 100 * time.Millisecond
	yes := func() bool { return true }
	no := func() bool { return false }

	w := newWait()
	if w.blame(ms(500), budget, yes) {
		t.Fatal("blamed with no wait timed")
	}
	w.from(0)
	if w.blame(ms(90), budget, yes) {
		t.Fatal("blamed within budget")
	}
	if w.blame(ms(150), budget, yes) {
		t.Fatal("blamed on the first look")
	}
	if w.blame(ms(160), budget, no) {
		t.Fatal("blamed although the server was not at fault")
	}
	if w.blame(ms(170), budget, yes) {
		t.Fatal("blamed on the first look after an excused one")
	}
	if !w.blame(ms(180), budget, yes) {
		t.Fatal("not blamed on the second corroborated look")
	}

	w.from(ms(200)) // progress: a new wait
	w.stall(ms(300))
	if w.blame(ms(450), budget, yes) || w.blame(ms(460), budget, yes) {
		t.Fatal("the monitor's own lag was counted against the server")
	}
	if w.blame(ms(610), budget, yes); !w.blame(ms(620), budget, yes) {
		t.Fatal("not blamed once over budget beyond the lag")
	}
}

// readerBehind sees reply bytes the kernel holds but the reader has not
// taken: a starved reader, not a silent server.
func TestReaderBehindSeesBytesTheReaderHasNotTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	c := &Conn{nc: nc, epoch: time.Now()}
	c.lastRead.Store(c.clock())
	if c.readerBehind() {
		t.Fatal("behind before the server sent anything")
	}
	// The kernel's receive times are whole milliseconds of coarse ticks: the
	// bytes must arrive measurably after the reader's last read.
	time.Sleep(50 * time.Millisecond)
	if _, err := srv.Write([]byte("+PONG\r\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !c.readerBehind() {
		if time.Now().After(deadline) {
			t.Fatal("unread reply bytes not seen")
		}
		time.Sleep(time.Millisecond)
	}
}

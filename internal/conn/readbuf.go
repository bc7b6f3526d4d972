package conn

import (
	"bufio"

	"github.com/keel-go/keel/resp"
)

// A connection reads its replies through a small buffer, which suits small
// replies and the many connections an application may hold. But one read(2)
// takes at most a buffer's worth, so replies of several KiB each (16 KiB
// values) cost a read for every two of them under load, where a larger
// buffer takes all the socket holds at once: measured from 16 goroutines,
// 0.9 read(2) per 16 KiB GET with 32 KiB, 0.5 with 128 KiB (on a virtual
// machine whose system calls are most of a client's CPU). A connection whose
// replies are that large therefore gets the larger buffer, once it has seen
// growAfter of them, at a moment nothing is buffered, so that no byte has to
// move from one buffer to the other. It keeps it for its life.
//
// Replies as large as the larger buffer do not count: each is read straight
// into its own memory, so no buffer batches them, and a connection that
// carries only such values (a bulk connection's 1 MiB GETs) keeps the small
// one. Giving it the larger buffer anyway made a process reading 1 MiB
// values in a loop (1 goroutine, GOMAXPROCS=1) take 0.9–1.0 ms per GET
// instead of 0.5: the Go runtime returned pages to the OS and faulted them
// back, 16–21 times per GET, against none.
const (
	readBufferSize      = 32 << 10
	largeReadBufferSize = 128 << 10
	largeReplyBytes     = 8 << 10
	growAfter           = 16
)

// readBuffer is how a connection's read buffer is sized; guarded by readMu.
type readBuffer struct {
	size         int
	largeReplies int // replies of largeReplyBytes or more, while size is small
}

// newReader returns a reader of the connection's socket with a buffer of
// size bytes.
func (c *Conn) newReader(size int) *resp.Reader {
	c.readBuf.size = size
	return resp.NewReader(bufio.NewReaderSize(readTracker{c: c, bufSize: size}, size), c.opts.Limits)
}

// noteReplySize counts a reply of n bytes, and gives the connection the
// large read buffer once enough were large, but smaller than that buffer.
// Call it with readMu held.
func (c *Conn) noteReplySize(n int) {
	b := &c.readBuf
	if b.size >= largeReadBufferSize || n < largeReplyBytes || n >= largeReadBufferSize {
		return
	}
	b.largeReplies++
	if b.largeReplies >= growAfter && c.rd.Buffered() == 0 {
		c.rd = c.newReader(largeReadBufferSize)
	}
}

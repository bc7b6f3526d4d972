//go:build !unix

package conn

// readerBehind cannot look into the socket here: the health check relies on
// the reader's own state alone.
func (c *Conn) readerBehind() bool { return false }

// replyProgress returns the clock() of the last reply bytes: the reader's
// last read (the low-water mark is never raised here).
func (c *Conn) replyProgress() int64 { return c.lastRead.Load() }

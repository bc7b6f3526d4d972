//go:build !unix

package conn

// readerBehind cannot look into the socket here: the health check relies on
// the reader's own state alone.
func (c *Conn) readerBehind() bool { return false }

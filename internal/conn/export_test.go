package conn

// LookIdle looks into an idle connection's socket as a direct write would.
func LookIdle(c *Conn) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.direct.idle.look()
}

// ErrBytesWaiting is what LookIdle returns for a socket holding bytes.
var ErrBytesWaiting = errBytesWaiting

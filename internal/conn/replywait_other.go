//go:build !linux

package conn

import (
	"net"
	"time"
)

// replyWait is Linux's only: elsewhere every caller waits on the runtime's
// poller.
type replyWait struct{}

func (*replyWait) init(net.Conn)           {}
func (*replyWait) usable() bool            { return false }
func (*replyWait) wait(time.Duration) bool { return false }
func (*replyWait) wake()                   {}

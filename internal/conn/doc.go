// Package conn is one multiplexed, auto-pipelined connection to one Redis
// node.
//
// Any number of goroutines call [Conn.Do] at once. A writer goroutine drains
// their queued requests into one write per batch, and a reader goroutine
// completes them in order as replies arrive. While replies are owed, the
// writer yields briefly before each batch, so that the callers those replies
// wake can add their next commands to it: under load a write(2) carries tens
// of commands instead of one or two. A caller that finds the connection idle
// (nothing queued or in flight) skips both goroutines: it writes its request
// and reads its reply itself (direct.go), as a synchronous client would,
// saving the two wake-ups of other threads that make up about a third of a
// loopback round trip. The reader goroutine therefore reads only while
// replies are owed; an idle socket, which nobody reads, is looked at
// (without reading) before each write and by the monitor, so a server's
// close is noticed and bytes nobody asked for close the connection rather
// than pass for the next reply. A monitor goroutine declares the connection
// dead when the oldest in-flight request has had no reply bytes for the
// health timeout, and pings an idle connection, so a hung server is noticed
// within seconds (IdlePingInterval and the health timeout) rather than when
// the kernel gives up. A dead connection fails every request at once with
// an [*Error] that says whether the request may have run.
//
// Replies carry no request id: they match requests by order alone, so one
// reply skipped or added would hand every later reply to the wrong caller.
// The reader therefore checks each reply against the kinds its command can
// ever receive (an array never answers GET, only PONG answers PING) and
// closes the connection with [ErrOutOfStep] on a mismatch; the monitor's
// pings, sent every PingInterval on a busy connection too, are sentinels for
// the shifts no type check can see. CLIENT REPLY, which makes the server
// withhold replies, is refused ([ErrRefused]). A reply whose caller has gone
// and that is still arriving a health timeout later closes the connection
// ([ErrAbandonedReply]), so a server trickling bytes cannot wedge it.
package conn

// Package conn is one multiplexed, auto-pipelined connection to one Redis
// node (DESIGN.md §3).
//
// Any number of goroutines call [Conn.Do] at once. A writer goroutine drains
// their queued requests into one write per batch, and a reader goroutine
// completes them in order as replies arrive. While replies are owed, the
// writer yields briefly before each batch, so that the callers those replies
// wake can add their next commands to it: under load a write(2) carries
// tens of commands instead of one or two. A monitor goroutine declares the
// connection dead when the oldest in-flight request has had no reply bytes
// for the health timeout, and pings an idle connection, so a hung server is
// noticed in about a second rather than when the kernel gives up. A dead
// connection fails every request at once with an [*Error] that says whether
// the request may have run.
package conn

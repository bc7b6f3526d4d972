// Package lab starts and stops real redis-server processes for tests and
// demos.
//
// A [Server] is a redis-server child process running in the foreground on a
// free port of a loopback address, with a private temporary directory that
// holds its log file and, for TLS servers, certificates generated on the fly.
// Tests get one with [StartServerT]; anything else uses [StartServer] and
// [Server.Close].
//
// lab only ever binds 127.x addresses and rejects any other host. That is
// what makes its defaults acceptable: persistence and protected mode are off
// and the servers are meant to be killed, paused and resumed to inject
// crashes and hangs, so they must never be reachable from the network.
//
// lab uses only the standard library and the redis-server binary, which is
// looked up on PATH (see [FindRedisServer]). It does not depend on any other
// keel package, so the client packages can test against it without cycles.
package lab

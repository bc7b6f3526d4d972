// Package resp reads and writes the Redis serialization protocol, RESP2 and
// RESP3 (https://redis.io/docs/latest/develop/reference/protocol-spec/).
//
// A [Reader] turns bytes into [Value]s and enforces [Limits] before it
// allocates, so a hostile or broken peer gets a protocol error instead of a
// panic or a giant allocation. [AppendCommand] and [AppendValue] encode
// without allocating when the destination has room.
//
// Error replies are [Value]s of kind [KindError]; [Value.Err] turns one into
// an [*Error], whose code (MOVED, ASK, READONLY, …) can be matched with
// errors.Is against the sentinels such as [ErrMoved].
package resp

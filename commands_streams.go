package keel

import (
	"context"
	"fmt"
	"time"
)

// Streams. XRead and XReadGroup return at once with what is there, or,
// with Block, wait for entries on a connection of their own.

// XField is one field of a stream entry and its value.
type XField struct {
	Name, Value string
}

// XMessage is one entry of a stream: its ID and its fields, in the order
// they were added (a name may occur twice, as Redis allows).
type XMessage struct {
	ID     string
	Fields []XField
	// Deleted is set, and Fields nil, for an entry still pending in a
	// consumer group after its message was deleted from the stream
	// (XREADGROUP reading a consumer's history).
	Deleted bool
}

// Get returns the value of the first field called name, and whether there
// was one.
func (m XMessage) Get(name string) (string, bool) {
	for _, f := range m.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// Map returns the fields as a map; of a name that occurs twice, the last
// value wins.
func (m XMessage) Map() map[string]string {
	out := make(map[string]string, len(m.Fields))
	for _, f := range m.Fields {
		out[f.Name] = f.Value
	}
	return out
}

// XStream is the entries read from one stream by XRead or XReadGroup.
type XStream struct {
	Stream   string
	Messages []XMessage
}

// XAddArgs are the arguments of XAdd.
type XAddArgs struct {
	// Stream is the stream's key.
	Stream string
	// ID is the new entry's ID; "" (the default) lets the server choose it
	// (*). An explicit ID must be greater than the stream's last.
	ID string
	// Values are the entry's fields and values alternating: field, value,
	// field, value… (converted as Do converts arguments). At least one pair
	// is required.
	Values []any
	// NoMkStream adds nothing, and the result is ErrNil, when the stream
	// does not exist (NOMKSTREAM). Default: create it.
	NoMkStream bool
	// MaxLen trims the stream to at most this many entries once the entry
	// is added (MAXLEN); 0, the default, does not trim. Excludes MinID.
	MaxLen int64
	// MinID trims entries with IDs below it once the entry is added
	// (MINID); "" does not trim. Excludes MaxLen.
	MinID string
	// Approx lets the server trim less than asked where that is cheaper
	// (~ rather than an exact trim, the default).
	Approx bool
	// Limit bounds how many entries one trim evicts (LIMIT); 0 is the
	// server's default. Only with Approx.
	Limit int64
}

// XAdd builds XADD: append an entry to a stream, creating the stream unless
// NoMkStream, and trim it if asked. Its result is the new entry's ID; with
// NoMkStream and a missing stream, ErrNil. No values, an odd number, a
// negative MaxLen or Limit, both MaxLen and MinID, or Limit without Approx
// is ErrArgument.
func XAdd(a XAddArgs) Cmd[string] {
	if len(a.Values) == 0 || len(a.Values)%2 != 0 {
		return failedCmd[string]("XADD", errPairs(len(a.Values)))
	}
	args := make([]string, 0, 9+len(a.Values))
	args = append(args, "XADD", a.Stream)
	if a.NoMkStream {
		args = append(args, "NOMKSTREAM")
	}
	args, err := appendTrim(args, a.MaxLen, a.MinID, a.Approx, a.Limit, a.MaxLen > 0)
	if err != nil {
		return failedCmd[string]("XADD", err)
	}
	if a.ID == "" {
		args = append(args, "*")
	} else {
		args = append(args, a.ID)
	}
	if args, err = appendArgs(args, a.Values); err != nil {
		return failedCmd[string]("XADD", err)
	}
	return argsCmd(toString, args)
}

// XAdd appends an entry to a stream and returns its ID; see XAdd, the command.
func (c *Client) XAdd(ctx context.Context, a XAddArgs) (string, error) {
	return exec(ctx, c, XAdd(a))
}

// appendTrim appends the trimming option shared by XADD and XTRIM: MAXLEN
// when byLen, else MINID when minID is set.
func appendTrim(args []string, maxLen int64, minID string, approx bool, limit int64, byLen bool) ([]string, error) {
	switch {
	case maxLen < 0:
		return nil, fmt.Errorf("%w: negative MaxLen %d", ErrArgument, maxLen)
	case limit < 0:
		return nil, fmt.Errorf("%w: negative Limit %d", ErrArgument, limit)
	case byLen && minID != "":
		return nil, fmt.Errorf("%w: both MaxLen and MinID", ErrArgument)
	case limit > 0 && !approx:
		return nil, fmt.Errorf("%w: Limit without Approx", ErrArgument)
	case !byLen && minID == "":
		if approx {
			return nil, fmt.Errorf("%w: Approx without MaxLen or MinID", ErrArgument)
		}
		return args, nil
	}
	if byLen {
		args = append(args, "MAXLEN")
	} else {
		args = append(args, "MINID")
	}
	if approx {
		args = append(args, "~")
	}
	if byLen {
		args = append(args, formatInt(maxLen))
	} else {
		args = append(args, minID)
	}
	if limit > 0 {
		args = append(args, "LIMIT", formatInt(limit))
	}
	return args, nil
}

// XTrimOptions are the options of XTrimMaxLen and XTrimMinID.
type XTrimOptions struct {
	// Approx lets the server trim less than asked where that is cheaper
	// (~ rather than an exact trim, the default).
	Approx bool
	// Limit bounds how many entries are evicted (LIMIT); 0 is the server's
	// default. Only with Approx.
	Limit int64
}

// XTrimMaxLen builds XTRIM key MAXLEN [~] n [LIMIT l]: evict the oldest
// entries until at most maxLen remain. Its result is how many were evicted.
// A negative maxLen or Limit, or Limit without Approx, is ErrArgument.
func XTrimMaxLen(key string, maxLen int64, o XTrimOptions) Cmd[int64] {
	args, err := appendTrim([]string{"XTRIM", key}, maxLen, "", o.Approx, o.Limit, true)
	if err != nil {
		return failedCmd[int64]("XTRIM", err)
	}
	return argsCmd(toInt64, args)
}

// XTrimMaxLen trims a stream to its newest entries; see XTrimMaxLen, the command.
func (c *Client) XTrimMaxLen(ctx context.Context, key string, maxLen int64, o XTrimOptions) (int64, error) {
	return exec(ctx, c, XTrimMaxLen(key, maxLen, o))
}

// XTrimMinID builds XTRIM key MINID [~] id [LIMIT l]: evict the entries
// with IDs below minID. Its result is how many were evicted. An empty
// minID, a negative Limit, or Limit without Approx is ErrArgument.
func XTrimMinID(key, minID string, o XTrimOptions) Cmd[int64] {
	if minID == "" {
		return failedCmd[int64]("XTRIM", fmt.Errorf("%w: empty MINID", ErrArgument))
	}
	args, err := appendTrim([]string{"XTRIM", key}, 0, minID, o.Approx, o.Limit, false)
	if err != nil {
		return failedCmd[int64]("XTRIM", err)
	}
	return argsCmd(toInt64, args)
}

// XTrimMinID evicts a stream's entries below an ID; see XTrimMinID, the command.
func (c *Client) XTrimMinID(ctx context.Context, key, minID string, o XTrimOptions) (int64, error) {
	return exec(ctx, c, XTrimMinID(key, minID, o))
}

// XLen builds XLEN key: its result is the number of entries of the stream,
// 0 for a missing key.
func XLen(key string) Cmd[int64] { return newCmd(toInt64, "XLEN", key) }

// XLen returns the number of entries of a stream; see XLen, the command.
func (c *Client) XLen(ctx context.Context, key string) (int64, error) {
	return exec(ctx, c, XLen(key))
}

// XRange builds XRANGE key start end: its result is the entries with IDs
// from start to end, both included, oldest first. "-" and "+" are the
// lowest and highest IDs; "(" before an ID excludes it. A missing key gives
// no entries.
func XRange(key, start, end string) Cmd[[]XMessage] {
	return newCmd(toMessages, "XRANGE", key, start, end)
}

// XRange returns a range of a stream's entries; see XRange, the command.
func (c *Client) XRange(ctx context.Context, key, start, end string) ([]XMessage, error) {
	return exec(ctx, c, XRange(key, start, end))
}

// XRangeCount builds XRANGE key start end COUNT count: XRange returning at
// most count entries. A count below 1 is ErrArgument.
func XRangeCount(key, start, end string, count int64) Cmd[[]XMessage] {
	if count < 1 {
		return failedCmd[[]XMessage]("XRANGE", errCount(count))
	}
	return argsCmd(toMessages, []string{"XRANGE", key, start, end, "COUNT", formatInt(count)})
}

// XRangeCount returns at most count of a range of a stream's entries; see
// XRangeCount, the command.
func (c *Client) XRangeCount(ctx context.Context, key, start, end string, count int64) ([]XMessage, error) {
	return exec(ctx, c, XRangeCount(key, start, end, count))
}

// XRevRange builds XREVRANGE key end start: XRange newest first, the
// bounds given highest first.
func XRevRange(key, end, start string) Cmd[[]XMessage] {
	return newCmd(toMessages, "XREVRANGE", key, end, start)
}

// XRevRange returns a range of a stream's entries, newest first; see
// XRevRange, the command.
func (c *Client) XRevRange(ctx context.Context, key, end, start string) ([]XMessage, error) {
	return exec(ctx, c, XRevRange(key, end, start))
}

// XRevRangeCount builds XREVRANGE key end start COUNT count: XRevRange
// returning at most count entries. A count below 1 is ErrArgument.
func XRevRangeCount(key, end, start string, count int64) Cmd[[]XMessage] {
	if count < 1 {
		return failedCmd[[]XMessage]("XREVRANGE", errCount(count))
	}
	return argsCmd(toMessages, []string{"XREVRANGE", key, end, start, "COUNT", formatInt(count)})
}

// XRevRangeCount returns at most count of a range of a stream's entries,
// newest first; see XRevRangeCount, the command.
func (c *Client) XRevRangeCount(ctx context.Context, key, end, start string, count int64) ([]XMessage, error) {
	return exec(ctx, c, XRevRangeCount(key, end, start, count))
}

// errCount is returned for a COUNT that must be positive.
func errCount(n int64) error {
	return fmt.Errorf("%w: count %d, want 1 or more", ErrArgument, n)
}

// errNoIDs is returned for a command given an empty ID list.
var errNoIDs = fmt.Errorf("%w: no IDs", ErrArgument)

// XDel builds XDEL key id…: delete entries; its result is how many existed.
// No IDs is ErrArgument.
func XDel(key string, ids ...string) Cmd[int64] {
	return keyListCmd(toInt64, "XDEL", key, ids, errNoIDs)
}

// XDel deletes entries of a stream; see XDel, the command.
func (c *Client) XDel(ctx context.Context, key string, ids ...string) (int64, error) {
	return exec(ctx, c, XDel(key, ids...))
}

// XGroupCreateOptions are the options of XGroupCreateWith.
type XGroupCreateOptions struct {
	// MkStream creates the stream, empty, when it does not exist
	// (MKSTREAM). Default: a missing stream is an error.
	MkStream bool
	// EntriesRead is how many of the stream's entries the group has read
	// (ENTRIESREAD), from which the server computes its lag; 0, the
	// default, leaves it to the server.
	EntriesRead int64
}

// XGroupCreate builds XGROUP CREATE key group start: create a consumer
// group that delivers the entries after ID start ("$" for only new entries,
// "0" for all). A group that exists fails with ErrBusyGroup, a missing
// stream with the server's error (see XGroupCreateWith's MkStream).
func XGroupCreate(key, group, start string) Cmd[struct{}] {
	return newCmd(toStatus, "XGROUP", "CREATE", key, group, start)
}

// XGroupCreate creates a consumer group; see XGroupCreate, the command.
func (c *Client) XGroupCreate(ctx context.Context, key, group, start string) error {
	_, err := exec(ctx, c, XGroupCreate(key, group, start))
	return err
}

// XGroupCreateWith builds XGROUP CREATE key group start [MKSTREAM]
// [ENTRIESREAD n]: XGroupCreate with options. A negative EntriesRead is
// ErrArgument.
func XGroupCreateWith(key, group, start string, o XGroupCreateOptions) Cmd[struct{}] {
	if o.EntriesRead < 0 {
		return failedCmd[struct{}]("XGROUP CREATE", fmt.Errorf("%w: negative EntriesRead %d", ErrArgument, o.EntriesRead))
	}
	args := []string{"XGROUP", "CREATE", key, group, start}
	if o.MkStream {
		args = append(args, "MKSTREAM")
	}
	if o.EntriesRead > 0 {
		args = append(args, "ENTRIESREAD", formatInt(o.EntriesRead))
	}
	return argsCmd(toStatus, args)
}

// XGroupCreateWith creates a consumer group with options; see
// XGroupCreateWith, the command.
func (c *Client) XGroupCreateWith(ctx context.Context, key, group, start string, o XGroupCreateOptions) error {
	_, err := exec(ctx, c, XGroupCreateWith(key, group, start, o))
	return err
}

// XGroupDestroy builds XGROUP DESTROY key group: delete a consumer group
// and its pending entries. Its result says whether the group existed.
func XGroupDestroy(key, group string) Cmd[bool] {
	return newCmd(toBool, "XGROUP", "DESTROY", key, group)
}

// XGroupDestroy deletes a consumer group; see XGroupDestroy, the command.
func (c *Client) XGroupDestroy(ctx context.Context, key, group string) (bool, error) {
	return exec(ctx, c, XGroupDestroy(key, group))
}

// XGroupCreateConsumer builds XGROUP CREATECONSUMER key group consumer.
// Its result says whether the consumer was created (false: it existed).
func XGroupCreateConsumer(key, group, consumer string) Cmd[bool] {
	return newCmd(toBool, "XGROUP", "CREATECONSUMER", key, group, consumer)
}

// XGroupCreateConsumer creates a consumer in a group; see
// XGroupCreateConsumer, the command.
func (c *Client) XGroupCreateConsumer(ctx context.Context, key, group, consumer string) (bool, error) {
	return exec(ctx, c, XGroupCreateConsumer(key, group, consumer))
}

// XGroupDelConsumer builds XGROUP DELCONSUMER key group consumer: delete a
// consumer and its pending entries. Its result is how many entries were
// pending for it.
func XGroupDelConsumer(key, group, consumer string) Cmd[int64] {
	return newCmd(toInt64, "XGROUP", "DELCONSUMER", key, group, consumer)
}

// XGroupDelConsumer deletes a consumer from a group; see XGroupDelConsumer,
// the command.
func (c *Client) XGroupDelConsumer(ctx context.Context, key, group, consumer string) (int64, error) {
	return exec(ctx, c, XGroupDelConsumer(key, group, consumer))
}

// XGroupSetID builds XGROUP SETID key group id: make the group deliver the
// entries after id next ("$" for only new ones).
func XGroupSetID(key, group, id string) Cmd[struct{}] {
	return newCmd(toStatus, "XGROUP", "SETID", key, group, id)
}

// XGroupSetID sets a group's last delivered ID; see XGroupSetID, the command.
func (c *Client) XGroupSetID(ctx context.Context, key, group, id string) error {
	_, err := exec(ctx, c, XGroupSetID(key, group, id))
	return err
}

// XReadArgs are the arguments of XRead.
type XReadArgs struct {
	// Streams are the keys of the streams to read. They must all be in one
	// slot (use a hash tag such as {orders}), or the read fails with
	// ErrCrossSlot. At least one is required.
	Streams []string
	// IDs are, for each stream, the ID after which to read ("0" for the
	// whole stream). One per stream is required.
	IDs []string
	// Count bounds the entries read from each stream (COUNT); 0, the
	// default, reads them all.
	Count int64
	// Block, when positive, waits up to that long (BLOCK ms) for an entry
	// when no stream has one; BlockForever waits with no limit (BLOCK 0).
	// Default 0: no BLOCK, the read does not wait. A blocking read runs on a
	// connection of its own (see Options.BlockingConnsPerNode); it reads
	// nothing, so keel sends it again when its connection is lost.
	Block time.Duration
}

// XRead builds XREAD [COUNT n] [BLOCK ms] STREAMS key… id…: read the
// entries after the given IDs ("$" for entries added from now on, with
// Block). Its result holds the streams that had entries, none when no
// stream had (after waiting, with Block). No streams, a number of IDs other
// than of streams, a negative Count or a negative Block other than
// BlockForever is ErrArgument.
func XRead(a XReadArgs) Cmd[[]XStream] {
	block, err := blockArg(a.Block)
	if err == nil {
		err = checkStreams(a.Streams, a.IDs, a.Count)
	}
	if err != nil {
		return failedCmd[[]XStream]("XREAD", err)
	}
	args := make([]string, 0, 6+2*len(a.Streams))
	args = append(args, "XREAD")
	args = appendCount(args, a.Count)
	args = appendBlock(args, block)
	args = append(append(append(args, "STREAMS"), a.Streams...), a.IDs...)
	return argsCmd(toStreams, args)
}

// XRead reads entries from streams, waiting for some with Block; see XRead,
// the command.
func (c *Client) XRead(ctx context.Context, a XReadArgs) ([]XStream, error) {
	return exec(ctx, c, XRead(a))
}

func checkStreams(streams, ids []string, count int64) error {
	switch {
	case len(streams) == 0:
		return errNoKeys
	case len(ids) != len(streams):
		return fmt.Errorf("%w: %d IDs for %d streams", ErrArgument, len(ids), len(streams))
	case count < 0:
		return errCount(count)
	}
	return nil
}

// appendBlock appends BLOCK ms unless ms is "" (no Block).
func appendBlock(args []string, ms string) []string {
	if ms != "" {
		args = append(args, "BLOCK", ms)
	}
	return args
}

func appendCount(args []string, count int64) []string {
	if count > 0 {
		args = append(args, "COUNT", formatInt(count))
	}
	return args
}

// XReadGroupArgs are the arguments of XReadGroup.
type XReadGroupArgs struct {
	// Group and Consumer name the consumer group and the consumer reading.
	// The consumer is created when it does not exist.
	Group, Consumer string
	// Streams are the keys of the streams to read. They must all be in one
	// slot (use a hash tag such as {orders}), or the read fails with
	// ErrCrossSlot. At least one is required.
	Streams []string
	// IDs are, for each stream, where to read: ">" for entries never
	// delivered to the group, or an ID to re-read this consumer's pending
	// entries after it. Default (nil): ">" for every stream.
	IDs []string
	// Count bounds the entries read from each stream (COUNT); 0, the
	// default, reads them all.
	Count int64
	// NoAck does not add the entries read to the group's pending list, as
	// if they were acknowledged at once (NOACK).
	NoAck bool
	// Block, when positive, waits up to that long (BLOCK ms) for a new
	// entry when no stream has one; BlockForever waits with no limit
	// (BLOCK 0). Default 0: no BLOCK. A blocking read runs on a connection
	// of its own (see Options.BlockingConnsPerNode). It moves the entries it
	// reads to the consumer's pending list, so when its connection is lost
	// while it waits it fails with ErrUnknownOutcome (unless
	// RetryUnknownOutcome): entries it may have taken are still pending,
	// and the consumer recovers them by reading its history (IDs "0") or
	// with XAutoClaim.
	Block time.Duration
}

// XReadGroup builds XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms]
// [NOACK] STREAMS key… id…: read entries as a consumer of a group. Its
// result holds the streams that had entries, none when no stream had
// (after waiting, with Block). Entries read again from a consumer's history
// whose message was deleted are Deleted. A missing group fails with
// ErrNoGroup. No streams, a number of IDs other than of streams, a negative
// Count or a negative Block other than BlockForever is ErrArgument.
func XReadGroup(a XReadGroupArgs) Cmd[[]XStream] {
	ids := a.IDs
	if ids == nil {
		ids = make([]string, len(a.Streams))
		for i := range ids {
			ids[i] = ">"
		}
	}
	block, err := blockArg(a.Block)
	if err == nil {
		err = checkStreams(a.Streams, ids, a.Count)
	}
	if err != nil {
		return failedCmd[[]XStream]("XREADGROUP", err)
	}
	args := make([]string, 0, 10+2*len(a.Streams))
	args = append(args, "XREADGROUP", "GROUP", a.Group, a.Consumer)
	args = appendCount(args, a.Count)
	args = appendBlock(args, block)
	if a.NoAck {
		args = append(args, "NOACK")
	}
	args = append(append(append(args, "STREAMS"), a.Streams...), ids...)
	return argsCmd(toStreams, args)
}

// XReadGroup reads entries as a consumer of a group, waiting for some with
// Block; see XReadGroup, the command.
func (c *Client) XReadGroup(ctx context.Context, a XReadGroupArgs) ([]XStream, error) {
	return exec(ctx, c, XReadGroup(a))
}

// XAck builds XACK key group id…: acknowledge entries, removing them from
// the group's pending list. Its result is how many were pending. No IDs is
// ErrArgument.
func XAck(key, group string, ids ...string) Cmd[int64] {
	if len(ids) == 0 {
		return failedCmd[int64]("XACK", errNoIDs)
	}
	return argsCmd(toInt64, append([]string{"XACK", key, group}, ids...))
}

// XAck acknowledges entries; see XAck, the command.
func (c *Client) XAck(ctx context.Context, key, group string, ids ...string) (int64, error) {
	return exec(ctx, c, XAck(key, group, ids...))
}

// XPendingSummary is the result of XPending.
type XPendingSummary struct {
	// Count is the number of entries pending in the group.
	Count int64
	// Lowest and Highest are the lowest and highest pending IDs; "" when
	// none is pending.
	Lowest, Highest string
	// Consumers maps each consumer with pending entries to their number;
	// nil when none is pending.
	Consumers map[string]int64
}

// XPending builds XPENDING key group: its result summarizes the group's
// pending entries. A missing group fails with ErrNoGroup.
func XPending(key, group string) Cmd[XPendingSummary] {
	return newCmd(toPendingSummary, "XPENDING", key, group)
}

// XPending summarizes a group's pending entries; see XPending, the command.
func (c *Client) XPending(ctx context.Context, key, group string) (XPendingSummary, error) {
	return exec(ctx, c, XPending(key, group))
}

// XPendingArgs are the arguments of XPendingExt.
type XPendingArgs struct {
	// Start and End bound the IDs listed, both included; "(" before an ID
	// excludes it. Defaults "-" and "+": all.
	Start, End string
	// Count bounds the entries listed; it is required, 1 or more.
	Count int64
	// Consumer lists only this consumer's entries; "" lists all.
	Consumer string
	// MinIdle lists only entries not delivered for at least this long
	// (IDLE, millisecond precision); 0 lists all.
	MinIdle time.Duration
}

// XPendingEntry is one pending entry of a consumer group.
type XPendingEntry struct {
	ID       string
	Consumer string
	// Idle is the time since the entry was last delivered.
	Idle time.Duration
	// Deliveries is how many times it was delivered.
	Deliveries int64
}

// XPendingExt builds XPENDING key group [IDLE ms] start end count
// [consumer]: its result lists pending entries, lowest ID first. A Count
// below 1 or a negative MinIdle is ErrArgument.
func XPendingExt(key, group string, a XPendingArgs) Cmd[[]XPendingEntry] {
	switch {
	case a.Count < 1:
		return failedCmd[[]XPendingEntry]("XPENDING", errCount(a.Count))
	case a.MinIdle < 0:
		return failedCmd[[]XPendingEntry]("XPENDING", fmt.Errorf("%w: negative MinIdle %v", ErrArgument, a.MinIdle))
	}
	args := []string{"XPENDING", key, group}
	if a.MinIdle > 0 {
		args = append(args, "IDLE", formatMs(a.MinIdle))
	}
	args = append(args, orDefault(a.Start, "-"), orDefault(a.End, "+"), formatInt(a.Count))
	if a.Consumer != "" {
		args = append(args, a.Consumer)
	}
	return argsCmd(toPendingEntries, args)
}

// XPendingExt lists a group's pending entries; see XPendingExt, the command.
func (c *Client) XPendingExt(ctx context.Context, key, group string, a XPendingArgs) ([]XPendingEntry, error) {
	return exec(ctx, c, XPendingExt(key, group, a))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// XClaim builds XCLAIM key group consumer min-idle id…: give the entries
// among ids that have been idle for at least minIdle to consumer. Its result
// is the entries claimed; entries deleted from the stream are dropped from
// the pending list and left out. No IDs or a negative minIdle is
// ErrArgument.
func XClaim(key, group, consumer string, minIdle time.Duration, ids ...string) Cmd[[]XMessage] {
	if err := checkClaim(minIdle, len(ids)); err != nil {
		return failedCmd[[]XMessage]("XCLAIM", err)
	}
	return argsCmd(toMessages, append([]string{"XCLAIM", key, group, consumer, formatMs(minIdle)}, ids...))
}

// XClaim claims pending entries for a consumer; see XClaim, the command.
func (c *Client) XClaim(ctx context.Context, key, group, consumer string, minIdle time.Duration, ids ...string) ([]XMessage, error) {
	return exec(ctx, c, XClaim(key, group, consumer, minIdle, ids...))
}

func checkClaim(minIdle time.Duration, ids int) error {
	switch {
	case ids == 0:
		return errNoIDs
	case minIdle < 0:
		return fmt.Errorf("%w: negative min-idle %v", ErrArgument, minIdle)
	}
	return nil
}

// XAutoClaimArgs are the arguments of XAutoClaim.
type XAutoClaimArgs struct {
	// Group and Consumer name the consumer group and the consumer that
	// takes the entries.
	Group, Consumer string
	// MinIdle claims only entries not delivered for at least this long
	// (millisecond precision).
	MinIdle time.Duration
	// Start is the ID from which to scan the pending list; default "0-0".
	// Pass the previous result's Next to continue a scan.
	Start string
	// Count bounds the entries claimed (COUNT); 0 is the server's default,
	// 100.
	Count int64
}

// XAutoClaimResult is the result of XAutoClaim.
type XAutoClaimResult struct {
	// Next is where to continue the scan; "0-0" when it is complete.
	Next string
	// Messages are the entries claimed.
	Messages []XMessage
	// Deleted are the IDs of pending entries whose message was deleted
	// from the stream; the server dropped them from the pending list.
	Deleted []string
}

// XAutoClaim builds XAUTOCLAIM key group consumer min-idle start [COUNT n]:
// scan the group's pending list from Start and give the entries idle for at
// least MinIdle to Consumer. A negative MinIdle or Count is ErrArgument.
func XAutoClaim(key string, a XAutoClaimArgs) Cmd[XAutoClaimResult] {
	switch {
	case a.MinIdle < 0:
		return failedCmd[XAutoClaimResult]("XAUTOCLAIM", fmt.Errorf("%w: negative MinIdle %v", ErrArgument, a.MinIdle))
	case a.Count < 0:
		return failedCmd[XAutoClaimResult]("XAUTOCLAIM", errCount(a.Count))
	}
	args := []string{"XAUTOCLAIM", key, a.Group, a.Consumer, formatMs(a.MinIdle), orDefault(a.Start, "0-0")}
	args = appendCount(args, a.Count)
	return argsCmd(toAutoClaim, args)
}

// XAutoClaim claims idle pending entries for a consumer; see XAutoClaim,
// the command.
func (c *Client) XAutoClaim(ctx context.Context, key string, a XAutoClaimArgs) (XAutoClaimResult, error) {
	return exec(ctx, c, XAutoClaim(key, a))
}

// XStreamInfo is the result of XInfoStream.
type XStreamInfo struct {
	Length         int64 // entries
	RadixTreeKeys  int64
	RadixTreeNodes int64
	Groups         int64 // consumer groups
	// LastGeneratedID is the ID of the last entry added, deleted or not.
	LastGeneratedID string
	// MaxDeletedEntryID is the highest ID deleted (Redis 7).
	MaxDeletedEntryID string
	// EntriesAdded counts every entry ever added (Redis 7).
	EntriesAdded int64
	// RecordedFirstEntryID is the ID of the first entry (Redis 7).
	RecordedFirstEntryID string
	// FirstEntry and LastEntry are nil for an empty stream.
	FirstEntry, LastEntry *XMessage
}

// XInfoStream builds XINFO STREAM key: its result describes the stream. A
// missing key fails with the server's error.
func XInfoStream(key string) Cmd[XStreamInfo] {
	return newCmd(toInfoStream, "XINFO", "STREAM", key)
}

// XInfoStream describes a stream; see XInfoStream, the command.
func (c *Client) XInfoStream(ctx context.Context, key string) (XStreamInfo, error) {
	return exec(ctx, c, XInfoStream(key))
}

// XGroupInfo describes one consumer group.
type XGroupInfo struct {
	Name      string
	Consumers int64
	// Pending is the number of entries delivered and not acknowledged.
	Pending         int64
	LastDeliveredID string
	// EntriesRead is how many of the stream's entries the group has read,
	// and Lag how many it has still to read; -1 when the server cannot
	// tell (Redis 7).
	EntriesRead, Lag int64
}

// XInfoGroups builds XINFO GROUPS key: its result describes the stream's
// consumer groups.
func XInfoGroups(key string) Cmd[[]XGroupInfo] {
	return newCmd(toInfoGroups, "XINFO", "GROUPS", key)
}

// XInfoGroups describes a stream's consumer groups; see XInfoGroups, the
// command.
func (c *Client) XInfoGroups(ctx context.Context, key string) ([]XGroupInfo, error) {
	return exec(ctx, c, XInfoGroups(key))
}

// XConsumerInfo describes one consumer of a group.
type XConsumerInfo struct {
	Name string
	// Pending is the number of entries delivered to it and not acknowledged.
	Pending int64
	// Idle is the time since it last read or claimed.
	Idle time.Duration
}

// XInfoConsumers builds XINFO CONSUMERS key group: its result describes the
// group's consumers.
func XInfoConsumers(key, group string) Cmd[[]XConsumerInfo] {
	return newCmd(toInfoConsumers, "XINFO", "CONSUMERS", key, group)
}

// XInfoConsumers describes a group's consumers; see XInfoConsumers, the
// command.
func (c *Client) XInfoConsumers(ctx context.Context, key, group string) ([]XConsumerInfo, error) {
	return exec(ctx, c, XInfoConsumers(key, group))
}

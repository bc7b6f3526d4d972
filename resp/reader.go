package resp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unsafe"
)

// Default limits. The bulk length matches redis-server's own default
// proto-max-bulk-len, so no string a default server can store is refused.
// The reply size is twice that: a reply may carry one largest string and
// more besides, but a reply of millions of small elements, each of which
// costs a Value in memory, cannot take more than about a gibibyte of heap.
const (
	DefaultMaxBulkLen      = 512 << 20 // bytes in one bulk, verbatim or blob-error string
	DefaultMaxAggregateLen = 1 << 24   // elements in one array, set or push; pairs in one map
	DefaultMaxDepth        = 32        // nesting of aggregates within aggregates
	DefaultMaxReplyBytes   = 1 << 30   // memory one value may take, see Limits.MaxReplyBytes
)

// Limits bound what a Reader accepts. A zero or negative field means its default.
type Limits struct {
	MaxBulkLen      int64 // default DefaultMaxBulkLen
	MaxAggregateLen int64 // default DefaultMaxAggregateLen
	MaxDepth        int   // default DefaultMaxDepth
	// MaxReplyBytes bounds the memory one value read takes: its strings'
	// bytes plus the size of a Value for every element of its aggregates. An
	// aggregate is charged for all its elements when its header arrives, so
	// a huge declared length is refused before anything is allocated.
	// Default DefaultMaxReplyBytes.
	MaxReplyBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxBulkLen <= 0 {
		l.MaxBulkLen = DefaultMaxBulkLen
	}
	if l.MaxAggregateLen <= 0 {
		l.MaxAggregateLen = DefaultMaxAggregateLen
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxReplyBytes <= 0 {
		l.MaxReplyBytes = DefaultMaxReplyBytes
	}
	// A length must fit an int (for make) on 32-bit platforms too, and a
	// map's 2n elements must not overflow.
	l.MaxBulkLen = min(l.MaxBulkLen, math.MaxInt)
	l.MaxAggregateLen = min(l.MaxAggregateLen, math.MaxInt/2)
	return l
}

// A declared length is trusted for allocation only up to these sizes; beyond
// them the Reader grows its buffers as bytes actually arrive, so a peer that
// announces a huge value and sends little costs little memory.
const (
	eagerBulk      = 1 << 20
	eagerAggregate = 1 << 10
)

// maxLineLen bounds the lines of simple strings, errors, numbers and
// headers (or MaxBulkLen, when that is smaller): the server never sends long
// ones, so a longer line means a broken peer.
const maxLineLen = 1 << 20

// Reader reads RESP values from a stream. It is not safe for concurrent use.
type Reader struct {
	br     *bufio.Reader
	limits Limits
	long   []byte // a line longer than br's buffer is assembled here
	// budget is what is left of MaxReplyBytes for the value being read.
	budget int64
}

// valueSize is what one element of an aggregate costs in memory.
const valueSize = int64(unsafe.Sizeof(Value{}))

// charge takes n bytes from the budget of the value being read.
func (r *Reader) charge(n int64) error {
	r.budget -= n
	if r.budget < 0 {
		return limitErr("reply larger than the limit of %d bytes", r.limits.MaxReplyBytes)
	}
	return nil
}

// NewReader returns a Reader on rd with the given limits (zero fields mean
// the defaults). If rd is already a *bufio.Reader it is used as is.
func NewReader(rd io.Reader, limits Limits) *Reader {
	br, ok := rd.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(rd, 16<<10)
	}
	return &Reader{br: br, limits: limits.withDefaults()}
}

// Read reads one complete value. It returns io.EOF only when the stream ends
// cleanly between values; a stream that ends inside a value gives
// io.ErrUnexpectedEOF. Errors wrapping ErrProtocol mean the stream can not be
// read any further.
func (r *Reader) Read() (Value, error) {
	r.budget = r.limits.MaxReplyBytes
	return r.read(0)
}

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}

// limitErr is a protocol error for a value over the Reader's Limits.
func limitErr(format string, args ...any) error {
	return fmt.Errorf("%w: %w: "+format, append([]any{ErrProtocol, ErrTooLarge}, args...)...)
}

// midFrame turns a clean EOF into ErrUnexpectedEOF: inside a value, the end
// of the stream is always a truncation.
func midFrame(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (r *Reader) read(depth int) (Value, error) {
	line, err := r.line()
	if err != nil {
		if depth > 0 {
			err = midFrame(err)
		}
		return Value{}, err
	}
	if len(line) == 0 {
		return Value{}, protoErr("empty line where a type byte was expected")
	}
	payload := line[1:]
	switch line[0] {
	case '+':
		if err := r.charge(int64(len(payload))); err != nil {
			return Value{}, err
		}
		return Value{Kind: KindSimpleString, Str: simpleString(payload)}, nil
	case '-':
		if err := r.charge(int64(len(payload))); err != nil {
			return Value{}, err
		}
		return Value{Kind: KindError, Str: string(payload)}, nil
	case ':':
		n, err := parseInt(payload)
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: KindInteger, Int: n}, nil
	case '$', '!', '=':
		return r.readBlob(line[0], payload)
	case '(':
		if !isBigNumber(payload) {
			return Value{}, protoErr("invalid big number %q", clip(payload))
		}
		if err := r.charge(int64(len(payload))); err != nil {
			return Value{}, err
		}
		return Value{Kind: KindBigNumber, Str: string(payload)}, nil
	case ',':
		f, err := strconv.ParseFloat(string(payload), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return Value{}, protoErr("invalid double %q", clip(payload))
		}
		return Value{Kind: KindDouble, Float: f}, nil
	case '#':
		if len(payload) == 1 && (payload[0] == 't' || payload[0] == 'f') {
			return Value{Kind: KindBoolean, Int: b2i(payload[0] == 't')}, nil
		}
		return Value{}, protoErr("invalid boolean %q", clip(payload))
	case '_':
		if len(payload) != 0 {
			return Value{}, protoErr("invalid null %q", clip(payload))
		}
		return Value{Kind: KindNull}, nil
	case '*', '~', '>', '%':
		return r.readAggregate(line[0], payload, depth)
	case '|':
		attrs, err := r.readAggregate('%', payload, depth)
		if err != nil {
			return Value{}, err
		}
		v, err := r.read(depth + 1)
		if err != nil {
			return Value{}, midFrame(err)
		}
		if len(attrs.Elems) > 0 {
			v.Attrs = append(attrs.Elems, v.Attrs...)
		}
		return v, nil
	}
	return Value{}, protoErr("unknown type byte %q", line[0])
}

// line returns the next line without its CRLF. The slice is valid until the
// next read.
func (r *Reader) line() ([]byte, error) {
	b, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		r.long = append(r.long[:0], b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if limit := min(r.limits.MaxBulkLen, maxLineLen); int64(len(r.long)) > limit {
				return nil, protoErr("line longer than %d bytes", limit)
			}
			b, err = r.br.ReadSlice('\n')
			r.long = append(r.long, b...)
		}
		b = r.long
	}
	if err != nil {
		if len(b) > 0 {
			return nil, midFrame(err)
		}
		return nil, err
	}
	if len(b) < 2 || b[len(b)-2] != '\r' {
		return nil, protoErr("line not terminated by CRLF")
	}
	return b[:len(b)-2], nil
}

func (r *Reader) readBlob(typ byte, payload []byte) (Value, error) {
	n, err := parseInt(payload)
	if err != nil {
		return Value{}, err
	}
	if n == -1 && typ == '$' {
		return Value{Kind: KindNull}, nil
	}
	if n < 0 {
		return Value{}, protoErr("negative length %d", n)
	}
	if n > r.limits.MaxBulkLen {
		return Value{}, limitErr("bulk length %d exceeds the limit of %d", n, r.limits.MaxBulkLen)
	}
	if err := r.charge(n); err != nil {
		return Value{}, err
	}
	buf, err := r.readFull(int(n))
	if err != nil {
		return Value{}, midFrame(err)
	}
	if err := r.crlf(); err != nil {
		return Value{}, err
	}
	v := Value{Kind: KindBulkString, Str: bytesToString(buf)}
	switch typ {
	case '!':
		v.Kind = KindError
	case '=':
		if !hasFormat(v.Str) {
			return Value{}, protoErr("verbatim string without a format prefix")
		}
		v.Kind = KindVerbatim
	}
	return v, nil
}

// readFull reads n bytes into a fresh slice, trusting n for the allocation
// only up to eagerBulk.
func (r *Reader) readFull(n int) ([]byte, error) {
	if n <= eagerBulk {
		buf := makeNoZero(n)
		_, err := io.ReadFull(r.br, buf)
		return buf, err
	}
	buf := makeNoZero(eagerBulk)[:0]
	for len(buf) < n {
		chunk := min(n-len(buf), max(eagerBulk, len(buf)))
		buf = growNoZero(buf, chunk)
		got, err := io.ReadFull(r.br, buf[len(buf):len(buf)+chunk])
		buf = buf[:len(buf)+got]
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

func (r *Reader) crlf() error {
	c1, err := r.br.ReadByte()
	if err != nil {
		return midFrame(err)
	}
	c2, err := r.br.ReadByte()
	if err != nil {
		return midFrame(err)
	}
	if c1 != '\r' || c2 != '\n' {
		return protoErr("string not terminated by CRLF")
	}
	return nil
}

func (r *Reader) readAggregate(typ byte, payload []byte, depth int) (Value, error) {
	n, err := parseInt(payload)
	if err != nil {
		return Value{}, err
	}
	if n == -1 && typ == '*' {
		return Value{Kind: KindNull}, nil
	}
	if n < 0 {
		return Value{}, protoErr("negative length %d", n)
	}
	if n > r.limits.MaxAggregateLen {
		return Value{}, limitErr("aggregate length %d exceeds the limit of %d", n, r.limits.MaxAggregateLen)
	}
	if depth+1 > r.limits.MaxDepth {
		return Value{}, limitErr("nesting deeper than %d", r.limits.MaxDepth)
	}
	if typ == '%' {
		n *= 2
	}
	if n > r.budget/valueSize { // checked first: n*valueSize may overflow
		return Value{}, r.charge(r.budget + 1)
	}
	if err := r.charge(n * valueSize); err != nil {
		return Value{}, err
	}
	kind := KindArray
	switch typ {
	case '~':
		kind = KindSet
	case '>':
		kind = KindPush
	case '%':
		kind = KindMap
	}
	elems := make([]Value, 0, min(n, eagerAggregate))
	for i := int64(0); i < n; i++ {
		e, err := r.read(depth + 1)
		if err != nil {
			return Value{}, midFrame(err)
		}
		elems = append(elems, e)
	}
	return Value{Kind: kind, Elems: elems}, nil
}

// parseInt parses a RESP integer or length without allocating.
func parseInt(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 20 {
		return 0, protoErr("invalid integer %q", clip(b))
	}
	neg := b[0] == '-'
	digits := b
	if neg || b[0] == '+' {
		digits = b[1:]
	}
	if len(digits) == 0 {
		return 0, protoErr("invalid integer %q", clip(b))
	}
	var n uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, protoErr("invalid integer %q", clip(b))
		}
		next := n*10 + uint64(c-'0')
		if next/10 != n {
			return 0, protoErr("integer %q overflows int64", clip(b))
		}
		n = next
	}
	if neg {
		if n > 1<<63 {
			return 0, protoErr("integer %q overflows int64", clip(b))
		}
		return -int64(n), nil
	}
	if n > 1<<63-1 {
		return 0, protoErr("integer %q overflows int64", clip(b))
	}
	return int64(n), nil
}

// hasFormat reports whether a verbatim string's payload starts with its
// three-byte format and a colon, as in "txt:Some string".
func hasFormat(s string) bool {
	return len(s) >= 4 && s[3] == ':'
}

func isBigNumber[T string | []byte](b T) bool {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for i := 0; i < len(b); i++ {
		if b[i] < '0' || b[i] > '9' {
			return false
		}
	}
	return true
}

// simpleString returns the common status replies without allocating: nearly
// every write is answered +OK.
func simpleString(b []byte) string {
	switch string(b) { // the compiler does not allocate for this comparison
	case "OK":
		return "OK"
	case "PONG":
		return "PONG"
	case "QUEUED":
		return "QUEUED"
	}
	return string(b)
}

// clip shortens hostile input before it goes into an error message.
func clip(b []byte) string {
	const maxShown = 32
	if len(b) > maxShown {
		return string(b[:maxShown]) + "…"
	}
	return string(b)
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// bytesToString converts without copying; b must never be written again.
func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

package resp

import (
	"bufio"
	"bytes"
)

// Buffered returns how many bytes the Reader holds that it has read from the
// stream but not yet returned as values.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// Unasked reports whether the buffer holds the start of a value other than
// a push: bytes that, when no request is waiting, nobody asked for.
// It looks at the buffer alone, never reading the stream.
func (r *Reader) Unasked() bool {
	if r.br.Buffered() == 0 {
		return false
	}
	b, _ := r.br.Peek(1)
	return b[0] != '>'
}

// Ready reports whether Read can return at once, without reading the
// stream: a whole value is buffered, or enough of one to see that Read will
// refuse it (malformed, over the limits, or nested too deep). It consumes
// nothing.
func (r *Reader) Ready() bool {
	b, _ := r.br.Peek(r.br.Buffered())
	_, m := r.measure(b, 0, 0)
	return m != incomplete
}

// Fill reads once from the stream into the buffer, adding at least a byte
// unless it fails. It fails with bufio.ErrBufferFull when the buffer has no
// room left: the value being read is larger than the buffer, and only Read
// can take it. An error of the stream's leaves the buffer as it was, so
// Ready, Fill and Read can go on after it.
func (r *Reader) Fill() error {
	n := r.br.Buffered()
	if n == r.br.Size() {
		return bufio.ErrBufferFull
	}
	_, err := r.br.Peek(n + 1)
	return err
}

// measured is what measure found of a value.
type measured int

const (
	incomplete measured = iota // more bytes are needed
	whole                      // all of it is in the buffer
	refused                    // Read fails on what is buffered
)

// measure returns the offset just past the value starting at b[at], and
// whether b holds all of it. It mirrors read: whatever read refuses without
// reading further, measure calls refused.
func (r *Reader) measure(b []byte, at, depth int) (int, measured) {
	nl := bytes.IndexByte(b[at:], '\n')
	if nl < 0 {
		return 0, incomplete
	}
	if nl < 2 || b[at+nl-1] != '\r' {
		return 0, refused
	}
	next := at + nl + 1
	payload := b[at+1 : at+nl-1]
	switch b[at] {
	case '$', '!', '=':
		n, err := parseInt(payload)
		switch {
		case err != nil || n < -1 || (n == -1 && b[at] != '$') || n > r.limits.MaxBulkLen:
			return 0, refused
		case n == -1:
			return next, whole
		case n > int64(len(b)-next-2):
			return 0, incomplete
		}
		return next + int(n) + 2, whole
	case '*', '~', '>', '%', '|':
		n, err := parseInt(payload)
		switch {
		case err != nil || n < -1 || (n == -1 && b[at] != '*') || n > r.limits.MaxAggregateLen ||
			depth+1 > r.limits.MaxDepth || n > r.limits.MaxReplyBytes/valueSize:
			return 0, refused
		case n == -1:
			return next, whole
		}
		if b[at] == '%' || b[at] == '|' {
			n *= 2
		}
		if b[at] == '|' {
			n++ // the value the attributes describe follows them
		}
		for ; n > 0; n-- {
			end, m := r.measure(b, next, depth+1)
			if m != whole {
				return 0, m
			}
			next = end
		}
		return next, whole
	}
	return next, whole
}

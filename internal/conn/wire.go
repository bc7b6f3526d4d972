package conn

import (
	"io"
	"net"
	"strconv"
	"unsafe"
)

// bigArgBytes is the length from which an argument is not copied into the
// write buffer but written from its own memory (writev): copying a large
// value costs as much memory bandwidth as sending it, and a buffer grown to
// hold it.
const bigArgBytes = 16 << 10

// wireBatch is the bytes of one write: the commands' encoding in buf, except
// for their large arguments, which are referenced where they lie and written
// between buf's pieces. Offsets into it are wire offsets: what the kernel
// reports as written counts the referenced bytes too.
type wireBatch struct {
	buf  []byte
	bigs []bigArg // in wire order
	size int      // wire bytes: len(buf) plus every big argument's length

	store [][]byte    // the pieces of the last write, kept for reuse
	segs  net.Buffers // what WriteTo consumes: a view of store
}

// bigArg is an argument written from its own memory, after buf[:at].
type bigArg struct {
	at   int
	data []byte
}

// appendCommand encodes args as a RESP array of bulk strings and returns the
// wire offset at which it starts.
func (w *wireBatch) appendCommand(args []string) int {
	start := w.size
	before := len(w.buf)
	w.buf = appendWireHeader(w.buf, '*', len(args))
	for _, a := range args {
		w.buf = appendWireHeader(w.buf, '$', len(a))
		if len(a) >= bigArgBytes {
			// Strings are immutable, and the request holding a stays
			// referenced until the write is over: its bytes stay put.
			w.bigs = append(w.bigs, bigArg{at: len(w.buf), data: unsafe.Slice(unsafe.StringData(a), len(a))})
			w.size += len(a)
		} else {
			w.buf = append(w.buf, a...)
		}
		w.buf = append(w.buf, '\r', '\n')
	}
	w.size += len(w.buf) - before
	return start
}

func appendWireHeader(dst []byte, typ byte, n int) []byte {
	dst = append(dst, typ)
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, '\r', '\n')
}

// empty reports whether nothing was encoded since the last reset.
func (w *wireBatch) empty() bool { return w.size == 0 }

// bigLead is how much of the first big argument, when it is at least twice
// as long, goes in the same write as the bytes before it; the rest follows
// in a second write. Redis, handed
// the command's header with the start of a large argument, reads the rest
// straight into the argument's final memory: measured on Linux loopback, a
// 1 MiB SET so split is answered in about 55% of the time one writev of it
// takes (and a header written alone gains little).
const bigLead = 32 << 10

// writeTo writes the batch to w: the bytes before the first big argument
// with its first bigLead bytes, then the rest, each in one writev(2) where
// w is a socket (one write per piece where it is not, as under TLS). It
// returns how many of the batch's wire bytes were written.
func (w *wireBatch) writeTo(nc io.Writer) (int, error) {
	if len(w.bigs) == 0 {
		return nc.Write(w.buf)
	}
	w.store = w.store[:0]
	prev, first := 0, -1
	for _, b := range w.bigs {
		if b.at > prev {
			w.store = append(w.store, w.buf[prev:b.at])
		}
		if first < 0 {
			first = len(w.store)
		}
		w.store = append(w.store, b.data)
		prev = b.at
	}
	if prev < len(w.buf) {
		w.store = append(w.store, w.buf[prev:])
	}
	big := w.store[first]
	if len(big) < 2*bigLead {
		w.segs = w.store
		n, err := w.segs.WriteTo(nc)
		return int(n), err
	}
	w.store[first] = big[:bigLead]
	w.segs = w.store[:first+1]
	n, err := w.segs.WriteTo(nc)
	if err != nil {
		return int(n), err
	}
	w.store[first] = big[bigLead:]
	w.segs = w.store[first:]
	m, err := w.segs.WriteTo(nc)
	return int(n + m), err
}

// reset empties the batch for the next write, dropping its references to
// the requests' arguments and a buffer grown over maxKeptBuffer.
func (w *wireBatch) reset() {
	if cap(w.buf) > maxKeptBuffer {
		w.buf = nil
	}
	w.buf = w.buf[:0]
	clear(w.bigs)
	w.bigs = w.bigs[:0]
	clear(w.store)
	w.store = w.store[:0]
	w.segs = nil
	w.size = 0
}

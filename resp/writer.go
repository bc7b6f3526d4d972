package resp

import (
	"math"
	"strconv"
)

// AppendCommand appends args to dst as a RESP array of bulk strings, the form
// in which every command is sent to the server, and returns the extended
// buffer. It allocates only when dst must grow.
func AppendCommand(dst []byte, args []string) []byte {
	dst = appendHeader(dst, '*', int64(len(args)))
	for _, a := range args {
		dst = appendHeader(dst, '$', int64(len(a)))
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

func appendHeader(dst []byte, typ byte, n int64) []byte {
	dst = append(dst, typ)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, '\r', '\n')
}

// AppendValue appends the RESP3 encoding of v to dst. Strings that may hold
// CR or LF (simple strings, errors) are written as their blob forms when they
// do, so the output always reads back as v. A big number whose text is not an
// integer, or a verbatim string without its "fmt:" prefix, cannot be sent as
// such and is written as a bulk string. A map, or attributes, with an odd
// element out write only whole pairs, and a value of an unknown Kind writes
// nothing, so the output is always well framed. It is meant for servers and
// tests: clients send commands with AppendCommand.
func AppendValue(dst []byte, v Value) []byte {
	if v.Kind == KindInvalid || v.Kind > KindPush {
		return dst
	}
	if n := len(v.Attrs) / 2; n > 0 {
		dst = appendHeader(dst, '|', int64(n))
		for _, a := range v.Attrs[:2*n] {
			dst = AppendValue(dst, a)
		}
	}
	switch v.Kind {
	case KindSimpleString:
		if hasCRLF(v.Str) {
			return appendBlob(dst, '$', v.Str)
		}
		return appendLine(dst, '+', v.Str)
	case KindError:
		if hasCRLF(v.Str) {
			return appendBlob(dst, '!', v.Str)
		}
		return appendLine(dst, '-', v.Str)
	case KindInteger:
		return appendHeader(dst, ':', v.Int)
	case KindBulkString:
		return appendBlob(dst, '$', v.Str)
	case KindVerbatim:
		if !hasFormat(v.Str) {
			return appendBlob(dst, '$', v.Str)
		}
		return appendBlob(dst, '=', v.Str)
	case KindBigNumber:
		if !isBigNumber(v.Str) {
			return appendBlob(dst, '$', v.Str)
		}
		return appendLine(dst, '(', v.Str)
	case KindDouble:
		dst = append(dst, ',')
		switch {
		case math.IsInf(v.Float, 1):
			dst = append(dst, "inf"...)
		case math.IsInf(v.Float, -1):
			dst = append(dst, "-inf"...)
		case math.IsNaN(v.Float):
			dst = append(dst, "nan"...)
		default:
			dst = strconv.AppendFloat(dst, v.Float, 'g', -1, 64)
		}
		return append(dst, '\r', '\n')
	case KindBoolean:
		if v.Int != 0 {
			return append(dst, "#t\r\n"...)
		}
		return append(dst, "#f\r\n"...)
	case KindNull:
		return append(dst, "_\r\n"...)
	case KindArray, KindSet, KindPush, KindMap:
		typ, n := byte('*'), len(v.Elems)
		switch v.Kind {
		case KindSet:
			typ = '~'
		case KindPush:
			typ = '>'
		case KindMap:
			typ, n = '%', n/2
		}
		dst = appendHeader(dst, typ, int64(n))
		for _, e := range v.Elems[:elemCount(v.Kind, n)] {
			dst = AppendValue(dst, e)
		}
		return dst
	}
	return dst
}

// elemCount is how many elements an aggregate of n entries writes: a map
// with an odd element out writes only whole pairs.
func elemCount(k Kind, n int) int {
	if k == KindMap {
		return 2 * n
	}
	return n
}

func appendLine(dst []byte, typ byte, s string) []byte {
	dst = append(dst, typ)
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

func appendBlob(dst []byte, typ byte, s string) []byte {
	dst = appendHeader(dst, typ, int64(len(s)))
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

func hasCRLF(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			return true
		}
	}
	return false
}

package resp

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Kind says which RESP type a Value holds.
type Kind uint8

// The RESP types. RESP2 has simple strings, errors, integers, bulk strings and
// arrays; the rest are RESP3. Null covers RESP3's null and RESP2's null bulk
// string and null array.
const (
	KindInvalid      Kind = iota
	KindSimpleString      // +
	KindError             // - and ! (blob error)
	KindInteger           // :
	KindBulkString        // $
	KindArray             // *
	KindNull              // _ , $-1 and *-1
	KindDouble            // ,
	KindBoolean           // #
	KindBigNumber         // (
	KindVerbatim          // =
	KindMap               // %
	KindSet               // ~
	KindPush              // >
)

var kindNames = [...]string{
	KindInvalid: "invalid", KindSimpleString: "simple-string", KindError: "error",
	KindInteger: "integer", KindBulkString: "bulk-string", KindArray: "array",
	KindNull: "null", KindDouble: "double", KindBoolean: "boolean",
	KindBigNumber: "big-number", KindVerbatim: "verbatim-string", KindMap: "map",
	KindSet: "set", KindPush: "push",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one RESP value. Only the fields that belong to its Kind are set.
type Value struct {
	Kind Kind
	// Str holds the text of simple and bulk strings, errors and big numbers.
	// For verbatim strings it holds the three-letter format, a colon, then the
	// text, as sent; Text returns the text alone.
	Str string
	// Int holds integers, and booleans as 0 or 1.
	Int int64
	// Float holds doubles.
	Float float64
	// Elems holds the elements of arrays, sets and pushes. For maps, keys and
	// values alternate: Elems[0] is the first key, Elems[1] its value.
	Elems []Value
	// Attrs holds the RESP3 attributes the server sent ahead of this value,
	// keys and values alternating like a map's Elems; nil when there were none.
	Attrs []Value
}

// ErrNil is returned by Value's accessors when the value is a null.
var ErrNil = errors.New("resp: nil reply")

// ErrType is returned (wrapped) by Value's accessors when the value's kind
// cannot be converted to the requested Go type.
var ErrType = errors.New("resp: unexpected reply type")

func (v Value) typeError(want string) error {
	if v.Kind == KindNull {
		return ErrNil
	}
	if v.Kind == KindError {
		return v.Err()
	}
	return fmt.Errorf("%w: want %s, got %s", ErrType, want, v.Kind)
}

// IsNull reports whether v is a null (RESP3 null, or RESP2 null bulk string or array).
func (v Value) IsNull() bool { return v.Kind == KindNull }

// Err returns v as an *Error when it is an error reply, and nil otherwise.
func (v Value) Err() error {
	if v.Kind != KindError {
		return nil
	}
	return ParseError(v.Str)
}

// Text returns the text of a string-like value: simple, bulk and verbatim
// strings, big numbers, and the decimal form of integers and doubles.
func (v Value) Text() (string, error) {
	switch v.Kind {
	case KindSimpleString, KindBulkString, KindBigNumber:
		return v.Str, nil
	case KindVerbatim:
		if len(v.Str) >= 4 && v.Str[3] == ':' {
			return v.Str[4:], nil
		}
		return v.Str, nil
	case KindInteger:
		return strconv.FormatInt(v.Int, 10), nil
	case KindDouble:
		return strconv.FormatFloat(v.Float, 'g', -1, 64), nil
	}
	return "", v.typeError("string")
}

// Int64 returns an integer, a boolean as 0 or 1, or a string holding a
// decimal integer (Redis sends many numbers as bulk strings).
func (v Value) Int64() (int64, error) {
	switch v.Kind {
	case KindInteger, KindBoolean:
		return v.Int, nil
	case KindSimpleString, KindBulkString, KindBigNumber:
		n, err := strconv.ParseInt(v.Str, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: %q is not an integer", ErrType, v.Str)
		}
		return n, nil
	}
	return 0, v.typeError("integer")
}

// Float64 returns a double, an integer, or a string holding a number.
func (v Value) Float64() (float64, error) {
	switch v.Kind {
	case KindDouble:
		return v.Float, nil
	case KindInteger:
		return float64(v.Int), nil
	case KindSimpleString, KindBulkString, KindBigNumber:
		f, err := strconv.ParseFloat(v.Str, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: %q is not a number", ErrType, v.Str)
		}
		return f, nil
	}
	return 0, v.typeError("number")
}

// Bool returns a boolean, an integer as non-zero, or the simple string OK as true.
func (v Value) Bool() (bool, error) {
	switch v.Kind {
	case KindBoolean, KindInteger:
		return v.Int != 0, nil
	case KindSimpleString:
		return v.Str == "OK", nil
	}
	return false, v.typeError("boolean")
}

// BigInt returns a big number, an integer, or a string holding an integer.
func (v Value) BigInt() (*big.Int, error) {
	switch v.Kind {
	case KindInteger:
		return big.NewInt(v.Int), nil
	case KindBigNumber, KindSimpleString, KindBulkString:
		n, ok := new(big.Int).SetString(v.Str, 10)
		if !ok {
			return nil, fmt.Errorf("%w: %q is not an integer", ErrType, v.Str)
		}
		return n, nil
	}
	return nil, v.typeError("big number")
}

// Slice returns the elements of an array, set or push, or a map's keys and
// values alternating.
func (v Value) Slice() ([]Value, error) {
	switch v.Kind {
	case KindArray, KindSet, KindPush, KindMap:
		return v.Elems, nil
	}
	return nil, v.typeError("aggregate")
}

// Strings returns the elements of an aggregate as strings; null elements
// become "".
func (v Value) Strings() ([]string, error) {
	elems, err := v.Slice()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(elems))
	for i, e := range elems {
		if e.Kind == KindNull {
			continue
		}
		if out[i], err = e.Text(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Bytes returns Text as a new []byte.
func (v Value) Bytes() ([]byte, error) {
	s, err := v.Text()
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// Int64s returns the elements of an aggregate as integers (see Int64); a
// null element is ErrNil.
func (v Value) Int64s() ([]int64, error) { return ConvertElems(v, Value.Int64) }

// Float64s returns the elements of an aggregate as numbers (see Float64); a
// null element is ErrNil.
func (v Value) Float64s() ([]float64, error) { return ConvertElems(v, Value.Float64) }

// Bools returns the elements of an aggregate as booleans (see Bool); a null
// element is ErrNil.
func (v Value) Bools() ([]bool, error) { return ConvertElems(v, Value.Bool) }

// ConvertElems returns the elements of an aggregate, each converted with
// convert (Value.Text, Value.Int64, or a function of the caller's for
// replies of nested arrays). It stops at the first element that fails, and
// its error says which element it was.
func ConvertElems[T any](v Value, convert func(Value) (T, error)) ([]T, error) {
	elems, err := v.Slice()
	if err != nil {
		return nil, err
	}
	out := make([]T, len(elems))
	for i, e := range elems {
		if out[i], err = convert(e); err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
	}
	return out, nil
}

// Pairs returns the keys and values of a map, alternating, the way commands
// send them in either protocol: a RESP3 map, a flat array of keys and values
// alternating (RESP2), or an array of [key value] arrays (RESP3's form of
// some replies, such as HRANDFIELD … WITHVALUES).
func (v Value) Pairs() ([]Value, error) {
	elems, err := v.Slice()
	if err != nil {
		return nil, err
	}
	if v.Kind == KindMap || len(elems) == 0 || elems[0].Kind != KindArray {
		if len(elems)%2 != 0 {
			return nil, fmt.Errorf("%w: %d elements, want key/value pairs", ErrType, len(elems))
		}
		return elems, nil
	}
	flat := make([]Value, 0, 2*len(elems))
	for _, pair := range elems {
		if pair.Kind != KindArray || len(pair.Elems) != 2 {
			return nil, fmt.Errorf("%w: want a [key value] pair, got %s", ErrType, pair)
		}
		flat = append(flat, pair.Elems...)
	}
	return flat, nil
}

// StringMap returns the keys and values of a map (in any form Pairs takes)
// as strings; a null value becomes "".
func (v Value) StringMap() (map[string]string, error) {
	kv, err := v.Pairs()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, err := kv[i].Text()
		if err != nil {
			return nil, err
		}
		var val string
		if !kv[i+1].IsNull() {
			if val, err = kv[i+1].Text(); err != nil {
				return nil, fmt.Errorf("value of %q: %w", k, err)
			}
		}
		out[k] = val
	}
	return out, nil
}

// String formats v for people, in the style of redis-cli. It is meant for
// logs and debugging; use Text to get a string reply's content.
func (v Value) String() string {
	var b strings.Builder
	v.format(&b)
	return b.String()
}

func (v Value) format(b *strings.Builder) {
	switch v.Kind {
	case KindSimpleString, KindBigNumber:
		b.WriteString(v.Str)
	case KindBulkString, KindVerbatim:
		t, _ := v.Text()
		b.WriteString(strconv.Quote(t))
	case KindError:
		b.WriteString("(error) ")
		b.WriteString(v.Str)
	case KindInteger:
		b.WriteString(strconv.FormatInt(v.Int, 10))
	case KindDouble:
		b.WriteString(strconv.FormatFloat(v.Float, 'g', -1, 64))
	case KindBoolean:
		b.WriteString(strconv.FormatBool(v.Int != 0))
	case KindNull:
		b.WriteString("(nil)")
	case KindArray, KindSet, KindPush, KindMap:
		open, sep := "[", " "
		switch v.Kind {
		case KindSet:
			open = "~["
		case KindPush:
			open = ">["
		case KindMap:
			open = "{"
		}
		b.WriteString(open)
		for i, e := range v.Elems {
			if i > 0 {
				if v.Kind == KindMap && i%2 == 1 {
					b.WriteString(": ")
				} else {
					b.WriteString(sep)
				}
			}
			e.format(b)
		}
		if v.Kind == KindMap {
			b.WriteString("}")
		} else {
			b.WriteString("]")
		}
	default:
		b.WriteString("(invalid)")
	}
}

package keel

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/keel-go/keel/resp"
)

// ScanStruct copies a map reply — HGETALL's, or any reply Value.Pairs takes
// — into the struct dst points to, the way encoding/json fills a struct:
//
//   - a field tagged `redis:"name"` gets the value of the hash field name
//     (anything after a comma in the tag is ignored); untagged fields, fields
//     tagged `redis:"-"` and unexported fields are left alone, and so are
//     tagged fields the reply lacks; hash fields no struct field names are
//     ignored. Fields of embedded structs count as the struct's own.
//   - the value is converted to the field's type: string; []byte (a copy);
//     bool (as strconv.ParseBool reads it: 1, 0, true, false…); signed and
//     unsigned integers, and floats, in decimal (what keel sends for Go
//     numbers); time.Duration in Go's syntax ("1m30s", as
//     time.ParseDuration); time.Time in RFC 3339; any other type
//     implementing encoding.BinaryUnmarshaler (which reads back what keel
//     sent for an encoding.BinaryMarshaler) or encoding.TextUnmarshaler; a
//     pointer to one of these, allocated when nil.
//
// A value that does not convert fails with an error naming the struct field
// and the hash field, matching resp.ErrType; the fields before it in the
// struct have been set. A dst that is not a non-nil pointer to a struct, or
// a struct with a tagged field of a type ScanStruct cannot fill, fails with
// ErrArgument. A null reply is ErrNil; a server error passes through.
func ScanStruct(v Value, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("%w: ScanStruct into %T: want a non-nil pointer to a struct", ErrArgument, dst)
	}
	p, err := planFor(rv.Elem().Type())
	if err != nil {
		return err
	}
	return p.scan(v, rv.Elem())
}

// HGetAllAs builds HGETALL key with its reply read into a T, a struct whose
// fields are tagged as ScanStruct describes:
//
//	type User struct {
//		Name  string        `redis:"name"`
//		Age   int           `redis:"age"`
//		Admin bool          `redis:"admin"`
//		Idle  time.Duration `redis:"idle"`
//	}
//	u, err := keel.Run(ctx, client, keel.HGetAllAs[User]("user:42"))
//
// A missing key, like an empty hash, gives the zero T. A T that is not a
// struct, or has a tagged field of a type ScanStruct cannot fill, is
// ErrArgument.
func HGetAllAs[T any](key string) Cmd[T] {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		return failedCmd[T]("HGETALL", fmt.Errorf("%w: HGetAllAs[%s]: want a struct type", ErrArgument, t))
	}
	p, err := planFor(t)
	if err != nil {
		return failedCmd[T]("HGETALL", err)
	}
	return newCmd(func(v Value, err error) (T, error) {
		var out T
		if err != nil {
			return out, err
		}
		return out, p.scan(v, reflect.ValueOf(&out).Elem())
	}, "HGETALL", key)
}

// scanPlan is how ScanStruct fills one struct type: its tagged fields by
// hash field name.
type scanPlan struct {
	typ    reflect.Type
	fields map[string]scanField
}

type scanField struct {
	name  string // the Go field's name, for errors
	index []int
	set   func(dst reflect.Value, s string) error
}

var scanPlans sync.Map // reflect.Type → *scanPlan, or error

func planFor(t reflect.Type) (*scanPlan, error) {
	if p, ok := scanPlans.Load(t); ok {
		if err, bad := p.(error); bad {
			return nil, err
		}
		return p.(*scanPlan), nil
	}
	p, err := buildPlan(t)
	if err != nil {
		scanPlans.Store(t, err)
		return nil, err
	}
	scanPlans.Store(t, p)
	return p, nil
}

func buildPlan(t reflect.Type) (*scanPlan, error) {
	p := &scanPlan{typ: t, fields: map[string]scanField{}}
	for _, f := range reflect.VisibleFields(t) {
		tag, _, _ := strings.Cut(f.Tag.Get("redis"), ",")
		if tag == "" || tag == "-" || !f.IsExported() || f.Anonymous || throughPointer(t, f.Index) {
			continue
		}
		set, err := setterFor(f.Type)
		if err != nil {
			return nil, fmt.Errorf("%w: %s.%s (redis:%q): %w", ErrArgument, t, f.Name, tag, err)
		}
		p.fields[tag] = scanField{name: f.Name, index: f.Index, set: set}
	}
	return p, nil
}

// throughPointer reports whether the field at index is promoted from an
// embedded pointer, which ScanStruct leaves alone rather than allocate.
func throughPointer(t reflect.Type, index []int) bool {
	for _, i := range index[:len(index)-1] {
		f := t.Field(i)
		if f.Type.Kind() == reflect.Pointer {
			return true
		}
		t = f.Type
	}
	return false
}

func (p *scanPlan) scan(v Value, dst reflect.Value) error {
	kv, err := v.Pairs()
	if err != nil {
		return err
	}
	for i := 0; i < len(kv); i += 2 {
		name, err := kv[i].Text()
		if err != nil {
			return err
		}
		f, ok := p.fields[name]
		if !ok || kv[i+1].IsNull() {
			continue
		}
		s, err := kv[i+1].Text()
		if err == nil {
			err = f.set(dst.FieldByIndex(f.index), s)
		}
		if err != nil {
			return fmt.Errorf("keel: scan hash field %q into %s.%s: %w", name, p.typ, f.name, err)
		}
	}
	return nil
}

var (
	durationType          = reflect.TypeFor[time.Duration]()
	timeType              = reflect.TypeFor[time.Time]()
	binaryUnmarshalerType = reflect.TypeFor[encoding.BinaryUnmarshaler]()
	textUnmarshalerType   = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// setterFor returns how a string is stored in a field of type t.
func setterFor(t reflect.Type) (func(reflect.Value, string) error, error) {
	pt := reflect.PointerTo(t)
	switch {
	case t == durationType:
		return func(dst reflect.Value, s string) error {
			d, err := time.ParseDuration(s)
			if err == nil {
				dst.SetInt(int64(d))
			}
			return typeErr(err)
		}, nil
	case t == timeType, pt.Implements(textUnmarshalerType) && !pt.Implements(binaryUnmarshalerType):
		return func(dst reflect.Value, s string) error {
			return typeErr(dst.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)))
		}, nil
	case pt.Implements(binaryUnmarshalerType):
		return func(dst reflect.Value, s string) error {
			return typeErr(dst.Addr().Interface().(encoding.BinaryUnmarshaler).UnmarshalBinary([]byte(s)))
		}, nil
	}
	switch t.Kind() {
	case reflect.String:
		return func(dst reflect.Value, s string) error { dst.SetString(s); return nil }, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return func(dst reflect.Value, s string) error { dst.SetBytes([]byte(s)); return nil }, nil
		}
	case reflect.Bool:
		return func(dst reflect.Value, s string) error {
			b, err := strconv.ParseBool(s)
			if err == nil {
				dst.SetBool(b)
			}
			return typeErr(err)
		}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(dst reflect.Value, s string) error {
			n, err := strconv.ParseInt(s, 10, t.Bits())
			if err == nil {
				dst.SetInt(n)
			}
			return typeErr(err)
		}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(dst reflect.Value, s string) error {
			n, err := strconv.ParseUint(s, 10, t.Bits())
			if err == nil {
				dst.SetUint(n)
			}
			return typeErr(err)
		}, nil
	case reflect.Float32, reflect.Float64:
		return func(dst reflect.Value, s string) error {
			f, err := strconv.ParseFloat(s, t.Bits())
			if err == nil {
				dst.SetFloat(f)
			}
			return typeErr(err)
		}, nil
	case reflect.Pointer:
		set, err := setterFor(t.Elem())
		if err != nil {
			return nil, err
		}
		return func(dst reflect.Value, s string) error {
			if dst.IsNil() {
				dst.Set(reflect.New(t.Elem()))
			}
			return set(dst.Elem(), s)
		}, nil
	}
	return nil, fmt.Errorf("unsupported field type %s", t)
}

// typeErr maps a conversion's error (strconv's quotes the value; an
// Unmarshal method's is the type's own) to one matching resp.ErrType, the
// original still matchable too.
func typeErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", resp.ErrType, err)
}

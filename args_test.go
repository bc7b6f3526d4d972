package keel

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

type marshalled struct{ s string }

func (m marshalled) MarshalBinary() ([]byte, error) { return []byte("m:" + m.s), nil }

type failingMarshaler struct{}

func (*failingMarshaler) MarshalBinary() ([]byte, error) { return nil, errors.New("boom") }

func TestArgString(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{"text", "text"},
		{[]byte("bytes"), "bytes"},
		{[]byte{}, ""},
		{42, "42"},
		{int8(-8), "-8"},
		{int16(-16), "-16"},
		{int32(-32), "-32"},
		{int64(math.MinInt64), "-9223372036854775808"},
		{uint(7), "7"},
		{uint8(8), "8"},
		{uint16(16), "16"},
		{uint32(32), "32"},
		{uint64(math.MaxUint64), "18446744073709551615"},
		{1.5, "1.5"},
		{float32(0.25), "0.25"},
		{math.Inf(1), "+inf"},
		{math.Inf(-1), "-inf"},
		{true, "1"},
		{false, "0"},
		{marshalled{"x"}, "m:x"},
		{&marshalled{"p"}, "m:p"},
	} {
		got, err := argString(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("argString(%#v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestArgStringRefuses(t *testing.T) {
	for _, in := range []any{nil, time.Second, time.Now(), struct{}{}, []string{"a"}, map[string]string{}, &failingMarshaler{}} {
		if s, err := argString(in); !errors.Is(err, ErrArgument) {
			t.Errorf("argString(%#v) = %q, %v; want ErrArgument", in, s, err)
		}
	}
}

func TestByteArgumentIsNotCopied(t *testing.T) {
	b := []byte("shared")
	s, err := argString(b)
	if err != nil {
		t.Fatal(err)
	}
	b[0] = 'S' // the string sees the caller's bytes: no copy was made
	if s != "Shared" {
		t.Fatalf("argString copied the []byte: got %q", s)
	}
}

func TestCmdBuildErrors(t *testing.T) {
	for name, cmd := range map[string]interface{ Err() error }{
		"Command()":        Command(),
		"Command(nil)":     Command("SET", "k", nil),
		"Set(k, struct{})": Set("k", struct{}{}),
		"MGet()":           MGet(),
		"MSet(odd)":        MSet("k"),
	} {
		err := cmd.Err()
		if !errors.Is(err, ErrArgument) {
			t.Errorf("%s: Err() = %v, want ErrArgument", name, err)
		}
		if msg := err.Error(); strings.Count(msg, "keel: ") != 1 || !strings.HasPrefix(msg, "keel: ") {
			t.Errorf("%s: Err() reads %q, want one leading \"keel: \"", name, msg)
		}
	}
	if got, want := Command("SET", "k", nil).Err().Error(), "keel: SET: bad argument: nil (argument 2)"; got != want {
		t.Errorf("Command(SET k nil).Err() = %q, want %q", got, want)
	}
	ok := Set("k", 12)
	if err := ok.Err(); err != nil {
		t.Fatalf("Set(k, 12).Err() = %v", err)
	}
	if got := ok.Args(); len(got) != 3 || got[2] != "12" {
		t.Fatalf("Set(k, 12).Args() = %q", got)
	}
}

func TestFutureBeforeRun(t *testing.T) {
	f := Queue(&Pipeline{}, Get("k"))
	if _, err := f.Result(); !errors.Is(err, ErrNotRun) {
		t.Fatalf("Result before Exec = %v, want ErrNotRun", err)
	}
	if err := f.Err(); !errors.Is(err, ErrNotRun) {
		t.Fatalf("Err before Exec = %v, want ErrNotRun", err)
	}
}

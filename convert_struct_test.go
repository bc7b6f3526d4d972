package keel

import (
	"errors"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keel-go/keel/resp"
)

// celsius reads back what its MarshalBinary wrote: a BinaryUnmarshaler.
type celsius float64

func (c *celsius) UnmarshalBinary(b []byte) error {
	s, ok := strings.CutSuffix(string(b), "C")
	if !ok {
		return errors.New("no unit")
	}
	f, err := strconv.ParseFloat(s, 64)
	*c = celsius(f)
	return err
}

type Base struct {
	ID int64 `redis:"id"`
}

type scanTarget struct {
	Base
	Name     string         `redis:"name"`
	Raw      []byte         `redis:"raw"`
	Age      int8           `redis:"age"`
	Visits   uint32         `redis:"visits"`
	Ratio    float32        `redis:"ratio"`
	Admin    bool           `redis:"admin"`
	Idle     time.Duration  `redis:"idle"`
	Seen     time.Time      `redis:"seen,omitempty"`
	Temp     celsius        `redis:"temp"`
	Addr     netip.Addr     `redis:"addr"` // Text and Binary: binary wins
	Big      *big.Int       `redis:"big"`  // a pointer, allocated
	Nick     *string        `redis:"nick"`
	Untagged string         // left alone
	Skipped  string         `redis:"-"`
	private  string         `redis:"private"` //lint:ignore U1000 tested: unexported fields are left alone
	Funcs    map[string]int `redis:"-"`       // an unsupported type is fine when skipped
}

func TestScanStruct(t *testing.T) {
	seen := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	addr := netip.MustParseAddr("10.1.2.3")
	addrBin, _ := addr.MarshalBinary()
	reply := respMap(
		bulk("id"), bulk("7"), bulk("name"), bulk("ada"), bulk("raw"), bulk("\x00\x01"),
		bulk("age"), bulk("-12"), bulk("visits"), bulk("4000000000"), bulk("ratio"), bulk("0.5"),
		bulk("admin"), bulk("1"), bulk("idle"), bulk("1m30s"), bulk("seen"), bulk(seen.Format(time.RFC3339)),
		bulk("temp"), bulk("21.5C"), bulk("addr"), bulk(string(addrBin)),
		bulk("big"), bulk("123456789012345678901234567890"), bulk("nick"), bulk("a"),
		bulk("Untagged"), bulk("x"), bulk("Skipped"), bulk("x"), bulk("-"), bulk("x"), bulk("private"), bulk("x"),
		bulk("unknown"), bulk("x"),
	)
	var got scanTarget
	got.Untagged = "kept"
	if err := ScanStruct(reply, &got); err != nil {
		t.Fatal(err)
	}
	want := scanTarget{
		Base: Base{ID: 7}, Name: "ada", Raw: []byte{0, 1}, Age: -12, Visits: 4000000000, Ratio: 0.5,
		Admin: true, Idle: 90 * time.Second, Seen: seen, Temp: 21.5, Addr: addr, Untagged: "kept",
	}
	if got.Big == nil || got.Big.String() != "123456789012345678901234567890" || got.Nick == nil || *got.Nick != "a" {
		t.Errorf("pointer fields: Big %v, Nick %v", got.Big, got.Nick)
	}
	got.Big, got.Nick = nil, nil
	if string(got.Raw) != string(want.Raw) {
		t.Errorf("Raw = %q, want %q", got.Raw, want.Raw)
	}
	got.Raw = want.Raw
	if !got.Seen.Equal(want.Seen) {
		t.Errorf("Seen = %v, want %v", got.Seen, want.Seen)
	}
	got.Seen = want.Seen
	if got.Name != want.Name || got.ID != want.ID || got.Age != want.Age || got.Visits != want.Visits ||
		got.Ratio != want.Ratio || got.Admin != want.Admin || got.Idle != want.Idle || got.Temp != want.Temp ||
		got.Addr != want.Addr || got.Untagged != want.Untagged || got.Skipped != "" || got.private != "" {
		t.Errorf("ScanStruct = %+v\nwant %+v", got, want)
	}

	// The RESP2 form and the pairs form read the same; null values are skipped.
	var flat scanTarget
	flat.Name = "kept"
	if err := ScanStruct(array(bulk("age"), bulk("3"), bulk("name"), null), &flat); err != nil || flat.Age != 3 || flat.Name != "kept" {
		t.Errorf("ScanStruct(flat) = %+v, %v", flat, err)
	}
	var pairs scanTarget
	if err := ScanStruct(array(array(bulk("age"), bulk("4"))), &pairs); err != nil || pairs.Age != 4 {
		t.Errorf("ScanStruct(pairs) = %+v, %v", pairs, err)
	}
}

func TestScanStructErrors(t *testing.T) {
	// A value that does not convert names both fields and matches ErrType.
	for field, value := range map[string]string{
		"age": "300", "visits": "-1", "ratio": "x", "admin": "yes", "idle": "90",
		"seen": "yesterday", "temp": "21.5", "big": "1.5", "id": "",
	} {
		var dst scanTarget
		err := ScanStruct(respMap(bulk(field), bulk(value)), &dst)
		if !errors.Is(err, resp.ErrType) || !strings.Contains(err.Error(), strconv.Quote(field)) || !strings.Contains(err.Error(), "scanTarget.") {
			t.Errorf("ScanStruct(%s=%q): err = %v, want ErrType naming the fields", field, value, err)
		}
	}

	// Bad destinations and struct types are ErrArgument.
	type unsupported struct {
		M map[string]int `redis:"m"`
	}
	var s scanTarget
	for _, dst := range []any{nil, s, (*scanTarget)(nil), new(int), &unsupported{}} {
		if err := ScanStruct(respMap(), dst); !errors.Is(err, ErrArgument) {
			t.Errorf("ScanStruct into %T: err = %v, want ErrArgument", dst, err)
		}
	}
	bad := HGetAllAs[unsupported]("k")
	if err := bad.Err(); !errors.Is(err, ErrArgument) || !strings.Contains(err.Error(), "unsupported.M") {
		t.Errorf("HGetAllAs[unsupported]: err = %v, want ErrArgument naming the field", err)
	}
	notStruct := HGetAllAs[int]("k")
	if err := notStruct.Err(); !errors.Is(err, ErrArgument) {
		t.Errorf("HGetAllAs[int]: err = %v, want ErrArgument", err)
	}

	// Replies that are not maps.
	if err := ScanStruct(null, &s); !errors.Is(err, ErrNil) {
		t.Errorf("ScanStruct(null): err = %v, want ErrNil", err)
	}
	if err := ScanStruct(array(bulk("odd")), &s); !errors.Is(err, resp.ErrType) {
		t.Errorf("ScanStruct(odd): err = %v, want ErrType", err)
	}
	if err := ScanStruct(bulk("x"), &s); !errors.Is(err, resp.ErrType) {
		t.Errorf("ScanStruct(string): err = %v, want ErrType", err)
	}
}

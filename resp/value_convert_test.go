package resp_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/keel-go/keel/resp"
)

func TestBytes(t *testing.T) {
	for _, v := range []resp.Value{bulk("ab"), simple("ab"), verbatim("txt:ab")} {
		got, err := v.Bytes()
		if err != nil || string(got) != "ab" {
			t.Errorf("Bytes of %v = %q, %v; want ab", v, got, err)
		}
	}
	got, err := integer(42).Bytes()
	if err != nil || string(got) != "42" {
		t.Errorf("Bytes of 42 = %q, %v", got, err)
	}
	_, err = null().Bytes()
	checkErr(t, "Bytes", null(), err, resp.ErrNil)
	_, err = array().Bytes()
	checkErr(t, "Bytes", array(), err, resp.ErrType)
}

func TestNumberSlices(t *testing.T) {
	ints, err := array(integer(1), bulk("-2"), boolean(true)).Int64s()
	if err != nil || !slices.Equal(ints, []int64{1, -2, 1}) {
		t.Errorf("Int64s = %v, %v", ints, err)
	}
	floats, err := set(double(1.5), bulk("inf"), integer(3)).Float64s()
	if err != nil || fmt.Sprint(floats) != "[1.5 +Inf 3]" {
		t.Errorf("Float64s = %v, %v", floats, err)
	}
	bools, err := array(integer(1), integer(0), boolean(true)).Bools()
	if err != nil || !slices.Equal(bools, []bool{true, false, true}) {
		t.Errorf("Bools = %v, %v", bools, err)
	}
	for _, tt := range []struct {
		v    resp.Value
		want error
	}{
		{array(integer(1), null()), resp.ErrNil},
		{array(bulk("x")), resp.ErrType},
		{bulk("1"), resp.ErrType},
		{null(), resp.ErrNil},
	} {
		_, err := tt.v.Int64s()
		if !errors.Is(err, tt.want) {
			t.Errorf("Int64s of %v: err %v, want %v", tt.v, err, tt.want)
		}
	}
}

func TestPairsAndStringMap(t *testing.T) {
	want := "map[a:1 b:]"
	for _, v := range []resp.Value{
		rmap(bulk("a"), integer(1), bulk("b"), null()),               // RESP3 map
		array(bulk("a"), bulk("1"), bulk("b"), null()),               // RESP2 flat
		array(array(bulk("a"), bulk("1")), array(bulk("b"), null())), // RESP3 pairs
	} {
		m, err := v.StringMap()
		if err != nil || fmt.Sprint(m) != want {
			t.Errorf("StringMap of %v = %v, %v; want %s", v, m, err, want)
		}
	}
	m, err := array().StringMap()
	if err != nil || len(m) != 0 {
		t.Errorf("StringMap of [] = %v, %v", m, err)
	}
	for _, v := range []resp.Value{
		array(bulk("a")),
		array(array(bulk("a"))),
		array(array(bulk("a"), bulk("1")), bulk("b")),
		array(array(), bulk("x")),
		rmap(array(), bulk("x")),
	} {
		if _, err := v.StringMap(); !errors.Is(err, resp.ErrType) {
			t.Errorf("StringMap of %v: err %v, want ErrType", v, err)
		}
	}
	_, err = null().Pairs()
	checkErr(t, "Pairs", null(), err, resp.ErrNil)
}

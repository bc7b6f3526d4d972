package keel

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/keel-go/keel/resp"
)

// Hand-built replies of both protocols for the stream, geo and bitfield
// conversions: the cluster under test speaks RESP3 only.

func xint(n int64) Value { return Value{Kind: resp.KindInteger, Int: n} }

func entry(id string, fv ...string) Value {
	fields := make([]Value, len(fv))
	for i, s := range fv {
		fields[i] = bulk(s)
	}
	return array(bulk(id), array(fields...))
}

func wantEqual(t *testing.T, what string, got, want any, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v\nwant %+v", what, got, want)
	}
}

func TestConvertStreamReplies(t *testing.T) {
	msgs := []XMessage{
		{ID: "1-0", Fields: []XField{{"a", "1"}, {"b", "2"}, {"a", "3"}}},
		{ID: "2-0", Deleted: true},
	}
	entries := array(entry("1-0", "a", "1", "b", "2", "a", "3"), array(bulk("2-0"), null))
	got, err := toMessages(entries, nil)
	wantEqual(t, "toMessages", got, msgs, err)
	if v, ok := got[0].Get("a"); !ok || v != "1" {
		t.Errorf("Get(a) = %q, %v; want the first value", v, ok)
	}
	if _, ok := got[0].Get("z"); ok {
		t.Error("Get(z) found a missing field")
	}
	wantEqual(t, "Map", got[0].Map(), map[string]string{"a": "3", "b": "2"}, nil)

	// XREAD: a map in RESP3, an array of pairs in RESP2.
	streams := []XStream{{"s1", msgs[:1]}, {"s2", []XMessage{}}}
	for name, v := range map[string]Value{
		"RESP3": respMap(bulk("s1"), array(entries.Elems[0]), bulk("s2"), array()),
		"RESP2": array(array(bulk("s1"), array(entries.Elems[0])), array(bulk("s2"), array())),
	} {
		got, err := toStreams(v, nil)
		wantEqual(t, "toStreams "+name, got, streams, err)
	}
	if got, err := toStreams(null, nil); err != nil || got != nil {
		t.Errorf("toStreams(null) = %v, %v; want none", got, err)
	}
	for _, bad := range []Value{array(bulk("s1")), array(array(bulk("s1"), array(bulk("1-0")))), bulk("x")} {
		if _, err := toStreams(bad, nil); !errors.Is(err, resp.ErrType) {
			t.Errorf("toStreams(%v) err = %v, want ErrType", bad, err)
		}
	}
	if _, err := toMessages(array(entry("1-0", "odd")), nil); !errors.Is(err, resp.ErrType) {
		t.Errorf("toMessages(odd fields) err = %v, want ErrType", err)
	}

	// XAUTOCLAIM: Redis 7 adds the deleted IDs.
	ac, err := toAutoClaim(array(bulk("0-0"), array(entry("1-0", "f", "v")), array(bulk("3-0"))), nil)
	wantEqual(t, "toAutoClaim", ac, XAutoClaimResult{Next: "0-0", Messages: []XMessage{{ID: "1-0", Fields: []XField{{"f", "v"}}}}, Deleted: []string{"3-0"}}, err)
	ac, err = toAutoClaim(array(bulk("5-0"), array()), nil)
	wantEqual(t, "toAutoClaim(6.2)", ac, XAutoClaimResult{Next: "5-0", Messages: []XMessage{}}, err)
	if _, err := toAutoClaim(array(bulk("0-0")), nil); !errors.Is(err, resp.ErrType) {
		t.Errorf("toAutoClaim(short) err = %v, want ErrType", err)
	}

	// XPENDING, both forms (arrays in both protocols).
	sum, err := toPendingSummary(array(xint(3), bulk("1-0"), bulk("4-0"), array(array(bulk("c1"), bulk("2")), array(bulk("c2"), bulk("1")))), nil)
	wantEqual(t, "toPendingSummary", sum, XPendingSummary{Count: 3, Lowest: "1-0", Highest: "4-0", Consumers: map[string]int64{"c1": 2, "c2": 1}}, err)
	sum, err = toPendingSummary(array(xint(0), null, null, null), nil)
	wantEqual(t, "toPendingSummary(empty)", sum, XPendingSummary{}, err)
	pe, err := toPendingEntries(array(array(bulk("1-0"), bulk("c1"), xint(1500), xint(2))), nil)
	wantEqual(t, "toPendingEntries", pe, []XPendingEntry{{ID: "1-0", Consumer: "c1", Idle: 1500 * time.Millisecond, Deliveries: 2}}, err)
	if _, err := toPendingEntries(array(array(bulk("1-0"))), nil); !errors.Is(err, resp.ErrType) {
		t.Errorf("toPendingEntries(short) err = %v, want ErrType", err)
	}
}

func TestConvertStreamInfo(t *testing.T) {
	first := entry("1-0", "f", "v")
	info := []Value{
		bulk("length"), xint(2), bulk("radix-tree-keys"), xint(1), bulk("radix-tree-nodes"), xint(2),
		bulk("last-generated-id"), bulk("2-0"), bulk("max-deleted-entry-id"), bulk("0-0"),
		bulk("entries-added"), xint(2), bulk("recorded-first-entry-id"), bulk("1-0"),
		bulk("groups"), xint(1), bulk("first-entry"), first, bulk("last-entry"), null,
		bulk("from-a-newer-server"), array(),
	}
	want := XStreamInfo{
		Length: 2, RadixTreeKeys: 1, RadixTreeNodes: 2, Groups: 1, LastGeneratedID: "2-0",
		MaxDeletedEntryID: "0-0", EntriesAdded: 2, RecordedFirstEntryID: "1-0",
		FirstEntry: &XMessage{ID: "1-0", Fields: []XField{{"f", "v"}}},
	}
	group := []Value{
		bulk("name"), bulk("g"), bulk("consumers"), xint(2), bulk("pending"), xint(1),
		bulk("last-delivered-id"), bulk("2-0"), bulk("entries-read"), null, bulk("lag"), xint(0),
	}
	wantGroups := []XGroupInfo{{Name: "g", Consumers: 2, Pending: 1, LastDeliveredID: "2-0", EntriesRead: -1, Lag: 0}}
	consumer := []Value{bulk("name"), bulk("c"), bulk("pending"), xint(1), bulk("idle"), xint(250), bulk("inactive"), xint(-1)}
	wantConsumers := []XConsumerInfo{{Name: "c", Pending: 1, Idle: 250 * time.Millisecond}}

	for proto, wrap := range map[string]func(...Value) Value{"RESP3": respMap, "RESP2": array} {
		s, err := toInfoStream(wrap(info...), nil)
		wantEqual(t, "toInfoStream "+proto, s, want, err)
		g, err := toInfoGroups(array(wrap(group...)), nil)
		wantEqual(t, "toInfoGroups "+proto, g, wantGroups, err)
		c, err := toInfoConsumers(array(wrap(consumer...)), nil)
		wantEqual(t, "toInfoConsumers "+proto, c, wantConsumers, err)
	}
	if _, err := toInfoStream(array(bulk("length")), nil); !errors.Is(err, resp.ErrType) {
		t.Errorf("toInfoStream(odd) err = %v, want ErrType", err)
	}
	if _, err := toInfoGroups(array(array(bulk("lag"), bulk("x"))), nil); !errors.Is(err, resp.ErrType) {
		t.Errorf("toInfoGroups(bad lag) err = %v, want ErrType", err)
	}
	sentinel := errors.New("transport")
	if _, err := toInfoStream(Value{}, sentinel); err != sentinel {
		t.Errorf("toInfoStream passed err %v, want %v", err, sentinel)
	}
}

func TestConvertGeoReplies(t *testing.T) {
	// GEOSEARCH … WITHCOORD WITHDIST WITHHASH: [name, dist, hash, [lon, lat]];
	// RESP3 sends the coordinates as doubles, RESP2 as strings.
	all := withCoord | withDist | withHash
	want := []GeoLocation{{Name: "a", Longitude: 13.5, Latitude: 38.25, Dist: 56.4413, Hash: 3479447370796909}}
	for proto, coord := range map[string]Value{
		"RESP3": array(double(13.5), double(38.25)),
		"RESP2": array(bulk("13.5"), bulk("38.25")),
	} {
		got, err := all.parse(array(array(bulk("a"), bulk("56.4413"), xint(3479447370796909), coord)), nil)
		wantEqual(t, "GEOSEARCH "+proto, got, want, err)
	}
	got, err := withHash.parse(array(array(bulk("a"), xint(7))), nil)
	wantEqual(t, "GEOSEARCH WITHHASH", got, []GeoLocation{{Name: "a", Hash: 7}}, err)
	got, err = geoWith(0).parse(array(bulk("a"), bulk("b")), nil)
	wantEqual(t, "GEOSEARCH names", got, []GeoLocation{{Name: "a"}, {Name: "b"}}, err)
	if _, err := withDist.parse(array(array(bulk("a"))), nil); !errors.Is(err, resp.ErrType) {
		t.Errorf("GEOSEARCH WITHDIST without a distance: err = %v, want ErrType", err)
	}

	pos, err := toGeoPositions(array(array(bulk("1.5"), bulk("2.5")), null, array(double(3), double(4))), nil)
	wantEqual(t, "toGeoPositions", pos, []GeoPosition{{1.5, 2.5, true}, {}, {3, 4, true}}, err)

	bf, err := toBitFieldValues(array(xint(0), null, xint(-3)), nil)
	wantEqual(t, "toBitFieldValues", bf, []BitFieldValue{{0, true}, {}, {-3, true}}, err)
	if _, err := toBitFieldValues(array(bulk("1")), nil); !errors.Is(err, resp.ErrType) {
		t.Errorf("toBitFieldValues(bulk) err = %v, want ErrType", err)
	}
}

// TestBuildNewCommands checks the arguments the option structs turn into,
// and that bad options fail with ErrArgument before anything is sent.
func TestBuildNewCommands(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{ptr(XAdd(XAddArgs{Stream: "s", Values: []any{"f", 1}})).Args(), []string{"XADD", "s", "*", "f", "1"}},
		{ptr(XAdd(XAddArgs{Stream: "s", ID: "5-1", NoMkStream: true, MaxLen: 10, Approx: true, Limit: 3, Values: []any{"f", "v"}})).Args(),
			[]string{"XADD", "s", "NOMKSTREAM", "MAXLEN", "~", "10", "LIMIT", "3", "5-1", "f", "v"}},
		{ptr(XAdd(XAddArgs{Stream: "s", MinID: "7-0", Values: []any{"f", "v"}})).Args(), []string{"XADD", "s", "MINID", "7-0", "*", "f", "v"}},
		{ptr(XTrimMaxLen("s", 0, XTrimOptions{})).Args(), []string{"XTRIM", "s", "MAXLEN", "0"}},
		{ptr(XReadGroup(XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{"a", "b"}, Count: 2, NoAck: true})).Args(),
			[]string{"XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "NOACK", "STREAMS", "a", "b", ">", ">"}},
		{ptr(XPendingExt("s", "g", XPendingArgs{Count: 5, Consumer: "c", MinIdle: time.Second})).Args(),
			[]string{"XPENDING", "s", "g", "IDLE", "1000", "-", "+", "5", "c"}},
		{ptr(BitField("k", BitFieldOverflowRule(OverflowSat), BitFieldIncrBy("u8", 8, -1), BitFieldGet("i64", 0))).Args(),
			[]string{"BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u8", "8", "-1", "GET", "i64", "0"}},
		{ptr(GeoSearch("g", GeoSearchQuery{Longitude: 1, Latitude: 2, Width: 3, Height: 4, Unit: Kilometers, Sort: GeoDesc, Count: 2, Any: true, WithDist: true})).Args(),
			[]string{"GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYBOX", "3", "4", "km", "DESC", "COUNT", "2", "ANY", "WITHDIST"}},
	} {
		if !reflect.DeepEqual(tc.args, tc.want) {
			t.Errorf("args = %q\nwant %q", tc.args, tc.want)
		}
	}

	circle := GeoSearchQuery{FromMember: "m", Radius: 1}
	for name, err := range map[string]error{
		"XAdd no values":          ptr(XAdd(XAddArgs{Stream: "s"})).Err(),
		"XAdd odd values":         ptr(XAdd(XAddArgs{Stream: "s", Values: []any{"f"}})).Err(),
		"XAdd nil value":          ptr(XAdd(XAddArgs{Stream: "s", Values: []any{"f", nil}})).Err(),
		"XAdd MaxLen and MinID":   ptr(XAdd(XAddArgs{Stream: "s", MaxLen: 1, MinID: "1-0", Values: []any{"f", 1}})).Err(),
		"XAdd Limit without ~":    ptr(XAdd(XAddArgs{Stream: "s", MaxLen: 1, Limit: 1, Values: []any{"f", 1}})).Err(),
		"XAdd ~ without trim":     ptr(XAdd(XAddArgs{Stream: "s", Approx: true, Values: []any{"f", 1}})).Err(),
		"XTrimMaxLen negative":    ptr(XTrimMaxLen("s", -1, XTrimOptions{})).Err(),
		"XTrimMinID empty":        ptr(XTrimMinID("s", "", XTrimOptions{})).Err(),
		"XRangeCount 0":           ptr(XRangeCount("s", "-", "+", 0)).Err(),
		"XDel no IDs":             ptr(XDel("s")).Err(),
		"XAck no IDs":             ptr(XAck("s", "g")).Err(),
		"XRead no streams":        ptr(XRead(XReadArgs{})).Err(),
		"XRead IDs mismatch":      ptr(XRead(XReadArgs{Streams: []string{"a", "b"}, IDs: []string{"0"}})).Err(),
		"XReadGroup no streams":   ptr(XReadGroup(XReadGroupArgs{Group: "g", Consumer: "c"})).Err(),
		"XPendingExt no count":    ptr(XPendingExt("s", "g", XPendingArgs{})).Err(),
		"XClaim no IDs":           ptr(XClaim("s", "g", "c", 0)).Err(),
		"XAutoClaim negative":     ptr(XAutoClaim("s", XAutoClaimArgs{MinIdle: -time.Second})).Err(),
		"XGroupCreate entries":    ptr(XGroupCreateWith("s", "g", "0", XGroupCreateOptions{EntriesRead: -2})).Err(),
		"SetBit value":            ptr(SetBit("k", 0, 2)).Err(),
		"SetBit offset":           ptr(SetBit("k", -1, 1)).Err(),
		"GetBit offset":           ptr(GetBit("k", -1)).Err(),
		"BitPos bit":              ptr(BitPos("k", 3)).Err(),
		"BitCountRange unit":      ptr(BitCountRange("k", BitRange{0, -1, "WORD"})).Err(),
		"BitOpAnd no keys":        ptr(BitOpAnd("d")).Err(),
		"BitField no ops":         ptr(BitField("k")).Err(),
		"BitField zero op":        ptr(BitField("k", BitFieldOp{})).Err(),
		"BitField type":           ptr(BitField("k", BitFieldGet("u64", 0))).Err(),
		"BitField type i0":        ptr(BitField("k", BitFieldGet("i0", 0))).Err(),
		"BitField type x8":        ptr(BitField("k", BitFieldGet("x8", 0))).Err(),
		"BitField offset":         ptr(BitField("k", BitFieldSet("u8", -8, 1))).Err(),
		"BitField overflow":       ptr(BitField("k", BitFieldOverflowRule("NOPE"))).Err(),
		"BitFieldRO set":          ptr(BitFieldRO("k", BitFieldSet("u8", 0, 1))).Err(),
		"PFCount no keys":         ptr(PFCount()).Err(),
		"PFAdd nil":               ptr(PFAdd("h", "a", nil)).Err(),
		"GeoAdd none":             ptr(GeoAdd("g")).Err(),
		"GeoAdd NX XX":            ptr(GeoAddWith("g", GeoAddOptions{NX: true, XX: true}, GeoLocation{Name: "a"})).Err(),
		"GeoDist unit":            ptr(GeoDist("g", "a", "b", "parsec")).Err(),
		"GeoPos none":             ptr(GeoPos("g")).Err(),
		"GeoHash none":            ptr(GeoHash("g")).Err(),
		"GeoSearch no shape":      ptr(GeoSearch("g", GeoSearchQuery{FromMember: "m"})).Err(),
		"GeoSearch two shapes":    ptr(GeoSearch("g", GeoSearchQuery{FromMember: "m", Radius: 1, Width: 1, Height: 1})).Err(),
		"GeoSearch negative":      ptr(GeoSearch("g", GeoSearchQuery{FromMember: "m", Radius: -1})).Err(),
		"GeoSearch half box":      ptr(GeoSearch("g", GeoSearchQuery{FromMember: "m", Width: 1})).Err(),
		"GeoSearch sort":          ptr(GeoSearch("g", GeoSearchQuery{FromMember: "m", Radius: 1, Sort: "UP"})).Err(),
		"GeoSearch any":           ptr(GeoSearch("g", GeoSearchQuery{FromMember: "m", Radius: 1, Any: true})).Err(),
		"GeoSearchStore withdist": ptr(GeoSearchStore("d", "g", GeoSearchQuery{FromMember: "m", Radius: 1, WithDist: true}, false)).Err(),
		"GeoSearchStore no shape": ptr(GeoSearchStore("d", "g", GeoSearchQuery{}, true)).Err(),
	} {
		if !errors.Is(err, ErrArgument) {
			t.Errorf("%s: err = %v, want ErrArgument", name, err)
		}
	}
	if err := ptr(GeoSearch("g", circle)).Err(); err != nil {
		t.Errorf("GeoSearch(circle): %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

package keel_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/keel-go/keel"
)

// TestBlockingBuilders checks the arguments the blocking builders send, and
// that bad input is ErrArgument before anything is sent.
func TestBlockingBuilders(t *testing.T) {
	for _, tt := range []struct {
		got  []string
		want []string
	}{
		{keel.BLPop(0, "a", "b").Args(), []string{"BLPOP", "a", "b", "0"}},
		{keel.BRPop(1500*time.Millisecond, "a").Args(), []string{"BRPOP", "a", "1.5"}},
		{keel.BLPop(time.Microsecond, "a").Args(), []string{"BLPOP", "a", "0.001"}}, // not 0, which blocks forever
		{keel.BLMove("s", "d", keel.Right, keel.Left, 2*time.Second).Args(), []string{"BLMOVE", "s", "d", "RIGHT", "LEFT", "2"}},
		{keel.BLMPop(time.Second, keel.Left, 3, "a", "b").Args(), []string{"BLMPOP", "1", "2", "a", "b", "LEFT", "COUNT", "3"}},
		{keel.BZPopMin(0, "z").Args(), []string{"BZPOPMIN", "z", "0"}},
		{keel.BZPopMax(250*time.Millisecond, "z").Args(), []string{"BZPOPMAX", "z", "0.25"}},
		{keel.BZMPop(0, keel.ZMin, 1, "z").Args(), []string{"BZMPOP", "0", "1", "z", "MIN", "COUNT", "1"}},
		{keel.XRead(keel.XReadArgs{Streams: []string{"s"}, IDs: []string{"$"}, Block: 100 * time.Millisecond}).Args(),
			[]string{"XREAD", "BLOCK", "100", "STREAMS", "s", "$"}},
		{keel.XRead(keel.XReadArgs{Streams: []string{"s"}, IDs: []string{"$"}, Block: keel.BlockForever, Count: 2}).Args(),
			[]string{"XREAD", "COUNT", "2", "BLOCK", "0", "STREAMS", "s", "$"}},
		{keel.XReadGroup(keel.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{"s"}, Block: time.Second}).Args(),
			[]string{"XREADGROUP", "GROUP", "g", "c", "BLOCK", "1000", "STREAMS", "s", ">"}},
		{keel.Wait(1, time.Second).Args(), []string{"WAIT", "1", "1000"}},
		{keel.WaitAOF(1, 0, 50*time.Millisecond).Args(), []string{"WAITAOF", "1", "0", "50"}},
	} {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("args %q, want %q", tt.got, tt.want)
		}
	}
	for name, err := range map[string]error{
		"BLPop no keys":         keel.BLPop(time.Second).Err(),
		"BRPop negative":        keel.BRPop(-time.Second, "a").Err(),
		"BLMove bad end":        keel.BLMove("s", "d", "UP", keel.Left, 0).Err(),
		"BLMove negative":       keel.BLMove("s", "d", keel.Left, keel.Left, -1).Err(),
		"BLMPop count 0":        keel.BLMPop(0, keel.Left, 0, "a").Err(),
		"BLMPop no keys":        keel.BLMPop(0, keel.Left, 1).Err(),
		"BZPopMin no keys":      keel.BZPopMin(0).Err(),
		"BZMPop bad end":        keel.BZMPop(0, "MID", 1, "z").Err(),
		"BZMPop negative":       keel.BZMPop(-time.Second, keel.ZMax, 1, "z").Err(),
		"XRead negative Block":  keel.XRead(keel.XReadArgs{Streams: []string{"s"}, IDs: []string{"$"}, Block: -time.Second}).Err(),
		"XReadGroup neg. Block": keel.XReadGroup(keel.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{"s"}, Block: -2}).Err(),
		"Wait no timeout":       keel.Wait(1, 0).Err(),
		"Wait negative":         keel.Wait(-1, time.Second).Err(),
		"WaitAOF numLocal 2":    keel.WaitAOF(2, 0, time.Second).Err(),
	} {
		if !errors.Is(err, keel.ErrArgument) {
			t.Errorf("%s: %v, want ErrArgument", name, err)
		}
	}
}

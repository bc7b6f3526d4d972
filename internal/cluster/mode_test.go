package cluster

import (
	"errors"
	"slices"
	"testing"

	"github.com/keel-go/keel/resp"
)

func TestParseRole(t *testing.T) {
	master := arrayValue(bulk("master"), intValue(3129659), arrayValue(
		arrayValue(bulk("127.0.0.2"), bulk("9001"), bulk("3129242")),
		arrayValue(bulk("127.0.0.3"), bulk("9001"), bulk("3129543")),
	))
	r, err := parseRole(master)
	if err != nil || !r.master || !slices.Equal(r.replicas, []string{"127.0.0.2:9001", "127.0.0.3:9001"}) {
		t.Fatalf("master ROLE = %+v, %v", r, err)
	}
	lone, err := parseRole(arrayValue(bulk("master"), intValue(0), arrayValue()))
	if err != nil || !lone.master || len(lone.replicas) != 0 {
		t.Fatalf("lone master ROLE = %+v, %v", lone, err)
	}
	replica := arrayValue(bulk("slave"), bulk("127.0.0.1"), intValue(9000), bulk("connected"), intValue(3167038))
	r, err = parseRole(replica)
	if err != nil || r.master || r.upstream != "127.0.0.1:9000" {
		t.Fatalf("replica ROLE = %+v, %v", r, err)
	}
	for _, bad := range []resp.Value{
		arrayValue(bulk("sentinel"), arrayValue(bulk("mymaster"))),
		arrayValue(),
		bulk("master"),
		arrayValue(bulk("slave"), bulk("127.0.0.1")),
		arrayValue(bulk("slave"), bulk("127.0.0.1"), bulk("port?")),
	} {
		if _, err := parseRole(bad); err == nil {
			t.Errorf("parseRole(%v) accepted it", bad)
		}
	}
}

func TestSingleShardSlots(t *testing.T) {
	mget, _ := Lookup("MGET")
	args := []string{"MGET", "a", "b", "c"} // three slots
	for _, single := range []bool{false, true} {
		e := &Engine{single: single}
		_, keyed, err := e.RouteSlot(mget, args)
		if single != (err == nil) || single && !keyed {
			t.Errorf("single %v: RouteSlot = %v, %v", single, keyed, err)
		}
		_, keyed, err = e.TxSlot([][]string{{"SET", "a", "1"}, {"SET", "b", "2"}})
		if single != (err == nil) || single && !keyed {
			t.Errorf("single %v: TxSlot = %v, %v", single, keyed, err)
		}
		if !single && !errors.Is(err, ErrCrossSlot) {
			t.Errorf("cluster TxSlot: err = %v, want ErrCrossSlot", err)
		}
		// The other checks stay.
		if _, _, err := e.TxSlot([][]string{{"SET", "a", "1"}, {"BLPOP", "b", "0"}}); !errors.Is(err, ErrBlocking) {
			t.Errorf("single %v: TxSlot with BLPOP: err = %v, want ErrBlocking", single, err)
		}
	}
}

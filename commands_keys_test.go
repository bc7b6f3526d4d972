package keel_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/resp"
)

// wantArgument checks err matches ErrArgument: the command was refused
// before anything was sent.
func wantArgument(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, keel.ErrArgument) {
		t.Errorf("%s: err = %v, want ErrArgument", what, err)
	}
}

func TestExpireCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	s := k("s")
	must(t, c.Set(ctx, s, "v"))

	// NX: only without an expiry; XX: only with one.
	ok, err := c.ExpireIf(ctx, s, time.Minute, keel.ExpireXX)
	eq(t, "ExpireIf(XX, no expiry)", ok, err, false)
	wantNoExpiry(t, c, ctx, s)
	ok, err = c.ExpireIf(ctx, s, time.Minute, keel.ExpireNX)
	eq(t, "ExpireIf(NX, no expiry)", ok, err, true)
	wantTTL(t, c, ctx, s, time.Minute)
	ok, err = c.ExpireIf(ctx, s, 2*time.Minute, keel.ExpireNX)
	eq(t, "ExpireIf(NX, expiry)", ok, err, false)
	// GT and LT compare with the current expiry.
	ok, err = c.ExpireIf(ctx, s, 30*time.Second, keel.ExpireGT)
	eq(t, "ExpireIf(GT, earlier)", ok, err, false)
	wantTTL(t, c, ctx, s, time.Minute)
	ok, err = c.ExpireIf(ctx, s, 30*time.Second, keel.ExpireLT)
	eq(t, "ExpireIf(LT, earlier)", ok, err, true)
	wantTTL(t, c, ctx, s, 30*time.Second)
	ok, err = c.ExpireIf(ctx, s, 90*time.Second, keel.ExpireXX)
	eq(t, "ExpireIf(XX, expiry)", ok, err, true)
	ok, err = c.ExpireIf(ctx, k("missing"), time.Second, keel.ExpireAlways)
	eq(t, "ExpireIf(missing)", ok, err, false)
	_, err = c.ExpireIf(ctx, s, time.Second, keel.ExpireCondition(99))
	wantArgument(t, "ExpireIf(unknown condition)", err)

	// ExpireTime reads back what ExpireAtIf set, to the millisecond.
	at := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	ok, err = c.ExpireAtIf(ctx, s, at, keel.ExpireGT)
	eq(t, "ExpireAtIf(GT, later)", ok, err, true)
	got, err := c.ExpireTime(ctx, s)
	if err != nil || !got.Equal(at) {
		t.Errorf("ExpireTime = %v, %v; want %v", got, err, at)
	}
	ok, err = c.ExpireAtIf(ctx, s, at.Add(time.Hour), keel.ExpireLT)
	eq(t, "ExpireAtIf(LT, later)", ok, err, false)
	_, err = c.ExpireTime(ctx, k("missing"))
	wantNil(t, "ExpireTime(missing)", err)
	must(t, c.Set(ctx, k("plain"), "v"))
	got, err = c.ExpireTime(ctx, k("plain"))
	if err != nil || !got.IsZero() {
		t.Errorf("ExpireTime(no expiry) = %v, %v; want the zero time", got, err)
	}

	// Typed results through a pipeline.
	p := c.Pipeline()
	ttl := keel.Queue(p, keel.TTL(s))
	exp := keel.Queue(p, keel.ExpireTime(s))
	persisted := keel.Queue(p, keel.Persist(s))
	none := keel.Queue(p, keel.TTL(k("missing")))
	p.Exec(ctx)
	if d, err := ttl.Result(); err != nil || d <= 59*time.Minute || d > time.Hour {
		t.Errorf("queued TTL = %v, %v; want about an hour", d, err)
	}
	if e, err := exp.Result(); err != nil || !e.Equal(at) {
		t.Errorf("queued ExpireTime = %v, %v; want %v", e, err, at)
	}
	eq(t, "queued Persist", persisted.Val(), persisted.Err(), true)
	wantNil(t, "queued TTL(missing)", none.Err())
}

func TestKeyCopyObjectDump(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	src, dst := "{"+k("c")+"}src", "{"+k("c")+"}dst"
	must(t, c.Set(ctx, src, "12345"))
	_, err := c.Expire(ctx, src, time.Minute)
	must(t, err)

	ok, err := c.Copy(ctx, src, dst, false)
	eq(t, "Copy", ok, err, true)
	got, err := c.Get(ctx, dst)
	eq(t, "Get(copy)", got, err, "12345")
	wantTTL(t, c, ctx, dst, time.Minute) // the TTL is copied too
	must(t, c.Set(ctx, src, "other"))
	ok, err = c.Copy(ctx, src, dst, false)
	eq(t, "Copy(existing dst)", ok, err, false)
	ok, err = c.Copy(ctx, src, dst, true)
	eq(t, "Copy(REPLACE)", ok, err, true)
	got, err = c.Get(ctx, dst)
	eq(t, "Get(replaced copy)", got, err, "other")
	ok, err = c.Copy(ctx, "{"+k("c")+"}missing", dst, true)
	eq(t, "Copy(missing src)", ok, err, false)
	other := otherSlot(t, c, ctx, src, k("other"))
	if _, err := c.Copy(ctx, src, other, false); !errors.Is(err, keel.ErrCrossSlot) {
		t.Errorf("Copy across slots: err = %v, want ErrCrossSlot", err)
	}

	// OBJECT: an integer string is "int"; a missing key is ErrNil.
	must(t, c.Set(ctx, k("n"), "12345"))
	enc, err := c.ObjectEncoding(ctx, k("n"))
	eq(t, "ObjectEncoding(int)", enc, err, "int")
	_, err = c.RPush(ctx, k("list"), "a")
	must(t, err)
	_, err = c.SAdd(ctx, k("ints"), "1", "2")
	must(t, err)
	enc, err = c.ObjectEncoding(ctx, k("ints"))
	eq(t, "ObjectEncoding(small set of integers)", enc, err, "intset")
	_, err = c.ObjectEncoding(ctx, k("missing"))
	wantNil(t, "ObjectEncoding(missing)", err)
	idle, err := c.ObjectIdleTime(ctx, k("list"))
	if err != nil || idle < 0 || idle > time.Minute {
		t.Errorf("ObjectIdleTime = %v, %v", idle, err)
	}
	_, err = c.ObjectIdleTime(ctx, k("missing"))
	wantNil(t, "ObjectIdleTime(missing)", err)
	rc, err := c.ObjectRefCount(ctx, k("list"))
	eq(t, "ObjectRefCount", rc, err, 1)
	// The shared cluster runs without an LFU policy: the server refuses FREQ.
	_, err = c.ObjectFreq(ctx, k("list"))
	wantServerError(t, "ObjectFreq(no LFU)", err, resp.ErrGeneric)

	// DUMP and RESTORE round-trip a list, as a string or as []byte.
	_, err = c.RPush(ctx, k("list"), "b", "c")
	must(t, err)
	payload, err := c.Dump(ctx, k("list"))
	must(t, err)
	must(t, c.Restore(ctx, k("restored"), 0, payload, false))
	elems, err := c.LRange(ctx, k("restored"), 0, -1)
	eqSlice(t, "LRange(restored)", elems, err, []string{"a", "b", "c"})
	wantNoExpiry(t, c, ctx, k("restored"))
	err = c.Restore(ctx, k("restored"), 0, []byte(payload), false)
	if re := (*resp.Error)(nil); !errors.As(err, &re) || re.Code != "BUSYKEY" {
		t.Errorf("Restore(existing): err = %v, want a BUSYKEY server error", err)
	}
	must(t, c.Restore(ctx, k("restored"), time.Minute, []byte(payload), true))
	wantTTL(t, c, ctx, k("restored"), time.Minute)
	wantServerError(t, "Restore(bad payload)", c.Restore(ctx, k("bad"), 0, "junk", false), resp.ErrGeneric)
	wantArgument(t, "Restore(nil)", c.Restore(ctx, k("bad"), 0, nil, false))
	_, err = c.Dump(ctx, k("missing"))
	wantNil(t, "Dump(missing)", err)
}

// otherSlot returns a key name starting with prefix in another slot than key's.
func otherSlot(t *testing.T, c *keel.Client, ctx context.Context, key, prefix string) string {
	t.Helper()
	for i := 0; ; i++ {
		other := prefix + strconv.Itoa(i)
		if len(slotsOf(t, c, ctx, []string{key, other})) == 2 {
			return other
		}
	}
}

// TestKeyListsEmpty checks the multi-key commands refuse an empty key list
// before sending anything.
func TestKeyListsEmpty(t *testing.T) {
	c, ctx, _ := cmdEnv(t)
	for name, call := range map[string]func() (int64, error){
		"Del":    func() (int64, error) { return c.Del(ctx) },
		"Unlink": func() (int64, error) { return c.Unlink(ctx) },
		"Exists": func() (int64, error) { return c.Exists(ctx) },
		"Touch":  func() (int64, error) { return c.Touch(ctx) },
	} {
		_, err := call()
		wantArgument(t, name+"()", err)
	}
}

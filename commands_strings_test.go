package keel_test

import (
	"errors"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/resp"
)

func TestSetOptionsAndGetEx(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	s := k("s")

	// PXAT through SetOptions.ExpireAt, read back to the millisecond.
	at := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	ok, err := c.SetWith(ctx, s, "v1", keel.SetOptions{ExpireAt: at})
	eq(t, "SetWith(ExpireAt)", ok, err, true)
	exp, err := c.ExpireTime(ctx, s)
	if err != nil || !exp.Equal(at) {
		t.Errorf("ExpireTime after SetWith(ExpireAt) = %v, %v; want %v", exp, err, at)
	}
	_, err = c.SetWith(ctx, s, "v", keel.SetOptions{ExpireAt: at, TTL: time.Second})
	wantServerError(t, "SetWith(ExpireAt and TTL)", err, resp.ErrGeneric)
	_, err = c.SetWith(ctx, s, nil, keel.SetOptions{})
	wantArgument(t, "SetWith(nil)", err)

	// SetGetWith: the old value whatever happened; NX and XX decide the write.
	old, err := c.SetGetWith(ctx, s, "v2", keel.SetOptions{KeepTTL: true})
	eq(t, "SetGetWith(KeepTTL)", old, err, "v1")
	wantTTL(t, c, ctx, s, time.Hour)
	old, err = c.SetGetWith(ctx, s, "v3", keel.SetOptions{NX: true})
	eq(t, "SetGetWith(NX, existing)", old, err, "v2")
	got, err := c.Get(ctx, s)
	eq(t, "Get after SetGetWith(NX, existing)", got, err, "v2")
	_, err = c.SetGetWith(ctx, k("new"), "n", keel.SetOptions{NX: true, TTL: time.Minute})
	wantNil(t, "SetGetWith(NX, missing)", err)
	got, err = c.Get(ctx, k("new"))
	eq(t, "Get after SetGetWith(NX, missing)", got, err, "n")
	wantTTL(t, c, ctx, k("new"), time.Minute)
	_, err = c.SetGetWith(ctx, k("xx"), "x", keel.SetOptions{XX: true})
	wantNil(t, "SetGetWith(XX, missing)", err)
	n, err := c.Exists(ctx, k("xx"))
	eq(t, "Exists after SetGetWith(XX, missing)", n, err, 0)

	// GetSet is SET … GET by its old name.
	old, err = c.GetSet(ctx, s, "v4")
	eq(t, "GetSet", old, err, "v2")
	_, err = c.GetSet(ctx, k("gs"), "v")
	wantNil(t, "GetSet(missing)", err)
	_, err = c.GetSet(ctx, s, struct{}{})
	wantArgument(t, "GetSet(unsupported type)", err)

	// GetEx: PX, PXAT, PERSIST, nothing.
	got, err = c.GetEx(ctx, s, keel.GetExOptions{Persist: true})
	eq(t, "GetEx(Persist)", got, err, "v4")
	wantNoExpiry(t, c, ctx, s)
	got, err = c.GetEx(ctx, s, keel.GetExOptions{TTL: 20 * time.Second})
	eq(t, "GetEx(TTL)", got, err, "v4")
	wantTTL(t, c, ctx, s, 20*time.Second)
	got, err = c.GetEx(ctx, s, keel.GetExOptions{ExpireAt: at})
	eq(t, "GetEx(ExpireAt)", got, err, "v4")
	exp, err = c.ExpireTime(ctx, s)
	if err != nil || !exp.Equal(at) {
		t.Errorf("ExpireTime after GetEx(ExpireAt) = %v, %v; want %v", exp, err, at)
	}
	got, err = c.GetEx(ctx, s, keel.GetExOptions{})
	eq(t, "GetEx()", got, err, "v4")
	_, err = c.GetEx(ctx, k("missing"), keel.GetExOptions{TTL: time.Second})
	wantNil(t, "GetEx(missing)", err)
	_, err = c.GetEx(ctx, s, keel.GetExOptions{TTL: time.Second, Persist: true})
	wantServerError(t, "GetEx(two options)", err, resp.ErrGeneric)
}

func TestStringRangeMSetNXLCS(t *testing.T) {
	c, ctx, k := cmdEnv(t)

	n, err := c.SetRange(ctx, k("r"), 3, "abc")
	eq(t, "SetRange(missing)", n, err, 6)
	got, err := c.Get(ctx, k("r"))
	eq(t, "Get after SetRange", got, err, "\x00\x00\x00abc")
	n, err = c.SetRange(ctx, k("r"), 0, []byte("xy"))
	eq(t, "SetRange([]byte)", n, err, 6)
	got, err = c.GetRange(ctx, k("r"), 0, 1)
	eq(t, "GetRange after SetRange", got, err, "xy")
	_, err = c.SetRange(ctx, k("r"), -1, "x")
	wantServerError(t, "SetRange(negative offset)", err, resp.ErrGeneric)
	_, err = c.SetRange(ctx, k("r"), 0, nil)
	wantArgument(t, "SetRange(nil)", err)

	tag := "{" + k("tag") + "}"
	ok, err := c.MSetNX(ctx, tag+"a", 1, tag+"b", 2.5)
	eq(t, "MSetNX(new)", ok, err, true)
	got, err = c.Get(ctx, tag+"b")
	eq(t, "Get after MSetNX", got, err, "2.5")
	ok, err = c.MSetNX(ctx, tag+"c", "x", tag+"a", "y")
	eq(t, "MSetNX(one existing)", ok, err, false)
	n, err = c.Exists(ctx, tag+"c")
	eq(t, "Exists after refused MSetNX", n, err, 0)
	for name, kv := range map[string][]any{"none": nil, "odd": {tag + "a"}, "nil value": {tag + "d", nil}} {
		_, err = c.MSetNX(ctx, kv...)
		wantArgument(t, "MSetNX("+name+")", err)
	}
	other := otherSlot(t, c, ctx, tag+"a", k("o"))
	if _, err := c.MSetNX(ctx, tag+"e", "1", other, "2"); !errors.Is(err, keel.ErrCrossSlot) {
		t.Errorf("MSetNX across slots: err = %v, want ErrCrossSlot", err)
	}

	must(t, c.MSet(ctx, tag+"l1", "ohmytext", tag+"l2", "mynewtext"))
	got, err = c.LCS(ctx, tag+"l1", tag+"l2")
	eq(t, "LCS", got, err, "mytext")
	n, err = c.LCSLen(ctx, tag+"l1", tag+"l2")
	eq(t, "LCSLen", n, err, 6)
	got, err = c.LCS(ctx, tag+"l1", tag+"missing")
	eq(t, "LCS(missing)", got, err, "")

	// Typed results through a pipeline, a failed build among them.
	p := c.Pipeline()
	sr := keel.Queue(p, keel.SetRange(k("p"), 0, "hello"))
	bad := keel.Queue(p, keel.SetRange(k("p"), 0, nil))
	ge := keel.Queue(p, keel.GetEx(k("p"), keel.GetExOptions{TTL: time.Minute}))
	p.Exec(ctx)
	eq(t, "queued SetRange", sr.Val(), sr.Err(), 5)
	wantArgument(t, "queued SetRange(nil)", bad.Err())
	eq(t, "queued GetEx", ge.Val(), ge.Err(), "hello")
	wantTTL(t, c, ctx, k("p"), time.Minute)

	// Wrong types.
	_, err = c.RPush(ctx, k("list"), "x")
	must(t, err)
	_, err = c.GetEx(ctx, k("list"), keel.GetExOptions{})
	wantServerError(t, "GetEx(list)", err, resp.ErrWrongType)
	_, err = c.SetRange(ctx, k("list"), 0, "x")
	wantServerError(t, "SetRange(list)", err, resp.ErrWrongType)
	_, err = c.GetSet(ctx, k("list"), "x")
	wantServerError(t, "GetSet(list)", err, resp.ErrWrongType)
}

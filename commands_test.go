package keel_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/resp"
)

// cmdEnv connects to the shared cluster and returns the client, a context
// for the test, and a function naming keys under a prefix unique to this
// test and run (the shared cluster outlives a run under -count).
func cmdEnv(t *testing.T) (*keel.Client, context.Context, func(string) string) {
	t.Helper()
	c := newClient(t, sharedCluster(t), keel.Options{})
	ctx := testutil.Context(t, 30*time.Second)
	prefix := fmt.Sprintf("%s:%d:", t.Name(), time.Now().UnixNano())
	return c, ctx, func(name string) string { return prefix + name }
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantNil(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, keel.ErrNil) {
		t.Errorf("%s: err = %v, want ErrNil", what, err)
	}
}

// wantServerError checks err is a server error reply with the code of
// sentinel (such as resp.ErrWrongType).
func wantServerError(t *testing.T, what string, err error, sentinel *resp.Error) {
	t.Helper()
	var re *resp.Error
	if !errors.As(err, &re) || !errors.Is(err, sentinel) {
		t.Errorf("%s: err = %v (%T), want a %s server error", what, err, err, sentinel.Code)
	}
}

func eq[T comparable](t *testing.T, what string, got T, err error, want T) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func eqSlice[T comparable](t *testing.T, what string, got []T, err error, want []T) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func sorted(s []string, err error) ([]string, error) {
	slices.Sort(s)
	return s, err
}

// wantTTL checks key has a TTL in (0, max].
func wantTTL(t *testing.T, c *keel.Client, ctx context.Context, key string, max time.Duration) {
	t.Helper()
	ttl, err := c.TTL(ctx, key)
	if err != nil || ttl <= 0 || ttl > max {
		t.Errorf("TTL(%s) = %v, %v; want in (0, %v]", key, ttl, err, max)
	}
	// Cross-check with the raw command.
	v, err := c.Do(ctx, "PTTL", key)
	if n, _ := v.Int64(); err != nil || n <= 0 {
		t.Errorf("PTTL %s = %v, %v; want > 0", key, v, err)
	}
}

func wantNoExpiry(t *testing.T, c *keel.Client, ctx context.Context, key string) {
	t.Helper()
	ttl, err := c.TTL(ctx, key)
	eq(t, "TTL("+key+")", ttl, err, keel.NoExpiry)
}

func TestStringCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)

	_, err := c.Get(ctx, k("missing"))
	wantNil(t, "Get(missing)", err)

	must(t, c.Set(ctx, k("s"), "v1"))
	got, err := c.Get(ctx, k("s"))
	eq(t, "Get", got, err, "v1")

	// SetWith: NX and XX.
	ok, err := c.SetWith(ctx, k("s"), "v2", keel.SetOptions{NX: true})
	eq(t, "SetWith(NX, existing)", ok, err, false)
	got, err = c.Get(ctx, k("s"))
	eq(t, "Get after refused NX", got, err, "v1")
	ok, err = c.SetWith(ctx, k("s"), "v3", keel.SetOptions{XX: true})
	eq(t, "SetWith(XX, existing)", ok, err, true)
	got, err = c.Get(ctx, k("s"))
	eq(t, "Get after XX", got, err, "v3")
	ok, err = c.SetWith(ctx, k("xx"), "v", keel.SetOptions{XX: true})
	eq(t, "SetWith(XX, missing)", ok, err, false)
	_, err = c.Get(ctx, k("xx"))
	wantNil(t, "Get after refused XX", err)
	ok, err = c.SetWith(ctx, k("nx"), "v", keel.SetOptions{NX: true})
	eq(t, "SetWith(NX, missing)", ok, err, true)

	// SetWith: TTL and KEEPTTL; a plain Set drops the TTL.
	ok, err = c.SetWith(ctx, k("ttl"), "v", keel.SetOptions{TTL: 30 * time.Second})
	eq(t, "SetWith(TTL)", ok, err, true)
	wantTTL(t, c, ctx, k("ttl"), 30*time.Second)
	ok, err = c.SetWith(ctx, k("ttl"), "w", keel.SetOptions{KeepTTL: true})
	eq(t, "SetWith(KeepTTL)", ok, err, true)
	wantTTL(t, c, ctx, k("ttl"), 30*time.Second)
	got, err = c.Get(ctx, k("ttl"))
	eq(t, "Get after KeepTTL", got, err, "w")
	must(t, c.Set(ctx, k("ttl"), "x"))
	wantNoExpiry(t, c, ctx, k("ttl"))
	ok, err = c.SetWith(ctx, k("ttl"), "y", keel.SetOptions{XX: true, TTL: 20 * time.Second})
	eq(t, "SetWith(XX, TTL)", ok, err, true)
	wantTTL(t, c, ctx, k("ttl"), 20*time.Second)
	// A sub-millisecond TTL is sent as 1ms, not as an invalid 0.
	ok, err = c.SetWith(ctx, k("short"), "v", keel.SetOptions{TTL: 300 * time.Microsecond})
	eq(t, "SetWith(TTL 300µs)", ok, err, true)
	// Conflicting options: the server's syntax error.
	_, err = c.SetWith(ctx, k("s"), "v", keel.SetOptions{NX: true, XX: true})
	wantServerError(t, "SetWith(NX, XX)", err, resp.ErrGeneric)

	// SetNX.
	ok, err = c.SetNX(ctx, k("lock"), "me", 30*time.Second)
	eq(t, "SetNX(missing)", ok, err, true)
	wantTTL(t, c, ctx, k("lock"), 30*time.Second)
	ok, err = c.SetNX(ctx, k("lock"), "you", 30*time.Second)
	eq(t, "SetNX(existing)", ok, err, false)
	got, err = c.Get(ctx, k("lock"))
	eq(t, "Get(lock)", got, err, "me")
	ok, err = c.SetNX(ctx, k("lock0"), "me", 0)
	eq(t, "SetNX(missing, no TTL)", ok, err, true)
	wantNoExpiry(t, c, ctx, k("lock0"))

	// SetGet and GetDel.
	_, err = c.SetGet(ctx, k("sg"), "first")
	wantNil(t, "SetGet(missing)", err)
	got, err = c.Get(ctx, k("sg"))
	eq(t, "Get after SetGet", got, err, "first")
	got, err = c.SetGet(ctx, k("sg"), "second")
	eq(t, "SetGet(existing)", got, err, "first")
	got, err = c.GetDel(ctx, k("sg"))
	eq(t, "GetDel", got, err, "second")
	_, err = c.Get(ctx, k("sg"))
	wantNil(t, "Get after GetDel", err)
	_, err = c.GetDel(ctx, k("sg"))
	wantNil(t, "GetDel(missing)", err)

	// Counters.
	n, err := c.Incr(ctx, k("n"))
	eq(t, "Incr(missing)", n, err, 1)
	n, err = c.IncrBy(ctx, k("n"), 10)
	eq(t, "IncrBy", n, err, 11)
	n, err = c.Decr(ctx, k("n"))
	eq(t, "Decr", n, err, 10)
	n, err = c.DecrBy(ctx, k("n"), 13)
	eq(t, "DecrBy", n, err, -3)
	n, err = c.Decr(ctx, k("dn"))
	eq(t, "Decr(missing)", n, err, -1)
	_, err = c.Incr(ctx, k("s"))
	wantServerError(t, "Incr(not an integer)", err, resp.ErrGeneric)
	f, err := c.IncrByFloat(ctx, k("f"), 1.5)
	eq(t, "IncrByFloat(missing)", f, err, 1.5)
	f, err = c.IncrByFloat(ctx, k("f"), -0.25)
	eq(t, "IncrByFloat", f, err, 1.25)

	// Append, StrLen, GetRange.
	n, err = c.Append(ctx, k("a"), "ab")
	eq(t, "Append(missing)", n, err, 2)
	n, err = c.Append(ctx, k("a"), "cd")
	eq(t, "Append", n, err, 4)
	n, err = c.StrLen(ctx, k("a"))
	eq(t, "StrLen", n, err, 4)
	n, err = c.StrLen(ctx, k("missing"))
	eq(t, "StrLen(missing)", n, err, 0)
	got, err = c.GetRange(ctx, k("a"), 1, 2)
	eq(t, "GetRange(1, 2)", got, err, "bc")
	got, err = c.GetRange(ctx, k("a"), -1, -1)
	eq(t, "GetRange(-1, -1)", got, err, "d")
	got, err = c.GetRange(ctx, k("missing"), 0, -1)
	eq(t, "GetRange(missing)", got, err, "")

	// MSet with an odd count sends nothing.
	err = c.MSet(ctx, k("o1"), "v", k("o2"))
	if err == nil {
		t.Error("MSet(odd count): no error")
	}
	cnt, err := c.Exists(ctx, k("o1"), k("o2"))
	eq(t, "Exists after refused MSet", cnt, err, 0)
}

// slotsOf asks the cluster for the slot of each key.
func slotsOf(t *testing.T, c *keel.Client, ctx context.Context, keys []string) map[int64]bool {
	t.Helper()
	slots := map[int64]bool{}
	for _, key := range keys {
		v, err := c.Do(ctx, "CLUSTER", "KEYSLOT", key)
		n, err := toInt(v, err)
		must(t, err)
		slots[n] = true
	}
	return slots
}

func toInt(v keel.Value, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return v.Int64()
}

// TestMultiKeyCommands runs MGET, MSET, DEL, UNLINK, EXISTS and TOUCH over
// keys in many slots (which keel splits per slot) and in one slot (hash tag).
func TestMultiKeyCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)

	for _, layout := range []struct {
		name      string
		key       func(i int) string
		wantSlots func(n int) bool
	}{
		{"cross-slot", func(i int) string { return k("key" + strconv.Itoa(i)) }, func(n int) bool { return n >= 3 }},
		{"hash-tag", func(i int) string { return "{" + k("tag") + "}key" + strconv.Itoa(i) }, func(n int) bool { return n == 1 }},
	} {
		t.Run(layout.name, func(t *testing.T) {
			var keys []string
			var kv []any
			for i := range 12 {
				keys = append(keys, layout.key(i))
				kv = append(kv, layout.key(i), "v"+strconv.Itoa(i))
			}
			missing := layout.key(99)
			if n := len(slotsOf(t, c, ctx, keys)); !layout.wantSlots(n) {
				t.Fatalf("the keys are in %d slots", n)
			}

			must(t, c.MSet(ctx, kv...))

			// MGet keeps the caller's order, with a missing key in the middle.
			query := slices.Concat(keys[:5], []string{missing}, keys[5:])
			vals, err := c.MGet(ctx, query...)
			must(t, err)
			if len(vals) != len(query) {
				t.Fatalf("MGet returned %d values for %d keys", len(vals), len(query))
			}
			for i, v := range vals {
				switch {
				case i == 5:
					if v.Valid {
						t.Errorf("MGet[%d] (missing) = %+v, want not Valid", i, v)
					}
				default:
					j := i
					if i > 5 {
						j--
					}
					if want := (keel.NullString{Value: "v" + strconv.Itoa(j), Valid: true}); v != want {
						t.Errorf("MGet[%d] = %+v, want %+v", i, v, want)
					}
				}
			}

			n, err := c.Exists(ctx, append(keys, missing, keys[0])...)
			eq(t, "Exists", n, err, int64(len(keys)+1)) // keys[0] counts twice
			n, err = c.Touch(ctx, append(keys, missing)...)
			eq(t, "Touch", n, err, int64(len(keys)))
			n, err = c.Del(ctx, append(keys[:6:6], missing)...)
			eq(t, "Del", n, err, 6)
			n, err = c.Exists(ctx, keys...)
			eq(t, "Exists after Del", n, err, int64(len(keys)-6))
			n, err = c.Unlink(ctx, append(keys, missing)...)
			eq(t, "Unlink", n, err, int64(len(keys)-6))
			n, err = c.Exists(ctx, keys...)
			eq(t, "Exists after Unlink", n, err, 0)
			vals, err = c.MGet(ctx, keys...)
			must(t, err)
			for i, v := range vals {
				if v.Valid {
					t.Errorf("MGet[%d] after Unlink = %+v, want not Valid", i, v)
				}
			}
		})
	}

	// A key of another type reads as missing in MGET.
	_, err := c.RPush(ctx, k("list"), "x")
	must(t, err)
	vals, err := c.MGet(ctx, k("list"))
	if err != nil || len(vals) != 1 || vals[0].Valid {
		t.Errorf("MGet(list) = %+v, %v; want one value not Valid", vals, err)
	}
}

func TestKeyCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)

	_, err := c.TTL(ctx, k("missing"))
	wantNil(t, "TTL(missing)", err)
	must(t, c.Set(ctx, k("s"), "v"))
	wantNoExpiry(t, c, ctx, k("s"))

	ok, err := c.Expire(ctx, k("s"), 40*time.Second)
	eq(t, "Expire", ok, err, true)
	wantTTL(t, c, ctx, k("s"), 40*time.Second)
	ok, err = c.Persist(ctx, k("s"))
	eq(t, "Persist", ok, err, true)
	wantNoExpiry(t, c, ctx, k("s"))
	ok, err = c.Persist(ctx, k("s"))
	eq(t, "Persist(no expiry)", ok, err, false)
	ok, err = c.Persist(ctx, k("missing"))
	eq(t, "Persist(missing)", ok, err, false)
	ok, err = c.Expire(ctx, k("missing"), time.Second)
	eq(t, "Expire(missing)", ok, err, false)

	ok, err = c.ExpireAt(ctx, k("s"), time.Now().Add(time.Minute))
	eq(t, "ExpireAt(future)", ok, err, true)
	wantTTL(t, c, ctx, k("s"), time.Minute)
	ok, err = c.ExpireAt(ctx, k("missing"), time.Now().Add(time.Minute))
	eq(t, "ExpireAt(missing)", ok, err, false)
	ok, err = c.ExpireAt(ctx, k("s"), time.Now().Add(-time.Minute))
	eq(t, "ExpireAt(past)", ok, err, true)
	n, err := c.Exists(ctx, k("s"))
	eq(t, "Exists after ExpireAt(past)", n, err, 0)

	// Type.
	must(t, c.Set(ctx, k("str"), "v"))
	_, err = c.RPush(ctx, k("list"), "v")
	must(t, err)
	_, err = c.HSet(ctx, k("hash"), "f", "v")
	must(t, err)
	_, err = c.SAdd(ctx, k("set"), "v")
	must(t, err)
	_, err = c.ZAdd(ctx, k("zset"), keel.Z{Member: "v", Score: 1})
	must(t, err)
	for _, tc := range []struct{ key, want string }{
		{"str", "string"}, {"list", "list"}, {"hash", "hash"}, {"set", "set"}, {"zset", "zset"}, {"missing", "none"},
	} {
		typ, err := c.Type(ctx, k(tc.key))
		eq(t, "Type("+tc.key+")", typ, err, tc.want)
	}

	// Rename within a slot; a missing key; keys in different slots.
	from, to := "{"+k("r")+"}from", "{"+k("r")+"}to"
	must(t, c.Set(ctx, from, "moved"))
	must(t, c.Rename(ctx, from, to))
	got, err := c.Get(ctx, to)
	eq(t, "Get after Rename", got, err, "moved")
	_, err = c.Get(ctx, from)
	wantNil(t, "Get(old name)", err)
	wantServerError(t, "Rename(missing)", c.Rename(ctx, from, to), resp.ErrGeneric)
	var other string
	for i := 0; ; i++ { // a name in another slot than to's
		other = k("other" + strconv.Itoa(i))
		if len(slotsOf(t, c, ctx, []string{to, other})) == 2 {
			break
		}
	}
	if err := c.Rename(ctx, to, other); !errors.Is(err, keel.ErrCrossSlot) {
		t.Errorf("Rename across slots: err = %v, want ErrCrossSlot", err)
	}
}

func TestHashCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	h := k("h")

	_, err := c.HGet(ctx, h, "f1")
	wantNil(t, "HGet(missing key)", err)
	n, err := c.HSet(ctx, h, "f1", "v1", "f2", "v2", "f3", "v3")
	eq(t, "HSet(new)", n, err, 3)
	n, err = c.HSet(ctx, h, "f1", "v1b", "f4", "v4")
	eq(t, "HSet(one new)", n, err, 1)
	got, err := c.HGet(ctx, h, "f1")
	eq(t, "HGet", got, err, "v1b")
	_, err = c.HGet(ctx, h, "nope")
	wantNil(t, "HGet(missing field)", err)
	if _, err := c.HSet(ctx, h, "f1", "v", "f2"); err == nil {
		t.Error("HSet(odd count): no error")
	}

	ok, err := c.HSetNX(ctx, h, "f1", "x")
	eq(t, "HSetNX(existing)", ok, err, false)
	ok, err = c.HSetNX(ctx, h, "f5", "v5")
	eq(t, "HSetNX(new)", ok, err, true)

	vals, err := c.HMGet(ctx, h, "f2", "nope", "f5")
	eqSlice(t, "HMGet", vals, err, []keel.NullString{{Value: "v2", Valid: true}, {}, {Value: "v5", Valid: true}})
	vals, err = c.HMGet(ctx, k("missing"), "f")
	eqSlice(t, "HMGet(missing key)", vals, err, []keel.NullString{{}})

	want := map[string]string{"f1": "v1b", "f2": "v2", "f3": "v3", "f4": "v4", "f5": "v5"}
	all, err := c.HGetAll(ctx, h)
	must(t, err)
	if fmt.Sprint(all) != fmt.Sprint(want) {
		t.Errorf("HGetAll = %v, want %v", all, want)
	}
	all, err = c.HGetAll(ctx, k("missing"))
	if err != nil || len(all) != 0 {
		t.Errorf("HGetAll(missing) = %v, %v; want empty", all, err)
	}

	keys, err := sorted(c.HKeys(ctx, h))
	eqSlice(t, "HKeys", keys, err, []string{"f1", "f2", "f3", "f4", "f5"})
	values, err := sorted(c.HVals(ctx, h))
	eqSlice(t, "HVals", values, err, []string{"v1b", "v2", "v3", "v4", "v5"})
	keys, err = c.HKeys(ctx, k("missing"))
	eqSlice(t, "HKeys(missing)", keys, err, []string{})
	n, err = c.HLen(ctx, h)
	eq(t, "HLen", n, err, 5)
	n, err = c.HLen(ctx, k("missing"))
	eq(t, "HLen(missing)", n, err, 0)

	n, err = c.HDel(ctx, h, "f3", "f4", "nope")
	eq(t, "HDel", n, err, 2)
	ok, err = c.HExists(ctx, h, "f3")
	eq(t, "HExists(deleted)", ok, err, false)
	ok, err = c.HExists(ctx, h, "f2")
	eq(t, "HExists", ok, err, true)

	n, err = c.HIncrBy(ctx, h, "n", 5)
	eq(t, "HIncrBy(missing field)", n, err, 5)
	n, err = c.HIncrBy(ctx, h, "n", -7)
	eq(t, "HIncrBy", n, err, -2)
	_, err = c.HIncrBy(ctx, h, "f2", 1)
	wantServerError(t, "HIncrBy(not an integer)", err, resp.ErrGeneric)
	f, err := c.HIncrByFloat(ctx, h, "x", 2.5)
	eq(t, "HIncrByFloat(missing field)", f, err, 2.5)
	f, err = c.HIncrByFloat(ctx, h, "x", 0.125)
	eq(t, "HIncrByFloat", f, err, 2.625)
}

func TestListCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	l := k("l")

	_, err := c.LPop(ctx, l)
	wantNil(t, "LPop(missing)", err)
	_, err = c.RPop(ctx, l)
	wantNil(t, "RPop(missing)", err)
	_, err = c.LIndex(ctx, l, 0)
	wantNil(t, "LIndex(missing)", err)
	got, err := c.LRange(ctx, l, 0, -1)
	eqSlice(t, "LRange(missing)", got, err, []string{})
	n, err := c.LLen(ctx, l)
	eq(t, "LLen(missing)", n, err, 0)
	wantServerError(t, "LSet(missing)", c.LSet(ctx, l, 0, "x"), resp.ErrGeneric)

	n, err = c.RPush(ctx, l, "a", "b", "c")
	eq(t, "RPush", n, err, 3)
	n, err = c.LPush(ctx, l, "y", "z")
	eq(t, "LPush", n, err, 5)
	got, err = c.LRange(ctx, l, 0, -1)
	eqSlice(t, "LRange", got, err, []string{"z", "y", "a", "b", "c"})
	got, err = c.LRange(ctx, l, 1, 2)
	eqSlice(t, "LRange(1, 2)", got, err, []string{"y", "a"})
	n, err = c.LLen(ctx, l)
	eq(t, "LLen", n, err, 5)

	s, err := c.LIndex(ctx, l, 0)
	eq(t, "LIndex(0)", s, err, "z")
	s, err = c.LIndex(ctx, l, -1)
	eq(t, "LIndex(-1)", s, err, "c")
	_, err = c.LIndex(ctx, l, 99)
	wantNil(t, "LIndex(out of range)", err)

	must(t, c.LSet(ctx, l, 1, "Y"))
	s, err = c.LIndex(ctx, l, 1)
	eq(t, "LIndex after LSet", s, err, "Y")
	wantServerError(t, "LSet(out of range)", c.LSet(ctx, l, 99, "x"), resp.ErrGeneric)

	_, err = c.RPush(ctx, l, "a", "a")
	must(t, err)
	n, err = c.LRem(ctx, l, 2, "a")
	eq(t, "LRem(2, a)", n, err, 2)
	got, err = c.LRange(ctx, l, 0, -1)
	eqSlice(t, "LRange after LRem", got, err, []string{"z", "Y", "b", "c", "a"})
	n, err = c.LRem(ctx, l, 0, "nope")
	eq(t, "LRem(missing value)", n, err, 0)

	must(t, c.LTrim(ctx, l, 1, -2))
	got, err = c.LRange(ctx, l, 0, -1)
	eqSlice(t, "LRange after LTrim", got, err, []string{"Y", "b", "c"})

	s, err = c.LPop(ctx, l)
	eq(t, "LPop", s, err, "Y")
	s, err = c.RPop(ctx, l)
	eq(t, "RPop", s, err, "c")
	s, err = c.RPop(ctx, l)
	eq(t, "RPop(last)", s, err, "b")
	_, err = c.LPop(ctx, l)
	wantNil(t, "LPop(emptied)", err)
}

func TestSetCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	s := k("s")

	_, err := c.SPop(ctx, s)
	wantNil(t, "SPop(missing)", err)
	_, err = c.SRandMember(ctx, s)
	wantNil(t, "SRandMember(missing)", err)
	got, err := c.SMembers(ctx, s)
	eqSlice(t, "SMembers(missing)", got, err, []string{})

	n, err := c.SAdd(ctx, s, "a", "b", "c", "a")
	eq(t, "SAdd", n, err, 3)
	n, err = c.SAdd(ctx, s, "a", "d")
	eq(t, "SAdd(one new)", n, err, 1)
	n, err = c.SRem(ctx, s, "b", "nope")
	eq(t, "SRem", n, err, 1)
	got, err = sorted(c.SMembers(ctx, s))
	eqSlice(t, "SMembers", got, err, []string{"a", "c", "d"})
	ok, err := c.SIsMember(ctx, s, "c")
	eq(t, "SIsMember(c)", ok, err, true)
	ok, err = c.SIsMember(ctx, s, "b")
	eq(t, "SIsMember(b)", ok, err, false)
	n, err = c.SCard(ctx, s)
	eq(t, "SCard", n, err, 3)
	n, err = c.SCard(ctx, k("missing"))
	eq(t, "SCard(missing)", n, err, 0)

	m, err := c.SRandMember(ctx, s)
	must(t, err)
	if !slices.Contains([]string{"a", "c", "d"}, m) {
		t.Errorf("SRandMember = %q, not a member", m)
	}
	m, err = c.SPop(ctx, s)
	must(t, err)
	if !slices.Contains([]string{"a", "c", "d"}, m) {
		t.Errorf("SPop = %q, not a member", m)
	}
	ok, err = c.SIsMember(ctx, s, m)
	eq(t, "SIsMember(popped)", ok, err, false)
	n, err = c.SCard(ctx, s)
	eq(t, "SCard after SPop", n, err, 2)
}

func TestZSetCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	z := k("z")

	_, err := c.ZScore(ctx, z, "a")
	wantNil(t, "ZScore(missing key)", err)
	_, err = c.ZRank(ctx, z, "a")
	wantNil(t, "ZRank(missing key)", err)
	got, err := c.ZRange(ctx, z, 0, -1)
	eqSlice(t, "ZRange(missing)", got, err, []string{})
	zs, err := c.ZRangeWithScores(ctx, z, 0, -1)
	eqSlice(t, "ZRangeWithScores(missing)", zs, err, []keel.Z{})

	n, err := c.ZAdd(ctx, z, keel.Z{Member: "a", Score: 1}, keel.Z{Member: "b", Score: 2.5}, keel.Z{Member: "c", Score: -3})
	eq(t, "ZAdd", n, err, 3)
	n, err = c.ZAdd(ctx, z, keel.Z{Member: "a", Score: 10}, keel.Z{Member: "d", Score: 0.1})
	eq(t, "ZAdd(one new)", n, err, 1)
	f, err := c.ZScore(ctx, z, "a")
	eq(t, "ZScore", f, err, 10)
	_, err = c.ZScore(ctx, z, "nope")
	wantNil(t, "ZScore(missing member)", err)
	f, err = c.ZIncrBy(ctx, z, 0.5, "b")
	eq(t, "ZIncrBy", f, err, 3)
	f, err = c.ZIncrBy(ctx, z, -1.25, "e")
	eq(t, "ZIncrBy(missing member)", f, err, -1.25)

	// c -3, e -1.25, d 0.1, b 3, a 10
	n, err = c.ZCard(ctx, z)
	eq(t, "ZCard", n, err, 5)
	n, err = c.ZCount(ctx, z, "-inf", "+inf")
	eq(t, "ZCount(all)", n, err, 5)
	n, err = c.ZCount(ctx, z, "(0.1", "3")
	eq(t, "ZCount((0.1, 3])", n, err, 1)
	got, err = c.ZRange(ctx, z, 0, -1)
	eqSlice(t, "ZRange", got, err, []string{"c", "e", "d", "b", "a"})
	got, err = c.ZRange(ctx, z, -2, -1)
	eqSlice(t, "ZRange(-2, -1)", got, err, []string{"b", "a"})
	zs, err = c.ZRangeWithScores(ctx, z, 0, -1)
	eqSlice(t, "ZRangeWithScores", zs, err, []keel.Z{{"c", -3}, {"e", -1.25}, {"d", 0.1}, {"b", 3}, {"a", 10}})
	got, err = c.ZRangeByScore(ctx, z, "-2", "(10")
	eqSlice(t, "ZRangeByScore", got, err, []string{"e", "d", "b"})
	r, err := c.ZRank(ctx, z, "d")
	eq(t, "ZRank", r, err, 2)
	_, err = c.ZRank(ctx, z, "nope")
	wantNil(t, "ZRank(missing member)", err)

	n, err = c.ZRem(ctx, z, "e", "nope")
	eq(t, "ZRem", n, err, 1)
	n, err = c.ZCard(ctx, k("missing"))
	eq(t, "ZCard(missing)", n, err, 0)

	// Infinite scores go out and come back.
	_, err = c.ZAdd(ctx, z, keel.Z{Member: "top", Score: math.Inf(1)}, keel.Z{Member: "bottom", Score: math.Inf(-1)})
	must(t, err)
	f, err = c.ZScore(ctx, z, "top")
	eq(t, "ZScore(+inf)", f, err, math.Inf(1))
	zs, err = c.ZRangeWithScores(ctx, z, 0, 0)
	eqSlice(t, "ZRangeWithScores(-inf)", zs, err, []keel.Z{{"bottom", math.Inf(-1)}})
}

// TestWrongTypeCommands checks a command against a key of another type fails
// with the server's WRONGTYPE error, for each data type.
func TestWrongTypeCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	str, list := k("str"), k("list")
	must(t, c.Set(ctx, str, "v"))
	_, err := c.RPush(ctx, list, "v")
	must(t, err)

	for name, call := range map[string]func() error{
		"Get":     func() error { _, err := c.Get(ctx, list); return err },
		"SetGet":  func() error { _, err := c.SetGet(ctx, list, "v"); return err },
		"HGet":    func() error { _, err := c.HGet(ctx, str, "f"); return err },
		"HGetAll": func() error { _, err := c.HGetAll(ctx, str); return err },
		"LPush":   func() error { _, err := c.LPush(ctx, str, "v"); return err },
		"LRange":  func() error { _, err := c.LRange(ctx, str, 0, -1); return err },
		"SAdd":    func() error { _, err := c.SAdd(ctx, str, "v"); return err },
		"SPop":    func() error { _, err := c.SPop(ctx, str); return err },
		"ZScore":  func() error { _, err := c.ZScore(ctx, str, "m"); return err },
		"ZRangeWithScores": func() error {
			_, err := c.ZRangeWithScores(ctx, list, 0, -1)
			return err
		},
	} {
		wantServerError(t, name, call(), resp.ErrWrongType)
	}
	// The failed SET … GET left the list alone.
	typ, err := c.Type(ctx, list)
	eq(t, "Type after SetGet", typ, err, "list")
}

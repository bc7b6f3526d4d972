package keel_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/resp"
)

func TestHashMoreCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	h := k("h")

	// Values of any convertible type; bad input sends nothing.
	n, err := c.HSet(ctx, h, "s", "str", "b", []byte("bytes"), "i", 42, "f", 1.5, "t", true)
	eq(t, "HSet(mixed types)", n, err, 5)
	got, err := c.HMGet(ctx, h, "s", "b", "i", "f", "t")
	eqSlice(t, "HMGet(mixed types)", got, err, []keel.NullString{
		{Value: "str", Valid: true}, {Value: "bytes", Valid: true}, {Value: "42", Valid: true},
		{Value: "1.5", Valid: true}, {Value: "1", Valid: true},
	})
	for name, fv := range map[string][]any{"none": nil, "odd": {"f"}, "nil": {"f", nil}, "unsupported": {"f", []int{1}}} {
		_, err := c.HSet(ctx, k("bad"), fv...)
		wantArgument(t, "HSet("+name+")", err)
	}
	_, err = c.HSetNX(ctx, h, "x", nil)
	wantArgument(t, "HSetNX(nil)", err)
	_, err = c.HMGet(ctx, h)
	wantArgument(t, "HMGet(no fields)", err)
	_, err = c.HDel(ctx, h)
	wantArgument(t, "HDel(no fields)", err)
	if ex, err := c.Exists(ctx, k("bad")); err != nil || ex != 0 {
		t.Errorf("Exists after refused HSets = %d, %v; want 0", ex, err)
	}

	// HStrLen.
	n, err = c.HStrLen(ctx, h, "b")
	eq(t, "HStrLen", n, err, 5)
	n, err = c.HStrLen(ctx, h, "nope")
	eq(t, "HStrLen(missing field)", n, err, 0)
	n, err = c.HStrLen(ctx, k("missing"), "f")
	eq(t, "HStrLen(missing key)", n, err, 0)

	// HRandField: distinct for a positive count, repeats for a negative one.
	all := []string{"b", "f", "i", "s", "t"}
	fields, err := c.HRandField(ctx, h, 10)
	slices.Sort(fields)
	eqSlice(t, "HRandField(10)", fields, err, all)
	fields, err = c.HRandField(ctx, h, -8)
	if err != nil || len(fields) != 8 {
		t.Errorf("HRandField(-8) = %v, %v; want 8 fields", fields, err)
	}
	for _, f := range fields {
		if !slices.Contains(all, f) {
			t.Errorf("HRandField(-8) gave %q, not a field", f)
		}
	}
	fields, err = c.HRandField(ctx, k("missing"), 3)
	eqSlice(t, "HRandField(missing)", fields, err, []string{})
	m, err := c.HRandFieldWithValues(ctx, h, 2)
	if err != nil || len(m) != 2 {
		t.Errorf("HRandFieldWithValues(2) = %v, %v; want 2 fields", m, err)
	}
	for f, v := range m {
		if want, err := c.HGet(ctx, h, f); err != nil || v != want {
			t.Errorf("HRandFieldWithValues: %s = %q, HGet says %q, %v", f, v, want, err)
		}
	}

	// Wrong type.
	must(t, c.Set(ctx, k("str"), "v"))
	for name, call := range map[string]func() error{
		"HStrLen":    func() error { _, err := c.HStrLen(ctx, k("str"), "f"); return err },
		"HRandField": func() error { _, err := c.HRandField(ctx, k("str"), 1); return err },
		"HSetNX":     func() error { _, err := c.HSetNX(ctx, k("str"), "f", 1); return err },
		"HGetAllAs":  func() error { _, err := keel.Run(ctx, c, keel.HGetAllAs[user](k("str"))); return err },
	} {
		wantServerError(t, name, call(), resp.ErrWrongType)
	}
}

type user struct {
	Name   string        `redis:"name"`
	Age    int           `redis:"age"`
	Admin  bool          `redis:"admin"`
	Idle   time.Duration `redis:"idle"`
	Logins uint64        `redis:"logins"`
	Note   string        // not in the hash
}

func TestHGetAllAs(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	_, err := c.HSet(ctx, k("u1"), "name", "ada", "age", 36, "admin", true, "idle", "1m30s", "logins", 7, "extra", "ignored")
	must(t, err)
	u, err := keel.Run(ctx, c, keel.HGetAllAs[user](k("u1")))
	eq(t, "HGetAllAs", u, err, user{Name: "ada", Age: 36, Admin: true, Idle: 90 * time.Second, Logins: 7})

	// A missing key is the zero struct; a bad value names the field.
	u, err = keel.Run(ctx, c, keel.HGetAllAs[user](k("missing")))
	eq(t, "HGetAllAs(missing)", u, err, user{})
	_, err = c.HSet(ctx, k("u2"), "name", "grace", "age", "old")
	must(t, err)
	_, err = keel.Run(ctx, c, keel.HGetAllAs[user](k("u2")))
	if !errors.Is(err, resp.ErrType) {
		t.Errorf("HGetAllAs(bad age): err = %v, want ErrType", err)
	}

	// Typed in a pipeline, next to ScanStruct over an untyped reply.
	p := c.Pipeline()
	f1 := keel.Queue(p, keel.HGetAllAs[user](k("u1")))
	f2 := keel.Queue(p, keel.HGetAllAs[user](k("u2")))
	raw := keel.Queue(p, keel.Command("HGETALL", k("u1")))
	p.Exec(ctx)
	eq(t, "queued HGetAllAs", f1.Val(), f1.Err(), user{Name: "ada", Age: 36, Admin: true, Idle: 90 * time.Second, Logins: 7})
	if !errors.Is(f2.Err(), resp.ErrType) {
		t.Errorf("queued HGetAllAs(bad age): err = %v, want ErrType", f2.Err())
	}
	var scanned user
	if err := keel.ScanStruct(raw.Val(), &scanned); err != nil || scanned.Name != "ada" || scanned.Age != 36 {
		t.Errorf("ScanStruct(HGETALL reply) = %+v, %v", scanned, err)
	}
}

package lab

import "testing"

func TestKeySlot(t *testing.T) {
	// Reference values from the Redis Cluster specification and CLUSTER KEYSLOT.
	cases := map[string]int{
		"123456789":            0x31C3, // the spec's CRC16 check value, mod 16384
		"foo":                  12182,
		"{user1000}.a":         KeySlot("user1000"),
		"{}.a":                 KeySlot("{}.a"), // empty tag: the whole key is hashed
		"a{b}c{d}":             KeySlot("b"),
		"":                     0,
		"{user1000}.following": 3443,
	}
	for key, want := range cases {
		if got := KeySlot(key); got != want {
			t.Errorf("KeySlot(%q) = %d, want %d", key, got, want)
		}
	}
	for _, slot := range []int{0, 1, 5460, 5461, 16383} {
		if got := KeySlot(KeyInSlot(slot, "x")); got != slot {
			t.Errorf("KeyInSlot(%d) hashes to %d", slot, got)
		}
	}
}

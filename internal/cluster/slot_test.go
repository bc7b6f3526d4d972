package cluster_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keel-go/keel/internal/cluster"
	"github.com/keel-go/keel/lab"
)

// slotRefCRC16 is CRC16-CCITT (XMODEM) computed bit by bit, without a table, as
// an independent reference for cluster.Slot.
func slotRefCRC16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// slotRef follows the cluster specification's HASH_SLOT pseudo-code.
func slotRef(key string) int {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	return int(slotRefCRC16(key) & 16383)
}

func TestSlotKnownValues(t *testing.T) {
	if got := slotRefCRC16("123456789"); got != 0x31C3 {
		t.Fatalf("reference CRC16(123456789) = %#x, want 0x31c3", got)
	}
	tests := []struct {
		key  string
		want int
	}{
		{"123456789", 12739}, // 0x31C3, the CRC16-XMODEM check value
		{"foo", 12182},
		{"bar", 5061},
		{"", 0},
		{"{user1000}.following", cluster.Slot("user1000")},
		{"{user1000}.followers", cluster.Slot("user1000")},
		{"foo{}{bar}", int(slotRefCRC16("foo{}{bar}") & 16383)}, // empty tag: whole key
		{"foo{{bar}}zap", cluster.Slot("{bar")},                 // tag is "{bar"
		{"foo{bar}{zap}", cluster.Slot("bar")},                  // first tag only
		{"{}", int(slotRefCRC16("{}") & 16383)},
		{"{", int(slotRefCRC16("{") & 16383)},
		{"}{", int(slotRefCRC16("}{") & 16383)},
		{"no}tag{here", int(slotRefCRC16("no}tag{here") & 16383)},
		{"a{b}", cluster.Slot("b")},
	}
	for _, tt := range tests {
		if got := cluster.Slot(tt.key); got != tt.want {
			t.Errorf("Slot(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
	// The hash-tag cases must really differ from hashing the whole key,
	// or the checks above prove nothing.
	if cluster.Slot("foo{bar}{zap}") == int(slotRefCRC16("foo{bar}{zap}")&16383) {
		t.Error("tagged key hashes like the whole key")
	}
	if cluster.Slot("{user1000}.following") != 3443 {
		t.Errorf("Slot({user1000}.following) = %d, want 3443", cluster.Slot("{user1000}.following"))
	}
}

func TestSlotRange(t *testing.T) {
	for i := range 5000 {
		k := strings.Repeat("x", i%70) + string(rune('a'+i%26))
		if s := cluster.Slot(k); s < 0 || s >= cluster.SlotCount {
			t.Fatalf("Slot(%q) = %d out of range", k, s)
		}
	}
}

func TestSlotNoAlloc(t *testing.T) {
	keys := []string{"foo", "{user1000}.following", strings.Repeat("k", 64)}
	if n := testing.AllocsPerRun(100, func() {
		for _, k := range keys {
			_ = cluster.Slot(k)
		}
	}); n != 0 {
		t.Errorf("Slot allocates %v times per run", n)
	}
}

// TestSlotAgreesWithLab cross-checks Slot against lab.KeySlot, an
// independent implementation, and the bitwise reference, over random keys
// rich in braces.
func TestSlotAgreesWithLab(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "{}{}{}ab}{c\x00\xff"
	buf := make([]byte, 0, 32)
	for i := range 100_000 {
		buf = buf[:0]
		n := rng.IntN(24)
		for range n {
			if rng.IntN(4) == 0 {
				buf = append(buf, byte(rng.IntN(256)))
			} else {
				buf = append(buf, alphabet[rng.IntN(len(alphabet))])
			}
		}
		key := string(buf)
		got, want := cluster.Slot(key), lab.KeySlot(key)
		if got != want {
			t.Fatalf("key %d %q: Slot = %d, lab.KeySlot = %d", i, key, got, want)
		}
		if ref := slotRef(key); got != ref {
			t.Fatalf("key %d %q: Slot = %d, reference = %d", i, key, got, ref)
		}
	}
}

package lab

import (
	"strconv"
	"strings"
	"sync"
)

// crcTable is CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with.
var crcTable = func() (t [256]uint16) {
	for i := range t {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}()

// KeySlot returns the hash slot of key, honouring hash tags: when the key has
// a non-empty "{...}" section, only that section is hashed.
func KeySlot(key string) int {
	if open := strings.IndexByte(key, '{'); open >= 0 {
		if end := strings.IndexByte(key[open+1:], '}'); end > 0 {
			key = key[open+1 : open+1+end]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc = crc<<8 ^ crcTable[byte(crc>>8)^key[i]]
	}
	return int(crc) & 16383
}

var (
	slotTagsOnce sync.Once
	slotTags     [16384]string
)

// SlotTag returns a short string whose hash slot is slot. Put it in braces in
// a key — "{" + SlotTag(s) + "}:name" — to place the key in slot s.
func SlotTag(slot int) string {
	slotTagsOnce.Do(func() {
		found := 0
		for i := 0; found < len(slotTags); i++ {
			tag := strconv.Itoa(i)
			if s := KeySlot(tag); slotTags[s] == "" {
				slotTags[s] = tag
				found++
			}
		}
	})
	return slotTags[slot&16383]
}

// KeyInSlot returns a key named name that hashes to slot.
func KeyInSlot(slot int, name string) string {
	return "{" + SlotTag(slot) + "}:" + name
}

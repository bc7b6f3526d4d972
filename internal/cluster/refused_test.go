package cluster

import (
	"errors"
	"net"
	"testing"
)

func TestConnectionRefusedKnowsARefusedDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	nc, err := net.Dial("tcp", addr)
	if err == nil {
		nc.Close()
		t.Skip("the closed port was taken again before the dial")
	}
	if !connectionRefused(err) {
		t.Errorf("connectionRefused(%v) = false; want true", err)
	}
	if connectionRefused(errors.New("i/o timeout")) || connectionRefused(nil) {
		t.Error("connectionRefused is true for an error that is no refusal")
	}
}

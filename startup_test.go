package keel_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/lab"
)

func newErr(t *testing.T, opts keel.Options) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := keel.New(ctx, opts)
	if err == nil {
		_ = c.Close()
		t.Fatal("New succeeded")
	}
	t.Log(err)
	return err
}

func TestNewRejectsServerWithoutCluster(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	err := newErr(t, keel.Options{Seeds: []string{s.Addr()}, Mode: keel.ModeCluster})
	if !errors.Is(err, keel.ErrNotCluster) || errors.Is(err, keel.ErrNoNode) {
		t.Fatalf("err = %v, want ErrNotCluster", err)
	}
}

func TestNewRejectsClusterWithoutSlots(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{Args: []string{"--cluster-enabled", "yes"}})
	err := newErr(t, keel.Options{Seeds: []string{s.Addr()}})
	if !errors.Is(err, keel.ErrNoSlots) {
		t.Fatalf("err = %v, want ErrNoSlots", err)
	}
}

func TestNewNamesMissingClusterPermission(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{Args: []string{"--cluster-enabled", "yes"}})
	admin, err := conn.Dial(context.Background(), s.Addr(), conn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Do(context.Background(), "ACL", "SETUSER", "app", "on", ">secret", "~*", "+@all", "-cluster"); err != nil {
		t.Fatal(err)
	}
	err = newErr(t, keel.Options{Seeds: []string{s.Addr()}, Username: "app", Password: "secret"})
	if !errors.Is(err, keel.ErrNoPermission) || !strings.Contains(err.Error(), "cluster|") {
		t.Fatalf("err = %v, want ErrNoPermission naming the CLUSTER subcommand", err)
	}
}

func TestNewRejectsOptionsOutOfRange(t *testing.T) {
	for _, opts := range []keel.Options{
		{},
		{Seeds: []string{"127.0.0.1:1"}, ReadPolicy: keel.ReadNearest + 1},
		{Seeds: []string{"127.0.0.1:1"}, MaxRedirects: -1},
	} {
		err := newErr(t, opts)
		if !errors.Is(err, keel.ErrBadOptions) {
			t.Fatalf("%+v: err = %v, want ErrBadOptions", opts, err)
		}
	}
}

func TestNilContextIsAnError(t *testing.T) {
	c := newClient(t, sharedCluster(t), keel.Options{})
	var nilCtx context.Context
	if _, err := c.Do(nilCtx, "GET", "k"); !errors.Is(err, keel.ErrNilContext) {
		t.Fatalf("Do: err = %v, want ErrNilContext", err)
	}
	if _, err := c.Get(nilCtx, "k"); !errors.Is(err, keel.ErrNilContext) {
		t.Fatalf("Get: err = %v, want ErrNilContext", err)
	}
}

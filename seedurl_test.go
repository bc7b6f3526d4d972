package keel

import (
	"errors"
	"strings"
	"testing"
)

func TestWithSeedURLs(t *testing.T) {
	opts, db, err := Options{Seeds: []string{"rediss://app:pw@cache.example:6380/4", "10.0.0.1:6379"}}.withSeedURLs()
	if err != nil {
		t.Fatal(err)
	}
	if opts.Seeds[0] != "cache.example:6380" || opts.Seeds[1] != "10.0.0.1:6379" || db != 4 {
		t.Fatalf("seeds %v, db %d", opts.Seeds, db)
	}
	if opts.Username != "app" || opts.Password != "pw" || opts.TLS == nil {
		t.Fatalf("user %q, password %q, TLS %v", opts.Username, opts.Password, opts.TLS)
	}
	opts, _, err = Options{Seeds: []string{"redis://[::1]"}}.withSeedURLs()
	if err != nil || opts.Seeds[0] != "[::1]:6379" || opts.TLS != nil {
		t.Fatalf("default port: %v, %v", opts.Seeds, err)
	}
	for _, bad := range []Options{
		{Seeds: []string{"redis://"}},
		{Seeds: []string{"redis://h/-1"}},
		{Seeds: []string{"redis://h?db=2"}},
		{Seeds: []string{"redis://a:b@h"}, Credentials: nil, Username: "x"},
		{Seeds: []string{"redis://h/1", "redis://h/2"}},
	} {
		if _, _, err := bad.withSeedURLs(); !errors.Is(err, ErrBadOptions) {
			t.Errorf("%v: err = %v, want ErrBadOptions", bad.Seeds, err)
		}
	}
	_, _, err = Options{Seeds: []string{"redis://u:topsecret@h:1/x"}}.withSeedURLs()
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("err = %v: want an error without the password", err)
	}
}

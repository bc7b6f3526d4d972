package drill

import (
	"context"
	"errors"
	"fmt"

	"github.com/keel-go/keel"
)

// KeelDriver opens keel clients. Options are used as given, except that the
// Target's seeds, credentials, TLS and resolver replace theirs.
type KeelDriver struct {
	// Label is the row's name; default "keel".
	Label string
	// Options configure the client; the zero value is keel's defaults.
	Options keel.Options
}

// Name implements Driver.
func (d KeelDriver) Name() string {
	if d.Label != "" {
		return d.Label
	}
	return "keel"
}

// Describe implements Driver.
func (d KeelDriver) Describe() string {
	return fmt.Sprintf("github.com/keel-go/keel %s, read policy %s, default options otherwise", ModuleVersion("github.com/keel-go/keel", ""), d.Options.ReadPolicy)
}

// Open implements Driver.
func (d KeelDriver) Open(ctx context.Context, t Target) (Client, error) {
	opts := d.Options
	opts.Seeds = t.Seeds
	opts.Username, opts.Password, opts.TLS = t.Username, t.Password, t.TLS
	if t.Resolver != nil {
		opts.Resolver = t.Resolver
	}
	if t.Replication {
		opts.Mode = keel.ModeReplication
	}
	if t.SentinelMaster != "" {
		opts.Mode, opts.SentinelMaster = keel.ModeSentinel, t.SentinelMaster
	}
	c, err := keel.New(ctx, opts)
	if err != nil {
		return nil, err
	}
	return keelClient{c}, nil
}

type keelClient struct{ c *keel.Client }

func (k keelClient) Get(ctx context.Context, key string) (string, bool, error) {
	v, err := k.c.Get(ctx, key)
	if errors.Is(err, keel.ErrNil) {
		return "", false, nil
	}
	return v, err == nil, err
}

func (k keelClient) Set(ctx context.Context, key, value string) error {
	return k.c.Set(ctx, key, value)
}

func (k keelClient) Incr(ctx context.Context, key string) (int64, error) {
	return k.c.Incr(ctx, key)
}

func (k keelClient) Close() error { return k.c.Close() }

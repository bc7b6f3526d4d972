package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
)

// runWatch implements "keel drill watch": the drill's workload and recorder
// against an existing cluster, until Ctrl-C.
func runWatch(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var f drillFlags
	var seeds, user, password, caFile string
	var useTLS, insecure bool
	fs := flag.NewFlagSet("drill watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs, "keel")
	fs.StringVar(&seeds, "seeds", "", "host:port of one or more cluster nodes, comma-separated (required)")
	fs.BoolVar(&useTLS, "tls", false, "connect with TLS")
	fs.StringVar(&caFile, "tls-ca", "", "PEM file of the CA that signed the servers' certificates (default: the system's)")
	fs.BoolVar(&insecure, "tls-insecure", false, "do not verify the servers' certificates")
	fs.StringVar(&user, "user", "", "ACL user name")
	fs.StringVar(&password, "password", "", "password (default: $REDISCLI_AUTH)")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long (default: until Ctrl-C)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: keel drill watch -seeds host:port[,...] [flags]\n\n"+
			"Drives the drill's workload against an existing cluster (e.g. staging while a managed\n"+
			"service runs its own failover test) until Ctrl-C, then writes the same reports.\n"+
			"It writes keys prefixed \"drill:\" and deletes them at the end.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if seeds == "" {
		fs.Usage()
		return errors.New("drill watch: -seeds is required")
	}
	if password == "" {
		password = os.Getenv("REDISCLI_AUTH")
	}
	t := drill.Target{Seeds: strings.Split(seeds, ","), Username: user, Password: password}
	if useTLS || caFile != "" || insecure {
		conf, err := tlsConfig(caFile, insecure)
		if err != nil {
			return err
		}
		t.TLS = conf
	}
	drivers, err := selectDrivers(f.clients)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "watching %s with %d client(s) at %d req/s each; Ctrl-C to stop and write the reports\n",
		seeds, len(drivers), f.rate)
	pr := newProgress(stderr, f.quiet)
	rep, err := drill.RunWatch(ctx, drill.WatchOptions{Target: t, Drivers: drivers,
		Workload: drill.Workload{Rate: f.rate, Timeout: f.timeout}, Bucket: f.bucket,
		Duration: f.duration, Progress: pr.update})
	pr.clear()
	return conclude(stdout, rep, err, f)
}

func tlsConfig(caFile string, insecure bool) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("drill watch: no certificate in %s", caFile)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

package keel

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// seedURL is what a redis:// or rediss:// seed says beyond its address.
type seedURL struct {
	tls                bool
	user, password     string
	hasUser            bool
	db                 int
	scheme, credential string // for comparing seeds
}

// withSeedURLs returns opts with its URL seeds turned into host:port, their
// credentials and TLS moved into the options, and the database they name.
func (opts Options) withSeedURLs() (Options, int, error) {
	var first *seedURL
	seeds := make([]string, len(opts.Seeds))
	for i, s := range opts.Seeds {
		if !strings.Contains(s, "://") {
			seeds[i] = s
			continue
		}
		addr, u, err := parseSeedURL(s)
		if err != nil {
			return opts, 0, err
		}
		if first != nil && (u.scheme != first.scheme || u.credential != first.credential || u.db != first.db) {
			return opts, 0, fmt.Errorf("%w: seed URLs disagree on scheme, credentials or database", ErrBadOptions)
		}
		first = &u
		seeds[i] = addr
	}
	opts.Seeds = seeds
	if first == nil {
		return opts, 0, nil
	}
	if first.hasUser {
		if opts.Username != "" || opts.Password != "" || opts.Credentials != nil {
			return opts, 0, fmt.Errorf("%w: credentials in a seed URL and in Username, Password or Credentials (use one)", ErrBadOptions)
		}
		opts.Username, opts.Password = first.user, first.password
	}
	if first.tls && opts.TLS == nil {
		opts.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return opts, first.db, nil
}

// parseSeedURL reads redis://[user:password@]host[:port][/db] (rediss://
// for TLS) into host:port and the rest.
func parseSeedURL(s string) (string, seedURL, error) {
	bad := func(why string) (string, seedURL, error) {
		return "", seedURL{}, fmt.Errorf("%w: seed URL %q: %s", ErrBadOptions, redactURL(s), why)
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("not a URL")
	}
	var out seedURL
	switch u.Scheme {
	case "redis":
	case "rediss":
		out.tls = true
	default:
		return bad("the scheme must be redis or rediss")
	}
	out.scheme = u.Scheme
	if u.Hostname() == "" {
		return bad("no host")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return bad("query parameters are not supported")
	}
	port := u.Port()
	if port == "" {
		port = "6379"
	}
	if u.User != nil {
		out.hasUser = true
		out.user = u.User.Username()
		out.password, _ = u.User.Password()
		if _, has := u.User.Password(); !has {
			// redis://secret@host: a lone field is the password, as in
			// redis-cli -u and other clients.
			out.user, out.password = "", out.user
		}
		out.credential = out.user + "\x00" + out.password
	}
	if db := strings.Trim(u.Path, "/"); db != "" {
		n, err := strconv.Atoi(db)
		if err != nil || n < 0 {
			return bad("the path must be a database number")
		}
		out.db = n
	}
	return net.JoinHostPort(u.Hostname(), port), out, nil
}

// redactURL hides a URL's password, for errors.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

package cluster

import "github.com/keel-go/keel/internal/conn"

// connOptions is the connection template base made ready for addr. Over TLS the name a node
// is verified against (and sent as SNI) is, unless the caller's
// tls.Config names one: the host name the node announced, which conn.Dial
// takes from addr; or, for an address found by resolving a seed, the
// seed's host name, as a managed service's certificate carries names, not
// addresses. The caller's tls.Config is cloned, never changed.
func (e *Engine) connOptions(base conn.Options, addr string) conn.Options {
	o := base
	if o.TLS == nil || o.TLS.ServerName != "" {
		return o
	}
	if name, ok := e.seedNames.Load(addr); ok {
		o.TLS = o.TLS.Clone()
		o.TLS.ServerName = name.(string)
	}
	return o
}

package lab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// certValidity bounds how long generated certificates are valid. They live
// only as long as one server's temp dir, so a week is plenty even for a demo
// left running; the hour of backdating absorbs clock skew between the
// generating process and redis-server (normally none: same machine).
const (
	certValidity = 7 * 24 * time.Hour
	certBackdate = time.Hour
)

// tlsMaterial is what one TLS server needs: the PEM files handed to
// redis-server and the matching client configuration.
type tlsMaterial struct {
	certFile string // server certificate, signed by the CA
	keyFile  string // server private key
	caFile   string // CA certificate
	// authClients makes the server require a client certificate signed by
	// the CA (tls-auth-clients yes); client then carries one.
	authClients bool
	client      *tls.Config
}

// tlsSpec says what certificates writeTLSMaterial makes.
type tlsSpec struct {
	ip       net.IP   // the server certificate's IP SAN
	dnsNames []string // its DNS SANs besides "localhost"; may hold wildcards
	// clientAuth also makes a client certificate, for mutual TLS.
	clientAuth bool
}

// writeTLSMaterial creates a throwaway CA and a server certificate for
// spec.ip (IP SAN), "localhost" and spec.dnsNames (DNS SANs), writes them as
// PEM files into dir, and returns a client config that trusts exactly that
// CA (with a client certificate of its own when spec.clientAuth).
// Generating per server or cluster keeps the lab free of checked-in keys
// and of any shared state between them.
func writeTLSMaterial(dir string, spec tlsSpec) (*tlsMaterial, error) {
	now := time.Now()

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("lab: generate CA key: %w", err)
	}
	caSerial, err := newSerial()
	if err != nil {
		return nil, err
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          caSerial,
		Subject:               pkix.Name{CommonName: "keel lab CA"},
		NotBefore:             now.Add(-certBackdate),
		NotAfter:              now.Add(certValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("lab: create CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("lab: parse CA certificate: %w", err)
	}

	// The server certificate is also the client certificate nodes present
	// to each other on the cluster bus and for replication, hence both uses.
	srvDER, srvKey, err := issueCert(caCert, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "keel lab redis-server"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{spec.ip},
		DNSNames:    append([]string{"localhost"}, spec.dnsNames...),
	}, now)
	if err != nil {
		return nil, fmt.Errorf("lab: server certificate: %w", err)
	}
	srvKeyDER, err := x509.MarshalPKCS8PrivateKey(srvKey)
	if err != nil {
		return nil, fmt.Errorf("lab: encode server key: %w", err)
	}

	m := &tlsMaterial{
		certFile:    filepath.Join(dir, "server.crt"),
		keyFile:     filepath.Join(dir, "server.key"),
		caFile:      filepath.Join(dir, "ca.crt"),
		authClients: spec.clientAuth,
	}
	if err := writePEM(m.caFile, "CERTIFICATE", caDER, 0o644); err != nil {
		return nil, err
	}
	if err := writePEM(m.certFile, "CERTIFICATE", srvDER, 0o644); err != nil {
		return nil, err
	}
	if err := writePEM(m.keyFile, "PRIVATE KEY", srvKeyDER, 0o600); err != nil {
		return nil, err
	}

	roots := x509.NewCertPool()
	roots.AddCert(caCert)
	m.client = &tls.Config{
		RootCAs: roots,
		// Verify against the IP SAN: callers dial Addr(), an IP address.
		ServerName: spec.ip.String(),
		MinVersion: tls.VersionTLS12,
	}
	if spec.clientAuth {
		cliDER, cliKey, err := issueCert(caCert, caKey, &x509.Certificate{
			Subject:     pkix.Name{CommonName: "keel lab client"},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}, now)
		if err != nil {
			return nil, fmt.Errorf("lab: client certificate: %w", err)
		}
		m.client.Certificates = []tls.Certificate{{Certificate: [][]byte{cliDER}, PrivateKey: cliKey}}
	}
	return m, nil
}

// issueCert fills in template's serial, validity and key usage, signs it
// with the CA for a new P-256 key, and returns the certificate (DER) and
// the key.
func issueCert(ca *x509.Certificate, caKey *ecdsa.PrivateKey, template *x509.Certificate, now time.Time) ([]byte, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	if template.SerialNumber, err = newSerial(); err != nil {
		return nil, nil, err
	}
	template.NotBefore = now.Add(-certBackdate)
	template.NotAfter = now.Add(certValidity)
	template.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, template, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("create: %w", err)
	}
	return der, key, nil
}

// newSerial returns a random 128-bit serial number, as RFC 5280 asks for
// unpredictable serials.
func newSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("lab: generate serial number: %w", err)
	}
	return n, nil
}

func writePEM(path, blockType string, der []byte, perm os.FileMode) error {
	data := pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
	if err := os.WriteFile(path, data, perm); err != nil {
		return fmt.Errorf("lab: write %s: %w", filepath.Base(path), err)
	}
	return nil
}

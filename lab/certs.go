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
	client   *tls.Config
}

// writeTLSMaterial creates a throwaway CA and a server certificate for ip
// (IP SAN) and "localhost" (DNS SAN), writes them as PEM files into dir, and
// returns a client config that trusts exactly that CA. Generating per server
// keeps the lab free of checked-in keys and of any shared state between
// servers.
func writeTLSMaterial(dir string, ip net.IP) (*tlsMaterial, error) {
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

	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("lab: generate server key: %w", err)
	}
	srvSerial, err := newSerial()
	if err != nil {
		return nil, err
	}
	srvTemplate := &x509.Certificate{
		SerialNumber: srvSerial,
		Subject:      pkix.Name{CommonName: "keel lab redis-server"},
		NotBefore:    now.Add(-certBackdate),
		NotAfter:     now.Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{ip},
		DNSNames:     []string{"localhost"},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTemplate, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("lab: create server certificate: %w", err)
	}
	srvKeyDER, err := x509.MarshalPKCS8PrivateKey(srvKey)
	if err != nil {
		return nil, fmt.Errorf("lab: encode server key: %w", err)
	}

	m := &tlsMaterial{
		certFile: filepath.Join(dir, "server.crt"),
		keyFile:  filepath.Join(dir, "server.key"),
		caFile:   filepath.Join(dir, "ca.crt"),
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
		ServerName: ip.String(),
		MinVersion: tls.VersionTLS12,
	}
	return m, nil
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

package devidp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// rsaKeyBits is the size of the signing key. RS256 is the one algorithm
// every OpenID Provider must support.
const rsaKeyBits = 2048

// keyPair is the IdP's signing key. Making a 2048-bit RSA key takes tens
// to hundreds of milliseconds, more than the whole app may spend starting,
// so it is made in the background by newKeyPair and waited for on first
// use. A new key is made on every start: tokens from a previous run do not
// verify any more, as after a key rotation.
type keyPair struct {
	ready chan struct{} // closed once priv, id and err are set
	priv  *rsa.PrivateKey
	id    string
	err   error
}

// newKeyPair starts making a key and returns at once.
func newKeyPair() *keyPair {
	k := &keyPair{ready: make(chan struct{})}
	go func() {
		defer close(k.ready)
		priv, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
		if err != nil {
			k.err = fmt.Errorf("devidp: generate signing key: %w", err)
			return
		}
		jwk := jose.JSONWebKey{Key: &priv.PublicKey}
		thumb, err := jwk.Thumbprint(crypto.SHA256)
		if err != nil {
			k.err = fmt.Errorf("devidp: key thumbprint: %w", err)
			return
		}
		k.priv = priv
		k.id = base64.RawURLEncoding.EncodeToString(thumb[:12])
	}()
	return k
}

// get waits for the key, or for ctx to end.
func (k *keyPair) get(ctx context.Context) (*rsa.PrivateKey, string, error) {
	select {
	case <-k.ready:
		return k.priv, k.id, k.err
	case <-ctx.Done():
		return nil, "", fmt.Errorf("devidp: waiting for the signing key: %w", ctx.Err())
	}
}

// signingKey is the private half, as op.SigningKey.
type signingKey struct {
	id   string
	priv *rsa.PrivateKey
}

var _ op.SigningKey = signingKey{}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.priv }
func (k signingKey) ID() string                                  { return k.id }

// publicKey is the public half, as op.Key, published at the JWKS endpoint.
type publicKey struct {
	id  string
	pub *rsa.PublicKey
}

var _ op.Key = publicKey{}

func (k publicKey) ID() string                         { return k.id }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.pub }

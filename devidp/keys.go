package devidp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// rsaKeyBits is the size of the signing key. RS256 is the one algorithm
// every OpenID Provider must support.
const rsaKeyBits = 2048

// keyGenDelay is how long after New the key is made if no request has
// asked for it first: long enough for the app to have started.
const keyGenDelay = 300 * time.Millisecond

// keyPair is the IdP's signing key. Making a 2048-bit RSA key takes tens
// to hundreds of milliseconds of CPU, more than the whole app may spend
// starting, and running it beside the start-up slows the start-up too
// (it allocates heavily). So the key is made in a goroutine started by
// the IdP's first request or keyGenDelay after New, whichever comes
// first, and waited for on first use. A new key is made on every start:
// tokens from a previous run do not verify any more, as after a key
// rotation.
type keyPair struct {
	once  sync.Once
	ready chan struct{} // closed once priv, id and err are set
	priv  *rsa.PrivateKey
	id    string
	err   error
}

// newKeyPair returns a key pair that is made on start.
func newKeyPair() *keyPair {
	return &keyPair{ready: make(chan struct{})}
}

// start starts making the key, once; it returns at once.
func (k *keyPair) start() {
	k.once.Do(func() { go k.generate() })
}

func (k *keyPair) generate() {
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
}

// get starts making the key if need be and waits for it, or for ctx to
// end.
func (k *keyPair) get(ctx context.Context) (*rsa.PrivateKey, string, error) {
	k.start()
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

package auth

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
)

// MinSecretLength is the shortest AUTH_SECRET accepted outside development,
// in bytes (32 random bytes base64-encoded are 44).
const MinSecretLength = 32

// ParseSecrets splits AUTH_SECRET's comma-separated list. The first secret
// encrypts; every secret decrypts, so a new secret can be put in front of the
// old one and the old one removed once its sessions have expired.
func ParseSecrets(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// keyring holds the codecs derived from the secrets for one purpose: the
// first codec encodes, all decode.
type keyring struct {
	codecs []securecookie.Codec
	csrf   [][]byte // HMAC keys for the CSRF cookie
}

// newKeyring derives, for each secret, an HMAC key and an AES-256 key with
// HKDF-SHA256 (salt = purpose), so that the same AUTH_SECRET never keys two
// purposes alike. maxAge bounds the age of any value it decodes.
func newKeyring(secrets []string, purpose string, maxAge time.Duration) (*keyring, error) {
	if len(secrets) == 0 {
		return nil, errors.New("no secret")
	}
	k := &keyring{}
	for _, s := range secrets {
		hash, err := hkdf.Key(sha256.New, []byte(s), []byte(purpose), "signet hmac", 64)
		if err != nil {
			return nil, fmt.Errorf("derive key: %w", err)
		}
		block, err := hkdf.Key(sha256.New, []byte(s), []byte(purpose), "signet aes", 32)
		if err != nil {
			return nil, fmt.Errorf("derive key: %w", err)
		}
		csrf, err := hkdf.Key(sha256.New, []byte(s), []byte(purpose), "signet csrf", 32)
		if err != nil {
			return nil, fmt.Errorf("derive key: %w", err)
		}
		c := securecookie.New(hash, block)
		c.SetSerializer(securecookie.NopEncoder{})
		c.MaxAge(int(maxAge / time.Second))
		c.MaxLength(0) // the session cookie is chunked after encoding
		k.codecs = append(k.codecs, c)
		k.csrf = append(k.csrf, csrf)
	}
	return k, nil
}

// seal encrypts and authenticates b, bound to name.
func (k *keyring) seal(name string, b []byte) (string, error) {
	return securecookie.EncodeMulti(name, b, k.codecs[0])
}

// open reverses seal, trying every secret.
func (k *keyring) open(name, v string) ([]byte, error) {
	var b []byte
	if err := securecookie.DecodeMulti(name, v, &b, k.codecs...); err != nil {
		return nil, err
	}
	return b, nil
}

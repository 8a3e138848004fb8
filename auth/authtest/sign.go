package authtest

import (
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

type signingKey struct {
	key *rsa.PrivateKey
	kid string
}

func (k signingKey) publicJWK(omitKID bool) jose.JSONWebKey {
	j := jose.JSONWebKey{Key: &k.key.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
	if !omitKID {
		j.KeyID = k.kid
	}
	return j
}

// SignJWT signs claims as a compact JWT with header typ and mode. It is the
// one place the IdP makes tokens, exported so that tests can forge any
// token they like with the IdP's keys.
func (idp *IdP) SignJWT(claims map[string]any, mode SignMode, typ string) string {
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(fmt.Sprintf("authtest: claims: %v", err))
	}
	idp.mu.Lock()
	key, omitKID, secret := idp.keys[0], idp.omitKID, idp.ClientSecret
	idp.mu.Unlock()

	switch mode {
	case AlgNone:
		return unsigned(map[string]any{"alg": "none", "typ": typ}, payload) + "."
	case HS256ClientSecret:
		h := map[string]any{"alg": "HS256", "typ": typ}
		if !omitKID {
			h["kid"] = key.kid
		}
		input := unsigned(h, payload)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(input))
		return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}

	if mode == ForeignKey {
		key = foreignKey()
	}
	jwk := jose.JSONWebKey{Key: key.key, Algorithm: string(jose.RS256)}
	if !omitKID {
		jwk.KeyID = key.kid
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jwk},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		panic(fmt.Sprintf("authtest: signer: %v", err))
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(fmt.Sprintf("authtest: sign: %v", err))
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		panic(fmt.Sprintf("authtest: serialize: %v", err))
	}
	if mode == BadSignature {
		s = corruptSignature(s)
	}
	return s
}

func unsigned(header map[string]any, payload []byte) string {
	h, _ := json.Marshal(header)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(payload)
}

// corruptSignature flips bits in one byte in the middle of the signature,
// keeping the token well-formed.
func corruptSignature(compact string) string {
	i := strings.LastIndexByte(compact, '.')
	sig, err := base64.RawURLEncoding.DecodeString(compact[i+1:])
	if err != nil || len(sig) == 0 {
		return compact
	}
	sig[len(sig)/2] ^= 0x5a
	return compact[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

// foreignKey is a key no IdP ever publishes: the pool's last key, which
// rotations reach only after poolSize-1 of them, with a kid of its own.
func foreignKey() signingKey {
	k := newSigningKey(poolSize - 1)
	k.kid = "foreign-" + k.kid
	return k
}

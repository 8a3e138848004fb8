package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// keyRefreshInterval is the least time between two JWKS fetches caused by
// tokens naming a key the cached set does not hold.
const keyRefreshInterval = 10 * time.Second

// maxJWKSBytes bounds a JWKS document.
const maxJWKSBytes = 1 << 20

// keySet is the oidc.KeySet of one provider's jwks_uri, for ID tokens,
// logout tokens and JWT access tokens alike. It caches the keys and
// fetches them again when no cached key verifies a token (the IdP rotated
// its key) — but at most once per keyRefreshInterval, the fetch shared by
// every request waiting for it, so that tokens forged with made-up key ids
// cannot make the app hammer its IdP. The first fetch, which fills the
// empty cache, does not count against the interval, and while it fails
// (the IdP's JWKS is down) the next token tries again, so sign-ins work as
// soon as the IdP is back; concurrent tokens still share one fetch.
type keySet struct {
	url    string
	issuer string
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

	mu       sync.Mutex
	keys     []jose.JSONWebKey
	next     time.Time // no refetch before this
	inflight *keyFetch
	warned   bool // the refusal of a refetch was logged since the last fetch
}

// keyFetch is one JWKS fetch that several requests may wait for.
type keyFetch struct {
	done chan struct{}
	keys []jose.JSONWebKey
	err  error
}

func newKeySet(url, issuer string, client *http.Client, now func() time.Time, log *slog.Logger) *keySet {
	return &keySet{url: url, issuer: issuer, client: client, now: now, log: log}
}

var errKeyRefreshLimited = errors.New("no cached key verifies the token and the key set was fetched moments ago")

// VerifySignature verifies jwt's signature with a key of the set and
// returns its payload. go-oidc's verifiers have checked the algorithm
// before they call it.
func (k *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	algs := make([]jose.SignatureAlgorithm, len(asymmetricAlgs))
	for i, alg := range asymmetricAlgs {
		algs[i] = jose.SignatureAlgorithm(alg)
	}
	jws, err := jose.ParseSignedCompact(jwt, algs)
	if err != nil {
		return nil, fmt.Errorf("malformed jwt: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("not exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	k.mu.Lock()
	cached := k.keys
	k.mu.Unlock()
	if payload, ok := verifyWith(jws, kid, cached); ok {
		return payload, nil
	}
	keys, err := k.refresh(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetching keys: %w", err)
	}
	if payload, ok := verifyWith(jws, kid, keys); ok {
		return payload, nil
	}
	return nil, errors.New("no key of the set verifies it")
}

// verifyWith tries each key with kid (every key when the token has none).
func verifyWith(jws *jose.JSONWebSignature, kid string, keys []jose.JSONWebKey) ([]byte, bool) {
	for i := range keys {
		if kid != "" && keys[i].KeyID != kid {
			continue
		}
		if payload, err := jws.Verify(&keys[i]); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// refresh fetches the key set, or waits for the fetch in flight, unless
// the last fetch was less than keyRefreshInterval ago: then it logs once
// per interval and returns errKeyRefreshLimited.
func (k *keySet) refresh(ctx context.Context) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	f := k.inflight
	if f == nil {
		if k.now().Before(k.next) {
			warn := !k.warned
			k.warned = true
			k.mu.Unlock()
			if warn {
				k.log.WarnContext(ctx, "JWKS refresh rate-limited: a token names a key the cached set does not hold; fetching again at most once per 10s",
					"issuer", k.issuer)
			}
			return nil, errKeyRefreshLimited
		}
		first := k.keys == nil
		f = &keyFetch{done: make(chan struct{})}
		k.inflight = f
		k.mu.Unlock()
		// The fetch is shared: it must not end with the request that
		// started it, so it runs on its own (the client has a timeout).
		go func() {
			keys, err := k.fetch()
			f.keys, f.err = keys, err
			k.mu.Lock()
			if err == nil {
				k.keys = keys
			}
			// The interval counts from the end of the fetch.
			if !first {
				k.next = k.now().Add(keyRefreshInterval)
			}
			k.warned = false
			k.inflight = nil
			k.mu.Unlock()
			close(f.done)
		}()
	} else {
		k.mu.Unlock()
	}
	select {
	case <-f.done:
		return f.keys, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fetch GETs the JWKS. Keys of a type or algorithm Signet does not verify
// with (encryption keys, HMAC, curves go-jose lacks) are skipped rather
// than failing the whole set.
func (k *keySet) fetch() ([]jose.JSONWebKey, error) {
	req, err := http.NewRequest(http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	keys := []jose.JSONWebKey{}
	for _, r := range raw.Keys {
		var meta struct {
			Alg string `json:"alg"`
			Use string `json:"use"`
		}
		if err := json.Unmarshal(r, &meta); err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		if meta.Use == "enc" || meta.Alg != "" && !slices.Contains(asymmetricAlgs, meta.Alg) {
			continue
		}
		var key jose.JSONWebKey
		if err := json.Unmarshal(r, &key); err != nil {
			if errors.Is(err, jose.ErrUnsupportedKeyType) {
				continue
			}
			return nil, fmt.Errorf("decode: %w", err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

package auth

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

var timeZero time.Time

// flowValue is what a flow cookie (state, PKCE verifier, nonce, callback
// URL, logout state) holds: the value and the provider it was made for,
// sealed with the flow keys, which refuse anything older than 15 minutes.
type flowValue struct {
	V string `json:"v"`
	P string `json:"p"`
	// E is when the value expires (Unix seconds) on Auth's clock; the
	// seal's own timestamp is checked against the wall clock only.
	E int64 `json:"e,omitempty"`
}

// setFlow seals value for provider into the cookie name (one of cw's
// flow cookie names), valid for 15 minutes.
func (a *Auth) setFlow(w http.ResponseWriter, cw cookieWriter, name, sealAs, provider, value string) error {
	b, _ := json.Marshal(flowValue{V: value, P: provider, E: a.now().Add(flowMaxAge).Unix()})
	v, err := a.flowKeys.seal(sealAs, b)
	if err != nil {
		return fmt.Errorf("seal %s: %w", sealAs, err)
	}
	cw.set(w, name, v, a.now().Add(flowMaxAge))
	return nil
}

// readFlow opens the flow cookie name and checks it was made for provider.
func (a *Auth) readFlow(r *http.Request, name, sealAs, provider string) (string, error) {
	c, err := r.Cookie(name)
	if err != nil {
		return "", fmt.Errorf("%s cookie missing", sealAs)
	}
	b, err := a.flowKeys.open(sealAs, c.Value)
	if err != nil {
		return "", fmt.Errorf("%s cookie invalid: %w", sealAs, err)
	}
	var f flowValue
	if err := json.Unmarshal(b, &f); err != nil || f.V == "" {
		return "", fmt.Errorf("%s cookie malformed", sealAs)
	}
	if f.P != provider {
		return "", fmt.Errorf("%s cookie was made for provider %q, not %q", sealAs, f.P, provider)
	}
	if f.E != 0 && !a.now().Before(time.Unix(f.E, 0)) {
		return "", fmt.Errorf("%s cookie expired", sealAs)
	}
	return f.V, nil
}

// Seal names of the flow cookies.
const (
	sealState       = "state"
	sealPKCE        = "pkce"
	sealNonce       = "nonce"
	sealCallbackURL = "callback-url"
	sealLogoutState = "logout-state"
)

// checkState compares the state the IdP sent back with the state cookie.
func (a *Auth) checkState(r *http.Request, cw cookieWriter, provider, got string) error {
	want, err := a.readFlow(r, cw.names.state, sealState, provider)
	if err != nil {
		return err
	}
	if got == "" {
		return errors.New("state parameter missing")
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errors.New("state parameter does not match the state cookie")
	}
	return nil
}

// clearFlow expires the sign-in flow cookies: they are one-time.
func clearFlow(w http.ResponseWriter, cw cookieWriter) {
	for _, n := range []string{cw.names.state, cw.names.pkce, cw.names.nonce, cw.names.callbackURL} {
		cw.clear(w, n)
	}
}

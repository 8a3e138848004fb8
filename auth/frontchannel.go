package auth

import (
	"net/http"
	"net/url"
)

// The longest iss and sid a front-channel logout may carry; longer ones
// are refused with 400.
const (
	maxIssuerBytes = 512
	maxSIDBytes    = 255
)

// handleFrontchannelLogout is the OpenID Connect Front-Channel Logout 1.0
// receiver: the IdP loads it in an iframe with iss and sid. Signet ends
// that IdP session's sessions (for this browser's cookie and any other
// copy) and answers a tiny page the IdP may frame.
func (a *Auth) handleFrontchannelLogout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// The refusals below get the same no-store and a CSP that allows
	// nothing: every response of the app has one.
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'self'")
	q := r.URL.Query()
	iss, sid := q.Get("iss"), q.Get("sid")
	// iss and sid are required (Signet needs the session information): a
	// bare link must not be able to sign anyone out.
	if iss == "" || sid == "" {
		a.log.WarnContext(ctx, "front-channel logout refused", "reason", "iss or sid missing")
		http.Error(w, "iss and sid are required", http.StatusBadRequest)
		return
	}
	if len(iss) > maxIssuerBytes || len(sid) > maxSIDBytes {
		a.log.WarnContext(ctx, "front-channel logout refused", "reason", "iss or sid too long")
		http.Error(w, "iss or sid too long", http.StatusBadRequest)
		return
	}
	var p *Provider
	for _, cand := range a.order {
		if sameIssuer(cand.Issuer, iss) {
			p = cand
			break
		}
	}
	if p == nil {
		a.log.WarnContext(ctx, "front-channel logout refused", "reason", "unknown issuer")
		http.Error(w, "unknown issuer", http.StatusBadRequest)
		return
	}
	// The logout is recorded under the provider's own issuer (the one its
	// ID tokens carry, from discovery), never the query's spelling of it.
	issuer := p.Issuer
	if m, err := a.metadataFor(ctx, p); err == nil && !m.issuerTemplate {
		issuer = m.Issuer
	}
	cw := a.cookiesFor(r)
	rec, id, err := a.sessions.load(r, cw)
	// Nothing is stored for an IdP session that no session of this app
	// belongs to: an unauthenticated request cannot grow the store.
	known, serr := a.state.hasSID(ctx, issuer, sid)
	if serr == nil && known {
		serr = a.state.revoke(ctx, issuer, sid, "", a.now())
	}
	if serr != nil {
		a.log.WarnContext(ctx, "front-channel logout not recorded", "err", serr)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	if err == nil && rec.Provider == p.ID && rec.SID == sid {
		a.sessions.clear(w, r, cw, id)
	}
	a.log.InfoContext(ctx, "front-channel logout", "provider", p.ID, "sid", sid)
	if a.cfg.Events.IdPLogout != nil {
		a.cfg.Events.IdPLogout(ctx, LogoutEvent{Provider: p.ID, Issuer: issuer, SID: sid, Channel: "frontchannel"})
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	ancestors := "'self'"
	if u, err := url.Parse(p.Issuer); err == nil && u.Host != "" {
		ancestors += " " + u.Scheme + "://" + u.Host
	}
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors "+ancestors)
	_, _ = w.Write([]byte("<!doctype html><title>Signed out</title><p>Signed out.</p>"))
}

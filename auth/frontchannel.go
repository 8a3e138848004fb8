package auth

import (
	"net/http"
	"net/url"
	"strings"
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
	jar := a.jar(r)
	rec, id, err := a.sessions.load(r, jar)
	// iss and sid are required (Signet needs the session information): a
	// bare link must not be able to sign anyone out.
	if iss == "" || sid == "" {
		a.log.WarnContext(ctx, "front-channel logout refused", "reason", "iss or sid missing")
		http.Error(w, "iss and sid are required", http.StatusBadRequest)
		return
	}
	var p *Provider
	for _, cand := range a.order {
		if strings.TrimSuffix(cand.Issuer, "/") == strings.TrimSuffix(iss, "/") {
			p = cand
			break
		}
	}
	if p == nil {
		a.log.WarnContext(ctx, "front-channel logout refused", "reason", "unknown issuer")
		http.Error(w, "unknown issuer", http.StatusBadRequest)
		return
	}
	a.revoked.revoke(iss, sid, "", a.now())
	if err == nil && rec.Provider == p.ID && rec.SID == sid {
		a.sessions.clear(w, r, jar, id)
	}
	if p != nil {
		a.log.InfoContext(ctx, "front-channel logout", "provider", p.ID, "sid", sid)
		if a.cfg.Events.IdPLogout != nil {
			a.cfg.Events.IdPLogout(ctx, LogoutEvent{Provider: p.ID, Issuer: iss, SID: sid, Channel: "frontchannel"})
		}
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	ancestors := "'self'"
	if p != nil {
		if u, err := url.Parse(p.Issuer); err == nil && u.Host != "" {
			ancestors += " " + u.Scheme + "://" + u.Host
		}
	}
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors "+ancestors)
	_, _ = w.Write([]byte("<!doctype html><title>Signed out</title><p>Signed out.</p>"))
}

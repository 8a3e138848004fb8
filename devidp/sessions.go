package devidp

import (
	"maps"
	"slices"
	"time"
)

// ssoSession is the IdP's own sign-in session. Its id is the sid claim of
// the tokens issued in it, which relying parties see; the devidp.session
// cookie holds a separate secret, so that an ID token cannot be turned
// into the IdP's cookie.
type ssoSession struct {
	id       string
	secret   string // the devidp.session cookie's value
	userID   string
	authTime time.Time // when the user last typed their password
	expires  time.Time
	clients  map[string]bool // clients that signed in through this session
}

// clone returns a copy that shares nothing mutable with ss.
func (ss *ssoSession) clone() *ssoSession {
	c := *ss
	c.clients = maps.Clone(ss.clients)
	return &c
}

// clientIDs lists the session's clients, sorted.
func (ss *ssoSession) clientIDs() []string {
	return slices.Sorted(maps.Keys(ss.clients))
}

// sessionLocked returns the live session sid. s.mu must be held.
func (s *store) sessionLocked(sid string, now time.Time) (*ssoSession, bool) {
	ss, ok := s.sessions[sid]
	if !ok {
		return nil, false
	}
	if now.After(ss.expires) {
		delete(s.sessions, sid)
		delete(s.secrets, ss.secret)
		return nil, false
	}
	return ss, true
}

// sessionBySecret returns a copy of the live session whose cookie secret
// is secret.
func (s *store) sessionBySecret(secret string) (*ssoSession, bool) {
	if secret == "" {
		return nil, false
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessionLocked(s.secrets[secret], now)
	if !ok {
		return nil, false
	}
	return ss.clone(), true
}

// startSession opens a session for userID, just authenticated.
func (s *store) startSession(userID string) *ssoSession {
	now := s.now()
	ss := &ssoSession{
		id:       newID(),
		secret:   newRefreshTokenValue(),
		userID:   userID,
		authTime: now,
		expires:  now.Add(sessionLifetime),
		clients:  make(map[string]bool),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	s.sessions[ss.id] = ss
	s.secrets[ss.secret] = ss.id
	return ss.clone()
}

// reauthenticate records that the user of session sid typed their
// password again (prompt=login, max_age): the sid stays, auth_time moves.
func (s *store) reauthenticate(sid string) (*ssoSession, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessionLocked(sid, now)
	if !ok {
		return nil, false
	}
	ss.authTime = now
	return ss.clone(), true
}

// endSession ends session sid: the session is gone, and so are the
// tokens issued in it and the sign-ins it completed whose code was not
// exchanged yet. It returns the session as it was, for back-channel
// logout, and false if there was no such session.
func (s *store) endSession(sid string) (*ssoSession, bool) {
	if sid == "" {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[sid]
	if !ok {
		return nil, false
	}
	delete(s.sessions, sid)
	delete(s.secrets, ss.secret)
	for id, t := range s.accessTokens {
		if t.sessionID == sid {
			delete(s.accessTokens, id)
		}
	}
	for id, t := range s.refreshTokens {
		if t.sessionID == sid {
			delete(s.refreshTokens, id)
		}
	}
	for id, a := range s.authRequests {
		if a.sessionID == sid {
			delete(s.authRequests, id)
			delete(s.codes, a.code)
		}
	}
	return ss.clone(), true
}

// sessionsOf lists the ids of userID's live sessions.
func (s *store) sessionsOf(userID string) []string {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, ss := range s.sessions {
		if ss.userID == userID && !now.After(ss.expires) {
			ids = append(ids, id)
		}
	}
	return ids
}

// sessionByID returns a copy of the live session sid.
func (s *store) sessionByID(sid string) (*ssoSession, bool) {
	if sid == "" {
		return nil, false
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessionLocked(sid, now)
	if !ok {
		return nil, false
	}
	return ss.clone(), true
}

package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"
)

// Bounds of the session streams, when StreamConfig leaves them zero.
const (
	DefaultMaxStreamsPerSession = 16
	DefaultMaxStreams           = 20000
	DefaultStreamHeartbeat      = 20 * time.Second
)

// StreamConfig bounds GET {base}/session/stream.
type StreamConfig struct {
	// MaxPerSession caps one session's open streams (its tabs); more are
	// refused with 429. Default 16.
	MaxPerSession int
	// MaxTotal caps this instance's open streams; more are refused with
	// 503. Default 20000.
	MaxTotal int
	// Heartbeat is how often an idle stream sends a comment line, which
	// keeps proxies from closing it, finds clients that are gone, and
	// re-checks the session in the store, so that an ended event that was
	// lost is made up for within one heartbeat. Default 20 s.
	Heartbeat time.Duration
}

// streamWriteTimeout bounds each write to a stream: a client that stops
// reading is dropped after it.
const streamWriteTimeout = 10 * time.Second

// streamHub knows this instance's open session streams and ends them when
// the store's ended events say their session ended.
type streamHub struct {
	a *Auth

	mu       sync.Mutex
	byHandle map[string]map[*stream]struct{}
	byUser   map[string]map[*stream]struct{} // digest(iss, sub)
	bySID    map[string]map[*stream]struct{} // digest(iss, sid)
	total    int
	sub      context.CancelFunc // the store subscription; nil: none yet
	closing  chan struct{}      // closed by Shutdown
	closed   bool
}

// stream is one open GET {base}/session/stream.
type stream struct {
	rec   *Record
	once  sync.Once
	ended chan struct{}
}

func (s *stream) end() { s.once.Do(func() { close(s.ended) }) }

func newStreamHub(a *Auth) *streamHub {
	return &streamHub{
		a:        a,
		byHandle: map[string]map[*stream]struct{}{},
		byUser:   map[string]map[*stream]struct{}{},
		bySID:    map[string]map[*stream]struct{}{},
		closing:  make(chan struct{}),
	}
}

var (
	errTooManyStreams      = errors.New("too many streams for this session")
	errTooManyStreamsTotal = errors.New("too many streams on this instance")
	errShuttingDown        = errors.New("shutting down")
)

// add registers a stream for rec, subscribing to the store's ended events
// on first use.
func (h *streamHub) add(rec *Record) (*stream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errShuttingDown
	}
	cfg := h.a.cfg.Streams
	if h.total >= cfg.MaxTotal {
		return nil, errTooManyStreamsTotal
	}
	if rec.Handle != "" && len(h.byHandle[rec.Handle]) >= cfg.MaxPerSession {
		return nil, errTooManyStreams
	}
	if h.sub == nil {
		ctx, cancel := context.WithCancel(context.Background())
		if err := h.a.state.st.Subscribe(ctx, topicEnded, h.deliver); err != nil {
			cancel()
			return nil, h.a.state.health.check(ctx, "subscribe", err)
		}
		h.sub = cancel
	}
	s := &stream{rec: rec, ended: make(chan struct{})}
	iss := normalIssuer(rec.Issuer)
	put(h.byHandle, rec.Handle, s)
	put(h.byUser, digest(iss, rec.Subject), s)
	put(h.bySID, digest(iss, rec.SID), s)
	h.total++
	return s, nil
}

func (h *streamHub) remove(s *stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	iss := normalIssuer(s.rec.Issuer)
	drop(h.byHandle, s.rec.Handle, s)
	drop(h.byUser, digest(iss, s.rec.Subject), s)
	drop(h.bySID, digest(iss, s.rec.SID), s)
	h.total--
}

func put(m map[string]map[*stream]struct{}, k string, s *stream) {
	if k == "" {
		return
	}
	if m[k] == nil {
		m[k] = map[*stream]struct{}{}
	}
	m[k][s] = struct{}{}
}

func drop(m map[string]map[*stream]struct{}, k string, s *stream) {
	if set := m[k]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(m, k)
		}
	}
}

// deliver ends the streams an ended event names.
func (h *streamHub) deliver(msg []byte) {
	var e endedEvent
	if json.Unmarshal(msg, &e) != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var set map[*stream]struct{}
	switch {
	case e.Handle != "":
		set = h.byHandle[e.Handle]
	case e.SID != "":
		set = h.bySID[digest(normalIssuer(e.Issuer), e.SID)]
	default:
		set = h.byUser[digest(normalIssuer(e.Issuer), e.Subject)]
	}
	for s := range set {
		if e.ends(s.rec) {
			s.end()
		}
	}
}

// shutdown ends every stream and the subscription.
func (h *streamHub) shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	close(h.closing)
	if h.sub != nil {
		h.sub()
	}
}

// count is how many streams are open.
func (h *streamHub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total
}

// Shutdown ends the open session streams, which would otherwise keep
// http.Server.Shutdown waiting: register it with RegisterOnShutdown. Their
// browsers reconnect to another instance, or to this one restarted.
func (a *Auth) Shutdown() { a.streams.shutdown() }

// handleSessionStream serves GET {base}/session/stream: Server-Sent Events
// for the request's session. When the session ends — a sign-out in
// another tab, a back- or front-channel logout at any instance, a revoke,
// a refresh that failed for good, its expiry — it sends an event named
// "signout" and closes. A request without a session gets that event at
// once, so that a page that reconnects after its session ended learns it.
// Heartbeats are comment lines.
func (a *Auth) handleSessionStream(w http.ResponseWriter, r *http.Request) {
	l, ok := r.Context().Value(ctxKey{}).(*loaded)
	if !ok {
		l = a.load(w, r)
	}
	h := w.Header()
	if l != nil && l.unavailable {
		h.Set("Retry-After", "5")
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on as they come
	rc := http.NewResponseController(w)
	// The server's read and write timeouts are for requests, not streams.
	_ = rc.SetReadDeadline(time.Time{})
	send := func(s string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := w.Write([]byte(s)); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	const signout = "event: signout\ndata: signed-out\n\n"
	if l == nil || l.rec == nil || l.rec.Error != "" {
		send(signout)
		return
	}
	rec := l.rec
	s, err := a.streams.add(rec)
	if err != nil {
		h.Del("Content-Type")
		h.Set("Retry-After", "10")
		status := http.StatusServiceUnavailable
		if errors.Is(err, errTooManyStreams) {
			status = http.StatusTooManyRequests
		}
		a.log.InfoContext(r.Context(), "session stream refused", "reason", err.Error())
		http.Error(w, http.StatusText(status), status)
		return
	}
	defer a.streams.remove(s)
	if !send("retry: 3000\n: signed in\n\n") {
		return
	}
	expiry := time.NewTimer(rec.Expires.Sub(a.now()))
	defer expiry.Stop()
	beat := time.NewTicker(a.cfg.Streams.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-s.ended:
			send(signout)
			return
		case <-expiry.C:
			send(signout)
			return
		case <-beat.C:
			if revoked, err := a.state.revoked(r.Context(), rec); err == nil && revoked {
				send(signout)
				return
			}
			if !send(": ping\n\n") {
				return
			}
		case <-a.streams.closing:
			return
		case <-r.Context().Done():
			return
		}
	}
}

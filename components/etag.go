package components

// A self-refreshing fragment (the nav, the home panel, the profile card)
// carries its version as an entity tag, and htmx sends it back as
// If-None-Match when the window gets the focus again. The handler answers
// 304 Not Modified when nothing changed, and htmx then leaves the element
// alone: the button under the visitor's pointer, the keyboard focus and
// any text selection survive a return to the tab.
//
// The tag is a hash of the data the fragment is rendered from. Components
// are pure functions of their data, so equal data renders equal HTML.

// ETag is the entity tag of the nav rendered from n.
func (n NavData) ETag() string { return string(appendETag(nil, "nav", n.hash())) }

// ETag is the entity tag of the home panel rendered from p.
func (p HomePanelData) ETag() string { return string(appendETag(nil, "home", p.hash())) }

// ETag is the entity tag of the profile card rendered from c.
func (c ProfileCardData) ETag() string { return string(appendETag(nil, "profile", c.hash())) }

func (n NavData) hxHeaders() string         { return hxHeaders("nav", n.hash()) }
func (p HomePanelData) hxHeaders() string   { return hxHeaders("home", p.hash()) }
func (c ProfileCardData) hxHeaders() string { return hxHeaders("profile", c.hash()) }

// The hashes take every field of the data, in order: TestETagCoversEveryField
// changes each field in turn and fails when one leaves the tag as it was,
// so a field added to a data type without being added here is caught.

func (n NavData) hash() hasher {
	h := newHasher("nav").flag(n.SignedIn).str(n.Name, n.ProfileURL)
	h = n.SignIn.hash(h)
	h = n.SignOut.hash(h)
	return h.flag(n.HideActions).str(n.FragmentURL)
}

func (p HomePanelData) hash() hasher {
	h := newHasher("home").flag(p.SignedIn).str(p.Name, p.Email, p.SessionJSON, p.ProfileURL)
	h = p.SignIn.hash(h)
	h = p.SignOut.hash(h)
	h = h.str(p.FragmentURL).count(len(p.DevUsers))
	for _, u := range p.DevUsers {
		h = h.str(u.Username, u.Password, u.Name)
	}
	return h.str(p.AccountURL, p.SessionError)
}

func (c ProfileCardData) hash() hasher {
	h := newHasher("profile").str(c.Name, c.Email, c.Username, c.GivenName, c.FamilyName, c.HomeURL)
	h = c.SignOut.hash(h)
	return h.str(c.FragmentURL)
}

func (s SignInAction) hash(h hasher) hasher {
	return h.str(s.Action, s.CSRFToken, s.CallbackURL, s.PageURL, s.ProviderName)
}

func (s SignOutAction) hash(h hasher) hasher {
	return h.str(s.Action, s.CSRFToken, s.CallbackURL)
}

// hxHeaders is the hx-headers value (JSON) that makes htmx send the
// fragment's tag back as If-None-Match. The tag is printable ASCII: only
// its quotes need escaping.
func hxHeaders(kind string, h hasher) string {
	b := make([]byte, 0, 64)
	b = append(b, `{"If-None-Match":"\`...) // then the tag's opening quote
	b = appendETag(b, kind, h)
	b = b[:len(b)-1] // and not its closing one
	return string(append(b, `\""}`...))
}

// appendETag appends `"kind-<16 hex digits>"` to b. The hash is the same
// in every process, so replicas of the app agree on it.
func appendETag(b []byte, kind string, h hasher) []byte {
	b = append(b, '"')
	b = append(b, kind...)
	b = append(b, '-')
	const digits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, digits[uint64(h)>>uint(shift)&0xf])
	}
	return append(b, '"')
}

// hasher is a 64-bit hash of a fragment's data: FNV-1a's constants, taken
// eight bytes at a time (the data is mostly the session JSON, hashed on
// every page view), with a shift that folds the high bits back.
type hasher uint64

func newHasher(kind string) hasher { return hasher(14695981039346656037).str(kind) }

func (h hasher) word(n uint64) hasher {
	x := (uint64(h) ^ n) * 1099511628211
	return hasher(x ^ x>>29)
}

func (h hasher) flag(b bool) hasher {
	if b {
		return h.word(1)
	}
	return h.word(0)
}

func (h hasher) count(n int) hasher { return h.word(uint64(n)) }

// str hashes each string with its length first, so that field boundaries
// count.
func (h hasher) str(ss ...string) hasher {
	for _, s := range ss {
		h = h.word(uint64(len(s)))
		for len(s) >= 8 {
			h = h.word(uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
				uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56)
			s = s[8:]
		}
		var last uint64
		for i := range len(s) {
			last |= uint64(s[i]) << (8 * i)
		}
		h = h.word(last)
	}
	return h
}

package devidp

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages holds the parsed HTML pages, each the layout plus its content.
type pages struct {
	login, logout, signedOut, problem, home *template.Template
}

func parsePages() (*pages, error) {
	parse := func(name string) (*template.Template, error) {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("devidp: parse %s: %w", name, err)
		}
		return t, nil
	}
	var p pages
	var err error
	for _, f := range []struct {
		t    **template.Template
		name string
	}{
		{&p.login, "login.html"},
		{&p.logout, "logout.html"},
		{&p.signedOut, "signedout.html"},
		{&p.problem, "error.html"},
		{&p.home, "home.html"},
	} {
		if *f.t, err = parse(f.name); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

// pageData is what every page template may use; each page reads its own
// fields.
type pageData struct {
	Title  string
	Nonce  string // the CSP nonce of the <style> block
	Issuer string

	// The login form. ClientName is the application's name, as
	// Client.Name gives it.
	Action, RequestID, CSRFToken, ClientID, ClientName, Username, Error string
	Users                                                               []User

	// The sign-out confirmation.
	User                         *User
	PostLogoutRedirectURI, State string

	// The error page.
	Heading, Message, Detail, Link, LinkText string
	Fields                                   []field
	Status                                   int

	// The home page.
	Discovery string
}

// render writes page t with status, buffered so that a template error
// never sends half a page, with headers that keep it out of caches and
// frames and allow only its own inline style.
func (s *Server) render(w http.ResponseWriter, r *http.Request, t *template.Template, status int, d pageData) {
	d.Nonce = newID()
	d.Issuer = s.issuer
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		s.log.ErrorContext(r.Context(), "render page", "page", d.Title, "err", err)
		http.Error(w, "Internal error in the development identity provider.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+d.Nonce+"'; img-src data:; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// clientName is how the pages name client id: its Name, else its id;
// "" for no client.
func (s *Server) clientName(id string) string {
	if c, ok := s.clients[id]; ok {
		return c.displayName()
	}
	return id
}

// problem is an error shown to a person as a page.
type problem struct {
	status           int
	heading, message string
	detail           string  // shown as-is, e.g. the protocol error; never an internal error's text
	fields           []field // the request's values the detail is about, e.g. its redirect_uri
	link, linkText   string
}

// field is a named value of a request, shown under an error's details.
type field struct{ Name, Value string }

func (s *Server) renderProblem(w http.ResponseWriter, r *http.Request, p problem) {
	s.render(w, r, s.pages.problem, p.status, pageData{
		Title:    p.heading,
		Heading:  p.heading,
		Message:  p.message,
		Detail:   p.detail,
		Fields:   p.fields,
		Link:     p.link,
		LinkText: p.linkText,
		Status:   p.status,
	})
}

// Problems shown in more than one place.
var (
	problemUnknownRequest = problem{
		status:  http.StatusBadRequest,
		heading: "This sign-in has expired",
		message: "The sign-in request is unknown or too old (they last 15 minutes, and the development IdP forgets them when it restarts). Go back to the application and sign in again.",
	}
	problemRequestDone = problem{
		status:  http.StatusBadRequest,
		heading: "This sign-in is already complete",
		message: "You have already signed in with this request. Go back to the application; if it is not signed in, sign in again from there.",
	}
	problemNotFound = problem{
		status:  http.StatusNotFound,
		heading: "Page not found",
		message: "The development identity provider has no page at this address.",
	}
	problemMethod = problem{
		status:  http.StatusMethodNotAllowed,
		heading: "Method not allowed",
		message: "This page does not accept that kind of request.",
	}
	problemBadForm = problem{
		status:  http.StatusBadRequest,
		heading: "The form could not be read",
		message: "The request was malformed or too large. Go back and try again.",
	}
)

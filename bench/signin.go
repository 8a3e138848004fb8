package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// user is an account of an identity provider the bench signs in.
type user struct{ username, password, name string }

// demoUsers are the embedded development IdP's accounts; the bench gives
// oidc-provider the same ones.
var demoUsers = []user{
	{"ada", "lovelace", "Ada Lovelace"},
	{"alan", "turing", "Alan Turing"},
	{"grace", "hopper", "Grace Hopper"},
}

// session is a browser signed in through the real flow.
type session struct {
	user   string
	name   string
	cookie string // the Cookie header the browser sends to the app
	// sessionBytes is the session cookie's value length; chunks counts
	// the cookies it is split into (1 when not split).
	sessionBytes int
	chunks       int
	elapsed      time.Duration
}

// signIn goes through the sign-in as a browser would: the home page, the
// CSRF token, POST to provider's sign-in URL, the IdP's login form (the
// development IdP's or oidc-provider's), the callback, and back home.
func signIn(base, provider string, u user) (*session, error) {
	username, password, name := u.username, u.password, u.name
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	c := &http.Client{Jar: jar, Timeout: 15 * time.Second}
	began := time.Now()
	if _, _, err := get(c, base+"/"); err != nil {
		return nil, err
	}
	var csrf struct {
		CSRFToken string `json:"csrfToken"`
	}
	if err := getJSON(c, base+"/api/auth/csrf", &csrf); err != nil {
		return nil, err
	}
	var providers map[string]struct {
		SignInURL string `json:"signinUrl"`
	}
	if err := getJSON(c, base+"/api/auth/providers", &providers); err != nil {
		return nil, err
	}
	p, ok := providers[provider]
	if !ok {
		return nil, fmt.Errorf("the app offers no provider %q", provider)
	}
	resp, body, err := post(c, p.SignInURL, url.Values{"csrfToken": {csrf.CSRFToken}, "callbackUrl": {"/"}})
	if err != nil {
		return nil, err
	}
	action, fields, err := loginForm(body)
	if err != nil {
		return nil, fmt.Errorf("sign-in for %s reached %s (%d): %w", username, resp.Request.URL, resp.StatusCode, err)
	}
	target, err := resp.Request.URL.Parse(action)
	if err != nil {
		return nil, err
	}
	if fields.Has("login") {
		fields.Set("login", username) // oidc-provider's form
	} else {
		fields.Set("username", username)
	}
	fields.Set("password", password)
	resp, body, err = post(c, target.String(), fields)
	if err != nil {
		return nil, err
	}
	if resp.Request.URL.String() != base+"/" || resp.StatusCode != http.StatusOK || !strings.Contains(body, "Welcome") {
		return nil, fmt.Errorf("sign-in for %s ended at %s with status %d", username, resp.Request.URL, resp.StatusCode)
	}
	s := &session{user: username, name: name, elapsed: time.Since(began)}
	appURL, _ := url.Parse(base + "/")
	var parts []string
	for _, ck := range jar.Cookies(appURL) {
		parts = append(parts, ck.Name+"="+ck.Value)
		if ck.Name == "signet.session-token" || strings.HasPrefix(ck.Name, "signet.session-token.") {
			s.sessionBytes += len(ck.Value)
			s.chunks++
		}
	}
	if s.chunks == 0 {
		return nil, fmt.Errorf("sign-in for %s left no session cookie", username)
	}
	s.cookie = strings.Join(parts, "; ")
	return s, nil
}

func get(c *http.Client, u string) (*http.Response, string, error) {
	resp, err := c.Get(u)
	return read(resp, err, "GET "+u)
}

func post(c *http.Client, u string, form url.Values) (*http.Response, string, error) {
	resp, err := c.PostForm(u, form)
	return read(resp, err, "POST "+u)
}

func read(resp *http.Response, err error, what string) (*http.Response, string, error) {
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", what, err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp, string(b), fmt.Errorf("%s: status %d", what, resp.StatusCode)
	}
	return resp, string(b), nil
}

func getJSON(c *http.Client, u string, v any) error {
	_, body, err := get(c, u)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(body), v)
}

var (
	formTag  = regexp.MustCompile(`(?is)<form\b[^>]*>.*?</form>`)
	attr     = regexp.MustCompile(`(?is)\b(action|name|value)="([^"]*)"`)
	inputTag = regexp.MustCompile(`(?is)<input\b[^>]*>`)
)

// loginForm finds the form with a username (or login) field and a
// password field and returns its action and its fields with their values.
func loginForm(page string) (string, url.Values, error) {
	for _, form := range formTag.FindAllString(page, -1) {
		if !strings.Contains(form, `name="username"`) && !strings.Contains(form, `name="login"`) || !strings.Contains(form, `name="password"`) {
			continue
		}
		open := form[:strings.IndexByte(form, '>')+1]
		action := ""
		for _, m := range attr.FindAllStringSubmatch(open, -1) {
			if strings.EqualFold(m[1], "action") {
				action = html.UnescapeString(m[2])
			}
		}
		fields := url.Values{}
		for _, in := range inputTag.FindAllString(form, -1) {
			var name, value string
			for _, m := range attr.FindAllStringSubmatch(in, -1) {
				switch strings.ToLower(m[1]) {
				case "name":
					name = html.UnescapeString(m[2])
				case "value":
					value = html.UnescapeString(m[2])
				}
			}
			if name != "" {
				fields.Set(name, value)
			}
		}
		return action, fields, nil
	}
	return "", nil, errors.New("no login form with username and password fields")
}

package auth

import (
	"context"
	"html/template"
	"io"
)

// The built-in pages: plain, accessible HTML for apps that bring no Pages
// of their own. The Signet app replaces them with its templ components.

var builtinPages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:10vh auto;padding:0 1rem;color:#1f2328}main{border:1px solid #d0d7de;border-radius:12px;padding:1.5rem}button{width:100%;padding:.7rem;margin:.4rem 0;border-radius:8px;border:1px solid #1f2328;background:#1f2328;color:#fff;font:inherit;cursor:pointer}.error{background:#fff1f0;border:1px solid #ffa39e;border-radius:8px;padding:.6rem .8rem}a{color:#0969da}</style></head><body><main>{{end}}
{{define "foot"}}</main></body></html>{{end}}
{{define "signin"}}{{template "head" "Sign in"}}<h1>Sign in</h1>
{{if .Error}}<p class="error" role="alert" id="error-code" data-code="{{.Error}}">{{.Error.Message}}</p>{{end}}
{{range .Providers}}<form method="post" action="{{.SignInURL}}"><input type="hidden" name="csrfToken" value="{{$.CSRFToken}}"><input type="hidden" name="callbackUrl" value="{{$.CallbackURL}}"><button type="submit" data-provider="{{.ID}}">Sign in with {{.Name}}</button></form>{{end}}
{{template "foot"}}{{end}}
{{define "signout"}}{{if .SignedIn}}{{template "head" "Sign out"}}<h1>Sign out</h1><p>Are you sure you want to sign out?</p>
<form method="post" action="{{.Action}}"><input type="hidden" name="csrfToken" value="{{.CSRFToken}}"><input type="hidden" name="callbackUrl" value="{{.CallbackURL}}"><button type="submit" id="sign-out">Sign out</button></form>
{{else}}{{template "head" "Signed out"}}<h1 id="signed-out">You’re signed out</h1><p>You are not signed in to this app.</p><p><a href="{{or .CallbackURL "/"}}">Continue</a></p>{{end}}{{template "foot"}}{{end}}
{{define "error"}}{{if .Fragment}}<div class="error" role="alert"><strong>{{.Title}}</strong> {{.Message}} <code id="error-code">{{.Code}}</code></div>{{else}}{{template "head" .Title}}<h1>{{.Title}}</h1><p>{{.Message}}</p><p>Error code: <code id="error-code">{{.Code}}</code></p><p>{{if .RetryURL}}<a href="{{.RetryURL}}">Try again</a> · {{end}}<a href="{{.HomeURL}}">Home</a>{{if .SignInURL}} · <a href="{{.SignInURL}}">Sign in</a>{{end}}</p>{{template "foot"}}{{end}}{{end}}
{{define "signingout"}}{{template "head" "Signed out"}}<h1 id="signing-out">You’re signed out</h1><p role="status">{{if .IdPLogout}}You’re signed out of this app and of your identity provider.{{else if .AlreadySignedOut}}You were already signed out of this app.{{else}}You’re signed out of this app.{{end}}</p><p><a href="{{.HomeURL}}">Continue</a></p>{{template "foot"}}{{end}}
`))

type builtinPage struct {
	name string
	data any
}

func (p builtinPage) Render(_ context.Context, w io.Writer) error {
	return builtinPages.ExecuteTemplate(w, p.name, p.data)
}

func defaultSignInPage(d SignInPage) Page         { return builtinPage{"signin", d} }
func defaultSignOutPage(d SignOutPage) Page       { return builtinPage{"signout", d} }
func defaultErrorPage(d ErrorPage) Page           { return builtinPage{"error", d} }
func defaultSigningOutPage(d SigningOutPage) Page { return builtinPage{"signingout", d} }

package handlers

import (
	"context"
	"io"
	"net/http"
	"net/url"

	"github.com/a-h/templ"
	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/components"
	"github.com/signet-auth/signet/static"
)

// AuthPages returns the templ pages for auth.Config.Pages: the sign-in,
// sign-out, error and signing-out pages, in the app's layout. They render
// with the request's context, so the nav shows the signed-in user when
// auth.Middleware has loaded a session, and, behind New, the development
// IdP's demo users on the sign-in page.
func AuthPages() auth.Pages {
	assets := assetURLs(static.New())
	shell := func(ctx context.Context, title string, hideActions bool) (components.Shell, appInfo) {
		info := appInfoFrom(ctx)
		nav := linkNav(auth.SessionFromContext(ctx), info.basePath, pathHome)
		if hideActions {
			nav.HideActions, nav.FragmentURL = true, ""
		}
		return components.Shell{Title: title, Assets: assets, Nav: nav}, info
	}
	return auth.Pages{
		SignIn: func(d auth.SignInPage) auth.Page {
			return pageFunc(func(ctx context.Context) templ.Component {
				s, info := shell(ctx, "Sign in", true)
				return components.SignInPage(s, d, info.devUsers)
			})
		},
		SignOut: func(d auth.SignOutPage) auth.Page {
			return pageFunc(func(ctx context.Context) templ.Component {
				title := "Sign out"
				if !d.SignedIn {
					title = "Signed out"
				}
				s, _ := shell(ctx, title, true)
				return components.SignOutPage(s, d)
			})
		},
		Error: func(d auth.ErrorPage) auth.Page {
			return pageFunc(func(ctx context.Context) templ.Component {
				if d.Fragment { // an htmx request, e.g. RequireScopes' 403
					return components.ErrorFragment(d)
				}
				// While the store is down the visitor may well be signed
				// in: the nav offers no Sign in then.
				s, _ := shell(ctx, d.Title, d.Code == auth.CodeUnavailable)
				return components.ErrorPage(s, d)
			})
		},
		SigningOut: func(d auth.SigningOutPage) auth.Page {
			return pageFunc(func(ctx context.Context) templ.Component {
				s, _ := shell(ctx, "Signed out", true)
				return components.SigningOutPage(s, d)
			})
		},
	}
}

// pageFunc is an auth.Page built from the request's context when it
// renders.
type pageFunc func(ctx context.Context) templ.Component

func (f pageFunc) Render(ctx context.Context, w io.Writer) error {
	return f(ctx).Render(ctx, w)
}

// linkNav is the nav for pages that cannot set the CSRF cookie (the auth
// pages render after their headers are decided): Sign in and Sign out are
// links to the sign-in page and the sign-out confirmation page. The nav
// then refreshes itself into forms over htmx when the tab is shown again.
func linkNav(s *auth.Session, basePath, callbackURL string) components.NavData {
	n := components.NavData{ProfileURL: pathProfile, FragmentURL: pathNavFragment}
	if s != nil {
		n.SignedIn = true
		n.Name = s.User.DisplayName()
		n.SignOut = components.SignOutAction{Action: basePath + "/signout"}
		return n
	}
	n.SignIn = components.SignInAction{PageURL: basePath + "/signin"}
	if callbackURL != "" && callbackURL != pathHome {
		n.SignIn.PageURL += "?callbackUrl=" + url.QueryEscape(callbackURL)
	}
	return n
}

// errorPage is the app's error page for code, for failures outside the
// auth handler (a panic, a handler error).
func errorPage(info appInfo, s *auth.Session, code auth.ErrorCode) templ.Component {
	nav := linkNav(s, info.basePath, pathHome)
	nav.FragmentURL = ""
	return components.ErrorPage(components.Shell{Title: code.Title(), Assets: info.assets, Nav: nav}, auth.ErrorPage{
		Code:      code,
		Status:    code.Status(),
		Title:     code.Title(),
		Message:   code.Message(),
		SignInURL: info.basePath + "/signin",
		HomeURL:   pathHome,
	})
}

// appInfo is what pages rendered outside the app's handlers (the auth
// pages, the 404 and panic pages) need to know about the app. New puts it
// in every request's context.
type appInfo struct {
	basePath string
	devUsers []components.DevUser
	assets   components.Assets
}

type appInfoKey struct{}

func withAppInfo(next http.Handler, info appInfo) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), appInfoKey{}, info)))
	})
}

// appInfoFrom returns the app's info from ctx, or the defaults when the
// page renders outside New (the auth pages used on their own).
func appInfoFrom(ctx context.Context) appInfo {
	if info, ok := ctx.Value(appInfoKey{}).(appInfo); ok {
		return info
	}
	return appInfo{basePath: auth.DefaultBasePath, assets: assetURLs(static.New())}
}

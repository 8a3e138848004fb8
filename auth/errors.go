package auth

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrorCode is a client-safe error code, as Auth.js shows on its error and
// sign-in pages. Only the code reaches the browser; the cause goes to the log.
type ErrorCode string

// The codes Signet uses. The first ones are Auth.js's; ProviderUnavailable is
// Signet's own, for an identity provider that cannot be reached.
const (
	CodeConfiguration       ErrorCode = "Configuration"
	CodeAccessDenied        ErrorCode = "AccessDenied"
	CodeVerification        ErrorCode = "Verification"
	CodeMissingCSRF         ErrorCode = "MissingCSRF"
	CodeOAuthSignin         ErrorCode = "OAuthSignin"
	CodeOAuthCallback       ErrorCode = "OAuthCallbackError"
	CodeCallback            ErrorCode = "Callback"
	CodeSessionRequired     ErrorCode = "SessionRequired"
	CodeProviderUnavailable ErrorCode = "ProviderUnavailable"
	CodeUnknownProvider     ErrorCode = "UnknownProvider"
	CodeUnknownAction       ErrorCode = "UnknownAction"
	// CodeForbidden is Signet's own: signed in, but without a permission
	// (scope) the page needs. RequireScopes serves it with status 403.
	CodeForbidden ErrorCode = "Forbidden"
	// CodeUnavailable is Signet's own: the session store cannot be reached,
	// so a session cannot be checked. Nothing was changed; status 503.
	CodeUnavailable ErrorCode = "Unavailable"
	// CodeUnknownSession is Signet's own: a revoke named a session that is
	// not one of the user's (unknown, ended, or someone else's: the same
	// answer for all three). Status 404.
	CodeUnknownSession ErrorCode = "UnknownSession"
)

// Status is the HTTP status the error page is served with.
func (c ErrorCode) Status() int {
	switch c {
	case CodeConfiguration:
		return http.StatusInternalServerError
	case CodeAccessDenied, CodeVerification, CodeMissingCSRF, CodeForbidden:
		return http.StatusForbidden
	case CodeProviderUnavailable, CodeUnavailable:
		return http.StatusServiceUnavailable
	case CodeUnknownProvider, CodeUnknownAction, CodeUnknownSession:
		return http.StatusNotFound
	default:
		return http.StatusBadRequest
	}
}

// Title is a short human heading for the code.
func (c ErrorCode) Title() string {
	switch c {
	case CodeAccessDenied:
		return "Access denied"
	case CodeVerification:
		return "Sign-in could not be verified"
	case CodeMissingCSRF:
		return "This form has expired"
	case CodeProviderUnavailable:
		return "Identity provider unavailable"
	case CodeOAuthSignin, CodeOAuthCallback, CodeCallback:
		return "Sign-in failed"
	case CodeSessionRequired:
		return "Please sign in"
	case CodeUnknownProvider, CodeUnknownAction:
		return "Page not found"
	case CodeForbidden:
		return "Permission required"
	case CodeUnavailable:
		return "Temporarily unavailable"
	default:
		return "Something went wrong"
	}
}

// Message explains the code to a visitor and says what to do next. It never
// contains details of the cause.
func (c ErrorCode) Message() string {
	switch c {
	case CodeConfiguration:
		return "The server is not configured correctly. Please try again later, or tell the site's administrator if it goes on."
	case CodeAccessDenied:
		return "You do not have permission to sign in."
	case CodeVerification:
		return "The sign-in or sign-out request could not be verified: it may have expired, been used already, or been started in another browser. Please start again."
	case CodeMissingCSRF:
		return "The form was missing its security token or it did not match. Nothing was changed. Please go back, reload the page and try again."
	case CodeProviderUnavailable:
		return "The identity provider cannot be reached right now. Nothing was changed. Please try again in a moment."
	case CodeOAuthSignin:
		return "The sign-in could not be started with the identity provider. Please try again."
	case CodeOAuthCallback, CodeCallback:
		return "The identity provider's answer could not be accepted. Please try signing in again."
	case CodeSessionRequired:
		return "You need to be signed in to see this page."
	case CodeUnknownProvider:
		return "There is no sign-in provider by that name."
	case CodeUnknownAction:
		return "There is no such page."
	case CodeForbidden:
		return "You are signed in, but your account does not have the permission this page needs."
	case CodeUnknownSession:
		return "That session is not one of yours, or it has ended already."
	case CodeUnavailable:
		return "Your session cannot be checked right now. You are still signed in and nothing was changed. Please try again in a moment."
	default:
		return "Sign-in failed. Please try again."
	}
}

// knownCode maps a code from a URL to a known code; anything else becomes
// CodeConfiguration's sibling "Default".
func knownCode(s string) ErrorCode {
	switch c := ErrorCode(s); c {
	case CodeConfiguration, CodeAccessDenied, CodeVerification, CodeMissingCSRF, CodeOAuthSignin,
		CodeOAuthCallback, CodeCallback, CodeSessionRequired, CodeProviderUnavailable,
		CodeUnknownProvider, CodeUnknownAction, CodeForbidden, CodeUnavailable, CodeUnknownSession:
		return c
	default:
		return "Default"
	}
}

// Error is an error with a client-safe code. Callers branch on Code; Err is
// the cause, for logs only.
type Error struct {
	Code ErrorCode
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return "auth: " + string(e.Code)
	}
	return fmt.Sprintf("auth: %s: %v", e.Code, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// errorf returns an *Error with code and a formatted cause.
func errorf(code ErrorCode, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// codeOf returns err's client-safe code: its own when it is an *Error,
// Configuration otherwise.
func codeOf(err error) ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeConfiguration
}

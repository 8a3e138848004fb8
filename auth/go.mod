module github.com/signet-auth/signet/auth

go 1.26.8

require (
	github.com/coreos/go-oidc/v3 v3.21.0
	github.com/go-jose/go-jose/v4 v4.1.8
	github.com/gorilla/securecookie v1.1.2
	go.etcd.io/bbolt v1.5.0
	golang.org/x/oauth2 v0.37.0
	golang.org/x/sync v0.25.0
)

require golang.org/x/sys v0.50.0 // indirect

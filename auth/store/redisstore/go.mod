module github.com/signet-auth/signet/auth/store/redisstore

go 1.26.8

require (
	github.com/redis/rueidis v1.0.80
	github.com/signet-auth/signet/auth v0.0.0-00010101000000-000000000000
)

require golang.org/x/sys v0.50.0 // indirect

replace github.com/signet-auth/signet/auth => ../..
